import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { MailServer as FromRoot } from "mailserver";
import { HostProvider, MailServer } from "../components";
import { DEFAULTS, resolveConfig } from "../components/config";
import { PROGRAM_CONFIG } from "../components/programConfig";
import type { MailServerArgs } from "../components/args";

const root = resolve(__dirname, "..", "..");
const project = parse(readFileSync(join(root, "Pulumi.yaml"), "utf8")) as {
    name: string;
    runtime: { name: string };
    main: string;
    stackConfigDir: string;
    config: Record<string, { type: string; description: string; default?: unknown }>;
};

describe("Pulumi.yaml", () => {
    it("is a nodejs project running index.ts with stack files under stacks/", () => {
        assert.equal(project.name, "mailserver");
        assert.equal(project.runtime.name, "nodejs");
        assert.equal(project.main, "index.ts");
        assert.equal(project.stackConfigDir, "stacks");
    });

    it("declares exactly the program's config keys with the same types and a description each", () => {
        assert.deepEqual(Object.keys(project.config).sort(), Object.keys(PROGRAM_CONFIG).sort());
        for (const [key, type] of Object.entries(PROGRAM_CONFIG)) {
            assert.equal(project.config[key].type, type, key);
            assert.ok(project.config[key].description.length > 20, `${key} has a description`);
        }
    });

    it("declares only defaults equal to the component's own", () => {
        const defaults = Object.fromEntries(Object.entries(project.config).filter(([, v]) => v.default !== undefined).map(([k, v]) => [k, v.default]));
        assert.deepEqual(defaults, {
            hostLabel: DEFAULTS.hostLabel,
            dnsTtl: DEFAULTS.dnsTtl,
            spfAll: DEFAULTS.spfAll,
            dkimSelector: DEFAULTS.dkimSelector,
            dmarcPolicy: DEFAULTS.dmarcPolicy,
            dmarcAlignment: DEFAULTS.dmarcAlignment,
            ipv6: DEFAULTS.ipv6,
            acmeDirectoryUrl: DEFAULTS.acmeDirectoryUrl,
        });
    });
});

describe("stacks/", () => {
    const files = readdirSync(join(root, "stacks")).filter((f) => f.endsWith(".yaml"));
    it("has the DigitalOcean and Linode examples", () => {
        assert.deepEqual(files.sort(), ["Pulumi.do-example.yaml", "Pulumi.linode-example.yaml"]);
    });
    for (const file of files) {
        it(`${file}: valid arguments, Cloudflare zone, placeholder domain, no plain-text secret`, () => {
            const text = readFileSync(join(root, "stacks", file), "utf8");
            const config = (parse(text) as { config: Record<string, unknown> }).config;
            const args = Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace(/^mailserver:/, ""), v])) as unknown as MailServerArgs;
            const resolved = resolveConfig(args);
            assert.equal(resolved.host.domain, "example.com");
            assert.deepEqual(resolved.zone, { name: "example.com" });
            assert.equal(file.includes("linode") ? HostProvider.Linode : HostProvider.DigitalOcean, resolved.provider);
            assert.doesNotMatch(text, /^\s*(digitalocean:token|linode:token|cloudflare:apiToken):\s*[^\s{]/m);
        });
    }
});

describe("package root", () => {
    it("exports MailServer (import { MailServer } from \"mailserver\")", () => {
        assert.equal(FromRoot, MailServer);
        assert.equal(typeof MailServer, "function");
    });
});
