/**
 * Debian 13's own tools for the tests: the lab's root filesystem with the host's packages
 * installed (lab/rootfs.sh builds it once and caches it), entered with chroot. The rendered
 * files are checked by the versions the host runs (Postfix 3.10, OpenDKIM, OpenSSH 10,
 * cloud-init 25.1), not by whatever this machine has. Needs root (chroot) on Linux.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { ALL_PACKAGES } from "../../components/host/bundle";

const repo = resolve(__dirname, "..", "..", "..");
const cache = process.env.LAB_CACHE_DIR ?? "/var/cache/mailserver-lab";
let tools: string | undefined;

/** Why Debian 13's tools cannot be used here, or false when they can. */
export function debianMissing(): string | false {
    if (process.platform !== "linux" || process.getuid?.() !== 0) return "Debian 13's tools run in a chroot: needs Linux and root";
    return false;
}

/** The tools root, built (or found in the cache) on first use. */
export function debianRoot(): string {
    if (tools) return tools;
    const result = spawnSync(join(repo, "lab", "rootfs.sh"), [cache, ...ALL_PACKAGES], { encoding: "utf8", timeout: 1_800_000 });
    const found = /^TOOLS=(.*)$/m.exec(result.stdout)?.[1];
    if (result.status !== 0 || !found) throw new Error(`lab/rootfs.sh failed: ${result.stderr.slice(-2000)}`);
    tools = found;
    return found;
}

export interface InDebian {
    /** Where the files are, inside the root (e.g. /tmp/mailserver-test-x). */
    readonly dir: string;
    run(command: string, input?: string): { status: number | null; stdout: string; stderr: string };
    /**
     * `command` with directories of the test directory mounted over paths of the root (`binds`:
     * root path → path below `dir`), in a private mount namespace: the root itself is never changed.
     */
    runWith(binds: Readonly<Record<string, string>>, command: string): { status: number | null; stdout: string; stderr: string };
    dispose(): void;
}

/** Writes `files` (paths relative to a fresh directory) into the tools root, to run commands on them. */
export function inDebian(files: Readonly<Record<string, string>>, modes: Readonly<Record<string, number>> = {}): InDebian {
    const root = debianRoot();
    mkdirSync(join(root, "tmp"), { recursive: true });
    const host = mkdtempSync(join(root, "tmp", "mailserver-test-"));
    for (const [path, content] of Object.entries(files)) {
        const target = join(host, path);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, content, { mode: modes[path] ?? 0o644 });
    }
    const dir = `/${relative(root, host)}`;
    return {
        dir,
        run(command: string, input?: string) {
            const r = spawnSync(
                "chroot",
                [root, "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "sh", "-c", command],
                {
                    encoding: "utf8",
                    input,
                },
            );
            return { status: r.status, stdout: r.stdout, stderr: r.stderr };
        },
        runWith(binds: Readonly<Record<string, string>>, command: string) {
            const quote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;
            const mounts = Object.entries(binds).map(
                ([target, source]) => `mount --bind ${quote(join(host, source))} ${quote(join(root, target))}`,
            );
            const chrooted = [
                "chroot",
                root,
                "/usr/bin/env",
                "-i",
                "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                "LANG=C.UTF-8",
                "sh",
                "-c",
                command,
            ]
                .map(quote)
                .join(" ");
            const r = spawnSync(
                "unshare",
                ["--mount", "--propagation", "private", "sh", "-c", [...mounts, `exec ${chrooted}`].join(" && ")],
                {
                    encoding: "utf8",
                },
            );
            return { status: r.status, stdout: r.stdout, stderr: r.stderr };
        },
        dispose() {
            rmSync(host, { recursive: true, force: true });
        },
    };
}
