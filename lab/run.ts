// The mail lab: boot the plan's exact user data offline and grade the mail it sends.
//   node dist/lab/run.js [--stack do-example] [--fixture] [--faults all|none|dns-late,acme-down,opendkim-down,reboot] [--keep]
//   node dist/lab/run.js --cleanup      (undo what a killed run left: processes, mounts, namespaces)
// Linux + root only.
import { writeFileSync, existsSync, copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { log, now, cleanup, installSignalHandlers } from "./sys.js";
import * as ct from "./container.js";
import { Report } from "./report.js";
import { Lab, gradeAll, freshBoot } from "./lab.js";
import { setup, cleanupLeftovers, REPO } from "./setup.js";
import { checkInbound, sendOutbound, sendForward, sendSpoof } from "./checks.js";
import { runFaults, FAULTS, Fault } from "./faults.js";

function parseArgs() {
    const a = process.argv.slice(2);
    const val = (k: string) => {
        const i = a.indexOf(k);
        return i >= 0 ? a[i + 1] : undefined;
    };
    const f = val("--faults") ?? "all";
    const faults = new Set<Fault>(f === "all" ? FAULTS : f === "none" ? [] : (f.split(",").filter(Boolean) as Fault[]));
    for (const x of faults) if (!FAULTS.includes(x)) throw new Error(`unknown fault ${x}; known: ${FAULTS.join(",")}`);
    return {
        stack: val("--stack") ?? "do-example",
        fixture: a.includes("--fixture"),
        keep: a.includes("--keep"),
        cleanupOnly: a.includes("--cleanup"),
        faults,
    };
}

async function main(): Promise<number> {
    const args = parseArgs();
    const out = join(REPO, "out/lab", args.stack);
    const report = new Report(args.stack, out);
    const tStart = now();
    installSignalHandlers((sig) => {
        report.add("lab", "ran-to-end", false, `interrupted by ${sig}`);
        report.time("total", now() - tStart);
        if (existsSync(out)) report.write();
    });
    if (args.cleanupOnly) {
        await cleanupLeftovers();
        log("cleaned up");
        return 0;
    }
    let l: Lab | undefined;
    try {
        if (process.platform !== "linux" || process.getuid?.() !== 0)
            throw new Error("the lab needs Linux and root (namespaces, mounts, systemd-nspawn)");
        l = await setup(args.stack, args.fixture, out, report);
        let t = now();
        log("booting the server (cloud-init with the plan's user data) ...");
        const ci = await freshBoot(l, "main");
        ct.copyLogs(l.container, out);
        report.time("boot-to-cloud-init-done", ci.seconds);
        report.add("boot", "cloud-init", ci.ok, ci.ok ? `all stages done in ${ci.seconds.toFixed(1)} s` : ci.errors.join(" | "));
        if (!ci.ok) {
            const o = join(out, "cloud-init-output.log");
            if (existsSync(o))
                process.stderr.write(`--- last lines of ${o}\n${readFileSync(o, "utf8").split("\n").slice(-40).join("\n")}\n---\n`);
            throw new Error(`cloud-init failed: ${ci.errors.join(" | ")}; see ${join(out, "cloud-init.log")}`);
        }
        const sys = await ct.exec(l.container, "systemctl is-system-running; systemctl --failed --no-legend --plain", { allowFail: true });
        report.add("boot", "no-failed-units", !/\.service|\.timer|\.socket/.test(sys.stdout), sys.stdout.replace(/\n/g, " ").trim());

        t = now();
        log("inbound SMTP, certificate, relay ...");
        await checkInbound(l);
        log("outbound mail over IPv4 and IPv6, forwarding, spoof control ...");
        await sendOutbound(l);
        await sendForward(l);
        await sendSpoof(l);
        report.time("sends", now() - t);
        log("grading (mailauth, reverse DNS, SpamAssassin) ...");
        await gradeAll(l, ["sendmail-v4", "smtp-v4", "sendmail-v6", "smtp-v6", "forward-postmaster"]);
        await copyContainerLogs(l);
        if (args.faults.size) await runFaults(l, args.faults);
    } catch (e) {
        report.add("lab", "ran-to-end", false, String((e as Error).stack ?? e));
    } finally {
        if (l?.container) await copyContainerLogs(l);
        report.time("total", now() - tStart);
        report.write();
        if (args.keep) log('--keep: the lab is left running; "node dist/lab/run.js --cleanup" removes it');
        else await cleanup();
    }
    console.log(report.table());
    return report.ok ? 0 : 1;
}

async function copyContainerLogs(l: Lab) {
    const c = l.container;
    if (!c || c.disposed) return;
    const suffix = c.runDir.endsWith("container-main") ? "" : "-" + c.runDir.split("container-").pop();
    for (const f of ["cloud-init.log", "cloud-init-output.log"]) {
        const p = join(c.root, "var/log", f);
        if (existsSync(p)) copyFileSync(p, join(l.out, f.replace(".log", `${suffix}.log`)));
    }
    if (c.proc && c.proc.exitCode === null) {
        const j = await ct.exec(c, "journalctl -b --no-pager -o short-iso", { allowFail: true, timeoutMs: 30000 }).catch(() => undefined);
        if (j) writeFileSync(join(l.out, `journal${suffix}.log`), j.stdout);
    }
}

main().then(
    (code) => process.exit(code),
    (e) => {
        console.error(e);
        cleanup().finally(() => process.exit(2));
    },
);
