import type { CheckContext } from "../context";
import { DnsFailure, describeFailure } from "../dns";
import { type Finding, fail, pass } from "../finding";

/** The MX hosts' addresses: A required, AAAA optional (but then its PTR is required too). */
export async function checkAddresses(
    ctx: CheckContext,
    hosts: readonly string[],
): Promise<{ findings: Finding[]; addresses: Array<{ host: string; address: string }> }> {
    const findings: Finding[] = [];
    const addresses: Array<{ host: string; address: string }> = [];
    for (const host of hosts) {
        const [v4, v6] = await Promise.all([ctx.dns.a(host), ctx.dns.aaaa(host)]);
        if (v4.ok) {
            findings.push(pass("host.a", host, v4.records.join(", ")));
            addresses.push(...v4.records.map((address) => ({ host, address })));
        } else {
            findings.push(
                fail("host.a", host, `no A record: ${describeFailure(v4, ctx.timeoutMs)}`, `publish "${host} A <the host's IPv4 address>"`),
            );
        }
        if (v6.ok) {
            findings.push(pass("host.aaaa", host, v6.records.join(", ")));
            addresses.push(...v6.records.map((address) => ({ host, address })));
        } else if (v6.failure === DnsFailure.NoData || v6.failure === DnsFailure.NxDomain) {
            findings.push(pass("host.aaaa", host, "no AAAA: the host receives over IPv4 only"));
        } else {
            findings.push(
                fail("host.aaaa", host, `AAAA lookup failed: ${describeFailure(v6, ctx.timeoutMs)}`, "check the zone's name servers"),
            );
        }
    }
    return { findings, addresses };
}
