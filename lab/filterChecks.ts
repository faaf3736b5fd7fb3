/**
 * Inbound filtering, observed from outside: postscreen defers a client it has not seen and lets it
 * in when it reconnects, and refuses a bot that talks before the greeting or pipelines unasked;
 * rspamd rejects GTUBE at SMTP time (to a mailbox and to postmaster@, which is forwarded), rejects a
 * spoof of a sender whose DMARC policy is reject, writes one Authentication-Results (a forged one
 * is removed), and marks spam under the reject score, which Sieve files into Junk. Each refusal
 * has its control: the same message or sender without the one thing that is refused.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as container from "./container";
import { type Lab, server, smtp, waitReceived } from "./lab";
import { imap, inMailbox, messageFile, OUTSIDE, replies } from "./mailboxChecks";
import { GTUBE } from "./messages";
import type { Job, Transcript } from "./smtp-client";
import { POSTSCREEN_DEFERRAL } from "./smtp-client";
import { LAB, type Node } from "./topology";
import { LAB_STRICT_DOMAIN } from "./zones";

const SECTION = "filter";

type Add = (name: string, pass: boolean, evidence: string) => void;

/**
 * A phishing letter that rspamd scores as spam without reaching its reject score, by its content
 * and headers alone: all-caps subject (SUBJ_ALL_CAPS 2.3), link text naming another site than the
 * link (PHISHING 2), a reply to nothing (FAKE_REPLY 1), a date years ago (DATE_IN_PAST 1), a link
 * to a bare address (HTTP_TO_IP 1), HTML only, zero-size text, oddly cased MIME-Version: 8.1 of 15
 * with the lab's DNS (measured with rspamd 3.12 on Debian 13), the sender's SPF passing.
 */
function midSpam(id: string, from: string, to: string): string {
    return [
        `From: "Account Security Team" <${from}>`,
        `To: ${to}`,
        "Subject: RE: URGENT: VERIFY YOUR ACCOUNT NOW",
        "Date: Mon, 01 Jan 2001 09:15:00 +0000",
        `Message-ID: <${id}@example.org>`,
        "Mime-Version: 1.0",
        "Content-Type: text/html; charset=utf-8",
        "Content-Transfer-Encoding: 7bit",
        `X-Lab-Case: ${id}`,
        "",
        "<html>",
        "<body>",
        "<p>Dear Customer,</p>",
        "<p>We have detected unusual sign-in activity on your account. For your",
        "protection your account access has been limited. To restore full access",
        "you must confirm your identity within 24 hours, otherwise your account",
        "will be permanently suspended.</p>",
        "<p>Please click the secure link below and sign in to verify your account:</p>",
        '<p><a href="http://secure-login.account-verify-center.net/session/confirm?id=7731">https://www.paypal.com/signin</a></p>',
        "<p>Thank you for your prompt attention to this matter.</p>",
        '<p><span style="font-size:0px">weather garden holiday recipe football music weekend family</span></p>',
        "<p>Account Security Team</p>",
        '<p>To stop receiving these notices <a href="http://198.51.100.23/unsubscribe.php?u=7731">click here</a>.</p>',
        "</body>",
        "</html>",
        "",
    ].join("\r\n");
}

/** rspamd's last log line that holds every one of `words` (its verdict: action, score, symbols), for the evidence. */
async function verdict(lab: Lab, ...words: string[]): Promise<string> {
    const filter = words.map((w) => `grep -F -- '${w}'`).join(" | ");
    const r = await container.exec(server(lab), `cat /var/log/rspamd/rspamd.log | ${filter} | grep -o '(default: .*' | tail -1`, {
        allowFail: true,
    });
    return r.stdout.trim().slice(0, 400) || "no rspamd log line";
}

/** Sends `file` over port 25 from `node`, as an MTA would (STARTTLS; reconnecting once if postscreen defers it). */
function send(lab: Lab, node: Node, from: string, to: string, file: string, extra: Partial<Job> = {}): Promise<Transcript> {
    return smtp(node.netns, {
        host: LAB.server.v4,
        localAddress: node.v4,
        helo: node.name,
        starttls: true,
        servername: lab.plan.hostname,
        from,
        to: [to],
        dataFile: file,
        ...extra,
    });
}

/** The header block of a message, folded lines joined. */
function unfolded(header: string): string[] {
    return header.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/);
}

/** The Authentication-Results fields of a header block. */
export function authenticationResults(header: string): string[] {
    return unfolded(header).filter((line) => /^Authentication-Results:/i.test(line));
}

const rejected = (t: Transcript) => (t.dataEnd?.code ?? 0) >= 500 && (t.dataEnd?.code ?? 0) < 600;

async function checkPostscreen(add: Add, to: string): Promise<void> {
    // A client it has not seen: the teaser greeting, then 450 at RCPT; reconnecting, it is let in.
    const job = { host: LAB.server.v4, localAddress: LAB.app.v4, helo: LAB.app.name, from: OUTSIDE, to: [to], noRetry: true };
    const first = await smtp(LAB.app.netns, job);
    const deferred = (first.rcpt ?? []).some((r) => POSTSCREEN_DEFERRAL.test(r.lines.join(" ")));
    add(
        "postscreen-new-client-deferred",
        /^220-/.test(first.banner?.lines[0] ?? "") && deferred,
        `banner ${first.banner?.lines.join(" / ") ?? first.error}; ${replies(first)}`,
    );
    const again = await smtp(LAB.app.netns, job);
    add(
        "postscreen-client-reconnecting-let-in",
        again.banner?.lines.length === 1 && /^220 /.test(again.banner.lines[0]) && again.rcpt?.[0]?.code === 250,
        `banner ${again.banner?.lines.join(" / ") ?? again.error}; ${replies(again)}`,
    );
    // The bot: the same dialogue, but talking before the greeting, or pipelining unasked.
    const bot = { host: LAB.server.v4, localAddress: LAB.bot.v4, helo: LAB.bot.name, from: OUTSIDE, to: [to], noRetry: true };
    const pregreet = await smtp(LAB.bot.netns, { ...bot, pregreet: true });
    add(
        "postscreen-pregreet-refused",
        pregreet.rcpt?.[0]?.code === 550 && /5\.5\.1 Protocol error/.test(replies(pregreet)),
        replies(pregreet),
    );
    const pipelined = await smtp(LAB.bot.netns, { ...bot, pipeline: true });
    add(
        "postscreen-pipelining-refused",
        pipelined.rcpt?.[0]?.code === 550 && /5\.5\.1 Protocol error/.test(replies(pipelined)),
        replies(pipelined),
    );
}

export async function checkFilter(lab: Lab): Promise<void> {
    const add: Add = (name, pass, evidence) => lab.report.add(SECTION, name, pass, evidence);
    const domain = LAB.server.domain;
    const user = lab.plan.mailboxes.find((m) => m.address.endsWith(`@${domain}`));
    const postmaster = `postmaster@${domain}`;
    await checkPostscreen(add, user?.address ?? postmaster);

    // GTUBE: refused at the end of DATA, to a mailbox and to postmaster@ (forwarded to the operator); the control is the same letter without it.
    for (const to of [...(user ? [user.address] : []), postmaster]) {
        const name = to.split("@")[0];
        const spam = await send(
            lab,
            LAB.client,
            OUTSIDE,
            to,
            await messageFile(lab, `filter-gtube-${name}`, OUTSIDE, to, { body: `Hello,\n\n${GTUBE}\n` }),
        );
        add(`gtube-to-${name}-rejected`, rejected(spam) && /5\.7\.1/.test(replies(spam)), replies(spam));
        const clean = await send(
            lab,
            LAB.client,
            OUTSIDE,
            to,
            await messageFile(lab, `filter-clean-${name}`, OUTSIDE, to, { body: "Hello,\n\nno test string here.\n" }),
        );
        add(`clean-to-${name}-accepted`, clean.dataEnd?.code === 250, replies(clean));
    }
    // The clean letter to postmaster@ reaches the operator, with the filter's verdict on it.
    try {
        const forwarded = await waitReceived(lab, `filter-clean-${postmaster.split("@")[0]}`, 90_000);
        const results = authenticationResults(readFileSync(forwarded.eml, "latin1").split(/\r?\n\r?\n/)[0]);
        add(
            "postmaster-forward-filtered",
            results.some((r) => r.includes(`${lab.plan.hostname};`) && /\bdmarc=pass\b/.test(r)),
            results.join(" || ") || "no Authentication-Results",
        );
    } catch (error) {
        add("postmaster-forward-filtered", false, (error as Error).message);
    }

    // DMARC: a sender whose policy is reject, sent from an address its SPF does not list and unsigned: refused;
    // from the client its SPF lists: accepted.
    const ceo = `ceo@${LAB_STRICT_DOMAIN}`;
    const target = user?.address ?? postmaster;
    const spoof = await send(lab, LAB.app, ceo, target, await messageFile(lab, "filter-dmarc-spoof", ceo, target));
    // rspamd's reply does not say why; its log does: the rejection must be DMARC's.
    const why = await verdict(lab, `<${ceo}>`);
    add("dmarc-reject-spoof-refused", rejected(spoof) && /\(reject\).*DMARC_POLICY_REJECT/.test(why), `${replies(spoof)}; rspamd ${why}`);
    const genuine = await send(lab, LAB.client, ceo, target, await messageFile(lab, "filter-dmarc-genuine", ceo, target));
    add("dmarc-reject-genuine-accepted", genuine.dataEnd?.code === 250, replies(genuine));

    if (!user) return;
    // Authentication-Results: the host's, one, with the verdicts; the forged one the sender put in is gone.
    const forged = `Authentication-Results: ${lab.plan.hostname}; dkim=pass header.d=forged.example; spf=pass; dmarc=pass header.from=forged.example`;
    const ham = await send(
        lab,
        LAB.client,
        OUTSIDE,
        user.address,
        await messageFile(lab, "filter-ham", OUTSIDE, user.address, { head: [forged] }),
    );
    add("ham-accepted", ham.dataEnd?.code === 250, replies(ham));
    const inInbox = await inMailbox(lab, user, "filter-ham");
    const results = authenticationResults(inInbox.header ?? "");
    add(
        "authentication-results",
        results.length === 1 &&
            results[0].startsWith(`Authentication-Results: ${lab.plan.hostname};`) &&
            /\bdkim=pass header\.d=example\.org\b/.test(results[0]) &&
            /\bspf=pass\b/.test(results[0]) &&
            /\bdmarc=pass\b/.test(results[0]),
        results.join(" || ") || (inInbox.error ?? "not in INBOX"),
    );
    add(
        "forged-authentication-results-removed",
        !!inInbox.header && !/forged\.example/.test(inInbox.header),
        results.join(" || ") || "no header",
    );

    // Spam under the reject score: accepted, marked, filed into Junk, not INBOX; the ham above is the control (INBOX).
    const junkFile = join(lab.work, "filter-junk.eml");
    writeFileSync(junkFile, midSpam("filter-junk", OUTSIDE, user.address));
    const mid = await send(lab, LAB.client, OUTSIDE, user.address, junkFile);
    add("spam-under-reject-score-accepted", mid.dataEnd?.code === 250, replies(mid));
    const inJunk = await inMailbox(lab, user, "filter-junk", "Junk");
    const notInbox = await imap(lab, { mode: "read", port: 993, user: user.address, pass: user.password, caseId: "filter-junk" });
    add(
        "spam-under-reject-score-in-junk",
        !!inJunk.header && /^X-Spam: Yes/im.test(inJunk.header) && !notInbox.header,
        `${inJunk.header ? `in Junk (${/^X-Spam: .*/im.exec(inJunk.header)?.[0]}); in INBOX: ${!!notInbox.header}` : (inJunk.error ?? "not in Junk")}; rspamd ${await verdict(lab, "filter-junk")}`,
    );
    add(
        "ham-in-inbox-not-junk",
        !!inInbox.header && !/^X-Spam: Yes/im.test(inInbox.header),
        inInbox.header ? "in INBOX, no X-Spam: Yes" : "not in INBOX",
    );
}
