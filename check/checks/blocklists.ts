import { reverseName } from "../../components/records/reverse";
import type { CheckContext } from "../context";
import { DnsFailure } from "../dns";
import { type Finding, fail, pass, warn } from "../finding";

/** DNS blocklist lookups (RFC 5782), only for the zones the user asked for. */
export async function checkBlocklists(ctx: CheckContext, addresses: readonly string[]): Promise<Finding[]> {
    const findings: Finding[] = [];
    for (const zone of ctx.blocklists) {
        for (const address of addresses) {
            const query = `${reverseName(address).replace(/\.(in-addr|ip6)\.arpa$/, "")}.${zone}`;
            const answer = await ctx.dns.a(query);
            if (answer.ok) {
                findings.push(
                    fail(
                        "blocklist",
                        `${address} ${zone}`,
                        `listed (${answer.records.join(", ")})`,
                        `follow ${zone}'s delisting procedure`,
                    ),
                );
            } else if (answer.failure === DnsFailure.NxDomain || answer.failure === DnsFailure.NoData) {
                findings.push(pass("blocklist", `${address} ${zone}`, "not listed"));
            } else {
                findings.push(
                    warn(
                        "blocklist",
                        `${address} ${zone}`,
                        `lookup failed: ${answer.message}`,
                        "retry; some lists refuse public resolvers",
                    ),
                );
            }
        }
    }
    return findings;
}
