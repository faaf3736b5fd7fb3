/**
 * Every key of the config-key table, changed on a planned stack with `npm start -- --change`:
 * what the plan shows must be what the table says. DNS-only: only DNS records change, the apply
 * step does not run. In place: the machine is neither replaced nor powered off, and the apply step
 * runs exactly when the table says the host changes. New host: the guard refuses it, naming the
 * key, unless hostGeneration is raised in the same run.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { before, describe, it } from "node:test";
import { CONFIG_KEYS } from "../components/programConfig";
import { TYPES } from "../components/resourceTypes";
import type { ChangeReport } from "../plan/change";
import { TestCa } from "./support/certificates";
import { scratchDir } from "./support/scratch";

const cli = resolve(__dirname, "..", "plan", "cli.js");
type Key = keyof typeof CONFIG_KEYS;

interface Case {
    readonly key: Key;
    readonly stack: "do-example" | "linode-example";
    readonly value: string;
    /** Other changes in the same run (e.g. the zone that goes with a new domain). */
    readonly with?: Record<string, string>;
    /** Config set before and after (the stack as it was). */
    readonly config?: Record<string, string>;
}

const ANOTHER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA2PpFAEz5oulgsbA5OsnoEwUuQR4Xp/XszAbs4Q18Jz ops@laptop";
const CASES: readonly Case[] = [
    {
        key: "domain",
        stack: "do-example",
        value: "example.org",
        with: { cloudflareZoneName: "example.org" },
        config: { mailboxes: "[]", aliases: "[]", submissionApps: "[]" },
    },
    { key: "hostLabel", stack: "do-example", value: "mx" },
    { key: "operatorEmail", stack: "do-example", value: "other@example.org" },
    { key: "provider", stack: "do-example", value: "linode", with: { region: "eu-central" } },
    { key: "region", stack: "do-example", value: "ams3" },
    { key: "size", stack: "do-example", value: "s-1vcpu-2gb" },
    { key: "linodeLabel", stack: "linode-example", value: "mailhost" },
    { key: "sshPublicKeys", stack: "do-example", value: JSON.stringify([ANOTHER_KEY]) },
    { key: "sshAllowedCidrs", stack: "do-example", value: '["198.51.100.0/24"]' },
    { key: "deployFromCidrs", stack: "do-example", value: '["198.51.100.0/24"]' },
    { key: "hostGeneration", stack: "do-example", value: "2" },
    { key: "cloudflareZoneId", stack: "do-example", value: "0123456789abcdef0123456789abcdef", with: { cloudflareZoneName: "" } },
    {
        key: "cloudflareZoneName",
        stack: "do-example",
        value: "lists.example.com",
        config: {
            domain: "lists.example.com",
            cloudflareZoneName: "example.com",
            dmarcRua: "[]",
            mailboxes: "[]",
            aliases: "[]",
            submissionApps: "[]",
        },
    },
    { key: "dnsTtl", stack: "do-example", value: "300" },
    { key: "spfIncludes", stack: "do-example", value: '["_spf.example.org"]' },
    { key: "spfIp4", stack: "do-example", value: '["198.51.100.0/24"]' },
    { key: "spfIp6", stack: "do-example", value: '["2001:db8:1::/48"]' },
    { key: "spfAll", stack: "do-example", value: "~all" },
    { key: "dkimSelector", stack: "do-example", value: "s2026", with: { dkimPreviousSelectors: '["mailserver"]' } },
    { key: "dkimPreviousSelectors", stack: "do-example", value: '["s2025"]' },
    { key: "dmarcPolicy", stack: "do-example", value: "reject" },
    { key: "dmarcRua", stack: "do-example", value: '["agg@example.org"]' },
    { key: "dmarcAlignment", stack: "do-example", value: "strict" },
    { key: "ipv6", stack: "linode-example", value: "false" },
    { key: "mailboxes", stack: "do-example", value: '["alice@example.com quota=1G","bob@example.com","carol@example.com"]' },
    { key: "aliases", stack: "do-example", value: '["info@example.com alice@example.com friend@example.net"]' },
    { key: "submissionApps", stack: "linode-example", value: '["billing@example.com","shop@example.com"]' },
    { key: "relayNetworks", stack: "do-example", value: '["10.20.0.0/16"]' },
    { key: "dnsBlocklists", stack: "linode-example", value: "false" },
    { key: "extraDomains", stack: "linode-example", value: '["example.io","shop.example.io selector=s2026"]' },
    { key: "backups", stack: "do-example", value: "weekly" },
    { key: "mailboxPasswords", stack: "linode-example", value: '["alice@example.com a chosen password"]' },
    { key: "smarthost", stack: "do-example", value: "smtp.relay.example.org:587", with: { spfIncludes: '["_spf.relay.example.org"]' } },
    {
        key: "smarthostUser",
        stack: "do-example",
        value: "mailer",
        with: { smarthost: "smtp.relay.example.org:2525", smarthostPassword: "relay-api-key-1", spfIp4: '["198.51.100.0/24"]' },
    },
    {
        key: "smarthostPassword",
        stack: "linode-example",
        value: "relay-api-key-2",
        with: { smarthost: "smtp.relay.example.org:465", smarthostUser: "mailer", spfIp6: '["2001:db8:1::/48"]' },
    },
    { key: "acmeDirectoryUrl", stack: "do-example", value: "https://acme-staging-v02.api.letsencrypt.org/directory" },
    { key: "acmeCaBundle", stack: "do-example", value: new TestCa("ACME test CA").pem },
];

interface Outcome {
    /** The plan's folder: cloud-init.yaml before the change, after/cloud-init.yaml after it. */
    readonly dir: string;
    readonly status: number | null;
    readonly stderr: string;
    readonly report: ChangeReport;
}

function change(c: Case, extra: Record<string, string> = {}): Promise<Outcome> {
    const out = scratchDir("change-");
    const args = [cli, "--stack", c.stack, "--out", out];
    for (const [k, v] of Object.entries(c.config ?? {})) args.push("--config", `${k}=${v}`);
    for (const [k, v] of Object.entries({ [c.key]: c.value, ...c.with, ...extra })) args.push("--change", `${k}=${v}`);
    return new Promise((done, fail) => {
        const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (d: Buffer) => {
            stderr += d.toString();
        });
        child.on("error", fail);
        child.on("close", (status) => {
            try {
                done({
                    dir: join(out, c.stack),
                    status,
                    // Node's own ExperimentalWarning lines (Node 24 prints one when a dependency loads node:sqlite) are not the plan's.
                    stderr: stderr.replace(/^\(node:\d+\) ExperimentalWarning: .*\n\(Use `node --trace-warnings \.\.\.` .*\n/gm, ""),
                    report: JSON.parse(readFileSync(join(out, c.stack, "change.json"), "utf8")) as ChangeReport,
                });
            } catch (error) {
                fail(new Error(`no change.json for ${c.key}: ${stderr}${error}`));
            }
        });
    });
}

/** Runs `jobs` two at a time (the plans are CPU-bound). */
async function pool<T>(jobs: Array<() => Promise<T>>, width = 2): Promise<T[]> {
    const results: T[] = new Array(jobs.length);
    let next = 0;
    await Promise.all(
        Array.from({ length: width }, async () => {
            while (next < jobs.length) {
                const i = next++;
                results[i] = await jobs[i]();
            }
        }),
    );
    return results;
}

const outcomes = new Map<string, Outcome>();
const raised = new Map<string, Outcome>();

const op = (o: Outcome, type: string) => o.report.resources.filter((r) => r.type === type).map((r) => r.op);
const machineType = (c: Case) => (c.stack === "do-example" ? TYPES.droplet : TYPES.instance);

before(async () => {
    const newHost = CASES.filter((c) => CONFIG_KEYS[c.key].change === "new-host");
    const results = await pool([
        ...CASES.map((c) => () => change(c).then((o) => outcomes.set(c.key, o))),
        ...newHost.map((c) => () => change(c, { hostGeneration: "2" }).then((o) => raised.set(c.key, o))),
    ]);
    assert.equal(results.length, CASES.length + newHost.length);
});

describe("every config key, changed on a planned stack, does what the table says", () => {
    it("the table has a case here for every key but image (one supported image: nothing to change to)", () => {
        assert.deepEqual(
            Object.keys(CONFIG_KEYS).filter((k) => !CASES.some((c) => c.key === k)),
            ["image"],
        );
    });
    for (const c of CASES) {
        const spec = CONFIG_KEYS[c.key];
        it(`${c.key} (${spec.change}${spec.onHost ? ", on the host" : ""})`, () => {
            const o = outcomes.get(c.key);
            assert.ok(o);
            const { report } = o;
            assert.equal(report.kind, spec.change, JSON.stringify(report));
            if (spec.change === "new-host") {
                assert.equal(o.status, 1);
                assert.match(report.refused ?? "", new RegExp(`^${c.key}: `));
                assert.equal(o.stderr, `error: ${report.refused}\n`);
                const allowed = raised.get(c.key);
                assert.ok(allowed);
                assert.equal(allowed.status, 0, allowed.stderr);
                assert.equal(allowed.report.refused, undefined);
                // Replaced or resized in place; or, for another provider, deleted while the other provider's machine is created.
                assert.ok(
                    ["replace", "update", "delete"].includes(op(allowed, machineType(c))[0] ?? ""),
                    JSON.stringify(allowed.report.resources),
                );
                if (c.key === "provider") assert.deepEqual(op(allowed, TYPES.instance), ["create"]);
                return;
            }
            assert.equal(o.status, 0, o.stderr);
            assert.equal(report.refused, undefined);
            assert.ok(
                ["same", "update"].includes(op(o, machineType(c))[0] ?? "missing"),
                `the machine is not replaced: ${JSON.stringify(report.resources)}`,
            );
            assert.equal(
                report.applyRuns,
                spec.change === "in-place" && spec.onHost === true,
                "the apply step runs exactly for host changes",
            );
            // The host's user data is the same bytes: nothing makes the provider rebuild or re-run it.
            assert.equal(
                readFileSync(join(o.dir, "after", "cloud-init.yaml"), "utf8"),
                readFileSync(join(o.dir, "cloud-init.yaml"), "utf8"),
                "the user data is untouched",
            );
            if (spec.change === "dns-only") {
                const touched = report.resources.filter((r) => r.op !== "same");
                assert.ok(touched.length > 0, "something changes");
                for (const r of touched) {
                    assert.ok(
                        [TYPES.dnsRecord, TYPES.privateKey].includes(r.type as never) || r.type.includes("ChangeGuard"),
                        `${r.type} ${r.name} ${r.op}`,
                    );
                }
                assert.deepEqual(op(o, machineType(c)), ["same"]);
            }
        });
    }
    it("a selector change that would delete the old key's record is refused, naming the way", async () => {
        const o = await change({ key: "dkimSelector", stack: "do-example", value: "s2026" });
        assert.equal(o.status, 1);
        assert.equal(
            o.report.refused,
            'dkimSelector: changing it from "mailserver" to "s2026" would delete mailserver._domainkey while receivers still verify mail signed with it. ' +
                "Keep it published for a week or more: pulumi config set --path 'dkimPreviousSelectors[0]' mailserver",
        );
    });
    it("a Linode moved to another region (an update, to new addresses there): addresses, records and the configuration step follow", async () => {
        const o = await change({ key: "region", stack: "linode-example", value: "us-east" }, { hostGeneration: "2" });
        assert.equal(o.status, 0, o.stderr);
        assert.equal(o.report.kind, "new-host");
        assert.deepEqual(op(o, TYPES.instance), ["update"]);
        assert.equal(o.report.applyRuns, true);
        const ops = Object.fromEntries(o.report.resources.map((r) => [r.name, r.op]));
        assert.equal(ops["mail-a-mail.example.com"], "update");
        assert.equal(ops["mail-aaaa-mail.example.com"], "update");
        assert.equal(ops["mail-spf-example.com"], "update");
        assert.equal(ops["mail-dmarc-example.com"], "same");
    });
    it("IPv6 off on DigitalOcean needs a new host there (the table's note)", async () => {
        const o = await change({ key: "ipv6", stack: "do-example", value: "false" });
        assert.equal(o.status, 1);
        assert.equal(o.report.kind, "new-host");
        assert.match(o.report.refused ?? "", /^ipv6: turning it off on DigitalOcean replaces the droplet/);
        assert.match(CONFIG_KEYS.ipv6.changeNote ?? "", /DigitalOcean/);
    });
});
