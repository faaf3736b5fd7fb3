import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";

const ROOT = join(__dirname, "..", "..");
const SECRETS = ["PULUMI_ACCESS_TOKEN", "DIGITALOCEAN_TOKEN", "LINODE_TOKEN", "CLOUDFLARE_API_TOKEN"];
const TOKEN_ENV = Object.fromEntries(SECRETS.map((s) => [s, `\${{ secrets.${s} }}`]));

interface Workflow {
    on: unknown;
    permissions: Record<string, string>;
    concurrency?: unknown;
    jobs: Record<string, Record<string, unknown> & { steps: Record<string, unknown>[] }>;
}

function workflow(file: string): Workflow {
    return parse(readFileSync(join(ROOT, ".github", "workflows", file), "utf8")) as Workflow;
}

const INSTALL = [
    { uses: "actions/checkout@v4" },
    { uses: "actions/setup-node@v4", with: { "node-version": 22, cache: "npm" } },
    { run: "npm ci" },
];
/** CI's own run, as root: what `bash .ci/run` runs, lab included, where a skipped test fails. */
const TEST_JOB = {
    "runs-on": "ubuntu-latest",
    "timeout-minutes": 90,
    steps: [{ uses: "actions/checkout@v4" }, { run: "sudo -E bash .ci/run" }],
};

function stacksScript(cwd: string, mode: string): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync("bash", [join(ROOT, ".github", "scripts", "stacks.sh"), mode], { cwd, encoding: "utf8" });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("workflows", () => {
    it("are exactly pull-request.yml and deploy.yml", () => {
        assert.deepEqual(readdirSync(join(ROOT, ".github", "workflows")).sort(), ["deploy.yml", "pull-request.yml"]);
    });

    it("pull-request: CI's run as root, the offline plan of every stack, then a preview of each deployable stack, commented", () => {
        const wf = workflow("pull-request.yml");
        assert.deepEqual(wf.on, { pull_request: null });
        assert.deepEqual(wf.permissions, { contents: "read", "pull-requests": "write" });
        assert.deepEqual(Object.keys(wf.jobs), ["test", "plan", "stacks", "preview"]);
        assert.deepEqual(wf.jobs.test, TEST_JOB);
        assert.deepEqual(wf.jobs.plan, { "runs-on": "ubuntu-latest", steps: [...INSTALL, { run: "npm start" }] });
        assert.deepEqual(wf.jobs.stacks, {
            "runs-on": "ubuntu-latest",
            outputs: { stacks: "${{ steps.list.outputs.stacks }}" },
            steps: [
                { uses: "actions/checkout@v4" },
                { id: "list", run: 'echo "stacks=$(bash .github/scripts/stacks.sh deployable)" >> "$GITHUB_OUTPUT"' },
            ],
        });
        assert.deepEqual(wf.jobs.preview, {
            needs: ["test", "stacks"],
            if: "needs.stacks.outputs.stacks != '[]'",
            "runs-on": "ubuntu-latest",
            strategy: { "fail-fast": false, matrix: { stack: "${{ fromJSON(needs.stacks.outputs.stacks) }}" } },
            env: TOKEN_ENV,
            steps: [
                ...INSTALL,
                { run: "npm run build" },
                {
                    uses: "pulumi/actions@v6",
                    with: {
                        command: "preview",
                        "stack-name": "${{ matrix.stack }}",
                        policyPacks: "policy",
                        "comment-on-pr": true,
                        "github-token": "${{ secrets.GITHUB_TOKEN }}",
                    },
                },
            ],
        });
    });

    it("deploy: on push to main, CI's run as root, then `pulumi up` with the policy pack for each deployable stack, one at a time", () => {
        const wf = workflow("deploy.yml");
        assert.deepEqual(wf.on, { push: { branches: ["main"] } });
        assert.deepEqual(wf.permissions, { contents: "read" });
        assert.deepEqual(wf.concurrency, { group: "deploy", "cancel-in-progress": false });
        assert.deepEqual(Object.keys(wf.jobs), ["test", "stacks", "up"]);
        assert.deepEqual(wf.jobs.test, TEST_JOB);
        assert.deepEqual(wf.jobs.stacks.steps[1], {
            id: "list",
            run: 'echo "stacks=$(bash .github/scripts/stacks.sh deployable)" >> "$GITHUB_OUTPUT"',
        });
        assert.deepEqual(wf.jobs.up, {
            needs: ["test", "stacks"],
            if: "needs.stacks.outputs.stacks != '[]'",
            "runs-on": "ubuntu-latest",
            strategy: { "fail-fast": false, "max-parallel": 1, matrix: { stack: "${{ fromJSON(needs.stacks.outputs.stacks) }}" } },
            env: TOKEN_ENV,
            steps: [
                ...INSTALL,
                { run: "npm run build" },
                { uses: "pulumi/actions@v6", with: { command: "up", "stack-name": "${{ matrix.stack }}", policyPacks: "policy" } },
            ],
        });
    });

    it("the build step compiles the policy pack's entry point named in policy/package.json", () => {
        const pack = JSON.parse(readFileSync(join(ROOT, "policy", "package.json"), "utf8")) as { main: string; version: string };
        assert.equal(pack.main, "../dist/policy/index.js");
        assert.equal(pack.version, "0.1.0");
        assert.equal(require.resolve(join(ROOT, "policy")), join(ROOT, "dist", "policy", "index.js"));
    });
});

describe(".github/scripts/stacks.sh", () => {
    it("lists every stack file of the repository for previews, and no deployable stack by default", () => {
        const expected = readdirSync(join(ROOT, "stacks"))
            .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
            .filter((s) => s !== undefined)
            .sort();
        assert.deepEqual(expected, ["do-example", "linode-example"]);
        assert.deepEqual(stacksScript(ROOT, "all"), { status: 0, stdout: '["do-example","linode-example"]\n', stderr: "" });
        assert.deepEqual(stacksScript(ROOT, "deployable"), { status: 0, stdout: "[]\n", stderr: "" });
    });

    it("reads deployable stacks one per line with comments, and refuses one without a stack file", () => {
        const dir = mkdtempSync(join(tmpdir(), "stacks-"));
        try {
            mkdirSync(join(dir, "stacks"));
            mkdirSync(join(dir, ".github"));
            for (const s of ["prod", "staging", "lab"]) writeFileSync(join(dir, "stacks", `Pulumi.${s}.yaml`), "config: {}\n");
            cpSync(join(ROOT, ".github", "deployable-stacks"), join(dir, ".github", "deployable-stacks"));
            writeFileSync(join(dir, ".github", "deployable-stacks"), "# comment\nprod\n\n  staging  # the other one\n", { flag: "a" });
            assert.deepEqual(stacksScript(dir, "deployable"), { status: 0, stdout: '["prod","staging"]\n', stderr: "" });
            assert.deepEqual(stacksScript(dir, "all"), { status: 0, stdout: '["lab","prod","staging"]\n', stderr: "" });
            writeFileSync(join(dir, ".github", "deployable-stacks"), "prdo\n");
            assert.deepEqual(stacksScript(dir, "deployable"), {
                status: 1,
                stdout: "",
                stderr: 'deployable stack "prdo" has no stacks/Pulumi.prdo.yaml\n',
            });
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("scripts/tap-skips.sh (REQUIRE_ALL=1 in CI)", () => {
    it("counts a skipped describe() as well as a skipped test, which Node's own '# skipped' count leaves out", () => {
        const dir = mkdtempSync(join(tmpdir(), "tap-skips-"));
        try {
            const file = join(dir, "fixture.test.js");
            writeFileSync(
                file,
                [
                    'const { describe, it } = require("node:test");',
                    'describe("tool-gated", { skip: "no tool" }, () => { it("one", () => {}); it("two", () => {}); });',
                    'it("skipped alone", { skip: "no tool" }, () => {});',
                    'it("runs", () => {});',
                ].join("\n"),
            );
            // Without NODE_TEST_CONTEXT, which makes a nested `node --test` report to this runner instead of stdout.
            const { NODE_TEST_CONTEXT: _, ...env } = process.env;
            const tap = spawnSync(process.execPath, ["--test", "--test-reporter=tap", file], { encoding: "utf8", env }).stdout;
            writeFileSync(join(dir, "run.tap"), tap);
            assert.match(tap, /^# skipped 1$/m, "Node counts only the skipped test");
            const counted = spawnSync("bash", [join(ROOT, "scripts", "tap-skips.sh"), join(dir, "run.tap")], { encoding: "utf8" });
            assert.equal(counted.stdout, "2\n");
            assert.equal(counted.stderr, "ok 1 - tool-gated # SKIP no tool\nok 2 - skipped alone # SKIP no tool\n");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
