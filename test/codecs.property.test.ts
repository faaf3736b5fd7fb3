/**
 * Property-based tests of the pure codecs (fast-check): TXT chunking round trips, and SPF and
 * DMARC records render to text that their parsers read back as what was rendered.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { getDomain } from "tldts";
import { DmarcAlignment, DmarcPolicy, SpfAll } from "../components/args";
import { dmarcRecord } from "../components/records/dmarc";
import { dmarcReportUris, parseDmarcTags } from "../components/records/dmarcTags";
import { domainSpf } from "../components/records/spf";
import { allQualifier, countLookupTerms, parseSpf } from "../components/records/spfTerms";
import { chunkTxt, TXT_STRING_MAX, unchunkTxt } from "../components/records/txt";
import { dmarcReportUri } from "../components/validation";

/** Printable ASCII without `"` and `\` (what chunkTxt accepts). */
const txtText = fc.string({
    unit: fc.constantFrom(...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).filter((c) => c !== '"' && c !== "\\")),
    maxLength: 2000,
});
/**
 * A DNS label. Not `xn--…`: the component requires such a label to be valid punycode (an IDN's
 * ASCII form), which a random one is not ("xn--0" failed a CI run: seed 838823132).
 */
const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/).filter((l) => !l.startsWith("xn--"));
/**
 * A registrable domain: `<label>.<tld>`, leaving out the names that are themselves public suffixes
 * (`br.com`, `co.com`…), which the component rightly refuses (they made this test fail 2 runs in 30).
 */
const domain = fc
    .tuple(label, fc.constantFrom("com", "net", "org", "example"))
    .map(([a, b]) => `${a}.${b}`)
    .filter((d) => getDomain(d, { allowPrivateDomains: true }) === d);
const ipv4 = fc.tuple(fc.integer({ min: 1, max: 223 }), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join("."));
const ipv6 = fc
    .array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 })
    .map((g) => g.map((n) => n.toString(16)).join(":"));

describe("TXT chunking", () => {
    it("round trips: the strings, joined without a separator, are the value", () => {
        fc.assert(fc.property(txtText, (value) => unchunkTxt(chunkTxt(value)) === value));
    });
    it("makes strings of at most 255 characters, all full but the last", () => {
        fc.assert(
            fc.property(txtText, (value) => {
                const strings = chunkTxt(value).match(/"[^"]*"/g) ?? [];
                const lengths = strings.map((s) => s.length - 2);
                return lengths.every((n) => n <= TXT_STRING_MAX) && lengths.slice(0, -1).every((n) => n === TXT_STRING_MAX);
            }),
        );
    });
});

describe("SPF: render → parse", () => {
    it("reads back every sender, the includes as the only lookups, and the all qualifier", () => {
        fc.assert(
            fc.property(
                ipv4,
                fc.option(ipv6, { nil: undefined }),
                fc.uniqueArray(ipv4, { maxLength: 5 }),
                fc.uniqueArray(ipv6, { maxLength: 3 }),
                fc.uniqueArray(domain, { maxLength: 10 }),
                fc.constantFrom(SpfAll.Fail, SpfAll.SoftFail),
                (host, host6, extra, extra6, includes, all) => {
                    const text = domainSpf({
                        hostIpv4: host,
                        hostIpv6: host6,
                        ip4: extra.map((a) => `${a}/32`),
                        ip6: extra6.map((a) => `${a}/128`),
                        includes,
                        all,
                    });
                    const parsed = parseSpf(text);
                    assert.deepEqual(parsed.problems, []);
                    assert.deepEqual(
                        parsed.terms.filter((t) => t.name === "ip4").map((t) => t.argument),
                        [host, ...extra],
                    );
                    assert.deepEqual(
                        parsed.terms.filter((t) => t.name === "ip6").map((t) => t.argument),
                        [...(host6 ? [host6] : []), ...extra6],
                    );
                    assert.deepEqual(
                        parsed.terms.filter((t) => t.name === "include").map((t) => t.argument),
                        includes,
                    );
                    assert.equal(countLookupTerms(parsed.terms), includes.length);
                    assert.equal(allQualifier(parsed.terms), all[0]);
                    return true;
                },
            ),
        );
    });
});

describe("DMARC: render → parse", () => {
    it("reads back the policy, the alignment and the report URIs, with no problem", () => {
        const local = fc.stringMatching(/^[a-z0-9][a-z0-9._+-]{0,8}[a-z0-9](![0-9]{1,2}[kmg])?$/).filter((l) => !l.includes(".."));
        const address = fc.tuple(local, domain).map(([l, d]) => `${l}@${d}`);
        fc.assert(
            fc.property(
                fc.constantFrom(...Object.values(DmarcPolicy)),
                fc.constantFrom(...Object.values(DmarcAlignment)),
                fc.uniqueArray(address, { maxLength: 3 }),
                (policy, alignment, addresses) => {
                    const rua = addresses.map((a) => dmarcReportUri(a)).map((r) => ("uri" in r ? r.uri : assert.fail(r.problem)));
                    const parsed = parseDmarcTags(dmarcRecord({ policy, alignment, rua }));
                    assert.deepEqual(parsed.problems, []);
                    assert.equal(parsed.tags.get("p"), policy);
                    const expectedAlignment = alignment === DmarcAlignment.Strict ? "s" : "r";
                    assert.equal(parsed.tags.get("adkim"), expectedAlignment);
                    assert.equal(parsed.tags.get("aspf"), expectedAlignment);
                    assert.deepEqual(dmarcReportUris(parsed.tags.get("rua") ?? ""), rua);
                    // A "!" of the address is encoded: a receiver never reads it as a size limit.
                    for (const uri of rua) assert.doesNotMatch(uri.split("@")[0], /!/);
                    return true;
                },
            ),
        );
    });
});
