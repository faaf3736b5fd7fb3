// Test messages the lab sends. Each carries X-Lab-Case so the receiver's copy can be matched.
import { randomBytes } from "node:crypto";

export interface MsgOpts {
    caseId: string;
    from: string;
    to: string;
    subject: string;
    /** add Date and Message-ID (an MUA does; for local `sendmail` the server must add them) */
    withIds: boolean;
    crlf?: boolean;
}

export function message(o: MsgOpts): string {
    const dom = o.from.split("@")[1];
    const lines = [
        `From: Mail Lab <${o.from}>`,
        `To: <${o.to}>`,
        `Subject: ${o.subject}`,
        ...(o.withIds
            ? [`Date: ${new Date().toUTCString().replace("GMT", "+0000")}`, `Message-ID: <${randomBytes(8).toString("hex")}.lab@${dom}>`]
            : []),
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 7bit",
        `X-Lab-Case: ${o.caseId}`,
        "",
        "Hello,",
        "",
        `this is the mail lab's "${o.caseId}" message. It checks that mail from this server is`,
        "authenticated (SPF, DKIM, DMARC), sent over TLS from an address with matching reverse DNS,",
        "and well formed, the way large mailbox providers check it.",
        "",
        "Regards,",
        "The mail lab",
        "",
    ];
    return lines.join(o.crlf ? "\r\n" : "\n");
}

/** Python run inside the server: submit stdin over SMTP from 127.0.0.1 (a mynetworks client). */
export const PY_SMTP_SUBMIT = (from: string, to: string) =>
    `python3 -c 'import smtplib,sys; s=smtplib.SMTP("127.0.0.1",25,local_hostname="localhost"); s.sendmail("${from}",["${to}"],sys.stdin.buffer.read()); s.quit()'`;
