import type { SigningDomain } from "../domains";
import { DKIM_MILTER, dkimKeyPath, PATHS } from "./paths";

export interface OpendkimInput {
    /** The mail domains, the primary (the host name's) first. */
    readonly domains: readonly SigningDomain[];
    readonly fqdn: string;
}

function keyName({ domain, selector }: SigningDomain): string {
    return `${selector}._domainkey.${domain}`;
}

/** /etc/opendkim.conf */
export function renderOpendkimConf(input: OpendkimInput): string {
    const lines: Array<[string, string, string?]> = [
        ["Syslog", "yes"],
        ["SyslogSuccess", "yes"],
        ["UserID", "opendkim"],
        ["UMask", "007"],
        ["PidFile", "/run/opendkim/opendkim.pid"],
        ["Socket", `local:${DKIM_MILTER.socket}`, "a Unix socket in a setgid postfix-group directory: Postfix may connect, nobody else"],
        ["Mode", "s", "sign mail from InternalHosts only; rspamd verifies inbound mail (one Authentication-Results)"],
        ["Canonicalization", "relaxed/simple", "relaxed headers survive receivers that refold them"],
        ["SignatureAlgorithm", "rsa-sha256", "rsa-sha1 is refused by receivers (RFC 8301)"],
        ["MinimumKeyBits", "1024"],
        ["OversignHeaders", "From", "a second From: added in transit breaks the signature"],
        ["KeyTable", `file:${PATHS.opendkimDir}/key.table`],
        ["SigningTable", `refile:${PATHS.opendkimDir}/signing.table`],
        ["InternalHosts", `${PATHS.opendkimDir}/trusted.hosts`, "only these clients get their mail signed"],
        ["ExternalIgnoreList", `${PATHS.opendkimDir}/trusted.hosts`],
        ["TrustAnchorFile", "/usr/share/dns/root.key"],
    ];
    const body = lines.map(([k, v, why]) => (why ? `# ${why}\n` : "") + `${k.padEnd(20)}${v}`).join("\n");
    return `# Rendered by the mailserver Pulumi component (${input.domains.map(keyName).join(", ")}).\n${body}\n`;
}

/** KeyTable: one key per mail domain, `d=` that domain. */
export function renderKeyTable(input: OpendkimInput): string {
    return input.domains.map((d) => `${keyName(d)} ${d.domain}:${d.selector}:${dkimKeyPath(d.domain, d.selector)}\n`).join("");
}

/**
 * SigningTable (refile): mail From each domain is signed with that domain's key, and mail from
 * the host name (root@, cron) with the primary domain's; relaxed DMARC alignment accepts the host
 * name as the same organization.
 */
export function renderSigningTable(input: OpendkimInput): string {
    const [primary] = input.domains;
    return [...input.domains.map((d) => `*@${d.domain} ${keyName(d)}\n`), `*@${input.fqdn} ${keyName(primary)}\n`].join("");
}

/** InternalHosts: the host itself and the relay networks, as Postfix's mynetworks has them. */
export function renderTrustedHosts(relayNetworks: readonly string[] = []): string {
    return ["127.0.0.1", "::1", "localhost", ...relayNetworks].map((line) => `${line}\n`).join("");
}
