// Process, command and cleanup plumbing for the lab orchestrator.
import { spawn, execFile, ChildProcess } from "node:child_process";
import { openSync, closeSync, writeFileSync, readFileSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const now = () => performance.now() / 1000;

export function log(msg: string) {
    process.stderr.write(`[lab ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** Run a command to completion; reject on non-zero exit unless allowFail. */
export function run(
    cmd: string,
    args: string[],
    opts: { input?: string | Buffer; allowFail?: boolean; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const p = execFile(
            cmd,
            args,
            { maxBuffer: 64 << 20, timeout: opts.timeoutMs ?? 300000, env: opts.env ?? process.env, encoding: "utf8" },
            (err, stdout, stderr) => {
                const code = err ? (typeof (err as any).code === "number" ? (err as any).code : 1) : 0;
                if (code !== 0 && !opts.allowFail)
                    reject(new Error(`${cmd} ${args.join(" ").slice(0, 300)} → exit ${code}: ${String(stderr).slice(-2000)}`));
                else resolve({ code, stdout: String(stdout), stderr: String(stderr) });
            },
        );
        if (opts.input !== undefined) p.stdin?.end(opts.input);
    });
}

/** Run inside a network namespace made by lab/netns.sh. */
export const inNs = (ns: string, cmd: string, args: string[], opts?: Parameters<typeof run>[2]) =>
    run("ip", ["netns", "exec", ns, cmd, ...args], opts);

// ---------------------------------------------------------------------------------------------
// Cleanup: a LIFO stack of actions, each run at most once; also on SIGINT/SIGTERM/exceptions.
// Background processes are recorded in a state file so a later run can end leftovers of a run
// that was killed with SIGKILL.
const STATE = "/run/mailserver-lab/pids";
const actions: { name: string; fn: () => Promise<void> | void; done: boolean }[] = [];
const children = new Map<number, { name: string; proc: ChildProcess }>();

export function onCleanup(name: string, fn: () => Promise<void> | void) {
    actions.push({ name, fn, done: false });
}

let cleaning: Promise<void> | undefined;
export function cleanup(): Promise<void> {
    if (!cleaning)
        cleaning = (async () => {
            for (const a of [...actions].reverse()) {
                if (a.done) continue;
                a.done = true;
                try {
                    await a.fn();
                } catch (e) {
                    log(`cleanup ${a.name}: ${(e as Error).message}`);
                }
            }
            actions.length = 0;
            extraPids.clear();
            recordPids();
            cleaning = undefined;
        })();
    return cleaning;
}

export function installSignalHandlers(beforeCleanup?: (sig: string) => void) {
    let seen = false;
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
        process.on(sig, () => {
            if (seen) return; // a second Ctrl-C while cleaning up changes nothing
            seen = true;
            log(`${sig}: cleaning up`);
            try {
                beforeCleanup?.(sig);
            } catch (e) {
                log(`on ${sig}: ${(e as Error).message}`);
            }
            cleanup().finally(() => process.exit(130));
        });
    }
}

const extraPids = new Set<number>();
/** Start time of a process (field 22 of /proc/PID/stat), so a recorded id is never confused
 *  with an unrelated process that later got the same id. */
function startTime(pid: number): string | undefined {
    try {
        return readFileSync(`/proc/${pid}/stat`, "utf8")
            .replace(/^.*\) /s, "")
            .split(" ")[19];
    } catch {
        return undefined;
    }
}
function recordPids() {
    mkdirSync(dirname(STATE), { recursive: true });
    const lines = [...children.keys(), ...extraPids].map((p) => `${p} ${startTime(p) ?? "-"}`);
    if (lines.length) writeFileSync(STATE, lines.join("\n") + "\n");
    else rmSync(STATE, { force: true });
}
/** Also end this pid if the run dies (e.g. a container's init, which outlives a killed nspawn). */
export function recordPid(pid: number) {
    extraPids.add(pid);
    recordPids();
}
export function forgetPid(pid: number) {
    extraPids.delete(pid);
    recordPids();
}

const alive = (pid: number) => {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
};

/** End processes a previous (killed) run left behind, by the ids it recorded: TERM, then KILL. */
export async function killLeftovers() {
    if (!existsSync(STATE)) return;
    const pids = readFileSync(STATE, "utf8")
        .split("\n")
        .map((l) => l.split(" "))
        .filter(([p, st]) => Number(p) > 1 && startTime(Number(p)) === st)
        .map(([p]) => Number(p));
    const sig = (s: NodeJS.Signals) => {
        for (const pid of pids) {
            try {
                process.kill(-pid, s);
            } catch {
                /* */
            }
            try {
                process.kill(pid, s);
            } catch {
                /* */
            }
        }
    };
    sig("SIGTERM");
    for (let i = 0; i < 40 && pids.some(alive); i++) await sleep(250);
    sig("SIGKILL");
    rmSync(STATE, { force: true });
    await sleep(300);
}

/** Start a long-running process (own process group), output to logFile; ended at cleanup. */
export function startBg(name: string, cmd: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): ChildProcess {
    mkdirSync(dirname(logFile), { recursive: true });
    const fd = openSync(logFile, "a");
    const p = spawn(cmd, args, { stdio: ["ignore", fd, fd], detached: true, env: env ?? process.env });
    closeSync(fd);
    if (p.pid) children.set(p.pid, { name, proc: p });
    recordPids();
    p.on("exit", () => {
        if (p.pid) children.delete(p.pid);
    });
    onCleanup(`stop ${name}`, () => stopBg(p));
    return p;
}

export async function stopBg(p: ChildProcess, graceMs = 5000) {
    if (!p.pid || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once("exit", () => r()));
    try {
        process.kill(-p.pid, "SIGTERM");
    } catch {
        /* gone */
    }
    const t = sleep(graceMs).then(() => "timeout");
    if ((await Promise.race([exited.then(() => "ok"), t])) === "timeout") {
        try {
            process.kill(-p.pid, "SIGKILL");
        } catch {
            /* gone */
        }
        await Promise.race([exited, sleep(2000)]);
    }
    children.delete(p.pid);
    recordPids();
}

/** Poll fn until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(
    what: string,
    fn: () => Promise<T | undefined | false> | T | undefined | false,
    timeoutMs: number,
    everyMs = 500,
): Promise<T> {
    const end = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
        try {
            const v = await fn();
            if (v) return v as T;
        } catch (e) {
            last = e;
        }
        if (Date.now() > end)
            throw new Error(
                `timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`,
            );
        await sleep(everyMs);
    }
}

// Mounts the lab made, recorded so `run.js --cleanup` can undo a killed run's mounts.
const MOUNTS = "/run/mailserver-lab/mounts";
const mountsRecorded = (): string[] => (existsSync(MOUNTS) ? readFileSync(MOUNTS, "utf8").split("\n").filter(Boolean) : []);
export function recordMount(path: string) {
    mkdirSync(dirname(MOUNTS), { recursive: true });
    writeFileSync(MOUNTS, [...new Set([...mountsRecorded(), path])].join("\n") + "\n");
}
export function forgetMount(path: string) {
    writeFileSync(
        MOUNTS,
        mountsRecorded()
            .filter((m) => m !== path)
            .join("\n") + "\n",
    );
}
/** Unmount everything recorded (latest first); lazily if busy. */
export async function unmountLeftovers() {
    for (const m of mountsRecorded().reverse()) {
        const r = await run("umount", [m], { allowFail: true });
        if (r.code !== 0 && (await run("mountpoint", ["-q", m], { allowFail: true })).code === 0)
            await run("umount", ["-l", m], { allowFail: true });
        forgetMount(m);
    }
}
