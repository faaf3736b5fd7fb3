import { TYPES } from "../../components/resourceTypes";
import { DIGITALOCEAN_DROPLET, LINODE_INSTANCE } from "../mailHosts";
import type { MailPolicy } from "../mailPolicy";
import { isKnown, label, type StackResource, stringProp, type Violation } from "../stackResource";

/**
 * Resource types whose key outputs their provider marks secret: a value computed from them is
 * secret too (the Pulumi SDK propagates secretness through `apply` and interpolation).
 */
export const SECRET_KEY_SOURCES: readonly string[] = [TYPES.privateKey];

/** True when `text`, or its base64 decoding, holds a PEM private key. */
export function holdsPrivateKey(text: string): boolean {
    if (text.includes("PRIVATE KEY")) return true;
    const compact = text.replace(/\s+/g, "");
    if (compact.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return false;
    return Buffer.from(compact, "base64").toString("latin1").includes("PRIVATE KEY");
}

/** The user data fields of a droplet or Linode instance, with the top-level property each lives under. */
function userData(resource: StackResource): { property: string; path: string; text: string }[] {
    if (resource.type === DIGITALOCEAN_DROPLET) {
        const text = stringProp(resource.props.userData);
        return isKnown(text) ? [{ property: "userData", path: "userData", text }] : [];
    }
    if (resource.type === LINODE_INSTANCE && Array.isArray(resource.props.metadatas)) {
        return resource.props.metadatas.flatMap((m: unknown, i) => {
            const text = m && typeof m === "object" ? stringProp((m as Record<string, unknown>).userData) : undefined;
            return isKnown(text) ? [{ property: "metadatas", path: `metadatas[${i}].userData`, text }] : [];
        });
    }
    return [];
}

/**
 * User data holding a private key (e.g. the DKIM key) is secret, so that it shows as `[secret]`
 * in previews, pull-request comments and state.
 *
 * A stack policy cannot see whether a value is secret: @pulumi/policy 1.21 hands validations
 * secret values as plain text, without any mark. So this policy accepts the two signs it can see:
 * the property is listed in the resource's `additionalSecretOutputs`, or its value was computed
 * from a resource whose key output the provider marks secret (`tls.PrivateKey`). A key that came
 * from anywhere else (a file, plain or secret config) must be marked with
 * `additionalSecretOutputs: ["userData"]` (droplet) or `["metadatas"]` (Linode).
 *
 * DigitalOcean's provider keeps only the SHA-1 of a droplet's user data in state (`user_data` has
 * `StateFunc: util.HashStringStateFunc()` in terraform-provider-digitalocean's droplet resource), so
 * for a droplet this finds a key only where the value is still the input itself.
 */
export const userDataSecretPolicy: MailPolicy = {
    name: "mailserver-user-data-secret",
    description: "Droplet and Linode user data holding a private key (PRIVATE KEY, base64 or not) is secret.",
    check: (resources) => {
        const byUrn = new Map(resources.map((r) => [r.urn, r]));
        const violations: Violation[] = [];
        for (const resource of resources) {
            for (const { property, path, text } of userData(resource)) {
                if (!holdsPrivateKey(text)) continue;
                if (resource.additionalSecretOutputs?.includes(property)) continue;
                const sources = resource.propertyDependencies?.[property] ?? [];
                if (sources.some((urn) => SECRET_KEY_SOURCES.includes(byUrn.get(urn)?.type ?? ""))) continue;
                violations.push({
                    urn: resource.urn,
                    message: `${label(resource)} has a private key in ${path} that is not known to be secret: it would show in plain text in previews, pull-request comments and state. Wrap it in pulumi.secret(...) (or compute it from a tls.PrivateKey's privateKeyPem) and declare it with the resource option additionalSecretOutputs: ["${property}"], which is what this policy can see.`,
                });
            }
        }
        return violations;
    },
};
