import type { DnsRecord } from "./recordSet";
import { reverseName, reverseZone } from "./reverse";

export interface PtrRecord {
    readonly address: string;
    readonly name: string;
    readonly ttl: number;
    /** Who serves it, e.g. "DigitalOcean, from the droplet name". */
    readonly servedBy: string;
}

function fq(name: string): string {
    return name.endsWith(".") ? name : `${name}.`;
}

function line(owner: string, ttl: number, type: string, data: string, comment: string): string {
    return `${fq(owner).padEnd(40)} ${String(ttl).padStart(5)} IN ${type.padEnd(5)} ${data}  ; ${comment}`;
}

/**
 * BIND zone-file text (RFC 1035 §5) for the forward records and the PTR records, one section per
 * zone (`; zone <origin>` then `$ORIGIN`), owner names fully qualified. SOA and NS belong to the
 * DNS provider and are not part of it.
 */
export function renderZoneFile(forwardZone: string, records: readonly DnsRecord[], ptrs: readonly PtrRecord[]): string {
    const out: string[] = [`; zone ${fq(forwardZone)}`, `$ORIGIN ${fq(forwardZone)}`];
    for (const r of records) {
        const data = r.type === "MX" ? `${r.priority} ${fq(r.value)}` : r.value;
        out.push(line(r.name, r.ttl, r.type, data, r.purpose));
    }
    const zones = new Map<string, PtrRecord[]>();
    for (const p of ptrs) zones.set(reverseZone(p.address), [...(zones.get(reverseZone(p.address)) ?? []), p]);
    for (const [origin, members] of zones) {
        out.push("", `; zone ${fq(origin)}`, `$ORIGIN ${fq(origin)}`);
        for (const p of members) out.push(line(reverseName(p.address), p.ttl, "PTR", fq(p.name), `served by ${p.servedBy}`));
    }
    return `${out.join("\n")}\n`;
}
