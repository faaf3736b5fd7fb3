/**
 * `npm start [-- --stack <name>] [--config key=value …] [--out dir]`: the offline plan. Runs the
 * program under mocks for each stack in stacks/ (or the one named) and writes
 * out/plan/<stack>/{resources.json,zone.txt,cloud-init.yaml}.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { cloudInitYaml, resourcesJson, zoneText } from "./artifacts";
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

async function main(): Promise<number> {
    const { values } = parseArgs({
        options: {
            stack: { type: "string" },
            config: { type: "string", multiple: true, short: "c" },
            out: { type: "string" },
            // Another project directory (tests plan a throwaway copy of Pulumi.yaml with a stack of their own).
            project: { type: "string" },
        },
    });
    const projectDir = resolve(values.project ?? join(__dirname, "..", ".."));
    const outRoot = resolve(values.out ?? join(projectDir, "out", "plan"));
    if (values.stack === undefined) {
        // One process per stack: the Pulumi runtime (and its mocks) is global to a process.
        for (const stack of stacks(projectDir)) {
            const child = spawnSync(process.execPath, [__filename, ...process.argv.slice(2), "--stack", stack], { stdio: "inherit" });
            if (child.status !== 0) return child.status ?? 1;
        }
        return 0;
    }
    if (!stacks(projectDir).includes(values.stack)) {
        console.error(`--stack: no stacks/Pulumi.${values.stack}.yaml; stacks: ${stacks(projectDir).join(", ")}`);
        return 2;
    }
    const overrides: Record<string, string> = {};
    for (const pair of values.config ?? []) {
        const eq = pair.indexOf("=");
        if (eq <= 0) {
            console.error(`--config: "${pair}" is not key=value`);
            return 2;
        }
        const key = pair.slice(0, eq);
        overrides[key.includes(":") ? key : `mailserver:${key}`] = pair.slice(eq + 1);
    }
    const plan = await runPlan({ projectDir, stack: values.stack, overrides, program: join(__dirname, "..", "index.js") });
    const dir = join(outRoot, values.stack);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "resources.json"), resourcesJson(plan));
    writeFileSync(join(dir, "zone.txt"), zoneText(plan));
    writeFileSync(join(dir, "cloud-init.yaml"), cloudInitYaml(plan));
    process.stdout.write(summary(plan, relative(process.cwd(), dir) || "."));
    return 0;
}

main().then(
    (code) => process.exit(code),
    (error: unknown) => {
        // The message alone, as `pulumi preview` prints a RunError or the CLI's config errors.
        console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
    },
);
