/**
 * A host the way `pulumi up` makes it: boot the plan's user data, then run the plan's
 * configuration step over SSH: its prepare stage, the records the plan writes after it, its
 * commit stage.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Stage } from "../components/host/bundle";
import * as container from "./container";
import { type ApplyResult, runApplyStep } from "./deploy";
import { type Lab, server, serveZones } from "./lab";
import type { ApplyStep, Plan } from "./plan";
import { log, now } from "./sys";

/** Boots a fresh container (new overlay, new instance id) with the plan's user data. */
export async function freshBoot(lab: Lab, tag: string, options: { memoryCgroup?: string } = {}): Promise<container.CloudInitResult> {
    if (lab.container) await container.dispose(lab.container);
    lab.container = await container.prepare(
        `mlab-${lab.stack}`,
        lab.rootfs,
        join(lab.work, `container-${tag}`),
        lab.plan.userData,
        `lab-${lab.stack}-${tag}-${Date.now()}`,
        lab.plan.hostname,
        readFileSync(join(lab.certs, "ca.pem"), "utf8"),
    );
    lab.container.memoryCgroup = options.memoryCgroup;
    await container.boot(lab.container, lab.repoDir, join(lab.out, tag === "main" ? "console.log" : `console-${tag}.log`));
    return container.waitCloudInit(lab.container, 600_000);
}

/** A bundle of the other stage: the same payload, `stage` set (for bundles the lab edited). */
export function asStage(bundle: Buffer, stage: Stage): Buffer {
    return Buffer.from(JSON.stringify({ ...(JSON.parse(bundle.toString()) as Record<string, unknown>), stage }));
}

/** One stage's run, as the report tells it. */
function stageDetail(step: ApplyStep, result: ApplyResult, ok: boolean): string {
    const report = result.report;
    const detail = report
        ? `release ${String(report.release)}${report.held ? ` (held: ${String(report.held)})` : ""}; changed ${JSON.stringify(report.changed)}; installed ${JSON.stringify(report.installed)}; reloaded ${JSON.stringify(report.reloaded)}; restarted ${JSON.stringify(report.restarted)}${
              Array.isArray(report.retried) && report.retried.length > 0
                  ? `; RETRIED after a failure: ${JSON.stringify(report.retried)}`
                  : ""
          }`
        : (result.stdout.trim().split("\n").pop() ?? "");
    return `${step.stage}: ssh ${step.user}@${step.host} ${step.command} < bundle (sha256 ${step.bundleSha256.slice(0, 16)}…): exit ${result.code} after ${result.seconds.toFixed(1)} s, ${result.attempts} attempt(s); ${
        ok ? detail : `${detail} ${result.stderr.trim().split("\n").slice(-3).join(" | ")}`
    }`;
}

/**
 * Runs `plan`'s configuration step as `pulumi up` does: the prepare stage, then `between` (the
 * records the plan writes after it), then the commit stage. `bundle` replaces the plan's (a
 * control; its commit is the same bundle at stage commit). Reports it under `section`; true when
 * both stages succeeded. A run expected to fail is its prepare stage refusing the bundle.
 */
export async function applyPlan(
    lab: Lab,
    plan: Plan,
    section: string,
    options: { bundle?: Buffer; expect?: "success" | "failure"; between?: () => Promise<void> } = {},
): Promise<boolean> {
    const started = now();
    const expected = options.expect ?? "success";
    const prepared = await runApplyStep(plan.apply, lab.work, { bundle: options.bundle });
    const preparedOk = prepared.code === 0 && prepared.report?.ok === true;
    const details = [stageDetail(plan.apply, prepared, preparedOk)];
    let ok = preparedOk;
    if (preparedOk && expected === "success") {
        await options.between?.();
        const committed = await runApplyStep(plan.commit, lab.work, {
            bundle: options.bundle ? asStage(options.bundle, Stage.Commit) : undefined,
        });
        ok = committed.code === 0 && committed.report?.ok === true;
        details.push(stageDetail(plan.commit, committed, ok));
    }
    lab.report.time(`${section}-apply`, now() - started);
    lab.report.add(
        section,
        expected === "success" ? "configuration-step" : "configuration-step-refused",
        expected === "success" ? ok : !preparedOk && prepared.code !== 255,
        details.join(" || "),
    );
    // A configuration step that failed unexpectedly: keep the host's logs to say why.
    if (expected === "success" && !ok && lab.container) {
        await container.copyLogs(lab.container, lab.out, `-${section.replace(/[^a-z0-9-]+/gi, "-")}`);
    }
    return ok;
}

/**
 * Boots the plan and applies it: the user data, the configuration step, then the records that
 * follow it. Returns false when the host could not be configured (the rest of the run is moot).
 */
export async function deploy(lab: Lab, tag: string): Promise<boolean> {
    log(`booting the server with the plan's user data (${tag}) ...`);
    await serveZones(lab, { without: lab.plan.afterApply });
    const booted = await freshBoot(lab, tag);
    lab.report.time(`${tag}-boot-to-cloud-init-done`, booted.seconds);
    lab.report.add(
        "boot",
        "cloud-init",
        booted.ok,
        booted.ok ? `all stages done in ${booted.seconds.toFixed(1)} s` : booted.errors.join(" | "),
    );
    if (!booted.ok) return false;
    const os = await container.exec(server(lab), ". /etc/os-release; echo $ID $VERSION_ID $VERSION_CODENAME", { allowFail: true });
    lab.report.info.os = os.stdout.trim();
    lab.report.add("boot", "debian-13", /^debian 13 trixie$/.test(os.stdout.trim()), `/etc/os-release: ${os.stdout.trim()}`);
    log("the configuration step, over SSH, as pulumi up runs it ...");
    const rest = () => serveZones(lab, { without: new Set() });
    if (!(await applyPlan(lab, lab.plan, "apply", { between: rest }))) return false;
    const units = await container.exec(server(lab), "systemctl is-system-running; systemctl --failed --no-legend --plain", {
        allowFail: true,
    });
    lab.report.add("boot", "no-failed-units", !/\.(service|timer|socket)/.test(units.stdout), units.stdout.replace(/\n/g, " ").trim());
    return true;
}
