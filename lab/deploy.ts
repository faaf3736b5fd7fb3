/**
 * The configuration step, run as `pulumi up` would run it: over real SSH from the machine that
 * deploys (the client namespace), with the plan's deploy key, the host key the plan pins, the
 * command the plan names and the bundle on stdin, byte for byte.
 */
import { chmodSync, copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ApplyStep } from "./plan";
import { inNamespace, log, type RunResult, sleep } from "./sys";
import { LAB } from "./topology";

export interface ApplyResult extends RunResult {
    /** The applier's JSON report (its last stdout line), when it printed one. */
    readonly report?: Record<string, unknown>;
    readonly seconds: number;
    readonly attempts: number;
}

/** The ssh(1) arguments: only the pinned host key is accepted, only the deploy key is offered. */
export function sshArgs(step: ApplyStep, workDir: string, command: string = step.command): string[] {
    const knownHosts = join(workDir, "known_hosts");
    writeFileSync(knownHosts, `${step.host} ${step.hostKey}\n`);
    const key = join(workDir, "deploy-key");
    copyFileSync(step.keyFile, key);
    chmodSync(key, 0o600);
    return [
        "-F",
        "/dev/null",
        "-i",
        key,
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        `UserKnownHostsFile=${knownHosts}`,
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=10",
        "-p",
        String(step.port),
        `${step.user}@${step.host}`,
        command,
    ];
}

/**
 * Runs the step; like the Command provider (dialErrorLimit), retries while SSH cannot connect or
 * log in yet (exit 255: the host is still booting), not when the applier itself fails.
 */
export async function runApplyStep(
    step: ApplyStep,
    workDir: string,
    options: { bundle?: Buffer; attempts?: number } = {},
): Promise<ApplyResult> {
    const bundle = options.bundle ?? readFileSync(step.bundleFile);
    const started = performance.now();
    const limit = options.attempts ?? 60;
    let result: RunResult = { code: 255, stdout: "", stderr: "" };
    let attempt = 0;
    for (attempt = 1; attempt <= limit; attempt++) {
        result = await inNamespace(LAB.client.netns, "ssh", sshArgs(step, workDir), {
            input: bundle,
            allowFail: true,
            timeoutMs: 1_800_000,
        });
        if (result.code !== 255) break;
        if (attempt === 1 || attempt % 10 === 0) log(`ssh to ${step.host}: ${result.stderr.trim().split("\n").pop()}; retrying`);
        await sleep(5000);
    }
    const last = result.stdout.trim().split("\n").pop() ?? "";
    let report: Record<string, unknown> | undefined;
    try {
        report = JSON.parse(last) as Record<string, unknown>;
    } catch {
        report = undefined;
    }
    return { ...result, report, seconds: (performance.now() - started) / 1000, attempts: attempt };
}
