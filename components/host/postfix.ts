import { tcpPort } from "../ports";
import { DKIM_MILTER, PATHS } from "./paths";
import type { SrsSetup } from "./postsrsd";

export interface PostfixInput {
    readonly domain: string;
    readonly fqdn: string;
    readonly ipv6: boolean;
    readonly srs: SrsSetup;
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
    const mynetworks = input.ipv6 ? "127.0.0.0/8 [::1]/128" : "127.0.0.0/8";
    const localOnly = localOnlyRecipients(input.fqdn)
        .map((address) => `{ ${address} = REJECT 5.7.1 not a public address }`)
        .join(" ");
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
        {
            why:
                "Delivery: nothing is delivered on this host, so no system account (nobody@, daemon@, postfix@, the admin) receives mail. " +
                "The mail domain and the host name are virtual alias domains: postmaster@ and abuse@ (RFC 2142), and root@ for the host's own " +
                "mail, are forwarded to the operator; every other address is unknown.",
            params: [
                ["mydestination", ""],
                ["local_recipient_maps", ""],
                ["local_transport", "error:5.1.1 local delivery is disabled"],
                ["alias_maps", ""],
                ["alias_database", ""],
                ["virtual_alias_domains", "$mydomain, $myhostname"],
                ["virtual_alias_maps", `hash:${PATHS.virtualMap}`],
                ["recipient_delimiter", "+"],
            ],
        },
        {
            why:
                "Not an open relay: only this host (mynetworks) may send to other domains. Clients must greet with a valid host name and " +
                "use fully-qualified, resolvable addresses; root@ at the host name is for the host's own mail only.",
            params: [
                ["mynetworks", mynetworks],
                ["smtpd_helo_required", "yes"],
                ["smtpd_helo_restrictions", "permit_mynetworks, reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname"],
                ["smtpd_sender_restrictions", "permit_mynetworks, reject_non_fqdn_sender, reject_unknown_sender_domain"],
                ["smtpd_relay_restrictions", "permit_mynetworks, reject_unauth_destination"],
                [
                    "smtpd_recipient_restrictions",
                    `permit_mynetworks, reject_non_fqdn_recipient, reject_unknown_recipient_domain, reject_unauth_destination, check_recipient_access inline:{ ${localOnly} }`,
                ],
                ["disable_vrfy_command", "yes"],
            ],
        },
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
                "DKIM: OpenDKIM signs mail from mynetworks and local submission, once (no re-injection path). " +
                "If the milter is down, mail is deferred, never sent unsigned (Gmail 550-5.7.26).",
            params: [
                ["milter_protocol", "6"],
                ["smtpd_milters", `unix:${DKIM_MILTER.socket}`],
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
        {
            why: "Outbound TLS whenever the receiver offers it (Gmail 421-4.7.29 for unencrypted mail), never with broken ciphers.",
            params: [
                ["smtp_tls_security_level", "may"],
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

/** /etc/postfix/main.cf */
export function renderMainCf(input: PostfixInput): string {
    const blocks = mainCfSections(input).map((s) => `# ${s.why}\n${s.params.map(([k, v]) => `${k} = ${v}`).join("\n")}`);
    return `# Rendered by the mailserver Pulumi component; edits are lost on re-creation.\n\n${blocks.join("\n\n")}\n`;
}

/** One master.cf service line: service type private unpriv chroot wakeup maxproc command. */
type Service = readonly [service: string, type: string, priv: string, unpriv: string, wakeup: string, maxproc: string, command: string];

/**
 * /etc/postfix/master.cf: the stock daemons plus exactly one SMTP listener, the smtp port of the
 * port table. chroot is off everywhere so the milter, SRS and DNS need no copies in a jail.
 */
export function renderMasterCf(): string {
    const services: Service[] = [
        // The single inbound listener: the port table's smtp entry (opened in the firewall too).
        [String(tcpPort("smtp")), "inet", "n", "-", "-", "-", "smtpd"],
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
    const lines = services.map(([service, type, priv, unpriv, wakeup, maxproc, command]) =>
        [service.padEnd(10), type.padEnd(10), priv.padEnd(7), unpriv.padEnd(7), "n".padEnd(7), wakeup.padEnd(7), maxproc.padEnd(7), command]
            .join(" ")
            .trimEnd(),
    );
    return [
        "# Rendered by the mailserver Pulumi component.",
        "# service  type       private unpriv  chroot  wakeup  maxproc command",
        ...lines,
        "",
    ].join("\n");
}

/**
 * /etc/postfix/virtual: the RFC 2142 role addresses of the domain and of the host name, and
 * root@ at the host name (cron, unattended-upgrades), forwarded to the operator. Virtual alias
 * results are addresses only: unlike /etc/aliases, nothing here can name a command or a file.
 */
export function renderVirtualMap(input: { readonly domain: string; readonly fqdn: string; readonly operatorEmail: string }): string {
    const roles = [input.domain, input.fqdn].flatMap((name) => ["postmaster", "abuse"].map((role) => `${role}@${name}`));
    return `${[...roles, ...localOnlyRecipients(input.fqdn)].map((address) => `${address} ${input.operatorEmail}`).join("\n")}\n`;
}
