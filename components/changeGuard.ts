/**
 * A preview-time guard for changes that would cost the mail server its machine, its address or
 * mail in flight. Pulumi programs do not see their previous state; a dynamic resource does: the
 * engine hands its provider's `diff` the old and the new inputs during `pulumi preview`, and an
 * error there stops the preview with our message (sdk/nodejs/dynamic/index.ts, the provider runs
 * in the CLI's nodejs dynamic-provider host). The machine depends on the guard, so nothing is
 * replaced before the guard has spoken.
 */
import * as pulumi from "@pulumi/pulumi";

/** What the guard compares between two runs. */
export interface GuardState {
    readonly provider: string;
    readonly region: string;
    readonly image: string;
    readonly size: string;
    readonly ipv6: boolean;
    /** The host's name; absent in a guard created before it was compared. */
    readonly fqdn?: string;
    readonly hostGeneration: number;
    readonly dkimSelector: string;
    readonly dkimPreviousSelectors: readonly string[];
    /** The mail domain, when the server has mailboxes (their Maildirs are kept under it); absent when send-only. */
    readonly mailboxDomain?: string;
    /** The further mail domains' selectors; absent in a guard created before there were any. */
    readonly extraDomains?: ReadonlyArray<{
        readonly name: string;
        readonly dkimSelector: string;
        readonly dkimPreviousSelectors: readonly string[];
    }>;
}

export const GUARD_ID = "mailserver-change-guard";

/**
 * Why going from `olds` to `news` must not happen silently, one message per key, each naming the
 * deliberate way; empty when the change is safe. Self-contained (no imports, no outer values):
 * Pulumi serializes it with the provider into the state.
 */
export function changeProblems(olds: GuardState, news: GuardState): string[] {
    const problems: string[] = [];
    const raised = news.hostGeneration > olds.hostGeneration;
    const deliberately = `To do it deliberately, raise hostGeneration in the same run: pulumi config set mailserver:hostGeneration ${olds.hostGeneration + 1}`;
    const newHost = "needs a new host: a new IP address, new PTR records, no IP reputation, and the mail queued on the old host is lost. ";
    if (news.hostGeneration < olds.hostGeneration) {
        problems.push(`hostGeneration: it went down from ${olds.hostGeneration} to ${news.hostGeneration}; it may only be raised`);
    }
    if (!raised) {
        for (const key of ["provider", "region", "image"] as const) {
            if (olds[key] !== news[key])
                problems.push(`${key}: changing it from "${olds[key]}" to "${news[key]}" ${newHost}${deliberately}`);
        }
        if (olds.size !== news.size) {
            problems.push(
                `size: changing it from "${olds.size}" to "${news.size}" powers the host off while the provider moves it to another machine. ${deliberately}`,
            );
        }
        if (news.provider === "digitalocean" && olds.ipv6 && !news.ipv6) {
            problems.push(
                `ipv6: turning it off on DigitalOcean replaces the droplet (IPv6 cannot be removed from a running droplet): it ${newHost}${deliberately}`,
            );
        }
    }
    // The prepare stage holds a renamed host's whole new configuration until its records are
    // served, so it could not stop IPv6 before the domain's SPF loses the address (host/bundle.ts Stage).
    const renamed = olds.fqdn !== undefined && news.fqdn !== undefined && olds.fqdn !== news.fqdn;
    if (!raised && renamed && olds.ipv6 && !news.ipv6) {
        problems.push(
            `ipv6: turning it off while the host name changes from ${olds.fqdn} to ${news.fqdn} would have the host send over IPv6 ` +
                "after the SPF record dropped its IPv6 address. Change them in two runs: first ipv6, then hostLabel or domain.",
        );
    }
    if (olds.mailboxDomain !== undefined && news.mailboxDomain !== undefined && olds.mailboxDomain !== news.mailboxDomain) {
        problems.push(
            `domain: the mailboxes' mail is kept under ${olds.mailboxDomain}; changing the domain to ${news.mailboxDomain} would leave it ` +
                "behind, unreachable. Remove the mailboxes in one run (their mail stays on the host), then change the domain.",
        );
    }
    const published = [news.dkimSelector, ...news.dkimPreviousSelectors];
    if (olds.dkimSelector !== news.dkimSelector && !published.includes(olds.dkimSelector)) {
        problems.push(
            `dkimSelector: changing it from "${olds.dkimSelector}" to "${news.dkimSelector}" would delete ${olds.dkimSelector}._domainkey while ` +
                "receivers still verify mail signed with it. Keep it published for a week or more: " +
                `pulumi config set --path 'dkimPreviousSelectors[${news.dkimPreviousSelectors.length}]' ${olds.dkimSelector}`,
        );
    }
    // A further domain's rotation, the same rule; a domain removed altogether takes its records with it.
    for (const before of olds.extraDomains ?? []) {
        const after = (news.extraDomains ?? []).find((d) => d.name === before.name);
        if (!after || after.dkimSelector === before.dkimSelector) continue;
        if ([after.dkimSelector, ...after.dkimPreviousSelectors].includes(before.dkimSelector)) continue;
        problems.push(
            `extraDomains: changing ${before.name}'s selector from "${before.dkimSelector}" to "${after.dkimSelector}" would delete ` +
                `${before.dkimSelector}._domainkey.${before.name} while receivers still verify mail signed with it. Keep it published for a ` +
                `week or more: add previousSelectors=${[...after.dkimPreviousSelectors, before.dkimSelector].join(",")} to its entry`,
        );
    }
    return problems;
}

/** The dynamic provider: its state is its inputs; its diff refuses what changeProblems refuses. */
export const guardProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: GuardState) {
        return { id: GUARD_ID, outs: inputs };
    },
    async diff(_id: string, olds: GuardState, news: GuardState) {
        const problems = changeProblems(olds, news);
        if (problems.length > 0) throw new Error(problems.join("\n"));
        const keys = [
            "provider",
            "region",
            "image",
            "size",
            "ipv6",
            "fqdn",
            "hostGeneration",
            "dkimSelector",
            "dkimPreviousSelectors",
            "mailboxDomain",
            "extraDomains",
        ] as const;
        return { changes: keys.some((key) => JSON.stringify(olds[key]) !== JSON.stringify(news[key])) };
    },
    async update(_id: string, _olds: GuardState, news: GuardState) {
        return { outs: news };
    },
};

/** The guard resource, a child of the MailServer. */
export class ChangeGuard extends pulumi.dynamic.Resource {
    constructor(name: string, state: GuardState, opts: pulumi.CustomResourceOptions) {
        super(
            guardProvider,
            name,
            {
                ...state,
                dkimPreviousSelectors: [...state.dkimPreviousSelectors],
                ...(state.extraDomains
                    ? { extraDomains: state.extraDomains.map((d) => ({ ...d, dkimPreviousSelectors: [...d.dkimPreviousSelectors] })) }
                    : {}),
            },
            opts,
            "mailserver",
            "ChangeGuard",
        );
    }
}
