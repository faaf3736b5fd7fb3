import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { MailServer as FromRoot } from "mailserver";
import { parse } from "yaml";
import { HostProvider, MailServer } from "../components";
import type { MailServerArgs } from "../components/args";
import { DEFAULTS, resolveConfig } from "../components/config";
import { argsFromConfig, CONFIG_KEYS, PROJECT, ProgramConfigError, pulumiYamlConfig } from "../components/programConfig";
import { programConfig } from "../plan/program";
import { renderPulumiYaml, renderReadme } from "../plan/projectFiles";

const root = resolve(__dirname, "..", "..");
const project = parse(readFileSync(join(root, "Pulumi.yaml"), "utf8")) as {
    name: string;
    runtime: { name: string };
    main: string;
    stackConfigDir: string;
    config: Record<string, unknown>;
};

describe("Pulumi.yaml and the README, from the config-key table", () => {
    it("is a nodejs project running index.ts with stack files under stacks/", () => {
        assert.equal(project.name, PROJECT);
        assert.equal(project.runtime.name, "nodejs");
        assert.equal(project.main, "index.ts");
        assert.equal(project.stackConfigDir, "stacks");
    });

    it("declares exactly the table's keys, types, descriptions and defaults (npm run sync writes it)", () => {
        const text = readFileSync(join(root, "Pulumi.yaml"), "utf8");
        assert.equal(text, renderPulumiYaml(text));
        assert.deepEqual(project.config, pulumiYamlConfig());
    });

    it("the README's table of keys is the table's", () => {
        const text = readFileSync(join(root, "README.md"), "utf8");
        assert.equal(text, renderReadme(text));
        assert.match(
            text,
            /\| `dnsTtl` \| integer \| `3600` \| TTL of every record in seconds: 1 \(Cloudflare automatic\) or 60-86400\. \|/,
        );
    });

    it("defaults are the component's own: a key left at its default resolves like an absent argument", () => {
        const required = { domain: "example.com", operatorEmail: "ops@example.net", provider: "digitalocean", region: "fra1" };
        const fromDefaults = argsFromConfig(
            Object.fromEntries(
                Object.entries(pulumiYamlConfig()).map(([key, d]) => [
                    `${PROJECT}:${key}`,
                    d.default === undefined
                        ? required[key as keyof typeof required]
                        : typeof d.default === "string"
                          ? d.default
                          : JSON.stringify(d.default),
                ]),
            ),
        );
        assert.deepEqual(resolveConfig(fromDefaults), resolveConfig(required as MailServerArgs));
        assert.deepEqual(DEFAULTS, {
            hostLabel: CONFIG_KEYS.hostLabel.default,
            dnsTtl: CONFIG_KEYS.dnsTtl.default,
            spfAll: CONFIG_KEYS.spfAll.default,
            dkimSelector: CONFIG_KEYS.dkimSelector.default,
            dmarcPolicy: CONFIG_KEYS.dmarcPolicy.default,
            dmarcAlignment: CONFIG_KEYS.dmarcAlignment.default,
            ipv6: CONFIG_KEYS.ipv6.default,
            dnsBlocklists: CONFIG_KEYS.dnsBlocklists.default,
            acmeDirectoryUrl: CONFIG_KEYS.acmeDirectoryUrl.default,
            deployFromCidrs: CONFIG_KEYS.deployFromCidrs.default,
            hostGeneration: CONFIG_KEYS.hostGeneration.default,
        });
    });
});

describe("the program's config (argsFromConfig)", () => {
    it("parses every type strictly and takes an empty string as the component's default", () => {
        const args = argsFromConfig({
            "mailserver:domain": "example.com",
            "mailserver:dnsTtl": "+300",
            "mailserver:ipv6": "false",
            "mailserver:spfIp4": '["198.51.100.0/24"]',
            "mailserver:size": "",
            "aws:region": "not ours",
        });
        assert.deepEqual(args, { domain: "example.com", dnsTtl: 300, ipv6: false, spfIp4: ["198.51.100.0/24"] });
    });
    const refused: Array<[string, string, string]> = [
        ["dnsTtl", "3600abc", `mailserver:dnsTtl: "3600abc" is not of type 'integer'`],
        ["dnsTtl", "1e3", `mailserver:dnsTtl: "1e3" is not of type 'integer'`],
        ["dnsTtl", " 42", `mailserver:dnsTtl: " 42" is not of type 'integer'`],
        ["ipv6", "True", `mailserver:ipv6: "True" is not of type 'boolean'`],
        ["ipv6", "1", `mailserver:ipv6: "1" is not of type 'boolean'`],
        ["spfIp4", "198.51.100.0/24", `mailserver:spfIp4: "198.51.100.0/24" is not of type 'array<string>'`],
        ["spfIp4", "[1]", `mailserver:spfIp4: "[1]" is not of type 'array<string>'`],
        ["dmarcpolicy", "reject", "mailserver:dmarcpolicy: unknown configuration key; did you mean 'mailserver:dmarcPolicy'?"],
        ["sshAllowedCidr", "[]", "mailserver:sshAllowedCidr: unknown configuration key; did you mean 'mailserver:sshAllowedCidrs'?"],
        ["ttl", "60", "mailserver:ttl: unknown configuration key; did you mean 'mailserver:dnsTtl'?"],
    ];
    for (const [key, value, message] of refused) {
        it(`refuses ${key}=${JSON.stringify(value)}`, () => {
            assert.throws(
                () => argsFromConfig({ [`mailserver:${key}`]: value }),
                (error: Error) => error instanceof ProgramConfigError && error.message === message,
            );
        });
    }
});

describe("secret keys (argsFromConfig)", () => {
    const relay = {
        "mailserver:smarthost": "smtp.relay.example.org:587",
        "mailserver:smarthostUser": "mailer",
        "mailserver:smarthostPassword": "relay-api-key",
    };
    const plainText =
        "mailserver:smarthostPassword: is in the stack's config in plain text; set it encrypted: pulumi config set --secret mailserver:smarthostPassword <value>";
    it("refuses smarthostPassword in plain text, without quoting it", () => {
        assert.throws(
            () => argsFromConfig(relay, () => false),
            (error: Error) => error instanceof ProgramConfigError && error.message === plainText,
        );
    });
    it("takes it when the CLI hands it over as a secret", () => {
        assert.equal(argsFromConfig(relay, (key) => key === "mailserver:smarthostPassword").smarthostPassword, "relay-api-key");
    });
    it("reads which keys are secret where the language host puts them (the SDK's runtime config), with a control", () => {
        pulumi.runtime.setAllConfig(relay, ["mailserver:smarthostPassword"]);
        assert.equal(argsFromConfig().smarthostPassword, "relay-api-key");
        pulumi.runtime.setAllConfig(relay, []);
        assert.throws(
            () => argsFromConfig(),
            (error: Error) => error.message === plainText,
        );
        pulumi.runtime.setAllConfig({}, []);
    });
    it("the empty default needs no secret", () => {
        assert.deepEqual(
            argsFromConfig({ "mailserver:smarthostPassword": "" }, () => false),
            {},
        );
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
            const stack = file.replace(/^Pulumi\.|\.yaml$/g, "");
            const { config } = programConfig(root, stack);
            const resolved = resolveConfig(argsFromConfig(config));
            assert.equal(resolved.host.domain, "example.com");
            assert.deepEqual(resolved.zone, { name: "example.com" });
            assert.equal(file.includes("linode") ? HostProvider.Linode : HostProvider.DigitalOcean, resolved.provider);
            assert.doesNotMatch(text, /^\s*(digitalocean:token|linode:token|cloudflare:apiToken):\s*[^\s{]/m);
        });
    }
});

describe("package root", () => {
    it('exports MailServer (import { MailServer } from "mailserver")', () => {
        assert.equal(FromRoot, MailServer);
        assert.equal(typeof MailServer, "function");
    });
});
