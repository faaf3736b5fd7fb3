import { createHash } from "node:crypto";
import type { DnsRecord, PtrRecord } from "../components";
import { Stage } from "../components/host/bundle";
import { renderZoneFile } from "../components/records/zoneFile";
import { TYPES } from "../components/resourceTypes";
import { maskSecrets, type RecordedResource, revealSecrets } from "./mocks";
import type { Plan } from "./program";

/** The machine resource and the user data exactly as its provider receives it. */
export function plannedUserData(resources: readonly RecordedResource[]): { type: string; name: string; text: string } {
    for (const r of resources) {
        const inputs = revealSecrets(r.inputs) as Record<string, unknown>;
        if (r.type === TYPES.droplet) return { type: r.type, name: r.name, text: String(inputs.userData) };
        if (r.type === TYPES.instance) {
            // What Linode hands the instance's cloud-init: the decoded Metadata user data.
            const [metadata] = inputs.metadatas as Array<{ userData: string }>;
            return { type: r.type, name: r.name, text: Buffer.from(metadata.userData, "base64").toString("utf8") };
        }
    }
    throw new Error("the plan has no droplet or Linode instance");
}

/** `<stage dir>/step.json`: one stage of the configuration step, without its secrets. */
export interface StepJson {
    readonly stage: Stage;
    readonly resource: string;
    readonly command: string;
    readonly host: string;
    readonly port: number;
    readonly user: string;
    /** The host key the step pins (`ssh-ed25519 AAAA…`). */
    readonly hostKey: string;
    /** Resources the step waits for. */
    readonly dependsOn: readonly string[];
    /** SHA-256 of the bundle (bundle.json beside step.json). */
    readonly bundleSha256: string;
}

/** The configuration step as the plan recorded it: what `pulumi up` would run over SSH. */
export interface ApplyStep extends Omit<StepJson, "bundleSha256"> {
    /** The deploy key, OpenSSH private key text (a throwaway in the plan). */
    readonly privateKey: string;
    /** The bundle, byte for byte (holds the throwaway DKIM key in the plan). */
    readonly stdin: string;
}

/** Where the plan writes each stage of the configuration step: `apply/` (prepare) and `commit/`. */
export const STAGE_DIRS: Record<Stage, string> = { [Stage.Prepare]: "apply", [Stage.Commit]: "commit" };

/** One stage of the configuration step: the remote command whose bundle is of that stage. */
export function plannedApplyStep(resources: readonly RecordedResource[], stage: Stage): ApplyStep {
    const steps = resources
        .filter((r) => r.type === TYPES.remoteCommand)
        .map((r) => ({ r, inputs: revealSecrets(r.inputs) as { create: string; stdin: string; connection: Record<string, unknown> } }))
        .filter(({ inputs }) => (JSON.parse(inputs.stdin) as { stage?: unknown }).stage === stage);
    if (steps.length !== 1) throw new Error(`the plan has ${steps.length} configuration steps of stage ${stage}, not one`);
    const [{ r: step, inputs }] = steps;
    const c = inputs.connection;
    return {
        stage,
        resource: step.name,
        command: inputs.create,
        host: String(c.host),
        port: Number(c.port ?? 22),
        user: String(c.user),
        hostKey: String(c.hostKey),
        privateKey: String(c.privateKey),
        stdin: inputs.stdin,
        dependsOn: step.dependsOn ?? [],
    };
}

export function sha256(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}

/** What a dynamic resource carries as `__provider`: its provider, serialized; shown by size only. */
function withoutSerializedProvider(inputs: Record<string, unknown>): Record<string, unknown> {
    if (typeof inputs.__provider !== "string") return inputs;
    return { ...inputs, __provider: `<the dynamic provider, serialized: ${inputs.__provider.length} characters>` };
}

/** resources.json: every resource with type, name, parent, options and inputs, secrets masked. */
export function resourcesJson(plan: Plan): string {
    return `${JSON.stringify(
        plan.resources.map((r) => ({
            type: r.type,
            name: r.name,
            parent: r.parent ?? null,
            ...(r.dependsOn && r.dependsOn.length > 0 ? { dependsOn: r.dependsOn } : {}),
            ...(r.ignoreChanges ? { ignoreChanges: r.ignoreChanges } : {}),
            ...(r.deleteBeforeReplace ? { deleteBeforeReplace: true } : {}),
            ...(r.additionalSecretOutputs ? { additionalSecretOutputs: r.additionalSecretOutputs } : {}),
            inputs: withoutSerializedProvider(maskSecrets(r.inputs) as Record<string, unknown>),
        })),
        null,
        2,
    )}\n`;
}

/** zone.txt from the program's outputs (the same record set that made the DNS resources). */
export function zoneText(plan: Plan): string {
    const records = plan.outputs.dnsRecords as DnsRecord[];
    const ptrs = plan.outputs.ptrRecords as PtrRecord[];
    return renderZoneFile(records, ptrs);
}

/** The number of header lines cloudInitYaml inserts after `#cloud-config`. */
export const CLOUD_INIT_HEADER_LINES = 4;

/**
 * cloud-init.yaml: `#cloud-config`, a header saying its key is a throwaway (with the SHA-256 of
 * the exact user data, i.e. this file without the header lines), then the rest unchanged.
 */
export function cloudInitYaml(plan: Plan): string {
    const { type, text } = plannedUserData(plan.resources);
    const [first, ...rest] = text.split("\n");
    if (first !== "#cloud-config") throw new Error("user data does not start with #cloud-config");
    const source = type === TYPES.instance ? "decoded from the Linode instance's base64 metadatas[0].userData" : "the droplet's userData";
    const header = [
        `# Offline plan of stack "${plan.stack}": ${source}.`,
        "# THROWAWAY KEY: the SSH host key below was generated by the offline plan and is never",
        "# deployed; `pulumi up` creates its own with tls.PrivateKey and keeps it secret.",
        `# sha256 of the exact user data (this file without these ${CLOUD_INIT_HEADER_LINES} header lines): ${sha256(text)}`,
    ];
    return [first, ...header, ...rest].join("\n");
}

/** `<stage dir>/step.json`: one stage of the configuration step without its secrets (those are in the files beside it). */
export function applyStepJson(plan: Plan, stage: Stage): string {
    const step = plannedApplyStep(plan.resources, stage);
    const json: StepJson & { throwaway: string } = {
        throwaway:
            "bundle.json (its DKIM key) and deploy-key are throwaway keys of the offline plan, never deployed; pulumi up creates its own and keeps them secret",
        stage,
        resource: step.resource,
        command: step.command,
        host: step.host,
        port: step.port,
        user: step.user,
        hostKey: step.hostKey,
        dependsOn: step.dependsOn,
        bundleSha256: sha256(step.stdin),
    };
    return `${JSON.stringify(json, null, 2)}\n`;
}
