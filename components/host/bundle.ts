/**
 * The configuration bundle: everything the running host is, as data the applier
 * (applier/applier.py) checks and switches to at once. Rendered from the host settings and the
 * live values (addresses, keys) only: a DNS-only change leaves it byte-identical.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { HostSettings } from "../config";
import { dkimRecord, dkimRecordName } from "../records/dkim";
import { APPLIER_DIR } from "./bootstrap";
import {
    type CertificateInput,
    renderCertbotCaDropIn,
    renderCertScript,
    renderCertService,
    renderCertTimer,
    renderDeployHook,
} from "./certificate";
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
import { renderKeyTable, renderOpendkimConf, renderSigningTable, renderTrustedHosts } from "./opendkim";
import { DKIM_MILTER, dkimKeyPath, PATHS } from "./paths";
import { renderMainCf, renderMasterCf, renderVirtualMap } from "./postfix";
import { SRS_PORTS, srsSetup } from "./postsrsd";

export const BUNDLE_FORMAT = "mailserver-bundle/1";

/** Packages the host runs; the applier installs the missing ones. The mail lab's package repository holds exactly these. */
export const HOST_PACKAGES = [
    "postfix",
    "opendkim",
    "opendkim-tools",
    "postsrsd",
    "certbot",
    "bind9-dnsutils",
    "ca-certificates",
    "ssl-cert",
    "unattended-upgrades",
    "nftables",
] as const;

/** Answers for the packages' installers: Postfix must not ask questions or write its own main.cf. */
export const DEBCONF = ["postfix postfix/main_mailer_type select No configuration"];

/** How long the applier waits for the zone's authoritative servers to publish a record. */
export const DNS_WAIT_SECONDS = 600;

/** What the host's configuration is rendered from besides the settings: known once the host and keys exist. */
export interface BundleLive {
    readonly ipv4: string;
    /** Undefined when IPv6 is off. */
    readonly ipv6: string | undefined;
    /** PKCS#1 or PKCS#8 PEM of the signing DKIM key (secret). */
    readonly dkimPrivateKeyPem: string;
    /** SubjectPublicKeyInfo PEM of the signing DKIM key. */
    readonly dkimPublicKeyPem: string;
}

/** A DNS record the host waits for on the zone's authoritative servers before switching to a release. */
export interface AwaitedRecord {
    readonly name: string;
    readonly type: "A" | "AAAA" | "TXT";
    readonly value: string;
}

/** The files of the host's configuration. */
export function hostFiles(host: HostSettings, live: Pick<BundleLive, "dkimPrivateKeyPem">): ManagedFile[] {
    const dkim = { domain: host.domain, fqdn: host.fqdn, selector: host.dkimSelector };
    const srs = srsSetup({ domain: host.domain, fqdn: host.fqdn });
    const postfix = { domain: host.domain, fqdn: host.fqdn, ipv6: host.ipv6, srs };
    const cert: CertificateInput = {
        domain: host.domain,
        fqdn: host.fqdn,
        ipv6: host.ipv6,
        operatorEmail: host.operatorEmail,
        acmeDirectoryUrl: host.acmeDirectoryUrl,
        hasAcmeCaBundle: host.acmeCaBundle !== undefined,
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
        { path: "/etc/postfix/master.cf", content: renderMasterCf(), mode: "0644", reload: ["postfix"] },
        { path: PATHS.virtualMap, content: renderVirtualMap(host), mode: "0644", postmap: true, reload: ["postfix"] },
        { path: PATHS.opendkimConf, content: renderOpendkimConf(dkim), mode: "0644", reload: ["opendkim"] },
        { path: `${PATHS.opendkimDir}/key.table`, content: renderKeyTable(dkim), mode: "0644", reload: ["opendkim"] },
        { path: `${PATHS.opendkimDir}/signing.table`, content: renderSigningTable(dkim), mode: "0644", reload: ["opendkim"] },
        { path: `${PATHS.opendkimDir}/trusted.hosts`, content: renderTrustedHosts(), mode: "0644", reload: ["opendkim"] },
        // Readable by opendkim only (OpenDKIM refuses group/world-readable keys), inside a 0700 directory.
        {
            path: dkimKeyPath(host.dkimSelector),
            content: live.dkimPrivateKeyPem,
            mode: "0600",
            owner: "opendkim:opendkim",
            secret: true,
            reload: ["opendkim"],
        },
        ...srs.files,
        { path: PATHS.certScript, content: renderCertScript(cert), mode: "0755" },
        { path: `/etc/systemd/system/${PATHS.certUnit}.service`, content: renderCertService(), mode: "0644", reload: ["systemd"] },
        { path: `/etc/systemd/system/${PATHS.certUnit}.timer`, content: renderCertTimer(), mode: "0644", reload: ["systemd"] },
        { path: PATHS.deployHook, content: renderDeployHook(), mode: "0755" },
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
 * Records the host waits for before it switches: the key it signs with must be in DNS before the
 * first message is signed with it, and the host name must point here before its identity
 * (HELO, certificate) changes to it.
 */
export function awaitedRecords(host: HostSettings, live: Omit<BundleLive, "dkimPrivateKeyPem">): AwaitedRecord[] {
    return [
        { name: dkimRecordName(host.dkimSelector, host.domain), type: "TXT", value: dkimRecord(live.dkimPublicKeyPem) },
        { name: host.fqdn, type: "A", value: live.ipv4 },
        ...(host.ipv6 && live.ipv6 ? [{ name: host.fqdn, type: "AAAA" as const, value: live.ipv6 }] : []),
    ];
}

/** The payload the applier applies: packages, accounts, files, records to wait for, checks. */
export function bundlePayload(host: HostSettings, live: BundleLive): Record<string, unknown> {
    const someone = "check@example.org";
    return {
        hostname: host.fqdn,
        packages: [...HOST_PACKAGES],
        debconf: DEBCONF,
        users: host.sshPublicKeys.length > 0 ? [{ name: ADMIN_USER, groups: ["sudo"], shell: "/bin/bash" }] : [],
        files: hostFiles(host, live),
        waitFor: awaitedRecords(host, live),
        waitSeconds: DNS_WAIT_SECONDS,
        // Checked where the release is already current, before the switch.
        mapQueries: [{ key: `postmaster@${host.domain}`, map: `hash:${PATHS.virtualMap}` }],
        beforeReload: [
            // OpenDKIM's socket directory: group postfix, setgid, so the socket is Postfix's to use.
            ["install", "-d", "-o", "opendkim", "-g", "postfix", "-m", "2750", DKIM_MILTER.directory],
            [PATHS.certScript, "init"],
        ],
        enable: ["nftables", "postsrsd", "opendkim", "postfix", "unattended-upgrades", `${PATHS.certUnit}.timer`],
        running: ["postsrsd", "opendkim", "postfix"],
        afterReload: [
            ["systemctl", "start", `${PATHS.certUnit}.timer`],
            ["systemctl", "start", "--no-block", `${PATHS.certUnit}.service`],
        ],
        // Checked on the running services after the switch.
        banner: `220 ${host.fqdn} ESMTP`,
        sockets: [DKIM_MILTER.socket],
        liveQueries: [{ key: someone, map: `tcp:127.0.0.1:${SRS_PORTS.forward}`, startsWith: "SRS0=" }],
    };
}

/** The bundle: format, the applier program, and the payload. JSON; secret (it holds the DKIM key). */
export function renderBundle(host: HostSettings, live: BundleLive): string {
    return JSON.stringify({
        format: BUNDLE_FORMAT,
        applier: readFileSync(join(APPLIER_DIR, "applier.py"), "utf8"),
        payload: bundlePayload(host, live),
    });
}
