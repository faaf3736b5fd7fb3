import { generateKeyPairSync } from "node:crypto";
import forge from "node-forge";

/** RSA keys from Node's crypto (fast), handed to forge for signing. */
function rsaKeys(): forge.pki.rsa.KeyPair {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const key = forge.pki.privateKeyFromPem(privateKey.export({ type: "pkcs1", format: "pem" }).toString()) as forge.pki.rsa.PrivateKey;
    return { privateKey: key, publicKey: forge.pki.rsa.setPublicKey(key.n, key.e) };
}

export interface Pem {
    readonly cert: string;
    readonly key: string;
}

/** A test CA and certificates it signs (node-forge; RSA 2048). */
export class TestCa {
    private readonly keys = rsaKeys();
    private readonly cert: forge.pki.Certificate;
    private serial = 1;

    constructor(name = "mailserver test CA") {
        const cert = forge.pki.createCertificate();
        cert.publicKey = this.keys.publicKey;
        cert.serialNumber = "01";
        cert.validity.notBefore = new Date(Date.now() - 86_400_000);
        cert.validity.notAfter = new Date(Date.now() + 365 * 86_400_000);
        const subject = [{ name: "commonName", value: name }];
        cert.setSubject(subject);
        cert.setIssuer(subject);
        cert.setExtensions([
            { name: "basicConstraints", cA: true },
            { name: "keyUsage", keyCertSign: true, cRLSign: true },
        ]);
        cert.sign(this.keys.privateKey, forge.md.sha256.create());
        this.cert = cert;
    }

    get pem(): string {
        return forge.pki.certificateToPem(this.cert);
    }

    /** A server certificate for `names`, valid from `notBefore` to `notAfter`. */
    issue(names: string[], notBefore: Date, notAfter: Date): Pem {
        const keys = rsaKeys();
        const cert = forge.pki.createCertificate();
        cert.publicKey = keys.publicKey;
        cert.serialNumber = (++this.serial).toString(16).padStart(2, "0");
        cert.validity.notBefore = notBefore;
        cert.validity.notAfter = notAfter;
        cert.setSubject([{ name: "commonName", value: names[0] }]);
        cert.setIssuer(this.cert.subject.attributes);
        cert.setExtensions([
            { name: "basicConstraints", cA: false },
            { name: "extKeyUsage", serverAuth: true },
            { name: "subjectAltName", altNames: names.map((value) => ({ type: 2, value })) },
        ]);
        cert.sign(this.keys.privateKey, forge.md.sha256.create());
        return { cert: `${forge.pki.certificateToPem(cert)}${this.pem}`, key: forge.pki.privateKeyToPem(keys.privateKey) };
    }
}
