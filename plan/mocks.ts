import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { getAllResources } from "@pulumi/pulumi/output";
import { TYPES } from "../components/resourceTypes";
import { type KeyPair, KeyStore, throwawayEd25519Key, throwawayRsaKey } from "./throwawayKey";

/** A resource as the program asked the cloud for it. */
export interface RecordedResource {
    readonly type: string;
    readonly name: string;
    /** The id the mock gave it. */
    id?: string;
    /** Parent resource name, undefined for the stack itself. */
    parent?: string;
    /** Inputs, secret values still wrapped (see isSecretValue / revealSecrets / maskSecrets). */
    readonly inputs: Record<string, unknown>;
    /** Names of explicit dependsOn resources. */
    dependsOn?: string[];
    ignoreChanges?: string[];
    deleteBeforeReplace?: boolean;
    additionalSecretOutputs?: string[];
    /** The state the mock answered (the resource's outputs), secrets still wrapped. */
    state?: Record<string, unknown>;
    /** Input property → names of the resources its value was computed from. */
    propertyDependencies?: Record<string, string[]>;
}

/** A secret as the mocks see it: Pulumi's RPC signature (exported by the SDK) around the value. */
export function isSecretValue(value: unknown): value is { value: unknown } {
    return (
        typeof value === "object" &&
        value !== null &&
        (value as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig
    );
}

function mapValues(value: unknown, secret: (inner: unknown) => unknown): unknown {
    if (isSecretValue(value)) return secret(value.value);
    if (Array.isArray(value)) return value.map((v) => mapValues(v, secret));
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapValues(v, secret)]));
    }
    return value;
}

/** Inputs with every secret replaced by "[secret]", as a preview shows them. */
export function maskSecrets(value: unknown): unknown {
    return mapValues(value, () => "[secret]");
}

/** Inputs with secrets unwrapped (the plan's throwaway-labelled files, tests). */
export function revealSecrets(value: unknown): unknown {
    return mapValues(value, (inner) => revealSecrets(inner));
}

function sha1(text: string): string {
    return createHash("sha1").update(text).digest("hex");
}

/** Documentation addresses (RFC 5737, RFC 3849) handed to the n-th host. */
export function documentationAddresses(n: number): { ipv4: string; ipv6: string } {
    if (n < 0 || n > 244) throw new Error("at most 245 hosts in one plan");
    return { ipv4: `192.0.2.${10 + n}`, ipv6: `2001:db8::${(0x10 + n).toString(16)}` };
}

export interface PlanMocksOptions {
    /** RSA size of the throwaway DKIM keys. @default 2048 */
    readonly dkimBits?: number;
    /** Hand every tls.PrivateKey of an algorithm the same throwaway key (benchmarks: keygen is not our cost). */
    readonly reuseKey?: boolean;
    /** Keep the throwaway keys in this folder, a file per resource name: a plan made twice is byte-identical. */
    readonly keyDir?: string;
}

/**
 * Pulumi mocks that answer as DigitalOcean, Linode, Cloudflare, TLS and the Command provider
 * would, with documentation addresses and throwaway keys, and record every resource.
 */
export class PlanMocks implements pulumi.runtime.Mocks {
    readonly resources: RecordedResource[] = [];
    /** The throwaway keys handed out, by resource name. */
    readonly keys = new Map<string, KeyPair>();
    private hosts = 0;
    private readonly store: KeyStore;

    constructor(private readonly options: PlanMocksOptions = {}) {
        this.store = new KeyStore(options.keyDir);
    }

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
        const recorded: RecordedResource = { type: args.type, name: args.name, inputs: args.inputs };
        this.resources.push(recorded);
        const result = this.answer(args);
        recorded.id = result.id;
        recorded.state = result.state;
        return result;
    }

    private key(name: string, algorithm: KeyPair["algorithm"]): KeyPair {
        const make = () => (algorithm === "ED25519" ? throwawayEd25519Key(name) : throwawayRsaKey(this.options.dkimBits ?? 2048));
        const shared = `*${algorithm}`;
        const key = this.options.reuseKey ? this.store.get(shared, algorithm, make) : this.store.get(name, algorithm, make);
        this.keys.set(name, key);
        return key;
    }

    private answer(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
        const id = `${args.name}-id`;
        const inputs = revealSecrets(args.inputs) as Record<string, unknown>;
        switch (args.type) {
            case TYPES.privateKey: {
                const key = this.key(args.name, inputs.algorithm === "ED25519" ? "ED25519" : "RSA");
                return {
                    id,
                    state: {
                        ...inputs,
                        privateKeyPem: pulumi.secret(key.privateKeyPem),
                        publicKeyPem: key.publicKeyPem,
                        ...(key.privateKeyOpenssh
                            ? { privateKeyOpenssh: pulumi.secret(key.privateKeyOpenssh), publicKeyOpenssh: key.publicKeyOpenssh }
                            : {}),
                    },
                };
            }
            case TYPES.droplet: {
                const address = documentationAddresses(this.hosts++);
                return {
                    id: String(100000 + this.hosts),
                    state: {
                        ...inputs,
                        // The provider keeps a SHA-1 of the user data in state, not the text.
                        userData: sha1(String(inputs.userData)),
                        ipv4Address: address.ipv4,
                        ipv6Address: inputs.ipv6 ? address.ipv6 : "",
                    },
                };
            }
            case TYPES.instance: {
                const address = documentationAddresses(this.hosts++);
                return {
                    id: String(200000 + this.hosts),
                    state: { ...inputs, ipAddress: address.ipv4, ipv4s: [address.ipv4], ipv6: `${address.ipv6}/128` },
                };
            }
            case TYPES.randomPassword: {
                // Throwaway, labelled: derived from the resource name, never a password anyone uses.
                const result = `offline${createHash("sha256")
                    .update(args.name)
                    .digest("hex")
                    .slice(0, Number(inputs.length ?? 24) - 7)}`;
                return { id, state: { ...inputs, result: pulumi.secret(result) } };
            }
            case TYPES.remoteCommand:
                // A preview runs nothing: the command's output is not known yet.
                return { id, state: { ...inputs, stdout: "", stderr: "" } };
            default:
                return { id, state: inputs };
        }
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        switch (args.token) {
            case "cloudflare:index/getZone:getZone": {
                const name = (args.inputs.filter as { name: string }).name;
                // A filtered lookup's id is not the zone's id (terraform-provider-cloudflare #5245, #6111): zoneId is.
                return { id: "", zoneId: createHash("md5").update(name).digest("hex"), name };
            }
            case "linode:index/getImage:getImage":
                return { id: args.inputs.id, capabilities: ["cloud-init", "distributed-sites"] };
            case "linode:index/getRegion:getRegion":
                return { id: args.inputs.id, capabilities: ["Linodes", "Cloud Firewall", "Metadata"] };
            default:
                throw new Error(`unmocked call ${args.token}`);
        }
    }

    /** Register with Pulumi; `preview` as in `pulumi preview`. */
    install(project: string, stack: string, preview = true): void {
        pulumi.runtime.setMocks(this, project, stack, preview);
    }

    /**
     * Records parents and options through a stack transformation; call inside the stack
     * (runInPulumiStack) before the program creates resources.
     */
    recordOptions(): void {
        const stack = pulumi.runtime.getStackResource();
        if (!stack) throw new Error("recordOptions must be called inside runInPulumiStack");
        pulumi.runtime.registerStackTransformation((args) => {
            const names = (resources: unknown) =>
                (Array.isArray(resources) ? resources : resources ? [resources] : []).map((r) => pulumi.resourceName(r as pulumi.Resource));
            const propertyDependencies: Record<string, string[]> = {};
            for (const [key, value] of Object.entries(args.props)) {
                // Like the SDK's serialization: outputs nested in arrays and objects count too.
                this.pending.push(
                    getAllResources(pulumi.output(value)).then((resources) => {
                        propertyDependencies[key] = [...resources].map((r) => pulumi.resourceName(r));
                    }),
                );
            }
            this.recordedOptions.push({
                propertyDependencies,
                type: args.type,
                name: args.name,
                // No parent option means the stack itself.
                parent: pulumi.resourceName(args.opts.parent ?? stack),
                dependsOn: names(args.opts.dependsOn),
                ignoreChanges: args.opts.ignoreChanges,
                deleteBeforeReplace: (args.opts as pulumi.CustomResourceOptions).deleteBeforeReplace,
                additionalSecretOutputs: (args.opts as pulumi.CustomResourceOptions).additionalSecretOutputs,
            });
            return undefined;
        });
    }

    private readonly pending: Array<Promise<void>> = [];

    /** Waits until every input's resources are known (propertyDependencies). */
    async settled(): Promise<void> {
        await Promise.all(this.pending);
    }

    private readonly recordedOptions: Array<{
        propertyDependencies: Record<string, string[]>;
        type: string;
        name: string;
        parent?: string;
        dependsOn: string[];
        ignoreChanges?: string[];
        deleteBeforeReplace?: boolean;
        additionalSecretOutputs?: string[];
    }> = [];

    /** The recorded resources with parent, dependsOn and ignoreChanges filled in. */
    withOptions(): RecordedResource[] {
        return this.resources.map((r) => {
            const o = this.recordedOptions.find((x) => x.type === r.type && x.name === r.name);
            return o
                ? {
                      ...r,
                      parent: o.parent,
                      dependsOn: o.dependsOn,
                      ignoreChanges: o.ignoreChanges,
                      deleteBeforeReplace: o.deleteBeforeReplace,
                      additionalSecretOutputs: o.additionalSecretOutputs,
                      propertyDependencies: o.propertyDependencies,
                  }
                : { ...r };
        });
    }
}
