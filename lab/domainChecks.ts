/**
 * A server with several mail domains, observed from outside: for each mailbox of a domain other
 * than the primary one, mail from another domain is delivered and read back over IMAP; the user
 * submits a message that the receiving MX grades all-pass with `d=` that domain; the key it is
 * signed with is that domain's own (OpenDKIM's key table on the host names one key per domain,
 * and the DNS serves a different public key for each); and the user cannot send as a user of the
 * primary domain (the control of the login map across domains).
 */
import { DEFAULTS } from "../components/config";
import { parseExtraDomain, publishedSelectors } from "../components/domains";
import * as container from "./container";
import { gradeMessages, type Lab, observePositive, server, waitReceived } from "./lab";
import { fromOutside, inMailbox, messageFile, replies, submission } from "./mailboxChecks";
import { inNamespace } from "./sys";
import { LAB } from "./topology";

const SECTION = "domains";

/** `selector._domainkey.domain` → key path, as the running OpenDKIM's key table has them. */
async function keyTable(lab: Lab): Promise<Map<string, string>> {
    const text = (await container.exec(server(lab), "cat /etc/opendkim/key.table")).stdout;
    return new Map(
        text
            .split("\n")
            .filter((l) => l.trim())
            .map((l) => {
                const [name, value] = l.split(/\s+/);
                return [name, value] as [string, string];
            }),
    );
}

/** The `p=` of a DKIM record as the lab's DNS serves it (the strings joined). */
async function publishedKey(name: string): Promise<string> {
    const r = await inNamespace(LAB.client.netns, "dig", ["+short", "TXT", name, `@${LAB.dns.v4}`], { allowFail: true });
    const joined = r.stdout.replace(/"\s*"/g, "").replace(/"/g, "").trim();
    return /(?:^|;)\s*p=([A-Za-z0-9+/=]+)/.exec(joined)?.[1] ?? "";
}

type Add = (name: string, pass: boolean, evidence: string) => void;
type User = { readonly address: string; readonly password: string };

/**
 * `user` submits a message to the outside MX; it must be accepted, arrive, and be graded all-pass
 * with `d=<domain>` (and `s=<selector>` when given). Adds `<name>-submit-accepted` and
 * `<name>-submit-graded-all-pass`.
 */
async function submitAndGrade(lab: Lab, add: Add, user: User, id: string, name: string, domain: string, selector: string | undefined) {
    const s = await submission(lab, 587, {
        auth: { user: user.address, pass: user.password },
        from: user.address,
        to: [LAB.operator],
        dataFile: await messageFile(lab, id, user.address, LAB.operator),
    });
    add(`${name}-submit-accepted`, s.auth?.code === 235 && s.dataEnd?.code === 250, replies(s));
    try {
        await waitReceived(lab, id, 90_000);
        const graded = await gradeMessages(lab, [{ id, options: { domain } }]);
        observePositive(lab, graded);
        const g = graded.get(id);
        const failed = g?.verdicts.filter((v) => !v.pass) ?? [];
        const dkim = g?.verdicts.find((v) => v.property === "dkim");
        const signedBy = new RegExp(`\\bd=${domain.replace(/\./g, "\\.")} s=${selector ?? "[a-z0-9-]+"} `);
        add(
            `${name}-submit-graded-all-pass`,
            !!g && !g.error && g.verdicts.length > 0 && failed.length === 0 && signedBy.test(dkim?.evidence ?? ""),
            g?.error ??
                (failed.length > 0 ? failed.map((v) => `${v.property}: ${v.evidence}`).join("; ") : `all pass; dkim: ${dkim?.evidence}`),
        );
    } catch (error) {
        add(`${name}-submit-graded-all-pass`, false, (error as Error).message);
    }
}

/**
 * After a change of `extraDomains` that rotates a domain's key (`selector=`, with the old one in
 * `previousSelectors=`): each user of that domain now sends signed with the new selector, graded
 * all-pass, and both selectors' records are served.
 */
export async function checkDomainsRotation(lab: Lab, add: Add, prefix: string, entries: readonly string[]): Promise<void> {
    for (const entry of entries) {
        // The component's own parser: the same entry means here what it means to the stack.
        const parsed = parseExtraDomain(entry, DEFAULTS.dkimSelector);
        if (!("value" in parsed) || parsed.value.dkimSelector === DEFAULTS.dkimSelector) continue;
        const { name: domain, dkimSelector: selector } = parsed.value;
        for (const name of publishedSelectors(parsed.value)) {
            const key = await publishedKey(`${name}._domainkey.${domain}`);
            add(`${domain}-selector-${name}-published`, key.length > 300, key ? `p=…${key.slice(-16)}` : "no record");
        }
        for (const user of lab.plan.mailboxes.filter((m) => m.address.endsWith(`@${domain}`))) {
            const name = `${domain}-${user.address.split("@")[0]}-rotated`;
            await submitAndGrade(lab, add, user, `${prefix}${name}`, name, domain, selector);
        }
    }
}

export async function checkOtherDomains(lab: Lab): Promise<void> {
    const add: Add = (name, pass, evidence) => lab.report.add(SECTION, name, pass, evidence);
    const primary = LAB.server.domain;
    const domainOf = (address: string) => address.slice(address.lastIndexOf("@") + 1);
    const others = lab.plan.mailboxes.filter((m) => domainOf(m.address) !== primary);
    const first = lab.plan.mailboxes.find((m) => domainOf(m.address) === primary);
    if (others.length === 0 || !first) {
        add(
            "two-domains-planned",
            false,
            `the plan needs mailboxes in ${primary} and in another domain: ${lab.plan.mailboxes.map((m) => m.address).join(", ")}`,
        );
        return;
    }
    const table = await keyTable(lab);
    const keyOf = (domain: string) => [...table.keys()].find((name) => name.endsWith(`._domainkey.${domain}`));
    for (const user of others) {
        const domain = domainOf(user.address);
        const name = `${domain}-${user.address.split("@")[0]}`;

        // Inbound: from another domain, over port 25, into the mailbox; read back over IMAP.
        const inbound = `domain-inbound-${name}`;
        const t = await fromOutside(lab, inbound, user.address);
        add(`${name}-inbound-accepted`, t.dataEnd?.code === 250, replies(t));
        const read = await inMailbox(lab, user, inbound);
        add(
            `${name}-inbound-read-over-imaps`,
            !!read.header?.includes(`X-Lab-Case: ${inbound}`),
            read.header ? `found in INBOX of ${user.address}` : (read.error ?? "not in INBOX"),
        );

        // Its own key: one key table entry per domain, and DNS serves a different key for each.
        const own = keyOf(domain);
        const primaryKey = keyOf(primary);
        const [ownPublished, primaryPublished] = await Promise.all([publishedKey(own ?? ""), publishedKey(primaryKey ?? "")]);
        add(
            `${name}-own-key`,
            own !== undefined &&
                primaryKey !== undefined &&
                table.get(own) !== table.get(primaryKey) &&
                ownPublished.length > 300 &&
                primaryPublished.length > 300 &&
                ownPublished !== primaryPublished,
            `key table: ${own} → ${table.get(own ?? "")}, ${primaryKey} → ${table.get(primaryKey ?? "")}; ` +
                `published p= ${ownPublished.slice(-16) || "(none)"} and ${primaryPublished.slice(-16) || "(none)"} (last 16 characters)`,
        );

        // Submission as the user, to an outside address: graded by the MX with d= this domain.
        await submitAndGrade(lab, add, user, `domain-submit-${name}`, name, domain, undefined);

        // The control: the same login, sending as a user of the primary domain, is refused.
        const spoof = await submission(lab, 587, {
            auth: { user: user.address, pass: user.password },
            from: first.address,
            to: [LAB.operator],
        });
        add(
            `${name}-as-${primary}-user-refused`,
            spoof.auth?.code === 235 && (spoof.rcpt?.[0]?.code ?? 0) === 553 && /not owned by user/.test(replies(spoof)),
            replies(spoof),
        );
    }
}
