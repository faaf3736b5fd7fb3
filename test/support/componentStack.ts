/**
 * Prints, as JSON, the resources a stack's program creates under the plan's mocks, shaped as the
 * policy pack sees a stack (type, name, URN, parent, outputs as plain values, which resources each
 * input came from):  node dist/test/support/componentStack.js <stack> [key=value …]
 * One plan per process: the Pulumi runtime is global.
 */
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { revealSecrets } from "../../plan/mocks";
import { runPlan } from "../../plan/program";
import type { StackResource } from "../../policy/stackResource";

/** A URN as the engine writes it, in stack `test` of project `mailserver`. */
export function urnOf(type: string, name: string): string {
    return `urn:pulumi:test::mailserver::${type}::${name}`;
}

async function main(): Promise<void> {
    const [stack, ...pairs] = parseArgs({ allowPositionals: true, options: {} }).positionals;
    const root = resolve(__dirname, "..", "..", "..");
    const overrides = Object.fromEntries(pairs.map((p) => [`mailserver:${p.slice(0, p.indexOf("="))}`, p.slice(p.indexOf("=") + 1)]));
    const plan = await runPlan({ projectDir: root, stack, overrides, program: join(root, "dist", "index.js"), reuseKey: true });
    const urnByName = new Map(plan.resources.map((r) => [r.name, urnOf(r.type, r.name)]));
    const resources: StackResource[] = plan.resources.map((r) => ({
        type: r.type,
        name: r.name,
        urn: urnOf(r.type, r.name),
        ...(r.parent && urnByName.has(r.parent) && r.parent !== r.name ? { parent: urnByName.get(r.parent) } : {}),
        props: revealSecrets(r.state ?? r.inputs) as Record<string, unknown>,
        ...(r.additionalSecretOutputs ? { additionalSecretOutputs: r.additionalSecretOutputs } : {}),
        // As the engine reports them: dependsOn and every resource an input was computed from.
        dependencies: [...new Set([...(r.dependsOn ?? []), ...Object.values(r.propertyDependencies ?? {}).flat()])].map(
            (n) => urnByName.get(n) ?? n,
        ),
        propertyDependencies: Object.fromEntries(
            Object.entries(r.propertyDependencies ?? {}).map(([key, names]) => [key, names.map((n) => urnByName.get(n) ?? n)]),
        ),
    }));
    process.stdout.write(JSON.stringify(resources));
}

if (require.main === module) {
    main().catch((error: unknown) => {
        console.error(error);
        process.exit(1);
    });
}
