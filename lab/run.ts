/**
 * The mail lab: boots the plan's exact user data offline, configures the host over SSH exactly as
 * `pulumi up` would, and grades the mail it sends the way large receivers do.
 *
 *   node dist/lab/run.js [--stack do-example] [--controls all|none] [--faults all|none|a,b]
 *                        [--change key=value … [--change then --change key=value …]] [--keep] [--hold] [--cleanup]
 *
 * --hold leaves the lab running after grading, prints LAB READY and writes
 * out/lab/<stack>/endpoints.json (lab/endpoints.ts); SIGINT or SIGTERM then cleans up.
 *
 * Linux and root only. Writes out/lab/<stack>/report.json; exits 1 when any check fails.
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { changeRun, failedApply } from "./change";
import { checkHostHardening, checkInbound, sendForward, sendOutbound } from "./checks";
import * as container from "./container";
import { runControls } from "./controls";
import { deploy } from "./deployment";
import { checkOtherDomains } from "./domainChecks";
import { writeEndpoints } from "./endpoints";
import { FAULTS, type Fault, runFaults } from "./faults";
import { checkFilter } from "./filterChecks";
import { PROPERTIES } from "./grade";
import { gradeMessages, type Lab, observePositive } from "./lab";
import { checkMailboxes } from "./mailboxChecks";
import { checkMove } from "./moveChecks";
import { Report } from "./report";
import { cleanupLeftovers, REPO, setup } from "./setup";
import { cleanup, installSignalHandlers, log, now } from "./sys";

function options() {
    const { values } = parseArgs({
        options: {
            stack: { type: "string", default: "do-example" },
            controls: { type: "string", default: "all" },
            faults: { type: "string", default: "all" },
            change: { type: "string", multiple: true },
            keep: { type: "boolean", default: false },
            hold: { type: "boolean", default: false },
            cleanup: { type: "boolean", default: false },
        },
    });
    const faults = values.faults === "all" ? [...FAULTS] : values.faults === "none" ? [] : values.faults.split(",").filter(Boolean);
    for (const fault of faults)
        if (!FAULTS.includes(fault as Fault)) throw new Error(`--faults: unknown fault ${fault}; known: ${FAULTS.join(",")}`);
    if (!["all", "none"].includes(values.controls)) throw new Error("--controls: all or none");
    // `--change a=1 --change b=2 --change then --change c=3`: a change of a and b, then one of c.
    const changes: Array<Record<string, string>> = [{}];
    for (const pair of values.change ?? []) {
        if (pair === "then") {
            changes.push({});
            continue;
        }
        const eq = pair.indexOf("=");
        if (eq <= 0) throw new Error(`--change: "${pair}" is not key=value (or "then" between changes)`);
        changes[changes.length - 1][pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    return { ...values, faults: faults as Fault[], changes };
}

async function main(): Promise<number> {
    const args = options();
    if (args.cleanup) {
        await cleanupLeftovers();
        log("cleaned up");
        return 0;
    }
    const out = join(REPO, "out", "lab", args.stack);
    const report = new Report(args.stack, out);
    const started = now();
    let holding = false;
    installSignalHandlers((signal) => {
        if (holding) return; // the report was written before the lab was held
        report.add("lab", "ran-to-end", false, `interrupted by ${signal}`);
        report.time("total", now() - started);
        report.write();
    });
    let lab: Lab | undefined;
    try {
        lab = await setup(args.stack, out, report);
        report.expect(
            [
                ...PROPERTIES,
                "certificate",
                "relay-refused",
                ...(lab.plan.mailboxes.length > 0 ? ["imap-cleartext-refused"] : []),
                ...args.faults.map((fault) => `fault:${fault}`),
            ],
            args.controls === "all",
        );
        if (await deploy(lab, "main")) {
            log("inbound SMTP, certificate, relaying, TLS, recipients, SSH ...");
            await checkInbound(lab);
            await checkHostHardening(lab);
            log("mail from the server over IPv4 and IPv6, and a forward ...");
            const cases = [...(await sendOutbound(lab)), await sendForward(lab)];
            if (lab.plan.mailboxes.length > 0) {
                log("mailboxes: delivery, IMAP, submission, aliases, refusals ...");
                cases.push(...(await checkMailboxes(lab)));
                log("several domains: delivery, submission signed by each domain's own key ...");
                await checkOtherDomains(lab);
            }
            log("inbound filtering: postscreen, GTUBE, DMARC reject, Authentication-Results, Junk ...");
            await checkFilter(lab);
            log("grading (mailauth, reverse DNS, SpamAssassin) ...");
            observePositive(lab, await gradeMessages(lab, cases));
            if (args.controls === "all") await runControls(lab);
            let earlier: Record<string, string> = {};
            for (const [i, change] of args.changes.entries()) {
                if (Object.keys(change).length === 0) continue;
                await changeRun(lab, change, i + 1, earlier);
                earlier = { ...earlier, ...change };
            }
            await failedApply(lab);
            if (lab.plan.mailboxes.length > 0) {
                log("moving to a new host: export, a host from the same stack, import ...");
                await checkMove(lab);
            }
            if (args.faults.length > 0) await runFaults(lab, args.faults);
        }
        if (args.hold && lab?.container && !lab.container.disposed) {
            report.time("total", now() - started);
            report.write();
            console.log(report.table());
            const file = writeEndpoints(lab);
            holding = true;
            console.log(`LAB READY ${file}`);
            // Until SIGINT or SIGTERM: the signal handler cleans up and exits (the timer keeps the process alive).
            await new Promise<never>(() => setInterval(() => undefined, 3_600_000));
        }
    } catch (error) {
        report.add("lab", "ran-to-end", false, String((error as Error).stack ?? error));
    } finally {
        if (lab?.container && !lab.container.disposed) await container.copyLogs(lab.container, out, "");
        report.time("total", now() - started);
        report.write();
        if (args.keep) log('--keep: the lab is left running; "node dist/lab/run.js --cleanup" removes it');
        else await cleanup();
    }
    console.log(report.table());
    if (!report.ok) {
        console.error(`\nFAILED (${args.stack}):\n  ${report.failures().join("\n  ")}\nreport: ${join(out, "report.json")}`);
    }
    return report.ok ? 0 : 1;
}

main().then(
    (code) => process.exit(code),
    (error: unknown) => {
        console.error(error);
        void cleanup().finally(() => process.exit(2));
    },
);
