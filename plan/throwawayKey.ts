import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** A throwaway key pair shaped like tls.PrivateKey's outputs. Never deployed. */
export interface KeyPair {
    readonly algorithm: "RSA" | "ED25519";
    /** PKCS#1 PEM (RSA) or PKCS#8 PEM (Ed25519), as tls.PrivateKey's privateKeyPem. */
    readonly privateKeyPem: string;
    /** SubjectPublicKeyInfo PEM, as tls.PrivateKey's publicKeyPem. */
    readonly publicKeyPem: string;
    /** OpenSSH private key text (Ed25519 only), as tls.PrivateKey's privateKeyOpenssh. */
    readonly privateKeyOpenssh?: string;
    /** `ssh-ed25519 AAAA…\n`, as tls.PrivateKey's publicKeyOpenssh (Ed25519 only). */
    readonly publicKeyOpenssh?: string;
}

/** A fresh RSA key pair. */
export function throwawayRsaKey(bits: number): KeyPair {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: bits });
    return {
        algorithm: "RSA",
        privateKeyPem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
        publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    };
}

/** An SSH wire-format string (RFC 4251 §5): uint32 length, then the bytes. */
function sshString(value: Buffer | string): Buffer {
    const bytes = typeof value === "string" ? Buffer.from(value) : value;
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
}

/**
 * An Ed25519 key in OpenSSH's own private key format (PROTOCOL.key: "openssh-key-v1", no
 * cipher), which is what tls.PrivateKey's privateKeyOpenssh holds and what cloud-init and
 * ssh(1) read; and its public key line.
 */
export function opensshEd25519(seed: Buffer, publicKey: Buffer, comment: string): { privateKeyOpenssh: string; publicKeyOpenssh: string } {
    const type = "ssh-ed25519";
    const publicBlob = Buffer.concat([sshString(type), sshString(publicKey)]);
    const check = randomBytes(4);
    let secret = Buffer.concat([
        check,
        check,
        sshString(type),
        sshString(publicKey),
        sshString(Buffer.concat([seed, publicKey])),
        sshString(comment),
    ]);
    const padding = Buffer.from(Array.from({ length: (8 - (secret.length % 8)) % 8 }, (_, i) => i + 1));
    secret = Buffer.concat([secret, padding]);
    const count = Buffer.alloc(4);
    count.writeUInt32BE(1);
    const body = Buffer.concat([
        Buffer.from("openssh-key-v1\0"),
        sshString("none"),
        sshString("none"),
        sshString(""),
        count,
        sshString(publicBlob),
        sshString(secret),
    ]);
    const lines = body.toString("base64").match(/.{1,70}/g) ?? [];
    return {
        privateKeyOpenssh: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join("\n")}\n-----END OPENSSH PRIVATE KEY-----\n`,
        publicKeyOpenssh: `${type} ${publicBlob.toString("base64")}\n`,
    };
}

/** A fresh Ed25519 key pair, with its OpenSSH forms. */
export function throwawayEd25519Key(comment = ""): KeyPair {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const jwk = privateKey.export({ format: "jwk" });
    const seed = Buffer.from(String(jwk.d), "base64url");
    const raw = Buffer.from(String(jwk.x), "base64url");
    return {
        algorithm: "ED25519",
        privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
        ...opensshEd25519(seed, raw, comment),
    };
}

/**
 * Throwaway keys kept in a file per stack, by resource name, so that planning a stack twice
 * gives byte-identical files (and the lab's before and after plans share their keys).
 */
export class KeyStore {
    private readonly keys: Record<string, KeyPair>;

    constructor(private readonly file: string | undefined) {
        let stored: Record<string, KeyPair> = {};
        if (file) {
            try {
                stored = JSON.parse(readFileSync(file, "utf8")) as Record<string, KeyPair>;
            } catch {
                stored = {};
            }
        }
        this.keys = stored;
    }

    /** The key of `name`, made (and kept) on first use. */
    get(name: string, algorithm: KeyPair["algorithm"], make: () => KeyPair): KeyPair {
        const known = this.keys[name];
        if (known && known.algorithm === algorithm) return known;
        const key = make();
        this.keys[name] = key;
        if (this.file) {
            // Written whole and renamed, so a reader never sees half a file.
            mkdirSync(dirname(this.file), { recursive: true });
            const temporary = `${this.file}.${process.pid}.tmp`;
            writeFileSync(temporary, `${JSON.stringify(this.keys, null, 2)}\n`, { mode: 0o600 });
            renameSync(temporary, this.file);
        }
        return key;
    }
}
