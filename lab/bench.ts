// `npm run bench:lab`: boot-to-ready (ours vs. a packages-only baseline), memory of the mail
// services, and SMTP throughput with the DKIM milter on and off, measured in one run.
//   node dist/lab/bench.js [--stack do-example] [--fixture] [--messages 500]
import { writeFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { log, now, cleanup, installSignalHandlers, waitFor } from "./sys.js";
import { LAB } from "./topology.js";
import * as ct from "./container.js";
import { Report } from "./report.js";
import { Lab, freshBoot, gradeAll, waitReceived } from "./lab.js";
import { setup, REPO } from "./setup.js";
import { message } from "./messages.js";

const a = process.argv.slice(2);
const val = (k: string) => {
    const i = a.indexOf(k);
    return i >= 0 ? a[i + 1] : undefined;
};
const stack = val("--stack") ?? "do-example";
const N = Number(val("--messages") ?? 500);
const FROM = `lab@${LAB.server.domain}`;

const PY_BULK = `python3 -c '
import smtplib,sys,email.utils
n=int(sys.argv[1]); tag=sys.argv[2]
s=smtplib.SMTP("127.0.0.1",25,local_hostname="localhost")
for i in range(n):
    m="From: Mail Lab <${FROM}>\\r\\nTo: <${LAB.operator}>\\r\\nSubject: bench %d\\r\\nDate: %s\\r\\nMessage-ID: <%s.%d@${LAB.server.domain}>\\r\\nX-Lab-Case: %s-%d\\r\\n\\r\\nbench message %d\\r\\n" % (i, email.utils.formatdate(), tag, i, tag, i, i)
    s.sendmail("${FROM}",["${LAB.operator}"],m.encode())
s.quit()
'`;

/** Resident memory (kB) of the mail services: Postfix processes, opendkim, postsrsd. */
async function memory(l: Lab): Promise<Record<string, number>> {
    const r = await ct.exec(l.container, "ps -eo rss=,user=,comm=", { allowFail: true });
    const out: Record<string, number> = { postfix: 0, opendkim: 0, postsrsd: 0 };
    for (const line of r.stdout.trim().split("\n")) {
        const [rss, user, comm] = line.trim().split(/\s+/);
        if (comm === "opendkim") out.opendkim += Number(rss);
        else if (comm === "postsrsd") out.postsrsd += Number(rss);
        else if (user === "postfix" || comm === "master") out.postfix += Number(rss);
    }
    out.total = out.postfix + out.opendkim + out.postsrsd;
    return out;
}

const count = (l: Lab) => readdirSync(l.mailDir).filter((f) => f.endsWith(".json")).length;

async function throughput(l: Lab, tag: string): Promise<number> {
    const before = count(l);
    const t0 = now();
    const r = await ct.exec(l.container, `${PY_BULK} ${N} ${tag}`, { allowFail: true, timeoutMs: 1800000 });
    if (r.code) throw new Error(`bulk submission failed: ${r.stderr.slice(-500)}`);
    await waitFor(`${N} ${tag} messages at the MX`, () => count(l) - before >= N, 1800000, 250);
    return N / (now() - t0);
}

async function main() {
    installSignalHandlers();
    const out = join(REPO, "out/bench-lab", stack);
    const report = new Report(stack, out);
    const rows: [string, string][] = [];
    let code = 0;
    try {
        const l = await setup(stack, a.includes("--fixture"), out, report);
        // baseline: the same packages, nothing else
        const ud = parse(l.plan.userData.toString("utf8").replace(/^#cloud-config\n/, ""));
        const baseline = Buffer.from(`#cloud-config\n${stringify({ package_update: true, packages: ud.packages, apt: ud.apt })}`);
        log("baseline boot (packages only) ...");
        const ours = l.plan.userData;
        l.plan.userData = baseline;
        const b = await freshBoot(l, "baseline");
        if (!b.ok) throw new Error(`baseline cloud-init failed: ${b.errors.join(" | ")}`);
        l.plan.userData = ours;
        log("boot with the plan's user data ...");
        const ci = await freshBoot(l, "bench");
        if (!ci.ok) throw new Error(`cloud-init failed: ${ci.errors.join(" | ")}`);
        let ready = 0;
        for (let i = 1; i <= 20 && !ready; i++) {
            const id = `ready-${i}`;
            await ct.exec(l.container, `/usr/sbin/sendmail -i -f ${FROM} ${LAB.operator}`, {
                input: message({ caseId: id, from: FROM, to: LAB.operator, subject: id, withIds: false }),
                allowFail: true,
            });
            try {
                await waitReceived(l, id, 30000);
            } catch {
                continue;
            }
            const n = report.results.length;
            await gradeAll(l, [id], false, "bench ");
            if (report.results.slice(n).every((r) => r.pass)) ready = (Date.now() - l.container.bootedAt) / 1000;
        }
        rows.push(["boot-to-ready, baseline (packages only, cloud-init done)", `${b.seconds.toFixed(1)} s`]);
        rows.push(["boot-to-ready, plan user data (first message graded all-pass)", ready ? `${ready.toFixed(1)} s` : "never"]);
        if (ready) rows.push(["ratio plan / baseline", (ready / b.seconds).toFixed(2)]);
        const m0 = await memory(l);
        log(`throughput: ${N} messages with the DKIM milter on ...`);
        const on = await throughput(l, "bench-on");
        const saved = (await ct.exec(l.container, "postconf -h smtpd_milters; postconf -h non_smtpd_milters")).stdout.split("\n");
        await ct.exec(l.container, "postconf -e smtpd_milters= non_smtpd_milters= && postfix reload");
        log(`throughput: ${N} messages with the DKIM milter off ...`);
        const off = await throughput(l, "bench-off");
        await ct.exec(l.container, `postconf -e 'smtpd_milters=${saved[0]}' 'non_smtpd_milters=${saved[1]}' && postfix reload`);
        const m1 = await memory(l);
        const mem = (m: Record<string, number>) =>
            `${(m.total / 1024).toFixed(1)} MB (postfix ${(m.postfix / 1024).toFixed(1)}, opendkim ${(m.opendkim / 1024).toFixed(1)}, postsrsd ${(m.postsrsd / 1024).toFixed(1)})`;
        rows.push(["memory (RSS sum) after boot", mem(m0)]);
        rows.push([`memory (RSS sum) after ${2 * N} messages`, mem(m1)]);
        rows.push([`throughput, ${N} msgs over SMTP, DKIM milter on`, `${on.toFixed(1)} msg/s`]);
        rows.push([`throughput, ${N} msgs over SMTP, DKIM milter off`, `${off.toFixed(1)} msg/s`]);
        rows.push(["ratio on / off", (on / off).toFixed(2)]);
        writeFileSync(
            join(out, "bench.json"),
            JSON.stringify(
                {
                    stack,
                    messages: N,
                    baselineBootSeconds: b.seconds,
                    readySeconds: ready,
                    memoryKb: { afterBoot: m0, afterThroughput: m1 },
                    throughput: { milterOn: on, milterOff: off },
                    checks: report.results,
                },
                null,
                2,
            ),
        );
    } catch (e) {
        log(String((e as Error).stack ?? e));
        code = 1;
    } finally {
        await cleanup();
    }
    const w = Math.max(...rows.map((r) => r[0].length));
    console.log(rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n"));
    process.exit(code);
}
main();
