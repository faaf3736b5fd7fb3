import { TXT_STRING_MAX } from "../../components/records/txt";
import { dnsRecords, overlongStrings } from "../dnsRecords";
import type { MailPolicy } from "../mailPolicy";
import { isKnown, label, type Violation } from "../stackResource";

/** DKIM key records (`<selector>._domainkey.<domain>` TXT) have no string longer than 255 characters. */
export const dkimStringsPolicy: MailPolicy = {
    name: "mailserver-dkim-txt-strings",
    description: "DKIM TXT records (*._domainkey.*) have every string at most 255 characters (RFC 1035 §3.3).",
    check: (resources) => {
        const violations: Violation[] = [];
        for (const record of dnsRecords(resources)) {
            if (record.type !== "TXT" || !isKnown(record.name) || !isKnown(record.content)) continue;
            if (!/(?:^|\.)_domainkey\./.test(record.name)) continue;
            const lengths = overlongStrings(record.content).map((s) => Buffer.byteLength(s, "utf8"));
            if (lengths.length === 0) continue;
            violations.push({
                urn: record.resource.urn,
                message: `DKIM record ${record.name} ${label(record.resource)} has a string of ${lengths.join(", ")} characters; a TXT string holds at most ${TXT_STRING_MAX}: give the value as quoted strings of at most ${TXT_STRING_MAX} characters, "<first ${TXT_STRING_MAX}>" "<rest>".`,
            });
        }
        return violations;
    },
};
