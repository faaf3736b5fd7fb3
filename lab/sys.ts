/**
 * Process, command and cleanup plumbing of the lab: commands to completion, background services
 * ended at cleanup, and a record of what a killed run left (processes, mounts) for the next run.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Seconds since an arbitrary start, for durations. */
export const now = () => performance.now() / 1000;

export function log(message: string): void {
    process.stderr.write(`[lab ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

export interface RunOptions {
    readonly input?: string | Buffer;
    readonly allowFail?: boolean;
    readonly timeoutMs?: number;
    readonly env?: NodeJS.ProcessEnv;
}

export interface RunResult {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs a command to completion; rejects on a non-zero exit unless allowFail. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = execFile(
            command,
            [...args],
            { maxBuffer: 64 << 20, timeout: options.timeoutMs ?? 300_000, env: options.env ?? process.env, encoding: "utf8" },
            (error, stdout, stderr) => {
                const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
                if (code !== 0 && !options.allowFail) {
                    reject(new Error(`${command} ${args.join(" ").slice(0, 300)} → exit ${code}: ${String(stderr).slice(-2000)}`));
                } else {
                    resolve({ code, stdout: String(stdout), stderr: String(stderr) });
                }
            },
        );
        if (options.input !== undefined) child.stdin?.end(options.input);
    });
}

/** Runs a command inside one of the lab's network namespaces. */
export function inNamespace(netns: string, command: string, args: readonly string[], options?: RunOptions): Promise<RunResult> {
    return run("ip", ["netns", "exec", netns, command, ...args], options);
}

// Cleanup: a LIFO stack of actions, each run at most once; also on SIGINT/SIGTERM/SIGHUP.
// Background processes and mounts are recorded in files, so that a later run can end what a run
// killed with SIGKILL left behind.
const STATE_DIR = "/run/mailserver-lab";
const PIDS = `${STATE_DIR}/pids`;
const MOUNTS = `${STATE_DIR}/mounts`;
const actions: Array<{ name: string; action: () => Promise<void> | void; done: boolean }> = [];
const children = new Map<number, ChildProcess>();
const extraPids = new Set<number>();

export function onCleanup(name: string, action: () => Promise<void> | void): void {
    actions.push({ name, action, done: false });
}

let cleaning: Promise<void> | undefined;
export function cleanup(): Promise<void> {
    cleaning ??= (async () => {
        for (const entry of [...actions].reverse()) {
            if (entry.done) continue;
            entry.done = true;
            try {
                await entry.action();
            } catch (error) {
                log(`cleanup ${entry.name}: ${(error as Error).message}`);
            }
        }
        actions.length = 0;
        extraPids.clear();
        recordPids();
        cleaning = undefined;
    })();
    return cleaning;
}

export function installSignalHandlers(beforeCleanup?: (signal: string) => void): void {
    let seen = false;
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
        process.on(signal, () => {
            if (seen) return; // a second Ctrl-C while cleaning up changes nothing
            seen = true;
            log(`${signal}: cleaning up`);
            try {
                beforeCleanup?.(signal);
            } catch (error) {
                log(`on ${signal}: ${(error as Error).message}`);
            }
            void cleanup().finally(() => process.exit(130));
        });
    }
}

/** A process's start time (field 22 of /proc/PID/stat), so a recorded id never names a later process. */
function startTime(pid: number): string | undefined {
    try {
        return readFileSync(`/proc/${pid}/stat`, "utf8")
            .replace(/^.*\) /s, "")
            .split(" ")[19];
    } catch {
        return undefined;
    }
}

function recordPids(): void {
    mkdirSync(STATE_DIR, { recursive: true });
    const lines = [...children.keys(), ...extraPids].map((pid) => `${pid} ${startTime(pid) ?? "-"}`);
    if (lines.length > 0) writeFileSync(PIDS, `${lines.join("\n")}\n`);
    else rmSync(PIDS, { force: true });
}

/** Also end this process if the run dies (a container's init outlives a killed systemd-nspawn). */
export function recordPid(pid: number): void {
    extraPids.add(pid);
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

/** Ends the processes a killed run recorded: TERM, then KILL. */
export async function killLeftovers(): Promise<void> {
    if (!existsSync(PIDS)) return;
    const pids = readFileSync(PIDS, "utf8")
        .split("\n")
        .map((line) => line.split(" "))
        .filter(([pid, started]) => Number(pid) > 1 && startTime(Number(pid)) === started)
        .map(([pid]) => Number(pid));
    const signal = (name: NodeJS.Signals) => {
        for (const pid of pids) {
            for (const target of [-pid, pid]) {
                try {
                    process.kill(target, name);
                } catch {
                    // already gone
                }
            }
        }
    };
    signal("SIGTERM");
    for (let i = 0; i < 40 && pids.some(alive); i++) await sleep(250);
    signal("SIGKILL");
    rmSync(PIDS, { force: true });
    await sleep(300);
}

/** Starts a long-running process in its own process group, output to `logFile`; ended at cleanup. */
export function startBackground(
    name: string,
    command: string,
    args: readonly string[],
    logFile: string,
    env?: NodeJS.ProcessEnv,
): ChildProcess {
    mkdirSync(dirname(logFile), { recursive: true });
    const fd = openSync(logFile, "a");
    const child = spawn(command, [...args], { stdio: ["ignore", fd, fd], detached: true, env: env ?? process.env });
    closeSync(fd);
    if (child.pid) children.set(child.pid, child);
    recordPids();
    child.on("exit", () => {
        if (child.pid) children.delete(child.pid);
    });
    onCleanup(`stop ${name}`, () => stopBackground(child));
    return child;
}

export async function stopBackground(child: ChildProcess, graceMs = 5000): Promise<void> {
    if (!child.pid || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    try {
        process.kill(-child.pid, "SIGTERM");
    } catch {
        // gone
    }
    if ((await Promise.race([exited.then(() => "ok"), sleep(graceMs).then(() => "timeout")])) === "timeout") {
        try {
            process.kill(-child.pid, "SIGKILL");
        } catch {
            // gone
        }
        await Promise.race([exited, sleep(2000)]);
    }
    children.delete(child.pid);
    recordPids();
}

/** Polls `probe` until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(
    what: string,
    probe: () => Promise<T | undefined | false> | T | undefined | false,
    timeoutMs: number,
    everyMs = 500,
): Promise<T> {
    const end = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
        try {
            const value = await probe();
            if (value) return value;
        } catch (error) {
            last = error;
        }
        if (Date.now() > end) {
            throw new Error(
                `timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`,
            );
        }
        await sleep(everyMs);
    }
}

const recordedMounts = (): string[] => (existsSync(MOUNTS) ? readFileSync(MOUNTS, "utf8").split("\n").filter(Boolean) : []);

export function recordMount(path: string): void {
    mkdirSync(STATE_DIR, { recursive: true });
    writeFileSync(MOUNTS, `${[...new Set([...recordedMounts(), path])].join("\n")}\n`);
}

export function forgetMount(path: string): void {
    if (!existsSync(MOUNTS)) return;
    writeFileSync(
        MOUNTS,
        `${recordedMounts()
            .filter((m) => m !== path)
            .join("\n")}\n`,
    );
}

/** Unmounts everything recorded (latest first), lazily when busy. */
export async function unmountLeftovers(): Promise<void> {
    for (const mount of recordedMounts().reverse()) {
        const result = await run("umount", [mount], { allowFail: true });
        if (result.code !== 0 && (await run("mountpoint", ["-q", mount], { allowFail: true })).code === 0) {
            await run("umount", ["-l", mount], { allowFail: true });
        }
        forgetMount(mount);
    }
}

/** Seconds in a systemd time span of one unit ("2min", "90s"). */
export function systemdSeconds(span: string): number {
    const match = /^(\d+)(s|min|h)$/.exec(span);
    if (!match) throw new Error(`unsupported time span ${JSON.stringify(span)}`);
    return Number(match[1]) * { s: 1, min: 60, h: 3600 }[match[2] as "s" | "min" | "h"];
}
