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
import { summary } from "./summary";

const projectDir = resolve(__dirname, "..", "..");

function stacks(): string[] {
    return readdirSync(join(projectDir, "stacks"))
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
        },
    });
    const outRoot = resolve(values.out ?? join(projectDir, "out", "plan"));
    if (values.stack === undefined) {
        // One process per stack: the Pulumi runtime (and its mocks) is global to a process.
        for (const stack of stacks()) {
            const child = spawnSync(process.execPath, [__filename, ...process.argv.slice(2), "--stack", stack], { stdio: "inherit" });
            if (child.status !== 0) return child.status ?? 1;
        }
        return 0;
    }
    if (!stacks().includes(values.stack)) {
        console.error(`--stack: no stacks/Pulumi.${values.stack}.yaml; stacks: ${stacks().join(", ")}`);
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
    const plan = await runPlan({ projectDir, stack: values.stack, overrides });
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
        console.error(error instanceof Error ? error.message : error);
        process.exit(1);
    },
);
