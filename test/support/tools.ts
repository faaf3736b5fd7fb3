import { spawnSync } from "node:child_process";

/** Whether `command` is on PATH; tests that need a Debian tool skip with this reason when not. */
export function missing(command: string, apt: string): string | false {
    const found = spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" }).status === 0;
    return found ? false : `${command} not installed (apt-get install ${apt}; npm test installs it when run as root)`;
}

export function run(command: string, args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync(command, args, { encoding: "utf8", input });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
