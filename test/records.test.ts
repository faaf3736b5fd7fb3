import assert from "node:assert/strict";
import { createPublicKey } from "node:crypto";
import { describe, it } from "node:test";
import { DmarcAlignment, DmarcPolicy, HostProvider, SpfAll } from "../components/args";
import { resolveConfig } from "../components/config";
import { dkimPublicKeyValue, dkimRecord } from "../components/records/dkim";
import { dmarcRecord } from "../components/records/dmarc";
import { mailRecordSpecs, Phase, resolveRecords } from "../components/records/recordSet";
import { reverseName, reverseZone } from "../components/records/reverse";
import { domainSpf, heloSpf } from "../components/records/spf";
import { chunkTxt, TXT_STRING_MAX, unchunkTxt } from "../components/records/txt";
import { renderZoneFile } from "../components/records/zoneFile";
import { throwawayRsaKey } from "../plan/throwawayKey";

describe("DKIM key record", () => {
    // RSA bits → p= length (base64 of the SPKI DER) and number of ≤255-char strings.
    const sizes: Array<[number, number, number]> = [
        [1024, 216, 1],
        [2048, 392, 2],
        [4096, 736, 3],
    ];
    for (const [bits, pLength, strings] of sizes) {
        it(`${bits}-bit key: p= is the SubjectPublicKeyInfo, split into ${strings} strings of ≤ ${TXT_STRING_MAX}`, () => {
            const key = throwawayRsaKey(bits);
            const p = dkimPublicKeyValue(key.publicKeyPem);
            const spki = createPublicKey(key.privateKeyPem).export({ type: "spki", format: "der" });
            assert.equal(p, spki.toString("base64"));
            assert.equal(p.length, pLength);
            const record = dkimRecord(key.publicKeyPem);
            assert.equal(record, `v=DKIM1; k=rsa; h=sha256; p=${p}`);
            const chunked = chunkTxt(record);
            const parts = chunked.match(/"[^"]*"/g) ?? [];
            assert.equal(parts.length, strings);
            for (const part of parts.slice(0, -1)) assert.equal(part.length - 2, TXT_STRING_MAX);
            assert.ok((parts.at(-1) as string).length - 2 <= TXT_STRING_MAX);
            assert.equal(unchunkTxt(chunked), record);
        });
    }

    it("rejects a PEM that is not a public key", () => {
        assert.throws(() => dkimPublicKeyValue("-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----"), {
            message: "DKIM public key must be a PEM PUBLIC KEY (SubjectPublicKeyInfo) block",
        });
    });
});

describe("TXT chunking", () => {
    it("keeps short values in one quoted string", () => assert.equal(chunkTxt("v=spf1 -all"), '"v=spf1 -all"'));
    it("splits at exactly 255", () => {
        const value = "x".repeat(256);
        assert.equal(chunkTxt(value), `"${"x".repeat(255)}" "x"`);
    });
    it("refuses quotes and non-ASCII", () => {
        assert.throws(() => chunkTxt('a"b'), { message: 'TXT value must not contain " or \\' });
        assert.throws(() => chunkTxt("é"), { message: "TXT value must be printable ASCII" });
    });
});

describe("SPF and DMARC text", () => {
    it("lists the host, extra senders and includes, then the qualifier", () => {
        assert.equal(
            domainSpf({
                hostIpv4: "192.0.2.10",
                hostIpv6: "2001:db8::10",
                ip4: ["198.51.100.0/24", "203.0.113.5/32"],
                ip6: ["2001:db8:1::/48", "2001:db8:2::1/128"],
                includes: ["_spf.google.com"],
                all: SpfAll.SoftFail,
            }),
            "v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 ip4:198.51.100.0/24 ip4:203.0.113.5 ip6:2001:db8:1::/48 ip6:2001:db8:2::1 include:_spf.google.com ~all",
        );
    });
    it("omits IPv6 when off", () => {
        assert.equal(
            domainSpf({ hostIpv4: "192.0.2.10", hostIpv6: undefined, ip4: [], ip6: [], includes: [], all: SpfAll.Fail }),
            "v=spf1 ip4:192.0.2.10 -all",
        );
        assert.equal(heloSpf("192.0.2.10", undefined), "v=spf1 ip4:192.0.2.10 -all");
    });
    it("HELO SPF allows only the host", () =>
        assert.equal(heloSpf("192.0.2.10", "2001:db8::10"), "v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 -all"));
    it("DMARC: v first, p, alignment, rua", () => {
        assert.equal(
            dmarcRecord({
                policy: DmarcPolicy.Reject,
                alignment: DmarcAlignment.Strict,
                rua: ["mailto:a@example.com", "mailto:b@example.org"],
            }),
            "v=DMARC1; p=reject; adkim=s; aspf=s; rua=mailto:a@example.com,mailto:b@example.org",
        );
        assert.equal(
            dmarcRecord({ policy: DmarcPolicy.None, alignment: DmarcAlignment.Relaxed, rua: [] }),
            "v=DMARC1; p=none; adkim=r; aspf=r",
        );
    });
});

describe("record set", () => {
    const key = throwawayRsaKey(2048);
    const previous = throwawayRsaKey(2048);
    const live = {
        ipv4: "192.0.2.10",
        ipv6: "2001:db8::10",
        dkimPublicKeyPems: {
            "mailserver._domainkey.example.com": key.publicKeyPem,
            "s2025._domainkey.example.com": previous.publicKeyPem,
        },
    };
    const config = resolveConfig({
        domain: "example.com",
        operatorEmail: "ops@example.net",
        provider: HostProvider.DigitalOcean,
        region: "fra1",
        dnsTtl: 300,
        spfIncludes: ["_spf.example.org"],
    });

    it("has exactly the records the domain needs, with full names, in two phases around the host's configuration", () => {
        const records = resolveRecords(
            mailRecordSpecs(config.host, config.dns, [{ name: "example.com", zone: "example.com", selectors: ["mailserver", "s2025"] }]),
            live,
        );
        assert.deepEqual(
            records.map((r) => [r.key, r.phase, r.type, r.name, r.ttl, r.priority, r.value]),
            [
                ["a-mail.example.com", "before-apply", "A", "mail.example.com", 300, undefined, "192.0.2.10"],
                ["aaaa-mail.example.com", "before-apply", "AAAA", "mail.example.com", 300, undefined, "2001:db8::10"],
                [
                    "spf-mail.example.com",
                    "after-apply",
                    "TXT",
                    "mail.example.com",
                    300,
                    undefined,
                    '"v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 -all"',
                ],
                [
                    "dkim-mailserver._domainkey.example.com",
                    "before-apply",
                    "TXT",
                    "mailserver._domainkey.example.com",
                    300,
                    undefined,
                    chunkTxt(dkimRecord(key.publicKeyPem)),
                ],
                [
                    "dkim-s2025._domainkey.example.com",
                    "before-apply",
                    "TXT",
                    "s2025._domainkey.example.com",
                    300,
                    undefined,
                    chunkTxt(dkimRecord(previous.publicKeyPem)),
                ],
                ["mx-example.com", "after-apply", "MX", "example.com", 300, 10, "mail.example.com"],
                [
                    "spf-example.com",
                    "after-apply",
                    "TXT",
                    "example.com",
                    300,
                    undefined,
                    '"v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 include:_spf.example.org -all"',
                ],
                [
                    "dmarc-example.com",
                    "after-apply",
                    "TXT",
                    "_dmarc.example.com",
                    300,
                    undefined,
                    '"v=DMARC1; p=quarantine; adkim=r; aspf=r"',
                ],
            ],
        );
        assert.match(records[4].purpose, /^earlier DKIM public key/);
        assert.deepEqual(new Set(records.map((r) => r.zone)), new Set(["example.com"]));
    });

    it("has no AAAA and no ip6 when IPv6 is off", () => {
        const off = resolveConfig({
            domain: "example.com",
            operatorEmail: "ops@example.net",
            provider: HostProvider.DigitalOcean,
            region: "fra1",
            ipv6: false,
        });
        const records = resolveRecords(
            mailRecordSpecs(off.host, off.dns, [{ name: "example.com", zone: "example.com", selectors: ["mailserver"] }]),
            { ...live, ipv6: undefined },
        );
        assert.deepEqual(
            records.map((r) => r.key),
            [
                "a-mail.example.com",
                "spf-mail.example.com",
                "dkim-mailserver._domainkey.example.com",
                "mx-example.com",
                "spf-example.com",
                "dmarc-example.com",
            ],
        );
        assert.equal(records.find((r) => r.key === "spf-example.com")?.value, '"v=spf1 ip4:192.0.2.10 -all"');
    });
});

describe("record set of several domains", () => {
    const keys = { com: throwawayRsaKey(2048), org: throwawayRsaKey(2048) };
    const config = resolveConfig({
        domain: "example.com",
        extraDomains: ["example.org selector=s2026"],
        operatorEmail: "ops@example.net",
        provider: HostProvider.DigitalOcean,
        region: "fra1",
        ipv6: false,
    });
    const records = resolveRecords(
        mailRecordSpecs(config.host, config.dns, [
            { name: "example.com", zone: "example.com", selectors: ["mailserver"] },
            { name: "example.org", zone: "example.org", selectors: ["s2026"] },
        ]),
        {
            ipv4: "192.0.2.10",
            ipv6: undefined,
            dkimPublicKeyPems: {
                "mailserver._domainkey.example.com": keys.com.publicKeyPem,
                "s2026._domainkey.example.org": keys.org.publicKeyPem,
            },
        },
    );
    it("puts the host's records in the primary zone and each domain's key, MX, SPF and DMARC in its own", () => {
        assert.deepEqual(
            records.map((r) => [r.zone, r.key, r.type, r.name, r.type === "TXT" && r.name.includes("_domainkey") ? "key" : r.value]),
            [
                ["example.com", "a-mail.example.com", "A", "mail.example.com", "192.0.2.10"],
                ["example.com", "spf-mail.example.com", "TXT", "mail.example.com", '"v=spf1 ip4:192.0.2.10 -all"'],
                ["example.com", "dkim-mailserver._domainkey.example.com", "TXT", "mailserver._domainkey.example.com", "key"],
                ["example.com", "mx-example.com", "MX", "example.com", "mail.example.com"],
                ["example.com", "spf-example.com", "TXT", "example.com", '"v=spf1 ip4:192.0.2.10 -all"'],
                ["example.com", "dmarc-example.com", "TXT", "_dmarc.example.com", '"v=DMARC1; p=quarantine; adkim=r; aspf=r"'],
                ["example.org", "dkim-s2026._domainkey.example.org", "TXT", "s2026._domainkey.example.org", "key"],
                ["example.org", "mx-example.org", "MX", "example.org", "mail.example.com"],
                ["example.org", "spf-example.org", "TXT", "example.org", '"v=spf1 ip4:192.0.2.10 -all"'],
                ["example.org", "dmarc-example.org", "TXT", "_dmarc.example.org", '"v=DMARC1; p=quarantine; adkim=r; aspf=r"'],
            ],
        );
    });
    it("publishes each domain's own key", () => {
        const value = (name: string) => records.find((r) => r.name === name)?.value;
        assert.equal(value("mailserver._domainkey.example.com"), chunkTxt(dkimRecord(keys.com.publicKeyPem)));
        assert.equal(value("s2026._domainkey.example.org"), chunkTxt(dkimRecord(keys.org.publicKeyPem)));
    });
    it("renders one zone-file section per zone", () => {
        const sections = renderZoneFile(records, [{ address: "192.0.2.10", name: "mail.example.com", ttl: 3600, servedBy: "X" }])
            .split("\n")
            .filter((l) => l.startsWith("; zone"));
        assert.deepEqual(sections, ["; zone example.com.", "; zone example.org.", "; zone 2.0.192.in-addr.arpa."]);
    });
});

describe("reverse DNS names and the zone file", () => {
    it("computes in-addr.arpa and ip6.arpa names and zones", () => {
        assert.equal(reverseName("192.0.2.10"), "10.2.0.192.in-addr.arpa");
        assert.equal(reverseZone("192.0.2.10"), "2.0.192.in-addr.arpa");
        assert.equal(reverseName("2001:db8::10"), "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
        assert.equal(reverseZone("2001:db8::10"), "0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
    });

    it("renders forward and reverse zones with fully-qualified owners", () => {
        const text = renderZoneFile(
            [
                {
                    key: "a",
                    zone: "example.com",
                    phase: Phase.BeforeApply,
                    name: "mail.example.com",
                    type: "A",
                    ttl: 3600,
                    purpose: "host",
                    value: "192.0.2.10",
                },
                {
                    key: "mx",
                    zone: "example.com",
                    phase: Phase.AfterApply,
                    name: "example.com",
                    type: "MX",
                    ttl: 3600,
                    priority: 10,
                    purpose: "mx",
                    value: "mail.example.com",
                },
                {
                    key: "spf",
                    zone: "example.com",
                    phase: Phase.AfterApply,
                    name: "example.com",
                    type: "TXT",
                    ttl: 3600,
                    purpose: "spf",
                    value: '"v=spf1 -all"',
                },
            ],
            [
                { address: "192.0.2.10", name: "mail.example.com", ttl: 3600, servedBy: "X" },
                { address: "2001:db8::10", name: "mail.example.com", ttl: 3600, servedBy: "X" },
            ],
        );
        const lines = text.split("\n").map((l) => l.replace(/\s+/g, " "));
        assert.deepEqual(lines, [
            "; zone example.com.",
            "$ORIGIN example.com.",
            "mail.example.com. 3600 IN A 192.0.2.10 ; host",
            "example.com. 3600 IN MX 10 mail.example.com. ; mx",
            'example.com. 3600 IN TXT "v=spf1 -all" ; spf',
            "",
            "; zone 2.0.192.in-addr.arpa.",
            "$ORIGIN 2.0.192.in-addr.arpa.",
            "10.2.0.192.in-addr.arpa. 3600 IN PTR mail.example.com. ; served by X",
            "",
            "; zone 0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.",
            "$ORIGIN 0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.",
            "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. 3600 IN PTR mail.example.com. ; served by X",
            "",
        ]);
    });
});
