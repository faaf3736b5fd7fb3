import type { CheckContext } from "../context";
import { parseDkimKey } from "../dkimKey";
import { describeFailure } from "../dns";
import { type Finding, fail, pass, warn } from "../finding";

/** RFC 1035 §3.3: at most 255 octets per TXT string. */
const TXT_STRING_MAX = 255;

/** The DKIM key record of the selector: present, parses, RSA ≥ 1024 (warn < 2048), strings ≤ 255. */
export async function checkDkim(ctx: CheckContext): Promise<Finding[]> {
    if (!ctx.selector) {
        return [
            warn(
                "dkim",
                ctx.domain,
                "no DKIM selector known, so the key was not checked",
                "pass --selector <selector> (the stack's dkimSelector output)",
            ),
        ];
    }
    const name = `${ctx.selector}._domainkey.${ctx.domain}`;
    const answer = await ctx.dns.txt(name);
    if (!answer.ok) {
        return [
            fail(
                "dkim.record",
                name,
                `no DKIM key record: ${describeFailure(answer, ctx.timeoutMs)}`,
                "publish the selector's key record (the stack's dkimRecord output)",
            ),
        ];
    }
    if (answer.records.length > 1) {
        return [
            fail(
                "dkim.record",
                name,
                `${answer.records.length} TXT records: a key split into several records does not verify`,
                "publish one TXT record made of several quoted strings of ≤ 255 characters",
            ),
        ];
    }
    const strings = answer.records[0];
    const long = strings.filter((s) => s.length > TXT_STRING_MAX);
    if (long.length > 0) {
        return [
            fail(
                "dkim.record",
                name,
                `a string of ${long[0].length} characters (limit ${TXT_STRING_MAX})`,
                "split the value into quoted strings of ≤ 255 characters",
            ),
        ];
    }
    const key = parseDkimKey(strings.join(""));
    if (!key.ok) {
        return [
            fail(
                "dkim.record",
                name,
                key.error,
                key.revoked
                    ? "publish the current key, or sign with a selector whose key is published"
                    : "republish the key record exactly as generated",
            ),
        ];
    }
    const shape = `${strings.length} string${strings.length > 1 ? "s" : ""} of ≤ ${TXT_STRING_MAX}`;
    if (key.algorithm === "ed25519") return [pass("dkim.record", name, `Ed25519 key, ${shape}`)];
    if (key.bits < 1024)
        return [fail("dkim.record", name, `RSA ${key.bits}-bit key: receivers require ≥ 1024 (RFC 8301)`, "generate a 2048-bit key")];
    if (key.bits < 2048)
        return [warn("dkim.record", name, `RSA ${key.bits}-bit key: 2048 is recommended`, "rotate to a 2048-bit key under a new selector")];
    return [pass("dkim.record", name, `RSA ${key.bits}-bit key, ${shape}`)];
}
