/** The lab's own services, each in its namespace: NSD (the lab's DNS), Pebble (ACME), the receiving MX. */
import type { ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inNamespace, run, startBackground, stopBackground, waitFor } from "./sys";
import { LAB, type Node } from "./topology";
import { buildZones, writeNsd, type Zone, type ZoneOptions } from "./zones";

export interface Dns {
    readonly dir: string;
    readonly listen: readonly string[];
    readonly name: string;
    process?: ChildProcess;
}

/** (Re)starts one NSD serving the plan's zones as `options` say. */
export async function startNsd(dns: Dns, plan: readonly Zone[], options: ZoneOptions, logFile: string): Promise<void> {
    if (dns.process) await stopBackground(dns.process, 3000);
    const conf = writeNsd(dns.dir, dns.listen, buildZones(plan, options));
    await run("nsd-checkconf", [conf]);
    dns.process = startBackground(dns.name, "ip", ["netns", "exec", LAB.dns.netns, "nsd", "-d", "-c", conf], logFile);
    const server = dns.listen[0];
    await waitFor(
        `${dns.name} answering`,
        async () => {
            const r = await inNamespace(LAB.client.netns, "dig", ["+time=1", "+tries=1", "+norec", `@${server}`, "SOA", "lab.test"], {
                allowFail: true,
            });
            return r.code === 0 && /status: NOERROR/.test(r.stdout);
        },
        15_000,
        200,
    );
}

export const ACME_DIR_URL = `https://${LAB.acme.name}:14000/dir`;

export interface Pebble {
    readonly process: ChildProcess;
    /** Pebble's root certificate, which signs what it issues. */
    readonly root: string;
    readonly logFile: string;
}

export async function startPebble(dir: string, certs: string, logFile: string): Promise<Pebble> {
    mkdirSync(dir, { recursive: true });
    const conf = join(dir, "pebble.json");
    writeFileSync(
        conf,
        JSON.stringify(
            {
                pebble: {
                    listenAddress: "[::]:14000",
                    managementListenAddress: "[::]:15000",
                    certificate: join(certs, "acme.pem"),
                    privateKey: join(certs, "acme.key"),
                    httpPort: 80,
                    tlsPort: 443,
                    ocspResponderURL: "",
                    externalAccountBindingRequired: false,
                    // An hour, not Let's Encrypt's 90 days: certbot's renewal is due on every run (the renewal fault).
                    certificateValidityPeriod: 3600,
                },
            },
            null,
            2,
        ),
    );
    const process_ = startBackground(
        "pebble",
        "ip",
        ["netns", "exec", LAB.acme.netns, "pebble", "-config", conf, "-dnsserver", `${LAB.dns.v4}:53`],
        logFile,
        {
            ...process.env,
            PEBBLE_VA_NOSLEEP: "1",
            PEBBLE_WFE_NONCEREJECT: "0",
        },
    );
    const get = (path: string) =>
        inNamespace(
            LAB.client.netns,
            "curl",
            ["-sf", "--max-time", "3", "--cacert", join(certs, "ca.pem"), `https://${LAB.acme.v4}:15000${path}`],
            {
                allowFail: true,
            },
        );
    await waitFor("pebble management API", async () => (await get("/roots/0")).code === 0, 20_000, 300);
    const root = join(dir, "pebble-root.pem");
    writeFileSync(root, (await get("/roots/0")).stdout);
    writeFileSync(join(dir, "pebble-intermediate.pem"), (await get("/intermediates/0")).stdout);
    return { process: process_, root, logFile };
}

/**
 * Validations Pebble refused so far (each would count against Let's Encrypt's failed-validation
 * limit): its log says `authz <id> set INVALID by completed challenge <id>` (pebble 2.x, as seen in
 * the lab's pebble.log), then once more for the order, which is not counted.
 */
export function failedValidations(logFile: string): string[] {
    return readFileSync(logFile, "utf8")
        .split("\n")
        .filter((line) => /\bauthz \S+ set INVALID\b/.test(line));
}

/** One of the lab's SMTP servers (dist/lab/<script>.js) in `node`'s namespace, once it listens on both of its addresses. */
async function startSmtpService(distLab: string, script: string, node: Node, args: string[], logFile: string): Promise<ChildProcess> {
    const child = startBackground(
        script,
        "ip",
        ["netns", "exec", node.netns, process.execPath, join(distLab, `${script}.js`), ...args],
        logFile,
    );
    await waitFor(
        `${script} listening`,
        () => {
            const text = readFileSync(logFile, "utf8");
            return text.includes(`listening on [${node.v4}]`) && text.includes(`listening on [${node.v6}]`);
        },
        15_000,
        200,
    );
    return child;
}

/** The smarthost (lab/relay.ts) in the MX namespace, its spool and relayed.jsonl in `spool`. */
export function startRelay(distLab: string, spool: string, certs: string, logFile: string): Promise<ChildProcess> {
    const tls = ["--key", join(certs, "relay.key"), "--cert", join(certs, "relay.pem")];
    return startSmtpService(distLab, "relay", LAB.relay, ["--spool", spool, ...tls], logFile);
}

/** The receiving MX for example.net (lab/receiver.ts), storing what it receives in `mailDir`. */
export function startReceiver(distLab: string, mailDir: string, certs: string, logFile: string): Promise<ChildProcess> {
    const tls = ["--key", join(certs, "mx.key"), "--cert", join(certs, "mx.pem")];
    return startSmtpService(distLab, "receiver", LAB.mx, ["--dir", mailDir, ...tls], logFile);
}
