/**
 * The lab's receiving MX for example.net, run inside the MX namespace:
 *   node dist/lab/receiver.js --dir OUT --key KEY.pem --cert CERT.pem [--listen ip …]
 * Offers STARTTLS, accepts mail only for example.net (refuses relaying), and stores each message
 * as delivered (Return-Path and Received prepended, as a real MX does) in OUT/NNNN.eml, with the
 * real session (client address, HELO, envelope, TLS) in OUT/NNNN.json, written last.
 */
import { Resolver } from "node:dns/promises";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SMTPServer, type SMTPServerDataStream, type SMTPServerOptions, type SMTPServerSession } from "smtp-server";
import { unmapped } from "./smtp-client";
import { LAB } from "./topology";

const { values } = parseArgs({
    options: {
        dir: { type: "string" },
        key: { type: "string" },
        cert: { type: "string" },
        listen: { type: "string", multiple: true },
    },
});
if (!values.dir || !values.key || !values.cert)
    throw new Error("usage: receiver.js --dir OUT --key KEY.pem --cert CERT.pem [--listen ip …]");
const dir = values.dir;
const listen = values.listen ?? [LAB.mx.v4, LAB.mx.v6];
/** While this file exists, new sessions get no greeting: a sender's delivery hangs in flight (the reboot fault). */
const stallFile = join(dir, "..", "receiver.stall");
const ACCEPTED_DOMAIN = "example.net";
mkdirSync(dir, { recursive: true });
let sequence = 0;
const dns = new Resolver({ timeout: 2000, tries: 1 });
dns.setServers([LAB.dns.v4]);

/** TLS details smtp-server keeps on the session but does not declare. */
type TlsSession = SMTPServerSession & { tlsOptions?: { version?: string; name?: string } };

async function receivedHeader(session: TlsSession, ip: string, id: string, recipient: string): Promise<string> {
    let reverse = "unknown";
    try {
        reverse = (await dns.reverse(ip))[0] ?? "unknown";
    } catch {
        // no PTR
    }
    const literal = isIP(ip) === 6 ? `IPv6:${ip}` : ip;
    const tls =
        session.secure && session.tlsOptions
            ? ` (using ${session.tlsOptions.version ?? ""} with cipher ${session.tlsOptions.name ?? ""})`
            : "";
    return (
        `Received: from ${session.hostNameAppearsAs} (${reverse} [${literal}])\r\n` +
        `\tby ${LAB.mx.name} (lab-receiver) with ${session.secure ? "ESMTPS" : "ESMTP"} id ${id}${tls}\r\n` +
        `\tfor <${recipient}>; ${new Date().toUTCString().replace("GMT", "+0000")}\r\n`
    );
}

const options: SMTPServerOptions = {
    name: LAB.mx.name,
    banner: "lab receiving MX",
    key: readFileSync(values.key),
    cert: readFileSync(values.cert),
    authOptional: true,
    disabledCommands: ["AUTH"],
    size: 20 * 1024 * 1024,
    logger: false,
    onConnect(session, callback) {
        if (!existsSync(stallFile)) return callback();
        console.log(`${new Date().toISOString()} stalling session from ${unmapped(session.remoteAddress)}`);
        const timer = setInterval(() => {
            if (!existsSync(stallFile)) {
                clearInterval(timer);
                callback();
            }
        }, 200);
    },
    onRcptTo(address, _session, callback) {
        if (address.address.split("@")[1]?.toLowerCase() !== ACCEPTED_DOMAIN) {
            return callback(Object.assign(new Error("5.7.1 Relaying denied"), { responseCode: 550 }));
        }
        callback();
    },
    onData(stream: SMTPServerDataStream, session: TlsSession, callback) {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", async () => {
            try {
                const n = String(++sequence).padStart(4, "0");
                const ip = unmapped(session.remoteAddress);
                const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
                const rcptTo = session.envelope.rcptTo.map((r) => r.address);
                const head = `Return-Path: <${mailFrom}>\r\n${await receivedHeader(session, ip, `lab${n}`, rcptTo[0])}`;
                writeFileSync(join(dir, `${n}.eml`), Buffer.concat([Buffer.from(head), ...chunks]));
                const meta = {
                    n,
                    receivedAt: new Date().toISOString(),
                    ip,
                    helo: session.hostNameAppearsAs,
                    mailFrom,
                    rcptTo,
                    tls: Boolean(session.secure),
                    tlsProtocol: session.tlsOptions?.version,
                    tlsCipher: session.tlsOptions?.name,
                    localAddress: unmapped(session.localAddress),
                    sizeBytes: Buffer.concat(chunks).length,
                };
                writeFileSync(join(dir, `${n}.json.tmp`), JSON.stringify(meta, null, 2));
                renameSync(join(dir, `${n}.json.tmp`), join(dir, `${n}.json`));
                console.log(`${meta.receivedAt} #${n} from ${ip} helo=${meta.helo} <${mailFrom}> -> ${rcptTo.join(",")} tls=${meta.tls}`);
                callback(null, `2.0.0 Ok: queued as lab${n}`);
            } catch (error) {
                callback(error as Error);
            }
        });
    },
};

for (const address of listen) {
    const server = new SMTPServer(options);
    server.on("error", (error) => console.error(`smtp error on ${address}: ${error.message}`));
    server.listen(25, address, () => console.log(`listening on [${address}]:25`));
}
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
