/**
 * `npm start [-- --stack <name>] [--config key=value …] [--change key=value …] [--out dir]`: the
 * offline plan. Runs the program under mocks for each stack (or the one named) and writes
 * out/plan/<stack>/: resources.json, zone.txt, cloud-init.yaml, apply/ and commit/ (the configuration step's two stages),
 * plan-digest.json. With --change, plans the stack before and after the changes (after/) and
 * writes change.json: what the change does; a change the guard refuses exits 1 with its message.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Stage } from "../components/host/bundle";
import { applyStepJson, cloudInitYaml, plannedApplyStep, resourcesJson, STAGE_DIRS, zoneText } from "./artifacts";
import { changeReport, planDigest, type ResourceDigest } from "./change";
import { runPlan } from "./program";
import { loadProject } from "./pulumiConfig";
import { summary } from "./summary";

/** The stack names of a project: the `Pulumi.<stack>.yaml` files in its stackConfigDir. */
function stacks(projectDir: string): string[] {
    return readdirSync(join(projectDir, loadProject(projectDir).stackConfigDir ?? "."))
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

/** `key=value` pairs as config overrides (`mailserver:` added to bare keys). */
function pairs(option: string, values: readonly string[] = []): Record<string, string> {
    const out: Record<string, string> = {};
    for (const pair of values) {
        const eq = pair.indexOf("=");
        if (eq <= 0) throw new UsageError(`${option}: "${pair}" is not key=value`);
        const key = pair.slice(0, eq);
        out[key.includes(":") ? key : `mailserver:${key}`] = pair.slice(eq + 1);
    }
    return out;
}

class UsageError extends Error {}

/** Plans one stack in this process and writes its files into `dir`. */
async function planInto(projectDir: string, stack: string, overrides: Record<string, string>, dir: string): Promise<string> {
    const plan = await runPlan({
        projectDir,
        stack,
        overrides,
        program: join(__dirname, "..", "index.js"),
        keyDir: join(projectDir, ".cache", "plan-keys", stack),
    });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "resources.json"), resourcesJson(plan));
    writeFileSync(join(dir, "zone.txt"), zoneText(plan));
    writeFileSync(join(dir, "cloud-init.yaml"), cloudInitYaml(plan));
    writeFileSync(join(dir, "plan-digest.json"), `${JSON.stringify(planDigest(plan.resources), null, 2)}\n`);
    const passwords = plan.outputs.mailboxPasswords as Record<string, string> | undefined;
    const apps = (plan.outputs.appPasswords as Record<string, string> | undefined) ?? {};
    if (passwords && Object.keys(passwords).length > 0) {
        const note =
            "THROWAWAY passwords of the offline plan (the mocks' RandomPassword), never deployed; pulumi up generates its own and keeps them secret";
        writeFileSync(join(dir, "mailbox-passwords.json"), `${JSON.stringify({ throwaway: note, passwords, apps }, null, 2)}\n`, {
            mode: 0o600,
        });
    }
    for (const stage of [Stage.Prepare, Stage.Commit]) {
        const stageDir = join(dir, STAGE_DIRS[stage]);
        mkdirSync(stageDir, { recursive: true });
        const step = plannedApplyStep(plan.resources, stage);
        writeFileSync(join(stageDir, "step.json"), applyStepJson(plan, stage));
        writeFileSync(join(stageDir, "bundle.json"), step.stdin);
        writeFileSync(join(stageDir, "deploy-key"), step.privateKey, { mode: 0o600 });
    }
    return summary(plan, relative(process.cwd(), dir) || ".");
}

/** Runs this CLI again in a child process (the Pulumi runtime is one per process). */
function child(args: string[]): number {
    const result = spawnSync(process.execPath, [__filename, ...args], { stdio: "inherit" });
    return result.status ?? 1;
}

const USAGE = `usage: npm start [-- --stack <name>] [--config key=value …] [--change key=value …] [--out <dir>]
  --stack <name>         plan one stack (stacks/Pulumi.<name>.yaml); default: every stack
  --config key=value     a config value, as \`pulumi config set\` would set it (repeatable; a secret key as --secret would)
  --change key=value     plan the stack before and after this change and say what it does (repeatable)
  --out <dir>            where to write (default out/plan)`;

/** The command line, parsed; throws on an unknown or malformed option. */
function parseCommandLine() {
    return parseArgs({
        options: {
            help: { type: "boolean", short: "h" },
            stack: { type: "string" },
            config: { type: "string", multiple: true, short: "c" },
            change: { type: "string", multiple: true },
            out: { type: "string" },
            // Another project directory (tests plan a throwaway copy of Pulumi.yaml with a stack of their own).
            project: { type: "string" },
            // Internal: plan into exactly this directory.
            into: { type: "string" },
        },
    });
}

async function main(): Promise<number> {
    let parsed: ReturnType<typeof parseCommandLine>;
    try {
        parsed = parseCommandLine();
    } catch (error) {
        throw new UsageError(`${(error as Error).message}\n${USAGE}`);
    }
    const { values } = parsed;
    if (values.help) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
    }
    const projectDir = resolve(values.project ?? join(__dirname, "..", ".."));
    const outRoot = resolve(values.out ?? join(projectDir, "out", "plan"));
    const passOn = ["--project", projectDir, ...(values.config ?? []).flatMap((c) => ["--config", c])];
    if (values.stack === undefined) {
        if (values.change) throw new UsageError("--change: name the stack to change with --stack");
        for (const stack of stacks(projectDir)) {
            const status = child(["--stack", stack, "--out", outRoot, ...passOn]);
            if (status !== 0) return status;
        }
        return 0;
    }
    if (!stacks(projectDir).includes(values.stack)) {
        throw new UsageError(`--stack: no stacks/Pulumi.${values.stack}.yaml; stacks: ${stacks(projectDir).join(", ")}`);
    }
    const overrides = pairs("--config", values.config);
    if (values.into) {
        process.stdout.write(await planInto(projectDir, values.stack, overrides, values.into));
        return 0;
    }
    const dir = join(outRoot, values.stack);
    if (!values.change) {
        process.stdout.write(await planInto(projectDir, values.stack, overrides, dir));
        return 0;
    }
    const changes = pairs("--change", values.change);
    rmSync(join(dir, "after"), { recursive: true, force: true });
    const before = child(["--stack", values.stack, "--into", dir, ...passOn]);
    if (before !== 0) return before;
    const after = child([
        "--stack",
        values.stack,
        "--into",
        join(dir, "after"),
        ...passOn,
        ...Object.entries(changes).flatMap(([k, v]) => ["--config", `${k}=${v}`]),
    ]);
    if (after !== 0) return after;
    const read = (d: string) => JSON.parse(readFileSync(join(d, "plan-digest.json"), "utf8")) as ResourceDigest[];
    const report = changeReport(
        Object.fromEntries(Object.entries(changes).map(([k, v]) => [k.replace(/^mailserver:/, ""), v])),
        read(dir),
        read(join(dir, "after")),
    );
    writeFileSync(join(dir, "change.json"), `${JSON.stringify(report, null, 2)}\n`);
    const changed = report.resources.filter((r) => r.op !== "same");
    process.stdout.write(
        [
            `Change of stack ${values.stack}: ${Object.entries(report.changes)
                .map(([k, v]) => `${k}=${v}`)
                .join(", ")}`,
            `  kind        ${report.kind}`,
            `  apply step  ${!report.applyRuns ? "does not run" : report.kind === "new-host" ? "runs: the new host is configured" : "runs: the running host is reconfigured"}`,
            "  resources",
            ...(changed.length > 0 ? changed.map((r) => `    ${r.op.padEnd(8)} ${r.name}  (${r.type})`) : ["    none change"]),
            `  files       ${relative(process.cwd(), join(dir, "change.json"))}, ${relative(process.cwd(), join(dir, "after"))}/`,
            "",
        ].join("\n"),
    );
    if (report.refused) {
        console.error(`error: ${report.refused}`);
        return 1;
    }
    return 0;
}

main().then(
    (code) => process.exit(code),
    (error: unknown) => {
        // The message alone, as `pulumi preview` prints a RunError or the CLI's config errors.
        console.error(`${error instanceof UsageError ? "" : "error: "}${error instanceof Error ? error.message : String(error)}`);
        process.exit(error instanceof UsageError ? 2 : 1);
    },
);
