/**
 * Faults the server must survive, each a section "fault:<name>" and a property with its own
 * negative control: the same fault with the mechanism that copes with it removed, which must fail.
 *
 * - dns-late: the host's A/AAAA appear a minute after boot. The applier and the certificate script
 *   wait for them on the authoritative servers; Pebble must see no failed validation (each would
 *   count against Let's Encrypt's failed-validation limit) and the first message the host sends
 *   passes FCrDNS. Controls: the applier's wait removed (the first message fails FCrDNS); both
 *   waits removed (Pebble refuses a validation).
 * - acme-down: the ACME server is down while the host is configured and at the timer's first run.
 *   Postfix serves the temporary certificate; the real one arrives by the timer's retry. Control:
 *   the retry pushed out of reach.
 * - opendkim-down: the milter stopped. Mail waits; it never leaves unsigned. Control:
 *   milter_default_action = accept, which lets it leave unsigned.
 * - reboot: a message in flight while the host reboots. Services return; it is delivered.
 *   Control: Postfix disabled, so it does not return.
 * - renewal: certbot's own timer renews the (short-lived) certificate; the deploy hook reloads
 *   Postfix; the new certificate is served. Control: the deploy hook removed.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RETRY_INTERVAL } from "../components/host/certificate";
import { PATHS } from "../components/host/paths";
import * as container from "./container";
import { editedBundle, setParameter } from "./controls";
import { applyPlan, deploy, freshBoot } from "./deployment";
import { gradeMessages, type Lab, probeTls, received, server, serveZones, waitForRealCert, waitReceived } from "./lab";
import { message, pySmtpSubmit } from "./messages";
import { failedValidations, startPebble } from "./services";
import { log, now, sleep, stopBackground, systemdSeconds, waitFor } from "./sys";
import { LAB } from "./topology";

export const FAULTS = ["opendkim-down", "reboot", "renewal", "dns-late", "acme-down"] as const;
export type Fault = (typeof FAULTS)[number];

const FROM = `lab@${LAB.server.domain}`;
const sendmail = (lab: Lab, id: string) =>
    container.exec(server(lab), `/usr/sbin/sendmail -i -f ${FROM} ${LAB.operator}`, {
        input: message({ caseId: id, from: FROM, to: LAB.operator, subject: `lab ${id}`, withIds: false }),
        allowFail: true,
    });
/** How many times the certificate service has failed on the server since it booted. */
const failedCertAttempts = async (lab: Lab) =>
    Number(
        (
            await container.exec(server(lab), `journalctl -b -o cat -u ${PATHS.certUnit}.service | grep -c "Failed with result" || true`, {
                allowFail: true,
            })
        ).stdout.trim() || 0,
    );

/** The certificate timer has elapsed at least once since boot and no attempt is running now. */
const certTimerSpent = async (lab: Lab) => {
    const [triggered, state] = (
        await container.exec(
            server(lab),
            `systemctl show -p LastTriggerUSecMonotonic --value ${PATHS.certUnit}.timer; systemctl is-active ${PATHS.certUnit}.service`,
            { allowFail: true },
        )
    ).stdout
        .trim()
        .split("\n");
    return triggered !== "0" && triggered !== "" && state !== "activating" && state !== "active";
};

const queued = async (lab: Lab) =>
    Number(
        (
            await container.exec(
                server(lab),
                "find /var/spool/postfix/maildrop /var/spool/postfix/incoming /var/spool/postfix/active /var/spool/postfix/deferred -type f | wc -l",
                {
                    allowFail: true,
                },
            )
        ).stdout.trim() || 0,
    );

export async function runFaults(lab: Lab, faults: readonly Fault[]): Promise<void> {
    for (const fault of FAULTS) {
        if (!faults.includes(fault)) continue;
        log(`fault: ${fault} ...`);
        const started = now();
        try {
            await SCENARIOS[fault](lab, `fault:${fault}`);
        } catch (error) {
            lab.report.add(`fault:${fault}`, "ran-to-end", false, String((error as Error).stack ?? error));
        }
        lab.report.time(`fault-${fault}`, now() - started);
    }
}

/** With the milter stopped, a message is held and nothing leaves unsigned; `kind` says which run this is. */
async function milterDown(lab: Lab, section: string, id: string, kind: "positive" | "negative"): Promise<void> {
    const host = server(lab);
    await container.exec(host, "systemctl stop opendkim");
    await sendmail(lab, id);
    const smtpId = `${id}-smtp`;
    const submitted = await container.exec(host, pySmtpSubmit(FROM, LAB.operator), {
        input: message({ caseId: smtpId, from: FROM, to: LAB.operator, subject: `lab ${smtpId}`, withIds: true, crlf: true }),
        allowFail: true,
    });
    await sleep(20_000);
    const early = [...(received(lab).get(id) ?? []), ...(received(lab).get(smtpId) ?? [])];
    const unsigned = early.filter((m) => !/^DKIM-Signature:/im.test(readFileSync(m.eml, "latin1")));
    const held = early.length === 0 && (await queued(lab)) >= 1;
    const evidence = `while OpenDKIM was down: ${early.length} message(s) left (${unsigned.length} unsigned); SMTP submission ${submitted.code === 0 ? "accepted" : `refused (${submitted.stderr.trim().split("\n").pop()})`}`;
    lab.report.observe(
        "fault:opendkim-down",
        kind,
        section,
        kind === "positive" ? held && unsigned.length === 0 : unsigned.length > 0,
        evidence,
    );
    await container.exec(host, "systemctl start opendkim");
}

const SCENARIOS: Record<Fault, (lab: Lab, section: string) => Promise<void>> = {
    async "opendkim-down"(lab, section) {
        await milterDown(lab, section, "milter-down", "positive");
        try {
            const started = now();
            await waitReceived(lab, "milter-down", 240_000);
            lab.report.add(
                section,
                "delivered-signed-after-restart",
                /^DKIM-Signature:/im.test(readFileSync((received(lab).get("milter-down") ?? [])[0].eml, "latin1")),
                `delivered ${(now() - started).toFixed(0)} s after OpenDKIM came back, signed`,
            );
        } catch (error) {
            lab.report.add(section, "delivered-signed-after-restart", false, (error as Error).message);
        }
        const open = editedBundle(lab, "/etc/postfix/main.cf", (c) => setParameter(c, "milter_default_action", "accept"));
        if (await applyPlan(lab, lab.plan, `${section}:control`, { bundle: open })) {
            await milterDown(lab, "milter_default_action = accept", "milter-down-open", "negative");
            await applyPlan(lab, lab.plan, `${section}:restore`);
        }
    },

    async reboot(lab, section) {
        const attempt = async (id: string, deliveryMs: number) => {
            const stall = join(lab.out, "receiver.stall");
            writeFileSync(stall, "stall\n");
            try {
                await sendmail(lab, id);
                await waitFor(
                    "the server to connect to the stalled MX",
                    () => /stalling session/.test(readFileSync(join(lab.out, "receiver.log"), "utf8")),
                    60_000,
                    300,
                );
                const inQueue = await queued(lab);
                const code = await container.reboot(server(lab), lab.repoDir, join(lab.out, `console-${id}.log`));
                rmSync(stall, { force: true });
                let state = "";
                for (let i = 0; i < 60 && !["running", "degraded"].includes(state); i++) {
                    state = (
                        await container.exec(server(lab), "systemctl is-system-running --wait", { allowFail: true, timeoutMs: 180_000 })
                    ).stdout.trim();
                    if (!state) await sleep(1000);
                }
                const units = await container.exec(
                    server(lab),
                    "for u in postfix opendkim postsrsd; do printf '%s=%s ' $u $(systemctl is-active $u); done",
                    { allowFail: true },
                );
                let delivered = false;
                try {
                    await waitReceived(lab, id, deliveryMs);
                    delivered = true;
                } catch {
                    delivered = false;
                }
                return { inQueue, code, state, units: units.stdout.trim(), delivered };
            } finally {
                rmSync(stall, { force: true });
            }
        };
        const started = now();
        const r = await attempt("reboot-queued", 180_000);
        lab.report.time("reboot-to-delivered", now() - started);
        lab.report.observe(
            "fault:reboot",
            "positive",
            section,
            r.inQueue >= 1 &&
                r.code === 133 &&
                r.state === "running" &&
                /postfix=active opendkim=active postsrsd=active/.test(r.units) &&
                r.delivered,
            `${r.inQueue} queued; systemd-nspawn exited ${r.code} (133 = reboot); system ${r.state}; ${r.units}; delivered after the reboot: ${r.delivered}`,
        );
        const t = await probeTls(lab);
        lab.report.add(
            section,
            "certificate-after-reboot",
            !!t.cert?.authorized,
            t.cert ? `issuer=${t.cert.issuer} verified=${t.cert.authorized}` : (t.error ?? ""),
        );
        await container.exec(server(lab), "systemctl disable postfix");
        const control = await attempt("reboot-without-postfix", 60_000);
        lab.report.observe(
            "fault:reboot",
            "negative",
            "Postfix disabled before the reboot",
            !control.delivered && !/postfix=active/.test(control.units),
            `${control.units}; delivered: ${control.delivered}`,
        );
        await container.exec(server(lab), "systemctl enable --now postfix");
        await waitReceived(lab, "reboot-without-postfix", 120_000).catch(() => undefined);
    },

    async renewal(lab, section) {
        const host = server(lab);
        const before = (await probeTls(lab)).cert;
        // Lab-only: certbot's own timer, run every 30 s instead of twice a day (its unit is unchanged).
        // The certificates certbot has issued for the host (cert1.pem, cert2.pem…): a renewal adds one.
        const issued = async () =>
            Number(
                (
                    await container.exec(host, `ls /etc/letsencrypt/archive/${lab.plan.hostname}/ | grep -c '^cert'`, { allowFail: true })
                ).stdout.trim() || 0,
            );
        const renewNow = async () => {
            const count = await issued();
            await container.exec(
                host,
                "mkdir -p /run/systemd/system/certbot.timer.d && printf '[Timer]\\nOnCalendar=\\nOnCalendar=*:*:0/30\\nRandomizedDelaySec=0\\n' > /run/systemd/system/certbot.timer.d/lab.conf && systemctl daemon-reload && systemctl restart certbot.timer",
            );
            const t0 = now();
            await waitFor("certbot's timer to renew the certificate", async () => (await issued()) > count, 180_000, 3000);
            await container.exec(
                host,
                "rm -rf /run/systemd/system/certbot.timer.d && systemctl daemon-reload && systemctl restart certbot.timer",
            );
            return now() - t0;
        };
        // Postfix's master logs "reload -- version …" for each reload: the deploy hook's doing.
        const reloads = async () =>
            Number(
                (
                    await container.exec(host, "journalctl -b -o cat -t postfix/master | grep -c '^reload' || true", { allowFail: true })
                ).stdout.trim() || 0,
            );
        // A configuration run starts mailserver-cert.service, which reloads Postfix once it has a
        // certificate: wait until it has run, so that only the renewal's reloads are counted.
        const settled = () =>
            waitFor(
                `${PATHS.certUnit}.service to finish`,
                async () =>
                    !["active", "activating", "reloading"].includes(
                        (await container.exec(host, `systemctl is-active ${PATHS.certUnit}.service`, { allowFail: true })).stdout.trim(),
                    ),
                120_000,
                1000,
            );
        await settled();
        const reloadsBefore = await reloads();
        const seconds = await renewNow();
        // The deploy hook reloads Postfix right after certbot writes the new certificate.
        const afterCert = await waitFor(
            "Postfix to serve the renewed certificate",
            async () => {
                const cert = (await probeTls(lab)).cert;
                return cert && cert.fingerprint256 !== before?.fingerprint256 ? cert : undefined;
            },
            30_000,
            1000,
        ).catch(() => undefined);
        const reloaded = (await reloads()) - reloadsBefore;
        lab.report.observe(
            "fault:renewal",
            "positive",
            section,
            !!before && !!afterCert && afterCert.authorized && afterCert.fingerprint256 !== before.fingerprint256 && reloaded >= 1,
            `renewed by certbot.timer ${seconds.toFixed(0)} s after it was set to run; Postfix reloaded ${reloaded} time(s); served certificate ${before?.fingerprint256.slice(0, 17)}… → ${afterCert?.fingerprint256.slice(0, 17)}… (valid until ${afterCert?.validTo}), verified=${afterCert?.authorized}`,
        );
        const withoutHook = editedBundle(
            lab,
            "/etc/letsencrypt/renewal-hooks/deploy/mailserver-postfix",
            () => "#!/bin/sh\n# the lab's control: no reload\n",
        );
        if (await applyPlan(lab, lab.plan, `${section}:control`, { bundle: withoutHook })) {
            // Without the hook nothing reloads Postfix; new smtpd processes still read the renewed
            // file when they start, so what is served is evidence, the reload is the verdict.
            await settled();
            const controlBefore = await reloads();
            const renewedIn = await renewNow().catch(() => undefined);
            await sleep(10_000);
            const controlReloads = (await reloads()) - controlBefore;
            const still = (await probeTls(lab)).cert;
            lab.report.observe(
                "fault:renewal",
                "negative",
                "no deploy hook",
                renewedIn !== undefined && controlReloads === 0,
                `renewed: ${renewedIn !== undefined}; Postfix reloaded ${controlReloads} time(s) in the 10 s after; it serves ${still?.fingerprint256.slice(0, 17)}…`,
            );
            await applyPlan(lab, lab.plan, `${section}:restore`);
        }
    },

    async "dns-late"(lab, section) {
        // When the host's addresses come: 60 s after boot whatever the host does (the positive);
        // only after the first message it sends has been graded; or only once Pebble has refused a
        // validation (or after 240 s), so no outcome hangs on how long a busy machine takes.
        type Publish = "after-60s" | "after-first-message" | "after-refusal";
        const run = async (tag: string, publishAt: Publish, bundle?: Buffer) => {
            const seen = failedValidations(lab.pebble.logFile).length;
            await serveZones(lab, { withoutAddressesOf: [lab.plan.hostname] });
            const booted = await freshBoot(lab, tag);
            const started = now();
            const publish = async () => serveZones(lab, { withoutAddressesOf: [] });
            const published = publishAt === "after-60s" ? sleep(60_000).then(publish) : Promise.resolve();
            const applied = await applyPlan(lab, lab.plan, `${section}:${tag}`, { bundle });
            // The first message the configured host sends, graded on arrival (as a receiver would).
            await sendmail(lab, `${tag}-first`);
            const first = await waitReceived(lab, `${tag}-first`, 120_000)
                .then(async () => (await gradeMessages(lab, [{ id: `${tag}-first` }])).get(`${tag}-first`))
                .catch((error: Error) => ({ verdicts: [], error: error.message }));
            const fcrdns = first?.verdicts.find((v) => v.property === "fcrdns");
            if (publishAt === "after-first-message") await publish();
            await published;
            if (publishAt === "after-refusal")
                await waitFor(
                    "Pebble to refuse a validation",
                    async () => failedValidations(lab.pebble.logFile).length > seen,
                    240_000,
                    2000,
                ).catch(() => undefined);
            const certified =
                publishAt === "after-refusal"
                    ? undefined
                    : await waitForRealCert(lab, 420_000).then(
                          () => true,
                          () => false,
                      );
            // Every record back (serveZones keeps earlier options: the addresses must be named back too).
            await serveZones(lab, { without: new Set(), withoutAddressesOf: [] });
            const failures = failedValidations(lab.pebble.logFile).slice(seen);
            const firstMessage = fcrdns
                ? `first message fcrdns ${fcrdns.pass ? "pass" : "fail"} (${fcrdns.evidence})`
                : `first message: ${first?.error ?? "not graded"}`;
            return { booted: booted.ok, applied, certified, seconds: now() - started, failures, fcrdns: fcrdns?.pass, firstMessage };
        };
        const r = await run("dns-late", "after-60s");
        lab.report.observe(
            "fault:dns-late",
            "positive",
            section,
            r.booted && r.applied && r.certified === true && r.failures.length === 0 && r.fcrdns === true,
            `records published 60 s after boot; configured: ${r.applied}; certificate: ${r.certified} (${r.seconds.toFixed(0)} s); failed ACME validations: ${r.failures.length}; ${r.firstMessage}`,
        );
        // Control 1: the applier's wait for the host's addresses removed (the certificate script's
        // kept). The host takes on its name before it resolves: its first message fails FCrDNS at
        // the receiver, while the certificate script's own wait still spares Pebble a failed validation.
        const noApplierWait = (bundle: Buffer) => {
            const edited = JSON.parse(bundle.toString()) as { payload: { waitFor: Array<{ type: string }> } };
            edited.payload.waitFor = edited.payload.waitFor.filter((w) => w.type === "TXT");
            return Buffer.from(JSON.stringify(edited));
        };
        const a = await run("dns-late-applier", "after-first-message", noApplierWait(readFileSync(lab.plan.apply.bundleFile)));
        lab.report.observe(
            "fault:dns-late",
            "negative",
            "the applier's wait removed",
            a.booted && a.applied && a.fcrdns === false && a.certified === true && a.failures.length === 0,
            `configured: ${a.applied}; ${a.firstMessage}; certificate: ${a.certified}; failed ACME validations: ${a.failures.length}`,
        );
        // Control 2: the certificate script's wait removed too: certbot asks before the name points
        // here, and Pebble refuses (Let's Encrypt would count it against its failed-validation limit).
        // Removing only the script's wait changes nothing on this path: the applier waits first.
        const impatient = noApplierWait(
            editedBundle(lab, "/usr/local/sbin/mailserver-cert", (script) => script.replace(/until points_here; do/, "until true; do")),
        );
        const c = await run("dns-late-control", "after-refusal", impatient);
        lab.report.observe(
            "fault:dns-late",
            "negative",
            "both waits removed",
            c.booted && c.applied && c.failures.length > 0,
            `configured: ${c.applied}; failed ACME validations: ${c.failures.length}: ${c.failures.slice(0, 2).join(" | ")}`,
        );
        await deploy(lab, "after-dns-late");
    },

    async "acme-down"(lab, section) {
        // Pebble stays down through the configuration step's own attempts (one per stage) and the
        // timer's first (OnBootSec) one; it comes back only after all failed, so the certificate can only come
        // by the timer's retry (OnUnitInactiveSec, every RETRY_INTERVAL).
        const retrySeconds = systemdSeconds(RETRY_INTERVAL);
        // The positive waits for up to two retries; the control for one retry and a minute more,
        // by when the retry would long have got the certificate.
        const run = async (tag: string, waitSeconds: number, bundle?: Buffer) => {
            await stopBackground(lab.pebble.process);
            const booted = await freshBoot(lab, tag);
            const applied = await applyPlan(lab, lab.plan, `${section}:${tag}`, { bundle });
            await serveZones(lab, { without: new Set() });
            const temporary = await probeTls(lab);
            // Each stage of the configuration step starts an attempt, and the timer's first elapse
            // (OnBootSec, or at once when started later) may come before or after them: wait until
            // it has elapsed and no attempt is running, so only the retry is left.
            const failedBefore = await waitFor(
                "the configuration step's attempts and the timer's first to have failed",
                async () => ((await certTimerSpent(lab)) && (await failedCertAttempts(lab)) >= 2 ? failedCertAttempts(lab) : undefined),
                180_000,
                2000,
            ).catch(() => failedCertAttempts(lab));
            lab.pebble = await startPebble(join(lab.work, "pebble"), lab.certs, lab.pebble.logFile);
            const started = now();
            const certified = await waitForRealCert(lab, waitSeconds * 1000).then(
                () => true,
                () => false,
            );
            return { booted: booted.ok, applied, temporary, failedBefore, certified, seconds: now() - started };
        };
        const r = await run("acme-down", 2 * retrySeconds + 60);
        const temp = r.temporary;
        lab.report.add(
            section,
            "postfix-up-with-temporary-certificate",
            temp.banner?.code === 220 && !!temp.cert && !temp.cert.authorized,
            temp.cert
                ? `banner ${temp.banner?.lines[0]}; certificate ${temp.cert.subject} from ${temp.cert.issuer}`
                : (temp.error ?? "no TLS"),
        );
        lab.report.observe(
            "fault:acme-down",
            "positive",
            section,
            r.booted && r.applied && r.failedBefore >= 2 && r.certified,
            `${r.failedBefore} attempts failed while Pebble was down; Pebble back; certificate by the timer's retry: ${r.certified} (${r.seconds.toFixed(0)} s later; retry interval ${retrySeconds} s)`,
        );
        // The control: the timer keeps its first run but its retry is pushed out of reach.
        const noRetry = editedBundle(lab, `/etc/systemd/system/${PATHS.certUnit}.timer`, (timer) =>
            timer.replace(/^OnUnitInactiveSec=.*$/m, "OnUnitInactiveSec=30d"),
        );
        const controlWait = retrySeconds + 60;
        const c = await run("acme-down-control", controlWait, noRetry);
        lab.report.observe(
            "fault:acme-down",
            "negative",
            "the timer's retry removed (OnUnitInactiveSec=30d)",
            c.booted && c.applied && c.failedBefore >= 2 && !c.certified,
            `configured: ${c.applied}; ${c.failedBefore} attempts failed while Pebble was down; certificate within ${controlWait} s of Pebble's return: ${c.certified}`,
        );
        await deploy(lab, "after-acme-down");
    },
};
