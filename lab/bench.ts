/**
 * `npm run bench:lab`: the mail host measured in the lab, both sides of every ratio to the same
 * endpoint, in alternating samples (min / median / max):
 *
 * - boot to SMTP ready: a boot whose user data only installs the same packages (Postfix as a plain
 *   "Internet Site") against the plan (bootstrap + configuration step over SSH), each until port
 *   25 answers with its banner from outside;
 * - for the plan, boot to the first message graded all-pass;
 * - SMTP throughput with the DKIM milter on and off (messages counted as signed only when they
 *   arrive with our DKIM-Signature);
 * - memory of the mail services at rest, after the throughput run, under a cgroup memory limit
 *   equal to the smallest plan's (512 MB), with the limit's OOM-kill count and swap.
 *
 *   node dist/lab/bench.js [--stack do-example] [--samples 5] [--messages 500] [--memory-mb 512]
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { HOST_PACKAGES } from "../components/host/bundle";
import * as container from "./container";
import { applyPlan, freshBoot } from "./deployment";
import { gradeMessages, type Lab, server, serveZones, smtp, waitReceived } from "./lab";
import { message } from "./messages";
import { Report } from "./report";
import { REPO, setup } from "./setup";
import { cleanup, installSignalHandlers, log, now, waitFor } from "./sys";
import { LAB } from "./topology";

const { values } = parseArgs({
    options: {
        stack: { type: "string", default: "do-example" },
        samples: { type: "string", default: "5" },
        messages: { type: "string", default: "500" },
        "memory-mb": { type: "string", default: "512" },
    },
});
const SAMPLES = Number(values.samples);
const MESSAGES = Number(values.messages);
const MEMORY_MB = Number(values["memory-mb"]);
const FROM = `lab@${LAB.server.domain}`;

/** min / median / max of a sample, to one decimal. */
export function spread(samples: readonly number[]): { min: number; median: number; max: number } {
    const sorted = [...samples].sort((a, b) => a - b);
    const mid = sorted.length / 2;
    const median = sorted.length % 2 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
    const round = (n: number) => Math.round(n * 10) / 10;
    return { min: round(sorted[0]), median: round(median), max: round(sorted[sorted.length - 1]) };
}

/** User data that only installs the same packages, with Postfix answering as a plain Internet Site. */
function baselineUserData(fqdn: string): Buffer {
    return Buffer.from(
        `#cloud-config\n${stringify({
            apt: {
                debconf_selections: {
                    postfix: `postfix postfix/main_mailer_type select Internet Site\npostfix postfix/mailname string ${fqdn}\n`,
                },
            },
            package_update: true,
            packages: [...HOST_PACKAGES],
        })}`,
    );
}

async function bannerAnswered(lab: Lab): Promise<number> {
    await waitFor(
        "port 25 to answer",
        async () => {
            const t = await smtp(LAB.client.netns, { host: LAB.server.v4, helo: LAB.client.name, timeoutMs: 5000 });
            return t.banner?.code === 220;
        },
        900_000,
        500,
    );
    return (Date.now() - server(lab).bootedAt) / 1000;
}

const CGROUP = "/sys/fs/cgroup/memory/mailserver-lab";

/** Moves the container into a cgroup (v1 memory controller) limited to `mb`, without swap. */
function limitMemory(lab: Lab, mb: number): string {
    const dir = CGROUP;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "memory.limit_in_bytes"), String(mb * 1024 * 1024));
    if (existsSync(join(dir, "memory.memsw.limit_in_bytes")))
        writeFileSync(join(dir, "memory.memsw.limit_in_bytes"), String(mb * 1024 * 1024));
    const pid = server(lab).process?.pid;
    if (pid) writeFileSync(join(dir, "cgroup.procs"), String(pid));
    return dir;
}

function cgroupStats(dir: string): { oomKills: number; peakMb: number; swapMb: number } {
    const oom = /oom_kill (\d+)/.exec(readFileSync(join(dir, "memory.oom_control"), "utf8"))?.[1] ?? "0";
    const stat = readFileSync(join(dir, "memory.stat"), "utf8");
    const swap = Number(/^swap (\d+)$/m.exec(stat)?.[1] ?? 0);
    return {
        oomKills: Number(oom),
        peakMb: Number(readFileSync(join(dir, "memory.max_usage_in_bytes"), "utf8")) / 1048576,
        swapMb: swap / 1048576,
    };
}

/** Proportional set size (kB) of the mail services, from smaps_rollup: shared pages counted once. */
async function mailMemory(lab: Lab): Promise<Record<string, number>> {
    const script = `for p in $(pgrep -x master; pgrep -u postfix; pgrep -x opendkim; pgrep -x postsrsd); do
  printf '%s %s\\n' "$(cat /proc/$p/comm)" "$(awk '/^Pss:/ {print $2}' /proc/$p/smaps_rollup)"; done`;
    const r = await container.exec(server(lab), script, { allowFail: true });
    const out: Record<string, number> = { postfix: 0, opendkim: 0, postsrsd: 0 };
    for (const line of r.stdout.trim().split("\n")) {
        const [comm, pss] = line.split(" ");
        const key = comm === "opendkim" ? "opendkim" : comm === "postsrsd" ? "postsrsd" : "postfix";
        out[key] += Number(pss) || 0;
    }
    out.total = out.postfix + out.opendkim + out.postsrsd;
    return out;
}

const BULK = `python3 -c '
import smtplib,sys,email.utils
n=int(sys.argv[1]); tag=sys.argv[2]
s=smtplib.SMTP("127.0.0.1",25,local_hostname="localhost")
for i in range(n):
    m="From: Mail Lab <${FROM}>\\r\\nTo: <${LAB.operator}>\\r\\nSubject: bench %d\\r\\nDate: %s\\r\\nMessage-ID: <%s.%d@${LAB.server.domain}>\\r\\nX-Lab-Case: %s-%d\\r\\n\\r\\nbench message %d\\r\\n" % (i, email.utils.formatdate(), tag, i, tag, i, i)
    s.sendmail("${FROM}",["${LAB.operator}"],m.encode())
s.quit()
'`;

/** Messages per second through the server to the MX, and how many arrived signed with our DKIM key. */
async function throughput(lab: Lab, tag: string): Promise<{ rate: number; signed: number }> {
    const files = () => readdirSync(lab.mailDir).filter((f) => f.endsWith(".json")).length;
    const before = files();
    const started = now();
    const r = await container.exec(server(lab), `${BULK} ${MESSAGES} ${tag}`, { allowFail: true, timeoutMs: 1_800_000 });
    if (r.code) throw new Error(`the bulk submission failed: ${r.stderr.slice(-500)}`);
    await waitFor(`${MESSAGES} ${tag} messages at the MX`, () => files() - before >= MESSAGES, 1_800_000, 250);
    const rate = MESSAGES / (now() - started);
    const signed = readdirSync(lab.mailDir)
        .filter((f) => f.endsWith(".eml"))
        .map((f) => readFileSync(join(lab.mailDir, f), "latin1"))
        .filter((m) => m.includes(`X-Lab-Case: ${tag}-`) && new RegExp(`^DKIM-Signature:[^]*?d=${LAB.server.domain};`, "m").test(m)).length;
    return { rate, signed };
}

async function main(): Promise<number> {
    installSignalHandlers();
    const out = join(REPO, "out", "bench-lab", values.stack);
    const report = new Report(values.stack, out);
    const rows: Array<[string, string]> = [];
    let code = 0;
    try {
        const lab = await setup(values.stack, out, report);
        const ours = lab.plan.userData;
        const samples = { baseline: [] as number[], plan: [] as number[], graded: [] as number[] };
        for (let i = 0; i < SAMPLES; i++) {
            log(`sample ${i + 1}/${SAMPLES}: the packages only ...`);
            lab.plan = { ...lab.plan, userData: baselineUserData(LAB.server.name) };
            await serveZones(lab, { without: new Set() });
            const baseline = await freshBoot(lab, `baseline-${i}`);
            if (!baseline.ok) throw new Error(`the baseline boot failed: ${baseline.errors.join(" | ")}`);
            samples.baseline.push(await bannerAnswered(lab));
            log(`sample ${i + 1}/${SAMPLES}: the plan ...`);
            lab.plan = { ...lab.plan, userData: ours };
            await serveZones(lab, { without: lab.plan.afterApply });
            await freshBoot(lab, `plan-${i}`);
            if (!(await applyPlan(lab, lab.plan, `bench-${i}`))) throw new Error("the configuration step failed");
            await serveZones(lab, { without: new Set() });
            samples.plan.push(await bannerAnswered(lab));
            const id = `ready-${i}`;
            await container.exec(server(lab), `/usr/sbin/sendmail -i -f ${FROM} ${LAB.operator}`, {
                input: message({ caseId: id, from: FROM, to: LAB.operator, subject: id, withIds: false }),
            });
            await waitReceived(lab, id, 120_000);
            const graded = (await gradeMessages(lab, [{ id, options: { addedFields: ["message-id", "date"] } }])).get(id);
            if (!graded || graded.error || graded.verdicts.some((v) => !v.pass)) throw new Error(`${id} did not grade all-pass`);
            samples.graded.push((Date.now() - server(lab).bootedAt) / 1000);
        }
        const b = spread(samples.baseline);
        const p = spread(samples.plan);
        const g = spread(samples.graded);
        rows.push([`boot to port 25 answering, packages only (n=${SAMPLES})`, `${b.median} s (min ${b.min}, max ${b.max})`]);
        rows.push([`boot to port 25 answering, the plan (n=${SAMPLES})`, `${p.median} s (min ${p.min}, max ${p.max})`]);
        rows.push(["ratio of the medians, plan / packages only", (p.median / b.median).toFixed(2)]);
        rows.push([`boot to the first message graded all-pass, the plan (n=${SAMPLES})`, `${g.median} s (min ${g.min}, max ${g.max})`]);

        const cgroup = limitMemory(lab, MEMORY_MB);
        log(`throughput: ${MESSAGES} messages with the DKIM milter on, then off (memory limit ${MEMORY_MB} MB) ...`);
        const on = await throughput(lab, "bench-on");
        const bundle = JSON.parse(readFileSync(lab.plan.apply.bundleFile, "utf8")) as {
            payload: { files: Array<{ path: string; content: string }> };
        };
        const mainCf = bundle.payload.files.find((f) => f.path === "/etc/postfix/main.cf");
        if (!mainCf) throw new Error("the bundle has no main.cf");
        mainCf.content = mainCf.content
            .replace(/^smtpd_milters = .*$/m, "smtpd_milters =")
            .replace(/^non_smtpd_milters = .*$/m, "non_smtpd_milters =");
        await applyPlan(lab, lab.plan, "bench-milter-off", { bundle: Buffer.from(JSON.stringify(bundle)) });
        const off = await throughput(lab, "bench-off");
        await applyPlan(lab, lab.plan, "bench-milter-on");
        await container.exec(server(lab), "postqueue -f; sleep 30", { allowFail: true, timeoutMs: 120_000 });
        const rest = await mailMemory(lab);
        const limits = cgroupStats(cgroup);
        const mb = (kb: number) => (kb / 1024).toFixed(1);
        rows.push([
            `throughput, ${MESSAGES} messages over SMTP, DKIM milter on`,
            `${on.rate.toFixed(1)} msg/s (${on.signed} of ${MESSAGES} signed)`,
        ]);
        rows.push([`throughput, ${MESSAGES} messages over SMTP, DKIM milter off`, `${off.rate.toFixed(1)} msg/s (${off.signed} signed)`]);
        rows.push(["ratio on / off", (on.rate / off.rate).toFixed(2)]);
        rows.push([
            "memory of the mail services at rest after the run (PSS)",
            `${mb(rest.total)} MB (postfix ${mb(rest.postfix)}, opendkim ${mb(rest.opendkim)}, postsrsd ${mb(rest.postsrsd)})`,
        ]);
        rows.push([
            `the whole host under a ${MEMORY_MB} MB limit`,
            `peak ${limits.peakMb.toFixed(0)} MB, swap ${limits.swapMb.toFixed(0)} MB, OOM kills ${limits.oomKills}`,
        ]);
        if (limits.oomKills > 0 || on.signed !== MESSAGES || off.signed !== 0) code = 1;
        writeFileSync(join(out, "bench.json"), `${JSON.stringify({ stack: values.stack, samples, on, off, rest, limits }, null, 2)}\n`);
    } catch (error) {
        log(String((error as Error).stack ?? error));
        code = 1;
    } finally {
        await cleanup();
        // A cgroup goes with rmdir, once its processes are gone.
        if (existsSync(CGROUP)) rmdirSync(CGROUP);
    }
    const width = Math.max(...rows.map((r) => r[0].length));
    console.log(rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n"));
    return code;
}

if (require.main === module) {
    main().then((code) => process.exit(code));
}
