import { generateKeyPairSync } from "node:crypto";

export interface RsaKeyPair {
    /** PKCS#1 PEM, as tls.PrivateKey's privateKeyPem. */
    readonly privateKeyPem: string;
    /** SubjectPublicKeyInfo PEM, as tls.PrivateKey's publicKeyPem. */
    readonly publicKeyPem: string;
}

/** A fresh RSA key pair shaped like tls.PrivateKey's outputs. Throwaway: never deployed. */
export function throwawayRsaKey(bits: number): RsaKeyPair {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: bits });
    return {
        privateKeyPem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
        publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    };
}
