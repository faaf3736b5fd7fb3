import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { isSecretKey } from "../components/programConfig";
import { PlanMocks, type PlanMocksOptions, type RecordedResource, revealSecrets } from "./mocks";
import { applyProjectConfig, loadProject, loadStackValues, toStackValue } from "./pulumiConfig";

export interface PlanOptions extends PlanMocksOptions {
    readonly projectDir: string;
    readonly stack: string;
    /** `mailserver:key` → value, set over the stack file as `pulumi config set` would (text; lists as JSON). */
    readonly overrides?: Readonly<Record<string, string>>;
    /** The program module to run. @default the compiled index.ts */
    readonly program?: string;
}

export interface Plan {
    readonly stack: string;
    readonly resources: RecordedResource[];
    readonly outputs: Record<string, unknown>;
    /** Config keys that are encrypted in the stack file and were not available offline. */
    readonly encryptedKeys: string[];
}

/**
 * A list or object given on the command line (`--config 'spfIp4=["198.51.100.7"]'`, what
 * `pulumi config set --path 'spfIp4[0]' …` builds); a parse error names the key.
 */
function overrideJson(key: string, text: string): unknown {
    try {
        return JSON.parse(text) as unknown;
    } catch (error) {
        throw new Error(`${key}: ${JSON.stringify(text)} starts like a list or object but is not JSON (${(error as Error).message})`);
    }
}

/**
 * The config `pulumi preview` would hand the program: the stack file (plus overrides), checked
 * and completed with Pulumi.yaml's defaults by the CLI's own rules (plan/pulumiConfig.ts); throws
 * the CLI's message when it would stop. Encrypted values are listed apart: offline they are unreadable.
 */
export function programConfig(projectDir: string, stack: string, overrides: Readonly<Record<string, string>> = {}) {
    const project = loadProject(projectDir);
    const values = loadStackValues(project, stack);
    for (const [key, text] of Object.entries(overrides)) {
        const parsed = /^[[{]/.test(text) ? overrideJson(key, text) : text;
        values.set(key.includes(":") ? key : `${project.name}:${key}`, toStackValue(parsed));
    }
    const merged = applyProjectConfig(project, stack, values);
    const config: Record<string, string> = {};
    const encryptedKeys: string[] = [];
    for (const [key, value] of merged) {
        if (value.secure) encryptedKeys.push(key);
        else config[key] = value.text;
    }
    return { project: project.name, config, encryptedKeys: encryptedKeys.sort() };
}

/**
 * Runs the real program under mocks, as `pulumi preview` would: stack config from stacks/,
 * Pulumi.yaml defaults, the same index.ts. One plan per process (the runtime is global).
 */
export async function runPlan(options: PlanOptions): Promise<Plan> {
    const { project, config, encryptedKeys } = programConfig(options.projectDir, options.stack, options.overrides);
    const mocks = new PlanMocks(options);
    mocks.install(project, options.stack, true);
    // Secret keys given on the command line are set as `pulumi config set --secret` would.
    const secretKeys = Object.keys(options.overrides ?? {})
        .map((key) => (key.includes(":") ? key : `${project}:${key}`))
        .filter((key) => key.startsWith(`${project}:`) && isSecretKey(key.slice(project.length + 1)));
    pulumi.runtime.setAllConfig(config, secretKeys);
    const program = options.program ?? join(__dirname, "..", "index.js");
    const outputs = await pulumi.runtime.runInPulumiStack(async () => {
        mocks.recordOptions();
        const exported = (await import(program)) as Record<string, unknown>;
        return Object.fromEntries(Object.entries(exported).filter(([key]) => key !== "default" && key !== "__esModule"));
    });
    await mocks.settled();
    await pulumi.runtime.disconnect();
    return {
        stack: options.stack,
        resources: mocks.withOptions(),
        outputs: revealSecrets(outputs ?? {}) as Record<string, unknown>,
        encryptedKeys,
    };
}
