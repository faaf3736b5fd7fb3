/**
 * The mail lab as part of `npm test` (Linux and root; LAB=0 leaves it out). Stacks run one at a
 * time (the namespaces have fixed names); a failing run names its failing checks and its report.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { LAB } from "./topology";

const skip =
    process.platform !== "linux" || process.getuid?.() !== 0
        ? "the mail lab needs Linux and root"
        : process.env.LAB === "0"
          ? "LAB=0"
          : false;

/**
 * What each stack's run covers: every property with its negative control on both; all faults on
 * DigitalOcean; on each a change applied to the running host (a selector rotation in both domains, then a
 * DMARC-only change, an operator address with a relay network, a new host name; on Linode IPv6 turned off, then on
 * again, then a new mailbox and a chosen password, then a smarthost with its login and SPF include).
 */
export const LAB_RUNS: ReadonlyArray<{ stack: string; args: string[] }> = [
    {
        stack: "do-example",
        args: [
            "--faults",
            "all",
            ...[
                "dkimSelector=s2026",
                'dkimPreviousSelectors=["mailserver"]',
                'extraDomains=["example.io selector=s2026 previousSelectors=mailserver"]',
                "then",
                "dmarcPolicy=reject",
                "then",
                "operatorEmail=postmaster@example.net",
                `relayNetworks=["${LAB.app.v4}/32"]`,
                "then",
                "hostLabel=smtp",
            ].flatMap((c) => ["--change", c]),
        ],
    },
    {
        stack: "linode-example",
        args: [
            "--faults",
            "none",
            ...[
                "ipv6=false",
                "then",
                "ipv6=true",
                "then",
                'mailboxes=["alice@example.com quota=1G","bob@example.com","dave@example.io","carol@example.com quota=1M"]',
                'mailboxPasswords=["bob@example.com a chosen password"]',
                "then",
                `smarthost=${LAB.relay.name}:${LAB.relay.port}`,
                `smarthostUser=${LAB.relay.login.user}`,
                `smarthostPassword=${LAB.relay.login.password}`,
                `spfIncludes=["${LAB.relay.spfInclude}"]`,
            ].flatMap((c) => ["--change", c]),
        ],
    },
];

for (const run of LAB_RUNS) {
    test(`mail lab: ${run.stack} (boot, configure over SSH, grade, negative controls, changes${run.args.includes("all") ? ", faults" : ""})`, {
        skip,
        timeout: 60 * 60 * 1000,
    }, () => {
        const result = spawnSync(process.execPath, [join(__dirname, "run.js"), "--stack", run.stack, ...run.args], {
            stdio: ["ignore", "pipe", 2],
            encoding: "utf8",
        });
        process.stderr.write(result.stdout);
        const reportFile = join(__dirname, "..", "..", "out", "lab", run.stack, "report.json");
        let failures = "";
        try {
            const report = JSON.parse(readFileSync(reportFile, "utf8")) as {
                results: Array<{ section: string; name: string; pass: boolean; evidence: string }>;
                summary: { failedProperties: string[] };
            };
            failures = [
                ...report.results.filter((r) => !r.pass).map((r) => `${r.section} ${r.name}: ${r.evidence.slice(0, 300)}`),
                ...report.summary.failedProperties.map((p) => `property ${p}`),
            ].join("\n  ");
        } catch (error) {
            failures = `no report: ${(error as Error).message}`;
        }
        assert.equal(result.status, 0, `the lab failed for ${run.stack}:\n  ${failures}\nreport: ${reportFile}`);
    });
}
