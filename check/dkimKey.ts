import { createPublicKey } from "node:crypto";
import { parseTags } from "./tagList";

export type DkimKey =
    | { readonly ok: true; readonly algorithm: "rsa"; readonly bits: number }
    | { readonly ok: true; readonly algorithm: "ed25519"; readonly bits: 256 }
    | { readonly ok: false; readonly revoked: boolean; readonly error: string };

/** Ed25519 SPKI prefix: the DKIM p= is the raw 32-byte key (RFC 8463). */
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** The key a DKIM key record publishes (RFC 6376 §3.6.1), or why it is unusable. */
export function parseDkimKey(record: string): DkimKey {
    const parsed = parseTags(record);
    if ("error" in parsed) return { ok: false, revoked: false, error: parsed.error };
    const { tags } = parsed;
    const v = tags.get("v");
    if (v !== undefined && (v !== "DKIM1" || parsed.order[0] !== "v"))
        return { ok: false, revoked: false, error: "v= must be DKIM1 and come first" };
    const p = tags.get("p");
    if (p === undefined) return { ok: false, revoked: false, error: "no p= tag" };
    if (p.replace(/\s/g, "") === "") return { ok: false, revoked: true, error: "p= is empty: the key is revoked" };
    const k = tags.get("k") ?? "rsa";
    const der = Buffer.from(p.replace(/\s/g, ""), "base64");
    if (!/^[A-Za-z0-9+/\s]+=*$/.test(p)) return { ok: false, revoked: false, error: "p= is not base64" };
    try {
        if (k === "rsa") {
            const key = createPublicKey({ key: der, format: "der", type: "spki" });
            const bits = key.asymmetricKeyDetails?.modulusLength;
            if (key.asymmetricKeyType !== "rsa" || bits === undefined) return { ok: false, revoked: false, error: "p= is not an RSA key" };
            return { ok: true, algorithm: "rsa", bits };
        }
        if (k === "ed25519") {
            if (der.length !== 32) return { ok: false, revoked: false, error: "an Ed25519 p= must be 32 bytes" };
            createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, der]), format: "der", type: "spki" });
            return { ok: true, algorithm: "ed25519", bits: 256 };
        }
        return { ok: false, revoked: false, error: `k=${k} is not rsa or ed25519` };
    } catch {
        return { ok: false, revoked: false, error: "p= does not decode to a public key (truncated?)" };
    }
}
