/**
 * The Pulumi CLI's project-config rules, for the offline plan (the CLI cannot run here). Each
 * rule cites the upstream code it encodes, at pulumi/pulumi commit
 * 1b5949891b3cefcb9974752b24a5ecef0acc86c8; test/pulumiConfig.test.ts runs the upstream tests'
 * cases against it:
 *
 * - sdk/go/common/workspace/project.go `Validate`, `ValidateConfigValue`, `InferFullTypeName`,
 *   `configKeyIsNamespacedByProject`: what a project may declare, and the type check;
 * - sdk/go/common/workspace/loaders.go `LoadProjectStack`: stack keys without a namespace get the
 *   project's; a null value is an empty string;
 * - sdk/go/common/workspace/paths.go `ProjectStackPath`: `<stackConfigDir>/Pulumi.<stack>.yaml`;
 * - sdk/go/common/resource/config/object.go: how YAML scalars become the strings a program reads;
 * - pkg/workspace/config.go `mergeConfig`, `missingStackConfigurationKeysError`,
 *   `validateStackConfigValue`: required keys, defaults, and the messages `pulumi preview` stops with.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

/** A declaration under Pulumi.yaml's `config:` (after the shorthand `key: value` is rewritten). */
export interface ConfigDeclaration {
    readonly type?: string;
    readonly items?: ConfigDeclaration;
    readonly description?: string;
    readonly secret?: boolean;
    readonly default?: unknown;
    readonly value?: unknown;
}

export interface Project {
    readonly name: string;
    /** Directory of Pulumi.yaml. */
    readonly dir: string;
    readonly stackConfigDir?: string;
    readonly config: Readonly<Record<string, ConfigDeclaration>>;
}

/** A stack value as the CLI holds it: scalars as text, lists and maps as JSON (`object`). */
export interface StackValue {
    readonly text: string;
    readonly object: boolean;
    /** `secure:` (encrypted): the text is the ciphertext, unreadable offline. */
    readonly secure: boolean;
}

/** A stack's config: full keys (`namespace:name`) to values. */
export type StackValues = ReadonlyMap<string, StackValue>;

/** An error the CLI would stop with; the message is the CLI's own. */
export class PulumiConfigError extends Error {
    override name = "PulumiConfigError";
}

const TYPES = ["string", "integer", "boolean", "array", "object"];

/** project.go `configKeyIsNamespacedByProject`. */
export function isProjectKey(projectName: string, key: string): boolean {
    return !key.includes(":") || key.startsWith(`${projectName}:`);
}

/** project.go `InferFullTypeName`: `array<string>`, `array<array<string>>`, `integer`… */
export function fullTypeName(declaration: ConfigDeclaration): string {
    return declaration.items ? `array<${fullTypeName(declaration.items)}>` : String(declaration.type);
}

/**
 * project.go `ValidateConfigValue`. Scalars arrive as strings (a stack file's `3600` and `"3600"`
 * are the same); values from JSON (defaults, array items) keep their JSON type.
 */
export function validConfigValue(declaration: ConfigDeclaration, value: unknown): boolean {
    switch (declaration.type) {
        case "string":
            return typeof value === "string";
        case "integer":
            if (typeof value === "number") return Number.isInteger(value);
            // strconv.Atoi: optional sign, decimal digits, int64 range; no spaces, no "1.5", no "3600abc".
            return typeof value === "string" && /^[+-]?[0-9]+$/.test(value) && BigInt(value) >= -(2n ** 63n) && BigInt(value) < 2n ** 63n;
        case "boolean":
            return value === "true" || value === "false" || typeof value === "boolean";
        case "object":
            return typeof value === "object" && value !== null && !Array.isArray(value);
        case "array":
            return (
                Array.isArray(value) &&
                declaration.items !== undefined &&
                value.every((item) => validConfigValue(declaration.items as ConfigDeclaration, item))
            );
        default:
            return false;
    }
}

/** A YAML value as the CLI stores it (object.go `MarshalString`; loaders.go: null is ""). */
export function toStackValue(value: unknown): StackValue {
    if (typeof value === "object" && value !== null && !Array.isArray(value) && "secure" in value) {
        return { text: String((value as { secure: unknown }).secure), object: false, secure: true };
    }
    if (value === null || value === undefined) return { text: "", object: false, secure: false };
    if (typeof value === "string") return { text: value, object: false, secure: false };
    if (typeof value === "object") return { text: JSON.stringify(value), object: true, secure: false };
    return { text: JSON.stringify(value), object: false, secure: false };
}

/**
 * Pulumi.yaml, read and checked the way the CLI loads it (project.go `Validate`): an `array`
 * needs `items`, a default must have the declared type, keys of other namespaces take a `value`
 * and no type or default; a shorthand `key: X` is a default of a project key (a value otherwise).
 */
export function loadProject(dir: string): Project {
    const raw = (parse(readFileSync(join(dir, "Pulumi.yaml"), "utf8")) ?? {}) as Record<string, unknown>;
    const name = String(raw.name);
    if (typeof raw.config === "string" && raw.stackConfigDir !== undefined) {
        throw new PulumiConfigError(
            "Should not use both config and stackConfigDir to define the stack directory. Use only stackConfigDir instead.",
        );
    }
    const stackConfigDir = typeof raw.config === "string" ? raw.config : (raw.stackConfigDir as string | undefined);
    const config: Record<string, ConfigDeclaration> = {};
    const declared = typeof raw.config === "object" && raw.config !== null ? (raw.config as Record<string, unknown>) : {};
    for (const [key, entry] of Object.entries(declared)) {
        const shorthand = typeof entry !== "object" || entry === null || Array.isArray(entry);
        const declaration: ConfigDeclaration = shorthand
            ? isProjectKey(name, key)
                ? { default: entry }
                : { value: entry }
            : (entry as ConfigDeclaration);
        checkDeclaration(name, key, declaration);
        config[key] = declaration;
    }
    return { name, dir, stackConfigDir, config };
}

function checkDeclaration(projectName: string, key: string, d: ConfigDeclaration): void {
    // The CLI's JSON schema (project.json `simpleConfigType`) refuses other type names; this wording is ours.
    if (d.type !== undefined && !TYPES.includes(d.type))
        throw new PulumiConfigError(`could not validate 'Pulumi.yaml': config.${key}.type "${d.type}" is not one of ${TYPES.join(", ")}`);
    if (!isProjectKey(projectName, key)) {
        if (d.type !== undefined)
            throw new PulumiConfigError(`Configuration key '${key}' is not namespaced by the project and should not define a type`);
        if (d.default !== undefined) {
            throw new PulumiConfigError(
                `Configuration key '${key}' is not namespaced by the project and should not define a default value. Did you mean to use the 'value' attribute instead of 'default'?`,
            );
        }
        if (d.value === undefined)
            throw new PulumiConfigError(`Configuration key '${key}' is namespaced and must provide an attribute 'value'`);
        return;
    }
    if (d.default !== undefined && d.value !== undefined)
        throw new PulumiConfigError(`project config '${key}' cannot have both a 'default' and 'value' attribute`);
    if (d.type === "array" && d.items === undefined) {
        throw new PulumiConfigError(
            `The configuration key '${key}' declares an array but does not specify the underlying type via the 'items' attribute`,
        );
    }
    if (d.type !== undefined && d.default !== undefined && !validConfigValue(d, d.default)) {
        throw new PulumiConfigError(
            `The default value specified for configuration key '${key}' is not of the expected type '${fullTypeName(d)}'`,
        );
    }
}

/** paths.go `ProjectStackPath`: `<dir>/<stackConfigDir>/Pulumi.<stack>.yaml`, `/` in the name as `-`. */
export function stackFilePath(project: Project, stack: string): string {
    const file = `Pulumi.${stack.replace(/\//g, "-")}.yaml`;
    return project.stackConfigDir ? join(project.dir, project.stackConfigDir, file) : join(project.dir, file);
}

/** loaders.go `LoadProjectStack`: a missing or empty file is empty config; keys without `:` get the project's namespace. */
export function loadStackValues(project: Project, stack: string): Map<string, StackValue> {
    let text = "";
    try {
        text = readFileSync(stackFilePath(project, stack), "utf8");
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    const doc = (parse(text) ?? {}) as { config?: Record<string, unknown> };
    const values = new Map<string, StackValue>();
    for (const [key, value] of Object.entries(doc.config ?? {}))
        values.set(key.includes(":") ? key : `${project.name}:${key}`, toStackValue(value));
    return values;
}

/** config.go `formatMissingKeys`: `'a'`, `'a' and 'b'`, `'a', 'b' and 'c'`, sorted bytewise. */
function formatMissingKeys(keys: string[]): string {
    const quoted = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((k) => `'${k}'`);
    return quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(", ")} and ${quoted[quoted.length - 1]}`;
}

/**
 * pkg/workspace/config.go `ValidateStackConfigAndApplyProjectConfig` as `pulumi preview` runs it:
 * a project key without default or value that the stack does not set is missing (all of them
 * named, before any type check); an unset key takes its default; then every typed key is checked
 * in sorted order and the first failure is the error. Returns the config the program is given:
 * full key → text (lists as JSON). Encrypted values are left out (they cannot be read offline).
 */
export function applyProjectConfig(project: Project, stack: string, stackValues: StackValues): Map<string, StackValue> {
    const merged = new Map(stackValues);
    const missing: string[] = [];
    for (const key of Object.keys(project.config).sort()) {
        const declaration = project.config[key];
        const fullKey = key.includes(":") ? key : `${project.name}:${key}`;
        if (merged.has(fullKey)) continue;
        const given = declaration.default ?? declaration.value;
        if (given === undefined) {
            if (isProjectKey(project.name, key)) missing.push(key);
            continue;
        }
        merged.set(fullKey, toStackValue(given));
    }
    if (missing.length > 0) {
        throw new PulumiConfigError(
            `validating stack config: Stack '${stack}' is missing configuration ${missing.length === 1 ? "value" : "values"} ${formatMissingKeys(missing)}`,
        );
    }
    for (const key of Object.keys(project.config).sort()) {
        const declaration = project.config[key];
        if (declaration.type === undefined) continue;
        const value = merged.get(key.includes(":") ? key : `${project.name}:${key}`);
        if (value === undefined) continue;
        if (declaration.secret && !value.secure) {
            throw new PulumiConfigError(
                `validating stack config: Stack '${stack}' with configuration key '${key}' must be encrypted as it's secret`,
            );
        }
        if (value.secure) continue;
        const content = value.object ? (JSON.parse(value.text) as unknown) : value.text;
        if (!validConfigValue(declaration, content)) {
            throw new PulumiConfigError(
                `validating stack config: Stack '${stack}' with configuration key '${key}' must be of type '${fullTypeName(declaration)}'`,
            );
        }
    }
    return merged;
}
