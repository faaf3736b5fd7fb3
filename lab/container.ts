/** Boots the cached root filesystem with systemd-nspawn, the plan's user data as its NoCloud seed. */
import type { ChildProcess } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
    forgetMount,
    log,
    onCleanup,
    type RunOptions,
    recordMount,
    recordPid,
    run,
    sleep,
    startBackground,
    stopBackground,
    waitFor,
} from "./sys";
import { LAB } from "./topology";

export interface Container {
    readonly name: string;
    /** The merged root, on the host. */
    readonly root: string;
    readonly runDir: string;
    readonly instanceId: string;
    process?: ChildProcess;
    /** Epoch ms of the last (re)start. */
    bootedAt: number;
    /**
     * A cgroup (v1 memory controller) directory that systemd-nspawn is started in, so that every
     * process of the container — init, Postfix, OpenDKIM — is charged to it from the first fork.
     */
    memoryCgroup?: string;
    /** Set as soon as dispose is called: the container is no longer to be used. */
    disposed?: boolean;
    /** The one stop that dispose starts; every caller of dispose waits for it to end. */
    stopped?: Promise<void>;
}

/**
 * A fresh writable layer over the cached root, with the NoCloud seed: the user data byte for byte.
 * The lab's CA joins the system's trust store, standing in for the public CAs whose certificates
 * Debian's ca-certificates trusts (the smarthost's certificate is verified against it).
 */
export async function prepare(
    name: string,
    rootfs: string,
    runDir: string,
    userData: Buffer,
    instanceId: string,
    hostname: string,
    labCaPem: string,
): Promise<Container> {
    const root = join(runDir, "root");
    await run("umount", ["-l", root], { allowFail: true });
    if ((await run("mountpoint", ["-q", root], { allowFail: true })).code === 0) throw new Error(`${root} is still mounted`);
    rmSync(runDir, { recursive: true, force: true });
    for (const d of ["upper", "work", "root"]) mkdirSync(join(runDir, d), { recursive: true });
    const overlay = await run(
        "mount",
        ["-t", "overlay", "overlay", "-o", `lowerdir=${rootfs},upperdir=${runDir}/upper,workdir=${runDir}/work`, root],
        {
            allowFail: true,
        },
    );
    if (overlay.code === 0) recordMount(root);
    else {
        // No overlayfs here (the cache itself on overlayfs, say): a private copy instead.
        log(`overlay mount failed (${overlay.stderr.trim()}); copying the root filesystem`);
        await run("cp", ["-a", "--reflink=auto", `${rootfs}/.`, root], { timeoutMs: 600_000 });
    }
    const container: Container = { name, root, runDir, instanceId, bootedAt: 0 };
    onCleanup(`container ${name} (${runDir})`, () => dispose(container));
    const seed = join(root, "var/lib/cloud/seed/nocloud");
    mkdirSync(seed, { recursive: true });
    writeFileSync(join(seed, "user-data"), userData);
    writeFileSync(join(seed, "meta-data"), `instance-id: ${instanceId}\nlocal-hostname: ${hostname.split(".")[0]}\n`);
    writeFileSync(
        join(seed, "network-config"),
        [
            "version: 2",
            "ethernets:",
            "  host0:",
            `    addresses: [${LAB.server.v4}/${LAB.prefix4}, "${LAB.server.v6}/${LAB.prefix6}"]`,
            "    nameservers:",
            `      addresses: [${LAB.dns.v4}, "${LAB.dns.v6}"]`,
            `      search: [${LAB.server.domain}]`,
            "",
        ].join("\n"),
    );
    // Where update-ca-certificates takes local CAs from (a package install rebuilds the bundle), and the bundle itself.
    writeFileSync(join(root, "usr/local/share/ca-certificates/mail-lab-ca.crt"), labCaPem);
    appendFileSync(join(root, "etc/ssl/certs/ca-certificates.crt"), labCaPem);
    rmSync(join(root, "etc/resolv.conf"), { force: true });
    writeFileSync(join(root, "etc/resolv.conf"), `nameserver ${LAB.dns.v4}\nsearch ${LAB.server.domain}\n`);
    return container;
}

async function ensureNspawnRunDir(): Promise<void> {
    const dir = "/run/systemd/nspawn";
    mkdirSync(dir, { recursive: true });
    if ((await run("mountpoint", ["-q", dir], { allowFail: true })).code === 0) return;
    await run("mount", ["-t", "tmpfs", "tmpfs", dir]);
    recordMount(dir);
    onCleanup("unmount /run/systemd/nspawn", async () => {
        await run("umount", [dir], { allowFail: true });
        forgetMount(dir);
    });
}

/** Starts (or restarts after a reboot) the container in the hub namespace, on the lab bridge. */
export async function boot(container: Container, repo: string, logFile: string): Promise<void> {
    await ensureNspawnRunDir();
    container.bootedAt = Date.now();
    const nspawn = [
        "nsenter",
        `--net=/run/netns/${LAB.hub.netns}`,
        "systemd-nspawn",
        "--boot",
        `--directory=${container.root}`,
        `--machine=${container.name}`,
        "--register=no",
        "--keep-unit",
        `--network-bridge=${LAB.hub.bridge}`,
        `--bind-ro=${repo}:/srv/repo`,
        "--resolv-conf=off",
        "--timezone=off",
        "--link-journal=no",
        "--console=pipe",
        "--kill-signal=SIGRTMIN+3",
    ];
    // In a memory cgroup: the shell joins it, then becomes nsenter, so nothing runs outside it.
    const [command, ...args] = container.memoryCgroup
        ? ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', container.memoryCgroup, ...nspawn]
        : nspawn;
    container.process = startBackground(
        `container ${container.name}`,
        command,
        args,
        logFile,
        // cgroup v2 only inside, as on a cloud VM, also on a host with the hybrid layout (trixie's systemd 257 warns on v1).
        { ...process.env, SYSTEMD_NSPAWN_TMPFS_TMP: "1", SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: "1" },
    );
}

/** The container's init, as a process id on the host. */
export async function initPid(container: Container): Promise<number> {
    return waitFor(
        "the container's init",
        async () => {
            const nspawn = container.process;
            if (!nspawn?.pid || nspawn.exitCode !== null) throw new Error("systemd-nspawn exited");
            const r = await run("ps", ["-o", "pid=,comm=", "--ppid", String(nspawn.pid)], { allowFail: true });
            const line = r.stdout
                .split("\n")
                .map((l) => l.trim().split(/\s+/))
                .find(([, comm]) => comm === "systemd");
            if (line) recordPid(Number(line[0]));
            return line ? Number(line[0]) : undefined;
        },
        30_000,
        200,
    );
}

/** Runs a shell command inside the container (all its namespaces). */
export async function exec(container: Container, command: string, options: RunOptions = {}) {
    const pid = await initPid(container);
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
            command,
        ],
        options,
    );
}

export interface CloudInitResult {
    readonly ok: boolean;
    readonly seconds: number;
    readonly errors: string[];
}

/** Waits for this instance's boot-finished; errors from result.json and status.json. */
export async function waitCloudInit(container: Container, timeoutMs: number): Promise<CloudInitResult> {
    const finished = join(container.root, "var/lib/cloud/instances", container.instanceId, "boot-finished");
    const result = join(container.root, "var/lib/cloud/data/result.json");
    await waitFor(
        "cloud-init boot-finished",
        () => {
            if (container.process && container.process.exitCode !== null)
                throw new Error(`the container exited (${container.process.exitCode}) before cloud-init finished`);
            return existsSync(finished) && existsSync(result);
        },
        timeoutMs,
        500,
    ).catch((error: Error) => log(error.message));
    const seconds = (Date.now() - container.bootedAt) / 1000;
    const errors: string[] = [];
    if (!existsSync(finished)) errors.push("boot-finished never appeared");
    try {
        const parsed = JSON.parse(readFileSync(result, "utf8")) as { v1?: { errors?: unknown[] } };
        errors.push(...(parsed.v1?.errors ?? []).map(String));
    } catch {
        errors.push("no result.json");
    }
    try {
        const status = JSON.parse(readFileSync(join(container.root, "var/lib/cloud/data/status.json"), "utf8")) as {
            v1?: Record<string, { errors?: unknown[]; recoverable_errors?: Record<string, unknown[]> } | null | string | number>;
        };
        for (const [stage, value] of Object.entries(status.v1 ?? {})) {
            if (typeof value !== "object" || value === null) continue;
            for (const error of value.errors ?? []) errors.push(`${stage}: ${String(error)}`);
            for (const [level, list] of Object.entries(value.recoverable_errors ?? {}))
                for (const error of list) errors.push(`${stage} ${level}: ${String(error)}`);
        }
    } catch {
        // an older format
    }
    return { ok: errors.length === 0, seconds, errors: [...new Set(errors)] };
}

/** The kernel's boot id inside the container's namespaces: a reboot changes it. */
export async function bootId(container: Container): Promise<string> {
    return (await exec(container, "cat /proc/sys/kernel/random/boot_id")).stdout.trim();
}

/** Reboots from inside; systemd-nspawn exits with 133 and is started again, as systemd-nspawn@.service does. */
export async function reboot(container: Container, repo: string, logFile: string): Promise<number | null> {
    const nspawn = container.process;
    if (!nspawn) throw new Error("the container is not running");
    const exited = new Promise<number | null>((resolve) => nspawn.once("exit", (code) => resolve(code)));
    await exec(container, "systemctl reboot", { allowFail: true });
    const code = await Promise.race([exited, sleep(120_000).then(() => -1)]);
    if (code === -1) throw new Error("the container did not exit on reboot");
    await vethsGone();
    await boot(container, repo, logFile);
    return code;
}

/** Every process id in a cgroup (v1) and in the cgroups below it. */
export function cgroupPids(dir: string): number[] {
    const pids = readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) pids.push(...cgroupPids(join(dir, entry.name)));
    return pids;
}

/**
 * Kills whatever is left in the container's memory cgroup (its init, when systemd-nspawn had to be
 * killed before the container halted) and waits until the cgroup is empty.
 */
async function emptyCgroup(dir: string): Promise<void> {
    await waitFor(
        `the processes in ${dir} to exit`,
        () => {
            const pids = cgroupPids(dir);
            for (const pid of pids) {
                try {
                    process.kill(pid, "SIGKILL");
                } catch {
                    // exited meanwhile
                }
            }
            return pids.length === 0;
        },
        30_000,
        100,
    );
}

/** The host ends of systemd-nspawn's veths (`vb-…`) in the hub namespace. */
async function nspawnVeths(): Promise<string[]> {
    const r = await run("ip", ["-n", LAB.hub.netns, "-o", "link", "show"], { allowFail: true });
    if (r.code) return []; // no hub namespace: no veth either
    return r.stdout
        .split("\n")
        .map((line) => line.split(": ")[1]?.split("@")[0] ?? "")
        .filter((name) => name.startsWith("vb-"));
}

/**
 * Waits until no veth of a container is left on the lab bridge. The kernel removes the pair only
 * when the container's network namespace is freed, after its last process exited, and does so
 * asynchronously: a container started meanwhile under the same machine name fails with
 * "Failed to add new veth interfaces (vb-…:host0): File exists".
 */
async function vethsGone(): Promise<void> {
    let left: string[] = [];
    await waitFor(
        "the previous container's veth to go",
        async () => {
            left = await nspawnVeths();
            return left.length === 0;
        },
        30_000,
        100,
    ).catch((error: Error) => {
        throw new Error(`${error.message} (still in ${LAB.hub.netns}: ${left.join(", ")})`);
    });
}

/**
 * Stops the container and unmounts its overlay. Safe to call twice, also concurrently: every call
 * returns only once the container is gone — systemd-nspawn, every process in its memory cgroup, its
 * veth — so that the next container can start under the same name.
 */
export function dispose(container: Container): Promise<void> {
    container.disposed = true;
    container.stopped ??= stop(container);
    return container.stopped;
}

/** systemd-nspawn (halting the container), what its cgroup still holds, its veth; then the overlay. */
async function stop(container: Container): Promise<void> {
    try {
        if (container.process) await stopBackground(container.process, 20_000);
        if (container.memoryCgroup && existsSync(container.memoryCgroup)) await emptyCgroup(container.memoryCgroup);
        if (container.process) await vethsGone();
    } finally {
        if ((await run("mountpoint", ["-q", container.root], { allowFail: true })).code === 0) {
            const r = await run("umount", [container.root], { allowFail: true });
            if (r.code) await run("umount", ["-l", container.root], { allowFail: true });
        }
        forgetMount(container.root);
    }
}

/** Files of the container's logs, copied out under `suffix`. */
export async function copyLogs(container: Container, outDir: string, suffix: string): Promise<void> {
    for (const file of ["cloud-init.log", "cloud-init-output.log", "mailserver-apply.log", "mail.log"]) {
        const path = join(container.root, "var/log", file);
        if (existsSync(path)) writeFileSync(join(outDir, file.replace(".log", `${suffix}.log`)), readFileSync(path));
    }
    if (container.process && container.process.exitCode === null) {
        const journal = await exec(container, "journalctl -b --no-pager -o short-iso", { allowFail: true, timeoutMs: 30_000 }).catch(
            () => undefined,
        );
        if (journal) writeFileSync(join(outDir, `journal${suffix}.log`), journal.stdout);
    }
}
