import { type MailSettings, senderLogins } from "../mailboxes";
import { tcpPort } from "../ports";
import { IMPLICIT_TLS_PORT, SMARTHOST_LOGIN_MAP, type Smarthost, smarthostNexthop } from "../smarthost";
import { DKIM_MILTER, DOVECOT, MAILBOX_MAPS, PATHS } from "./paths";
import type { SrsSetup } from "./postsrsd";
import { rspamdMilter } from "./rspamd";

export interface PostfixInput {
    /** The primary mail domain (mydomain), under which the host is named. */
    readonly domain: string;
    /** The further mail domains, received and delivered like the primary one. */
    readonly extraDomains: readonly string[];
    readonly fqdn: string;
    readonly ipv6: boolean;
    readonly srs: SrsSetup;
    /** Whether the domain's addresses are Dovecot mailboxes (and the submission ports are open). */
    readonly mailboxes: boolean;
    /** Networks (CIDR) that may relay without logging in, besides the host itself. */
    readonly relayNetworks: readonly string[];
    /** The relay that takes every outbound message; undefined: delivery to each recipient's MX. */
    readonly smarthost?: Smarthost;
    /** Whether postscreen asks DNS blocklists about each new client. */
    readonly dnsBlocklists: boolean;
}

/**
 * The DNS lists postscreen weighs (dnsBlocklists): a client scoring 3 is refused. Each list counts
 * only for its documented answers, so an error answer (Spamhaus's 127.255.255.x for queries from
 * public resolvers) never refuses anyone. DNSWL's listing subtracts.
 */
export const POSTSCREEN_DNSBL_SITES = [
    "zen.spamhaus.org=127.0.0.[2..11]*3",
    "bl.mailspike.net=127.0.0.[2..4]*2",
    "list.dnswl.org=127.0.[0..255].[0..3]*-2",
] as const;

/** A socket in Postfix's queue directory, as Postfix names it (relative to the queue directory). */
function queueRelative(path: string): string {
    return path.replace(/^\/var\/spool\/postfix\//, "");
}

type Section = { readonly why: string; readonly params: ReadonlyArray<readonly [string, string]> };

/**
 * Ciphers no client of ours needs: anonymous, export-grade, single DES and 3DES, RC4, MD5, and
 * the exotic ones (Mozilla's "intermediate" guidance, as docker-mailserver applies it).
 */
export const TLS_EXCLUDED_CIPHERS = "aNULL, eNULL, EXPORT, DES, 3DES, RC4, MD5, PSK, SRP, DSS, SEED, IDEA, CAMELLIA";

/** Addresses at the host name that only the host itself may write to. */
export function localOnlyRecipients(fqdn: string): string[] {
    return [`root@${fqdn}`];
}

/** main.cf as commented sections; each directive says which receiver rule or RFC it serves. */
export function mainCfSections(input: PostfixInput): Section[] {
    // Postfix writes IPv6 networks in brackets; they count only while the host listens on IPv6.
    const relay = input.relayNetworks
        .filter((cidr) => input.ipv6 || !cidr.includes(":"))
        .map((cidr) => (cidr.includes(":") ? `[${cidr.split("/")[0]}]/${cidr.split("/")[1]}` : cidr));
    const mynetworks = [...(input.ipv6 ? ["127.0.0.0/8", "[::1]/128"] : ["127.0.0.0/8"]), ...relay].join(" ");
    const localOnly = localOnlyRecipients(input.fqdn)
        .map((address) => `{ ${address} = REJECT 5.7.1 not a public address }`)
        .join(" ");
    // Nothing is delivered to a system account: no local delivery, no /etc/aliases.
    const noLocalDelivery: Section["params"] = [
        ["mydestination", ""],
        ["local_recipient_maps", ""],
        ["local_transport", "error:5.1.1 local delivery is disabled"],
        ["alias_maps", ""],
        ["alias_database", ""],
    ];
    const domains = ["$mydomain", ...input.extraDomains].join(", ");
    const delivery: Section = input.mailboxes
        ? {
              why:
                  "Delivery: the mail domains' addresses are Dovecot mailboxes (LMTP) or aliases; the host name is an alias domain: " +
                  "postmaster@ and abuse@ (RFC 2142), and root@ for the host's own mail, are forwarded to the operator. Nothing is " +
                  "delivered to a system account (nobody@, daemon@, postfix@, the admin); every other address is unknown.",
              params: [
                  ...noLocalDelivery,
                  ["virtual_alias_domains", "$myhostname"],
                  ["virtual_alias_maps", `hash:${PATHS.virtualMap}`],
                  ["virtual_mailbox_domains", domains],
                  ["virtual_mailbox_maps", `hash:${MAILBOX_MAPS.mailboxes}`],
                  ["virtual_transport", `lmtp:unix:${queueRelative(DOVECOT.lmtpSocket)}`],
                  ["lmtp_destination_concurrency_limit", "4"],
                  ["recipient_delimiter", "+"],
              ],
          }
        : {
              why:
                  "Delivery: nothing is delivered on this host, so no system account (nobody@, daemon@, postfix@, the admin) receives mail. " +
                  "The mail domains and the host name are virtual alias domains: postmaster@ and abuse@ (RFC 2142), and root@ for the host's own " +
                  "mail, are forwarded to the operator; every other address is unknown.",
              params: [
                  ...noLocalDelivery,
                  ["virtual_alias_domains", `${domains}, $myhostname`],
                  ["virtual_alias_maps", `hash:${PATHS.virtualMap}`],
                  ["recipient_delimiter", "+"],
              ],
          };
    // A full mailbox is refused at RCPT time (no bounce after acceptance, no backscatter).
    const quota = input.mailboxes ? `check_policy_service unix:${queueRelative(DOVECOT.quotaSocket)}, ` : "";
    // Nobody outside uses a local user's address as envelope sender on port 25.
    const spoofing = input.mailboxes ? "reject_unauthenticated_sender_login_mismatch, " : "";
    const submission: Section[] = input.mailboxes
        ? [
              {
                  why:
                      `Submission (ports ${tcpPort("submission")} and ${tcpPort("submissions")}): logins are Dovecot's; a logged-in user sends only as ` +
                      "the addresses sender_logins gives them. AUTH is offered in the submission services only, over TLS only.",
                  params: [
                      ["smtpd_sasl_type", "dovecot"],
                      ["smtpd_sasl_path", queueRelative(DOVECOT.authSocket)],
                      ["smtpd_sasl_auth_enable", "no"],
                      ["smtpd_sasl_security_options", "noanonymous, noplaintext"],
                      ["smtpd_sasl_tls_security_options", "noanonymous"],
                      ["smtpd_sender_login_maps", `hash:${MAILBOX_MAPS.senderLogins}`],
                      ["mua_client_restrictions", "permit_sasl_authenticated, reject"],
                      [
                          "mua_sender_restrictions",
                          "reject_non_fqdn_sender, reject_sender_login_mismatch, permit_sasl_authenticated, reject",
                      ],
                      ["mua_relay_restrictions", "permit_sasl_authenticated, reject"],
                      [
                          "mua_recipient_restrictions",
                          "reject_non_fqdn_recipient, reject_unknown_recipient_domain, permit_sasl_authenticated, reject",
                      ],
                  ],
              },
          ]
        : [];
    const postscreen: Section = {
        why:
            "postscreen in front of port 25: a client that talks before the greeting or pipelines without being offered PIPELINING " +
            "is refused; a new client passes these tests once and reconnects (real MTAs retry; each pass is remembered). " +
            (input.dnsBlocklists ? "Clients listed in DNS blocklists are refused. " : "No DNS blocklists (dnsBlocklists off). ") +
            "The host and the relay networks skip it.",
        params: [
            ["postscreen_access_list", "permit_mynetworks"],
            ["postscreen_greet_action", "enforce"],
            ["postscreen_pipelining_enable", "yes"],
            ["postscreen_pipelining_action", "enforce"],
            ...(input.dnsBlocklists
                ? ([
                      ["postscreen_dnsbl_sites", POSTSCREEN_DNSBL_SITES.join(", ")],
                      ["postscreen_dnsbl_threshold", "3"],
                      ["postscreen_dnsbl_action", "enforce"],
                  ] as const)
                : []),
        ],
    };
    return [
        {
            why: "Identity: hostname, banner, HELO name, certificate name and PTR are all the FQDN (Gmail 550-5.7.25; RFC 5321 §4.1.1.1).",
            params: [
                ["compatibility_level", "3.10"],
                ["myhostname", input.fqdn],
                ["mydomain", input.domain],
                ["myorigin", "$myhostname"],
                ["smtpd_banner", "$myhostname ESMTP"],
                ["smtp_helo_name", "$myhostname"],
                ["biff", "no"],
                ["append_dot_mydomain", "no"],
                ["readme_directory", "no"],
            ],
        },
        {
            why: "Listening: all interfaces; IPv6 only when the host has a PTR for it (Gmail's IPv6 sending guidelines).",
            params: [
                ["inet_interfaces", "all"],
                ["inet_protocols", input.ipv6 ? "all" : "ipv4"],
            ],
        },
        delivery,
        {
            why:
                "Not an open relay: only this host (mynetworks) may send to other domains. Clients must greet with a valid host name and " +
                "use fully-qualified, resolvable addresses; root@ at the host name is for the host's own mail only.",
            params: [
                ["mynetworks", mynetworks],
                ["smtpd_helo_required", "yes"],
                ["smtpd_helo_restrictions", "permit_mynetworks, reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname"],
                ["smtpd_sender_restrictions", `permit_mynetworks, ${spoofing}reject_non_fqdn_sender, reject_unknown_sender_domain`],
                ["smtpd_relay_restrictions", "permit_mynetworks, reject_unauth_destination"],
                [
                    "smtpd_recipient_restrictions",
                    `permit_mynetworks, reject_non_fqdn_recipient, reject_unknown_recipient_domain, reject_unauth_destination, ${quota}check_recipient_access inline:{ ${localOnly} }`,
                ],
                ["disable_vrfy_command", "yes"],
            ],
        },
        postscreen,
        ...submission,
        {
            why: "SMTP smuggling guards (CVE-2023-51764): normalize bare newlines, refuse unauthorized pipelining.",
            params: [
                ["smtpd_forbid_bare_newline", "normalize"],
                ["smtpd_forbid_bare_newline_exclusions", "$mynetworks"],
                ["smtpd_forbid_unauth_pipelining", "yes"],
                ["smtpd_data_restrictions", "reject_unauth_pipelining"],
            ],
        },
        {
            why:
                "Milters. DKIM: OpenDKIM signs mail from mynetworks and local submission, once (no re-injection path). " +
                "Port 25 (inbound_milters) goes through rspamd first: it verifies SPF, DKIM and DMARC, rejects spam and DMARC " +
                "p=reject failures, and marks the rest. If a milter is down, mail is deferred: never sent unsigned " +
                "(Gmail 550-5.7.26), never taken unfiltered.",
            params: [
                ["milter_protocol", "6"],
                ["smtpd_milters", `unix:${DKIM_MILTER.socket}`],
                ["inbound_milters", `${rspamdMilter()}, unix:${DKIM_MILTER.socket}`],
                ["non_smtpd_milters", "$smtpd_milters"],
                ["milter_default_action", "tempfail"],
            ],
        },
        {
            why: "SRS: forwarded mail gets an envelope sender in our domain so SPF passes at the next hop.",
            params: input.srs.postfixParams,
        },
        {
            why:
                `Inbound TLS (opportunistic on port ${tcpPort("smtp")}), TLS 1.2+ with strong ciphers, no compression or renegotiation. ` +
                "The certificate links point at Let's Encrypt once certbot succeeds.",
            params: [
                ["smtpd_tls_cert_file", PATHS.tlsCert],
                ["smtpd_tls_key_file", PATHS.tlsKey],
                ["smtpd_tls_security_level", "may"],
                ["smtpd_tls_protocols", ">=TLSv1.2"],
                ["smtpd_tls_mandatory_protocols", ">=TLSv1.2"],
                ["smtpd_tls_ciphers", "high"],
                ["smtpd_tls_mandatory_ciphers", "high"],
                ["smtpd_tls_exclude_ciphers", TLS_EXCLUDED_CIPHERS],
                ["tls_preempt_cipherlist", "yes"],
                ["tls_ssl_options", "NO_COMPRESSION, NO_RENEGOTIATION"],
                ["smtpd_tls_received_header", "yes"],
                ["smtpd_tls_loglevel", "1"],
                ["smtpd_tls_session_cache_database", "btree:${data_directory}/smtpd_scache"],
            ],
        },
        ...smarthostSections(input.smarthost),
        {
            why: input.smarthost
                ? "Outbound TLS: always, with the smarthost's certificate verified for its name (the login never travels in clear), never with broken ciphers."
                : "Outbound TLS whenever the receiver offers it (Gmail 421-4.7.29 for unencrypted mail), never with broken ciphers.",
            params: [
                ["smtp_tls_security_level", input.smarthost ? "secure" : "may"],
                ...(input.smarthost?.port === IMPLICIT_TLS_PORT ? [["smtp_tls_wrappermode", "yes"] as const] : []),
                ["smtp_tls_protocols", ">=TLSv1.2"],
                ["smtp_tls_mandatory_protocols", ">=TLSv1.2"],
                ["smtp_tls_exclude_ciphers", TLS_EXCLUDED_CIPHERS],
                ["smtp_tls_CAfile", "/etc/ssl/certs/ca-certificates.crt"],
                ["smtp_tls_loglevel", "1"],
                ["smtp_tls_session_cache_database", "btree:${data_directory}/smtp_scache"],
            ],
        },
    ];
}

/**
 * The smarthost: every message for another domain goes to the relay (its address records, never
 * its MX), logging in with the map's credentials only over TLS. Postfix's SASL client needs the
 * Cyrus mechanisms (libsasl2-modules).
 */
function smarthostSections(relay: Smarthost | undefined): Section[] {
    if (!relay) return [];
    const login: Section["params"] = relay.user
        ? [
              ["smtp_sasl_auth_enable", "yes"],
              ["smtp_sasl_password_maps", `texthash:${SMARTHOST_LOGIN_MAP}`],
              ["smtp_sasl_security_options", "noanonymous"],
              ["smtp_sasl_tls_security_options", "noanonymous"],
          ]
        : [];
    return [
        {
            why:
                `Smarthost: mail for other domains goes through ${relay.host} on port ${relay.port}, for providers that keep outbound port ` +
                `${tcpPort("smtp")} blocked. It leaves from the relay's addresses, which the domain's SPF lists; it is DKIM-signed here first.`,
            params: [["relayhost", smarthostNexthop(relay)], ...login],
        },
    ];
}

/** /etc/postfix/main.cf */
export function renderMainCf(input: PostfixInput): string {
    const blocks = mainCfSections(input).map((s) => `# ${s.why}\n${s.params.map(([k, v]) => `${k} = ${v}`).join("\n")}`);
    return `# Rendered by the mailserver Pulumi component; edits are lost on re-creation.\n\n${blocks.join("\n\n")}\n`;
}

/** One master.cf service line: service type private unpriv chroot wakeup maxproc command, and its -o options. */
type Service = readonly [
    service: string,
    type: string,
    priv: string,
    unpriv: string,
    wakeup: string,
    maxproc: string,
    command: string,
    options?: ReadonlyArray<readonly [string, string]>,
];

/**
 * The submission services' options (after Debian's master.cf.proto): TLS before anything else
 * (587: STARTTLS first, 465: implicit), AUTH through Dovecot, limits on failed logins, and the
 * mua_* restrictions of main.cf. Mail clients greet with any name, so no HELO checks; the
 * client's address stays out of the Received header.
 */
export function submissionOptions(implicitTls: boolean): Array<readonly [string, string]> {
    return [
        ["syslog_name", implicitTls ? "postfix/submissions" : "postfix/submission"],
        ...(implicitTls ? [["smtpd_tls_wrappermode", "yes"] as const] : []),
        ["smtpd_tls_security_level", "encrypt"],
        ["smtpd_tls_auth_only", "yes"],
        ["smtpd_sasl_auth_enable", "yes"],
        ["smtpd_hide_client_session", "yes"],
        ["smtpd_reject_unlisted_recipient", "no"],
        // At most 10 AUTH commands a minute per client, and 5 errors (each failed AUTH is one) a session.
        ["smtpd_client_auth_rate_limit", "10"],
        ["smtpd_hard_error_limit", "5"],
        ["smtpd_helo_restrictions", ""],
        ["smtpd_client_restrictions", "$mua_client_restrictions"],
        ["smtpd_sender_restrictions", "$mua_sender_restrictions"],
        ["smtpd_relay_restrictions", "$mua_relay_restrictions"],
        ["smtpd_recipient_restrictions", "$mua_recipient_restrictions"],
    ];
}

/**
 * /etc/postfix/master.cf: the stock daemons plus the SMTP listeners of the port table: smtp, and
 * with mailboxes submission and submissions. chroot is off everywhere so the milter, SRS, Dovecot's
 * sockets and DNS need no copies in a jail.
 */
export function renderMasterCf(input: { readonly mailboxes: boolean } = { mailboxes: false }): string {
    const submission: Service[] = input.mailboxes
        ? [
              [String(tcpPort("submission")), "inet", "n", "-", "-", "-", "smtpd", submissionOptions(false)],
              [String(tcpPort("submissions")), "inet", "n", "-", "-", "-", "smtpd", submissionOptions(true)],
          ]
        : [];
    const services: Service[] = [
        // The inbound listener: the port table's smtp entry (opened in the firewall too), postscreen first,
        // then smtpd with the inbound milters.
        [String(tcpPort("smtp")), "inet", "n", "-", "-", "1", "postscreen"],
        ["smtpd", "pass", "-", "-", "-", "-", "smtpd", [["smtpd_milters", "$inbound_milters"]]],
        ["dnsblog", "unix", "-", "-", "-", "0", "dnsblog"],
        ["tlsproxy", "unix", "-", "-", "-", "0", "tlsproxy"],
        ...submission,
        ["pickup", "unix", "n", "-", "60", "1", "pickup"],
        ["cleanup", "unix", "n", "-", "-", "0", "cleanup"],
        ["qmgr", "unix", "n", "-", "300", "1", "qmgr"],
        ["tlsmgr", "unix", "-", "-", "1000?", "1", "tlsmgr"],
        ["rewrite", "unix", "-", "-", "-", "-", "trivial-rewrite"],
        ["bounce", "unix", "-", "-", "-", "0", "bounce"],
        ["defer", "unix", "-", "-", "-", "0", "bounce"],
        ["trace", "unix", "-", "-", "-", "0", "bounce"],
        ["verify", "unix", "-", "-", "-", "1", "verify"],
        ["flush", "unix", "n", "-", "1000?", "0", "flush"],
        ["proxymap", "unix", "-", "-", "-", "-", "proxymap"],
        ["proxywrite", "unix", "-", "-", "-", "1", "proxymap"],
        ["smtp", "unix", "-", "-", "-", "-", "smtp"],
        ["relay", "unix", "-", "-", "-", "-", "smtp"],
        ["showq", "unix", "n", "-", "-", "-", "showq"],
        ["error", "unix", "-", "-", "-", "-", "error"],
        ["retry", "unix", "-", "-", "-", "-", "error"],
        ["discard", "unix", "-", "-", "-", "-", "discard"],
        ["local", "unix", "-", "n", "-", "-", "local"],
        ["virtual", "unix", "-", "n", "-", "-", "virtual"],
        ["lmtp", "unix", "-", "-", "-", "-", "lmtp"],
        ["anvil", "unix", "-", "-", "-", "1", "anvil"],
        ["scache", "unix", "-", "-", "-", "1", "scache"],
        ["postlog", "unix-dgram", "n", "-", "-", "1", "postlogd"],
    ];
    const lines = services.flatMap(([service, type, priv, unpriv, wakeup, maxproc, command, options]) => [
        [service.padEnd(10), type.padEnd(10), priv.padEnd(7), unpriv.padEnd(7), "n".padEnd(7), wakeup.padEnd(7), maxproc.padEnd(7), command]
            .join(" ")
            .trimEnd(),
        ...(options ?? []).map(([key, value]) => `  -o ${key}=${value}`),
    ]);
    return [
        "# Rendered by the mailserver Pulumi component.",
        "# service  type       private unpriv  chroot  wakeup  maxproc command",
        ...lines,
        "",
    ].join("\n");
}

/**
 * /etc/postfix/virtual: the RFC 2142 role addresses of each mail domain and of the host name, and
 * root@ at the host name (cron, unattended-upgrades), forwarded to the operator; then the
 * aliases, and the catch-alls last. In a domain with a catch-all, each mailbox maps to itself
 * (virtual aliases are looked up before mailboxes, so the catch-all would take them otherwise).
 * Virtual alias results are addresses only: unlike /etc/aliases, nothing here can name a command or a file.
 */
export function renderVirtualMap(
    input: { readonly domains: readonly string[]; readonly fqdn: string; readonly operatorEmail: string },
    mail: MailSettings = { mailboxes: [], aliases: [], apps: [] },
): string {
    const roles = [...input.domains, input.fqdn].flatMap((name) => ["postmaster", "abuse"].map((role) => `${role}@${name}`));
    const catchAlls = mail.aliases.filter((a) => a.address.startsWith("@"));
    const caught = new Set(catchAlls.map((a) => a.address));
    const lines = [
        ...[...roles, ...localOnlyRecipients(input.fqdn)].map((address) => `${address} ${input.operatorEmail}`),
        ...mail.mailboxes.filter((m) => caught.has(m.address.slice(m.address.lastIndexOf("@")))).map((m) => `${m.address} ${m.address}`),
        ...mail.aliases.filter((a) => !caught.has(a.address)).map((a) => `${a.address} ${a.targets.join(", ")}`),
        ...catchAlls.map((a) => `${a.address} ${a.targets.join(", ")}`),
    ];
    return `${lines.join("\n")}\n`;
}

/** /etc/postfix/vmailbox: the addresses that are mailboxes (recipient validation; LMTP delivers). */
export function renderMailboxMap(mail: MailSettings): string {
    return mail.mailboxes.map((m) => `${m.address} OK\n`).join("");
}

/** /etc/postfix/sender_logins: envelope sender → the logins that may use it. Never an @domain key (it would match every address). */
export function renderSenderLogins(mail: MailSettings): string {
    return senderLogins(mail)
        .map((entry) => `${entry.address} ${entry.logins.join(", ")}\n`)
        .join("");
}
