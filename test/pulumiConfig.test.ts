/**
 * The Pulumi CLI's config rules (plan/pulumiConfig.ts), checked against the cases of the upstream
 * tests they encode — pulumi/pulumi at 1b5949891b3cefcb9974752b24a5ecef0acc86c8:
 * pkg/workspace/config_project_test.go, sdk/go/common/workspace/project_test.go and
 * paths_test.go — then run over this project: Pulumi.yaml × every stack file × the README's
 * deploy sequence, and a stack that sets only the required keys.
 */

import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { stringify } from "yaml";
import { CONFIG_KEYS, requiredKeys } from "../components/programConfig";
import {
    applyProjectConfig,
    loadProject,
    loadStackValues,
    type Project,
    PulumiConfigError,
    type StackValue,
    stackFilePath,
    toStackValue,
} from "../plan/pulumiConfig";
import { scratchDir } from "./support/scratch";
import { run } from "./support/tools";

const root = resolve(__dirname, "..", "..");
const cli = join(__dirname, "..", "plan", "cli.js");

/** A project directory with this Pulumi.yaml text and stack files. */
function projectDir(pulumiYaml: string, stacks: Record<string, string> = {}): string {
    const dir = scratchDir("pulumi-config-");
    writeFileSync(join(dir, "Pulumi.yaml"), pulumiYaml);
    for (const [name, text] of Object.entries(stacks)) writeFileSync(join(dir, `Pulumi.${name}.yaml`), text);
    return dir;
}

function project(config: string, stacks: Record<string, string> = {}): Project {
    return loadProject(projectDir(`name: test\nruntime: nodejs\nconfig:\n${config}`, stacks));
}

function apply(p: Project, stack = "dev"): Map<string, StackValue> {
    return applyProjectConfig(p, stack, loadStackValues(p, stack));
}

function errorOf(action: () => unknown): string {
    try {
        action();
    } catch (error) {
        assert.ok(error instanceof PulumiConfigError, String(error));
        return error.message;
    }
    assert.fail("expected the CLI to stop");
}

describe("Pulumi CLI config rules (pkg/workspace/config_project_test.go)", () => {
    it("TestStackConfigErrorsWhenMissingStackValueForConfigTypeWithNoDefault", () => {
        const p = project("  values:\n    type: array\n    items:\n      type: string\n");
        assert.equal(
            errorOf(() => apply(p)),
            "validating stack config: Stack 'dev' is missing configuration value 'values'",
        );
    });
    it("TestStackConfigErrorsWhenMissingTwoStackValueForConfigTypeWithNoDefault", () => {
        const p = project("  values:\n    type: array\n    items:\n      type: string\n  another:\n    type: string\n");
        assert.equal(
            errorOf(() => apply(p)),
            "validating stack config: Stack 'dev' is missing configuration values 'another' and 'values'",
        );
    });
    it("TestStackConfigErrorsWhenMissingMultipleStackValueForConfigTypeWithNoDefault", () => {
        const p = project(
            "  world:\n    type: string\n  values:\n    type: array\n    items:\n      type: string\n  hello:\n    type: integer\n",
        );
        assert.equal(
            errorOf(() => apply(p)),
            "validating stack config: Stack 'dev' is missing configuration values 'hello', 'values' and 'world'",
        );
    });
    it("a declared key without type or default is required too (mergeConfig does not look at the type)", () => {
        const p = project("  hint:\n    description: no type, no default\n");
        assert.equal(
            errorOf(() => apply(p)),
            "validating stack config: Stack 'dev' is missing configuration value 'hint'",
        );
    });
    it("missing keys are reported before any type error", () => {
        const p = project("  a:\n    type: integer\n  b:\n    type: string\n", { dev: "config:\n  test:a: hello\n" });
        assert.equal(
            errorOf(() => apply(p)),
            "validating stack config: Stack 'dev' is missing configuration value 'b'",
        );
    });
    it("TestStackConfigIsInheritedFromProjectConfig: defaults fill unset keys, as text; the stack wins", () => {
        const p = project("  instanceSize: t3.micro\n  instanceCount: 20\n  protect: true\n", {
            dev: "config:\n  test:instanceSize: t4.large\n",
        });
        const values = apply(p);
        assert.equal(values.get("test:instanceSize")?.text, "t4.large");
        assert.equal(values.get("test:instanceCount")?.text, "20");
        assert.equal(values.get("test:protect")?.text, "true");
    });
    it("TestNamespacedConfigValuesAreInheritedCorrectly: other namespaces take a value; lists become JSON", () => {
        const p = project('  aws:region:\n    value: us-west-1\n  pulumi:disable-default-providers:\n    value: ["*"]\n');
        const values = apply(p);
        assert.equal(values.get("aws:region")?.text, "us-west-1");
        assert.deepEqual(values.get("pulumi:disable-default-providers"), { text: '["*"]', object: true, secure: false });
    });
    it("TestLoadingStackConfigWithoutNamespacingTheProject: a stack key without namespace is the project's", () => {
        const p = project("  instanceSize: t3.micro\n", { dev: "config:\n  instanceSize: t4.large\n" });
        assert.equal(apply(p).get("test:instanceSize")?.text, "t4.large");
    });
    it("TestUntypedProjectConfigValuesAreNotValidated and undeclared stack keys are accepted silently", () => {
        const p = project("  instanceSize: t3.micro\n", {
            dev: "config:\n  test:instanceSize: 9999\n  test:undeclared: 42\n  aws:region: 42\n",
        });
        assert.equal(apply(p).get("test:undeclared")?.text, "42");
    });
    it("TestStackConfigErrorsWhenStackValueIsNotCorrectlyTyped", () => {
        const p = project("  values:\n    type: array\n    items:\n      type: string\n    default: [value]\n", {
            dev: "config:\n  test:values: someValue\n",
        });
        assert.equal(
            errorOf(() => apply(p)),
            "validating stack config: Stack 'dev' with configuration key 'values' must be of type 'array<string>'",
        );
    });
    it("TestStackConfigIntegerTypeIsCorrectlyValidated, with strconv.Atoi's strictness", () => {
        const withValue = (v: string) =>
            project("  importantNumber:\n    type: integer\n", { dev: `config:\n  test:importantNumber: ${v}\n` });
        assert.equal(apply(withValue("20")).get("test:importantNumber")?.text, "20");
        for (const bad of ["hello", '"3600abc"', '" 42"', '"1.5"', '""']) {
            assert.equal(
                errorOf(() => apply(withValue(bad))),
                "validating stack config: Stack 'dev' with configuration key 'importantNumber' must be of type 'integer'",
                bad,
            );
        }
    });
    it("booleans: exactly true or false (YAML True is a boolean; quoted ones are text)", () => {
        const withValue = (v: string) => project("  flag:\n    type: boolean\n", { dev: `config:\n  test:flag: ${v}\n` });
        assert.equal(apply(withValue("True")).get("test:flag")?.text, "true");
        for (const bad of ['"True"', "yes", "1"]) {
            assert.equal(
                errorOf(() => apply(withValue(bad))),
                "validating stack config: Stack 'dev' with configuration key 'flag' must be of type 'boolean'",
                bad,
            );
        }
    });
    it("TestStackConfigSecretIsCorrectlyValidated", () => {
        const withValue = (v: string) =>
            project("  importantNumber:\n    type: integer\n    secret: true\n", { dev: `config:\n  test:importantNumber: ${v}\n` });
        assert.equal(apply(withValue("\n    secure: AAABAG2kd3Xz")).get("test:importantNumber")?.secure, true);
        assert.equal(
            errorOf(() => apply(withValue("20"))),
            "validating stack config: Stack 'dev' with configuration key 'importantNumber' must be encrypted as it's secret",
        );
    });
    it("a stack value that is null counts as set, as an empty string (loaders.go)", () => {
        const p = project("  name:\n    type: string\n", { dev: "config:\n  test:name:\n" });
        assert.deepEqual(apply(p).get("test:name"), { text: "", object: false, secure: false });
    });
});

describe("Pulumi CLI project rules (sdk/go/common/workspace/project_test.go, paths_test.go)", () => {
    const cases: Array<[string, string, string]> = [
        [
            "TestNamespacedProjectConfigShouldNotBeExplicitlyTyped",
            "  aws:region:\n    type: string\n",
            "Configuration key 'aws:region' is not namespaced by the project and should not define a type",
        ],
        [
            "TestNamespacedProjectConfigShouldNotBeProvideDefault",
            "  aws:region:\n    default: us-west-1\n",
            "Configuration key 'aws:region' is not namespaced by the project and should not define a default value. Did you mean to use the 'value' attribute instead of 'default'?",
        ],
        [
            "a namespaced key needs a value",
            "  aws:region:\n    description: where\n",
            "Configuration key 'aws:region' is namespaced and must provide an attribute 'value'",
        ],
        [
            "TestProjectConfigCannotHaveBothValueAndDefault",
            "  instanceSize:\n    default: t3.micro\n    value: t4.large\n",
            "project config 'instanceSize' cannot have both a 'default' and 'value' attribute",
        ],
        [
            "TestProjectConfigCannotBeTypedArrayWithoutItems",
            "  instanceSize:\n    type: array\n",
            "The configuration key 'instanceSize' declares an array but does not specify the underlying type via the 'items' attribute",
        ],
        [
            "TestProjectValidationFailsForIncorrectDefaultValueType",
            "  instanceSize:\n    type: integer\n    default: hello\n",
            "The default value specified for configuration key 'instanceSize' is not of the expected type 'integer'",
        ],
        [
            "TestProjectValidationFailsForIncorrectDefaultValueType (nested array)",
            "  values:\n    type: array\n    items:\n      type: array\n      items:\n        type: string\n    default: [value]\n",
            "The default value specified for configuration key 'values' is not of the expected type 'array<array<string>>'",
        ],
    ];
    for (const [title, config, message] of cases)
        it(title, () =>
            assert.equal(
                errorOf(() => project(config)),
                message,
            ),
        );

    it("TestProjectStackPath: <stackConfigDir>/Pulumi.<stack>.yaml, / in the name as -", () => {
        const plain = loadProject(projectDir("name: test\nruntime: nodejs\n"));
        assert.equal(stackFilePath(plain, "my_stack"), join(plain.dir, "Pulumi.my_stack.yaml"));
        const withDir = loadProject(projectDir("name: test\nruntime: nodejs\nstackConfigDir: stacks\n"));
        assert.equal(stackFilePath(withDir, "org/my_stack"), join(withDir.dir, "stacks", "Pulumi.org-my_stack.yaml"));
        const legacy = loadProject(projectDir("name: test\nruntime: nodejs\nconfig: stacks\n"));
        assert.equal(stackFilePath(legacy, "my_stack"), join(legacy.dir, "stacks", "Pulumi.my_stack.yaml"));
        assert.equal(
            errorOf(() => loadProject(projectDir("name: test\nruntime: nodejs\nconfig: a\nstackConfigDir: b\n"))),
            "Should not use both config and stackConfigDir to define the stack directory. Use only stackConfigDir instead.",
        );
    });
});

/** `pulumi config set [--secret] [--path] <key> [value]` lines of the README's deploy sequence, applied to an empty stack. */
function readmeDeploySequence(): { stack: string; values: Map<string, StackValue> } {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const block = /## Deploying for real[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(block, "the README has a deploy sequence");
    const stack = /pulumi stack init (\S+)/.exec(block)?.[1];
    assert.ok(stack, "the sequence creates a stack");
    const values = new Map<string, StackValue>();
    const lists = new Map<string, string[]>();
    for (const line of block.split("\n")) {
        const command = /^pulumi config set (.*?)\s*(?:#.*)?$/.exec(line)?.[1];
        if (!command) continue;
        const words = command.match(/'[^']*'|"[^"]*"|\S+/g)?.map((w) => w.replace(/^['"]|['"]$/g, "")) ?? [];
        const secret = words.includes("--secret");
        const [key, value] = words.filter((w) => !w.startsWith("--"));
        const full = key.includes(":") ? key : `mailserver:${key}`;
        // A value read from the user's files stands for a real one: this public key.
        const text = value === "$(cat ~/.ssh/id_ed25519.pub)" ? SSH_KEY : value;
        const element = /^(.*)\[(\d+)\]$/.exec(full);
        if (element) {
            const list = lists.get(element[1]) ?? [];
            list[Number(element[2])] = text;
            lists.set(element[1], list);
            values.set(element[1], toStackValue(list));
        } else {
            values.set(full, secret ? { text: "v1:ciphertext", object: false, secure: true } : toStackValue(text));
        }
    }
    return { stack, values };
}

const SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA2PpFAEz5oulgsbA5OsnoEwUuQR4Xp/XszAbs4Q18Jz you@laptop";

describe("this project under the CLI's rules", () => {
    const own = loadProject(root);
    const stackFiles = readdirSync(join(root, "stacks"))
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined);

    it("Pulumi.yaml loads: stack files under stacks/, every optional key with a default", () => {
        assert.equal(own.stackConfigDir, "stacks");
        assert.deepEqual(
            Object.entries(own.config)
                .filter(([, d]) => d.default === undefined)
                .map(([key]) => key)
                .sort(),
            requiredKeys().sort(),
        );
        assert.deepEqual(requiredKeys().sort(), ["domain", "operatorEmail", "provider", "region"]);
    });
    for (const stack of stackFiles) {
        it(`stacks/Pulumi.${stack}.yaml passes the CLI's validation and sets every required key`, () => {
            const values = applyProjectConfig(own, stack, loadStackValues(own, stack));
            for (const key of Object.keys(CONFIG_KEYS)) assert.ok(values.has(`mailserver:${key}`), key);
        });
    }
    it("the README's deploy sequence passes the CLI's validation", () => {
        const { stack, values } = readmeDeploySequence();
        const merged = applyProjectConfig(own, stack, values);
        assert.equal(merged.get("mailserver:provider")?.text, "digitalocean");
        assert.equal(merged.get("mailserver:sshPublicKeys")?.text, JSON.stringify([SSH_KEY]));
        assert.equal(merged.get("digitalocean:token")?.secure, true);
    });
    it("the README's deploy sequence without its region stops the way the CLI would", () => {
        const { stack, values } = readmeDeploySequence();
        values.delete("mailserver:region");
        assert.equal(
            errorOf(() => applyProjectConfig(own, stack, values)),
            `validating stack config: Stack '${stack}' is missing configuration value 'region'`,
        );
    });

    /** A copy of this project's Pulumi.yaml with one stack file, planned by `npm start`'s CLI. */
    function planStack(config: Record<string, unknown>, ...extra: string[]) {
        const dir = scratchDir("project-");
        writeFileSync(join(dir, "Pulumi.yaml"), readFileSync(join(root, "Pulumi.yaml")));
        mkdirSync(join(dir, "stacks"));
        writeFileSync(join(dir, "stacks", "Pulumi.minimal.yaml"), stringify({ config }));
        return run(process.execPath, [cli, "--project", dir, "--stack", "minimal", "--out", join(dir, "out"), ...extra]);
    }
    const required = {
        "mailserver:domain": "example.com",
        "mailserver:operatorEmail": "ops@example.net",
        "mailserver:provider": "linode",
        "mailserver:region": "eu-central",
    };
    it("a stack that sets only the required keys plans (npm start)", () => {
        const result = planStack(required);
        assert.equal(result.status, 0, result.stderr);
        assert.match(result.stdout, /Stack minimal: planned offline/);
    });
    it("npm start stops with the CLI's own message when a required key is missing", () => {
        const result = planStack({ "mailserver:domain": "example.com", "mailserver:provider": "linode" });
        assert.equal(result.status, 1);
        assert.equal(
            result.stderr,
            "error: validating stack config: Stack 'minimal' is missing configuration values 'operatorEmail' and 'region'\n",
        );
    });
    it("npm start stops with the CLI's own message on a wrongly typed value", () => {
        const result = planStack({ ...required, "mailserver:dnsTtl": "3600abc" });
        assert.equal(result.status, 1);
        assert.equal(
            result.stderr,
            "error: validating stack config: Stack 'minimal' with configuration key 'dnsTtl' must be of type 'integer'\n",
        );
    });
    it("bad values given as config text stop the plan with one line naming the key, never a stack trace", () => {
        const cases: Array<[string, string]> = [
            [
                "operatorEmail=|touch${IFS}/tmp/pwned&@example.net",
                'error: MailServer "mail": operatorEmail: "|touch${IFS}/tmp/pwned&@example.net" is not a plain e-mail address: the part before @ may hold only letters, digits and . _ + - (at most 64)\n',
            ],
            [
                'spfIp6=["::ffff:0:0/96"]',
                'error: MailServer "mail": spfIp6: "::ffff:0:0/96" is an IPv4-mapped IPv6 address (::ffff:…), which never appears on the wire; give the IPv4 address\n',
            ],
            ["spfIp4=[", 'error: mailserver:spfIp4: "[" starts like a list or object but is not JSON (Unexpected end of JSON input)\n'],
            [
                "acmeDirectoryUrl=https:acme.example/dir",
                'error: MailServer "mail": acmeDirectoryUrl: "https:acme.example/dir" has no host after https://; give the https:// URL of an ACME directory\n',
            ],
        ];
        for (const [pair, stderr] of cases) {
            const result = planStack(required, "--config", pair);
            assert.equal(result.status, 1, pair);
            assert.equal(result.stderr, stderr, pair);
            assert.doesNotMatch(result.stderr + result.stdout, /\n\s+at /, pair);
        }
    });
    it("a misspelled key is an error naming the closest known key", () => {
        const result = planStack({ ...required, "mailserver:dmarcpolicy": "reject" });
        assert.equal(result.status, 1);
        assert.equal(result.stderr, "error: mailserver:dmarcpolicy: unknown configuration key; did you mean 'mailserver:dmarcPolicy'?\n");
    });
});
