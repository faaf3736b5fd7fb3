/**
 * An IMAP client for the lab's probes, run inside a lab namespace:
 *   node dist/lab/imap-client.js '<json job>'   → prints a JSON result on stdout
 * `read` logs in with a real IMAP client library (imapflow; the certificate verified against the
 * CA given) and looks for a message by its X-Lab-Case header; `cleartext` speaks raw IMAP on 143
 * without TLS and records what the server answers to a password sent in clear (imapflow refuses
 * to send one when the server says LOGINDISABLED, so it cannot show the server's own refusal).
 */
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { parseArgs } from "node:util";
import { ImapFlow } from "imapflow";

export interface ImapJob {
    readonly mode: "read" | "cleartext";
    readonly host: string;
    readonly port: number;
    /** `read` on 143: STARTTLS first (required). */
    readonly starttls?: boolean;
    readonly servername?: string;
    readonly caFile?: string;
    readonly user: string;
    readonly pass: string;
    /** `read`: the X-Lab-Case of the message to find in INBOX. */
    readonly caseId?: string;
    /** `read`: the folder to look in instead of INBOX (Junk). */
    readonly folder?: string;
}

export interface ImapResult {
    /** `read`: whether the login succeeded; the server's refusal otherwise. */
    readonly loggedIn?: boolean;
    readonly error?: string;
    /** `read`: the message's header block, when found. */
    readonly header?: string;
    /** `read`: special-use folders of the account (\\Sent, \\Trash…). */
    readonly specialUse?: string[];
    /** `cleartext`: every line the server sent. */
    readonly lines?: string[];
}

async function read(job: ImapJob): Promise<ImapResult> {
    const client = new ImapFlow({
        host: job.host,
        port: job.port,
        secure: !job.starttls,
        doSTARTTLS: job.starttls ? true : undefined,
        servername: job.servername,
        tls: { ca: job.caFile ? readFileSync(job.caFile) : undefined, minVersion: "TLSv1.2" },
        auth: { user: job.user, pass: job.pass },
        logger: false,
        disableAutoIdle: true,
    });
    client.on("error", () => undefined);
    try {
        await client.connect();
    } catch (error) {
        const e = error as Error & { responseText?: string; authenticationFailed?: boolean };
        return { loggedIn: false, error: `${e.message}${e.responseText ? `: ${e.responseText}` : ""}` };
    }
    try {
        const specialUse = (await client.list()).flatMap((m) => (m.specialUse ? [m.specialUse] : [])).sort();
        const lock = await client.getMailboxLock(job.folder ?? "INBOX");
        try {
            let header: string | undefined;
            if (job.caseId) {
                const found = await client.search({ header: { "x-lab-case": job.caseId } }, { uid: true });
                const uid = Array.isArray(found) ? found[0] : undefined;
                if (uid !== undefined) {
                    const message = await client.fetchOne(String(uid), { headers: true }, { uid: true });
                    header = message ? message.headers?.toString("latin1") : undefined;
                }
            }
            return { loggedIn: true, header, specialUse };
        } finally {
            lock.release();
        }
    } finally {
        await client.logout().catch(() => undefined);
    }
}

/** Greeting, CAPABILITY, then LOGIN in clear text: the lines the server answers. */
async function cleartext(job: ImapJob): Promise<ImapResult> {
    const socket = connect({ host: job.host, port: job.port });
    const lines: string[] = [];
    let buffer = "";
    const waiters: Array<{ tag: string; done: () => void }> = [];
    socket.setEncoding("latin1");
    socket.on("data", (data: string) => {
        buffer += data;
        for (let at = buffer.indexOf("\r\n"); at >= 0; at = buffer.indexOf("\r\n")) {
            const line = buffer.slice(0, at);
            buffer = buffer.slice(at + 2);
            lines.push(line);
            const waiter = waiters[0];
            if (waiter && line.startsWith(`${waiter.tag} `)) {
                waiters.shift();
                waiter.done();
            }
        }
    });
    const said = (tag: string) => new Promise<void>((done) => waiters.push({ tag, done }));
    const quoted = (value: string) => `"${value.replace(/["\\]/g, "\\$&")}"`;
    await said("*");
    for (const [tag, command] of [
        ["a1", "CAPABILITY"],
        ["a2", `LOGIN ${quoted(job.user)} ${quoted(job.pass)}`],
        ["a3", "LOGOUT"],
    ]) {
        const reply = said(tag);
        socket.write(`${tag} ${command}\r\n`);
        await reply;
    }
    socket.destroy();
    return { lines };
}

if (require.main === module) {
    const { positionals } = parseArgs({ allowPositionals: true, options: {} });
    const job = JSON.parse(positionals[0] ?? "null") as ImapJob;
    const timer = setTimeout(() => {
        console.log(JSON.stringify({ error: "timeout" }));
        process.exit(0);
    }, 60_000);
    (job.mode === "cleartext" ? cleartext(job) : read(job))
        .then((result) => console.log(JSON.stringify(result)))
        .catch((error: unknown) => console.log(JSON.stringify({ error: String((error as Error)?.message ?? error) })))
        .finally(() => clearTimeout(timer));
}
