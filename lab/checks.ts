// The main test sequence: inbound SMTP/TLS/relay, outbound sends, forwarding, spoof control.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { dkimSign } from "mailauth";
import { now, sleep } from "./sys.js";
import { LAB } from "./topology.js";
import * as ct from "./container.js";
import { message, PY_SMTP_SUBMIT } from "./messages.js";
import { Lab, smtp, probeTls, waitForRealCert, waitReceived, setMxFamily } from "./lab.js";
import type { Transcript } from "./smtp-client.js";

export async function checkInbound(l: Lab) {
    const fqdn = LAB.server.name.replace(/\.$/, "");
    const t0 = now();
    let t: Transcript;
    try {
        t = await waitForRealCert(l, 300000);
    } catch (e) {
        t = await probeTls(l);
        l.report.add("smtp-in", "wait-certificate", false, (e as Error).message);
    }
    l.report.time("cert-after-cloud-init", now() - t0);
    l.report.add(
        "smtp-in",
        "banner-fqdn",
        !!t.banner && t.banner.code === 220 && new RegExp(`^220[ -]${fqdn}\\b`).test(t.banner.lines[0]),
        t.banner?.lines.join(" ") ?? t.error ?? "no banner",
    );
    l.report.add(
        "smtp-in",
        "ehlo-fqdn",
        !!t.ehlo && new RegExp(`^250[ -]${fqdn}\\b`).test(t.ehlo.lines[0]),
        t.ehlo?.lines[0] ?? "no EHLO reply",
    );
    l.report.add("smtp-in", "starttls-offered", !!t.ehlo?.lines.some((x) => /^250[ -]STARTTLS/i.test(x)), t.ehlo?.lines.join(" | ") ?? "");
    const c = t.cert;
    l.report.add(
        "smtp-in",
        "certificate-pebble",
        !!c && c.authorized && /pebble/i.test(c.issuer) && c.san.split(/,\s*/).includes(`DNS:${fqdn}`),
        c
            ? `subject=${c.subject} issuer=${c.issuer} san=${c.san} verified=${c.authorized}${c.authorizationError ? ` (${c.authorizationError})` : ""} chain=${c.chainSubjects.join(" > ")} ${t.tlsProtocol}`
            : (t.error ?? "no certificate"),
    );
    const relay = await smtp(LAB.client.netns, {
        host: LAB.server.v4,
        helo: "client.example.org",
        from: "alice@example.org",
        to: ["victim@foreign.test"],
        starttls: true,
        servername: fqdn,
    });
    const rc = relay.rcpt?.[0];
    l.report.add(
        "smtp-in",
        "no-open-relay",
        !!rc && rc.code >= 500,
        rc ? `RCPT TO:<victim@foreign.test> → ${rc.lines.join(" ")}` : (relay.error ?? "no RCPT reply"),
    );
}

/** Mail from the server: local sendmail and SMTP from a mynetworks client, over IPv4 then IPv6. */
export async function sendOutbound(l: Lab) {
    const from = `lab@${LAB.server.domain}`;
    for (const fam of [4, 6] as const) {
        await setMxFamily(l, fam);
        await sleep(2500); // let Postfix's connection cache (2 s) expire
        const ids = [`sendmail-v${fam}`, `smtp-v${fam}`];
        const r1 = await ct.exec(l.container, `/usr/sbin/sendmail -i -f ${from} ${LAB.operator}`, {
            input: message({ caseId: ids[0], from, to: LAB.operator, subject: `lab ${ids[0]}`, withIds: false }),
            allowFail: true,
        });
        if (r1.code) l.report.add(ids[0], "submitted", false, `sendmail exit ${r1.code}: ${r1.stderr}`);
        const r2 = await ct.exec(l.container, PY_SMTP_SUBMIT(from, LAB.operator), {
            input: message({ caseId: ids[1], from, to: LAB.operator, subject: `lab ${ids[1]}`, withIds: true, crlf: true }),
            allowFail: true,
        });
        if (r2.code) l.report.add(ids[1], "submitted", false, `SMTP submission exit ${r2.code}: ${r2.stderr}`);
        for (const id of ids) {
            try {
                const m = await waitReceived(l, id, 90000);
                const want = fam === 4 ? LAB.server.v4 : LAB.server.v6;
                l.report.add(
                    id,
                    `delivered-over-ipv${fam}`,
                    m.json.ip === want,
                    `from ${m.json.ip} helo=${m.json.helo} <${m.json.mailFrom}>`,
                );
            } catch (e) {
                const q = await ct.exec(l.container, "postqueue -p; tail -n 20 /var/log/mail.log 2>/dev/null", { allowFail: true });
                l.report.add(id, "delivered", false, `${(e as Error).message}; queue: ${q.stdout.slice(-1200)}`);
            }
        }
    }
    await setMxFamily(l, undefined);
}

/** From outside to postmaster@: forwarded to the operator with an SRS envelope sender. */
export async function sendForward(l: Lab) {
    const id = "forward-postmaster";
    const raw = message({
        caseId: id,
        from: "alice@example.org",
        to: `postmaster@${LAB.server.domain}`,
        subject: "lab forward to postmaster",
        withIds: true,
        crlf: true,
    });
    const sig = await dkimSign(raw, {
        signatureData: [{ signingDomain: "example.org", selector: "lab", privateKey: l.clientKey, canonicalization: "relaxed/relaxed" }],
    } as any);
    if (!/^DKIM-Signature:/i.test(sig.signatures)) throw new Error(`client DKIM signing failed: ${sig.errors.join(", ")}`);
    const file = join(l.work, `${id}.eml`);
    writeFileSync(file, sig.signatures + raw);
    const t = await smtp(LAB.client.netns, {
        host: LAB.server.v4,
        helo: "client.example.org",
        starttls: true,
        servername: LAB.server.name.replace(/\.$/, ""),
        from: "alice@example.org",
        to: [`postmaster@${LAB.server.domain}`],
        dataFile: file,
    });
    l.report.add(
        id,
        "accepted-from-outside",
        t.dataEnd?.code === 250,
        t.dataEnd?.lines.join(" ") ?? t.rcpt?.map((r) => r.lines.join(" ")).join("; ") ?? t.error ?? "",
    );
    try {
        const m = await waitReceived(l, id, 90000);
        l.report.add(
            id,
            "forwarded-to-operator",
            m.json.rcptTo.includes(LAB.operator),
            `<${m.json.mailFrom}> → ${m.json.rcptTo.join(",")} from ${m.json.ip}`,
        );
    } catch (e) {
        l.report.add(id, "forwarded-to-operator", false, (e as Error).message);
    }
}

/** Negative control: mail claiming example.com sent straight to the MX from the client's IP. */
export async function sendSpoof(l: Lab) {
    const id = "neg-spf";
    const file = join(l.work, `${id}.eml`);
    writeFileSync(
        file,
        message({
            caseId: id,
            from: `spoof@${LAB.server.domain}`,
            to: LAB.operator,
            subject: "lab spoofed sender",
            withIds: true,
            crlf: true,
        }),
    );
    const t = await smtp(LAB.client.netns, {
        host: LAB.mx.v4,
        helo: "client.example.org",
        starttls: true,
        servername: "mx.example.net",
        from: `spoof@${LAB.server.domain}`,
        to: [LAB.operator],
        dataFile: file,
    });
    if (t.dataEnd?.code !== 250) l.report.add("negative", "spoof-sent", false, t.error ?? JSON.stringify(t).slice(0, 500));
    await waitReceived(l, id, 30000);
}
