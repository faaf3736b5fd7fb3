/**
 * What a config change does to a planned stack: the plan before and after, compared resource by
 * resource (same, update, replace, create, delete), the kind of change from the config-key
 * table, whether the host's configuration step runs, and what the change guard says.
 */
import { createHash } from "node:crypto";
import { changeProblems, type GuardState } from "../components/changeGuard";
import { type ChangeKind, CONFIG_KEYS, shownValue } from "../components/programConfig";
import { TYPES } from "../components/resourceTypes";
import { isSecretValue, type RecordedResource } from "./mocks";
import { replaces } from "./replaceKeys";

/** A resource as the change report compares it: secret inputs as their SHA-256, the rest as given. */
export interface ResourceDigest {
    readonly type: string;
    readonly name: string;
    readonly ignoreChanges?: readonly string[];
    readonly inputs: Readonly<Record<string, unknown>>;
}

function digestValue(value: unknown): unknown {
    if (isSecretValue(value))
        return {
            secretSha256: createHash("sha256")
                .update(JSON.stringify(digestValue(value.value)))
                .digest("hex"),
        };
    if (Array.isArray(value)) return value.map(digestValue);
    if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, digestValue(v)]));
    return value;
}

/** The plan's resources with every secret replaced by its digest: comparable, safe to write. */
export function planDigest(resources: readonly RecordedResource[]): ResourceDigest[] {
    return resources.map((r) => ({
        type: r.type,
        name: r.name,
        ...(r.ignoreChanges ? { ignoreChanges: r.ignoreChanges } : {}),
        inputs: digestValue(r.inputs) as Record<string, unknown>,
    }));
}

export type Operation = "same" | "update" | "replace" | "create" | "delete";

export interface ChangeReport {
    readonly changes: Readonly<Record<string, string>>;
    readonly kind: ChangeKind;
    readonly applyRuns: boolean;
    readonly resources: ReadonlyArray<{ type: string; name: string; op: Operation }>;
    /** The change guard's refusal, as the preview would print it; absent when allowed. */
    readonly refused?: string;
}

const SEVERITY: readonly ChangeKind[] = ["dns-only", "in-place", "new-host"];

function same(a: unknown, b: unknown): boolean {
    return JSON.stringify(a) === JSON.stringify(b);
}

/** The operation on one resource, as the engine would plan it. */
function operation(before: ResourceDigest | undefined, after: ResourceDigest | undefined): Operation {
    if (!before) return "create";
    if (!after) return "delete";
    const ignored = after.ignoreChanges ?? [];
    const changed = Object.keys({ ...before.inputs, ...after.inputs }).filter(
        (key) => !ignored.includes(key) && !same(before.inputs[key], after.inputs[key]),
    );
    if (changed.length === 0) return "same";
    return replaces(after.type, before.inputs, after.inputs, ignored) ? "replace" : "update";
}

/** The change guard's state as the plan gave it to the guard resource. */
export function guardState(resources: readonly ResourceDigest[]): GuardState {
    const guard = resources.find((r) => r.type.startsWith("pulumi-nodejs:dynamic/mailserver:ChangeGuard"));
    if (!guard) throw new Error("the plan has no change guard");
    const { __provider: _provider, ...state } = guard.inputs;
    return state as unknown as GuardState;
}

/** The report for `changes` (config key → new value text), from the plans before and after. */
export function changeReport(
    changes: Readonly<Record<string, string>>,
    before: readonly ResourceDigest[],
    after: readonly ResourceDigest[],
): ChangeReport {
    const key = (r: ResourceDigest) => `${r.type} ${r.name}`;
    const olds = new Map(before.map((r) => [key(r), r]));
    const news = new Map(after.map((r) => [key(r), r]));
    const resources: Array<{ type: string; name: string; op: Operation }> = [...new Set([...olds.keys(), ...news.keys()])].map((k) => {
        const r = (news.get(k) ?? olds.get(k)) as ResourceDigest;
        return { type: r.type, name: r.name, op: operation(olds.get(k), news.get(k)) };
    });
    const oldGuard = guardState(before);
    const newGuard = guardState(after);
    let kind = Object.keys(changes)
        .map((name) => CONFIG_KEYS[name as keyof typeof CONFIG_KEYS]?.change ?? "in-place")
        .reduce<ChangeKind>((worst, k) => (SEVERITY.indexOf(k) > SEVERITY.indexOf(worst) ? k : worst), "dns-only");
    const machines = resources.filter((r) => r.type === TYPES.droplet || r.type === TYPES.instance);
    // A new machine: replaced in place, or another one made (another provider) while this one goes.
    const newMachine = machines.some((m) => m.op === "replace" || m.op === "create");
    // Linode moves an instance to another region in place (an update), but to new addresses there:
    // `region` is not ForceNew, and `migration_type` (cold/warm) governs the move
    // (linode/terraform-provider-linode, linode/instance/schema_resource.go).
    const migrated = "region" in changes && machines.some((m) => m.op === "update");
    if (newMachine || migrated) {
        kind = "new-host";
        // New addresses (unknown until the machine exists or has moved): everything built from them changes too.
        for (const r of resources) {
            const inputs = news.get(`${r.type} ${r.name}`)?.inputs ?? {};
            const fromAddresses = [TYPES.remoteCommand, TYPES.rdns, TYPES.doFirewall, TYPES.linodeFirewall].includes(r.type as never);
            const record =
                r.type === TYPES.dnsRecord && (["A", "AAAA"].includes(String(inputs.type)) || String(inputs.content).startsWith('"v=spf1'));
            if ((fromAddresses || record) && r.op === "same") r.op = "update";
        }
    }
    const applyRuns = resources.some((r) => r.type === TYPES.remoteCommand && r.op !== "same" && r.op !== "delete");
    const problems = changeProblems(oldGuard, newGuard);
    // A secret key's new value is never written or printed.
    const shown = Object.fromEntries(Object.entries(changes).map(([name, value]) => [name, shownValue(name, value)]));
    return { changes: shown, kind, applyRuns, resources, ...(problems.length > 0 ? { refused: problems.join("\n") } : {}) };
}
