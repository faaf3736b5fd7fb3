import type { DnsRecord, PtrRecord } from "../components";
import type { Plan } from "./program";

function shorten(value: string, width: number): string {
    return value.length <= width ? value : `${value.slice(0, width - 1)}…`;
}

/** A short readable summary of a plan: host, addresses, records, PTR, remaining steps. */
export function summary(plan: Plan, outDir: string): string {
    const o = plan.outputs;
    const records = o.dnsRecords as DnsRecord[];
    const ptrs = o.ptrRecords as PtrRecord[];
    const counts = new Map<string, number>();
    for (const r of plan.resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    const lines = [
        `Stack ${plan.stack}: planned offline under mocks; nothing was created.`,
        `  Host       ${o.fqdn}  ${o.ipv4}${o.ipv6 ? `  ${o.ipv6}` : ""}  (documentation addresses)`,
        `  Resources  ${plan.resources.length}: ${[...counts].map(([t, n]) => `${n} ${t.split(":").pop()}`).join(", ")}`,
        "  DNS records",
        ...records.map(
            (r) => `    ${r.type.padEnd(5)} ${r.name.padEnd(36)} ${r.type === "MX" ? `${r.priority} ` : ""}${shorten(r.value, 60)}`,
        ),
        "  PTR",
        ...ptrs.map((p) => `    ${p.address.padEnd(18)} → ${p.name}  (${p.servedBy})`),
        "  Still to do by hand",
        ...(o.operatorSteps as string[]).map((s, i) => `    ${i + 1}. ${s}`),
        ...(plan.encryptedKeys.length > 0 ? [`  Encrypted config not read offline: ${plan.encryptedKeys.join(", ")}`] : []),
        `  Files      ${outDir}/{resources.json,zone.txt,cloud-init.yaml,apply/,commit/}`,
    ];
    return `${lines.join("\n")}\n`;
}
