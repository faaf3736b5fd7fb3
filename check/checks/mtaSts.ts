import { request } from "node:https";
import type { LookupFunction } from "node:net";
import type { CheckContext } from "../context";
import { type Finding, fail, pass } from "../finding";
import { mxMatches, parseMtaStsPolicy } from "../mtaStsPolicy";
import { parseTags } from "../tagList";

/** Resolves through the check's DNS (so --resolver applies to the policy host too). */
function lookupVia(ctx: CheckContext): LookupFunction {
    return (hostname, options, callback) => {
        void Promise.all([ctx.dns.a(hostname), ctx.dns.aaaa(hostname)]).then(([v4, v6]) => {
            const all = [
                ...(v4.ok ? v4.records.map((address) => ({ address, family: 4 })) : []),
                ...(v6.ok ? v6.records.map((address) => ({ address, family: 6 })) : []),
            ];
            if (all.length === 0) {
                callback(Object.assign(new Error(`${hostname}: no address`), { code: "ENOTFOUND" }), "", 0);
            } else if ((options as { all?: boolean }).all) {
                (callback as unknown as (e: null, a: typeof all) => void)(null, all);
            } else {
                callback(null, all[0].address, all[0].family);
            }
        });
    };
}

function fetchPolicy(ctx: CheckContext): Promise<{ status: number; body: string }> {
    const host = `mta-sts.${ctx.domain}`;
    return new Promise((resolve, reject) => {
        const req = request(
            {
                host,
                port: ctx.httpsPort,
                path: "/.well-known/mta-sts.txt",
                servername: host,
                lookup: lookupVia(ctx),
                timeout: ctx.timeoutMs,
                ...(ctx.ca ? { ca: ctx.ca } : {}),
            },
            (res) => {
                let body = "";
                res.setEncoding("utf8");
                res.on("data", (chunk: string) => {
                    body += chunk;
                    if (body.length > 64 * 1024) req.destroy(new Error("policy larger than 64 KiB"));
                });
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
            },
        );
        req.on("timeout", () =>
            req.destroy(
                Object.assign(new Error(`fetching https://${host}/.well-known/mta-sts.txt timed out after ${ctx.timeoutMs} ms`), {
                    code: "ETIMEDOUT",
                }),
            ),
        );
        req.on("error", reject);
        req.end();
    });
}

/**
 * The one optional record at `name` starting with `version` (`v=STSv1`, `v=TLSRPTv1`): the record,
 * or the finding that ends the check (not published: pass; several: fail).
 */
async function optionalRecord(
    ctx: CheckContext,
    check: string,
    name: string,
    version: string,
): Promise<{ record: string } | { done: Finding }> {
    const answer = await ctx.dns.txt(name);
    const records = answer.ok ? answer.records.map((s) => s.join("")).filter((r) => r.startsWith(`v=${version}`)) : [];
    if (records.length === 0) return { done: pass(check, name, "not published (optional)") };
    if (records.length > 1) return { done: fail(check, name, `${records.length} v=${version} records`, "keep exactly one") };
    return { record: records[0] };
}

/** MTA-STS (RFC 8461) when published: the record's syntax, the policy over HTTPS, mx coverage. */
export async function checkMtaSts(ctx: CheckContext, mxHosts: readonly string[]): Promise<Finding[]> {
    const name = `_mta-sts.${ctx.domain}`;
    const found = await optionalRecord(ctx, "mta-sts", name, "STSv1");
    if ("done" in found) return [found.done];
    const records = [found.record];
    const tags = parseTags(records[0]);
    const id = "tags" in tags ? tags.tags.get("id") : undefined;
    if (!("tags" in tags) || tags.order[0] !== "v" || !id || !/^[A-Za-z0-9]{1,32}$/.test(id)) {
        return [fail("mta-sts", name, `"${records[0]}" is not "v=STSv1; id=<1–32 letters or digits>"`, "fix the record (RFC 8461 §3.1)")];
    }
    const findings: Finding[] = [pass("mta-sts", name, records[0])];
    const url = `https://mta-sts.${ctx.domain}/.well-known/mta-sts.txt`;
    let fetched: Awaited<ReturnType<typeof fetchPolicy>>;
    try {
        fetched = await fetchPolicy(ctx);
    } catch (error) {
        return [
            ...findings,
            fail(
                "mta-sts.policy",
                url,
                `cannot fetch the policy: ${(error as Error).message}`,
                "serve the policy over HTTPS with a valid certificate for mta-sts.<domain>",
            ),
        ];
    }
    if (fetched.status !== 200)
        return [...findings, fail("mta-sts.policy", url, `HTTP ${fetched.status}`, "serve the policy file at that URL")];
    const policy = parseMtaStsPolicy(fetched.body);
    if (policy.problems.length > 0)
        return [...findings, fail("mta-sts.policy", url, policy.problems.join("; "), "fix the policy file (RFC 8461 §3.2)")];
    const uncovered = mxHosts.filter((host) => !policy.mx.some((pattern) => mxMatches(pattern, host)));
    findings.push(
        uncovered.length === 0 || policy.mode === "none"
            ? pass("mta-sts.policy", url, `mode ${policy.mode}, max_age ${policy.maxAge}, mx ${policy.mx.join(" ")}`)
            : fail(
                  "mta-sts.policy",
                  url,
                  `MX ${uncovered.join(", ")} not listed in the policy's mx lines`,
                  "add an mx: line for every MX host and change the record's id",
              ),
    );
    return findings;
}

/** TLS-RPT (RFC 8460) when published: `v=TLSRPTv1; rua=mailto:…|https:…`. */
export async function checkTlsRpt(ctx: CheckContext): Promise<Finding[]> {
    const name = `_smtp._tls.${ctx.domain}`;
    const found = await optionalRecord(ctx, "tls-rpt", name, "TLSRPTv1");
    if ("done" in found) return [found.done];
    const records = [found.record];
    const tags = parseTags(records[0]);
    const rua = "tags" in tags ? tags.tags.get("rua") : undefined;
    const valid = rua?.split(",").every((u) => /^(mailto:[^@\s]+@[^@\s]+|https:\/\/\S+)$/.test(u.trim())) ?? false;
    return [
        valid
            ? pass("tls-rpt", name, records[0])
            : fail(
                  "tls-rpt",
                  name,
                  `"${records[0]}" needs rua= with mailto: or https: URIs`,
                  'publish "v=TLSRPTv1; rua=mailto:tls-reports@<domain>"',
              ),
    ];
}
