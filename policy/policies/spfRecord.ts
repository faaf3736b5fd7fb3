import { SPF_MAX_LOOKUPS } from "../../components/config";
import { allQualifier, countLookupTerms, isSpfRecord, parseSpf } from "../../components/records/spfTerms";
import { type DnsRecordView, dnsRecords, txtValue } from "../dnsRecords";
import type { MailPolicy } from "../mailPolicy";
import { isKnown, label, type StackResource, type Violation } from "../stackResource";

/** SPF records of the stack, with their name and concatenated value (records with an unknown value are left out). */
function spfRecords(resources: readonly StackResource[]): { record: DnsRecordView; name: string; value: string }[] {
    const found: { record: DnsRecordView; name: string; value: string }[] = [];
    for (const record of dnsRecords(resources)) {
        if (record.type !== "TXT" || !isKnown(record.name) || !isKnown(record.content)) continue;
        const value = txtValue(record.content);
        if (isSpfRecord(value)) found.push({ record, name: record.name, value });
    }
    return found;
}

/** Each name has at most one SPF record; it parses, has ≤ 10 DNS-querying terms and does not end `+all`/`?all`. */
export const spfRecordPolicy: MailPolicy = {
    name: "mailserver-spf-record",
    description:
        "Each DNS name has at most one SPF (v=spf1) TXT record, with at most 10 DNS-querying terms and no +all or ?all (RFC 7208).",
    check: (resources) => {
        const violations: Violation[] = [];
        const records = spfRecords(resources);
        const byName = new Map<string, DnsRecordView[]>();
        for (const { record, name } of records) byName.set(name, [...(byName.get(name) ?? []), record]);
        for (const [name, same] of byName) {
            if (same.length < 2) continue;
            const all = same.map((r) => label(r.resource)).join(", ");
            for (const extra of same.slice(1)) {
                violations.push({
                    urn: extra.resource.urn,
                    message: `${name} has ${same.length} SPF (v=spf1) TXT records: ${all}. Two SPF records are a permanent error at every receiver (RFC 7208 §3.2): merge them into one record and delete the others.`,
                });
            }
        }
        for (const { record, name, value } of records) {
            const where = `SPF record of ${name} ${label(record.resource)}`;
            const { terms, problems } = parseSpf(value);
            for (const problem of problems) {
                violations.push({ urn: record.resource.urn, message: `${where} does not parse: ${problem}. Fix the term (RFC 7208 §5).` });
            }
            const lookups = countLookupTerms(terms);
            if (lookups > SPF_MAX_LOOKUPS) {
                violations.push({
                    urn: record.resource.urn,
                    message: `${where} has ${lookups} DNS-querying terms (include, a, mx, ptr, exists, redirect=); receivers allow at most ${SPF_MAX_LOOKUPS}, counting those inside each include, and fail SPF beyond that: replace some with ip4:/ip6: terms or remove senders.`,
                });
            }
            const qualifier = allQualifier(terms);
            if (qualifier === "+" || qualifier === "?") {
                const written = terms.find((t) => t.kind === "mechanism" && t.name === "all")?.text ?? "all";
                const meaning =
                    qualifier === "+" ? "lets any host on the internet send as the domain" : "makes SPF say nothing about other hosts";
                violations.push({
                    urn: record.resource.urn,
                    message: `${where} ends with "${written}", which ${meaning}: end it with "-all" (or "~all").`,
                });
            }
        }
        return violations;
    },
};
