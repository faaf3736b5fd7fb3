/**
 * A small SMTP client that records everything a probe needs, run inside a lab namespace:
 *   node dist/lab/smtp-client.js '<json job>'   → prints a JSON transcript on stdout
 * It speaks the protocol itself because a probe needs the raw replies and the TLS socket.
 */
import { readFileSync } from "node:fs";
import { connect as netConnect, type Socket } from "node:net";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { parseArgs } from "node:util";

export interface Job {
    readonly host: string;
    readonly port?: number;
    readonly helo: string;
    readonly starttls?: boolean;
    /** TLS from the first byte (port 465). */
    readonly implicitTls?: boolean;
    readonly caFile?: string;
    readonly servername?: string;
    /** OpenSSL cipher list to offer (a client with only weak ciphers). */
    readonly ciphers?: string;
    readonly maxVersion?: "TLSv1.2" | "TLSv1.3";
    /** AUTH PLAIN with these credentials after EHLO (after STARTTLS when that is asked for). */
    readonly auth?: { readonly user: string; readonly pass: string };
    readonly from?: string;
    /** The size to declare in MAIL FROM (RFC 1870 SIZE=), which Postfix hands to its policy services at RCPT. */
    readonly size?: number;
    readonly to?: readonly string[];
    readonly dataFile?: string;
    readonly timeoutMs?: number;
    /** The address to connect from (a relay sending from its own address). */
    readonly localAddress?: string;
    /** Report postscreen's deferral of a new client as it is, instead of reconnecting once as an MTA would. */
    readonly noRetry?: boolean;
    /** A bot's manners: EHLO sent at once, before the server's greeting. */
    readonly pregreet?: boolean;
    /** A bot's manners: MAIL, RCPT and DATA sent in one write, whether or not PIPELINING was offered. */
    readonly pipeline?: boolean;
    /** Only the greeting's first line (postscreen's `220-` comes at once, its last line after the greet wait), then close. */
    readonly greetingOnly?: boolean;
}

export interface Reply {
    readonly code: number;
    readonly lines: string[];
}

export interface Certificate {
    readonly subject: string;
    readonly issuer: string;
    readonly san: string;
    readonly validTo: string;
    readonly fingerprint256: string;
    readonly authorized: boolean;
    readonly authorizationError?: string;
    readonly chainSubjects: string[];
}

export interface Transcript {
    banner?: Reply;
    ehlo?: Reply;
    starttls?: Reply;
    ehloTls?: Reply;
    auth?: Reply;
    /** Milliseconds from AUTH to its reply. */
    authMs?: number;
    cert?: Certificate;
    tlsProtocol?: string;
    tlsCipher?: string;
    mail?: Reply;
    rcpt?: Reply[];
    data?: Reply;
    dataEnd?: Reply;
    error?: string;
    /** The first session's replies, when postscreen deferred a client it had not seen (and the client reconnected). */
    postscreen?: { banner?: Reply; rcpt?: Reply[] };
}

/** postscreen's reply to RCPT from a client that has just passed its tests: it must reconnect (Postfix's postscreen(8)). */
export const POSTSCREEN_DEFERRAL = /^450 4\.3\.2 Service currently unavailable/;

/** Whether `t` is postscreen's first-contact deferral: every recipient refused with its 450. */
export function deferredByPostscreen(t: Transcript): boolean {
    return (t.rcpt ?? []).length > 0 && (t.rcpt ?? []).every((r) => POSTSCREEN_DEFERRAL.test(r.lines.join(" ")));
}

/** A client address as a server socket reports it, IPv4-mapped IPv6 (`::ffff:192.0.2.1`) as plain IPv4. */
export function unmapped(address: string): string {
    return address.replace(/^::ffff:(?=\d+\.)/i, "");
}

class Connection {
    private buffer = "";
    private readonly waiting: Array<(reply: Reply) => void> = [];
    private lines: string[] = [];
    private readonly firstLine: Array<(reply: Reply) => void> = [];

    constructor(readonly socket: Socket | TLSSocket) {
        socket.setEncoding("latin1");
        socket.on("data", (data: string) => {
            this.buffer += data;
            let at = this.buffer.indexOf("\n");
            while (at >= 0) {
                const line = this.buffer.slice(0, at).replace(/\r$/, "");
                this.buffer = this.buffer.slice(at + 1);
                this.lines.push(line);
                this.firstLine.shift()?.({ code: Number(line.slice(0, 3)), lines: [line] });
                if (/^\d{3}(?: |$)/.test(line)) {
                    const reply = { code: Number(line.slice(0, 3)), lines: this.lines };
                    this.lines = [];
                    this.waiting.shift()?.(reply);
                }
                at = this.buffer.indexOf("\n");
            }
        });
    }

    reply(): Promise<Reply> {
        return new Promise((resolve) => this.waiting.push(resolve));
    }

    /** The next line the server sends, alone (a multi-line reply's first line). */
    line(): Promise<Reply> {
        return new Promise((resolve) => this.firstLine.push(resolve));
    }

    command(line: string): Promise<Reply> {
        const reply = this.reply();
        this.socket.write(`${line}\r\n`);
        return reply;
    }
}

function certificateOf(socket: TLSSocket): Certificate {
    const peer = socket.getPeerCertificate(true);
    const chain: string[] = [];
    let current: typeof peer | undefined = peer;
    for (let i = 0; current && i < 6; i++) {
        chain.push(String(current.subject?.CN ?? ""));
        current = current.issuerCertificate === current ? undefined : current.issuerCertificate;
    }
    return {
        subject: String(peer.subject?.CN ?? ""),
        issuer: String(peer.issuer?.CN ?? ""),
        san: peer.subjectaltname ?? "",
        validTo: peer.valid_to,
        fingerprint256: peer.fingerprint256,
        authorized: socket.authorized,
        authorizationError: socket.authorizationError ? String(socket.authorizationError) : undefined,
        chainSubjects: chain,
    };
}

async function upgrade(socket: Socket | undefined, job: Job, transcript: Transcript): Promise<TLSSocket> {
    const tls = tlsConnect({
        ...(socket ? { socket } : { host: job.host, port: job.port ?? 465 }),
        servername: job.servername ?? job.host,
        ca: job.caFile ? readFileSync(job.caFile) : undefined,
        rejectUnauthorized: false,
        ...(job.ciphers ? { ciphers: job.ciphers } : {}),
        ...(job.maxVersion ? { maxVersion: job.maxVersion } : {}),
    });
    await new Promise<void>((resolve, reject) => {
        tls.once("secureConnect", resolve);
        tls.once("error", reject);
    });
    transcript.cert = certificateOf(tls);
    transcript.tlsProtocol = tls.getProtocol() ?? undefined;
    transcript.tlsCipher = tls.getCipher()?.name;
    return tls;
}

/** Runs `job` in this process; a timeout ends it with `error: "timeout"`. */
export async function deliver(job: Job): Promise<Transcript> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Transcript>((resolve) => {
        timer = setTimeout(() => resolve({ error: "timeout" }), job.timeoutMs ?? 60_000);
    });
    try {
        return await Promise.race([retried(job, {}), timeout]);
    } finally {
        clearTimeout(timer);
    }
}

async function run(job: Job): Promise<Transcript> {
    const transcript: Transcript = {};
    const timer = setTimeout(() => {
        transcript.error = "timeout";
        console.log(JSON.stringify(transcript));
        process.exit(0);
    }, job.timeoutMs ?? 60_000);
    await retried(job, transcript);
    clearTimeout(timer);
    return transcript;
}

/**
 * The session of `job`; when postscreen defers it as a new client, once more on a new connection,
 * as a real MTA retries (postscreen remembers the pass), with the first replies kept in `postscreen`.
 */
async function retried(job: Job, transcript: Transcript): Promise<Transcript> {
    await session(job, transcript);
    if (job.noRetry || !deferredByPostscreen(transcript)) return transcript;
    const first = { banner: transcript.banner, rcpt: transcript.rcpt };
    for (const key of Object.keys(transcript) as Array<keyof Transcript>) delete transcript[key];
    transcript.postscreen = first;
    return session(job, transcript);
}

/** The SMTP session of `job`, each reply recorded in `transcript` as it comes. */
async function session(job: Job, transcript: Transcript): Promise<Transcript> {
    let connection: Connection;
    if (job.implicitTls) {
        connection = new Connection(await upgrade(undefined, job, transcript));
    } else {
        const socket = netConnect({
            host: job.host,
            port: job.port ?? 25,
            ...(job.localAddress ? { localAddress: job.localAddress } : {}),
        });
        await new Promise<void>((resolve, reject) => {
            socket.once("connect", resolve);
            socket.once("error", reject);
        });
        connection = new Connection(socket);
    }
    if (job.greetingOnly) {
        transcript.banner = await connection.line();
        connection.socket.destroy();
        return transcript;
    }
    if (job.pregreet) {
        // postscreen reads and drops what came before its greeting; the bot says EHLO again if it got no answer.
        const banner = connection.reply();
        const ehlo = connection.reply();
        connection.socket.write(`EHLO ${job.helo}\r\n`);
        transcript.banner = await banner;
        const early = await Promise.race([ehlo, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 2000))]);
        if (!early) connection.socket.write(`EHLO ${job.helo}\r\n`);
        transcript.ehlo = early ?? (await ehlo);
    } else {
        transcript.banner = await connection.reply();
        transcript.ehlo = await connection.command(`EHLO ${job.helo}`);
    }
    if (job.starttls && !job.implicitTls) {
        transcript.starttls = await connection.command("STARTTLS");
        if (transcript.starttls.code !== 220) throw new Error(`STARTTLS refused: ${transcript.starttls.lines.join(" ")}`);
        connection.socket.removeAllListeners("data");
        connection = new Connection(await upgrade(connection.socket as Socket, job, transcript));
        transcript.ehloTls = await connection.command(`EHLO ${job.helo}`);
    }
    if (job.auth) {
        const token = Buffer.from(`\0${job.auth.user}\0${job.auth.pass}`).toString("base64");
        const sent = Date.now();
        transcript.auth = await connection.command(`AUTH PLAIN ${token}`);
        transcript.authMs = Date.now() - sent;
    }
    if (job.pipeline && job.from !== undefined) {
        const [mail, rcpt, data] = [connection.reply(), connection.reply(), connection.reply()];
        connection.socket.write(`MAIL FROM:<${job.from}>\r\nRCPT TO:<${job.to?.[0] ?? ""}>\r\nDATA\r\n`);
        transcript.mail = await mail;
        transcript.rcpt = [await rcpt];
        transcript.data = await data;
    } else if (job.from !== undefined && (!transcript.auth || transcript.auth.code === 235)) {
        transcript.mail = await connection.command(`MAIL FROM:<${job.from}>${job.size !== undefined ? ` SIZE=${job.size}` : ""}`);
        transcript.rcpt = [];
        for (const recipient of job.to ?? []) transcript.rcpt.push(await connection.command(`RCPT TO:<${recipient}>`));
        if (job.dataFile && transcript.mail.code === 250 && transcript.rcpt.some((r) => r.code === 250)) {
            transcript.data = await connection.command("DATA");
            if (transcript.data.code === 354) {
                const body = readFileSync(job.dataFile, "latin1").replace(/\r?\n/g, "\r\n").replace(/^\./gm, "..");
                const end = connection.reply();
                connection.socket.write(`${body}${body.endsWith("\r\n") ? "" : "\r\n"}.\r\n`);
                transcript.dataEnd = await end;
            }
        }
    }
    await connection.command("QUIT").catch(() => undefined);
    connection.socket.destroy();
    return transcript;
}

if (require.main === module) {
    // `node smtp-client.js '<job as JSON>'`
    const { positionals } = parseArgs({ allowPositionals: true, options: {} });
    run(JSON.parse(positionals[0] ?? "null") as Job)
        .then((transcript) => console.log(JSON.stringify(transcript)))
        .catch((error: unknown) => console.log(JSON.stringify({ error: String((error as Error)?.message ?? error) })));
}
