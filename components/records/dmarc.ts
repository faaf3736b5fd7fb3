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
