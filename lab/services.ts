// The lab's own services, each in its namespace: NSD (lab DNS), Pebble (ACME), the receiving MX.
import { writeFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ChildProcess } from "node:child_process";
import { startBg, stopBg, inNs, waitFor, run } from "./sys.js";
import { LAB } from "./topology.js";
import { Zone, ZoneOptions, buildZones, writeNsd } from "./zones.js";

export interface Dns {
    dir: string;
    proc?: ChildProcess;
    listen: string[];
    name: string;
}

/** (Re)start one NSD instance serving the plan zones with the given variant. */
export async function startNsd(d: Dns, plan: Zone[], opts: ZoneOptions, logFile: string): Promise<void> {
    if (d.proc) await stopBg(d.proc, 3000);
    const conf = writeNsd(d.dir, d.listen, buildZones(plan, opts));
    await run("nsd-checkconf", [conf]);
    d.proc = startBg(d.name, "ip", ["netns", "exec", LAB.dnsNetns, "nsd", "-d", "-c", conf], logFile);
    const server = d.listen[0];
    await waitFor(
        `${d.name} answering`,
        async () => {
            const r = await inNs(LAB.client.netns, "dig", ["+time=1", "+tries=1", "+norec", `@${server}`, "SOA", "lab.test"], {
                allowFail: true,
            });
            return r.code === 0 && /status: NOERROR/.test(r.stdout);
        },
        15000,
        200,
    );
}

export const ACME_DIR_URL = `https://${LAB.acme.name.replace(/\.$/, "")}:14000/dir`;

export async function startPebble(dir: string, certs: string, logFile: string): Promise<{ proc: ChildProcess; root: string }> {
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
                },
            },
            null,
            2,
        ),
    );
    const proc = startBg(
        "pebble",
        "ip",
        ["netns", "exec", LAB.acme.netns, "pebble", "-config", conf, "-dnsserver", `${LAB.ns.v4}:53`],
        logFile,
        { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" },
    );
    const get = (p: string) =>
        inNs(LAB.client.netns, "curl", ["-sf", "--max-time", "3", "--cacert", join(certs, "ca.pem"), `https://${LAB.acme.v4}:15000${p}`], {
            allowFail: true,
        });
    await waitFor("pebble management API", async () => (await get("/roots/0")).code === 0, 20000, 300);
    const root = (await get("/roots/0")).stdout;
    const inter = (await get("/intermediates/0")).stdout;
    writeFileSync(join(dir, "pebble-root.pem"), root);
    writeFileSync(join(dir, "pebble-intermediate.pem"), inter);
    return { proc, root: join(dir, "pebble-root.pem") };
}

export async function startReceiver(distLab: string, mailDir: string, certs: string, logFile: string): Promise<ChildProcess> {
    const p = startBg(
        "receiver",
        "ip",
        [
            "netns",
            "exec",
            LAB.mx.netns,
            process.execPath,
            join(distLab, "receiver.js"),
            "--dir",
            mailDir,
            "--key",
            join(certs, "mx.key"),
            "--cert",
            join(certs, "mx.pem"),
        ],
        logFile,
    );
    await waitFor(
        "receiver listening",
        () => /listening on \[2001/.test(readFileSync(logFile, "utf8")) && /listening on \[192/.test(readFileSync(logFile, "utf8")),
        15000,
        200,
    );
    return p;
}
