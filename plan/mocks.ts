import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { type RsaKeyPair, throwawayRsaKey } from "./throwawayKey";

/** The marker Pulumi's RPC layer puts on secret values (mock inputs keep it). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

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
}

export function isSecretValue(value: unknown): value is { value: unknown } {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
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

/** Inputs with secrets unwrapped (the plan's cloud-init.yaml, tests). */
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
    /** RSA size of the throwaway DKIM key. @default 2048 */
    readonly dkimBits?: number;
    /** Hand every tls.PrivateKey the same throwaway key (benchmarks: keygen is not our cost). */
    readonly reuseKey?: boolean;
    /** Pretend the running host was created from other user data (a later run). */
    readonly heldUserData?: string;
}

/**
 * Pulumi mocks that answer as DigitalOcean, Linode, Cloudflare and TLS would, with documentation
 * addresses and a throwaway RSA key, and record every resource.
 */
export class PlanMocks implements pulumi.runtime.Mocks {
    readonly resources: RecordedResource[] = [];
    /** The throwaway key pairs handed out, by resource name. */
    readonly keys = new Map<string, RsaKeyPair>();
    private hosts = 0;

    constructor(private readonly options: PlanMocksOptions = {}) {}

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
        const recorded: RecordedResource = { type: args.type, name: args.name, inputs: args.inputs };
        this.resources.push(recorded);
        const result = this.answer(args);
        recorded.id = result.id;
        return result;
    }

    private answer(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
        const id = `${args.name}-id`;
        const inputs = revealSecrets(args.inputs) as Record<string, unknown>;
        switch (args.type) {
            case "tls:index/privateKey:PrivateKey": {
                const key =
                    this.options.reuseKey && this.keys.size > 0
                        ? (this.keys.values().next().value as RsaKeyPair)
                        : throwawayRsaKey(this.options.dkimBits ?? 2048);
                this.keys.set(args.name, key);
                return {
                    id,
                    state: { ...inputs, privateKeyPem: pulumi.secret(key.privateKeyPem), publicKeyPem: key.publicKeyPem },
                };
            }
            case "digitalocean:index/droplet:Droplet": {
                const address = documentationAddresses(this.hosts++);
                return {
                    id: String(100000 + this.hosts),
                    state: {
                        ...inputs,
                        // The provider keeps a SHA-1 of the user data in state, not the text.
                        userData: sha1(this.options.heldUserData ?? String(inputs.userData)),
                        ipv4Address: address.ipv4,
                        ipv6Address: inputs.ipv6 ? address.ipv6 : "",
                    },
                };
            }
            case "linode:index/instance:Instance": {
                const address = documentationAddresses(this.hosts++);
                const held = this.options.heldUserData;
                return {
                    id: String(200000 + this.hosts),
                    state: {
                        ...inputs,
                        ...(held !== undefined ? { metadatas: [{ userData: Buffer.from(held).toString("base64") }] } : {}),
                        ipAddress: address.ipv4,
                        ipv4s: [address.ipv4],
                        ipv6: `${address.ipv6}/128`,
                    },
                };
            }
            default:
                return { id, state: inputs };
        }
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        switch (args.token) {
            case "cloudflare:index/getZone:getZone": {
                const name = (args.inputs.filter as { name: string }).name;
                return { id: createHash("md5").update(name).digest("hex"), name };
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
                (Array.isArray(resources) ? resources : resources ? [resources] : []).map((r) =>
                    pulumi.resourceName(r as pulumi.Resource),
                );
            this.recordedOptions.push({
                type: args.type,
                name: args.name,
                // No parent option means the stack itself.
                parent: pulumi.resourceName(args.opts.parent ?? stack),
                dependsOn: names(args.opts.dependsOn),
                ignoreChanges: args.opts.ignoreChanges,
            });
            return undefined;
        });
    }

    private readonly recordedOptions: Array<{ type: string; name: string; parent?: string; dependsOn: string[]; ignoreChanges?: string[] }> = [];

    /** The recorded resources with parent, dependsOn and ignoreChanges filled in. */
    withOptions(): RecordedResource[] {
        return this.resources.map((r) => {
            const o = this.recordedOptions.find((x) => x.type === r.type && x.name === r.name);
            return o ? { ...r, parent: o.parent, dependsOn: o.dependsOn, ignoreChanges: o.ignoreChanges } : { ...r };
        });
    }
}
