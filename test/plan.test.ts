import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { KeyStore, throwawayEd25519Key } from "../plan/throwawayKey";
import { scratchDir } from "./support/scratch";
import { run } from "./support/tools";

const cli = resolve(__dirname, "..", "plan", "cli.js");

/** Runs `npm start -- --stack <stack>` (the compiled CLI) into a temporary directory. */
function plan(stack: string, ...extra: string[]) {
    const out = scratchDir("plan-");
    const result = run(process.execPath, [cli, "--stack", stack, "--out", out, ...extra]);
    assert.equal(result.status, 0, result.stderr);
    const read = (file: string) => readFileSync(join(out, stack, file), "utf8");
    return { stdout: result.stdout, resources: read("resources.json"), zone: read("zone.txt"), cloudInit: read("cloud-init.yaml"), read };
}

for (const [stack, machine, expectedTypes] of [
    ["do-example", "digitalocean:index/droplet:Droplet", 27],
    ["linode-example", "linode:index/instance:Instance", 28],
] as const) {
    describe(`offline plan of ${stack}`, () => {
        const result = plan(stack);
        const resources = JSON.parse(result.resources) as Array<{
            type: string;
            name: string;
            parent: string | null;
            inputs: Record<string, unknown>;
        }>;

        it("lists every resource with type, name, parent and inputs", () => {
            assert.equal(resources.length, expectedTypes);
            assert.equal(resources[0].type, "pulumi:pulumi:Stack");
            assert.equal(resources[0].parent, null);
            assert.equal(resources.find((r) => r.type === "mailserver:index:MailServer")?.parent, `mailserver-${stack}`);
            for (const r of resources.slice(2)) assert.equal(r.parent, "mail", `${r.name} is a child of the component`);
        });

        it("masks secrets: no private key anywhere in resources.json or the summary", () => {
            assert.doesNotMatch(result.resources, /PRIVATE KEY/);
            assert.doesNotMatch(result.stdout, /PRIVATE KEY/);
            const host = resources.find((r) => r.type === machine);
            assert.ok(host);
            assert.equal(host.inputs[machine.startsWith("linode") ? "metadatas" : "userData"], "[secret]");
            const steps = resources.filter((r) => r.type === "command:remote:Command");
            assert.deepEqual(
                steps.map((r) => [r.name, r.inputs.stdin]),
                [
                    ["mail-apply", "[secret]"],
                    ["mail-commit", "[secret]"],
                ],
            );
            for (const step of steps) assert.equal(step.inputs.connection, "[secret]");
            const guard = resources.find((r) => r.type === "pulumi-nodejs:dynamic/mailserver:ChangeGuard");
            assert.match(String(guard?.inputs.__provider), /^<the dynamic provider, serialized: \d+ characters>$/);
        });

        it("writes the zone with every record and the PTRs", () => {
            for (const line of [
                /^mail\.example\.com\.\s+3600 IN A\s+192\.0\.2\.10 /m,
                /^mail\.example\.com\.\s+3600 IN AAAA\s+2001:db8::10 /m,
                /^example\.com\.\s+3600 IN MX\s+10 mail\.example\.com\. /m,
                /^example\.com\.\s+3600 IN TXT\s+"v=spf1 ip4:192\.0\.2\.10 ip6:2001:db8::10 /m,
                /^mailserver\._domainkey\.example\.com\.\s+3600 IN TXT\s+"v=DKIM1; k=rsa; h=sha256; p=[^"]{227}" "[^"]{165}"/m,
                /^_dmarc\.example\.com\.\s+3600 IN TXT\s+"v=DMARC1; /m,
                /^10\.2\.0\.192\.in-addr\.arpa\.\s+3600 IN PTR\s+mail\.example\.com\. /m,
                /^0\.1\.0\.0(\.0){20}\.8\.b\.d\.0\.1\.0\.0\.2\.ip6\.arpa\.\s+3600 IN PTR\s+mail\.example\.com\. /m,
            ]) {
                assert.match(result.zone, line);
            }
        });

        it("writes one zone-file section per zone: the primary domain's, the second domain's, then the reverse zones", () => {
            assert.deepEqual(
                result.zone.split("\n").filter((l) => l.startsWith("; zone ")),
                [
                    "; zone example.com.",
                    "; zone example.io.",
                    "; zone 2.0.192.in-addr.arpa.",
                    "; zone 0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.",
                ],
            );
            const section = result.zone.split("\n\n")[1];
            for (const line of [
                /^mailserver\._domainkey\.example\.io\.\s+3600 IN TXT\s+"v=DKIM1; k=rsa; h=sha256; p=[^"]{227}" "[^"]{165}"/m,
                /^example\.io\.\s+3600 IN MX\s+10 mail\.example\.com\. /m,
                /^example\.io\.\s+3600 IN TXT\s+"v=spf1 ip4:192\.0\.2\.10 ip6:2001:db8::10 /m,
                /^_dmarc\.example\.io\.\s+3600 IN TXT\s+"v=DMARC1; /m,
            ]) {
                assert.match(section, line);
            }
            // Two different keys: the second domain's is its own.
            const key = (name: string) => new RegExp(`^${name.replace(/\./g, "\\.")}\\.\\s.*p=([^"]+)"`, "m").exec(result.zone)?.[1];
            assert.ok(key("mailserver._domainkey.example.io"));
            assert.notEqual(key("mailserver._domainkey.example.io"), key("mailserver._domainkey.example.com"));
        });

        it("generates a password per mailbox, writes the throwaway ones labelled, and only their hashes reach the bundle", () => {
            const passwords = resources.filter((r) => r.type === "random:index/randomPassword:RandomPassword");
            assert.deepEqual(
                passwords.map((r) => [r.name, r.inputs.length, r.inputs.special]),
                [
                    ["mail-password-alice@example.com", 24, false],
                    ["mail-password-bob@example.com", 24, false],
                    ["mail-password-dave@example.io", 24, false],
                    ["mail-app-password-billing@example.com", 24, false],
                ],
            );
            const file = JSON.parse(result.read("mailbox-passwords.json")) as {
                throwaway: string;
                passwords: Record<string, string>;
                apps: Record<string, string>;
            };
            assert.match(file.throwaway, /^THROWAWAY passwords of the offline plan/);
            assert.deepEqual(Object.keys(file.passwords), ["alice@example.com", "bob@example.com", "dave@example.io"]);
            assert.deepEqual(Object.keys(file.apps), ["billing@example.com"]);
            const bundle = result.read("commit/bundle.json");
            for (const password of [...Object.values(file.passwords), ...Object.values(file.apps)]) {
                assert.match(password, /^offline[0-9a-f]{17}$/);
                assert.equal(bundle.includes(password), false, "no password in the bundle");
                assert.equal(result.resources.includes(password), false, "no password in resources.json");
                assert.equal(result.stdout.includes(password), false, "no password in the summary");
            }
            assert.match(bundle, /alice@example\.com:\{ARGON2ID\}\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
        });

        it("writes the exact user data the provider receives, labelled as holding a throwaway key", () => {
            const lines = result.cloudInit.split("\n");
            assert.equal(lines[0], "#cloud-config");
            assert.match(lines[2], /^# THROWAWAY KEY: /);
            const exact = [lines[0], ...lines.slice(5)].join("\n");
            const sha = /sha256 of the exact user data .*: ([0-9a-f]{64})$/.exec(lines[4])?.[1];
            assert.equal(createHash("sha256").update(exact).digest("hex"), sha);
            const doc = parse(result.cloudInit) as { ssh_keys: { ed25519_private: string } };
            assert.match(doc.ssh_keys.ed25519_private, /^-----BEGIN OPENSSH PRIVATE KEY-----/);
            assert.doesNotMatch(result.cloudInit, /RSA PRIVATE KEY/);
        });

        it("writes the configuration step's two stages: command and connection, the bundle and the deploy key (throwaways, labelled)", () => {
            for (const [dir, stage, resource] of [
                ["apply", "prepare", "mail-apply"],
                ["commit", "commit", "mail-commit"],
            ]) {
                const step = JSON.parse(result.read(`${dir}/step.json`)) as Record<string, unknown>;
                assert.match(String(step.throwaway), /throwaway keys of the offline plan, never deployed/);
                assert.equal(step.stage, stage);
                assert.equal(step.resource, resource);
                assert.equal(step.command, "/usr/local/sbin/mailserver-apply");
                assert.equal(step.host, "192.0.2.10");
                assert.equal(step.user, "mailserver-deploy");
                const bundle = result.read(`${dir}/bundle.json`);
                assert.equal(step.bundleSha256, createHash("sha256").update(bundle).digest("hex"));
                assert.deepEqual(
                    [(JSON.parse(bundle) as { format: string }).format, (JSON.parse(bundle) as { stage: string }).stage],
                    ["mailserver-bundle/1", stage],
                );
                assert.equal(result.read(`${dir}/deploy-key`), result.read("apply/deploy-key"));
            }
            assert.match(result.read("apply/deploy-key"), /^-----BEGIN OPENSSH PRIVATE KEY-----/);
            const commit = JSON.parse(result.read("commit/step.json")) as { dependsOn: string[] };
            assert.ok(commit.dependsOn.includes("mail-apply"), commit.dependsOn.join(", "));
            assert.ok(commit.dependsOn.includes("mail-spf-example.com"), commit.dependsOn.join(", "));
        });

        it("is deterministic: planned again, every file is byte-identical (throwaway keys are kept per stack)", () => {
            const again = plan(stack);
            for (const file of [
                "resources.json",
                "zone.txt",
                "cloud-init.yaml",
                "apply/step.json",
                "apply/bundle.json",
                "commit/step.json",
                "commit/bundle.json",
                "plan-digest.json",
            ]) {
                assert.equal(again.read(file), result.read(file), file);
            }
        });

        it("prints a readable summary", () => {
            assert.match(result.stdout, new RegExp(`^Stack ${stack}: planned offline under mocks; nothing was created\\.$`, "m"));
            assert.match(result.stdout, /^ {2}Host {7}mail\.example\.com {2}192\.0\.2\.10 {2}2001:db8::10/m);
            assert.match(result.stdout, /^ {2}Still to do by hand$/m);
        });
    });
}

describe("offline plan options", () => {
    it("applies --config like pulumi config set (the lab's ACME server)", () => {
        const result = plan("do-example", "--config", "acmeDirectoryUrl=https://192.0.2.40:14000/dir");
        assert.match(result.read("apply/bundle.json"), /ACME_SERVER='https:\/\/192\.0\.2\.40:14000\/dir'/);
    });
    it("prints its usage with --help, and refuses an unknown option with it", () => {
        const help = run(process.execPath, [cli, "--help"]);
        assert.equal(help.status, 0);
        assert.match(
            help.stdout,
            /^usage: npm start \[-- --stack <name>\] \[--config key=value …\] \[--change key=value …\] \[--out <dir>\]\n/,
        );
        const bad = run(process.execPath, [cli, "--stak", "do-example"]);
        assert.equal(bad.status, 2);
        assert.match(bad.stderr, /^Unknown option '--stak'.*\nusage: npm start /s);
    });
    it("refuses an unknown stack, naming the ones there are", () => {
        const result = run(process.execPath, [cli, "--stack", "nope"]);
        assert.equal(result.status, 2);
        assert.equal(result.stderr, "--stack: no stacks/Pulumi.nope.yaml; stacks: do-example, linode-example\n");
    });
    it("reports a bad config value by argument", () => {
        const result = run(process.execPath, [cli, "--stack", "do-example", "--out", scratchDir("plan-"), "--config", "dmarcPolicy=block"]);
        assert.equal(result.status, 1);
        assert.match(result.stderr, /MailServer "mail": dmarcPolicy: "block" is not one of none, quarantine, reject/);
    });
});

describe("throwaway keys of a stack (KeyStore)", () => {
    it("are made once per resource name and read back by a later plan", () => {
        const dir = scratchDir("keys-");
        const first = new KeyStore(dir).get("mail-host-key", "ED25519", () => throwawayEd25519Key("a"));
        const again = new KeyStore(dir).get("mail-host-key", "ED25519", () => assert.fail("the stored key is used"));
        assert.deepEqual(again, first);
    });
    it("when two plans make the same key at once, the one published first is both plans' key", () => {
        const dir = scratchDir("keys-");
        const early = new KeyStore(dir);
        const late = new KeyStore(dir);
        const winner = throwawayEd25519Key("winner");
        // The late plan makes its key, and while it does the early one publishes its own.
        const got = late.get("mail-deploy-key", "ED25519", () => {
            early.get("mail-deploy-key", "ED25519", () => winner);
            return throwawayEd25519Key("loser");
        });
        assert.deepEqual(got, winner);
        assert.deepEqual(
            new KeyStore(dir).get("mail-deploy-key", "ED25519", () => assert.fail("stored")),
            winner,
        );
        assert.deepEqual(readdirSync(dir), ["mail-deploy-key.json"], "no temporary file is left");
    });
});
