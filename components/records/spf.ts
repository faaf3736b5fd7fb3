import type { SpfAll } from "../args";

export interface SpfInput {
    /** The host's own addresses: listed as ip4:/ip6: (no DNS lookup at the receiver). */
    readonly hostIpv4: string;
    readonly hostIpv6: string | undefined;
    readonly ip4: readonly string[];
    readonly ip6: readonly string[];
    readonly includes: readonly string[];
    readonly all: SpfAll;
}

/** A /32 or /128 is written as the bare address, as SPF checkers print it. */
function bare(range: string): string {
    return range.replace(/\/(?:32|128)$/, "");
}

/**
 * SPF for the mail domain (RFC 7208): every sending address, then includes, then `all`.
 * Only `include:` terms cost DNS lookups (at most 10, checked in resolveConfig).
 */
export function domainSpf(input: SpfInput): string {
    const terms = [
        `ip4:${input.hostIpv4}`,
        ...(input.hostIpv6 ? [`ip6:${input.hostIpv6}`] : []),
        ...input.ip4.map((r) => `ip4:${bare(r)}`),
        ...input.ip6.map((r) => `ip6:${bare(r)}`),
        ...input.includes.map((d) => `include:${d}`),
    ];
    return ["v=spf1", ...terms, input.all].join(" ");
}

/**
 * SPF for the host name itself, checked against the HELO identity and against bounces
 * (`MAIL FROM:<>`) and mail from `root@<fqdn>`: only this host may use the name.
 */
export function heloSpf(hostIpv4: string, hostIpv6: string | undefined): string {
    return ["v=spf1", `ip4:${hostIpv4}`, ...(hostIpv6 ? [`ip6:${hostIpv6}`] : []), "-all"].join(" ");
}
