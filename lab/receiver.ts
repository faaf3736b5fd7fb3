// The lab's receiving MX for example.net (run inside the mx namespace):
//   node dist/lab/receiver.js --dir OUT --key KEY.pem --cert CERT.pem [--listen ip ...]
// Offers STARTTLS, accepts mail only for example.net (refuses relaying), and stores each message
// as delivered (Return-Path + Received prepended, as a real MX does) in OUT/NNNN.eml with the
// real session (client IP, HELO, envelope, TLS) in OUT/NNNN.json (written last = complete).
// Grading happens afterwards (lab/grade-cli.ts), from the stored files.
import { SMTPServer, SMTPServerSession } from "smtp-server";
import { readFileSync, writeFileSync, mkdirSync, renameSync, existsSync } from "node:fs";
import { join } from "node:path";
import { isIP } from "node:net";
import { Resolver } from "node:dns/promises";
import { LAB } from "./topology.js";

function arg(name: string, all = false): string[] {
    const out: string[] = [];
    process.argv.forEach((a, i) => {
        if (a === `--${name}`) out.push(process.argv[i + 1]);
    });
    if (!all && out.length === 0) throw new Error(`missing --${name}`);
    return out;
}
const dir = arg("dir")[0];
const listen = arg("listen", true).length ? arg("listen", true) : [LAB.mx.v4, LAB.mx.v6];
// While this file exists, new sessions get no greeting (the sender's delivery hangs in flight):
// used by the reboot fault to have a message in the server's queue when it reboots.
const stallFile = join(dir, "..", "receiver.stall");
const acceptDomain = "example.net";
const mta = LAB.mx.name.replace(/\.$/, "");
mkdirSync(dir, { recursive: true });
let seq = 0;
const dns = new Resolver({ timeout: 2000, tries: 1 });
dns.setServers([LAB.ns.v4]);

const plainIp = (a: string) => a.replace(/^::ffff:(?=\d+\.)/i, "");

async function received(s: SMTPServerSession, ip: string, id: string, rcpt: string): Promise<string> {
    let rdns = "unknown";
    try {
        rdns = (await dns.reverse(ip))[0] ?? "unknown";
    } catch {
        /* none */
    }
    const lit = isIP(ip) === 6 ? `IPv6:${ip}` : ip;
    const proto = s.secure ? "ESMTPS" : "ESMTP";
    const tls: any = s.tlsOptions;
    const tlsInfo = s.secure && tls ? ` (using ${tls.version ?? tls.standardName ?? ""} with cipher ${tls.name ?? ""})` : "";
    return (
        `Received: from ${s.hostNameAppearsAs} (${rdns} [${lit}])\r\n` +
        `\tby ${mta} (lab-receiver) with ${proto} id ${id}${tlsInfo}\r\n` +
        `\tfor <${rcpt}>; ${new Date().toUTCString().replace("GMT", "+0000")}\r\n`
    );
}

const common = {
    name: mta,
    banner: "lab receiving MX",
    key: readFileSync(arg("key")[0]),
    cert: readFileSync(arg("cert")[0]),
    authOptional: true,
    disabledCommands: ["AUTH"],
    size: 20 * 1024 * 1024,
    logger: false,
    onConnect(s: SMTPServerSession, cb: (e?: Error) => void) {
        if (!existsSync(stallFile)) return cb();
        console.log(`${new Date().toISOString()} stalling session from ${plainIp(s.remoteAddress)}`);
        const t = setInterval(() => {
            if (!existsSync(stallFile)) {
                clearInterval(t);
                cb();
            }
        }, 200);
    },
    onRcptTo(addr: { address: string }, _s: SMTPServerSession, cb: (e?: Error) => void) {
        const dom = addr.address.split("@")[1]?.toLowerCase();
        if (dom !== acceptDomain) {
            const e: any = new Error("5.7.1 Relaying denied");
            e.responseCode = 550;
            return cb(e);
        }
        cb();
    },
    onData(stream: NodeJS.ReadableStream, s: SMTPServerSession, cb: (e?: Error | null, msg?: string) => void) {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", async () => {
            try {
                const n = String(++seq).padStart(4, "0");
                const ip = plainIp(s.remoteAddress);
                const mailFrom = s.envelope.mailFrom ? s.envelope.mailFrom.address : "";
                const rcptTo = s.envelope.rcptTo.map((r) => r.address);
                const head = `Return-Path: <${mailFrom}>\r\n` + (await received(s, ip, `lab${n}`, rcptTo[0]));
                writeFileSync(join(dir, `${n}.eml`), Buffer.concat([Buffer.from(head), ...chunks]));
                const tls: any = s.tlsOptions;
                const meta = {
                    n,
                    receivedAt: new Date().toISOString(),
                    ip,
                    helo: s.hostNameAppearsAs,
                    mailFrom,
                    rcptTo,
                    tls: !!s.secure,
                    tlsProtocol: tls?.version,
                    tlsCipher: tls?.name,
                    localAddress: plainIp(s.localAddress),
                    sizeBytes: Buffer.concat(chunks).length,
                };
                writeFileSync(join(dir, `${n}.json.tmp`), JSON.stringify(meta, null, 2));
                renameSync(join(dir, `${n}.json.tmp`), join(dir, `${n}.json`));
                console.log(`${meta.receivedAt} #${n} from ${ip} helo=${meta.helo} <${mailFrom}> -> ${rcptTo.join(",")} tls=${meta.tls}`);
                cb(null, `2.0.0 Ok: queued as lab${n}`);
            } catch (e) {
                cb(e as Error);
            }
        });
    },
};

for (const addr of listen) {
    const srv = new SMTPServer(common as any);
    srv.on("error", (e) => console.error(`smtp error on ${addr}: ${e.message}`));
    srv.listen(25, addr, () => console.log(`listening on [${addr}]:25`));
}
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
