import * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import { type PlanMocksOptions, PlanMocks, type RecordedResource, revealSecrets } from "./mocks";
import { type ConfigMap, projectDefaults, stackConfig } from "./stackConfig";

export interface PlanOptions extends PlanMocksOptions {
    readonly projectDir: string;
    readonly stack: string;
    /** `mailserver:key` → value, applied over the stack file (like `pulumi config set`). */
    readonly overrides?: ConfigMap;
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
 * Runs the real program under mocks, as `pulumi preview` would: stack config from stacks/,
 * Pulumi.yaml defaults, the same index.ts. One plan per process (the runtime is global).
 */
export async function runPlan(options: PlanOptions): Promise<Plan> {
    const defaults = projectDefaults(options.projectDir);
    const fromStack = stackConfig(options.projectDir, options.stack);
    const mocks = new PlanMocks(options);
    mocks.install(defaults.project, options.stack, true);
    pulumi.runtime.setAllConfig({ ...defaults.config, ...fromStack.config, ...(options.overrides ?? {}) });
    const program = options.program ?? join(__dirname, "..", "index.js");
    const outputs = await pulumi.runtime.runInPulumiStack(async () => {
        mocks.recordOptions();
        const exported = (await import(program)) as Record<string, unknown>;
        return Object.fromEntries(Object.entries(exported).filter(([key]) => key !== "default" && key !== "__esModule"));
    });
    await pulumi.runtime.disconnect();
    return {
        stack: options.stack,
        resources: mocks.withOptions(),
        outputs: revealSecrets(outputs ?? {}) as Record<string, unknown>,
        encryptedKeys: fromStack.encrypted,
    };
}
