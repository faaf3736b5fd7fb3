import { connect as netConnect, type Socket } from "node:net";
import { checkServerIdentity, type PeerCertificate, type TLSSocket, connect as tlsConnect } from "node:tls";

/** One SMTP reply: code and text lines. */
export interface Reply {
    readonly code: number;
    readonly lines: string[];
}

/** What a receiving server sees when it connects to an MX: banner, EHLO, STARTTLS, certificate. */
export interface SmtpProbe {
    readonly banner: Reply;
    readonly ehlo: Reply;
    readonly starttlsOffered: boolean;
    readonly tls?: {
        readonly protocol: string | null;
        /** Chain verifies against the trust store (or the given CA). */
        readonly chainValid: boolean;
        readonly chainError?: string;
        /** Certificate valid for the host name. */
        readonly nameValid: boolean;
        readonly nameError?: string;
        readonly validTo: Date;
        readonly subject: string;
    };
}

export interface ProbeOptions {
    readonly host: string;
    readonly port: number;
    /** The name we expect (PTR name): certificate check and SNI. */
    readonly servername: string;
    /** Our EHLO name. */
    readonly helo: string;
    readonly timeoutMs: number;
    /** Extra trusted CA certificates (PEM), replacing the system store (tests). */
    readonly ca?: string;
}

/** How long a server that has begun its greeting may take to finish it: postscreen's greet wait (6 s) and a margin. */
export const GREET_WAIT_MS = 10_000;

/** Reads SMTP replies (multi-line aware) from a socket. */
class ReplyReader {
    private buffer = "";
    private lines: string[] = [];
    private readonly waiting: Array<(reply: Reply) => void> = [];
    private readonly ready: Reply[] = [];
    private firstLine: (() => void) | undefined;
    /** Settles when the server's first line has come (a whole reply or the first line of one). */
    readonly answered = new Promise<void>((resolve) => {
        this.firstLine = resolve;
    });

    constructor(socket: Socket) {
        socket.setEncoding("latin1");
        socket.on("data", (chunk: string) => this.push(chunk));
    }

    private push(chunk: string): void {
        this.buffer += chunk;
        for (let end = this.buffer.indexOf("\n"); end >= 0; end = this.buffer.indexOf("\n")) {
            const line = this.buffer.slice(0, end).replace(/\r$/, "");
            this.buffer = this.buffer.slice(end + 1);
            this.lines.push(line.slice(4));
            this.firstLine?.();
            if (/^\d{3}(?: |$)/.test(line)) {
                const reply = { code: Number(line.slice(0, 3)), lines: this.lines };
                this.lines = [];
                const next = this.waiting.shift();
                if (next) next(reply);
                else this.ready.push(reply);
            }
        }
    }

    next(): Promise<Reply> {
        const ready = this.ready.shift();
        return ready ? Promise.resolve(ready) : new Promise((resolve) => this.waiting.push(resolve));
    }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error(`${what} timed out after ${ms} ms`), { code: "ETIMEDOUT" })), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Connects to `host:port` as a sending MTA would: reads the banner, says EHLO, and when
 * STARTTLS is offered upgrades and inspects the certificate (never sends mail). Every step has
 * the timeout; a timeout rejects with code ETIMEDOUT.
 */
export async function probeSmtp(options: ProbeOptions): Promise<SmtpProbe> {
    const socket = netConnect({ host: options.host, port: options.port });
    socket.on("error", () => undefined); // surfaced through the promises below
    try {
        await withTimeout(
            new Promise<void>((resolve, reject) => {
                socket.once("connect", resolve);
                socket.once("error", reject);
            }),
            options.timeoutMs,
            `connecting to ${options.host}:${options.port}`,
        );
        const reader = new ReplyReader(socket);
        const step = <T>(promise: Promise<T>, what: string) => withTimeout(promise, options.timeoutMs, what);
        // postscreen (Postfix) sends a new client the first line of its greeting at once and the
        // rest after its greet wait (6 s by default): once the server has spoken, wait that long.
        await step(reader.answered, "waiting for the banner");
        const banner = await withTimeout(reader.next(), Math.max(options.timeoutMs, GREET_WAIT_MS), "waiting for the rest of the banner");
        socket.write(`EHLO ${options.helo}\r\n`);
        const ehlo = await step(reader.next(), "EHLO");
        const starttlsOffered = ehlo.code === 250 && ehlo.lines.some((l) => l.toUpperCase() === "STARTTLS");
        if (!starttlsOffered) {
            socket.write("QUIT\r\n");
            return { banner, ehlo, starttlsOffered };
        }
        socket.write("STARTTLS\r\n");
        const go = await step(reader.next(), "STARTTLS");
        if (go.code !== 220) return { banner, ehlo, starttlsOffered };
        socket.removeAllListeners("data");
        const secure: TLSSocket = tlsConnect({
            socket,
            servername: options.servername,
            rejectUnauthorized: false,
            // `authorized` then reflects the chain alone; the name is checked below.
            checkServerIdentity: () => undefined,
            ...(options.ca ? { ca: options.ca } : {}),
        });
        secure.on("error", () => undefined);
        await step(
            new Promise<void>((resolve, reject) => {
                secure.once("secureConnect", resolve);
                secure.once("error", reject);
            }),
            "TLS handshake",
        );
        const cert: PeerCertificate = secure.getPeerCertificate();
        const identity = checkServerIdentity(options.servername, cert);
        const tls = {
            protocol: secure.getProtocol(),
            chainValid: secure.authorized,
            ...(secure.authorizationError ? { chainError: String(secure.authorizationError) } : {}),
            nameValid: identity === undefined,
            ...(identity ? { nameError: identity.message } : {}),
            validTo: new Date(cert.valid_to),
            subject: [cert.subject?.CN ?? ""].flat().join(", "),
        };
        secure.end("QUIT\r\n");
        return { banner, ehlo, starttlsOffered, tls };
    } finally {
        socket.destroy();
    }
}

/** The host name a 220 banner or 250 EHLO reply announces (its first word). */
export function announcedName(reply: Reply): string {
    return (reply.lines[0] ?? "").split(/\s+/)[0].toLowerCase();
}
