/**
 * `npm run bench:lab`: the mail host measured in the lab, both sides of every ratio to the same
 * endpoint, in alternating samples (min / median / max):
 *
 * - boot to SMTP ready: a boot whose user data only installs the same packages (Postfix as a plain
 *   "Internet Site") against the plan (bootstrap + configuration step over SSH), each from the
 *   container's start until port 25 answers with its banner from outside, polled from before boot;
 * - for the plan, boot to the first message graded all-pass;
 * - SMTP throughput with the DKIM milter on and off (rspamd on port 25 in both), in alternating rounds (a message counts as
 *   signed only when mailauth verifies our DKIM signature on it at the MX);
 * - memory of the mail services (rspamd and Redis, the inbound filter; Dovecot too, with mailboxes)
 *   at rest after the throughput run;
 *   every boot runs in a cgroup memory limit equal to the default plan's memory (512 MB
 *   send-only, 1 GB with mailboxes; no swap), with its OOM-kill count and peak.
 *
 *   node dist/lab/bench.js [--stack do-example] [--samples 5] [--messages 300] [--memory-mb 512|1024]
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { spread } from "../bench/stats";
import { RSPAMD_SETTLE_SECONDS, rspamdMilter } from "../components/host/rspamd";
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
        messages: { type: "string", default: "300" },
        "memory-mb": { type: "string", default: "" },
    },
});
const SAMPLES = Number(values.samples);
const MESSAGES = Number(values.messages);
/** The default plans' memory: DigitalOcean's smallest send-only, and both providers' default with mailboxes. */
const PLAN_MEMORY_MB = { sendOnly: 512, mailboxes: 1024 } as const;
const FROM = `lab@${LAB.server.domain}`;

/** User data that only installs the same packages as the plan, with Postfix answering as a plain Internet Site. */
function baselineUserData(fqdn: string, packages: readonly string[]): Buffer {
    return Buffer.from(
        `#cloud-config\n${stringify({
            apt: {
                debconf_selections: {
                    postfix: `postfix postfix/main_mailer_type select Internet Site\npostfix postfix/mailname string ${fqdn}\n`,
                },
            },
            package_update: true,
            packages: [...packages],
        })}`,
    );
}

/**
 * Disposes of the previous host and waits until it is gone (systemd-nspawn, every process in the
 * memory cgroup, its veth): only then may the banner poll and the next boot start.
 */
async function disposePrevious(lab: Lab): Promise<void> {
    if (lab.container) await container.dispose(lab.container);
}

/**
 * Seconds from the container's start until port 25 answers with its 220 greeting from outside: the
 * same endpoint on both sides, polled from before the boot, whatever cloud-init or the
 * configuration step are still doing. The previous host must be gone already (disposePrevious).
 */
async function bannerAnswered(lab: Lab): Promise<number> {
    await waitFor(
        "port 25 to answer",
        async () => {
            if (!lab.container || lab.container.disposed) return false;
            // The greeting's first line: postscreen sends it at once to a new client, the rest after its greet wait.
            const t = await smtp(LAB.client.netns, { host: LAB.server.v4, helo: LAB.client.name, greetingOnly: true, timeoutMs: 5000 });
            return t.banner?.code === 220;
        },
        900_000,
        250,
    );
    return (Date.now() - server(lab).bootedAt) / 1000;
}

const CGROUP = "/sys/fs/cgroup/memory/mailserver-lab";

/**
 * A cgroup (v1 memory controller, as on this machine) limited to `mb` with no swap, which every
 * boot of the benchmark starts in (container.memoryCgroup): the whole host is charged to it.
 */
function memoryCgroup(mb: number): string {
    if (!existsSync(dirname(CGROUP)))
        throw new Error(`${dirname(CGROUP)} is not mounted: the memory limit needs the cgroup v1 memory controller`);
    mkdirSync(CGROUP, { recursive: true });
    writeFileSync(join(CGROUP, "memory.limit_in_bytes"), String(mb * 1024 * 1024));
    if (existsSync(join(CGROUP, "memory.memsw.limit_in_bytes")))
        writeFileSync(join(CGROUP, "memory.memsw.limit_in_bytes"), String(mb * 1024 * 1024));
    writeFileSync(join(CGROUP, "memory.swappiness"), "0");
    return CGROUP;
}

/** The mail services' process names (as the host sees them) that run inside the cgroup. */
function servicesInside(dir: string, names: readonly string[]): string[] {
    const running = new Set<string>();
    for (const pid of container.cgroupPids(dir)) {
        try {
            running.add(readFileSync(`/proc/${pid}/comm`, "utf8").trim());
        } catch {
            // exited meanwhile
        }
    }
    return names.filter((name) => running.has(name));
}

/** The cgroup's record since its peak was last reset: OOM kills, peak usage, swap, and resident memory now. */
function cgroupStats(dir: string): { oomKills: number; peakMb: number; swapMb: number; rssMb: number } {
    const oom = /oom_kill (\d+)/.exec(readFileSync(join(dir, "memory.oom_control"), "utf8"))?.[1] ?? "0";
    const stat = readFileSync(join(dir, "memory.stat"), "utf8");
    const field = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(stat)?.[1] ?? 0) / 1048576;
    return {
        oomKills: Number(oom),
        peakMb: Number(readFileSync(join(dir, "memory.max_usage_in_bytes"), "utf8")) / 1048576,
        swapMb: field("total_swap"),
        rssMb: field("total_rss"),
    };
}

/** Proportional set size (kB) of the mail services, from smaps_rollup: shared pages counted once. */
async function mailMemory(lab: Lab): Promise<Record<string, number>> {
    // Dovecot: its master and every process it started (login, auth, imap, lmtp, …), marked with a "d".
    const script = `for p in $(pgrep -x master; pgrep -u postfix; pgrep -x opendkim; pgrep -x postsrsd; pgrep -x rspamd; pgrep -x redis-server); do
  printf '%s %s\\n' "$(cat /proc/$p/comm)" "$(awk '/^Pss:/ {print $2}' /proc/$p/smaps_rollup)"; done
for d in $(pgrep -x dovecot); do for p in $d $(pgrep -P $d); do
  printf 'd %s\\n' "$(awk '/^Pss:/ {print $2}' /proc/$p/smaps_rollup)"; done; done`;
    const r = await container.exec(server(lab), script, { allowFail: true });
    const out: Record<string, number> = { postfix: 0, opendkim: 0, postsrsd: 0, rspamd: 0, redis: 0, dovecot: 0 };
    const named: Record<string, string> = {
        d: "dovecot",
        opendkim: "opendkim",
        postsrsd: "postsrsd",
        rspamd: "rspamd",
        "redis-server": "redis",
    };
    for (const line of r.stdout.trim().split("\n")) {
        const [comm, pss] = line.split(" ");
        out[named[comm] ?? "postfix"] += Number(pss) || 0;
    }
    out.total = out.postfix + out.opendkim + out.postsrsd + out.rspamd + out.redis + out.dovecot;
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

/**
 * Messages per second through the server to the MX, and how many arrived with our DKIM signature
 * verified by mailauth against the lab's DNS (a header that merely looks like one does not count).
 */
async function throughput(lab: Lab, tag: string): Promise<{ rate: number; signed: number }> {
    const files = () => readdirSync(lab.mailDir).filter((f) => f.endsWith(".json")).length;
    const before = files();
    const started = now();
    const r = await container.exec(server(lab), `${BULK} ${MESSAGES} ${tag}`, { allowFail: true, timeoutMs: 1_800_000 });
    if (r.code) throw new Error(`the bulk submission failed: ${r.stderr.slice(-500)}`);
    await waitFor(`${MESSAGES} ${tag} messages at the MX`, () => files() - before >= MESSAGES, 1_800_000, 250);
    const rate = MESSAGES / (now() - started);
    const ids = Array.from({ length: MESSAGES }, (_, i) => `${tag}-${i}`);
    const graded = await gradeMessages(
        lab,
        ids.map((id) => ({ id, withoutSpamAssassin: true })),
    );
    const signed = ids.filter((id) => graded.get(id)?.verdicts.some((v) => v.property === "dkim" && v.pass)).length;
    return { rate, signed };
}

/** The plan's bundle with the DKIM milter taken out of main.cf, rspamd left on port 25 (the "off" side of the throughput ratio). */
function bundleWithoutMilter(lab: Lab): Buffer {
    const bundle = JSON.parse(readFileSync(lab.plan.apply.bundleFile, "utf8")) as {
        payload: { files: Array<{ path: string; content: string }> };
    };
    const mainCf = bundle.payload.files.find((f) => f.path === "/etc/postfix/main.cf");
    if (!mainCf) throw new Error("the bundle has no main.cf");
    mainCf.content = mainCf.content
        .replace(/^smtpd_milters = .*$/m, "smtpd_milters =")
        .replace(/^non_smtpd_milters = .*$/m, "non_smtpd_milters =")
        .replace(/^inbound_milters = .*$/m, `inbound_milters = ${rspamdMilter()}`);
    return Buffer.from(JSON.stringify(bundle));
}

async function main(): Promise<number> {
    installSignalHandlers();
    const out = join(REPO, "out", "bench-lab", values.stack);
    const report = new Report(values.stack, out);
    const rows: Array<[string, string]> = [];
    let code = 0;
    try {
        const lab = await setup(values.stack, out, report);
        const mailboxes = lab.plan.mailboxes.length > 0;
        const memoryMb = Number(values["memory-mb"] || (mailboxes ? PLAN_MEMORY_MB.mailboxes : PLAN_MEMORY_MB.sendOnly));
        const services = ["master", "qmgr", "opendkim", "postsrsd", "rspamd", "redis-server", ...(mailboxes ? ["dovecot"] : [])];
        const packages = (JSON.parse(readFileSync(lab.plan.commit.bundleFile, "utf8")) as { payload: { packages: string[] } }).payload
            .packages;
        const cgroup = memoryCgroup(memoryMb);
        const boot = { memoryCgroup: cgroup };
        const ours = lab.plan.userData;
        const samples = { baseline: [] as number[], plan: [] as number[], graded: [] as number[] };
        for (let i = 0; i < SAMPLES; i++) {
            log(`sample ${i + 1}/${SAMPLES}: the packages only ...`);
            lab.plan = { ...lab.plan, userData: baselineUserData(lab.plan.hostname, packages) };
            await serveZones(lab, { without: new Set() });
            await disposePrevious(lab);
            const baselineBanner = bannerAnswered(lab);
            const baseline = await freshBoot(lab, `baseline-${i}`, boot);
            if (!baseline.ok) throw new Error(`the baseline boot failed: ${baseline.errors.join(" | ")}`);
            samples.baseline.push(await baselineBanner);
            log(`sample ${i + 1}/${SAMPLES}: the plan ...`);
            lab.plan = { ...lab.plan, userData: ours };
            await serveZones(lab, { without: lab.plan.afterApply });
            await disposePrevious(lab);
            const planBanner = bannerAnswered(lab);
            const planBoot = await freshBoot(lab, `plan-${i}`, boot);
            if (!planBoot.ok) throw new Error(`the plan's boot failed: ${planBoot.errors.join(" | ")}`);
            const rest = () => serveZones(lab, { without: new Set() });
            if (!(await applyPlan(lab, lab.plan, `bench-${i}`, { between: rest }))) throw new Error("the configuration step failed");
            samples.plan.push(await planBanner);
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

        const inside = servicesInside(cgroup, services);
        if (inside.length !== services.length)
            throw new Error(`the mail services are not all in the memory cgroup: only ${inside.join(", ") || "none"}`);
        writeFileSync(join(cgroup, "memory.max_usage_in_bytes"), "0");
        log(`throughput: ${SAMPLES} alternating rounds of ${MESSAGES} messages, DKIM milter on then off (limit ${memoryMb} MB) ...`);
        const rates = { on: [] as number[], off: [] as number[] };
        const signed = { on: [] as number[], off: [] as number[] };
        for (let i = 0; i < SAMPLES; i++) {
            if (!(await applyPlan(lab, lab.plan, `bench-milter-on-${i}`))) throw new Error("the configuration step (milter on) failed");
            const on = await throughput(lab, `bench-on${i}`);
            if (!(await applyPlan(lab, lab.plan, `bench-milter-off-${i}`, { bundle: bundleWithoutMilter(lab) })))
                throw new Error("the configuration step (milter off) failed");
            const off = await throughput(lab, `bench-off${i}`);
            rates.on.push(on.rate);
            rates.off.push(off.rate);
            signed.on.push(on.signed);
            signed.off.push(off.signed);
        }
        if (!(await applyPlan(lab, lab.plan, "bench-milter-on"))) throw new Error("the configuration step (back to the plan) failed");
        await container.exec(server(lab), "postqueue -f; sleep 30", { allowFail: true, timeoutMs: 120_000 });
        // At rest means after rspamd's one reload following its start (the drop-in), which gives back its start-up compile.
        const sinceStart = `echo $(( $(cut -d. -f1 /proc/uptime) - $(systemctl show rspamd -p ActiveEnterTimestampMonotonic --value) / 1000000 ))`;
        await waitFor(
            "rspamd's reload after its start",
            async () =>
                Number((await container.exec(server(lab), sinceStart, { allowFail: true })).stdout.trim()) > RSPAMD_SETTLE_SECONDS + 20,
            600_000,
            5000,
        );
        const rest = await mailMemory(lab);
        const limits = cgroupStats(cgroup);
        const mb = (kb: number) => (kb / 1024).toFixed(1);
        const on = spread(rates.on);
        const off = spread(rates.off);
        const sum = (list: number[]) => list.reduce((a, n) => a + n, 0);
        rows.push([
            `throughput over SMTP, DKIM milter on (${SAMPLES} × ${MESSAGES} messages)`,
            `${on.median} msg/s (min ${on.min}, max ${on.max}); ${sum(signed.on)} of ${SAMPLES * MESSAGES} verified signed`,
        ]);
        rows.push([
            `throughput over SMTP, DKIM milter off (${SAMPLES} × ${MESSAGES} messages)`,
            `${off.median} msg/s (min ${off.min}, max ${off.max}); ${sum(signed.off)} verified signed`,
        ]);
        rows.push(["ratio of the medians, on / off", (on.median / off.median).toFixed(2)]);
        rows.push([
            "memory of the mail services at rest after the run (PSS)",
            `${mb(rest.total)} MB (postfix ${mb(rest.postfix)}, opendkim ${mb(rest.opendkim)}, postsrsd ${mb(rest.postsrsd)}, rspamd ${mb(rest.rspamd)}, redis ${mb(rest.redis)}${mailboxes ? `, dovecot ${mb(rest.dovecot)}` : ""})`,
        ]);
        rows.push([
            `the whole host in a ${memoryMb} MB cgroup (${inside.join(", ")} inside)`,
            `peak ${limits.peakMb.toFixed(0)} MB during the throughput run (page cache included), resident ${limits.rssMb.toFixed(0)} MB at rest, swap ${limits.swapMb.toFixed(0)} MB, OOM kills ${limits.oomKills}`,
        ]);
        if (limits.oomKills > 0 || limits.swapMb > 0 || sum(signed.on) !== SAMPLES * MESSAGES || sum(signed.off) !== 0) code = 1;
        writeFileSync(
            join(out, "bench.json"),
            `${JSON.stringify({ stack: values.stack, samples, rates, signed, rest, limits, inside }, null, 2)}\n`,
        );
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
