// A small SMTP client that records everything a probe needs (run inside a lab namespace):
//   node dist/lab/smtp-client.js '<json job>'   → prints a JSON transcript on stdout
// job: { host, port?, helo, starttls?, caFile?, servername?, from?, to?: string[], dataFile?, quitAfterTls? }
import { connect as netConnect, Socket } from "node:net";
import { connect as tlsConnect, TLSSocket } from "node:tls";
import { readFileSync } from "node:fs";

interface Job {
    host: string;
    port?: number;
    helo: string;
    starttls?: boolean;
    caFile?: string;
    servername?: string;
    from?: string;
    to?: string[];
    dataFile?: string;
    timeoutMs?: number;
}
interface Reply {
    code: number;
    lines: string[];
}

export interface Transcript {
    banner?: Reply;
    ehlo?: Reply;
    starttls?: Reply;
    ehloTls?: Reply;
    cert?: {
        subject: string;
        issuer: string;
        san: string;
        validTo: string;
        fingerprint256: string;
        authorized: boolean;
        authorizationError?: string;
        chainSubjects: string[];
    };
    tlsProtocol?: string;
    mail?: Reply;
    rcpt?: Reply[];
    data?: Reply;
    dataEnd?: Reply;
    error?: string;
}

class Conn {
    private buf = "";
    private waiters: ((r: Reply) => void)[] = [];
    private lines: string[] = [];
    constructor(public sock: Socket | TLSSocket) {
        this.attach();
    }
    attach() {
        this.sock.setEncoding("latin1");
        this.sock.on("data", (d: string) => {
            this.buf += d;
            let i: number;
            while ((i = this.buf.indexOf("\n")) >= 0) {
                const line = this.buf.slice(0, i).replace(/\r$/, "");
                this.buf = this.buf.slice(i + 1);
                this.lines.push(line);
                if (/^\d{3} /.test(line) || /^\d{3}$/.test(line)) {
                    const r = { code: Number(line.slice(0, 3)), lines: this.lines };
                    this.lines = [];
                    this.waiters.shift()?.(r);
                }
            }
        });
    }
    reply(): Promise<Reply> {
        return new Promise((res) => this.waiters.push(res));
    }
    async cmd(line: string): Promise<Reply> {
        const p = this.reply();
        this.sock.write(line + "\r\n");
        return p;
    }
}

async function run(job: Job): Promise<Transcript> {
    const t: Transcript = {};
    const timer = setTimeout(() => {
        t.error = "timeout";
        console.log(JSON.stringify(t));
        process.exit(0);
    }, job.timeoutMs ?? 60000);
    const sock = netConnect({ host: job.host, port: job.port ?? 25 });
    await new Promise<void>((res, rej) => {
        sock.once("connect", res);
        sock.once("error", rej);
    });
    let c = new Conn(sock);
    t.banner = await c.reply();
    t.ehlo = await c.cmd(`EHLO ${job.helo}`);
    if (job.starttls) {
        t.starttls = await c.cmd("STARTTLS");
        if (t.starttls.code !== 220) throw new Error(`STARTTLS refused: ${t.starttls.lines.join(" ")}`);
        sock.removeAllListeners("data");
        const ts = tlsConnect({
            socket: sock,
            servername: job.servername ?? job.host,
            ca: job.caFile ? readFileSync(job.caFile) : undefined,
            rejectUnauthorized: false,
        });
        await new Promise<void>((res, rej) => {
            ts.once("secureConnect", res);
            ts.once("error", rej);
        });
        const peer = ts.getPeerCertificate(true);
        const chain: string[] = [];
        for (let p: any = peer, i = 0; p && i < 6; p = p.issuerCertificate === p ? undefined : p.issuerCertificate, i++)
            chain.push(p.subject?.CN ?? "");
        t.cert = {
            subject: String(peer.subject?.CN ?? ""),
            issuer: String(peer.issuer?.CN ?? ""),
            san: peer.subjectaltname ?? "",
            validTo: peer.valid_to,
            fingerprint256: peer.fingerprint256,
            authorized: ts.authorized,
            authorizationError: ts.authorizationError ? String(ts.authorizationError) : undefined,
            chainSubjects: chain,
        };
        t.tlsProtocol = ts.getProtocol() ?? undefined;
        c = new Conn(ts);
        t.ehloTls = await c.cmd(`EHLO ${job.helo}`);
    }
    if (job.from !== undefined) {
        t.mail = await c.cmd(`MAIL FROM:<${job.from}>`);
        t.rcpt = [];
        for (const r of job.to ?? []) t.rcpt.push(await c.cmd(`RCPT TO:<${r}>`));
        if (job.dataFile && t.mail.code === 250 && t.rcpt.some((r) => r.code === 250)) {
            t.data = await c.cmd("DATA");
            if (t.data.code === 354) {
                const body = readFileSync(job.dataFile, "latin1").replace(/\r?\n/g, "\r\n").replace(/^\./gm, "..");
                const p = c.reply();
                c.sock.write(body + (body.endsWith("\r\n") ? "" : "\r\n") + ".\r\n");
                t.dataEnd = await p;
            }
        }
    }
    await c.cmd("QUIT").catch(() => undefined);
    c.sock.destroy();
    clearTimeout(timer);
    return t;
}

run(JSON.parse(process.argv[2]))
    .then((t) => console.log(JSON.stringify(t)))
    .catch((e) => {
        console.log(JSON.stringify({ error: String(e?.message ?? e) }));
    });
