import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { type MailPolicy, stackPolicy } from "../../policy/mailPolicy";
import type { StackResource, Violation } from "../../policy/stackResource";

import { urnOf } from "./componentStack";

export { urnOf };

/** A fabricated resource. */
export function resource(
    type: string,
    name: string,
    props: Record<string, unknown>,
    extra: Omit<Partial<StackResource>, "type" | "name" | "props" | "urn"> = {},
): StackResource {
    return { type, urn: urnOf(type, name), name, props, ...extra };
}

/** A fabricated Cloudflare DnsRecord in zone `zone1`. */
export function cfRecord(
    name: string,
    type: string,
    recordName: string,
    content: unknown,
    extra: Omit<Partial<StackResource>, "type" | "name" | "props" | "urn"> & { proxied?: boolean; priority?: number } = {},
): StackResource {
    const { proxied, priority, ...rest } = extra;
    return resource(
        "cloudflare:index/dnsRecord:DnsRecord",
        name,
        {
            zoneId: "zone1",
            name: recordName,
            type,
            content,
            ttl: 3600,
            proxied: proxied ?? false,
            ...(priority !== undefined ? { priority } : {}),
        },
        rest,
    );
}

/** A 2048-bit DKIM record value's length: `v=DKIM1; k=rsa; h=sha256; p=` + 392 base64 characters. */
export const DKIM_VALUE = `v=DKIM1; k=rsa; h=sha256; p=${"A".repeat(392)}`;

const stacks = new Map<string, StackResource[]>();

/**
 * What MailServer("mail") creates for an example stack, as the policy pack sees it: the program
 * run under the plan's mocks in a process of its own (test/support/componentStack.ts), its
 * outputs as plain values, each input's source resources.
 */
export function componentStack(stack: string): StackResource[] {
    let resources = stacks.get(stack);
    if (!resources) {
        const result = spawnSync(process.execPath, [join(__dirname, "componentStack.js"), stack], {
            encoding: "utf8",
            maxBuffer: 64 << 20,
        });
        if (result.status !== 0) throw new Error(`componentStack ${stack}: ${result.stderr}`);
        resources = JSON.parse(result.stdout) as StackResource[];
        stacks.set(stack, resources);
    }
    return structuredClone(resources);
}

/** The do-example stack (DigitalOcean). */
export function doStack(): StackResource[] {
    return componentStack("do-example");
}

/** The linode-example stack (Linode). */
export function linodeStack(): StackResource[] {
    return componentStack("linode-example");
}

/** `resources` with the one named `name` replaced by `change(it)`. */
export function withChanged(resources: StackResource[], name: string, change: (r: StackResource) => StackResource): StackResource[] {
    let found = false;
    const changed = resources.map((r) => {
        if (r.name !== name) return r;
        found = true;
        return change(r);
    });
    if (!found) throw new Error(`no resource named ${name}`);
    return changed;
}

/** `resources` without the ones named. */
export function without(resources: StackResource[], ...names: string[]): StackResource[] {
    for (const name of names) if (!resources.some((r) => r.name === name)) throw new Error(`no resource named ${name}`);
    return resources.filter((r) => !names.includes(r.name));
}

/** The resources as @pulumi/policy hands them to a stack validation (parents and dependencies as objects). */
export function policyResources(resources: readonly StackResource[]): PolicyResource[] {
    const byUrn = new Map<string, PolicyResource>();
    const made = resources.map((r) => {
        const made = {
            type: r.type,
            urn: r.urn,
            name: r.name,
            props: r.props,
            opts: {
                protect: false,
                ignoreChanges: [],
                aliases: [],
                customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
                additionalSecretOutputs: [...(r.additionalSecretOutputs ?? [])],
                ...(r.parent ? { parent: r.parent } : {}),
            },
            dependencies: [],
            propertyDependencies: {},
            isType: () => false,
            asType: () => undefined,
        } as unknown as PolicyResource;
        byUrn.set(r.urn, made);
        return made;
    });
    resources.forEach((r, i) => {
        const target = made[i] as {
            parent?: PolicyResource;
            dependencies: PolicyResource[];
            propertyDependencies: Record<string, PolicyResource[]>;
        };
        if (r.parent && byUrn.has(r.parent)) target.parent = byUrn.get(r.parent);
        target.dependencies = (r.dependencies ?? []).map((u) => byUrn.get(u)).filter((d): d is PolicyResource => d !== undefined);
        for (const [key, urns] of Object.entries(r.propertyDependencies ?? {})) {
            target.propertyDependencies[key] = urns.map((u) => byUrn.get(u)).filter((d): d is PolicyResource => d !== undefined);
        }
    });
    return made;
}

/** Runs `policy` as the pack does (its stack validation, through the @pulumi/policy adapter) and returns what it reports. */
export async function runPolicy(policy: MailPolicy, resources: readonly StackResource[]): Promise<Violation[]> {
    const reported: Violation[] = [];
    const args: StackValidationArgs = {
        resources: policyResources(resources),
        stackTags: new Map(),
        getConfig: <T extends object>() => ({}) as T,
        notApplicable: (reason?: string): never => {
            throw new Error(`not applicable: ${reason}`);
        },
    };
    await stackPolicy(policy).validateStack(args, (message, urn) => {
        if (urn === undefined) throw new Error(`violation without a resource: ${message}`);
        reported.push({ urn, message });
    });
    return reported;
}
