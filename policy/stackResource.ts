import type { PolicyResource } from "@pulumi/policy";

/**
 * A value the engine does not know yet (during a preview: an output of a resource still to be
 * created, such as a new droplet's address, and every string computed from it). Policies treat it
 * as "cannot decide" and skip the check that needs it.
 */
export const UNKNOWN: unique symbol = Symbol("unknown during preview");

/** {@link UNKNOWN}'s type. */
export type Unknown = typeof UNKNOWN;

/**
 * A resource as the policies see it: plain data, nothing from `@pulumi/policy`, so that tests can
 * fabricate one. `props` are the resource's properties (its outputs once known, else its inputs)
 * with unknown values replaced by {@link UNKNOWN}; secret values are plain text (see
 * `policy/policies/userDataSecret.ts`).
 */
export interface StackResource {
    /** Type token, e.g. `cloudflare:index/dnsRecord:DnsRecord`. */
    readonly type: string;
    /** URN; violations are reported against it. */
    readonly urn: string;
    /** Logical name (the first constructor argument). */
    readonly name: string;
    /** Properties, plain. */
    readonly props: Readonly<Record<string, unknown>>;
    /** URN of the parent resource, if any. */
    readonly parent?: string;
    /** URNs of the resources it depends on (`dependsOn` and those its inputs were computed from). */
    readonly dependencies?: readonly string[];
    /** For each property, the URNs of the resources its value was computed from. */
    readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
    /** The `additionalSecretOutputs` resource option. */
    readonly additionalSecretOutputs?: readonly string[];
}

/** A policy violation: what to tell the user, and which resource it is about. */
export interface Violation {
    readonly urn: string;
    readonly message: string;
}

/** True when `value` is neither {@link UNKNOWN} nor undefined. */
export function isKnown<T>(value: T | Unknown | undefined): value is T {
    return value !== UNKNOWN && value !== undefined;
}

/** `value` when it is a string, {@link UNKNOWN} when unknown, else undefined. */
export function stringProp(value: unknown): string | Unknown | undefined {
    if (value === UNKNOWN) return UNKNOWN;
    return typeof value === "string" ? value : undefined;
}

function isUnknownValueError(e: unknown): boolean {
    // @pulumi/policy's proxy throws UnknownValueError (not exported) when an unknown is read.
    return e instanceof Error && e.constructor.name === "UnknownValueError";
}

/**
 * A deep plain copy of a value read through @pulumi/policy's unknown-checking proxy: every field
 * whose read throws `UnknownValueError` becomes {@link UNKNOWN} instead of aborting the policy
 * (which would turn it into an advisory "can't run during preview" for the whole stack).
 */
export function plainValue(read: () => unknown): unknown {
    let value: unknown;
    try {
        value = read();
    } catch (e) {
        if (isUnknownValueError(e)) return UNKNOWN;
        throw e;
    }
    if (value === null || typeof value !== "object") return value;
    const source = value as Record<string, unknown>;
    if (Array.isArray(value)) return value.map((_, i) => plainValue(() => source[i]));
    if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) {
        // Assets and archives: not needed by any policy.
        return value;
    }
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) copy[key] = plainValue(() => source[key]);
    return copy;
}

/** The plain description of a resource handed to a stack validation by @pulumi/policy. */
export function fromPolicyResource(resource: PolicyResource): StackResource {
    const propertyDependencies: Record<string, string[]> = {};
    for (const [key, deps] of Object.entries(resource.propertyDependencies ?? {})) {
        propertyDependencies[key] = deps.map((d) => d.urn);
    }
    return {
        type: resource.type,
        urn: resource.urn,
        name: resource.name,
        props: plainValue(() => resource.props) as Record<string, unknown>,
        ...(resource.parent ? { parent: resource.parent.urn } : {}),
        dependencies: resource.dependencies.map((d) => d.urn),
        propertyDependencies,
        additionalSecretOutputs: [...(resource.opts?.additionalSecretOutputs ?? [])],
    };
}

/** True when the value of `property` of `resource` was computed from the resource `urn`. */
export function dependsOn(resource: StackResource, property: string, urn: string): boolean {
    return resource.propertyDependencies?.[property]?.includes(urn) ?? false;
}

/** `resource` and its ancestors, nearest first, following `parent` URNs. */
export function ancestors(resource: StackResource, byUrn: ReadonlyMap<string, StackResource>): StackResource[] {
    const chain: StackResource[] = [];
    const seen = new Set<string>();
    let parent = resource.parent;
    while (parent !== undefined && !seen.has(parent)) {
        seen.add(parent);
        const found = byUrn.get(parent);
        if (!found) break;
        chain.push(found);
        parent = found.parent;
    }
    return chain;
}

/** How a violation names a resource: `"name" (type)`, e.g. `"mail-a" (cloudflare:index/dnsRecord:DnsRecord)`. */
export function label(resource: StackResource): string {
    return `"${resource.name}" (${resource.type})`;
}
