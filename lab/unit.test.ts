// Unit tests of the lab's pure parts (no root, no network): node --test dist/lab/
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { dkimSign } from "mailauth";
import { parsePlanZones, buildZones, ptrName } from "./zones.js";
import { grade, headerFields, expand6, tamper, LabResolver } from "./grade.js";
import { message } from "./messages.js";

const ZONE = `; zone example.com.
$ORIGIN example.com.
mail.example.com.  3600 IN A     192.0.2.10  ; host; with "quotes" in a comment
example.com.       3600 IN TXT   "v=spf1 ip4:192.0.2.10 -all ; not a comment"
k._domainkey.example.com. 3600 IN TXT ( "v=DKIM1; k=rsa; "
   "p=AAAA" )

; zone 2.0.192.in-addr.arpa.
$ORIGIN 2.0.192.in-addr.arpa.
10.2.0.192.in-addr.arpa. 3600 IN PTR mail.example.com.
`;

test("parsePlanZones reads sections, comments, quoted semicolons and parentheses", () => {
    const z = parsePlanZones(ZONE);
    assert.deepEqual(
        z.map((x) => x.origin),
        ["example.com.", "2.0.192.in-addr.arpa."],
    );
    assert.deepEqual(
        z[0].records.map((r) => r.type),
        ["A", "TXT", "TXT"],
    );
    assert.match(z[0].records[1].text, /not a comment"$/);
    assert.equal(z[1].records[0].owner, "10.2.0.192.in-addr.arpa.");
});

test("buildZones adds SOA/NS, the lab zones and PTRs, and the variants drop records", () => {
    const plan = parsePlanZones(ZONE);
    const all = buildZones(plan, { serial: 1 });
    const byOrigin = Object.fromEntries(all.map((z) => [z.origin, z.text]));
    assert.match(byOrigin["example.com."], /IN SOA ns\.lab\.test\. /);
    assert.match(byOrigin["example.com."], /IN NS ns\.lab\.test\./);
    assert.match(byOrigin["example.net."], /example\.net\. 300 IN MX 10 mx\.example\.net\./);
    assert.match(byOrigin["2.0.192.in-addr.arpa."], /^20\.2\.0\.192\.in-addr\.arpa\. 300 IN PTR mx\.example\.net\./m);
    assert.ok(all.some((z) => z.origin === "0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."));
    const noPtr = buildZones(plan, { withoutPlanPtr: true, serial: 1 }).find((z) => z.origin === "2.0.192.in-addr.arpa.")!;
    assert.doesNotMatch(noPtr.text, /^10\.2\.0\.192/m);
    const late = buildZones(plan, { withoutAddressesOf: ["mail.example.com"], serial: 1 }).find((z) => z.origin === "example.com.")!;
    assert.doesNotMatch(late.text, /^mail\.example\.com\.\s+\d+ IN A /m);
    const v4only = buildZones(plan, { mxFamily: 4, serial: 1 }).find((z) => z.origin === "example.net.")!;
    assert.doesNotMatch(v4only.text, /mx\.example\.net\. 300 IN AAAA/);
});

test("ptrName and expand6", () => {
    assert.equal(ptrName("192.0.2.10"), "10.2.0.192.in-addr.arpa.");
    assert.equal(ptrName("2001:db8::10"), "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.");
    assert.equal(expand6("2001:db8::10"), "2001:db8:0:0:0:0:0:10");
    assert.equal(expand6("2001:0db8::0010"), expand6("2001:db8:0::10"));
});

test("headerFields unfolds and tamper only touches the body", () => {
    const raw = Buffer.from("A: 1\r\nB: 2\r\n 3\r\n\r\nHello\r\n");
    assert.deepEqual(headerFields(raw), [
        { key: "a", value: "1" },
        { key: "b", value: "2 3" },
    ]);
    assert.equal(tamper(raw).toString(), "A: 1\r\nB: 2\r\n 3\r\n\r\nhello\r\n");
});

test("grade passes a signed message and fails it tampered or from a foreign IP", async () => {
    const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pub = keys.publicKey.export({ type: "spki", format: "der" }).toString("base64");
    const dns: Record<string, any> = {
        "TXT example.com": [["v=spf1 ip4:192.0.2.10 -all"]],
        "TXT s._domainkey.example.com": [[`v=DKIM1; k=rsa; p=${pub}`]],
        "TXT _dmarc.example.com": [["v=DMARC1; p=reject"]],
        "PTR 10.2.0.192.in-addr.arpa": ["mail.example.com"],
        "A mail.example.com": ["192.0.2.10"],
    };
    const resolve = (async (name: string, type: string) => {
        const v = dns[`${type} ${name.replace(/\.$/, "")}`];
        if (!v) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
        return v;
    }) as LabResolver;
    const body = message({ caseId: "unit", from: "lab@example.com", to: "ops@example.net", subject: "unit", withIds: true, crlf: true });
    const sig = await dkimSign(body, {
        signatureData: [
            { signingDomain: "example.com", selector: "s", privateKey: keys.privateKey.export({ type: "pkcs8", format: "pem" }) },
        ],
    } as any);
    const raw = Buffer.from(sig.signatures + body);
    const session = { ip: "192.0.2.10", helo: "mail.example.com", mailFrom: "lab@example.com", rcptTo: ["ops@example.net"], tls: true };
    const opts = { domain: "example.com", minKeyBits: 2048, requireDkim: true, requireDmarc: true };
    const ok = await grade(raw, session, resolve, opts);
    assert.deepEqual(
        ok.checks.filter((c) => !c.pass),
        [],
    );
    const bad = await grade(tamper(raw), session, resolve, opts);
    assert.equal(bad.checks.find((c) => c.name === "dkim")!.pass, false);
    const foreign = await grade(raw, { ...session, ip: "192.0.2.30" }, resolve, opts);
    assert.equal(foreign.checks.find((c) => c.name === "spf")!.pass, false);
    assert.equal(foreign.checks.find((c) => c.name === "fcrdns")!.pass, false);
});
