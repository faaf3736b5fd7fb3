/** The messages the lab sends. Each carries X-Lab-Case, so that the received copy can be matched. */

import { randomBytes } from "node:crypto";
import { dkimSign } from "mailauth";

export interface MessageOptions {
    readonly caseId: string;
    readonly from: string;
    readonly to: string;
    readonly subject: string;
    /** Add Date and Message-ID, as a mail client does; without them the server must add them. */
    readonly withIds: boolean;
    readonly crlf?: boolean;
    /** The body's text instead of the lab's letter. */
    readonly body?: string;
}

/** GTUBE (SpamAssassin's test string): every filter scores it as spam. */
export const GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

export function message(options: MessageOptions): string {
    const domain = options.from.split("@")[1];
    const lines = [
        `From: Mail Lab <${options.from}>`,
        `To: <${options.to}>`,
        `Subject: ${options.subject}`,
        ...(options.withIds
            ? [`Date: ${new Date().toUTCString().replace("GMT", "+0000")}`, `Message-ID: <${randomBytes(8).toString("hex")}.lab@${domain}>`]
            : []),
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 7bit",
        `X-Lab-Case: ${options.caseId}`,
        "",
        ...(options.body !== undefined
            ? [options.body]
            : [
                  "Hello,",
                  "",
                  `this is the mail lab's "${options.caseId}" message. It checks that mail from this server is`,
                  "authenticated (SPF, DKIM, DMARC), sent over TLS from an address with matching reverse DNS,",
                  "and well formed, the way large mailbox providers check it.",
                  "",
                  "Regards,",
                  "The mail lab",
              ]),
        "",
    ];
    return lines.join(options.crlf ? "\r\n" : "\n");
}

/** Python run inside the server: submits stdin over SMTP from 127.0.0.1 (a mynetworks client). */
export function pySmtpSubmit(from: string, to: string): string {
    return `python3 -c 'import smtplib,sys; s=smtplib.SMTP("127.0.0.1",25,local_hostname="localhost"); s.sendmail("${from}",["${to}"],sys.stdin.buffer.read()); s.quit()'`;
}

export interface Signer {
    readonly signingDomain: string;
    readonly selector: string;
    readonly privateKey: string;
    readonly canonicalization?: string;
}

/**
 * A DKIM-Signature for `raw` (with its trailing CRLF), as a sender's signer makes it. mailauth's
 * dkimSign reads the signature from `signatureData` (its typings ask for the fields at the top
 * level too, where it ignores them), hence the one cast.
 */
export async function dkimSignature(raw: string, signer: Signer): Promise<string> {
    const signed = await dkimSign(raw, { signatureData: [signer] } as unknown as Parameters<typeof dkimSign>[1]);
    if (!/^DKIM-Signature:/i.test(signed.signatures)) throw new Error(`DKIM signing failed: ${signed.errors.join(", ")}`);
    return signed.signatures;
}
