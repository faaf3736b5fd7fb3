/**
 * Moving to a new host, as the README tells a user to: mail delivered to host A is exported with
 * the host's own tool (`mailserver-mail export`, which stops Postfix and Dovecot first), host A is
 * gone, host B boots from the same stack (the same plan: the same DKIM keys, which live in the
 * stack's state, not on the host) and is configured as `pulumi up` does; before the import B's
 * mailbox does not hold the message (the control), after `mailserver-mail import` it does, read
 * over IMAPS; B's key files are A's, and mail submitted through B is graded all-pass.
 */
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import * as container from "./container";
import { applyPlan, freshBoot } from "./deployment";
import { gradeMessages, type Lab, observePositive, server, waitForRealCert, waitReceived } from "./lab";
import { fromOutside, imap, inMailbox, messageFile, replies, submission } from "./mailboxChecks";
import { LAB } from "./topology";

const SECTION = "move";
const ARCHIVE = "root/mail.tar";
const KEY_DIGESTS = 'for l in /etc/opendkim/keys/*.private; do sha256sum < "$(readlink -f "$l")"; done | sort';

export async function checkMove(lab: Lab): Promise<void> {
    const add = (name: string, pass: boolean, evidence: string) => lab.report.add(SECTION, name, pass, evidence);
    const [user] = lab.plan.mailboxes;
    if (!user) {
        add("mailbox-planned", false, "the plan has no mailbox to move");
        return;
    }
    const id = "move-before";
    const sent = await fromOutside(lab, id, user.address);
    const onA = await inMailbox(lab, user, id);
    add(
        "mail-on-old-host",
        sent.dataEnd?.code === 250 && !!onA.header,
        `${replies(sent)}; ${onA.header ? "in INBOX" : (onA.error ?? "not in INBOX")}`,
    );
    const keysA = (await container.exec(server(lab), KEY_DIGESTS)).stdout.trim();

    // Host A: export; Postfix and Dovecot are stopped, so nothing arrives there any more.
    const exported = await container.exec(server(lab), `/usr/local/sbin/mailserver-mail export > /${ARCHIVE}`, { allowFail: true });
    const active = await container.exec(server(lab), "systemctl is-active postfix dovecot", { allowFail: true });
    add(
        "export-stops-mail-services",
        exported.code === 0 && active.stdout.split("\n").filter((l) => l === "inactive").length === 2,
        `export exit ${exported.code} (${exported.stderr.trim()}); postfix, dovecot: ${active.stdout.trim().replace(/\n/g, ", ")}`,
    );
    const archive = join(lab.work, "mail.tar");
    copyFileSync(join(server(lab).root, ARCHIVE), archive);

    // Host B, from the same stack; A is disposed first (its address moves with it, as on Linode).
    const booted = await freshBoot(lab, "moved");
    const applied = booted.ok && (await applyPlan(lab, lab.plan, "apply:moved"));
    add("new-host-configured", applied, booted.ok ? "booted and configured from the same plan" : booted.errors.join(" | "));
    if (!applied) return;
    await waitForRealCert(lab, 300_000).catch(() => undefined);
    const before = await imap(lab, { mode: "read", port: 993, user: user.address, pass: user.password, caseId: id });
    add(
        "new-host-empty-before-import",
        before.loggedIn !== false && !before.header && !before.error,
        before.header ? "the message is already there" : (before.error ?? "logged in; not in INBOX"),
    );
    copyFileSync(archive, join(server(lab).root, ARCHIVE));
    const imported = await container.exec(server(lab), `/usr/local/sbin/mailserver-mail import < /${ARCHIVE}`, { allowFail: true });
    const onB = await inMailbox(lab, user, id);
    add(
        "mail-readable-on-new-host",
        imported.code === 0 && !!onB.header?.includes(`X-Lab-Case: ${id}`),
        `import exit ${imported.code} (${imported.stderr.trim()}); ${onB.header ? `in INBOX of ${user.address}` : (onB.error ?? "not in INBOX")}`,
    );
    const keysB = (await container.exec(server(lab), KEY_DIGESTS)).stdout.trim();
    add(
        "same-dkim-keys",
        keysA !== "" && keysA === keysB,
        `sha256 of the key files: A ${keysA.replace(/\s+-/g, "").replace(/\n/g, ", ")}; B the same: ${keysA === keysB}`,
    );

    await checkImportConfined(lab, add);

    // Mail submitted through B: signed with the same key, graded all-pass against the same zone.
    const submit = "move-after-submit";
    const s = await submission(lab, 587, {
        auth: { user: user.address, pass: user.password },
        from: user.address,
        to: [LAB.operator],
        dataFile: await messageFile(lab, submit, user.address, LAB.operator),
    });
    try {
        await waitReceived(lab, submit, 90_000);
        const graded = await gradeMessages(lab, [{ id: submit }]);
        observePositive(lab, graded);
        const g = graded.get(submit);
        const failed = g?.verdicts.filter((v) => !v.pass) ?? [];
        add(
            "new-host-sends-graded-all-pass",
            s.dataEnd?.code === 250 && !!g && !g.error && g.verdicts.length > 0 && failed.length === 0,
            g?.error ??
                (failed.map((v) => `${v.property}: ${v.evidence}`).join("; ") ||
                    `all pass; ${g?.verdicts.find((v) => v.property === "dkim")?.evidence}`),
        );
    } catch (error) {
        add("new-host-sends-graded-all-pass", false, `${replies(s)}; ${(error as Error).message}`);
    }
}

/**
 * Two archives: the first plants a link to /etc, the second writes a file through it (GNU tar
 * guards links made by the same archive, not ones already on disk). `mailserver-mail import` (tar
 * as the mail account) writes nothing outside the mail directory; the same two archives unpacked
 * by root's tar do (the control: they really are an attack).
 */
async function checkImportConfined(lab: Lab, add: (name: string, pass: boolean, evidence: string) => void): Promise<void> {
    const host = server(lab);
    const build = [
        "set -e",
        "d=$(mktemp -d)",
        'cd "$d"',
        "ln -s /etc planted",
        "tar -cf /root/evil-1.tar planted",
        "rm planted",
        "mkdir planted",
        "echo pwned > planted/mailserver-evil",
        "tar -cf /root/evil-2.tar planted/mailserver-evil",
    ].join("; ");
    await container.exec(host, build);
    const written = "test -e /etc/mailserver-evil && echo written || echo absent";
    const imported = await container.exec(
        host,
        "/usr/local/sbin/mailserver-mail import < /root/evil-1.tar; /usr/local/sbin/mailserver-mail import < /root/evil-2.tar",
        { allowFail: true },
    );
    const after = await container.exec(host, written, { allowFail: true });
    add(
        "import-confined-to-mail-directory",
        after.stdout.trim() === "absent",
        `second import exit ${imported.code} (${imported.stderr.trim().split("\n").slice(-2).join(" ")}); /etc/mailserver-evil ${after.stdout.trim()}`,
    );
    const root = await container.exec(
        host,
        `d=$(mktemp -d); tar -C "$d" -xf /root/evil-1.tar; tar -C "$d" -xf /root/evil-2.tar; ${written}`,
        {
            allowFail: true,
        },
    );
    add(
        "import-control-root-tar-follows-the-link",
        root.stdout.trim() === "written",
        `root's tar on the same archives: /etc/mailserver-evil ${root.stdout.trim()}`,
    );
    await container.exec(host, "rm -f /etc/mailserver-evil /root/evil-1.tar /root/evil-2.tar /var/mail/vhosts/planted", {
        allowFail: true,
    });
}
