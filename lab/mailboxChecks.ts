/**
 * What a stack with mailboxes must do for its users, observed from outside with real clients: mail
 * from another domain lands in each mailbox and is read back over IMAP (imapflow, certificate
 * verified), users send through 587 and 465 with their passwords (graded by the receiving MX),
 * aliases reach their mailboxes and forward outside through SRS; and each refusal on its own: no
 * AUTH, a wrong password, a user sending as another, AUTH before TLS, a password in clear on 143.
 */
import { appendFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ImapJob, ImapResult } from "./imap-client";
import { type Lab, runClient, smtp, type ToGrade, waitReceived } from "./lab";
import { dkimSignature, message } from "./messages";
import type { Job, Transcript } from "./smtp-client";
import { sleep } from "./sys";
import { LAB } from "./topology";

const SECTION = "mailboxes";
export const OUTSIDE = "alice@example.org";

/** Runs the lab's IMAP client in the outside client's namespace. */
export function imap(lab: Lab, job: Omit<ImapJob, "host" | "servername" | "caFile">): Promise<ImapResult> {
    const full: ImapJob = { host: LAB.server.v4, servername: lab.plan.hostname, caFile: lab.pebble.root, ...job };
    return runClient<ImapResult>(LAB.client.netns, "imap-client", full);
}

/**
 * A message file for `id` (its body, and header fields put before the lab's own, when given),
 * DKIM-signed for `from`'s domain when it is the outside client's.
 */
export async function messageFile(
    lab: Lab,
    id: string,
    from: string,
    to: string,
    options: { readonly body?: string; readonly head?: readonly string[] } = {},
): Promise<string> {
    const letter = message({ caseId: id, from, to, subject: `lab ${id}`, withIds: true, crlf: true, body: options.body });
    const raw = options.head ? `${options.head.join("\r\n")}\r\n${letter}` : letter;
    const signature = from.endsWith("@example.org")
        ? await dkimSignature(raw, {
              signingDomain: "example.org",
              selector: "lab",
              privateKey: lab.clientKey,
              canonicalization: "relaxed/relaxed",
          })
        : "";
    const file = join(lab.work, `${id}.eml`);
    writeFileSync(file, signature + raw);
    return file;
}

export const replies = (t: Transcript) =>
    [t.auth, t.mail, ...(t.rcpt ?? []), t.dataEnd]
        .filter((r) => r !== undefined)
        .map((r) => r.lines.join(" "))
        .join(" | ") ||
    (t.error ?? "no reply");

/** Submission on 587 (STARTTLS) or 465 (implicit TLS) as `user`. */
export function submission(lab: Lab, port: 587 | 465, extra: Partial<Job>): Promise<Transcript> {
    return smtp(LAB.client.netns, {
        host: LAB.server.v4,
        port,
        helo: "laptop.example.org",
        ...(port === 465 ? { implicitTls: true } : { starttls: true }),
        caFile: lab.pebble.root,
        servername: lab.plan.hostname,
        ...extra,
    });
}

/**
 * A message from the outside client to `to`, over port 25 with STARTTLS, as another domain's
 * server sends it, its size declared (SIZE=); `padding` bytes of body lines make it larger.
 */
export async function fromOutside(lab: Lab, id: string, to: string, padding = 0): Promise<Transcript> {
    const file = await messageFile(lab, id, OUTSIDE, to);
    if (padding > 0) appendFileSync(file, `${"x".repeat(76)}\r\n`.repeat(Math.ceil(padding / 78)));
    return smtp(LAB.client.netns, {
        host: LAB.server.v4,
        helo: LAB.client.name,
        starttls: true,
        servername: lab.plan.hostname,
        from: OUTSIDE,
        size: statSync(file).size,
        to: [to],
        dataFile: file,
    });
}

/**
 * A mailbox with a small quota: a small message is accepted while it has room; a message larger
 * than the whole quota is still taken (Dovecot lets the last message exceed the quota by its
 * quota_storage_grace, 10 MB by default), and from then on the mailbox is full: the next message
 * is refused at RCPT with 552 5.2.2 by Dovecot's quota-status, so nothing is accepted and bounced
 * later. `add` names the checks.
 */
export async function checkQuota(lab: Lab, add: (name: string, pass: boolean, evidence: string) => void): Promise<void> {
    const small = Object.entries(lab.plan.quotas).filter(([, quota]) => /^[0-9]+M$/.test(quota) && Number.parseInt(quota, 10) <= 5);
    if (small.length === 0) {
        add("quota-planned", false, `no mailbox with a quota of at most 5M: ${JSON.stringify(lab.plan.quotas)}`);
        return;
    }
    for (const [address, quota] of small) {
        const name = address.split("@")[0];
        const send = (id: string, padding: number) => fromOutside(lab, id, address, padding);
        const room = await send(`quota-room-${name}`, 0);
        add(`quota-${name}-accepted-with-room`, room.dataEnd?.code === 250, replies(room));
        const filling = Math.ceil(Number.parseInt(quota, 10) * 1.5 * 1024 * 1024);
        const fill = await send(`quota-fill-${name}`, filling);
        add(
            `quota-${name}-last-message-over-quota-taken`,
            fill.dataEnd?.code === 250,
            `${filling} bytes, quota ${quota}: ${replies(fill)}`,
        );
        let full: Transcript = {};
        for (let i = 0; i < 20; i++) {
            // LMTP delivery of the filling message takes a moment.
            full = await send(`quota-full-${name}`, 0);
            if (full.rcpt?.[0]?.code !== 250) break;
            await sleep(1000);
        }
        const rcpt = full.rcpt?.[0];
        add(
            `quota-${name}-full-refused-at-rcpt`,
            rcpt?.code === 552 && /5\.2\.2/.test(rcpt.lines.join(" ")) && full.data === undefined,
            `once full: ${replies(full)}`,
        );
    }
}

/** Waits until `user`'s INBOX (or `folder`) holds the message `id`; its header block, or the last answer. */
export async function inMailbox(lab: Lab, user: { address: string; password: string }, id: string, folder?: string): Promise<ImapResult> {
    let last: ImapResult = {};
    for (let i = 0; i < 30; i++) {
        last = await imap(lab, { mode: "read", port: 993, user: user.address, pass: user.password, caseId: id, folder });
        if (last.header || last.loggedIn === false) return last;
        await sleep(1000);
    }
    return last;
}

export async function checkMailboxes(lab: Lab): Promise<ToGrade[]> {
    const [alice, bob] = lab.plan.mailboxes;
    if (!alice || !bob) {
        lab.report.add(SECTION, "two-mailboxes-planned", false, `the plan has ${lab.plan.mailboxes.length} mailbox(es); the lab needs two`);
        return [];
    }
    const add = (name: string, pass: boolean, evidence: string) => lab.report.add(SECTION, name, pass, evidence);

    // Inbound: from another domain, over port 25, into each mailbox; read back over IMAP.
    for (const user of [alice, bob]) {
        const id = `mbox-${user.address.split("@")[0]}`;
        const t = await fromOutside(lab, id, user.address);
        add(`${id}-accepted`, t.dataEnd?.code === 250, replies(t));
        const read = await inMailbox(lab, user, id);
        add(
            `${id}-read-over-imaps`,
            !!read.header?.includes(`X-Lab-Case: ${id}`),
            read.header ? `found in INBOX of ${user.address}` : (read.error ?? "not in INBOX"),
        );
    }
    const folders = await imap(lab, { mode: "read", port: 993, user: alice.address, pass: alice.password });
    add(
        "special-use-folders",
        ["\\Drafts", "\\Junk", "\\Sent", "\\Trash"].every((f) => folders.specialUse?.includes(f)),
        JSON.stringify(folders.specialUse ?? folders.error),
    );

    // IMAP refusals, and 143 after STARTTLS.
    const wrong = await imap(lab, { mode: "read", port: 993, user: alice.address, pass: `${alice.password}x` });
    add("imap-wrong-password-refused", wrong.loggedIn === false, wrong.error ?? "logged in");
    const starttls = await imap(lab, { mode: "read", port: 143, starttls: true, user: alice.address, pass: alice.password });
    add("imap-143-starttls-login", starttls.loggedIn === true, starttls.error ?? "logged in after STARTTLS");
    await checkCleartextLogin(lab, "positive", alice);

    // Aliases: one to both mailboxes, one forwarding to two outside addresses.
    const local = lab.plan.aliases.find((a) => a.targets.includes(alice.address) && a.targets.includes(bob.address));
    const outside = lab.plan.aliases.find((a) => a.targets.filter((t) => t.endsWith("@example.net")).length >= 2);
    const cases: ToGrade[] = [];
    if (!local || !outside) {
        add(
            "aliases-planned",
            false,
            `the plan needs an alias to both mailboxes and one to two outside addresses: ${JSON.stringify(lab.plan.aliases)}`,
        );
    } else {
        const t = await fromOutside(lab, "alias-local", local.address);
        add("alias-local-accepted", t.dataEnd?.code === 250, replies(t));
        for (const user of [alice, bob]) {
            const read = await inMailbox(lab, user, "alias-local");
            add(
                `alias-local-in-${user.address.split("@")[0]}`,
                !!read.header,
                read.header ? `${local.address} → INBOX of ${user.address}` : (read.error ?? "not in INBOX"),
            );
        }
        const f = await fromOutside(lab, "alias-forward", outside.address);
        add("alias-forward-accepted", f.dataEnd?.code === 250, replies(f));
        try {
            const m = await waitReceived(lab, "alias-forward", 90_000);
            const wanted = outside.targets.filter((t) => t.endsWith("@example.net"));
            add(
                "alias-forward-to-each-target",
                wanted.every((t) => m.session.rcptTo.includes(t)) && m.session.mailFrom.startsWith("SRS0="),
                `<${m.session.mailFrom}> → ${m.session.rcptTo.join(",")} (alias ${outside.address} → ${outside.targets.join(", ")})`,
            );
            cases.push({ id: "alias-forward", options: { forwarded: true } });
        } catch (error) {
            add("alias-forward-to-each-target", false, (error as Error).message);
        }
    }

    // Submission: 587 and 465 with a user's password, to an outside address (graded by the MX).
    let rightAuthMs: number | undefined;
    for (const port of [587, 465] as const) {
        const id = `submit-${port}`;
        const t = await submission(lab, port, {
            auth: { user: alice.address, pass: alice.password },
            from: alice.address,
            to: [LAB.operator],
            dataFile: await messageFile(lab, id, alice.address, LAB.operator),
        });
        rightAuthMs = t.authMs;
        add(
            `${id}-accepted`,
            t.auth?.code === 235 && t.dataEnd?.code === 250 && !!t.cert?.authorized,
            `${replies(t)}; certificate verified=${t.cert?.authorized}`,
        );
        cases.push({ id });
    }
    if (local) {
        const asAlias = await submission(lab, 587, {
            auth: { user: bob.address, pass: bob.password },
            from: local.address,
            to: [LAB.operator],
        });
        add("submission-as-own-alias-accepted", asAlias.rcpt?.[0]?.code === 250, replies(asAlias));
    }

    // Submission refusals, each on its own.
    const before = await submission(lab, 587, { starttls: false, auth: { user: alice.address, pass: alice.password } });
    add(
        "submission-no-auth-before-tls",
        !(before.ehlo?.lines ?? []).some((l) => /^250[ -]AUTH/i.test(l)) && before.auth?.code === 530,
        `EHLO: ${before.ehlo?.lines.join(" | ") ?? before.error}; AUTH: ${before.auth?.lines.join(" ") ?? ""}`,
    );
    const anonymous = await submission(lab, 587, { from: alice.address, to: [LAB.operator] });
    add(
        "submission-without-auth-refused",
        (anonymous.rcpt?.[0]?.code ?? 0) >= 500 || (anonymous.mail?.code ?? 0) >= 500,
        replies(anonymous),
    );
    const badPassword = await submission(lab, 465, {
        auth: { user: alice.address, pass: `${alice.password}x` },
        from: alice.address,
        to: [LAB.operator],
    });
    add("submission-wrong-password-refused", badPassword.auth?.code === 535 && badPassword.mail === undefined, replies(badPassword));
    // A wrong password is answered late (Dovecot's auth_failure_delay = 2 secs; the lab measured
    // 1.6 s and 2.1 s), a right one at once: guessing is slow.
    add(
        "submission-wrong-password-slowed",
        (badPassword.authMs ?? 0) >= 1000 && rightAuthMs !== undefined && rightAuthMs < 500,
        `wrong password answered after ${badPassword.authMs} ms, the right one after ${rightAuthMs} ms`,
    );
    const spoof = await submission(lab, 587, {
        auth: { user: alice.address, pass: alice.password },
        from: bob.address,
        to: [LAB.operator],
    });
    add(
        "submission-as-another-user-refused",
        spoof.auth?.code === 235 && (spoof.rcpt?.[0]?.code ?? 0) === 553 && /not owned by user/.test(replies(spoof)),
        replies(spoof),
    );
    // An application login: sends as itself (graded), not as a user, and cannot read mail.
    const [app] = lab.plan.apps;
    if (!app) {
        add("application-login-planned", false, "the plan has no application login (submissionApps)");
    } else {
        const t = await submission(lab, 587, {
            auth: { user: app.address, pass: app.password },
            from: app.address,
            to: [LAB.operator],
            dataFile: await messageFile(lab, "submit-app", app.address, LAB.operator),
        });
        add("submit-app-accepted", t.auth?.code === 235 && t.dataEnd?.code === 250, replies(t));
        cases.push({ id: "submit-app" });
        const asUser = await submission(lab, 587, {
            auth: { user: app.address, pass: app.password },
            from: alice.address,
            to: [LAB.operator],
        });
        add("app-as-user-refused", asUser.auth?.code === 235 && (asUser.rcpt?.[0]?.code ?? 0) === 553, replies(asUser));
        const reads = await imap(lab, { mode: "read", port: 993, user: app.address, pass: app.password });
        add("app-imap-login-refused", reads.loggedIn === false, reads.error ?? "logged in");
    }
    for (const id of ["submit-587", "submit-465", ...(app ? ["submit-app"] : [])]) {
        try {
            await waitReceived(lab, id, 90_000);
        } catch (error) {
            add(`${id}-delivered`, false, (error as Error).message);
        }
    }
    return cases;
}

/**
 * What the server answered to `a2 LOGIN` in clear text: refused (`a2 NO`, and no `a2 OK`), or
 * accepted (`a2 OK`); neither when the session broke off.
 */
export function cleartextAnswer(lines: readonly string[]): "refused" | "accepted" | "none" {
    if (lines.some((l) => l.startsWith("a2 OK"))) return "accepted";
    return lines.some((l) => l.startsWith("a2 NO")) ? "refused" : "none";
}

/**
 * A password sent in clear on 143 is refused (positive), and accepted by a server told to allow
 * it (negative: the control bundle).
 */
export async function checkCleartextLogin(
    lab: Lab,
    kind: "positive" | "negative",
    user: { address: string; password: string },
): Promise<void> {
    const r = await imap(lab, { mode: "cleartext", port: 143, user: user.address, pass: user.password });
    const answer = cleartextAnswer(r.lines ?? []);
    const evidence = (r.lines ?? []).join(" | ").replaceAll(user.password, "<password>") || (r.error ?? "no answer");
    const source = kind === "positive" ? "the deployed server" : "a server allowing clear text";
    lab.report.observe("imap-cleartext-refused", kind, source, answer === (kind === "positive" ? "refused" : "accepted"), evidence);
}
