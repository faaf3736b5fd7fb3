/** Unit tests of the lab's pure parts (no root, no network). */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { checkDmarcPolicy, checkOperator, ptrsAt, stagedIdentity, zonesBetweenStages } from "./change";
import { setParameter } from "./controls";
import { endpoints } from "./endpoints";
import { authenticationResults } from "./filterChecks";
import { expand6, grade, headerFields, type LabResolver, tamper } from "./grade";
import type { Lab } from "./lab";
import { cleartextAnswer } from "./mailboxChecks";
import { dkimSignature, message } from "./messages";
import { aliasesOf, type Plan, type PtrRecord, providerPtrs, readPlan } from "./plan";
import { Report } from "./report";
import { failedValidations } from "./services";
import { deferredByPostscreen } from "./smtp-client";
import { systemdSeconds } from "./sys";
import { buildZones, parsePlanZones, ptrName } from "./zones";

const ZONE = `; zone example.com.
$ORIGIN example.com.
mail.example.com.  3600 IN A     192.0.2.10  ; host; with "quotes" in a comment
example.com.       3600 IN TXT   "v=spf1 ip4:192.0.2.10 -all ; not a comment"
k._domainkey.example.com. 3600 IN TXT ( "v=DKIM1; k=rsa; "
   "p=AAAA" )
example.com.       3600 IN MX    10 mail.example.com.

; zone 2.0.192.in-addr.arpa.
$ORIGIN 2.0.192.in-addr.arpa.
10.2.0.192.in-addr.arpa. 3600 IN PTR mail.example.com.
`;
const ptrs = [{ address: "192.0.2.10", name: "mail.example.com" }];

describe("the lab's zones", () => {
    it("reads the plan's sections, comments, quoted semicolons and parentheses", () => {
        const zones = parsePlanZones(ZONE);
        assert.deepEqual(
            zones.map((z) => z.origin),
            ["example.com.", "2.0.192.in-addr.arpa."],
        );
        assert.deepEqual(
            zones[0].records.map((r) => r.type),
            ["A", "TXT", "TXT", "MX"],
        );
        assert.match(zones[0].records[1].text, /not a comment"$/);
    });

    it("serve the provider's PTRs, never the plan's own reverse section, with SOA/NS and the lab's zones", () => {
        const zones = Object.fromEntries(
            buildZones(parsePlanZones(ZONE), { ptrs: [{ address: "192.0.2.10", name: "elsewhere.example.com" }], serial: 1 }).map((z) => [
                z.origin,
                z.text,
            ]),
        );
        assert.match(zones["example.com."], /IN SOA ns\.lab\.test\. /);
        assert.match(zones["example.com."], /IN NS ns\.lab\.test\./);
        assert.match(zones["example.net."], /example\.net\. 300 IN MX 10 mx\.example\.net\./);
        assert.match(zones["2.0.192.in-addr.arpa."], /^10\.2\.0\.192\.in-addr\.arpa\. 300 IN PTR elsewhere\.example\.com\.$/m);
        assert.doesNotMatch(zones["2.0.192.in-addr.arpa."], /PTR mail\.example\.com/);
        assert.match(zones["2.0.192.in-addr.arpa."], /^20\.2\.0\.192\.in-addr\.arpa\. 300 IN PTR mx\.example\.net\. ; lab$/m);
    });

    it("drop, hide and replace records for the lab's variants", () => {
        const plan = parsePlanZones(ZONE);
        const zone = (options: Parameters<typeof buildZones>[1]) =>
            buildZones(plan, { serial: 1, ...options }).find((z) => z.origin === "example.com.")?.text ?? "";
        assert.doesNotMatch(zone({ ptrs, without: new Set(["example.com MX", "example.com TXT"]) }), /IN (MX|TXT)\s+(10|"v=spf1)/);
        assert.match(zone({ ptrs, without: new Set(["example.com MX"]) }), /^mail\.example\.com\.\s+3600 IN A /m);
        assert.doesNotMatch(zone({ ptrs, withoutAddressesOf: ["mail.example.com"] }), /^mail\.example\.com\.\s+3600 IN A /m);
        assert.match(zone({ ptrs, replaceTxt: { "example.com": "v=spf1 -all" } }), /^example\.com\. 300 IN TXT "v=spf1 -all" ; lab$/m);
        assert.doesNotMatch(zone({ ptrs, replaceTxt: { "example.com": "v=spf1 -all" } }), /ip4:192\.0\.2\.10/);
        const withoutPtr =
            buildZones(plan, { ptrs, withoutServerPtr: true, serial: 1 }).find((z) => z.origin === "2.0.192.in-addr.arpa.")?.text ?? "";
        assert.doesNotMatch(withoutPtr, /^10\.2\.0\.192/m);
        const late = buildZones(plan, { ptrs, without: new Set(["10.2.0.192.in-addr.arpa PTR"]), serial: 1 });
        assert.doesNotMatch(late.find((z) => z.origin === "2.0.192.in-addr.arpa.")?.text ?? "", /^10\.2\.0\.192/m);
        const v4 = buildZones(plan, { ptrs, mxFamily: 4, serial: 1 }).find((z) => z.origin === "example.net.")?.text ?? "";
        assert.doesNotMatch(v4, /mx\.example\.net\. 300 IN AAAA/);
    });

    it("names reverse owners and compares IPv6 addresses", () => {
        assert.equal(ptrName("192.0.2.10"), "10.2.0.192.in-addr.arpa.");
        assert.equal(expand6("2001:0db8::0010"), expand6("2001:db8:0::10"));
    });
});

describe("the PTRs a provider serves, from what the plan asks of it", () => {
    it("DigitalOcean: the droplet's name for both addresses; without IPv6 only the IPv4 one", () => {
        const droplet = {
            type: "digitalocean:index/droplet:Droplet",
            name: "mail-droplet",
            inputs: { name: "mail.example.com", ipv6: true },
        };
        assert.deepEqual(providerPtrs([droplet], { ipv4: "192.0.2.10", ipv6: "2001:db8::10" }), [
            { address: "192.0.2.10", name: "mail.example.com", from: "mail-droplet.name" },
            { address: "2001:db8::10", name: "mail.example.com", from: "mail-droplet.name" },
        ]);
        assert.equal(
            providerPtrs([{ ...droplet, inputs: { ...droplet.inputs, ipv6: false } }], { ipv4: "192.0.2.10", ipv6: undefined }).length,
            1,
        );
    });
    it("Linode: exactly the Rdns resources", () => {
        const rdns = {
            type: "linode:index/rdns:Rdns",
            name: "mail-rdns-ipv4",
            inputs: { address: "192.0.2.10", rdns: "mail.example.com" },
        };
        assert.deepEqual(providerPtrs([rdns], { ipv4: "192.0.2.10", ipv6: "2001:db8::10" }), [
            { address: "192.0.2.10", name: "mail.example.com", from: "mail-rdns-ipv4.rdns" },
        ]);
    });
});

describe("a change's DNS steps, in the plan's order", () => {
    const v6 = "2001:db8::10";
    const v6Ptr = "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa PTR";
    const planOf = (zone: string, planPtrs: PtrRecord[], afterApply: string[]) =>
        ({ zones: parsePlanZones(zone), ptrs: planPtrs, afterApply: new Set(afterApply) }) as unknown as Plan;
    const v4Ptr = { address: "192.0.2.10", name: "mail.example.com", from: "mail-rdns-ipv4.rdns" };
    const ipv6Ptr = { address: v6, name: "mail.example.com", from: "mail-rdns-ipv6.rdns" };
    it("Linode, IPv6 on: the new PTR only between the stages; removed records stay until the end", () => {
        const before = planOf(ZONE, [v4Ptr], ["10.2.0.192.in-addr.arpa PTR"]);
        const after = planOf(
            ZONE.replace("mail.example.com.  3600 IN A     192.0.2.10", `mail.example.com.  3600 IN AAAA ${v6}`),
            [v4Ptr, ipv6Ptr],
            ["10.2.0.192.in-addr.arpa PTR", v6Ptr],
        );
        assert.deepEqual(ptrsAt("before-apply", before, after), [v4Ptr]);
        assert.deepEqual(ptrsAt("between", before, after), [v4Ptr, ipv6Ptr]);
        const between = zonesBetweenStages(before, after).flatMap((z) => z.records.map((r) => `${r.owner} ${r.type}`));
        assert.ok(between.includes("mail.example.com. AAAA"), between.join(", "));
        assert.ok(between.includes("mail.example.com. A"), "the retired A record is still served");
    });
    it("the host holds what a change adds until commit, and gives up what it removes at prepare", () => {
        const mail = { name: "mail.example.com", ipv6: true };
        assert.deepEqual(stagedIdentity(mail, mail), { atPrepare: "mail.example.com all", atCommit: "mail.example.com all" });
        assert.deepEqual(stagedIdentity({ ...mail, ipv6: false }, mail), {
            atPrepare: "mail.example.com ipv4",
            atCommit: "mail.example.com all",
        });
        assert.deepEqual(stagedIdentity(mail, { ...mail, ipv6: false }), {
            atPrepare: "mail.example.com ipv4",
            atCommit: "mail.example.com ipv4",
        });
        assert.deepEqual(stagedIdentity(mail, { ...mail, name: "smtp.example.com" }), {
            atPrepare: "mail.example.com all",
            atCommit: "smtp.example.com all",
        });
    });
    it("DigitalOcean: the droplet's PTRs change with the droplet, before the prepare stage", () => {
        const droplet = { address: "192.0.2.10", name: "smtp.example.com", from: "mail-droplet.name" };
        const before = planOf(ZONE, [{ ...droplet, name: "mail.example.com" }], []);
        const after = planOf(ZONE, [droplet], []);
        assert.deepEqual(ptrsAt("before-apply", before, after), [droplet]);
    });
});

describe("the change checks fail when the change did not reach the receiver", () => {
    const evaluated = (domain: string, policy: string) => ({ verdicts: [], auth: { dmarc: { domain, policy } } });
    const outcome = (graded: Map<string, ReturnType<typeof evaluated>>, policy: string) => {
        const seen: Array<[string, boolean, string]> = [];
        checkDmarcPolicy((name, pass, evidence) => seen.push([name, pass, evidence]), graded, policy);
        return seen;
    };
    it("dmarc-policy-served: the old policy still read fails; a forward's author domain does not count", () => {
        const forward = evaluated("example.org", "none");
        assert.deepEqual(
            outcome(
                new Map([
                    ["a", evaluated("example.com", "reject")],
                    ["f", forward],
                ]),
                "reject",
            ),
            [["dmarc-policy-served", true, "the receiver's DMARC evaluations read p=reject; reject wanted"]],
        );
        assert.deepEqual(
            outcome(
                new Map([
                    ["a", evaluated("example.com", "quarantine")],
                    ["f", forward],
                ]),
                "reject",
            ),
            [["dmarc-policy-served", false, "the receiver's DMARC evaluations read p=quarantine; reject wanted"]],
        );
        assert.deepEqual(outcome(new Map([["f", forward]]), "reject"), [
            ["dmarc-policy-served", false, "the receiver's DMARC evaluations read p=(none); reject wanted"],
        ]);
    });
});

describe("operator-receives fails when postmaster@ still goes to the old address, or nowhere", () => {
    const outcome = (rcptTo: string[][]) => {
        const seen: Array<[string, boolean, string]> = [];
        checkOperator(
            (name, pass, evidence) => seen.push([name, pass, evidence]),
            rcptTo.map((r) => ({ session: { rcptTo: r } })),
            "ops@example.net",
        );
        return seen;
    };
    it("passes only when every copy went to the new address", () => {
        assert.deepEqual(outcome([["OPS@example.net"]]), [
            ["operator-receives", true, "postmaster@ forwarded to OPS@example.net; ops@example.net wanted"],
        ]);
        assert.deepEqual(outcome([["old@example.net"]]), [
            ["operator-receives", false, "postmaster@ forwarded to old@example.net; ops@example.net wanted"],
        ]);
        assert.deepEqual(outcome([["ops@example.net"], ["old@example.net"]]), [
            ["operator-receives", false, "postmaster@ forwarded to ops@example.net, old@example.net; ops@example.net wanted"],
        ]);
        assert.deepEqual(outcome([]), [["operator-receives", false, "postmaster@ forwarded to (nothing arrived); ops@example.net wanted"]]);
    });
});

describe("grading", () => {
    it("unfolds headers and tampers with the body only", () => {
        const raw = Buffer.from("A: 1\r\nB: 2\r\n 3\r\n\r\nHello\r\n");
        assert.deepEqual(headerFields(raw), [
            { key: "a", value: "1" },
            { key: "b", value: "2 3" },
        ]);
        assert.equal(tamper(raw).toString(), "A: 1\r\nB: 2\r\n 3\r\n\r\nhello\r\n");
    });

    it("passes a signed message on every property, and fails each broken one on its own", async () => {
        const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
        const pub = keys.publicKey.export({ type: "spki", format: "der" }).toString("base64");
        const records: Record<string, unknown> = {
            "TXT example.com": [["v=spf1 ip4:192.0.2.10 -all"]],
            "TXT s._domainkey.example.com": [[`v=DKIM1; k=rsa; p=${pub}`]],
            "TXT _dmarc.example.com": [["v=DMARC1; p=reject"]],
            "PTR 10.2.0.192.in-addr.arpa": ["mail.example.com"],
            "A mail.example.com": ["192.0.2.10"],
        };
        const resolve: LabResolver = async (name, type) => {
            const value = records[`${type} ${name.replace(/\.$/, "")}`];
            if (!value) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
            return value;
        };
        const body = message({
            caseId: "unit",
            from: "lab@example.com",
            to: "ops@example.net",
            subject: "unit",
            withIds: true,
            crlf: true,
        });
        const signature = await dkimSignature(body, {
            signingDomain: "example.com",
            selector: "s",
            privateKey: keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        });
        const raw = Buffer.from(signature + body);
        const session = { ip: "192.0.2.10", helo: "mail.example.com", mailFrom: "lab@example.com", rcptTo: ["ops@example.net"], tls: true };
        const options = { domain: "example.com", minKeyBits: 2048, forwarded: false, addedFields: ["message-id", "date"] };
        const failing = async (r: Buffer, s = session) =>
            (await grade(r, s, resolve, options)).verdicts.filter((v) => !v.pass).map((v) => v.property);
        assert.deepEqual(await failing(raw), []);
        assert.deepEqual(await failing(tamper(raw)), ["dkim"]);
        assert.deepEqual(await failing(raw, { ...session, tls: false }), ["tls"]);
        assert.deepEqual(await failing(raw, { ...session, helo: "other.example.com" }), ["helo"]);
        assert.deepEqual(await failing(Buffer.from(`${signature}${signature}${body}`)), ["one-signature"]);
        // From another address: SPF fails, and so do reverse DNS and HELO (they name the host).
        assert.deepEqual(await failing(raw, { ...session, ip: "192.0.2.30" }), ["spf", "fcrdns", "helo"]);
    });
});

describe("the report", () => {
    it("passes a property only with positive evidence and a negative control that failed it alone", () => {
        const report = new Report("unit", "/tmp");
        report.add("boot", "cloud-init", true, "done");
        report.observe("spf", "positive", "smtp-v4", true, "spf=pass");
        assert.equal(report.propertyPasses("spf"), false);
        assert.deepEqual(report.failures(), ["property spf: no negative control"]);
        report.observe("spf", "negative", "neg-spf", true, "spf failed; every other property passed");
        assert.equal(report.ok, true);
        report.observe("dkim", "positive", "smtp-v4", false, "dkim=fail");
        assert.equal(report.ok, false);
    });
    it("fails a run in which an expected property was never observed", () => {
        const report = new Report("unit", "/tmp");
        report.expect(["spf", "srs"], true);
        report.add("boot", "cloud-init", true, "done");
        report.observe("spf", "positive", "smtp-v4", true, "spf=pass");
        report.observe("spf", "negative", "neg-spf", true, "spf failed; every other property passed");
        assert.equal(report.ok, false);
        assert.deepEqual(report.failures(), ["property srs: never observed"]);
    });
    it("with the controls left out (--controls none), passes a property on its positives alone", () => {
        const report = new Report("unit", "/tmp");
        report.expect(["spf"], false);
        report.add("boot", "cloud-init", true, "done");
        report.observe("spf", "positive", "smtp-v4", true, "spf=pass");
        assert.equal(report.ok, true);
        report.observe("spf", "positive", "smtp-v6", false, "spf=softfail");
        assert.deepEqual(report.failures(), ["property spf: smtp-v6: spf=softfail"]);
    });
});

describe("negative controls' edits", () => {
    it("set, replace and remove a main.cf parameter", () => {
        const mainCf = "# x\na = 1\nb = 2\n";
        assert.equal(setParameter(mainCf, "b", "3"), "# x\na = 1\nb = 3\n");
        assert.equal(setParameter(mainCf, "c", "4"), "# x\na = 1\nb = 2\nc = 4\n");
        assert.equal(setParameter(mainCf, "a", null), "# x\nb = 2\n");
    });
});

describe("reading the services' logs and units", () => {
    it("counts each validation Pebble refused once (the authz, not its order)", () => {
        const dir = mkdtempSync(join(tmpdir(), "pebble-log-"));
        const log = join(dir, "pebble.log");
        writeFileSync(
            log,
            [
                "Pebble 2026/11/23 13:00:50 POST /chalZ/abc -> calling handler()",
                "Pebble 2026/11/23 13:00:55 authz 60Jg0w set INVALID by completed challenge brlEh7",
                "Pebble 2026/11/23 13:00:55 order CJHFy8 set INVALID by invalid authz 60Jg0w",
                "Pebble 2026/11/23 13:01:55 authz 7Hq2k set VALID by completed challenge 9aBc",
                "",
            ].join("\n"),
        );
        assert.deepEqual(failedValidations(log), ["Pebble 2026/11/23 13:00:55 authz 60Jg0w set INVALID by completed challenge brlEh7"]);
        rmSync(dir, { recursive: true });
    });

    it("reads systemd time spans of one unit", () => {
        assert.equal(systemdSeconds("2min"), 120);
        assert.equal(systemdSeconds("90s"), 90);
        assert.equal(systemdSeconds("1h"), 3600);
        assert.throws(() => systemdSeconds("1min 30s"), /unsupported time span "1min 30s"/);
    });
});

describe("mailboxes in the lab", () => {
    it("reads the aliases from the bundle's alias map: not the role addresses, identity lines or the catch-all", () => {
        const virtual = [
            "postmaster@example.com ops@example.net",
            "abuse@mail.example.com ops@example.net",
            "root@mail.example.com ops@example.net",
            "alice@example.com alice@example.com",
            "team@example.com alice@example.com, bob@example.com",
            "friends@example.com ops@example.net, friend@example.net",
            "@example.com alice@example.com",
            "",
        ].join("\n");
        assert.deepEqual(aliasesOf({ hostname: "mail.example.com", files: [{ path: "/etc/postfix/virtual", content: virtual }] }), [
            { address: "team@example.com", targets: ["alice@example.com", "bob@example.com"] },
            { address: "friends@example.com", targets: ["ops@example.net", "friend@example.net"] },
        ]);
    });

    it("tells a refused clear-text login from an accepted one (the control) and from a broken session", () => {
        // What Dovecot 2.4.1 answered in the lab, with ssl = required and with the control's settings.
        const refused = [
            "* OK [CAPABILITY IMAP4rev1 LOGIN-REFERRALS ID ENABLE IDLE SASL-IR LITERAL+ STARTTLS LOGINDISABLED] Dovecot ready.",
            "a1 OK Pre-login capabilities listed, post-login capabilities have more.",
            "* BAD [ALERT] cleartext authentication not allowed without SSL/TLS, but your client did it anyway. If anyone was listening, the password was exposed.",
            "a2 NO [PRIVACYREQUIRED] Cleartext authentication disallowed on non-secure (SSL/TLS) connections.",
            "a3 OK Logout completed.",
        ];
        assert.equal(cleartextAnswer(refused), "refused");
        assert.equal(cleartextAnswer(["* OK Dovecot ready.", "a1 OK", "a2 OK [CAPABILITY IMAP4rev1] Logged in", "a3 OK"]), "accepted");
        assert.equal(cleartextAnswer(["* OK Dovecot ready.", "a1 OK"]), "none");
        assert.equal(cleartextAnswer([]), "none");
    });
});

describe("a stack with two domains, as the lab reads its plan", () => {
    // The offline plan of do-example, read as the lab reads it (readPlan): no lab needed.
    const out = mkdtempSync(join(tmpdir(), "lab-plan-"));
    const cli = join(__dirname, "..", "plan", "cli.js");
    const planned = spawnSync(process.execPath, [cli, "--stack", "do-example", "--out", out], { encoding: "utf8" });
    const plan = readPlan(join(out, "do-example"));
    it("has the domains the bundle signs for, primary first", () => {
        assert.equal(planned.status, 0, planned.stderr);
        assert.deepEqual(plan.domains, ["example.com", "example.io"]);
    });
    it("lists users of both domains in endpoints.json (--hold), and no hosted address as a forward", () => {
        const dnsDir = mkdtempSync(join(tmpdir(), "lab-dns-"));
        writeFileSync(join(dnsDir, "example.io.zone"), "");
        const lab = { plan, dns: { dir: dnsDir }, pebble: { root: "/ca.pem" }, mailDir: "/received" } as unknown as Lab;
        const shown = endpoints(lab);
        assert.deepEqual(
            shown.users.map((u) => [u.address, u.aliases]),
            [
                ["alice@example.com", ["team@example.com"]],
                ["bob@example.com", ["team@example.com"]],
                ["dave@example.io", []],
            ],
        );
        assert.deepEqual(shown.forwards, [{ address: "friends@example.com", to: ["ops@example.net", "friend@example.net"] }]);
        assert.deepEqual(shown.zoneFiles, [join(dnsDir, "example.io.zone")]);
        rmSync(dnsDir, { recursive: true, force: true });
        rmSync(out, { recursive: true, force: true });
    });
});

describe("inbound filtering, as the lab reads it", () => {
    const reply = (line: string) => ({ code: Number(line.slice(0, 3)), lines: [line] });
    it("a client reconnects only after postscreen's own deferral of every recipient", () => {
        assert.equal(deferredByPostscreen({ rcpt: [reply("450 4.3.2 Service currently unavailable")] }), true);
        assert.equal(
            deferredByPostscreen({ rcpt: [reply("450 4.1.8 <x@example.org>: Sender address rejected: Domain not found")] }),
            false,
        );
        assert.equal(deferredByPostscreen({ rcpt: [reply("450 4.3.2 Service currently unavailable"), reply("250 2.1.5 Ok")] }), false);
        assert.equal(deferredByPostscreen({}), false);
    });
    it("Authentication-Results fields are read unfolded, every one of them", () => {
        const header = [
            "Received: from x",
            "Authentication-Results: mail.example.com;",
            "\tdkim=pass header.d=example.org;",
            " spf=pass smtp.mailfrom=a@example.org",
            "authentication-results: other.example; none",
            "Subject: hi",
        ].join("\r\n");
        assert.deepEqual(authenticationResults(header), [
            "Authentication-Results: mail.example.com; dkim=pass header.d=example.org; spf=pass smtp.mailfrom=a@example.org",
            "authentication-results: other.example; none",
        ]);
    });
});
