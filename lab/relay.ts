/**
 * The lab's smarthost (relay.example.net), run inside the MX namespace, like a provider's relay
 * (SendGrid, Mailgun) on its submission port:
 *   node dist/lab/relay.js --spool DIR --key KEY.pem --cert CERT.pem
 * Port 587: STARTTLS, then AUTH PLAIN/LOGIN with the one login of topology.ts, required before
 * MAIL. Each message is accepted (250), logged with its session (who logged in, from where, over
 * which TLS) in DIR/relayed.jsonl, then handed on from the relay's own addresses to the
 * recipient's MX on port 25 with STARTTLS, retried until it is taken: a real second hop, which
 * the receiving MX records and the grader judges (SPF for the relay's address, its PTR and HELO).
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SMTPServer, type SMTPServerDataStream, type SMTPServerOptions, type SMTPServerSession } from "smtp-server";
import { deliver, unmapped } from "./smtp-client";
import { LAB } from "./topology";

const { values } = parseArgs({ options: { spool: { type: "string" }, key: { type: "string" }, cert: { type: "string" } } });
if (!values.spool || !values.key || !values.cert) throw new Error("usage: relay.js --spool DIR --key KEY.pem --cert CERT.pem");
const spool = values.spool;
mkdirSync(spool, { recursive: true });
let sequence = 0;

/** What the relay logs for each message it accepted. */
export interface Relayed {
    readonly n: string;
    readonly clientIp: string;
    readonly user: string;
    readonly tls: boolean;
    readonly mailFrom: string;
    readonly rcptTo: string[];
    /** The MX's final reply to the relay's own delivery, once it was taken. */
    forwarded?: string;
}

type TlsSession = SMTPServerSession & { tlsOptions?: { version?: string } };

async function forward(entry: Relayed, message: Buffer): Promise<void> {
    const file = join(spool, `${entry.n}.eml`);
    writeFileSync(file, message);
    for (let attempt = 1; ; attempt++) {
        // Each family from its own address, as a relay with a PTR on both would.
        const transcript = await deliver({
            host: LAB.mx.v4,
            localAddress: LAB.relay.v4,
            helo: LAB.relay.name,
            starttls: true,
            from: entry.mailFrom,
            to: entry.rcptTo,
            dataFile: file,
            timeoutMs: 30_000,
        }).catch((error: unknown) => ({ error: String(error), dataEnd: undefined }));
        if (transcript.dataEnd?.code === 250) {
            entry.forwarded = transcript.dataEnd.lines.join(" ");
            appendFileSync(join(spool, "relayed.jsonl"), `${JSON.stringify(entry)}\n`);
            console.log(`${new Date().toISOString()} #${entry.n} forwarded: ${entry.forwarded}`);
            return;
        }
        console.log(`${new Date().toISOString()} #${entry.n} attempt ${attempt} not taken: ${JSON.stringify(transcript).slice(0, 300)}`);
        await new Promise((resolve) => setTimeout(resolve, 2000));
    }
}

const options: SMTPServerOptions = {
    name: LAB.relay.name,
    banner: "lab smarthost",
    key: readFileSync(values.key),
    cert: readFileSync(values.cert),
    authMethods: ["PLAIN", "LOGIN"],
    // AUTH only after STARTTLS, and required before MAIL.
    allowInsecureAuth: false,
    authOptional: false,
    size: 20 * 1024 * 1024,
    logger: false,
    onAuth(auth, session, callback) {
        const ok = auth.username === LAB.relay.login.user && auth.password === LAB.relay.login.password;
        console.log(
            `${new Date().toISOString()} AUTH ${auth.method} ${auth.username} from ${unmapped(session.remoteAddress)}: ${ok ? "ok" : "refused"}`,
        );
        if (!ok) return callback(Object.assign(new Error("5.7.8 Authentication credentials invalid"), { responseCode: 535 }));
        callback(null, { user: auth.username });
    },
    onData(stream: SMTPServerDataStream, session: TlsSession, callback) {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => {
            const entry: Relayed = {
                n: String(++sequence).padStart(4, "0"),
                clientIp: unmapped(session.remoteAddress),
                user: String(session.user ?? ""),
                tls: Boolean(session.secure),
                mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
                rcptTo: session.envelope.rcptTo.map((r) => r.address),
            };
            console.log(
                `${new Date().toISOString()} #${entry.n} accepted from ${entry.clientIp} as ${entry.user} <${entry.mailFrom}> -> ${entry.rcptTo.join(",")}`,
            );
            callback(null, `2.0.0 Ok: queued as relay${entry.n}`);
            void forward(entry, Buffer.concat(chunks));
        });
    },
};
for (const address of [LAB.relay.v4, LAB.relay.v6]) {
    const server = new SMTPServer(options);
    server.on("error", (error) => console.error(`relay error on ${address}: ${error.message}`));
    server.listen(LAB.relay.port, address, () => console.log(`listening on [${address}]:${LAB.relay.port}`));
}
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
