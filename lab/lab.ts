/** A lab run's state, and the helpers every scenario uses: sending, receiving, grading, the DNS it serves. */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Container } from "./container";
import type { GradeOptions, Property, Session } from "./grade";
import type { Graded, GradeItem } from "./grade-cli";
import type { Plan } from "./plan";
import type { Report } from "./report";
import { type Dns, type Pebble, startNsd } from "./services";
import type { Job, Transcript } from "./smtp-client";
import { inNamespace, now, waitFor } from "./sys";
import { LAB } from "./topology";
import type { ZoneOptions } from "./zones";

export const DIST_LAB = __dirname;

export interface Lab {
    readonly stack: string;
    readonly out: string;
    readonly work: string;
    readonly mailDir: string;
    readonly report: Report;
    plan: Plan;
    readonly dns: Dns;
    readonly dnsNoPtr: Dns;
    zoneOptions: ZoneOptions;
    container: Container | undefined;
    readonly rootfs: string;
    readonly repoDir: string;
    readonly certs: string;
    pebble: Pebble;
    /** The outside client's DKIM key for example.org (PKCS#8 PEM). */
    readonly clientKey: string;
}

/** The running container; a scenario that needs it fails plainly when there is none. */
export function server(lab: Lab): Container {
    if (!lab.container || lab.container.disposed) throw new Error("no server is running");
    return lab.container;
}

/** Runs one of the lab's clients (`<name>.js '<job>'`, one JSON line out) in a namespace. */
export async function runClient<T extends { error?: string }>(netns: string, name: string, job: object): Promise<T> {
    const r = await inNamespace(netns, process.execPath, [join(DIST_LAB, `${name}.js`), JSON.stringify(job)], {
        allowFail: true,
        timeoutMs: 90_000,
    });
    try {
        return JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as T;
    } catch {
        return { error: `${name}: ${r.stdout} ${r.stderr}` } as T;
    }
}

/** Runs the lab's SMTP client in a namespace. */
export function smtp(netns: string, job: Job): Promise<Transcript> {
    return runClient<Transcript>(netns, "smtp-client", job);
}

export interface Received {
    readonly eml: string;
    readonly meta: string;
    readonly session: Session & { readonly receivedAt: string };
}

/** The receiver's copies by case id (X-Lab-Case). */
export function received(lab: Lab): Map<string, Received[]> {
    const byCase = new Map<string, Received[]>();
    for (const file of readdirSync(lab.mailDir)
        .filter((f) => f.endsWith(".json"))
        .sort()) {
        const eml = join(lab.mailDir, file.replace(/\.json$/, ".eml"));
        const head = readFileSync(eml, "latin1").split(/\r?\n\r?\n/)[0];
        const id = /^X-Lab-Case:\s*(\S+)/im.exec(head)?.[1] ?? "unknown";
        const list = byCase.get(id) ?? [];
        list.push({
            eml,
            meta: join(lab.mailDir, file),
            session: JSON.parse(readFileSync(join(lab.mailDir, file), "utf8")) as Received["session"],
        });
        byCase.set(id, list);
    }
    return byCase;
}

export function waitReceived(lab: Lab, id: string, timeoutMs: number): Promise<Received> {
    return waitFor(`message "${id}" at the receiving MX`, () => received(lab).get(id)?.[0], timeoutMs, 500);
}

/** Serves the zones with `options` merged over the current ones. */
export async function serveZones(lab: Lab, options: Partial<ZoneOptions> = {}): Promise<void> {
    lab.zoneOptions = { ...lab.zoneOptions, ...options };
    await startNsd(lab.dns, lab.plan.zones, lab.zoneOptions, join(lab.out, "nsd.log"));
}

export async function probeTls(lab: Lab, extra: Partial<Job> = {}): Promise<Transcript> {
    return smtp(LAB.client.netns, {
        host: LAB.server.v4,
        helo: LAB.client.name,
        starttls: true,
        caFile: lab.pebble.root,
        servername: lab.plan.hostname,
        ...extra,
    });
}

/** Waits until Postfix offers a certificate Pebble issued (chain and name checked against Pebble's root). */
export function waitForRealCert(lab: Lab, timeoutMs: number): Promise<Transcript> {
    return waitFor(
        "Postfix to offer the Pebble certificate",
        async () => {
            const t = await probeTls(lab);
            return t.cert?.authorized ? t : undefined;
        },
        timeoutMs,
        3000,
    );
}

/** What to grade of one received message. */
export interface ToGrade {
    readonly id: string;
    readonly options?: Partial<GradeOptions>;
    /** Grade against the DNS without the server's PTRs. */
    readonly withoutPtr?: boolean;
    readonly tamperBody?: boolean;
    readonly withoutSpamAssassin?: boolean;
}

/** Grades messages in the MX's namespace; returns the verdicts by case id. */
export async function gradeMessages(lab: Lab, cases: readonly ToGrade[]): Promise<Map<string, Graded>> {
    const got = received(lab);
    const items: GradeItem[] = [];
    const missing: string[] = [];
    for (const c of cases) {
        const message = got.get(c.id)?.[0];
        if (!message) {
            missing.push(c.id);
            continue;
        }
        items.push({
            id: c.id,
            eml: message.eml,
            meta: message.meta,
            dns: [c.withoutPtr ? LAB.dnsNoPtr.v4 : LAB.dns.v4],
            options: { domain: LAB.server.domain, minKeyBits: 2048, forwarded: false, addedFields: [], ...c.options },
            tamperBody: c.tamperBody,
            withoutSpamAssassin: c.withoutSpamAssassin,
        });
    }
    const job = join(lab.work, "grade-job.json");
    const out = join(lab.work, "grade-out.json");
    writeFileSync(job, JSON.stringify({ items }));
    const started = now();
    const r = await inNamespace(LAB.mx.netns, process.execPath, [join(DIST_LAB, "grade-cli.js"), job, out], {
        allowFail: true,
        timeoutMs: 600_000,
    });
    lab.report.time("grading", (lab.report.timings.grading ?? 0) + now() - started);
    const results = new Map<string, Graded>();
    if (r.code !== 0) {
        for (const item of items) results.set(item.id, { verdicts: [], error: r.stderr.slice(-1500) });
    } else {
        const graded = JSON.parse(readFileSync(out, "utf8")) as Record<string, Graded>;
        const file = join(lab.out, "grades.json");
        const all = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, Graded>) : {};
        writeFileSync(file, JSON.stringify({ ...all, ...graded }, null, 2));
        for (const [id, g] of Object.entries(graded)) results.set(id, g);
    }
    for (const id of missing) results.set(id, { verdicts: [], error: "never arrived" });
    return results;
}

/** Records every verdict of graded messages as positive evidence of its property. */
export function observePositive(lab: Lab, graded: Map<string, Graded>): void {
    for (const [id, g] of graded) {
        if (g.error) lab.report.add(id, "graded", false, g.error);
        for (const v of g.verdicts) lab.report.observe(v.property, "positive", id, v.pass, v.evidence);
    }
}

/**
 * Records a negative control: the run broke `property`, so its message must fail exactly that
 * property and pass every other one it was graded on.
 */
export function observeNegative(lab: Lab, property: Property | string, source: string, graded: Graded | undefined): void {
    if (!graded || graded.error) {
        lab.report.observe(property, "negative", source, false, graded?.error ?? "not graded");
        return;
    }
    const target = graded.verdicts.find((v) => v.property === property);
    const others = graded.verdicts.filter((v) => v.property !== property && !v.pass);
    const pass = target !== undefined && !target.pass && others.length === 0;
    const evidence = `${property} ${target ? (target.pass ? "passed (it should have failed)" : "failed") : "was not graded"}: ${target?.evidence ?? ""}${
        others.length > 0
            ? `; also failed: ${others.map((o) => `${o.property} (${o.evidence})`).join("; ")}`
            : "; every other property passed"
    }`;
    lab.report.observe(property, "negative", source, pass, evidence);
}
