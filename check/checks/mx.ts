import type { CheckContext } from "../context";
import { describeFailure } from "../dns";
import { type Finding, fail, pass } from "../finding";

/** The domain's MX: which hosts receive its mail. */
export async function checkMx(ctx: CheckContext): Promise<{ findings: Finding[]; hosts: string[] }> {
    const answer = await ctx.dns.mx(ctx.domain);
    if (!answer.ok) {
        return {
            findings: [
                fail(
                    "mx",
                    ctx.domain,
                    `no MX: ${describeFailure(answer, ctx.timeoutMs)}`,
                    `publish "${ctx.domain} MX 10 mail.${ctx.domain}"`,
                ),
            ],
            hosts: [],
        };
    }
    const sorted = [...answer.records].sort((a, b) => a.priority - b.priority);
    if (sorted.length === 1 && (sorted[0].exchange === "" || sorted[0].exchange === ".")) {
        return {
            findings: [
                fail("mx", ctx.domain, "null MX (RFC 7505): the domain accepts no mail", 'publish the mail host as MX instead of "."'),
            ],
            hosts: [],
        };
    }
    const hosts = [...new Set(sorted.map((r) => r.exchange.toLowerCase().replace(/\.$/, "")))];
    return { findings: [pass("mx", ctx.domain, sorted.map((r) => `${r.priority} ${r.exchange}`).join(", "))], hosts };
}
