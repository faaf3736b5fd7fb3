/**
 * A change applied to the running server, as `pulumi up` applies it: with a message in flight,
 * the stack planned again with the changes, the DNS published in the plan's order (records the
 * configuration step depends on first, the rest after it, retired ones last), and the plan's new
 * configuration step run over the same SSH channel. Then: the same boot (no reboot), the queued
 * message delivered, and the new configuration graded all-pass against the new plan's zones.
 * Also: a bundle that fails its checks leaves the old configuration serving mail.
 */
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { shownValue } from "../components/programConfig";
import { reverseName } from "../components/records/reverse";
import { sendForward, sendOutbound } from "./checks";
import * as container from "./container";
import { editedBundle, setParameter } from "./controls";
import { applyPlan } from "./deployment";
import { checkDomainsRotation } from "./domainChecks";
import type { Graded } from "./grade-cli";
import {
    gradeMessages,
    type Lab,
    observePositive,
    received,
    server,
    serveZones,
    smtp,
    type ToGrade,
    waitForRealCert,
    waitReceived,
} from "./lab";
import { checkQuota, imap } from "./mailboxChecks";
import { message } from "./messages";
import { makePlan, type Plan, type PtrRecord } from "./plan";
import type { Relayed } from "./relay";
import { ACME_DIR_URL } from "./services";
import { inNamespace, log, sleep, waitFor } from "./sys";
import { LAB } from "./topology";
import type { Zone } from "./zones";

const FROM = `lab@${LAB.server.domain}`;
const key = (owner: string, type: string) => `${owner.replace(/\.$/, "")} ${type}`;

/**
 * The zones between the DNS steps of a change: the old records, those the configuration step
 * depends on already in their new form, and the records that go only at the end still there.
 */
export function zonesBeforeApply(before: Plan, after: Plan): Zone[] {
    const early = new Set(
        after.zones.flatMap((z) => z.records.filter((r) => !after.afterApply.has(key(r.owner, r.type))).map((r) => key(r.owner, r.type))),
    );
    const zones = before.zones.map((z) => ({ origin: z.origin, records: z.records.filter((r) => !early.has(key(r.owner, r.type))) }));
    for (const zone of after.zones) {
        let target = zones.find((z) => z.origin === zone.origin);
        if (!target) {
            target = { origin: zone.origin, records: [] };
            zones.push(target);
        }
        target.records.push(...zone.records.filter((r) => early.has(key(r.owner, r.type))));
    }
    return zones;
}

/** Between the two stages: every record of the new zones, and the retired ones still there (the engine deletes them last). */
export function zonesBetweenStages(before: Plan, after: Plan): Zone[] {
    const present = new Set(after.zones.flatMap((z) => z.records.map((r) => key(r.owner, r.type))));
    const zones = after.zones.map((z) => ({ origin: z.origin, records: [...z.records] }));
    for (const zone of before.zones) {
        const retired = zone.records.filter((r) => !present.has(key(r.owner, r.type)));
        if (retired.length === 0) continue;
        let target = zones.find((z) => z.origin === zone.origin);
        if (!target) {
            target = { origin: zone.origin, records: [] };
            zones.push(target);
        }
        target.records.push(...retired);
    }
    return zones;
}

/**
 * The PTRs the provider serves at each step: a PTR the plan sets after the prepare stage (Linode's
 * Rdns) keeps its old name until then; one that goes away (a removed Rdns) stays until the end.
 */
export function ptrsAt(step: "before-apply" | "between", before: Plan, after: Plan): PtrRecord[] {
    const late = (p: PtrRecord) => after.afterApply.has(`${reverseName(p.address)} PTR`);
    const current = step === "before-apply" ? after.ptrs.filter((p) => !late(p)) : [...after.ptrs];
    const kept = before.ptrs.filter((p) => !current.some((c) => c.address === p.address));
    return [...current, ...kept];
}

async function queueUndeliverable(lab: Lab, id: string): Promise<void> {
    writeFileSync(join(lab.out, "receiver.stall"), "stall\n");
    await container.exec(server(lab), `/usr/sbin/sendmail -i -f ${FROM} ${LAB.operator}`, {
        input: message({ caseId: id, from: FROM, to: LAB.operator, subject: `lab ${id}`, withIds: false }),
    });
    await waitFor(
        "the server to be stuck delivering to the stalled MX",
        async () => /stalling session/.test((await inNamespace(LAB.mx.netns, "cat", [join(lab.out, "receiver.log")])).stdout),
        60_000,
        300,
    );
}

/** What `npm start -- --change` wrote next to the after-plan (plan/change.ts). */
interface PlannedChange {
    readonly kind: string;
    readonly applyRuns: boolean;
    readonly refused?: string;
}

/**
 * Applies `changes` to the running host. `earlier` are the changes made before (cumulative: the
 * plan's "before" is the host as it now runs, as a stack's config would be after those `pulumi up`s).
 */
export async function changeRun(lab: Lab, changes: Record<string, string>, n = 1, earlier: Record<string, string> = {}): Promise<void> {
    const section = `change${n}`;
    const prefix = `change${n}-`;
    // One "apply" section of the report: every check of every change, named by its change.
    const add = (name: string, pass: boolean, evidence: string) => lab.report.add("apply", `${prefix}${name}`, pass, evidence);
    log(
        `change: ${Object.entries(changes)
            // Secret keys are the lab's throwaways, still never printed (as the plan's change report does).
            .map(([k, v]) => `${k}=${shownValue(k, v)}`)
            .join(" ")} ...`,
    );
    const host = server(lab);
    const bootBefore = await container.bootId(host);
    const releaseBefore = (await container.exec(host, "readlink /etc/mailserver/current")).stdout.trim();
    await queueUndeliverable(lab, `${prefix}queued`);

    const before = lab.plan;
    const caPem = (await inNamespace(LAB.client.netns, "cat", [join(lab.certs, "ca.pem")])).stdout;
    let after: Plan;
    try {
        after = await makePlan(join(__dirname, "..", ".."), lab.stack, join(lab.work, "plan"), ACME_DIR_URL, caPem, changes, earlier);
    } catch (error) {
        rmSync(join(lab.out, "receiver.stall"), { force: true });
        add("planned", false, (error as Error).message);
        return;
    }
    const planned = JSON.parse(readFileSync(join(lab.work, "plan", lab.stack, "change.json"), "utf8")) as PlannedChange;
    const kept = join(lab.out, `plan-after-${n}`);
    rmSync(kept, { recursive: true, force: true });
    cpSync(after.dir, kept, { recursive: true });
    cpSync(join(lab.work, "plan", lab.stack, "change.json"), join(kept, "change.json"));
    // The step runs when its input (the bundle) changed, as the engine decides; the plan must have said so.
    const applyRuns = after.apply.bundleSha256 !== before.apply.bundleSha256 || after.commit.bundleSha256 !== before.commit.bundleSha256;
    add(
        "planned",
        !planned.refused && planned.applyRuns === applyRuns,
        `after-plan in ${kept}; change.json: kind ${planned.kind}, applyRuns ${planned.applyRuns}${planned.refused ? `, refused: ${planned.refused}` : ""}; the bundle ${applyRuns ? "changed" : "is unchanged"}`,
    );

    // 1. The records the prepare stage depends on, in their new form; nothing removed yet.
    lab.plan = { ...after, zones: zonesBeforeApply(before, after) };
    await serveZones(lab, { ptrs: ptrsAt("before-apply", before, after), without: new Set() });
    // 2. The prepare stage; 3. the records that depend on it (retired ones still there); 4. the commit stage.
    let atPrepare = "";
    const between = async () => {
        atPrepare = await postfixIdentity(lab);
        lab.plan = { ...after, zones: zonesBetweenStages(before, after) };
        await serveZones(lab, { ptrs: ptrsAt("between", before, after), without: new Set() });
    };
    if (applyRuns && !(await applyPlan(lab, after, `apply:${section}`, { between }))) {
        rmSync(join(lab.out, "receiver.stall"), { force: true });
        lab.plan = after;
        return;
    }
    if (!applyRuns) await between();
    // 5. The retired records go last.
    lab.plan = after;
    await serveZones(lab, { ptrs: after.ptrs, without: new Set() });

    const bootAfter = await container.bootId(host);
    add("no-reboot", bootAfter === bootBefore, `boot id ${bootBefore} before, ${bootAfter} after`);
    const releaseAfter = (await container.exec(host, "readlink /etc/mailserver/current")).stdout.trim();
    add(
        "release",
        applyRuns ? releaseAfter !== releaseBefore : releaseAfter === releaseBefore,
        `${releaseBefore} → ${releaseAfter} (the configuration step ${applyRuns ? "ran" : "did not run"})`,
    );
    if (applyRuns) {
        // What the host used between the stages, and after: prepare gives up, commit takes on.
        const atCommit = await postfixIdentity(lab);
        const wanted = stagedIdentity(identityOf(before), identityOf(after));
        add(
            "staged",
            atPrepare === wanted.atPrepare && atCommit === wanted.atCommit,
            `after prepare: ${atPrepare}; after commit: ${atCommit}; wanted: ${wanted.atPrepare}, then ${wanted.atCommit}`,
        );
        // The certificate follows the name: Pebble's, verified for the host name the new plan gives.
        try {
            const cert = (await waitForRealCert(lab, 300_000)).cert;
            add("certificate", true, `verified for ${lab.plan.hostname}: subject=${cert?.subject} san=${cert?.san}`);
        } catch (error) {
            add("certificate", false, `for ${lab.plan.hostname}: ${(error as Error).message}`);
        }
    }
    rmSync(join(lab.out, "receiver.stall"), { force: true });
    let queuedFrom = "";
    try {
        const queued = await waitReceived(lab, `${prefix}queued`, 240_000);
        queuedFrom = queued.session.ip;
        add("queued-message-delivered", true, `queued before the change, delivered after it from ${queued.session.ip}`);
    } catch (error) {
        add("queued-message-delivered", false, (error as Error).message);
    }
    // Postfix restarts when IPv6 goes off: a delivery in flight over IPv6 is cut and goes again over IPv4.
    if (changes.ipv6 === "false")
        add("queued-message-over-ipv4", queuedFrom === LAB.server.v4, `delivered from ${queuedFrom || "(nowhere)"}`);

    // The new configuration, graded against the new zones.
    const cases: ToGrade[] = await sendOutbound(lab, prefix);
    const forward = await sendForward(lab, `${prefix}forward`);
    const fromRelayNetwork = changes.relayNetworks ? await sendFromRelayNetwork(lab, add, prefix) : [];
    const graded = await gradeMessages(lab, [...cases, forward, ...fromRelayNetwork]);
    for (const [id, g] of graded) {
        const failed = g.verdicts.filter((v) => !v.pass);
        add(
            `graded-${id}`,
            !g.error && failed.length === 0,
            g.error ??
                (failed.length > 0
                    ? failed.map((v) => `${v.property}: ${v.evidence}`).join("; ")
                    : g.verdicts.map((v) => v.property).join(", ")),
        );
    }
    observePositive(lab, graded);
    if (changes.dmarcPolicy) checkDmarcPolicy(add, graded, changes.dmarcPolicy);
    if (changes.operatorEmail) checkOperator(add, received(lab).get(`${prefix}forward`) ?? [], changes.operatorEmail);
    if (changes.dkimSelector) await checkSelectorChange(lab, add, prefix, before, changes.dkimSelector);
    if (changes.extraDomains) await checkDomainsRotation(lab, add, prefix, JSON.parse(changes.extraDomains) as string[]);
    if (changes.ipv6 === "false") await checkNoIpv6(lab, add, prefix);
    if (changes.ipv6 === "true") await checkIpv6(lab, add, prefix);
    if (changes.mailboxes || changes.mailboxPasswords) await checkLogins(lab, add, before);
    if (changes.mailboxes) await checkQuota(lab, add);
    if (changes.smarthost) checkSmarthost(lab, add, prefix, [...cases.map((c) => c.id), `${prefix}forward`]);
}

/**
 * After relayNetworks lists the application server: it sends as the mail domain through port 25
 * without logging in, and the message reaches the MX signed (graded with the others); the outside
 * client, not in the list, is refused the same send (the control, on the same server).
 */
async function sendFromRelayNetwork(lab: Lab, add: Add, prefix: string): Promise<ToGrade[]> {
    const id = `${prefix}relay-network`;
    const from = `app@${LAB.server.domain}`;
    const file = join(lab.work, `${id}.eml`);
    writeFileSync(file, message({ caseId: id, from, to: LAB.operator, subject: `lab ${id}`, withIds: true, crlf: true }));
    const send = (netns: string, helo: string) =>
        smtp(netns, {
            host: LAB.server.v4,
            helo,
            starttls: true,
            servername: lab.plan.hostname,
            from,
            to: [LAB.operator],
            dataFile: file,
        });
    const app = await send(LAB.app.netns, LAB.app.name);
    add(
        "relay-network-accepted",
        app.dataEnd?.code === 250,
        `from ${LAB.app.v4}: ${app.dataEnd?.lines.join(" ") ?? app.rcpt?.[0]?.lines.join(" ") ?? app.mail?.lines.join(" ") ?? app.error}`,
    );
    const stranger = await send(LAB.client.netns, LAB.client.name);
    const refusal = [stranger.mail, ...(stranger.rcpt ?? [])].find((r) => r && r.code >= 500);
    add(
        "relay-network-others-refused",
        refusal !== undefined && stranger.dataEnd === undefined,
        `the same message from ${LAB.client.v4}: ${refusal?.lines.join(" ") ?? stranger.dataEnd?.lines.join(" ") ?? stranger.error}`,
    );
    try {
        const at = await waitReceived(lab, id, 90_000);
        // From the server itself (either family), not through anything else.
        add(
            "relay-network-delivered",
            [LAB.server.v4, LAB.server.v6].includes(at.session.ip),
            `reached the MX from ${at.session.ip} (the server)`,
        );
    } catch (error) {
        add("relay-network-delivered", false, (error as Error).message);
    }
    return [{ id }];
}

/**
 * After a smarthost is set: each message sent after the change reached the MX from the relay, and
 * the relay took it from the server, logged in with the plan's user, over TLS (its log, observed
 * at the relay: Postfix verified the relay's certificate, or it would not have sent the login).
 */
export function checkSmarthost(lab: Lab, add: Add, prefix: string, ids: readonly string[]): void {
    const file = join(lab.out, "relay", "relayed.jsonl");
    const relayed = existsSync(file)
        ? readFileSync(file, "utf8")
              .split("\n")
              .filter((line) => line !== "")
              .map((line) => JSON.parse(line) as Relayed)
        : [];
    const copies = received(lab);
    for (const id of ids) {
        const at = copies.get(id)?.[0];
        add(
            `${id.slice(prefix.length)}-from-relay`,
            at?.session.ip === LAB.relay.v4,
            at ? `reached the MX from ${at.session.ip} helo=${at.session.helo}` : "never arrived",
        );
    }
    const servers = [LAB.server.v4, LAB.server.v6];
    const bad = relayed.filter((r) => r.user !== LAB.relay.login.user || !r.tls || !servers.includes(r.clientIp));
    add(
        "relay-login",
        relayed.length >= ids.length && bad.length === 0,
        `${relayed.length} messages relayed (${ids.length} sent); ${
            bad.length > 0
                ? `not as ${LAB.relay.login.user} over TLS from the server: ${JSON.stringify(bad[0])}`
                : `each from the server, as ${LAB.relay.login.user}, over TLS`
        }`,
    );
}

/**
 * After a change of mailboxes or passwords: every mailbox of the new plan logs in over IMAPS with
 * its password, and a password the change replaced (or a mailbox it removed) no longer does.
 */
async function checkLogins(lab: Lab, add: Add, before: Plan): Promise<void> {
    for (const user of lab.plan.mailboxes) {
        const r = await imap(lab, { mode: "read", port: 993, user: user.address, pass: user.password });
        add(`login-${user.address}`, r.loggedIn === true, r.error ?? "logged in with the plan's password");
    }
    for (const old of before.mailboxes) {
        const now = lab.plan.mailboxes.find((m) => m.address === old.address);
        if (now?.password === old.password) continue;
        const r = await imap(lab, { mode: "read", port: 993, user: old.address, pass: old.password });
        add(
            `old-login-refused-${old.address}`,
            r.loggedIn === false,
            `${now ? "password changed" : "mailbox removed"}: ${r.error ?? "logged in (it should not)"}`,
        );
    }
}

/** The host's Postfix identity: `<myhostname> <inet_protocols>`, as the running configuration has it. */
async function postfixIdentity(lab: Lab): Promise<string> {
    return (await container.exec(server(lab), "postconf -h myhostname inet_protocols")).stdout.trim().split("\n").join(" ");
}

/** A plan's host name (its bundle's) and whether it uses IPv6. */
interface Identity {
    readonly name: string;
    readonly ipv6: boolean;
}

/** Read from the plan as loaded: its files are overwritten by the next plan of the same stack. */
function identityOf(plan: Plan): Identity {
    return { name: plan.hostname, ipv6: plan.outputs.ipv6 !== undefined };
}

/**
 * What the host must use after each stage, as `<myhostname> <inet_protocols>`: prepare gives up
 * what the change removes and holds what it adds (a new name holds everything); commit has it all.
 */
export function stagedIdentity(before: Identity, after: Identity): { atPrepare: string; atCommit: string } {
    const protocols = (ipv6: boolean) => (ipv6 ? "all" : "ipv4");
    const renamed = before.name !== after.name;
    const atPrepare = renamed ? `${before.name} ${protocols(before.ipv6)}` : `${after.name} ${protocols(before.ipv6 && after.ipv6)}`;
    return { atPrepare, atCommit: `${after.name} ${protocols(after.ipv6)}` };
}

export type Add = (name: string, pass: boolean, evidence: string) => void;

/**
 * The receiver's DMARC evaluation of the server's own mail sent after the change reads the new
 * policy from DNS (a forward is evaluated against its author's domain, not ours).
 */
export function checkDmarcPolicy(add: Add, graded: ReadonlyMap<string, Graded>, policy: string): void {
    const seen = [...graded.values()]
        .map((g) => (g.auth as { dmarc?: { policy?: string; domain?: string } } | undefined)?.dmarc)
        .filter((d) => d?.domain === LAB.server.domain)
        .map((d) => d?.policy ?? "(none)");
    add(
        "dmarc-policy-served",
        seen.length > 0 && seen.every((p) => p === policy),
        `the receiver's DMARC evaluations read p=${[...new Set(seen)].join(",") || "(none)"}; ${policy} wanted`,
    );
}

/** Mail to postmaster@ after the change reaches the new operator address (the receiver's RCPT TO). */
export function checkOperator(add: Add, copies: readonly { session: { rcptTo: readonly string[] } }[], operator: string): void {
    const recipients = copies.flatMap((c) => c.session.rcptTo);
    add(
        "operator-receives",
        copies.length > 0 && recipients.every((r) => r.toLowerCase() === operator.toLowerCase()),
        `postmaster@ forwarded to ${recipients.join(", ") || "(nothing arrived)"}; ${operator} wanted`,
    );
}

/** Mail after a selector change is signed with the new selector; both selectors are published. */

async function checkSelectorChange(lab: Lab, add: Add, prefix: string, before: Plan, selector: string): Promise<void> {
    const after = received(lab).get(`${prefix}sendmail-v4`)?.[0];
    const signature = after ? /DKIM-Signature:[\s\S]*?\bs=([^;\s]+)/i.exec(readFileSync(after.eml, "latin1"))?.[1] : undefined;
    add("signed-with-new-selector", signature === selector, `mail sent after the change carries s=${signature ?? "(none)"}`);
    const oldSelector = /^([^.]+)\._domainkey\./.exec(
        [...before.zones.flatMap((z) => z.records)].find((r) => r.owner.endsWith(`._domainkey.${LAB.server.domain}.`))?.owner ?? "",
    )?.[1];
    for (const name of [selector, oldSelector]) {
        const dig = await inNamespace(LAB.client.netns, "dig", ["+short", "TXT", `${name}._domainkey.${LAB.server.domain}`], {
            allowFail: true,
        });
        add(`selector-${name}-published`, /v=DKIM1/.test(dig.stdout), dig.stdout.slice(0, 120) || "no record");
    }
}

/** With IPv6 off, no message leaves over IPv6: over a dual-stack MX it goes over IPv4, to an IPv6-only MX not at all. */
async function checkNoIpv6(lab: Lab, add: Add, prefix: string): Promise<void> {
    const host = server(lab);
    const protocols = await container.exec(host, "postconf -h inet_protocols");
    add("postfix-ipv4-only", protocols.stdout.trim() === "ipv4", `inet_protocols = ${protocols.stdout.trim()}`);
    await serveZones(lab, { mxFamily: 6 });
    await sleep(2500);
    await container.exec(host, `/usr/sbin/sendmail -i -f ${FROM} ${LAB.operator}`, {
        input: message({ caseId: `${prefix}v6-only-mx`, from: FROM, to: LAB.operator, subject: "lab v6-only-mx", withIds: false }),
    });
    await sleep(20_000);
    const leaked = received(lab).get(`${prefix}v6-only-mx`);
    add(
        "nothing-over-ipv6",
        !leaked,
        leaked ? `delivered from ${leaked[0].session.ip}` : "to an IPv6-only MX nothing left in 20 s (it waits in the queue)",
    );
    await serveZones(lab, { mxFamily: undefined });
    await container.exec(host, "postsuper -d ALL", { allowFail: true });
}

/** With IPv6 back on, mail to an IPv6-only MX leaves from the host's IPv6 address and passes SPF, PTR and DKIM there. */
async function checkIpv6(lab: Lab, add: Add, prefix: string): Promise<void> {
    const host = server(lab);
    const protocols = await container.exec(host, "postconf -h inet_protocols");
    add("postfix-ipv6", protocols.stdout.trim() === "all", `inet_protocols = ${protocols.stdout.trim()}`);
    await serveZones(lab, { mxFamily: 6 });
    await sleep(2500);
    const id = `${prefix}v6-only-mx`;
    await container.exec(host, `/usr/sbin/sendmail -i -f ${FROM} ${LAB.operator}`, {
        input: message({ caseId: id, from: FROM, to: LAB.operator, subject: `lab ${id}`, withIds: false }),
    });
    try {
        const got = await waitReceived(lab, id, 90_000);
        const graded = (await gradeMessages(lab, [{ id, options: { addedFields: ["message-id", "date"] } }])).get(id);
        const failed = graded?.verdicts.filter((v) => !v.pass) ?? [];
        add(
            "over-ipv6-graded",
            got.session.ip === LAB.server.v6 && !!graded && !graded.error && failed.length === 0,
            `delivered from ${got.session.ip}; ${graded?.error ?? (failed.map((v) => `${v.property}: ${v.evidence}`).join("; ") || "all pass")}`,
        );
    } catch (error) {
        add("over-ipv6-graded", false, (error as Error).message);
    }
    await serveZones(lab, { mxFamily: undefined });
}

/**
 * A bundle that fails its checks (an unknown Postfix parameter): the applier exits non-zero,
 * the current release stays, and mail still flows, graded all-pass.
 */
export async function failedApply(lab: Lab): Promise<void> {
    const add = (name: string, pass: boolean, evidence: string) => lab.report.add("apply", `failed-bundle-${name}`, pass, evidence);
    log("a bundle that fails its checks ...");
    const host = server(lab);
    const release = (await container.exec(host, "readlink /etc/mailserver/current")).stdout.trim();
    const broken = editedBundle(lab, "/etc/postfix/main.cf", (c) => setParameter(c, "smtpd_milter", "unix:/nowhere"));
    const ok = await applyPlan(lab, lab.plan, "apply:failed-bundle", { bundle: broken, expect: "failure" });
    add("refused", !ok, ok ? "the broken bundle was applied" : "the applier exited non-zero (pulumi up fails loudly)");
    const after = (await container.exec(host, "readlink /etc/mailserver/current")).stdout.trim();
    const mainCf = (await container.exec(host, "grep -c '^smtpd_milter =' /etc/postfix/main.cf", { allowFail: true })).stdout.trim();
    add(
        "old-configuration-stays",
        after === release && mainCf === "0",
        `current release ${release} → ${after}; live main.cf has ${mainCf} smtpd_milter line(s)`,
    );
    const id = "after-failed-apply";
    await container.exec(host, `/usr/sbin/sendmail -i -f ${FROM} ${LAB.operator}`, {
        input: message({ caseId: id, from: FROM, to: LAB.operator, subject: `lab ${id}`, withIds: false }),
    });
    try {
        await waitReceived(lab, id, 90_000);
        const graded = (await gradeMessages(lab, [{ id, options: { addedFields: ["message-id", "date"] } }])).get(id);
        const failed = graded?.verdicts.filter((v) => !v.pass) ?? [];
        add(
            "mail-still-flows",
            !!graded && !graded.error && failed.length === 0,
            graded?.error ?? (failed.map((v) => `${v.property}: ${v.evidence}`).join("; ") || "graded all-pass"),
        );
    } catch (error) {
        add("mail-still-flows", false, (error as Error).message);
    }
}
