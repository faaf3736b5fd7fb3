import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

/** Config as the Pulumi CLI would hand it to the program: strings, JSON for lists and numbers. */
export type ConfigMap = Record<string, string>;

function asConfigString(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** `config:` defaults declared in Pulumi.yaml, namespaced with the project name. */
export function projectDefaults(projectDir: string): { project: string; config: ConfigMap } {
    const project = parse(readFileSync(join(projectDir, "Pulumi.yaml"), "utf8")) as {
        name: string;
        config?: Record<string, { default?: unknown }>;
    };
    const config: ConfigMap = {};
    for (const [key, schema] of Object.entries(project.config ?? {})) {
        if (schema.default !== undefined) config[`${project.name}:${key}`] = asConfigString(schema.default);
    }
    return { project: project.name, config };
}

/**
 * The stack's config from stacks/Pulumi.<stack>.yaml. Encrypted (`secure:`) values cannot be read
 * offline; they are reported and left out (provider tokens are not needed under mocks).
 */
export function stackConfig(projectDir: string, stack: string): { config: ConfigMap; encrypted: string[] } {
    const file = join(projectDir, "stacks", `Pulumi.${stack}.yaml`);
    const doc = (parse(readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const config: ConfigMap = {};
    const encrypted: string[] = [];
    for (const [key, value] of Object.entries(doc.config ?? {})) {
        if (typeof value === "object" && value !== null && "secure" in value) encrypted.push(key);
        else config[key] = asConfigString(value);
    }
    return { config, encrypted };
}
