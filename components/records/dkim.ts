/**
 * `p=` of an RSA DKIM key record: base64 of the SubjectPublicKeyInfo DER, i.e. the body of the
 * PEM "PUBLIC KEY" block without header, footer and line breaks (RFC 6376 §3.6.1).
 */
export function dkimPublicKeyValue(publicKeyPem: string): string {
    const match = /-----BEGIN PUBLIC KEY-----([\s\S]*?)-----END PUBLIC KEY-----/.exec(publicKeyPem);
    if (!match) throw new Error("DKIM public key must be a PEM PUBLIC KEY (SubjectPublicKeyInfo) block");
    return match[1].replace(/\s+/g, "");
}

/** The DKIM key record value: `v=DKIM1; k=rsa; p=…` (RFC 6376 §3.6.1; RSA-SHA256 only, RFC 8301). */
export function dkimRecord(publicKeyPem: string): string {
    return `v=DKIM1; k=rsa; h=sha256; p=${dkimPublicKeyValue(publicKeyPem)}`;
}

/** `<selector>._domainkey.<domain>` */
export function dkimRecordName(selector: string, domain: string): string {
    return `${selector}._domainkey.${domain}`;
}
