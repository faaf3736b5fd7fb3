// Shared state and helpers of a lab run (used by run.ts, faults.ts, bench.ts).
import { readFileSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { inNs, now, waitFor } from "./sys.js";
import { LAB } from "./topology.js";
import type { Plan } from "./plan.js";
import { Dns, startNsd } from "./services.js";
import * as ct from "./container.js";
import type { Report } from "./report.js";
import type { ZoneOptions } from "./zones.js";
import type { Transcript } from "./smtp-client.js";

export const DIST_LAB = __dirname;

export interface Lab {
    stack: string;
    out: string;
    work: string;
    mailDir: string;
    report: Report;
    plan: Plan;
    dns: Dns;
    dnsNoPtr: Dns;
    zoneOpts: ZoneOptions;
    container: ct.Container;
    rootfs: string;
    repoDir: string;
    certs: string;
    pebbleRoot?: string;
    pebble?: ChildProcess;
    clientKey: string;
}

export const smtp = async (ns: string, job: object): Promise<Transcript> => {
    const r = await inNs(ns, process.execPath, [join(DIST_LAB, "smtp-client.js"), JSON.stringify(job)], {
        allowFail: true,
        timeoutMs: 90000,
    });
    try {
        return JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}");
    } catch {
        return { error: `smtp-client: ${r.stdout} ${r.stderr}` };
    }
};

/** Receiver copies by case id (X-Lab-Case), as {eml, meta} paths. */
export function received(l: Lab): Map<string, { eml: string; meta: string; json: any }[]> {
    const m = new Map<string, { eml: string; meta: string; json: any }[]>();
    for (const f of readdirSync(l.mailDir)
        .filter((f) => f.endsWith(".json"))
        .sort()) {
        const eml = join(l.mailDir, f.replace(/\.json$/, ".eml"));
        const head = readFileSync(eml, "latin1").split(/\r?\n\r?\n/)[0];
        const id = /^X-Lab-Case:\s*(\S+)/im.exec(head)?.[1] ?? "unknown";
        const list = m.get(id) ?? [];
        list.push({ eml, meta: join(l.mailDir, f), json: JSON.parse(readFileSync(join(l.mailDir, f), "utf8")) });
        m.set(id, list);
    }
    return m;
}
export const waitReceived = (l: Lab, id: string, timeoutMs: number) =>
    waitFor(`message "${id}" at the receiving MX`, () => received(l).get(id)?.[0], timeoutMs, 500);

export async function probeTls(l: Lab) {
    return smtp(LAB.client.netns, {
        host: LAB.server.v4,
        helo: LAB.client.name.replace(/\.$/, ""),
        starttls: true,
        caFile: l.pebbleRoot,
        servername: LAB.server.name.replace(/\.$/, ""),
    });
}

/** Wait until Postfix offers the certificate Pebble issued (chain + name check against Pebble's root). */
export async function waitForRealCert(l: Lab, timeoutMs: number): Promise<Transcript> {
    return waitFor(
        "Postfix to offer the Pebble certificate",
        async () => {
            const t = await probeTls(l);
            return t.cert?.authorized ? t : undefined;
        },
        timeoutMs,
        3000,
    );
}

export async function setMxFamily(l: Lab, fam: 4 | 6 | undefined) {
    l.zoneOpts = { ...l.zoneOpts, mxFamily: fam };
    await startNsd(l.dns, l.plan.zones, l.zoneOpts, join(l.out, "nsd.log"));
}

/** Grade everything in the MX namespace (lab DNS only), negative controls included. */
export async function gradeAll(l: Lab, cases: string[], negatives = true, section = "") {
    const got = received(l);
    const ns = [LAB.ns.v4];
    const strict = { domain: LAB.server.domain, minKeyBits: 2048, requireDkim: true, requireDmarc: true };
    const items: any[] = [];
    for (const id of cases) {
        const m = got.get(id)?.[0];
        if (!m) continue;
        const opts = id.startsWith("forward")
            ? { domain: LAB.server.domain, minKeyBits: 2048, requireDkim: false, requireDmarc: true, expectSrs: true }
            : strict;
        items.push({ id, eml: m.eml, meta: m.meta, dns: ns, opts, spamassassin: true, saForwarded: id.startsWith("forward") });
    }
    const base = cases.map((c) => got.get(c)?.[0]).find(Boolean);
    const neg: Record<string, string> = {};
    if (base && negatives) {
        items.push({ id: "neg-dkim-tampered-body", eml: base.eml, meta: base.meta, dns: ns, opts: strict, tamperBody: true });
        neg["neg-dkim-tampered-body"] = "dkim";
        items.push({ id: "neg-no-ptr", eml: base.eml, meta: base.meta, dns: [LAB.nsNoPtr.v4], opts: strict });
        neg["neg-no-ptr"] = "fcrdns";
    }
    const spoof = got.get("neg-spf")?.[0];
    if (spoof && negatives) {
        items.push({ id: "neg-spf", eml: spoof.eml, meta: spoof.meta, dns: ns, opts: strict });
        neg["neg-spf"] = "spf";
    }
    const job = join(l.work, "grade-job.json"),
        out = join(l.work, "grade-out.json");
    writeFileSync(job, JSON.stringify({ items }));
    const t0 = now();
    const r = await inNs(LAB.mx.netns, process.execPath, [join(DIST_LAB, "grade-cli.js"), job, out], {
        allowFail: true,
        timeoutMs: 600000,
    });
    l.report.time("grading", now() - t0);
    if (r.code !== 0) {
        l.report.add("grading", "grader-ran", false, r.stderr.slice(-1500));
        return;
    }
    const res = JSON.parse(readFileSync(out, "utf8"));
    const gradesFile = join(l.out, "grades.json");
    const all = existsSync(gradesFile) ? JSON.parse(readFileSync(gradesFile, "utf8")) : {};
    writeFileSync(gradesFile, JSON.stringify({ ...all, ...res }, null, 2));
    for (const it of items) {
        const g = res[it.id];
        if (g.error) {
            l.report.add(section + it.id, "graded", false, g.error);
            continue;
        }
        if (neg[it.id]) {
            const c = g.checks.find((x: any) => x.name === neg[it.id]);
            l.report.add("negative", `${it.id}: ${neg[it.id]} must fail`, !!c && !c.pass, c ? c.evidence : "check missing", true);
        } else for (const c of g.checks) l.report.add(section + it.id, c.name, c.pass, c.evidence);
    }
    for (const id of cases) if (!got.get(id)) l.report.add(section + id, "received", false, "never arrived");
}

/** Boot a fresh container (new overlay, new instance id) with the plan's user data. */
export async function freshBoot(l: Lab, tag: string): Promise<ct.CloudInitResult> {
    if (l.container) await ct.dispose(l.container);
    l.container = await ct.prepare(
        `mlab-${l.stack}`,
        l.rootfs,
        join(l.work, `container-${tag}`),
        l.plan.userData,
        `lab-${l.stack}-${tag}-${Date.now()}`,
    );
    await ct.boot(l.container, l.repoDir, join(l.out, tag === "main" ? "console.log" : `console-${tag}.log`));
    return ct.waitCloudInit(l.container, 600000);
}
