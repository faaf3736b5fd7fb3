/**
 * What the running server must do, observed from outside (and, for what only shows inside, from
 * inside): SMTP identity and certificate, relaying refused, weak TLS refused, no mail for system
 * accounts, HELO and sender checks, SSH that takes only keys, the DKIM key's permissions, security
 * updates, the metadata service closed to non-root. Then the mail it sends.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as container from "./container";
import { sshArgs } from "./deploy";
import type { GradeOptions } from "./grade";
import { type Lab, probeTls, server, serveZones, smtp, type ToGrade, waitForRealCert, waitReceived } from "./lab";
import { dkimSignature, message, pySmtpSubmit } from "./messages";
import { inNamespace, now, sleep } from "./sys";
import { LAB } from "./topology";

const FROM = `lab@${LAB.server.domain}`;

export async function checkInbound(lab: Lab): Promise<void> {
    const started = now();
    let t = await probeTls(lab);
    try {
        t = await waitForRealCert(lab, 300_000);
    } catch (error) {
        lab.report.add("smtp-in", "wait-certificate", false, (error as Error).message);
    }
    lab.report.time("certificate-after-apply", now() - started);
    const fqdn = lab.plan.hostname;
    lab.report.add(
        "smtp-in",
        "banner-fqdn",
        t.banner?.code === 220 && new RegExp(`^220[ -]${fqdn}\\b`).test(t.banner.lines[0]),
        t.banner?.lines.join(" ") ?? t.error ?? "no banner",
    );
    lab.report.add(
        "smtp-in",
        "ehlo-fqdn",
        !!t.ehlo && new RegExp(`^250[ -]${fqdn}\\b`).test(t.ehlo.lines[0]),
        t.ehlo?.lines[0] ?? "no EHLO reply",
    );
    lab.report.add(
        "smtp-in",
        "starttls-offered",
        !!t.ehlo?.lines.some((l) => /^250[ -]STARTTLS/i.test(l)),
        t.ehlo?.lines.join(" | ") ?? "",
    );
    const c = t.cert;
    lab.report.observe(
        "certificate",
        "positive",
        "STARTTLS after deployment",
        !!c && c.authorized && /pebble/i.test(c.issuer) && c.san.split(/,\s*/).includes(`DNS:${fqdn}`),
        c
            ? `subject=${c.subject} issuer=${c.issuer} san=${c.san} verified=${c.authorized}${c.authorizationError ? ` (${c.authorizationError})` : ""} chain=${c.chainSubjects.join(" > ")} ${t.tlsProtocol}`
            : (t.error ?? "no certificate"),
    );
    await checkRelay(lab, "positive", "the deployed server");
    await checkWeakTls(lab);
    await checkRecipients(lab);
}

/** Relaying for a stranger: refused by the server as configured (positive), accepted by a server opened on purpose (negative). */
export async function checkRelay(lab: Lab, kind: "positive" | "negative", source: string): Promise<void> {
    const relay = await smtp(LAB.client.netns, {
        host: LAB.server.v4,
        helo: LAB.client.name,
        from: "alice@example.org",
        to: ["victim@example.net"],
        starttls: true,
        servername: lab.plan.hostname,
    });
    const reply = relay.rcpt?.[0];
    const refused = !!reply && reply.code >= 500;
    lab.report.observe(
        "relay-refused",
        kind,
        source,
        kind === "positive" ? refused : !!reply && reply.code === 250,
        reply ? `RCPT TO:<victim@example.net> from ${LAB.client.v4} → ${reply.lines.join(" ")}` : (relay.error ?? "no RCPT reply"),
    );
}

async function openssl(lab: Lab, args: string[]): Promise<{ connected: boolean; output: string }> {
    const r = await inNamespace(
        LAB.client.netns,
        "openssl",
        ["s_client", "-connect", `${LAB.server.v4}:25`, "-starttls", "smtp", "-servername", lab.plan.hostname, ...args],
        {
            input: "QUIT\r\n",
            allowFail: true,
            timeoutMs: 30_000,
        },
    );
    const output = `${r.stdout}\n${r.stderr}`;
    const cipher = /Cipher is (\S+)/.exec(output)?.[1];
    return {
        connected: r.code === 0 && !!cipher && cipher !== "(NONE)",
        output: `${cipher ? `Cipher is ${cipher}; ` : ""}${output
            .split("\n")
            .filter((l) => /error|alert|Cipher is|Protocol/.test(l))
            .slice(0, 3)
            .join(" | ")}`,
    };
}

/** TLS below 1.2, and TLS 1.2 with ciphers the configuration excludes, get no session. */
async function checkWeakTls(lab: Lab): Promise<void> {
    const good = await openssl(lab, ["-tls1_2"]);
    lab.report.add("tls", "tls12-strong-cipher", good.connected, good.output);
    for (const [name, args] of [
        ["tls11-refused", ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]],
        ["3des-refused", ["-tls1_2", "-cipher", "DES-CBC3-SHA:@SECLEVEL=0"]],
        ["camellia-refused", ["-tls1_2", "-cipher", "CAMELLIA128-SHA:@SECLEVEL=0"]],
    ] as const) {
        const weak = await openssl(lab, [...args]);
        lab.report.add("tls", name, !weak.connected, weak.output);
    }
}

/** Addresses that must not take mail from outside, and what the checks on HELO and senders refuse. */
async function checkRecipients(lab: Lab): Promise<void> {
    const outside = (from: string, to: string, helo: string = LAB.client.name) =>
        smtp(LAB.client.netns, { host: LAB.server.v4, helo, from, to: [to], starttls: true, servername: lab.plan.hostname });
    for (const account of ["nobody", "daemon", "postfix", "mailadmin", "root", "opendkim"]) {
        const t = await outside("alice@example.org", `${account}@${lab.plan.hostname}`);
        const reply = t.rcpt?.[0];
        lab.report.add(
            "recipients",
            `${account}@host-refused`,
            !!reply && reply.code >= 500,
            reply?.lines.join(" ") ?? t.error ?? "no reply",
        );
    }
    const local = await outside("alice@example.org", "root@localhost");
    lab.report.add(
        "recipients",
        "localhost-refused",
        (local.rcpt?.[0]?.code ?? 0) >= 500,
        local.rcpt?.[0]?.lines.join(" ") ?? local.error ?? "",
    );
    const postmaster = await outside("alice@example.org", `postmaster@${LAB.server.domain}`);
    lab.report.add(
        "recipients",
        "postmaster-accepted",
        postmaster.rcpt?.[0]?.code === 250,
        postmaster.rcpt?.[0]?.lines.join(" ") ?? postmaster.error ?? "",
    );
    const badHelo = await outside("alice@example.org", `postmaster@${LAB.server.domain}`, "bad_helo!name");
    lab.report.add(
        "recipients",
        "invalid-helo-refused",
        (badHelo.rcpt?.[0]?.code ?? 0) >= 500,
        badHelo.rcpt?.[0]?.lines.join(" ") ?? badHelo.error ?? "",
    );
    const bareSender = await outside("alice", `postmaster@${LAB.server.domain}`);
    lab.report.add(
        "recipients",
        "non-fqdn-sender-refused",
        (bareSender.rcpt?.[0]?.code ?? 0) >= 500,
        bareSender.rcpt?.[0]?.lines.join(" ") ?? bareSender.error ?? "",
    );
    const unknown = await outside("alice@no-such-domain.example.org", `postmaster@${LAB.server.domain}`);
    lab.report.add(
        "recipients",
        "unknown-sender-domain-refused",
        (unknown.rcpt?.[0]?.code ?? 0) >= 400,
        unknown.rcpt?.[0]?.lines.join(" ") ?? unknown.error ?? "",
    );
}

/** SSH as a stranger, as root, with a password, and the deploy key asking for a shell or a tunnel. */
export async function checkHostHardening(lab: Lab): Promise<void> {
    const step = lab.plan.apply;
    const ssh = (args: string[], input = "") => inNamespace(LAB.client.netns, "ssh", args, { input, allowFail: true, timeoutMs: 30_000 });
    const base = sshArgs(step, lab.work, "id");
    const target = `${step.user}@${step.host}`;
    const withUser = (user: string) => base.map((a) => (a === target ? `${user}@${step.host}` : a));
    const root = await ssh(withUser("root"));
    lab.report.add(
        "ssh",
        "root-refused",
        root.code === 255 && /Permission denied/.test(root.stderr),
        root.stderr.trim().split("\n").pop() ?? "",
    );
    const password = await ssh([
        "-F",
        "/dev/null",
        "-o",
        `UserKnownHostsFile=${join(lab.work, "known_hosts")}`,
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        "PreferredAuthentications=password,keyboard-interactive",
        target,
        "id",
    ]);
    lab.report.add(
        "ssh",
        "password-refused",
        password.code === 255 && /Permission denied \(publickey\)/.test(password.stderr),
        password.stderr.trim().split("\n").pop() ?? "",
    );
    const shell = await ssh(base);
    lab.report.add(
        "ssh",
        "deploy-key-runs-only-the-applier",
        shell.code === 2 && /^mailserver-apply: the bundle is not JSON/.test(shell.stderr) && !/uid=/.test(shell.stdout),
        `asked for "id": exit ${shell.code}; ${shell.stderr.trim()}`,
    );
    // A forwarded connection to the host's own port 25 through the deploy key (ssh -W: direct-tcpip).
    const tunnel = await ssh(["-W", "127.0.0.1:25", ...base.slice(0, -1)]);
    lab.report.add(
        "ssh",
        "deploy-key-no-forwarding",
        tunnel.code === 255 && /administratively prohibited|open failed/.test(tunnel.stderr) && !/ESMTP/.test(tunnel.stdout),
        `ssh -W 127.0.0.1:25: exit ${tunnel.code}; ${tunnel.stderr.trim().split("\n").pop() ?? ""}`,
    );
    const host = server(lab);
    const effective = await container.exec(
        host,
        "sshd -T | grep -Ei '^(passwordauthentication|permitrootlogin|allowusers|kbdinteractiveauthentication) '",
        { allowFail: true },
    );
    lab.report.add(
        "ssh",
        "sshd-effective-config",
        /^passwordauthentication no$/m.test(effective.stdout) &&
            /^permitrootlogin no$/m.test(effective.stdout) &&
            /^allowusers mailserver-deploy$/m.test(effective.stdout),
        effective.stdout.replace(/\n/g, "; "),
    );
    // The live key paths are links into the current release; each key itself and its directory there (one key per mail domain).
    const key = await container.exec(
        host,
        'for l in /etc/opendkim/keys/*.private; do k=$(readlink -f "$l"); stat -c \'%a %U %n\' "$(dirname "$k")" "$k"; done',
        { allowFail: true },
    );
    const lines = key.stdout.trim().split("\n").filter(Boolean);
    const pairs = lines.flatMap((line, i) => (i % 2 === 0 ? [[line, lines[i + 1] ?? ""]] : []));
    lab.report.add(
        "host",
        "dkim-key-opendkim-only",
        pairs.length === lab.plan.domains.length &&
            pairs.every(([dir, file]) => /^700 opendkim \//.test(dir) && /^600 opendkim \/\S+\.private$/.test(file)),
        `${pairs.length} key(s) for ${lab.plan.domains.length} domain(s): ${key.stdout.replace(/\n/g, "; ")}`,
    );
    const updates = await container.exec(
        host,
        "apt-config dump APT::Periodic::Unattended-Upgrade; systemctl is-enabled apt-daily-upgrade.timer; unattended-upgrade --dry-run >/dev/null 2>&1; echo dry-run=$?",
        { allowFail: true },
    );
    lab.report.add(
        "host",
        "security-updates-unattended",
        /APT::Periodic::Unattended-Upgrade "1";/.test(updates.stdout) &&
            /^enabled$/m.test(updates.stdout) &&
            /dry-run=0/.test(updates.stdout),
        updates.stdout.replace(/\n/g, "; "),
    );
    // The lab has no metadata service: a route to its address, so that a connection gets as far as the firewall.
    await container.exec(host, "ip route replace 169.254.169.254/32 dev host0", { allowFail: true });
    const probe = `python3 -c 'import socket; s=socket.socket(); s.settimeout(3)\ntry: s.connect(("169.254.169.254", 80)); print("connected")\nexcept OSError as e: print(type(e).__name__, e.errno)'`;
    const asNobody = await container.exec(host, `setpriv --reuid=nobody --regid=nogroup --clear-groups ${probe}`, { allowFail: true });
    const asRoot = await container.exec(host, probe, { allowFail: true });
    lab.report.add(
        "host",
        "metadata-closed-to-non-root",
        /ConnectionRefusedError 111/.test(asNobody.stdout) && !/ConnectionRefusedError/.test(asRoot.stdout),
        `nobody: ${asNobody.stdout.trim()}; root: ${asRoot.stdout.trim()} (the lab has no metadata service: root's attempt goes out and times out)`,
    );
}

/** Sends from the server, over IPv4 and IPv6: local sendmail (the server adds Date and Message-ID) and SMTP from 127.0.0.1. */
export async function sendOutbound(lab: Lab, prefix = ""): Promise<ToGrade[]> {
    const host = server(lab);
    const cases: ToGrade[] = [];
    for (const family of [4, 6] as const) {
        if (family === 6 && !lab.plan.outputs.ipv6) continue;
        await serveZones(lab, { mxFamily: family });
        await sleep(2500); // Postfix's connection cache (2 s) expires
        const sendmailId = `${prefix}sendmail-v${family}`;
        const smtpId = `${prefix}smtp-v${family}`;
        const r1 = await container.exec(host, `/usr/sbin/sendmail -i -f ${FROM} ${LAB.operator}`, {
            input: message({ caseId: sendmailId, from: FROM, to: LAB.operator, subject: `lab ${sendmailId}`, withIds: false }),
            allowFail: true,
        });
        if (r1.code) lab.report.add(sendmailId, "submitted", false, `sendmail exit ${r1.code}: ${r1.stderr}`);
        const r2 = await container.exec(host, pySmtpSubmit(FROM, LAB.operator), {
            input: message({ caseId: smtpId, from: FROM, to: LAB.operator, subject: `lab ${smtpId}`, withIds: true, crlf: true }),
            allowFail: true,
        });
        if (r2.code) lab.report.add(smtpId, "submitted", false, `SMTP submission exit ${r2.code}: ${r2.stderr}`);
        // Over IPv4 also a client that sends no Date and no Message-ID: the server adds them.
        const noIdsId = `${prefix}smtp-noids-v4`;
        if (family === 4) {
            await container.exec(host, pySmtpSubmit(FROM, LAB.operator), {
                input: message({ caseId: noIdsId, from: FROM, to: LAB.operator, subject: `lab ${noIdsId}`, withIds: false, crlf: true }),
                allowFail: true,
            });
            cases.push({ id: noIdsId, options: { addedFields: ["message-id", "date"] } });
        }
        for (const id of [sendmailId, smtpId, ...(family === 4 ? [noIdsId] : [])]) {
            try {
                const m = await waitReceived(lab, id, 90_000);
                // Through a smarthost, the relay hands each message on from its own address.
                const want = lab.plan.relayhost ? LAB.relay.v4 : family === 4 ? LAB.server.v4 : LAB.server.v6;
                lab.report.add(
                    "send",
                    lab.plan.relayhost ? `${id}-through-smarthost` : `${id}-over-ipv${family}`,
                    m.session.ip === want,
                    `from ${m.session.ip} helo=${m.session.helo} <${m.session.mailFrom}>`,
                );
            } catch (error) {
                const queue = await container.exec(host, "postqueue -p", { allowFail: true });
                lab.report.add("send", id, false, `${(error as Error).message}; queue: ${queue.stdout.slice(-1200)}`);
            }
        }
        cases.push({ id: sendmailId, options: { addedFields: ["message-id", "date"] } }, { id: smtpId });
    }
    await serveZones(lab, { mxFamily: undefined });
    return cases;
}

/** From outside to postmaster@: forwarded to the operator with an SRS envelope sender, the author's signature intact. */
export async function sendForward(lab: Lab, id = "forward-postmaster"): Promise<ToGrade> {
    const raw = message({
        caseId: id,
        from: "alice@example.org",
        to: `postmaster@${LAB.server.domain}`,
        subject: "lab forward to postmaster",
        withIds: true,
        crlf: true,
    });
    const signature = await dkimSignature(raw, {
        signingDomain: "example.org",
        selector: "lab",
        privateKey: lab.clientKey,
        canonicalization: "relaxed/relaxed",
    });
    const file = join(lab.work, `${id}.eml`);
    writeFileSync(file, signature + raw);
    const t = await smtp(LAB.client.netns, {
        host: LAB.server.v4,
        helo: LAB.client.name,
        starttls: true,
        servername: lab.plan.hostname,
        from: "alice@example.org",
        to: [`postmaster@${LAB.server.domain}`],
        dataFile: file,
    });
    lab.report.add(
        "send",
        `${id}-accepted`,
        t.dataEnd?.code === 250,
        t.dataEnd?.lines.join(" ") ?? t.rcpt?.map((r) => r.lines.join(" ")).join("; ") ?? t.error ?? "",
    );
    try {
        const m = await waitReceived(lab, id, 90_000);
        lab.report.add(
            "send",
            `${id}-to-operator`,
            m.session.rcptTo.includes(lab.plan.operator),
            `<${m.session.mailFrom}> → ${m.session.rcptTo.join(",")} from ${m.session.ip} (the plan's operator: ${lab.plan.operator})`,
        );
    } catch (error) {
        lab.report.add("send", `${id}-to-operator`, false, (error as Error).message);
    }
    const options: Partial<GradeOptions> = { forwarded: true };
    return { id, options };
}
