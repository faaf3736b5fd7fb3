import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { MAILSERVER_TYPE } from "../../components/mailServer";
import { type MailPolicy, stackPolicy } from "../../policy/mailPolicy";
import type { StackResource, Violation } from "../../policy/stackResource";

/** A URN as the engine writes it, in stack `test` of project `mailserver`. */
export function urnOf(type: string, name: string): string {
    return `urn:pulumi:test::mailserver::${type}::${name}`;
}

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

const KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n";

/** Cloud-init user data holding a (truncated) PEM private key, as MailServer renders it. */
export const USER_DATA_WITH_KEY = `#cloud-config\nwrite_files:\n  - path: /etc/opendkim/keys/mailserver.private\n    content: |\n      ${KEY.replace(/\n/g, "\n      ")}`;

/** A 2048-bit DKIM record value's length: `v=DKIM1; k=rsa; h=sha256; p=` + 392 base64 characters. */
export const DKIM_VALUE = `v=DKIM1; k=rsa; h=sha256; p=${"A".repeat(392)}`;

/** What MailServer("mail") creates for example.com on DigitalOcean, with the addresses known. */
export function doStack(): StackResource[] {
    const component = resource(MAILSERVER_TYPE, "mail", {});
    const key = resource("tls:index/privateKey:PrivateKey", "mail-dkim", { algorithm: "RSA", rsaBits: 2048 }, { parent: component.urn });
    const droplet = resource(
        "digitalocean:index/droplet:Droplet",
        "mail-droplet",
        {
            name: "mail.example.com",
            image: "debian-12-x64",
            userData: USER_DATA_WITH_KEY,
            ipv4Address: "192.0.2.10",
            ipv6Address: "2001:db8::10",
        },
        { parent: component.urn, propertyDependencies: { userData: [key.urn] } },
    );
    const fromDroplet = { parent: component.urn, propertyDependencies: { content: [droplet.urn] } };
    return [
        component,
        key,
        droplet,
        cfRecord("mail-a", "A", "mail.example.com", "192.0.2.10", fromDroplet),
        cfRecord("mail-aaaa", "AAAA", "mail.example.com", "2001:db8::10", fromDroplet),
        cfRecord("mail-spf", "TXT", "example.com", '"v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 -all"', fromDroplet),
        cfRecord("mail-helo-spf", "TXT", "mail.example.com", '"v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 -all"', fromDroplet),
        cfRecord("mail-dkim", "TXT", "mailserver._domainkey.example.com", `"${DKIM_VALUE.slice(0, 255)}" "${DKIM_VALUE.slice(255)}"`, {
            parent: component.urn,
        }),
        cfRecord("mail-dmarc", "TXT", "_dmarc.example.com", '"v=DMARC1; p=quarantine; adkim=r; aspf=r"', { parent: component.urn }),
        cfRecord("mail-mx", "MX", "example.com", "mail.example.com", { parent: component.urn, priority: 10 }),
    ];
}

/** What MailServer("mail") creates for example.com on Linode, with the addresses known. */
export function linodeStack(): StackResource[] {
    const component = resource(MAILSERVER_TYPE, "mail", {});
    const key = resource("tls:index/privateKey:PrivateKey", "mail-dkim", { algorithm: "RSA", rsaBits: 2048 }, { parent: component.urn });
    const instance = resource(
        "linode:index/instance:Instance",
        "mail-instance",
        {
            label: "mail.example.com",
            metadatas: [{ userData: Buffer.from(USER_DATA_WITH_KEY).toString("base64") }],
            ipAddress: "192.0.2.20",
            ipv4s: ["192.0.2.20"],
            ipv6: "2001:db8::20/128",
        },
        { parent: component.urn, propertyDependencies: { metadatas: [key.urn] } },
    );
    const fromInstance = { parent: component.urn, propertyDependencies: { content: [instance.urn] } };
    const a = cfRecord("mail-a", "A", "mail.example.com", "192.0.2.20", fromInstance);
    const aaaa = cfRecord("mail-aaaa", "AAAA", "mail.example.com", "2001:db8::20", fromInstance);
    const rdns = (suffix: string, address: string, after: StackResource) =>
        resource(
            "linode:index/rdns:Rdns",
            `mail-rdns-${suffix}`,
            { address, rdns: "mail.example.com", waitForAvailable: true },
            { parent: component.urn, dependencies: [after.urn, instance.urn], propertyDependencies: { address: [instance.urn] } },
        );
    return [
        component,
        key,
        instance,
        a,
        aaaa,
        rdns("ipv4", "192.0.2.20", a),
        rdns("ipv6", "2001:db8::20", aaaa),
        cfRecord("mail-mx", "MX", "example.com", "mail.example.com", { parent: component.urn, priority: 10 }),
        cfRecord("mail-dmarc", "TXT", "_dmarc.example.com", '"v=DMARC1; p=reject"', { parent: component.urn }),
    ];
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
