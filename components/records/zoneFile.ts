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
export function renderZoneFile(records: readonly DnsRecord[], ptrs: readonly PtrRecord[]): string {
    const sections: string[][] = [];
    for (const [origin, members] of groupBy(records, (r) => r.zone)) {
        sections.push([
            `; zone ${fq(origin)}`,
            `$ORIGIN ${fq(origin)}`,
            ...members.map((r) => line(r.name, r.ttl, r.type, r.type === "MX" ? `${r.priority} ${fq(r.value)}` : r.value, r.purpose)),
        ]);
    }
    for (const [origin, members] of groupBy(ptrs, (p) => reverseZone(p.address))) {
        sections.push([
            `; zone ${fq(origin)}`,
            `$ORIGIN ${fq(origin)}`,
            ...members.map((p) => line(reverseName(p.address), p.ttl, "PTR", fq(p.name), `served by ${p.servedBy}`)),
        ]);
    }
    return `${sections.map((lines) => lines.join("\n")).join("\n\n")}\n`;
}

/** The items by key, keys in order of first appearance. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
    const groups = new Map<string, T[]>();
    for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
    return groups;
}
