import { generateKeyPairSync, randomBytes } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

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
 * Throwaway keys kept per stack, one file per resource name in a folder, so that planning a stack
 * twice gives byte-identical files (and the lab's before and after plans share their keys). Plans
 * of one stack may run at once (the tests do, and `--change` plans before and after in two
 * processes): the first to make a key publishes it with link(2), which fails if the file exists,
 * and every other one then takes that key instead of its own.
 */
export class KeyStore {
    private readonly keys: Record<string, KeyPair> = {};

    constructor(private readonly dir: string | undefined) {}

    /** The key of `name`, made (and kept) on first use. */
    get(name: string, algorithm: KeyPair["algorithm"], make: () => KeyPair): KeyPair {
        const known = this.keys[name] ?? this.stored(name);
        if (known && known.algorithm === algorithm) {
            this.keys[name] = known;
            return known;
        }
        let key = make();
        if (this.dir) {
            mkdirSync(this.dir, { recursive: true });
            const file = this.file(name);
            // Written whole under a name of its own, then linked into place only if none is there yet.
            const temporary = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
            writeFileSync(temporary, `${JSON.stringify(key, null, 2)}\n`, { mode: 0o600 });
            try {
                if (known)
                    renameSync(temporary, file); // another algorithm: this key replaces it
                else linkSync(temporary, file);
            } catch (error) {
                if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
                key = this.stored(name) ?? key; // another plan was first: its key is the stack's
            } finally {
                rmSync(temporary, { force: true });
            }
        }
        this.keys[name] = key;
        return key;
    }

    private file(name: string): string {
        return join(this.dir ?? "", `${encodeURIComponent(name)}.json`);
    }

    private stored(name: string): KeyPair | undefined {
        if (!this.dir) return undefined;
        try {
            return JSON.parse(readFileSync(this.file(name), "utf8")) as KeyPair;
        } catch {
            return undefined;
        }
    }
}
