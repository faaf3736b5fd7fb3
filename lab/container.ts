// Boot the cached root filesystem with systemd-nspawn, NoCloud seed = the plan's user data.
import { mkdirSync, writeFileSync, existsSync, readFileSync, copyFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ChildProcess } from "node:child_process";
import { run, startBg, stopBg, onCleanup, waitFor, log, sleep, recordPid, recordMount, forgetMount } from "./sys.js";
import { LAB } from "./topology.js";

export interface Container {
    name: string;
    root: string; // merged root on the host
    runDir: string;
    instanceId: string;
    proc?: ChildProcess;
    bootedAt: number; // epoch ms of the last (re)start
    boots: number;
    disposed?: boolean;
}

/** Overlay a fresh writable layer on the cached root and write the NoCloud seed into it. */
export async function prepare(name: string, rootfs: string, runDir: string, userData: Buffer, instanceId: string): Promise<Container> {
    await run("umount", ["-l", join(runDir, "root")], { allowFail: true });
    if ((await run("mountpoint", ["-q", join(runDir, "root")], { allowFail: true })).code === 0)
        throw new Error(`${runDir}/root is still mounted`);
    rmSync(runDir, { recursive: true, force: true });
    for (const d of ["upper", "work", "root"]) mkdirSync(join(runDir, d), { recursive: true });
    const root = join(runDir, "root");
    const ov = await run(
        "mount",
        ["-t", "overlay", "overlay", "-o", `lowerdir=${rootfs},upperdir=${runDir}/upper,workdir=${runDir}/work`, root],
        { allowFail: true },
    );
    if (ov.code === 0) recordMount(root);
    else {
        // no overlayfs here (e.g. the cache itself is on overlayfs): a private copy instead
        log(`overlay mount failed (${ov.stderr.trim()}); copying the root filesystem`);
        await run("cp", ["-a", "--reflink=auto", `${rootfs}/.`, root], { timeoutMs: 600000 });
    }
    const c: Container = { name, root, runDir, instanceId, bootedAt: 0, boots: 0 };
    onCleanup(`container ${name} (${runDir})`, () => dispose(c));
    const seed = join(root, "var/lib/cloud/seed/nocloud");
    mkdirSync(seed, { recursive: true });
    writeFileSync(join(seed, "user-data"), userData); // byte for byte
    writeFileSync(join(seed, "meta-data"), `instance-id: ${instanceId}\nlocal-hostname: mail\n`);
    writeFileSync(
        join(seed, "network-config"),
        [
            "version: 2",
            "ethernets:",
            "  host0:",
            `    addresses: [${LAB.server.v4}/24, "${LAB.server.v6}/64"]`,
            "    nameservers:",
            `      addresses: [${LAB.ns.v4}, "${LAB.ns.v6}"]`,
            `      search: [${LAB.server.domain}]`,
            "",
        ].join("\n"),
    );
    rmSync(join(root, "etc/resolv.conf"), { force: true });
    writeFileSync(join(root, "etc/resolv.conf"), `nameserver ${LAB.ns.v4}\nsearch ${LAB.server.domain}\n`);
    return c;
}

let nspawnTmpfs = false;
async function ensureNspawnRunDir() {
    const d = "/run/systemd/nspawn";
    mkdirSync(d, { recursive: true });
    if ((await run("mountpoint", ["-q", d], { allowFail: true })).code !== 0) {
        await run("mount", ["-t", "tmpfs", "tmpfs", d]);
        recordMount(d);
        nspawnTmpfs = true;
        onCleanup("unmount /run/systemd/nspawn", async () => {
            if (nspawnTmpfs) {
                await run("umount", [d], { allowFail: true });
                forgetMount(d);
                nspawnTmpfs = false;
            }
        });
    }
}

/** Start (or restart after a reboot) the container in the hub namespace, on the lab bridge. */
export async function boot(c: Container, repo: string, logFile: string): Promise<void> {
    await ensureNspawnRunDir();
    c.bootedAt = Date.now();
    c.boots++;
    c.proc = startBg(
        `container ${c.name}`,
        "nsenter",
        [
            `--net=/run/netns/${LAB.hubNetns}`,
            "systemd-nspawn",
            "--boot",
            `--directory=${c.root}`,
            `--machine=${c.name}`,
            "--register=no",
            "--keep-unit",
            `--network-bridge=${LAB.bridge}`,
            `--bind-ro=${repo}:/srv/repo`,
            "--resolv-conf=off",
            "--timezone=off",
            "--link-journal=no",
            "--console=pipe",
            "--kill-signal=SIGRTMIN+3",
        ],
        logFile,
        { ...process.env, SYSTEMD_NSPAWN_TMPFS_TMP: "1" },
    );
}

/** PID (in the host's namespace) of the container's init. */
export async function initPid(c: Container): Promise<number> {
    return waitFor(
        "container init",
        async () => {
            if (!c.proc?.pid || c.proc.exitCode !== null) throw new Error("systemd-nspawn exited");
            const r = await run("ps", ["-o", "pid=,comm=", "--ppid", String(c.proc.pid)], { allowFail: true });
            const line = r.stdout
                .split("\n")
                .map((l) => l.trim().split(/\s+/))
                .find(([, comm]) => comm === "systemd");
            if (line) recordPid(Number(line[0]));
            return line ? Number(line[0]) : undefined;
        },
        30000,
        200,
    );
}

/** Run a command inside the container (all its namespaces). */
export async function exec(c: Container, cmd: string, opts: { input?: string; allowFail?: boolean; timeoutMs?: number } = {}) {
    const pid = await initPid(c);
    return run(
        "nsenter",
        [
            "-t",
            String(pid),
            "-a",
            "/usr/bin/env",
            "-i",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG=C.UTF-8",
            "/bin/sh",
            "-c",
            cmd,
        ],
        opts,
    );
}

export interface CloudInitResult {
    ok: boolean;
    seconds: number;
    errors: string[];
}

/** Wait for boot-finished of this instance; errors from result.json/status.json. */
export async function waitCloudInit(c: Container, timeoutMs: number): Promise<CloudInitResult> {
    const finished = join(c.root, "var/lib/cloud/instances", c.instanceId, "boot-finished");
    const result = join(c.root, "var/lib/cloud/data/result.json");
    await waitFor(
        "cloud-init boot-finished",
        () => {
            if (c.proc && c.proc.exitCode !== null) throw new Error(`container exited (${c.proc.exitCode}) before cloud-init finished`);
            return existsSync(finished) && existsSync(result);
        },
        timeoutMs,
        500,
    ).catch((e) => {
        log(e.message);
    });
    const seconds = (Date.now() - c.bootedAt) / 1000;
    const errors: string[] = [];
    if (!existsSync(finished)) errors.push("boot-finished never appeared");
    try {
        const r = JSON.parse(readFileSync(result, "utf8"));
        errors.push(...(r.v1?.errors ?? []).map(String));
    } catch {
        errors.push("no result.json");
    }
    try {
        const s = JSON.parse(readFileSync(join(c.root, "var/lib/cloud/data/status.json"), "utf8"));
        for (const [stage, v] of Object.entries<any>(s.v1 ?? {})) {
            if (v && typeof v === "object" && Array.isArray(v.errors)) for (const e of v.errors) errors.push(`${stage}: ${e}`);
            if (v && typeof v === "object" && v.recoverable_errors) {
                for (const [lvl, list] of Object.entries<any>(v.recoverable_errors))
                    for (const e of list) errors.push(`${stage} ${lvl}: ${e}`);
            }
        }
    } catch {
        /* older format */
    }
    return { ok: errors.length === 0, seconds, errors: [...new Set(errors)] };
}

export function copyLogs(c: Container, outDir: string) {
    for (const f of ["cloud-init.log", "cloud-init-output.log"]) {
        const p = join(c.root, "var/log", f);
        if (existsSync(p)) copyFileSync(p, join(outDir, f));
    }
}

/** Reboot from inside and start nspawn again when it exits (exit 133 = reboot). */
export async function reboot(c: Container, repo: string, logFile: string) {
    const p = c.proc!;
    const exited = new Promise<number | null>((r) => p.once("exit", (code) => r(code)));
    await exec(c, "systemctl reboot", { allowFail: true });
    const code = await Promise.race([exited, sleep(90000).then(() => -1)]);
    if (code === -1) throw new Error("container did not exit on reboot");
    log(`container exited with ${code} (reboot); starting again`);
    await boot(c, repo, logFile);
}

export async function stop(c: Container) {
    if (c.proc) await stopBg(c.proc, 20000);
}

/** Stop the container and unmount its overlay (safe to call twice). */
export async function dispose(c: Container) {
    if (c.disposed) return;
    c.disposed = true;
    await stop(c);
    if ((await run("mountpoint", ["-q", c.root], { allowFail: true })).code === 0) {
        const r = await run("umount", [c.root], { allowFail: true });
        if (r.code) await run("umount", ["-l", c.root], { allowFail: true });
    }
    forgetMount(c.root);
}
