/**
 * The configuration bundle: everything the running host is, as data the applier
 * (applier/applier.py) checks and switches to at once. Rendered from the host settings and the
 * live values (addresses, keys) only: a DNS-only change leaves it byte-identical.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type HostSettings, signingDomains } from "../config";
import { tcpPort } from "../ports";
import { dkimRecord, dkimRecordName } from "../records/dkim";
import { reverseName } from "../records/reverse";
import { renderSmarthostLogin, SMARTHOST_LOGIN_MAP } from "../smarthost";
import { APPLIER_DIR } from "./bootstrap";
import {
    type CertificateInput,
    renderCertbotCaDropIn,
    renderCertScript,
    renderCertService,
    renderCertTimer,
    renderDeployHook,
} from "./certificate";
import { renderDovecotConf, renderDovecotDropIn, renderDovecotUsers, renderSpamSieve } from "./dovecot";
import type { ManagedFile } from "./files";
import {
    ADMIN_USER,
    renderAdminKeys,
    renderAdminSudoers,
    renderAutoUpgrades,
    renderCloudInitConf,
    renderNftables,
    renderSshdAdminConf,
} from "./hardening";
import { MAIL_ARCHIVE_TOOL, renderMailArchiveScript } from "./mailArchive";
import { renderKeyTable, renderOpendkimConf, renderSigningTable, renderTrustedHosts } from "./opendkim";
import { DKIM_MILTER, DOVECOT, dkimKeyPath, MAILBOX_MAPS, PATHS } from "./paths";
import { type PostfixInput, renderMailboxMap, renderMainCf, renderMasterCf, renderSenderLogins, renderVirtualMap } from "./postfix";
import { SRS_PORTS, srsSetup } from "./postsrsd";
import { RSPAMD_DIR, RSPAMD_DROP_IN, renderRspamdDropIn, renderRspamdFiles } from "./rspamd";

export const BUNDLE_FORMAT = "mailserver-bundle/1";

/** Packages the host runs; the applier installs the missing ones. The mail lab's package repository holds exactly these. */
export const HOST_PACKAGES = [
    "postfix",
    "opendkim",
    "opendkim-tools",
    "postsrsd",
    "rspamd",
    "redis-server",
    "certbot",
    "bind9-dnsutils",
    "ca-certificates",
    "ssl-cert",
    "unattended-upgrades",
    "nftables",
] as const;

/** Packages a host with mailboxes runs besides those: Dovecot for IMAP, LMTP delivery and SASL, and its Sieve (spam into Junk). */
export const MAILBOX_PACKAGES = ["dovecot-core", "dovecot-imapd", "dovecot-lmtpd", "dovecot-sieve"] as const;

/** Packages a host with a smarthost login runs besides those: the SASL mechanisms (PLAIN, LOGIN) of Postfix's SMTP client. */
export const SMARTHOST_PACKAGES = ["libsasl2-modules"] as const;

/** Every package some configuration installs: the lab's package repository and the tests' Debian root hold these. */
export const ALL_PACKAGES = [...HOST_PACKAGES, ...MAILBOX_PACKAGES, ...SMARTHOST_PACKAGES] as const;

/** Answers for the packages' installers: Postfix must not ask questions or write its own main.cf. */
export const DEBCONF = ["postfix postfix/main_mailer_type select No configuration"];

/** How long the applier waits for the zone's authoritative servers to publish a record. */
export const DNS_WAIT_SECONDS = 600;

/** What the host's configuration is rendered from besides the settings: known once the host and keys exist. */
export interface BundleLive {
    readonly ipv4: string;
    /** Undefined when IPv6 is off. */
    readonly ipv6: string | undefined;
    /** Each mail domain's signing key, by domain. */
    readonly dkimKeys: Readonly<Record<string, DkimKeyPair>>;
    /** Dovecot password field (`{ARGON2ID}$argon2id$…`) of each mailbox, by address. */
    readonly passwordHashes?: Readonly<Record<string, string>>;
    /** The smarthost login's password (secret), when it has a login. */
    readonly smarthostPassword?: string;
}

/** A DKIM key as the bundle needs it. */
export interface DkimKeyPair {
    /** PKCS#1 or PKCS#8 PEM (secret). */
    readonly privateKeyPem: string;
    /** SubjectPublicKeyInfo PEM. */
    readonly publicKeyPem: string;
}

/** The signing key of `domain` among the live values. */
function dkimKey(live: Pick<BundleLive, "dkimKeys">, domain: string): DkimKeyPair {
    const key = live.dkimKeys[domain];
    if (!key) throw new Error(`no DKIM key for the mail domain ${domain} among the live values`);
    return key;
}

/** A DNS record the host waits for on the zone's authoritative servers before switching to a release. */
export interface AwaitedRecord {
    readonly name: string;
    readonly type: "A" | "AAAA" | "TXT";
    readonly value: string;
}

/**
 * A record the commit stage waits for before the host starts using what it announces: an SPF
 * record (TXT, `v=spf1 …`) that holds `spfTerm` among its terms — whatever else the user lists
 * in it, which is DNS-only and so never part of the bundle — or the PTR record of an address
 * (`value` with its trailing dot), asked of the host's resolver: providers may delegate reverse
 * zones with CNAMEs (RFC 2317), which only a resolver follows.
 */
export type AnnouncingRecord =
    | { readonly name: string; readonly type: "TXT"; readonly spfTerm: string }
    | { readonly name: string; readonly type: "PTR"; readonly value: string };

/**
 * Something the host starts to use only in the commit stage, once the records that announce it
 * are served: while `feature` is new to the host, the prepare stage writes `held` instead of those
 * files. Switching the feature on or off restarts `restart` (Postfix reads inet_protocols only
 * when it starts).
 */
export interface Gate {
    readonly feature: "ipv6";
    readonly held: ReadonlyArray<{ readonly path: string; readonly content: string }>;
    readonly restart: readonly ["postfix"];
}

/**
 * The two stages of a configuration run. `prepare` runs after the records the host relies on (its
 * addresses, the key it signs with) and before those that say what it does (SPF, MX, DMARC,
 * Linode's rDNS): it applies everything that narrows or keeps what the host does, and holds what
 * widens it (a new host name, IPv6). `commit` runs after those records, waits until they are
 * served, and applies the rest. Removals thus happen before their records go, additions after
 * their records came.
 */
export enum Stage {
    Prepare = "prepare",
    Commit = "commit",
}

function postfixInput(
    host: Pick<HostSettings, "domain" | "extraDomains" | "fqdn" | "ipv6" | "mail" | "relayNetworks" | "smarthost" | "dnsBlocklists">,
): PostfixInput {
    const extraDomains = host.extraDomains.map((d) => d.domain);
    return {
        domain: host.domain,
        extraDomains,
        fqdn: host.fqdn,
        ipv6: host.ipv6,
        srs: srsSetup({ domain: host.domain, extraDomains, fqdn: host.fqdn }),
        mailboxes: hasMailboxes(host),
        relayNetworks: host.relayNetworks,
        smarthost: host.smarthost,
        dnsBlocklists: host.dnsBlocklists,
    };
}

/** The packages `host` runs. */
export function hostPackages(host: Pick<HostSettings, "mail" | "smarthost">): string[] {
    return [...HOST_PACKAGES, ...(hasMailboxes(host) ? MAILBOX_PACKAGES : []), ...(host.smarthost?.user ? SMARTHOST_PACKAGES : [])];
}

/** Whether the host keeps mailboxes (Dovecot, the submission and IMAP ports); without, it is send-only. */
export function hasMailboxes(host: Pick<HostSettings, "mail">): boolean {
    return host.mail.mailboxes.length > 0;
}

/** Dovecot's files, and the Postfix maps of mailbox mode. */
function mailboxFiles(host: HostSettings, live: Pick<BundleLive, "passwordHashes">): ManagedFile[] {
    if (!hasMailboxes(host)) return [];
    return [
        { path: DOVECOT.conf, content: renderDovecotConf({ ...host, apps: host.mail.apps.length > 0 }), mode: "0644", reload: ["dovecot"] },
        // Hashes, not keys: readable by Dovecot's auth process (group dovecot), as Dovecot's passwd-file guide has it.
        {
            path: DOVECOT.users,
            content: renderDovecotUsers(host.mail.mailboxes, live.passwordHashes ?? {}),
            mode: "0640",
            owner: "root:dovecot",
            reload: ["dovecot"],
        },
        ...(host.mail.apps.length > 0
            ? [
                  {
                      path: DOVECOT.apps,
                      content: renderDovecotUsers(
                          host.mail.apps.map((address) => ({ address, quota: undefined })),
                          live.passwordHashes ?? {},
                      ),
                      mode: "0640" as const,
                      owner: "root:dovecot",
                      reload: ["dovecot" as const],
                  },
              ]
            : []),
        { path: DOVECOT.dropIn, content: renderDovecotDropIn(), mode: "0644", reload: ["systemd", "dovecot"] },
        // Compiled by sievec in beforeReload (LMTP reads the compiled copy).
        { path: DOVECOT.spamSieve, content: renderSpamSieve(), mode: "0644", reload: ["dovecot"] },
        { path: MAIL_ARCHIVE_TOOL, content: renderMailArchiveScript(), mode: "0755" },
        { path: MAILBOX_MAPS.mailboxes, content: renderMailboxMap(host.mail), mode: "0644", postmap: true, reload: ["postfix"] },
        { path: MAILBOX_MAPS.senderLogins, content: renderSenderLogins(host.mail), mode: "0644", postmap: true, reload: ["postfix"] },
    ];
}

/** The smarthost's login map: root only (Postfix opens it before dropping privileges), never logged. */
function smarthostFiles(host: HostSettings, live: Pick<BundleLive, "smarthostPassword">): ManagedFile[] {
    if (!host.smarthost?.user) return [];
    if (live.smarthostPassword === undefined) throw new Error("smarthost: the login's password is missing from the live values");
    return [
        {
            path: SMARTHOST_LOGIN_MAP,
            content: renderSmarthostLogin(host.smarthost, live.smarthostPassword),
            mode: "0600",
            secret: true,
            reload: ["postfix"],
        },
    ];
}

/** The files of the host's configuration. */
export function hostFiles(host: HostSettings, live: Pick<BundleLive, "dkimKeys" | "passwordHashes" | "smarthostPassword">): ManagedFile[] {
    const domains = signingDomains(host);
    const dkim = { domains, fqdn: host.fqdn };
    const postfix = postfixInput(host);
    const { srs } = postfix;
    const cert: CertificateInput = {
        domain: host.domain,
        fqdn: host.fqdn,
        ipv6: host.ipv6,
        operatorEmail: host.operatorEmail,
        acmeDirectoryUrl: host.acmeDirectoryUrl,
        hasAcmeCaBundle: host.acmeCaBundle !== undefined,
        servedBy: hasMailboxes(host) ? ["postfix", "dovecot"] : ["postfix"],
    };
    const admin: ManagedFile[] =
        host.sshPublicKeys.length > 0
            ? [
                  { path: `${PATHS.adminKeysDir}/${ADMIN_USER}`, content: renderAdminKeys(host.sshPublicKeys), mode: "0644" },
                  { path: PATHS.sshdAdminConf, content: renderSshdAdminConf(host.sshAllowedCidrs), mode: "0644", reload: ["sshd"] },
                  { path: PATHS.sudoersAdmin, content: renderAdminSudoers(), mode: "0440" },
              ]
            : [];
    return [
        { path: "/etc/mailname", content: `${host.fqdn}\n`, mode: "0644", reload: ["postfix"] },
        { path: PATHS.cloudInitConf, content: renderCloudInitConf(), mode: "0644" },
        { path: "/etc/postfix/main.cf", content: renderMainCf(postfix), mode: "0644", reload: ["postfix"] },
        { path: "/etc/postfix/master.cf", content: renderMasterCf(postfix), mode: "0644", reload: ["postfix"] },
        {
            path: PATHS.virtualMap,
            content: renderVirtualMap({ ...host, domains: domains.map((d) => d.domain) }, host.mail),
            mode: "0644",
            postmap: true,
            reload: ["postfix"],
        },
        ...mailboxFiles(host, live),
        ...smarthostFiles(host, live),
        { path: PATHS.opendkimConf, content: renderOpendkimConf(dkim), mode: "0644", reload: ["opendkim"] },
        { path: `${PATHS.opendkimDir}/key.table`, content: renderKeyTable(dkim), mode: "0644", reload: ["opendkim"] },
        { path: `${PATHS.opendkimDir}/signing.table`, content: renderSigningTable(dkim), mode: "0644", reload: ["opendkim"] },
        { path: `${PATHS.opendkimDir}/trusted.hosts`, content: renderTrustedHosts(host.relayNetworks), mode: "0644", reload: ["opendkim"] },
        // Readable by opendkim only (OpenDKIM refuses group/world-readable keys), inside a 0700 directory.
        ...domains.map(
            ({ domain, selector }): ManagedFile => ({
                path: dkimKeyPath(domain, selector),
                content: dkimKey(live, domain).privateKeyPem,
                mode: "0600",
                owner: "opendkim:opendkim",
                secret: true,
                reload: ["opendkim"],
            }),
        ),
        ...srs.files,
        ...Object.entries(renderRspamdFiles({ relayNetworks: host.relayNetworks, dnsBlocklists: host.dnsBlocklists })).map(
            ([name, content]): ManagedFile => ({ path: `${RSPAMD_DIR}/${name}`, content, mode: "0644", reload: ["rspamd"] }),
        ),
        { path: RSPAMD_DROP_IN, content: renderRspamdDropIn(), mode: "0644", reload: ["systemd"] },
        { path: PATHS.certScript, content: renderCertScript(cert), mode: "0755" },
        { path: `/etc/systemd/system/${PATHS.certUnit}.service`, content: renderCertService(), mode: "0644", reload: ["systemd"] },
        { path: `/etc/systemd/system/${PATHS.certUnit}.timer`, content: renderCertTimer(), mode: "0644", reload: ["systemd"] },
        { path: PATHS.deployHook, content: renderDeployHook(cert.servedBy), mode: "0755" },
        ...(host.acmeCaBundle !== undefined
            ? [
                  { path: PATHS.acmeCaBundle, content: host.acmeCaBundle, mode: "0644" as const },
                  {
                      path: "/etc/systemd/system/certbot.service.d/mailserver-acme-ca.conf",
                      content: renderCertbotCaDropIn(),
                      mode: "0644" as const,
                      reload: ["systemd" as const],
                  },
              ]
            : []),
        ...admin,
        { path: PATHS.autoUpgrades, content: renderAutoUpgrades(), mode: "0644" },
        { path: PATHS.nftables, content: renderNftables(), mode: "0755", reload: ["nftables"] },
    ];
}

/**
 * Records the host waits for before it switches: each key it signs with must be in DNS before the
 * first message is signed with it, and the host name must point here before its identity
 * (HELO, certificate) changes to it.
 */
export function awaitedRecords(host: HostSettings, live: Pick<BundleLive, "ipv4" | "ipv6" | "dkimKeys">): AwaitedRecord[] {
    return [
        ...signingDomains(host).map(({ domain, selector }) => ({
            name: dkimRecordName(selector, domain),
            type: "TXT" as const,
            value: dkimRecord(dkimKey(live, domain).publicKeyPem),
        })),
        { name: host.fqdn, type: "A", value: live.ipv4 },
        ...(host.ipv6 && live.ipv6 ? [{ name: host.fqdn, type: "AAAA" as const, value: live.ipv6 }] : []),
    ];
}

/**
 * What the commit stage waits for: SPF for each mail domain and the host name listing each address
 * the host sends from, and each address's PTR naming the host.
 */
export function announcingRecords(host: HostSettings, live: Pick<BundleLive, "ipv4" | "ipv6">): AnnouncingRecord[] {
    const addresses = [
        { address: live.ipv4, term: `ip4:${live.ipv4}` },
        ...(host.ipv6 && live.ipv6 ? [{ address: live.ipv6, term: `ip6:${live.ipv6}` }] : []),
    ];
    return addresses.flatMap(({ address, term }) => [
        ...signingDomains(host).map(({ domain }) => ({ name: domain, type: "TXT" as const, spfTerm: term })),
        { name: host.fqdn, type: "TXT" as const, spfTerm: term },
        { name: reverseName(address), type: "PTR" as const, value: `${host.fqdn}.` },
    ]);
}

/** What the prepare stage holds back while IPv6 is new to the host: main.cf that listens and sends over IPv4 only. */
export function hostGates(host: HostSettings): Gate[] {
    const held = host.ipv6 ? [{ path: "/etc/postfix/main.cf", content: renderMainCf(postfixInput({ ...host, ipv6: false })) }] : [];
    return [{ feature: "ipv6", held, restart: ["postfix"] }];
}

/** The payload the applier applies: packages, accounts, files, records to wait for, checks. */
export function bundlePayload(host: HostSettings, live: BundleLive): Record<string, unknown> {
    const someone = "check@example.org";
    const mailboxes = hasMailboxes(host);
    const first = host.mail.mailboxes[0]?.address;
    return {
        hostname: host.fqdn,
        features: { ipv6: host.ipv6 },
        gates: hostGates(host),
        announcedBy: announcingRecords(host, live),
        packages: hostPackages(host),
        // Dovecot's package would start it with Debian's configuration (system accounts over PAM) before the release is in
        // place; rspamd's would compile its regular expressions with Debian's, holding that memory until a restart.
        noPackageStart: [...(mailboxes ? ["dovecot"] : []), "rspamd"],
        debconf: DEBCONF,
        users: host.sshPublicKeys.length > 0 ? [{ name: ADMIN_USER, groups: ["sudo"], shell: "/bin/bash" }] : [],
        // The account that owns the Maildirs (no login, no home of its own).
        ...(mailboxes ? { systemUsers: [{ name: DOVECOT.mailUser, home: DOVECOT.mailRoot }] } : {}),
        files: hostFiles(host, live),
        waitFor: awaitedRecords(host, live),
        waitSeconds: DNS_WAIT_SECONDS,
        // Checked where the release is already current, before the switch.
        mapQueries: [
            { key: `postmaster@${host.domain}`, map: `hash:${PATHS.virtualMap}` },
            ...(first
                ? [
                      { key: first, map: `hash:${MAILBOX_MAPS.mailboxes}` },
                      { key: first, map: `hash:${MAILBOX_MAPS.senderLogins}` },
                  ]
                : []),
        ],
        beforeReload: [
            // OpenDKIM's socket directory: group postfix, setgid, so the socket is Postfix's to use.
            ["install", "-d", "-o", "opendkim", "-g", "postfix", "-m", "2750", DKIM_MILTER.directory],
            ...(mailboxes
                ? [
                      ["install", "-d", "-o", DOVECOT.mailUser, "-g", DOVECOT.mailUser, "-m", "0750", DOVECOT.mailRoot],
                      // Only the configuration's own listeners serve IMAP: never the package's socket unit.
                      ["systemctl", "mask", "dovecot.socket"],
                      // The spam script, compiled next to itself (spam.svbin), newer than the script.
                      ["sievec", "-c", DOVECOT.conf, DOVECOT.spamSieve],
                  ]
                : []),
            [PATHS.certScript, "init"],
        ],
        enable: [
            "nftables",
            "postsrsd",
            "opendkim",
            "redis-server",
            "rspamd",
            ...(mailboxes ? ["dovecot"] : []),
            "postfix",
            "unattended-upgrades",
            `${PATHS.certUnit}.timer`,
        ],
        running: ["postsrsd", "opendkim", "redis-server", "rspamd", ...(mailboxes ? ["dovecot"] : []), "postfix"],
        afterReload: [
            ["systemctl", "start", `${PATHS.certUnit}.timer`],
            ["systemctl", "start", "--no-block", `${PATHS.certUnit}.service`],
        ],
        // Checked on the running services after the switch.
        banner: `220 ${host.fqdn} ESMTP`,
        ...(mailboxes
            ? {
                  greetings: [
                      { port: tcpPort("submission"), startsWith: `220 ${host.fqdn} ESMTP` },
                      { port: tcpPort("imap"), startsWith: "* OK" },
                  ],
              }
            : {}),
        sockets: [DKIM_MILTER.socket, ...(mailboxes ? [DOVECOT.lmtpSocket, DOVECOT.authSocket, DOVECOT.quotaSocket] : [])],
        liveQueries: [{ key: someone, map: `tcp:127.0.0.1:${SRS_PORTS.forward}`, startsWith: "SRS0=" }],
    };
}

/** The bundle of one stage: format, the applier program, and the payload. JSON; secret (it holds the DKIM key). */
export function renderBundle(host: HostSettings, live: BundleLive, stage: Stage): string {
    return JSON.stringify({
        format: BUNDLE_FORMAT,
        stage,
        applier: readFileSync(join(APPLIER_DIR, "applier.py"), "utf8"),
        payload: bundlePayload(host, live),
    });
}
