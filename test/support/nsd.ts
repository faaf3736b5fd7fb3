import { spawn, spawnSync } from "node:child_process";
import { Resolver } from "node:dns/promises";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { scratchDir } from "./scratch";

/** A real NSD serving zones on a loopback port, for as long as the test needs it. */
export interface Nsd {
    /** `127.0.0.1:<port>`, for --resolver and Dns. */
    readonly server: string;
    stop(): void;
}

/** A free TCP port on loopback (NSD takes the same number on UDP and TCP). */
export async function freePort(): Promise<number> {
    return new Promise((resolve) => {
        const server = createServer();
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as { port: number };
            server.close(() => resolve(port));
        });
    });
}

/** Every NSD this process started, stopped when it exits whatever happens to the tests. */
const running = new Set<() => void>();
process.on("exit", () => {
    for (const stop of running) stop();
});

const SOA = (origin: string) =>
    [`$ORIGIN ${origin}.`, "$TTL 300", `@ IN SOA ns1.${origin}. hostmaster.${origin}. 1 3600 600 86400 60`, `@ IN NS ns1.${origin}.`].join(
        "\n",
    );

/**
 * Starts NSD with `zones` (origin → records, owner names relative to the origin or absolute,
 * SOA/NS added) and waits until it answers. `nsd-checkzone` runs first so a zone NSD would refuse
 * fails the test loudly instead of serving nothing.
 */
export async function startNsd(zones: Record<string, string>): Promise<Nsd> {
    const dir = scratchDir("nsd-");
    const port = await freePort();
    const zoneConf: string[] = [];
    for (const [origin, records] of Object.entries(zones)) {
        const file = join(dir, `${origin}.zone`);
        writeFileSync(file, `${SOA(origin)}\nns1.${origin}. IN A 127.0.0.1\n${records}\n`);
        const checked = spawnSync("nsd-checkzone", [origin, file], { encoding: "utf8" });
        if (checked.status !== 0) throw new Error(`zone ${origin} does not load: ${checked.stderr}${checked.stdout}`);
        zoneConf.push(`zone:\n  name: ${origin}\n  zonefile: ${file}\n`);
    }
    writeFileSync(
        join(dir, "nsd.conf"),
        [
            "server:",
            `  ip-address: 127.0.0.1@${port}`,
            '  username: ""',
            '  chroot: ""',
            '  database: ""',
            `  zonelistfile: "${dir}/zone.list"`,
            `  xfrdfile: "${dir}/xfrd.state"`,
            `  pidfile: "${dir}/nsd.pid"`,
            `  logfile: "${dir}/nsd.log"`,
            "  server-count: 1",
            "  verbosity: 0",
            "remote-control:",
            "  control-enable: no",
            ...zoneConf,
        ].join("\n"),
    );
    const child = spawn("nsd", ["-d", "-c", join(dir, "nsd.conf")], { stdio: "ignore" });
    const stop = () => {
        running.delete(stop);
        if (child.exitCode === null) child.kill("SIGTERM");
    };
    running.add(stop);
    const resolver = new Resolver({ timeout: 200, tries: 1 });
    resolver.setServers([`127.0.0.1:${port}`]);
    const origin = Object.keys(zones)[0];
    for (let attempt = 0; attempt < 100; attempt++) {
        try {
            await resolver.resolveSoa(origin);
            return { server: `127.0.0.1:${port}`, stop };
        } catch {
            if (child.exitCode !== null) break;
            await new Promise((r) => setTimeout(r, 50));
        }
    }
    stop();
    let log = "";
    try {
        log = readFileSync(join(dir, "nsd.log"), "utf8");
    } catch {
        // no log written
    }
    throw new Error(`NSD did not start: ${log}`);
}
