// Faults the server must survive, each a section "fault:<name>" of the report.
import { writeFileSync, rmSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { log, now, sleep, stopBg, waitFor } from "./sys.js";
import { LAB } from "./topology.js";
import * as ct from "./container.js";
import { message, PY_SMTP_SUBMIT } from "./messages.js";
import { startNsd, startPebble } from "./services.js";
import { Lab, waitReceived, received, gradeAll, freshBoot, waitForRealCert, probeTls } from "./lab.js";

export const FAULTS = ["opendkim-down", "reboot", "dns-late", "acme-down"] as const;
export type Fault = (typeof FAULTS)[number];

const FROM = `lab@${LAB.server.domain}`;
const sendmail = (l: Lab, id: string) =>
    ct.exec(l.container, `/usr/sbin/sendmail -i -f ${FROM} ${LAB.operator}`, {
        input: message({ caseId: id, from: FROM, to: LAB.operator, subject: `lab ${id}`, withIds: false }),
        allowFail: true,
    });
const queued = async (l: Lab) =>
    Number(
        (
            await ct.exec(
                l.container,
                "find /var/spool/postfix/maildrop /var/spool/postfix/incoming /var/spool/postfix/active /var/spool/postfix/deferred -type f | wc -l",
                { allowFail: true },
            )
        ).stdout.trim() || 0,
    );

export async function runFaults(l: Lab, faults: Set<Fault>) {
    for (const f of FAULTS) {
        if (!faults.has(f)) continue;
        log(`fault scenario ${f} ...`);
        const t0 = now();
        try {
            await SCENARIOS[f](l, `fault:${f}`);
        } catch (e) {
            l.report.add(`fault:${f}`, "ran-to-end", false, String((e as Error).stack ?? e));
        }
        l.report.time(`fault-${f}`, now() - t0);
    }
}

const SCENARIOS: Record<Fault, (l: Lab, s: string) => Promise<void>> = {
    /** Milter stopped: mail must wait (never leave unsigned), then leave signed once it is back. */
    async "opendkim-down"(l, s) {
        const id = "milter-down";
        await ct.exec(l.container, "systemctl stop opendkim");
        const r = await sendmail(l, id);
        l.report.add(s, "sendmail-accepts", r.code === 0, `sendmail exit ${r.code} ${r.stderr.trim()}`);
        const py = await ct.exec(l.container, PY_SMTP_SUBMIT(FROM, LAB.operator), {
            input: message({
                caseId: "milter-down-smtp",
                from: FROM,
                to: LAB.operator,
                subject: "lab milter-down smtp",
                withIds: true,
                crlf: true,
            }),
            allowFail: true,
        });
        l.report.add(
            s,
            "smtp-submission-tempfailed",
            py.code !== 0 && /\b4\d\d\b/.test(py.stderr),
            `SMTP submission while the milter is down: ${(py.stderr.trim().split("\n").pop() ?? "").slice(0, 300) || "accepted"}`,
        );
        await sleep(30000);
        const early = received(l).get(id);
        const q = await queued(l);
        l.report.add(
            s,
            "held-while-milter-down",
            !early && q >= 1,
            early
                ? `delivered while OpenDKIM was down (${early[0].eml})`
                : `not delivered after 30 s; ${q} message(s) in the server's queue`,
        );
        await ct.exec(l.container, "systemctl start opendkim");
        const t0 = now();
        try {
            await waitReceived(l, id, 240000);
            l.report.add(s, "delivered-after-restart", true, `delivered ${(now() - t0).toFixed(0)} s after OpenDKIM restarted (no flush)`);
            l.report.time("opendkim-restart-to-delivery", now() - t0);
            await gradeAll(l, [id], false, `${s} `);
        } catch (e) {
            l.report.add(s, "delivered-after-restart", false, (e as Error).message);
        }
        const unsigned = received(l).get("milter-down-smtp");
        l.report.add(
            s,
            "nothing-unsigned",
            !unsigned || unsigned.every((m) => /^DKIM-Signature:/im.test(readFileSync(m.eml, "latin1"))),
            unsigned ? `${unsigned.length} copies of the refused SMTP submission arrived` : "the tempfailed SMTP submission never arrived",
        );
    },

    /** Reboot with a message in flight: services return, the message is delivered. */
    async reboot(l, s) {
        const id = "reboot-queued";
        const stall = join(l.out, "receiver.stall");
        writeFileSync(stall, "stall\n");
        try {
            await sendmail(l, id);
            await waitFor(
                "the server to connect to the stalled MX",
                () => /stalling session/.test(readFileSync(join(l.out, "receiver.log"), "utf8")),
                60000,
                300,
            );
            const q = await queued(l);
            l.report.add(s, "queued-before-reboot", q >= 1, `${q} message(s) in the queue when rebooting`);
            const t0 = now();
            const p = l.container.proc!;
            const exited = new Promise<number | null>((r) => p.once("exit", (code) => r(code)));
            await ct.exec(l.container, "systemctl reboot", { allowFail: true });
            const code = await Promise.race([exited, sleep(120000).then(() => -1)]);
            l.report.add(s, "container-rebooted", code === 133, `systemd-nspawn exited with ${code} (133 = reboot)`);
            rmSync(stall, { force: true });
            await ct.boot(l.container, l.repoDir, join(l.out, "console-reboot.log"));
            // Right after the new boot, entering the container can precede its systemd (empty answer): retry.
            let st = await ct.exec(l.container, "systemctl is-system-running --wait", { allowFail: true, timeoutMs: 180000 });
            for (let i = 0; i < 60 && st.stdout.trim() === ""; i++) {
                await sleep(1000);
                st = await ct.exec(l.container, "systemctl is-system-running --wait", { allowFail: true, timeoutMs: 180000 });
            }
            l.report.time("reboot-to-running", now() - t0);
            const units = await ct.exec(
                l.container,
                'for u in postfix@- opendkim postsrsd; do printf "%s=%s " $u $(systemctl is-active $u); done',
                { allowFail: true },
            );
            l.report.add(
                s,
                "services-back",
                /postfix@-=active/.test(units.stdout) &&
                    /opendkim=active/.test(units.stdout) &&
                    /postsrsd=active/.test(units.stdout) &&
                    st.stdout.trim() === "running",
                `${units.stdout.trim()} system=${st.stdout.trim()}`,
            );
            await waitReceived(l, id, 240000).then(
                () => l.report.add(s, "queued-message-delivered", true, `delivered ${(now() - t0).toFixed(0)} s after the reboot began`),
                (e) => l.report.add(s, "queued-message-delivered", false, (e as Error).message),
            );
            if (received(l).get(id)) await gradeAll(l, [id], false, `${s} `);
            const t = await probeTls(l);
            l.report.add(
                s,
                "certificate-after-reboot",
                !!t.cert?.authorized,
                t.cert ? `issuer=${t.cert.issuer} verified=${t.cert.authorized}` : (t.error ?? ""),
            );
        } finally {
            rmSync(stall, { force: true });
        }
    },

    /** The host's A/AAAA appear in DNS only 60 s after boot: certbot must wait, then succeed. */
    async "dns-late"(l, s) {
        const host = LAB.server.name;
        await startNsd(l.dns, l.plan.zones, { ...l.zoneOpts, withoutAddressesOf: [host] }, join(l.out, "nsd.log"));
        const t0 = now();
        const restore = sleep(60000)
            .then(() => startNsd(l.dns, l.plan.zones, l.zoneOpts, join(l.out, "nsd.log")))
            .then(() => now() - t0);
        const ci = await freshBoot(l, "dns-late");
        l.report.add(
            s,
            "cloud-init",
            ci.ok,
            ci.ok ? `done in ${ci.seconds.toFixed(1)} s (records still absent: ${now() - t0 < 60})` : ci.errors.join(" | "),
        );
        const published = await restore;
        try {
            await waitForRealCert(l, 420000);
            const at = now() - t0;
            l.report.add(
                s,
                "certificate-after-records",
                at > published,
                `A/AAAA published ${published.toFixed(0)} s after boot; Pebble certificate served ${at.toFixed(0)} s after boot`,
            );
            l.report.time("dns-late-boot-to-cert", at);
        } catch (e) {
            l.report.add(s, "certificate-after-records", false, (e as Error).message);
        }
        const j = await ct.exec(l.container, "journalctl -u mailserver-cert --no-pager -o cat | tail -n 40", { allowFail: true });
        writeFileSync(join(l.out, "fault-dns-late-mailserver-cert.log"), j.stdout);
        if (existsSync(join(l.container.root, "var/log/cloud-init.log")))
            writeFileSync(join(l.out, "cloud-init-dns-late.log"), readFileSync(join(l.container.root, "var/log/cloud-init.log")));
    },

    /** ACME server down until cloud-init is done: Postfix runs on the temporary certificate and the
     *  real one arrives by the unit's own retry. */
    async "acme-down"(l, s) {
        if (l.pebble) await stopBg(l.pebble);
        const t0 = now();
        const ci = await freshBoot(l, "acme-down");
        l.report.add(s, "cloud-init", ci.ok, ci.ok ? `done in ${ci.seconds.toFixed(1)} s with ACME down` : ci.errors.join(" | "));
        const t = await probeTls(l);
        l.report.add(
            s,
            "postfix-up-with-temporary-cert",
            t.banner?.code === 220 && !!t.cert && !t.cert.authorized,
            t.cert
                ? `banner ${t.banner?.lines[0]}; STARTTLS certificate subject=${t.cert.subject} issuer=${t.cert.issuer} (not Pebble: ${t.cert.authorizationError})`
                : (t.error ?? "no TLS"),
        );
        const pb = await startPebble(join(l.work, "pebble"), l.certs, join(l.out, "pebble.log"));
        l.pebble = pb.proc;
        l.pebbleRoot = pb.root;
        const tp = now();
        try {
            await waitForRealCert(l, 420000);
            l.report.add(
                s,
                "certificate-by-retry",
                true,
                `Pebble started ${(tp - t0).toFixed(0)} s after boot; certificate served ${(now() - tp).toFixed(0)} s later (${(now() - t0).toFixed(0)} s after boot), nobody logged in`,
            );
            l.report.time("acme-up-to-cert", now() - tp);
        } catch (e) {
            l.report.add(s, "certificate-by-retry", false, (e as Error).message);
        }
    },
};
