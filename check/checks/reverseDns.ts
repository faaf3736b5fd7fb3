import { isIP } from "node:net";
import type { CheckContext } from "../context";
import { describeFailure } from "../dns";
import { type Finding, fail, pass } from "../finding";

/**
 * Forward-confirmed reverse DNS for one address: PTR → name, and the name's A/AAAA contains the
 * address again (Gmail 550-5.7.25, for IPv4 and IPv6 alike). Returns the confirmed name.
 */
export async function checkReverseDns(ctx: CheckContext, address: string): Promise<{ finding: Finding; ptrName: string | undefined }> {
    const family = isIP(address) === 6 ? "IPv6" : "IPv4";
    const check = family === "IPv6" ? "ptr.ipv6" : "ptr.ipv4";
    const fix = "set the PTR to the host's FQDN (DigitalOcean: name the droplet with it; Linode: rDNS)";
    const ptr = await ctx.dns.ptr(address);
    if (!ptr.ok) return { finding: fail(check, address, `no PTR: ${describeFailure(ptr, ctx.timeoutMs)}`, fix), ptrName: undefined };
    const names = ptr.records.map((n) => n.toLowerCase().replace(/\.$/, ""));
    for (const name of names) {
        const forward = family === "IPv6" ? await ctx.dns.aaaa(name) : await ctx.dns.a(name);
        if (forward.ok && forward.records.includes(address)) {
            return { finding: pass(check, address, `PTR ${name}, which resolves back to ${address}`), ptrName: name };
        }
    }
    return {
        finding: fail(
            check,
            address,
            `PTR ${names.join(", ")} is not forward-confirmed: its ${family === "IPv6" ? "AAAA" : "A"} does not contain ${address}`,
            `make ${names[0]}'s ${family === "IPv6" ? "AAAA" : "A"} record point to ${address}, or the PTR to the name that does`,
        ),
        ptrName: undefined,
    };
}
