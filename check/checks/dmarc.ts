import { getDomain } from "tldts";
import { reportAuthorizationName } from "../../components/records/dmarc";
import { dmarcReportAddresses, isDmarcRecord, parseDmarcTags } from "../../components/records/dmarcTags";
import type { CheckContext } from "../context";
import { DnsFailure, describeFailure } from "../dns";
import { type Finding, fail, pass, warn } from "../finding";

async function dmarcRecords(ctx: CheckContext, domain: string) {
    const answer = await ctx.dns.txt(`_dmarc.${domain}`);
    if (!answer.ok) return { answer, records: [] as string[] };
    return { answer, records: answer.records.map((s) => s.join("")).filter(isDmarcRecord) };
}

/**
 * The DMARC record: exactly one (at the domain or, for a subdomain, its organizational domain),
 * valid tags, and authorization records for report addresses in other organizations.
 */
export async function checkDmarc(ctx: CheckContext): Promise<Finding[]> {
    const organizational = getDomain(ctx.domain) ?? ctx.domain;
    let where = ctx.domain;
    let { answer, records } = await dmarcRecords(ctx, ctx.domain);
    if (records.length === 0 && organizational !== ctx.domain && (answer.ok || answer.failure !== DnsFailure.Timeout)) {
        where = organizational;
        ({ answer, records } = await dmarcRecords(ctx, organizational));
    }
    const name = `_dmarc.${where}`;
    if (records.length === 0) {
        const why = answer.ok ? "no v=DMARC1 record" : describeFailure(answer, ctx.timeoutMs);
        return [fail("dmarc.record", name, `no DMARC record: ${why}`, `publish "_dmarc.${ctx.domain} TXT \\"v=DMARC1; p=quarantine\\""`)];
    }
    if (records.length > 1)
        return [fail("dmarc.record", name, `${records.length} DMARC records: receivers ignore them all`, "keep exactly one")];
    const dmarc = parseDmarcTags(records[0]);
    const findings: Finding[] = [];
    if (dmarc.problems.length > 0) {
        findings.push(
            fail(
                "dmarc.record",
                name,
                `${records[0]}: ${dmarc.problems.join("; ")}`,
                "use v=DMARC1; p=none|quarantine|reject and mailto: report addresses (RFC 7489 §6.3)",
            ),
        );
    } else {
        findings.push(pass("dmarc.record", name, records[0]));
    }
    for (const ignored of dmarc.ignored) findings.push(warn("dmarc.tags", name, ignored, "remove or correct the tag"));
    for (const address of dmarcReportAddresses(dmarc.tags.get("rua"))) {
        const target = address.slice(address.lastIndexOf("@") + 1).toLowerCase();
        if ((getDomain(target) ?? target) === organizational) continue;
        const authorization = reportAuthorizationName(where, target);
        const auth = await ctx.dns.txt(authorization);
        const authorized = auth.ok && auth.records.some((s) => isDmarcRecord(s.join("")));
        findings.push(
            authorized
                ? pass("dmarc.rua", address, `${authorization} authorizes reports`)
                : warn(
                      "dmarc.rua",
                      address,
                      `${target} has not authorized reports for ${where} (no ${authorization})`,
                      `ask ${target} to publish "${authorization} TXT \\"v=DMARC1\\""`,
                  ),
        );
    }
    return findings;
}
