/**
 * A host the way `pulumi up` makes it: boot the plan's user data, then run the plan's
 * configuration step over SSH, then publish the records the plan writes after it.
 */
import { join } from "node:path";
import * as container from "./container";
import { runApplyStep } from "./deploy";
import { type Lab, server, serveZones } from "./lab";
import type { Plan } from "./plan";
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
    );
    lab.container.memoryCgroup = options.memoryCgroup;
    await container.boot(lab.container, lab.repoDir, join(lab.out, tag === "main" ? "console.log" : `console-${tag}.log`));
    return container.waitCloudInit(lab.container, 600_000);
}

/** Runs `plan`'s configuration step; reports it under `section`; true when the applier succeeded. */
export async function applyPlan(
    lab: Lab,
    plan: Plan,
    section: string,
    options: { bundle?: Buffer; expect?: "success" | "failure" } = {},
): Promise<boolean> {
    const started = now();
    const result = await runApplyStep(plan.apply, lab.work, options);
    lab.report.time(`${section}-apply`, now() - started);
    const ok = result.code === 0 && result.report?.ok === true;
    const detail = result.report
        ? `release ${String(result.report.release)}; changed ${JSON.stringify(result.report.changed)}; installed ${JSON.stringify(result.report.installed)}; reloaded ${JSON.stringify(result.report.reloaded)}${
              Array.isArray(result.report.retried) && result.report.retried.length > 0
                  ? `; RETRIED after a failure: ${JSON.stringify(result.report.retried)}`
                  : ""
          }`
        : (result.stdout.trim().split("\n").pop() ?? "");
    const expected = options.expect ?? "success";
    lab.report.add(
        section,
        expected === "success" ? "configuration-step" : "configuration-step-refused",
        expected === "success" ? ok : !ok && result.code !== 255,
        `ssh ${plan.apply.user}@${plan.apply.host} ${plan.apply.command} < bundle (sha256 ${plan.apply.bundleSha256.slice(0, 16)}…): exit ${result.code} after ${result.seconds.toFixed(1)} s, ${result.attempts} attempt(s); ${
            ok ? detail : `${detail} ${result.stderr.trim().split("\n").slice(-3).join(" | ")}`
        }`,
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
    if (!(await applyPlan(lab, lab.plan, "apply"))) return false;
    await serveZones(lab, { without: new Set() });
    const units = await container.exec(server(lab), "systemctl is-system-running; systemctl --failed --no-legend --plain", {
        allowFail: true,
    });
    lab.report.add("boot", "no-failed-units", !/\.(service|timer|socket)/.test(units.stdout), units.stdout.replace(/\n/g, " ").trim());
    return true;
}
