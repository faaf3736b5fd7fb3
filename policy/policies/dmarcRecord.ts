import { getDomain } from "tldts";
import { isDmarcRecord } from "../../components/records/dmarcTags";
import { type DnsRecordView, dnsRecords, txtValue } from "../dnsRecords";
import type { MailPolicy } from "../mailPolicy";
import { isKnown, label, type Violation } from "../stackResource";

/** Every domain with an MX record has a DMARC record at `_dmarc.<domain>` (or at its organizational domain). */
export const dmarcRecordPolicy: MailPolicy = {
    name: "mailserver-dmarc-record",
    description: "Every domain with an MX record has a DMARC record (_dmarc.<domain> TXT starting v=DMARC1).",
    check: (resources) => {
        const records = dnsRecords(resources);
        const txtAt = (name: string): DnsRecordView[] => records.filter((r) => r.type === "TXT" && r.name === name);
        // true: a DMARC record; undefined: a TXT whose value is unknown until the update; false: none.
        const hasDmarc = (domain: string): boolean | undefined => {
            const txt = txtAt(`_dmarc.${domain}`);
            if (txt.some((r) => isKnown(r.content) && isDmarcRecord(txtValue(r.content)))) return true;
            return txt.some((r) => !isKnown(r.content)) ? undefined : false;
        };
        const violations: Violation[] = [];
        const seen = new Set<string>();
        for (const mx of records) {
            if (mx.type !== "MX" || !isKnown(mx.name) || seen.has(mx.name)) continue;
            seen.add(mx.name);
            const domain = mx.name;
            // Receivers fall back to the organizational domain's record (RFC 7489 §6.6.3).
            const organizational = getDomain(domain) ?? domain;
            const own = hasDmarc(domain);
            const inherited = organizational === domain ? false : hasDmarc(organizational);
            if (own !== false || inherited !== false) continue;
            violations.push({
                urn: mx.resource.urn,
                message: `${domain} has an MX record ${label(mx.resource)} but no DMARC record: add a TXT record named _dmarc.${domain} with "v=DMARC1; p=quarantine" (p=none at least; Gmail, Yahoo and Outlook require one).`,
            });
        }
        return violations;
    },
};
