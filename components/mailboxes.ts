/**
 * Mailboxes and aliases: parsed from their one-line forms (the forms a stack's config holds,
 * Pulumi.yaml knows only arrays of strings) and checked as a whole before anything is created.
 * Pure; config.ts turns a problem into an error naming the argument.
 */
import { isWithin, mailboxProblem, splitAddress } from "./validation";

/** One mailbox: an address of the mail domain, its Maildir read over IMAP. */
export interface Mailbox {
    readonly address: string;
    /** Dovecot size (`500M`, `2G`), or undefined for no limit. */
    readonly quota: string | undefined;
}

/** Mail to `address` (or, for a catch-all, to any unknown address of the domain) goes to `targets`. */
export interface Alias {
    /** `local@domain`, or `@domain` for the catch-all. */
    readonly address: string;
    readonly targets: readonly string[];
}

/** What the host delivers and forwards, besides the role addresses it always forwards. */
export interface MailSettings {
    readonly mailboxes: readonly Mailbox[];
    readonly aliases: readonly Alias[];
    /** Application credentials: logins that may only submit mail as their own address (no mailbox, no IMAP). */
    readonly apps: readonly string[];
}

/** Role addresses the server forwards to the operator (RFC 2142); they are neither mailboxes nor user aliases. */
export const ROLE_LOCAL_PARTS = ["postmaster", "abuse"] as const;

const QUOTA = /^quota=([1-9][0-9]{0,5})([MG])$/;

type Result<T> = { value: T } | { problem: string };

function localAddressProblem(address: string, domains: readonly string[], what: string): string | undefined {
    const problem = mailboxProblem(address);
    if (problem) return problem;
    if (address !== address.toLowerCase()) return `${JSON.stringify(address)}: write ${what} in lower case`;
    const parts = splitAddress(address) as { local: string; domain: string };
    if (!domains.includes(parts.domain))
        return `${JSON.stringify(address)} is not in ${domains.length === 1 ? "the mail domain" : "a mail domain:"} ${domains.join(", ")}`;
    if (parts.local.includes("+")) return `${JSON.stringify(address)}: "+" separates an address's tag (alice+news@ reaches alice@)`;
    if ((ROLE_LOCAL_PARTS as readonly string[]).includes(parts.local))
        return `${JSON.stringify(address)} is forwarded to operatorEmail (RFC 2142 role address); it cannot be ${what}`;
    return undefined;
}

/** `alice@example.com` or `alice@example.com quota=2G`. */
export function parseMailbox(line: string, domains: readonly string[]): Result<Mailbox> {
    const [address, ...options] = line.split(" ");
    const problem = localAddressProblem(address, domains, "a mailbox");
    if (problem) return { problem };
    let quota: string | undefined;
    for (const option of options) {
        const match = QUOTA.exec(option);
        if (!match || quota !== undefined)
            return { problem: `${JSON.stringify(line)}: after the address only "quota=<size>" may follow, e.g. quota=500M or quota=2G` };
        quota = `${match[1]}${match[2]}`;
    }
    return { value: { address, quota } };
}

/** An application's login: an address of a mail domain that is nobody's mailbox. */
export function parseApp(address: string, domains: readonly string[]): Result<string> {
    const problem = localAddressProblem(address, domains, "an application login");
    return problem ? { problem } : { value: address };
}

/** `sales@example.com alice@example.com bob@partner.example`, or `@example.com alice@example.com` (a domain's catch-all). */
export function parseAlias(line: string, domains: readonly string[]): Result<Alias> {
    const [address, ...targets] = line.split(" ");
    if (domains.some((domain) => address === `@${domain}`)) {
        // a catch-all: checked with the others below
    } else {
        const problem = localAddressProblem(address, domains, "an alias");
        if (problem) return { problem };
    }
    if (targets.length === 0 || targets.includes(""))
        return { problem: `${JSON.stringify(line)}: give the address, then its targets, one space apart` };
    for (const target of targets) {
        const problem = mailboxProblem(target);
        if (problem) return { problem: `${JSON.stringify(line)}: ${problem}` };
        if (target !== target.toLowerCase()) return { problem: `${JSON.stringify(line)}: write the target ${target} in lower case` };
    }
    const twice = targets.find((t, i) => targets.indexOf(t) !== i);
    if (twice) return { problem: `${JSON.stringify(line)}: ${twice} is given twice` };
    return { value: { address, targets } };
}

/**
 * Why the mailboxes and aliases do not make a mail system that delivers every message once, or
 * undefined: an alias that is also a mailbox, a target in the domain that nothing receives, a
 * target at the host name, a loop of aliases, a catch-all that only forwards outside (it would
 * forward every spam to the domain under this server's reputation).
 */
export function mailSystemProblem(settings: MailSettings, domains: readonly string[], fqdn: string): string | undefined {
    const mailboxes = new Set(settings.mailboxes.map((m) => m.address));
    const aliases = new Map(settings.aliases.map((a) => [a.address, a.targets]));
    for (const app of settings.apps) {
        if (mailboxes.has(app) || aliases.has(app))
            return `${app} is an application login and a mailbox or alias; an address is one of them`;
    }
    if (settings.apps.length > 0 && mailboxes.size === 0)
        return "application logins need at least one mailbox for now: Dovecot, which checks their passwords, runs for the mailboxes";
    for (const alias of settings.aliases) {
        if (mailboxes.has(alias.address)) return `${alias.address} is a mailbox and an alias; an address is one or the other`;
        for (const target of alias.targets) {
            if (isWithin((splitAddress(target) as { domain: string }).domain, fqdn))
                return `${alias.address} → ${target}: the host name ${fqdn} receives no mail; use an address of ${domains.join(", ")} or outside`;
            if (target === alias.address) return `${alias.address} → ${target}: an alias cannot target itself`;
            const local = domains.includes((splitAddress(target) as { domain: string }).domain);
            if (settings.apps.includes(target)) return `${alias.address} → ${target}: an application login receives no mail`;
            if (local && !mailboxes.has(target) && !aliases.has(target) && !isRole(target, domains))
                return `${alias.address} → ${target}: no mailbox or alias has that address`;
        }
    }
    for (const domain of domains) {
        const catchAll = aliases.get(`@${domain}`);
        if (catchAll && !catchAll.some((target) => mailboxes.has(target)))
            return `the catch-all @${domain} must deliver to at least one mailbox: forwarding every unknown address outside would forward spam under this server's name`;
    }
    // A loop: an alias reachable from itself through targets that are aliases.
    for (const start of aliases.keys()) {
        const seen = new Set<string>();
        const walk = (address: string, path: string[]): string | undefined => {
            for (const target of aliases.get(address) ?? []) {
                if (target === start) return [...path, target].join(" → ");
                if (aliases.has(target) && !seen.has(target)) {
                    seen.add(target);
                    const loop = walk(target, [...path, target]);
                    if (loop) return loop;
                }
            }
            return undefined;
        };
        const loop = walk(start, [start]);
        if (loop) return `aliases loop: ${loop}`;
    }
    return undefined;
}

function isRole(address: string, domains: readonly string[]): boolean {
    return ROLE_LOCAL_PARTS.some((role) => domains.some((domain) => address === `${role}@${domain}`));
}

/** The mailboxes an address finally delivers to (through aliases), in order, each once. */
export function deliveredTo(address: string, settings: MailSettings): string[] {
    const mailboxes = new Set(settings.mailboxes.map((m) => m.address));
    const aliases = new Map(settings.aliases.map((a) => [a.address, a.targets]));
    const out: string[] = [];
    const seen = new Set<string>();
    const walk = (current: string) => {
        if (seen.has(current)) return;
        seen.add(current);
        if (mailboxes.has(current)) out.push(current);
        for (const target of aliases.get(current) ?? []) walk(target);
    };
    walk(address);
    return out;
}

/**
 * Who may send as which address once logged in (Postfix's smtpd_sender_login_maps): each mailbox
 * as itself, each alias by the mailboxes it delivers to, each application as itself. The
 * catch-all gives nobody the domain.
 */
export function senderLogins(settings: MailSettings): Array<{ address: string; logins: string[] }> {
    return [
        ...settings.mailboxes.map((m) => ({ address: m.address, logins: [m.address] })),
        ...settings.aliases
            .filter((a) => !a.address.startsWith("@"))
            .map((a) => ({ address: a.address, logins: deliveredTo(a.address, settings) }))
            .filter((entry) => entry.logins.length > 0),
        ...settings.apps.map((app) => ({ address: app, logins: [app] })),
    ];
}
