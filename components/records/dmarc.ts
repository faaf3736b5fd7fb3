import { DmarcAlignment, type DmarcPolicy } from "../args";

export interface DmarcInput {
    readonly policy: DmarcPolicy;
    readonly alignment: DmarcAlignment;
    /** `mailto:` URIs */
    readonly rua: readonly string[];
}

/** DMARC record (RFC 7489 §6.3): `v=DMARC1` first, then `p=`. */
export function dmarcRecord(input: DmarcInput): string {
    const a = input.alignment === DmarcAlignment.Strict ? "s" : "r";
    const tags = [`v=DMARC1`, `p=${input.policy}`, `adkim=${a}`, `aspf=${a}`];
    if (input.rua.length > 0) tags.push(`rua=${input.rua.join(",")}`);
    return tags.join("; ");
}

/**
 * RFC 7489 §7.1: the name at which `reportDomain` authorizes DMARC reports about `domain`
 * (`example.com._report._dmarc.example.net`). The one place this name is built: the operator
 * steps ask for it, `check` looks it up.
 */
export function reportAuthorizationName(domain: string, reportDomain: string): string {
    return `${domain}._report._dmarc.${reportDomain}`;
}
