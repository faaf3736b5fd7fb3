import { spf as evaluateSpf } from "mailauth/lib/spf";
import { SPF_MAX_LOOKUPS } from "../../components/config";
import { heloSpf } from "../../components/records/spf";
import { allQualifier, parseSpf } from "../../components/records/spfTerms";
import type { CheckContext } from "../context";
import { describeFailure } from "../dns";
import { type Finding, fail, pass, warn } from "../finding";
import { spfRecordAt, walkSpf } from "../spfWalk";

export const SPF_MAX_VOIDS = 2;

/** How a receiver evaluates `ip` for `sender` (mailauth's SPF implementation). */
async function evaluate(ctx: CheckContext, sender: string, ip: string, helo: string): Promise<string> {
    const result = await evaluateSpf({ sender, ip, helo, mta: ctx.helo, resolver: ctx.dns.resolve } as Parameters<typeof evaluateSpf>[0]);
    return result.status.result;
}

/**
 * The domain's SPF record: one record, parses, ≤ 10 DNS-querying terms and ≤ 2 void lookups
 * counted through every include, ends -all/~all, and passes for every host address; and the
 * HELO name's own SPF.
 */
export async function checkSpf(ctx: CheckContext, hostAddresses: ReadonlyArray<{ host: string; address: string }>): Promise<Finding[]> {
    const { domain } = ctx;
    const found = await spfRecordAt(ctx.dns, domain);
    if ("multiple" in found) {
        return [
            fail(
                "spf.record",
                domain,
                `${found.multiple.length} SPF records: receivers return permerror`,
                "merge them into one v=spf1 record",
            ),
        ];
    }
    if ("none" in found) {
        return [
            fail(
                "spf.record",
                domain,
                `no SPF record: ${found.none.ok ? "" : describeFailure(found.none, ctx.timeoutMs)}`,
                `publish "${domain} TXT \\"v=spf1 ip4:<host IPv4> ip6:<host IPv6> -all\\""`,
            ),
        ];
    }
    const parsed = parseSpf(found.record);
    if (parsed.problems.length > 0) {
        return [
            fail(
                "spf.record",
                domain,
                `"${found.record}" does not parse: ${parsed.problems.join("; ")}`,
                "fix the record's syntax (RFC 7208 §12)",
            ),
        ];
    }
    const findings: Finding[] = [pass("spf.record", domain, found.record)];

    const walk = await walkSpf(ctx.dns, domain, parsed.terms);
    findings.push(
        walk.lookups <= SPF_MAX_LOOKUPS
            ? pass("spf.lookups", domain, `${walk.lookups} DNS-querying terms (limit ${SPF_MAX_LOOKUPS}), counted through includes`)
            : fail(
                  "spf.lookups",
                  domain,
                  `${walk.lookups} DNS-querying terms counted through includes: over the limit of ${SPF_MAX_LOOKUPS} (permerror)`,
                  "replace includes by ip4:/ip6: ranges or drop unused senders",
              ),
    );
    findings.push(
        walk.voids <= SPF_MAX_VOIDS
            ? pass("spf.voids", domain, `${walk.voids} void lookups (limit ${SPF_MAX_VOIDS})`)
            : fail(
                  "spf.voids",
                  domain,
                  `${walk.voids} lookups found nothing: over the limit of ${SPF_MAX_VOIDS} (permerror)`,
                  "remove includes and a/mx terms that point at names without records",
              ),
    );
    for (const problem of walk.problems) findings.push(fail("spf.includes", domain, problem, "fix or remove that term"));
    for (const advice of walk.advice) findings.push(warn("spf.terms", domain, advice, "replace it by ip4:/ip6: terms"));

    const all = allQualifier(parsed.terms);
    const hasRedirect = parsed.terms.some((t) => t.kind === "modifier" && t.name === "redirect");
    if (all === "-" || all === "~") {
        findings.push(pass("spf.all", domain, `ends ${all}all`));
    } else if (all) {
        findings.push(
            fail(
                "spf.all",
                domain,
                `ends ${all}all: any host may send as ${domain}`,
                'end the record with "-all" (or "~all" while migrating)',
            ),
        );
    } else if (!hasRedirect) {
        findings.push(warn("spf.all", domain, "no all mechanism: unlisted senders get neutral", 'end the record with "-all"'));
    }

    for (const { host, address } of hostAddresses) {
        const result = await evaluate(ctx, `postmaster@${domain}`, address, host);
        findings.push(
            result === "pass"
                ? pass("spf.covers", address, `SPF of ${domain} passes for ${address}`)
                : fail(
                      "spf.covers",
                      address,
                      `SPF of ${domain} gives ${result} for the mail host's address ${address}`,
                      `add ${address.includes(":") ? "ip6" : "ip4"}:${address} to the record`,
                  ),
        );
    }

    for (const host of new Set(hostAddresses.map((h) => h.host))) {
        // The record the component publishes for its host name: exactly the host's addresses, no lookup.
        const advice = heloSpf(
            hostAddresses.find((h) => h.host === host && !h.address.includes(":"))?.address ?? "",
            hostAddresses.find((h) => h.host === host && h.address.includes(":"))?.address,
        );
        const heloRecord = await spfRecordAt(ctx.dns, host);
        if (!("record" in heloRecord)) {
            findings.push(warn("spf.helo", host, "no SPF record for the HELO name", `publish "${host} TXT \\"${advice}\\""`));
            continue;
        }
        for (const { address } of hostAddresses.filter((h) => h.host === host)) {
            const result = await evaluate(ctx, `postmaster@${host}`, address, host);
            findings.push(
                result === "pass"
                    ? pass("spf.helo", `${host} ${address}`, `SPF of the HELO name passes for ${address}`)
                    : fail("spf.helo", `${host} ${address}`, `SPF of the HELO name gives ${result} for ${address}`, `make it "${advice}"`),
            );
        }
    }
    return findings;
}
