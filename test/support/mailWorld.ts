import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { SMTPServer } from "smtp-server";
import { dkimRecord } from "../../components/records/dkim";
import { reverseName, reverseZone } from "../../components/records/reverse";
import { chunkTxt } from "../../components/records/txt";
import { throwawayRsaKey } from "../../plan/throwawayKey";
import type { Pem } from "./certificates";

/**
 * The zones of a correctly configured mail domain whose host is this machine's loopback:
 * example.com, MX mail.example.com at 127.0.0.1 and ::1 with PTRs, SPF, HELO SPF, DKIM (selector
 * s1, RSA 2048), DMARC, MTA-STS and TLS-RPT. A scenario replaces or adds records.
 */
export interface World {
    /** example.com records, one per key so a scenario can replace one. */
    forward: Record<string, string>;
    /** 0.0.127.in-addr.arpa and the ::1 ip6.arpa zone. */
    ptr4: Record<string, string>;
    ptr6: Record<string, string>;
    /** Other zones (include targets, report domains, blocklists). */
    extra: Record<string, string>;
}

const DKIM_2048 = throwawayRsaKey(2048);
const DKIM_1024 = throwawayRsaKey(1024);
export const V6_LOOPBACK_ZONE = reverseZone("::1");

export function dkimTxt(bits: 1024 | 2048): string {
    return chunkTxt(dkimRecord((bits === 2048 ? DKIM_2048 : DKIM_1024).publicKeyPem));
}
export const DKIM_P_2048 = dkimRecord(DKIM_2048.publicKeyPem);

export function goodWorld(): World {
    return {
        forward: {
            mx: "example.com. IN MX 10 mail.example.com.",
            a: "mail.example.com. IN A 127.0.0.1",
            aaaa: "mail.example.com. IN AAAA ::1",
            spf: 'example.com. IN TXT "v=spf1 ip4:127.0.0.1 ip6:::1 -all"',
            // What the component publishes for its host name: its addresses, no lookup.
            heloSpf: 'mail.example.com. IN TXT "v=spf1 ip4:127.0.0.1 ip6:::1 -all"',
            dkim: `s1._domainkey.example.com. IN TXT ${dkimTxt(2048)}`,
            dmarc: '_dmarc.example.com. IN TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com"',
            mtaStsRecord: '_mta-sts.example.com. IN TXT "v=STSv1; id=20261123"',
            mtaStsHost: "mta-sts.example.com. IN A 127.0.0.1",
            tlsRpt: '_smtp._tls.example.com. IN TXT "v=TLSRPTv1; rua=mailto:tls@example.com"',
        },
        ptr4: { ptr: "1.0.0.127.in-addr.arpa. IN PTR mail.example.com." },
        ptr6: { ptr: `${reverseName("::1")}. IN PTR mail.example.com.` },
        extra: {},
    };
}

/** origin → records, as startNsd takes them. */
export function zonesOf(world: World): Record<string, string> {
    return {
        "example.com": Object.values(world.forward).join("\n"),
        "0.0.127.in-addr.arpa": Object.values(world.ptr4).join("\n"),
        [V6_LOOPBACK_ZONE]: Object.values(world.ptr6).join("\n"),
        ...world.extra,
    };
}

export interface SmtpOptions {
    readonly name: string;
    readonly tls: Pem | undefined;
}

/** A real SMTP server (smtp-server) on 127.0.0.1 and ::1 at `port`: banner name, STARTTLS with `tls`. */
export async function startSmtp(port: number, options: SmtpOptions): Promise<() => Promise<void>> {
    const servers = ["127.0.0.1", "::1"].map(
        () =>
            new SMTPServer({
                name: options.name,
                authOptional: true,
                disabledCommands: options.tls ? ["AUTH"] : ["AUTH", "STARTTLS"],
                ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
                logger: false,
                onData(stream, _session, callback) {
                    stream.resume();
                    stream.on("end", () => callback());
                },
            }),
    );
    await Promise.all(
        servers.map((server, i) => new Promise<void>((resolve) => server.listen(port, i === 0 ? "127.0.0.1" : "::1", resolve))),
    );
    return () => Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(() => undefined);
}

/** An HTTPS server for mta-sts.example.com's policy on 127.0.0.1:`port`. */
export async function startPolicyServer(port: number, tls: Pem, policy: string): Promise<HttpsServer> {
    const server = createHttpsServer({ key: tls.key, cert: tls.cert }, (req, res) => {
        if (req.url === "/.well-known/mta-sts.txt") {
            res.writeHead(200, { "content-type": "text/plain" }).end(policy);
        } else {
            res.writeHead(404).end();
        }
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    return server;
}

export const GOOD_POLICY = "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmax_age: 604800\r\n";
