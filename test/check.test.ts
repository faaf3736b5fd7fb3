import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { writeFileSync } from "node:fs";
import { createServer as createTcpServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Dns } from "../check/dns";
import { Status } from "../check/finding";
import { type Report, runChecks } from "../check/run";
import { probeSmtp } from "../check/smtpProbe";
import { heloSpf } from "../components/records/spf";
import { type Pem, TestCa } from "./support/certificates";
import {
    DKIM_P_2048,
    dkimTxt,
    GOOD_POLICY,
    goodWorld,
    type SmtpOptions,
    startPolicyServer,
    startSmtp,
    type World,
    zonesOf,
} from "./support/mailWorld";
import { freePort, startNsd } from "./support/nsd";
import { scratchDir } from "./support/scratch";
import { missing, run } from "./support/tools";

const DAY = 86_400_000;
type Row = [status: Status, check: string, subject: string];

describe("mailserver check against a real NSD and a real SMTP server on loopback", { skip: missing("nsd", "nsd") }, () => {
    const ca = new TestCa();
    const otherCa = new TestCa("someone else's CA");
    const now = new Date();
    const valid: Pem = ca.issue(["mail.example.com"], new Date(now.getTime() - DAY), new Date(now.getTime() + 90 * DAY));
    let smtpPort = 0;
    let httpsPort = 0;
    let policy = GOOD_POLICY;
    let stopPolicy: () => void = () => undefined;

    before(async () => {
        smtpPort = await freePort();
        httpsPort = await freePort();
        const server = await startPolicyServer(
            httpsPort,
            ca.issue(["mta-sts.example.com"], new Date(now.getTime() - DAY), new Date(now.getTime() + 90 * DAY)),
            "",
        );
        server.removeAllListeners("request");
        server.on("request", (req, res) => {
            if (req.url === "/.well-known/mta-sts.txt") res.writeHead(200).end(policy);
            else res.writeHead(404).end();
        });
        stopPolicy = () => server.close();
    });
    after(() => stopPolicy());

    async function check(
        world: World,
        smtp: SmtpOptions | undefined = { name: "mail.example.com", tls: valid },
        blocklists: string[] = [],
    ): Promise<Report> {
        const nsd = await startNsd(zonesOf(world));
        const stopSmtp = smtp ? await startSmtp(smtpPort, smtp) : undefined;
        try {
            return await runChecks({
                domain: "example.com",
                dns: new Dns({ server: nsd.server, timeoutMs: 2000 }),
                timeoutMs: 2000,
                smtpPort,
                httpsPort,
                selector: "s1",
                helo: "checker.example.org",
                ca: ca.pem,
                blocklists,
                now,
            });
        } finally {
            nsd.stop();
            await stopSmtp?.();
        }
    }

    const notPassing = (report: Report): Row[] =>
        report.findings.filter((f) => f.status !== Status.Pass).map((f) => [f.status, f.check, f.subject]);
    const both = (status: Status, check: string): Row[] => [
        [status, check, `127.0.0.1:${smtpPort}`],
        [status, check, `[::1]:${smtpPort}`],
    ];
    const detail = (report: Report, check: string) => report.findings.find((f) => f.check === check)?.detail;

    it("a correct domain passes every check", async () => {
        const report = await check(goodWorld());
        assert.deepEqual(notPassing(report), []);
        assert.deepEqual(
            report.findings.map((f) => f.check),
            [
                "mx",
                "host.a",
                "host.aaaa",
                "ptr.ipv4",
                "ptr.ipv6",
                ...["smtp.banner", "smtp.ehlo", "smtp.starttls", "tls.name", "tls.chain", "tls.expiry"],
                ...["smtp.banner", "smtp.ehlo", "smtp.starttls", "tls.name", "tls.chain", "tls.expiry"],
                "spf.record",
                "spf.lookups",
                "spf.voids",
                "spf.all",
                "spf.covers",
                "spf.covers",
                "spf.helo",
                "spf.helo",
                "dkim.record",
                "dmarc.record",
                "mta-sts",
                "mta-sts.policy",
                "tls-rpt",
            ],
        );
        assert.equal(detail(report, "ptr.ipv4"), "PTR mail.example.com, which resolves back to 127.0.0.1");
        assert.equal(detail(report, "spf.lookups"), "0 DNS-querying terms (limit 10), counted through includes");
        assert.equal(detail(report, "dkim.record"), "RSA 2048-bit key, 2 strings of ≤ 255");
        assert.equal(detail(report, "tls.expiry"), "expires in 89 days");
        assert.equal(report.summary.fail, 0);
    });

    const scenarios: Array<[string, (w: World) => void, Row[], string?]> = [
        ["missing IPv4 PTR", (w) => delete w.ptr4.ptr, [[Status.Fail, "ptr.ipv4", "127.0.0.1"]]],
        [
            "PTR not forward-confirmed",
            (w) => {
                w.ptr4.ptr = "1.0.0.127.in-addr.arpa. IN PTR other.example.com.";
                w.forward.other = "other.example.com. IN A 127.0.0.2";
            },
            [[Status.Fail, "ptr.ipv4", "127.0.0.1"]],
        ],
        ["IPv6 PTR missing while IPv4 is fine", (w) => delete w.ptr6.ptr, [[Status.Fail, "ptr.ipv6", "::1"]]],
        ["no MX", (w) => delete w.forward.mx, [[Status.Fail, "mx", "example.com"]]],
        ["no SPF for the HELO name", (w) => delete w.forward.heloSpf, [[Status.Warn, "spf.helo", "mail.example.com"]]],
        [
            "two SPF records",
            (w) => (w.forward.spf2 = 'example.com. IN TXT "v=spf1 ip4:127.0.0.1 -all"'),
            [[Status.Fail, "spf.record", "example.com"]],
        ],
        [
            "11 lookups through nested includes",
            (w) => {
                w.forward.spf = 'example.com. IN TXT "v=spf1 ip4:127.0.0.1 ip6:::1 include:l1.example.com -all"';
                w.forward.l1 = 'l1.example.com. IN TXT "v=spf1 include:l2.example.com a:mail.example.com mx:example.com -all"';
                w.forward.l2 = 'l2.example.com. IN TXT "v=spf1 include:l3.example.com a:mail.example.com mx:example.com -all"';
                w.forward.l3 =
                    'l3.example.com. IN TXT "v=spf1 a:mail.example.com mx:example.com exists:mail.example.com a:mail.example.com -all"';
            },
            [[Status.Fail, "spf.lookups", "example.com"]],
            "11 DNS-querying terms counted through includes: over the limit of 10 (permerror)",
        ],
        [
            "3 void lookups",
            (w) =>
                (w.forward.spf =
                    'example.com. IN TXT "v=spf1 ip4:127.0.0.1 ip6:::1 a:void1.example.com a:void2.example.com a:void3.example.com -all"'),
            [[Status.Fail, "spf.voids", "example.com"]],
            "3 lookups found nothing: over the limit of 2 (permerror)",
        ],
        [
            "+all",
            (w) => (w.forward.spf = 'example.com. IN TXT "v=spf1 ip4:127.0.0.1 ip6:::1 +all"'),
            [[Status.Fail, "spf.all", "example.com"]],
        ],
        [
            "SPF without the host's IPv6",
            (w) => (w.forward.spf = 'example.com. IN TXT "v=spf1 ip4:127.0.0.1 -all"'),
            [[Status.Fail, "spf.covers", "::1"]],
        ],
        [
            "DKIM key truncated at 255 characters (what a DNS UI does with an unsplit string)",
            (w) => (w.forward.dkim = `s1._domainkey.example.com. IN TXT "${DKIM_P_2048.slice(0, 255)}"`),
            [[Status.Fail, "dkim.record", "s1._domainkey.example.com"]],
            "p= does not decode to a public key (truncated?)",
        ],
        [
            "DKIM key split into two TXT records",
            (w) => {
                w.forward.dkim = `s1._domainkey.example.com. IN TXT "${DKIM_P_2048.slice(0, 200)}"`;
                w.forward.dkim2 = `s1._domainkey.example.com. IN TXT "${DKIM_P_2048.slice(200)}"`;
            },
            [[Status.Fail, "dkim.record", "s1._domainkey.example.com"]],
            "2 TXT records: a key split into several records does not verify",
        ],
        [
            "revoked DKIM key",
            (w) => (w.forward.dkim = 's1._domainkey.example.com. IN TXT "v=DKIM1; k=rsa; p="'),
            [[Status.Fail, "dkim.record", "s1._domainkey.example.com"]],
            "p= is empty: the key is revoked",
        ],
        [
            "1024-bit DKIM key",
            (w) => (w.forward.dkim = `s1._domainkey.example.com. IN TXT ${dkimTxt(1024)}`),
            [[Status.Warn, "dkim.record", "s1._domainkey.example.com"]],
            "RSA 1024-bit key: 2048 is recommended",
        ],
        ["no DKIM record", (w) => delete w.forward.dkim, [[Status.Fail, "dkim.record", "s1._domainkey.example.com"]]],
        [
            "DMARC invalid policy",
            (w) => (w.forward.dmarc = '_dmarc.example.com. IN TXT "v=DMARC1; p=block"'),
            [[Status.Fail, "dmarc.record", "_dmarc.example.com"]],
            "v=DMARC1; p=block: p=block is not none, quarantine or reject",
        ],
        ["DMARC missing", (w) => delete w.forward.dmarc, [[Status.Fail, "dmarc.record", "_dmarc.example.com"]]],
        [
            "external rua without authorization",
            (w) => (w.forward.dmarc = '_dmarc.example.com. IN TXT "v=DMARC1; p=reject; rua=mailto:reports@example.net"'),
            [[Status.Warn, "dmarc.rua", "reports@example.net"]],
        ],
        [
            "external rua with authorization",
            (w) => {
                w.forward.dmarc = '_dmarc.example.com. IN TXT "v=DMARC1; p=reject; rua=mailto:reports@example.net"';
                w.extra["example.net"] = 'example.com._report._dmarc.example.net. IN TXT "v=DMARC1"';
            },
            [],
        ],
        [
            "MTA-STS record with a bad id",
            (w) => (w.forward.mtaStsRecord = '_mta-sts.example.com. IN TXT "v=STSv1; id=not-valid!"'),
            [[Status.Fail, "mta-sts", "_mta-sts.example.com"]],
        ],
        [
            "TLS-RPT without a URI scheme",
            (w) => (w.forward.tlsRpt = '_smtp._tls.example.com. IN TXT "v=TLSRPTv1; rua=tls@example.com"'),
            [[Status.Fail, "tls-rpt", "_smtp._tls.example.com"]],
        ],
    ];
    for (const [title, mutate, expected, expectedDetail] of scenarios) {
        it(title, async () => {
            const world = goodWorld();
            mutate(world);
            const report = await check(world);
            assert.deepEqual(notPassing(report), expected);
            if (expectedDetail) assert.equal(report.findings.find((f) => f.status !== Status.Pass)?.detail, expectedDetail);
        });
    }

    it("advises for the HELO name exactly the SPF record the component publishes", async () => {
        const world = goodWorld();
        delete world.forward.heloSpf;
        const finding = (await check(world)).findings.find((f) => f.check === "spf.helo");
        assert.equal(finding?.fix, `publish "mail.example.com TXT \\"${heloSpf("127.0.0.1", "::1")}\\""`);
        assert.equal(heloSpf("127.0.0.1", "::1"), "v=spf1 ip4:127.0.0.1 ip6:::1 -all");
    });

    it("an unsplit 300-character string cannot be served at all (NSD refuses the zone)", async () => {
        const world = goodWorld();
        world.forward.dkim = `s1._domainkey.example.com. IN TXT "${"A".repeat(300)}"`;
        await assert.rejects(startNsd(zonesOf(world)), /text string is longer than 255 characters/);
    });

    it("MTA-STS policy that does not list the MX", async () => {
        policy = "version: STSv1\nmode: enforce\nmx: other.example.org\nmax_age: 604800\n";
        try {
            const report = await check(goodWorld());
            assert.deepEqual(notPassing(report), [[Status.Fail, "mta-sts.policy", "https://mta-sts.example.com/.well-known/mta-sts.txt"]]);
        } finally {
            policy = GOOD_POLICY;
        }
    });

    it("expired certificate", async () => {
        const expired = ca.issue(["mail.example.com"], new Date(now.getTime() - 100 * DAY), new Date(now.getTime() - 10 * DAY));
        const report = await check(goodWorld(), { name: "mail.example.com", tls: expired });
        assert.deepEqual(notPassing(report), both(Status.Fail, "tls.expiry"));
    });

    it("certificate expiring within 14 days", async () => {
        const soon = ca.issue(["mail.example.com"], new Date(now.getTime() - 80 * DAY), new Date(now.getTime() + 5 * DAY + 3_600_000));
        const report = await check(goodWorld(), { name: "mail.example.com", tls: soon });
        assert.deepEqual(notPassing(report), both(Status.Warn, "tls.expiry"));
        assert.equal(detail(report, "tls.expiry"), "expires in 5 days");
    });

    it("certificate for the wrong name", async () => {
        const wrong = ca.issue(["www.example.com"], new Date(now.getTime() - DAY), new Date(now.getTime() + 90 * DAY));
        const report = await check(goodWorld(), { name: "mail.example.com", tls: wrong });
        assert.deepEqual(notPassing(report), both(Status.Fail, "tls.name"));
    });

    it("certificate from an untrusted CA", async () => {
        const untrusted = otherCa.issue(["mail.example.com"], new Date(now.getTime() - DAY), new Date(now.getTime() + 90 * DAY));
        const report = await check(goodWorld(), { name: "mail.example.com", tls: untrusted });
        assert.deepEqual(notPassing(report), both(Status.Fail, "tls.chain"));
    });

    it("no STARTTLS", async () => {
        const report = await check(goodWorld(), { name: "mail.example.com", tls: undefined });
        assert.deepEqual(notPassing(report), both(Status.Fail, "smtp.starttls"));
    });

    it("banner and EHLO with another name than the PTR", async () => {
        const report = await check(goodWorld(), { name: "localhost.localdomain", tls: valid });
        assert.deepEqual(notPassing(report).sort(), [...both(Status.Fail, "smtp.banner"), ...both(Status.Fail, "smtp.ehlo")].sort());
    });

    it("a blocklist is asked only when given, and a listing fails", async () => {
        const world = goodWorld();
        world.extra["bl.example"] = "1.0.0.127.bl.example. IN A 127.0.0.2";
        const report = await check(world, undefined, ["bl.example"]);
        const blocklist = report.findings.filter((f) => f.check === "blocklist").map((f) => [f.status, f.subject, f.detail]);
        assert.deepEqual(blocklist, [
            [Status.Fail, "127.0.0.1 bl.example", "listed (127.0.0.2)"],
            [Status.Pass, "::1 bl.example", "not listed"],
        ]);
        const without = await check(world, undefined);
        assert.equal(without.findings.filter((f) => f.check === "blocklist").length, 0);
    });

    it("a greeting held back after its first line, as postscreen does for a new client, is waited for", async () => {
        const held = createTcpServer((socket) => {
            socket.write("220-mail.example.com ESMTP\r\n");
            const rest = setTimeout(() => socket.write("220 mail.example.com ESMTP\r\n"), 1000);
            socket.once("data", () => socket.end("250 mail.example.com\r\n"));
            socket.on("close", () => clearTimeout(rest));
        });
        const port = await freePort();
        await new Promise<void>((resolve) => held.listen(port, "127.0.0.1", resolve));
        try {
            const probe = await probeSmtp({
                host: "127.0.0.1",
                port,
                servername: "mail.example.com",
                helo: "checker.example.org",
                timeoutMs: 300,
            });
            assert.deepEqual(probe.banner, { code: 220, lines: ["mail.example.com ESMTP", "mail.example.com ESMTP"] });
            assert.equal(probe.starttlsOffered, false);
        } finally {
            held.close();
        }
    });

    it("an SMTP server that never sends its banner is reported as a timeout", async () => {
        const silent = createTcpServer(() => undefined);
        await new Promise<void>((resolve) => silent.listen(smtpPort, "127.0.0.1", resolve));
        try {
            const nsd = await startNsd(zonesOf(goodWorld()));
            try {
                const started = Date.now();
                const report = await runChecks({
                    domain: "example.com",
                    dns: new Dns({ server: nsd.server, timeoutMs: 300 }),
                    timeoutMs: 300,
                    smtpPort,
                    httpsPort,
                    selector: "s1",
                    helo: "checker.example.org",
                    ca: ca.pem,
                    blocklists: [],
                    now,
                });
                assert.ok(Date.now() - started < 5000);
                const connect = report.findings.find((f) => f.check === "smtp.connect" && f.subject === `127.0.0.1:${smtpPort}`);
                assert.equal(connect?.status, Status.Fail);
                assert.equal(connect?.detail, "waiting for the banner timed out after 300 ms");
            } finally {
                nsd.stop();
            }
        } finally {
            silent.close();
        }
    });

    it("a DNS server that never answers is reported as a timeout, not a hang", async () => {
        const blackhole = createSocket("udp4");
        await new Promise<void>((resolve) => blackhole.bind(0, "127.0.0.1", resolve));
        try {
            const started = Date.now();
            const report = await runChecks({
                domain: "example.com",
                dns: new Dns({ server: `127.0.0.1:${blackhole.address().port}`, timeoutMs: 300 }),
                timeoutMs: 300,
                smtpPort,
                httpsPort,
                selector: "s1",
                helo: "checker.example.org",
                ca: ca.pem,
                blocklists: [],
                now,
            });
            assert.ok(Date.now() - started < 10_000, "finishes");
            assert.equal(report.findings[0].detail, "no MX: timed out after 300 ms");
            assert.equal(report.findings.find((f) => f.check === "dkim.record")?.detail, "no DKIM key record: timed out after 300 ms");
        } finally {
            blackhole.close();
        }
    });

    it("the command: table, exit codes, --json", async () => {
        const cli = join(__dirname, "..", "check", "cli.js");
        const nsd = await startNsd(zonesOf(goodWorld()));
        const stopSmtp = await startSmtp(smtpPort, { name: "mail.example.com", tls: valid });
        try {
            const caFile = join(scratchDir("ca-"), "ca.pem");
            writeFileSync(caFile, ca.pem);
            const args = [
                "check",
                "example.com",
                "--resolver",
                nsd.server,
                "--smtp-port",
                String(smtpPort),
                "--https-port",
                String(httpsPort),
                "--ca-file",
                caFile,
                "--selector",
                "s1",
                "--timeout",
                "2000",
            ];
            const good = await runAsync(process.execPath, [cli, ...args]);
            assert.equal(good.status, 0, good.stdout + good.stderr);
            assert.match(good.stdout, /^PASS {2}mx +example\.com +10 mail\.example\.com$/m);
            assert.match(good.stdout, /^30 pass, 0 warn, 0 fail$/m);
            const json = await runAsync(process.execPath, [cli, ...args, "--json"]);
            const parsed = JSON.parse(json.stdout) as { domain: string; summary: Record<string, number>; selector: string };
            assert.deepEqual([parsed.domain, parsed.summary, parsed.selector], ["example.com", { pass: 30, warn: 0, fail: 0 }, "s1"]);
            const broken = await runAsync(process.execPath, [
                cli,
                ...args.filter((a) => a !== "s1" && a !== "--selector"),
                "--selector",
                "missing",
            ]);
            assert.equal(broken.status, 1);
            assert.match(
                broken.stdout,
                /^FAIL {2}dkim\.record +missing\._domainkey\.example\.com +no DKIM key record: the name does not exist \(NXDOMAIN\)$/m,
            );
            assert.match(broken.stdout, /^ +fix: publish the selector's key record/m);
            // Several domains, one after the other: the second has no records, so the run fails for it alone.
            const both = await runAsync(process.execPath, [
                cli,
                ...args.filter((a) => a !== "s1" && a !== "--selector"),
                "example.org",
                "--json",
            ]);
            assert.equal(both.status, 1);
            // Each domain's selector comes from the project's stack files: example.com's is do-example's
            // "mailserver", which this world does not publish (it has s1), so only that check fails there.
            const reports = JSON.parse(both.stdout) as Array<{
                domain: string;
                selector: string | null;
                findings: Array<{ check: string; status: string }>;
            }>;
            const failing = (r: (typeof reports)[number]) => r.findings.filter((f) => f.status === "fail").map((f) => f.check);
            assert.deepEqual(
                reports.map((r) => [r.domain, r.selector]),
                [
                    ["example.com", "mailserver"],
                    ["example.org", null],
                ],
            );
            assert.deepEqual(failing(reports[0]), ["dkim.record"]);
            assert.deepEqual(failing(reports[1]).slice(0, 2), ["mx", "spf.record"]);
        } finally {
            nsd.stop();
            await stopSmtp();
        }
        const usage = run(process.execPath, [cli, "check"]);
        assert.equal(usage.status, 2);
        assert.match(usage.stderr, /^give at least one domain$/m);
        const twoWithSelector = run(process.execPath, [cli, "check", "example.com", "example.org", "--selector", "s1"]);
        assert.equal(twoWithSelector.status, 2);
        assert.match(twoWithSelector.stderr, /^--selector names one domain's DKIM selector: give one domain with it/m);
        const badPort = run(process.execPath, [cli, "check", "example.com", "--smtp-port", "x"]);
        assert.equal(badPort.status, 2);
        assert.match(badPort.stderr, /^--smtp-port: "x" is not a positive whole number$/m);
    });
});

/** spawn without blocking the event loop (the servers under test run in this process). */
function runAsync(command: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn(command, args);
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d));
        child.stderr.on("data", (d: Buffer) => (stderr += d));
        child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
}
