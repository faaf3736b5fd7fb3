import { allQualifier, isSpfRecord, parseSpf, type SpfTerm } from "../components/records/spfTerms";
import { type Answer, type Dns, DnsFailure, isVoid } from "./dns";

/** What walking an SPF record and everything it includes found. */
export interface SpfWalk {
    /** DNS-querying terms, counted recursively through include: and redirect= (limit 10). */
    readonly lookups: number;
    /** Lookups that found no data (limit 2). */
    readonly voids: number;
    /** Problems that make receivers return permerror or temperror. */
    readonly problems: string[];
    /** Legal but discouraged constructs. */
    readonly advice: string[];
}

const MAX_DEPTH = 12;

/** The one SPF record at `name`, or why there is none. */
export async function spfRecordAt(
    dns: Dns,
    name: string,
): Promise<{ record: string } | { none: Answer<string[]> } | { multiple: string[] }> {
    const answer = await dns.txt(name);
    if (!answer.ok) return { none: answer };
    const records = answer.records.map((strings) => strings.join("")).filter(isSpfRecord);
    if (records.length === 0) return { none: { ok: false, failure: DnsFailure.NoData, message: "no v=spf1 record" } };
    if (records.length > 1) return { multiple: records };
    return { record: records[0] };
}

/**
 * Counts what a receiver would query for `domain`'s SPF record, following every include and
 * redirect whatever the client address (an evaluation stops at the first match; the limits
 * apply to the worst case). Macros are counted but not expanded.
 */
export async function walkSpf(dns: Dns, domain: string, terms: readonly SpfTerm[]): Promise<SpfWalk> {
    const state: State = { lookups: 0, voids: 0, problems: [], advice: [], seen: new Set<string>([domain]) };
    await walk(dns, domain, terms, state, 0);
    return { lookups: state.lookups, voids: state.voids, problems: state.problems, advice: state.advice };
}

type State = { lookups: number; voids: number; problems: string[]; advice: string[]; seen: Set<string> };

async function follow(dns: Dns, target: string, how: string, state: State, depth: number): Promise<void> {
    if (target.includes("%{")) return; // a macro: expanded per message, not here
    if (state.seen.has(target)) {
        state.problems.push(`${how}:${target} loops back to a record already included`);
        return;
    }
    state.seen.add(target);
    const found = await spfRecordAt(dns, target);
    if ("record" in found) {
        const parsed = parseSpf(found.record);
        if (parsed.problems.length > 0) state.problems.push(`${how}:${target} has an invalid record: ${parsed.problems.join("; ")}`);
        else await walk(dns, target, parsed.terms, state, depth + 1);
    } else if ("multiple" in found) {
        state.problems.push(`${how}:${target} has ${found.multiple.length} SPF records`);
    } else {
        if (isVoid(found.none)) state.voids++;
        state.problems.push(`${how}:${target} has no SPF record (${found.none.ok ? "" : found.none.failure})`);
    }
}

async function walk(dns: Dns, domain: string, terms: readonly SpfTerm[], state: State, depth: number): Promise<void> {
    if (depth > MAX_DEPTH) {
        state.problems.push(`includes nested deeper than ${MAX_DEPTH}`);
        return;
    }
    for (const term of terms) {
        if (term.kind === "modifier") continue;
        // include:x, a:x/24, mx/24 → the domain part, or the record's own domain.
        const target = term.argument.split("/")[0] || domain;
        switch (term.name) {
            case "include":
                state.lookups++;
                await follow(dns, target, "include", state, depth);
                break;
            case "a":
            case "exists":
                state.lookups++;
                if (!target.includes("%{")) {
                    const [v4, v6] = await Promise.all([dns.a(target), dns.aaaa(target)]);
                    if (isVoid(v4) && isVoid(v6)) state.voids++;
                }
                break;
            case "mx":
                state.lookups++;
                if (!target.includes("%{") && isVoid(await dns.mx(target))) state.voids++;
                break;
            case "ptr":
                state.lookups++;
                state.advice.push(`"ptr" in ${domain} is deprecated (RFC 7208 §5.5); list addresses instead`);
                break;
            default:
                break;
        }
    }
    const redirect = terms.find((t) => t.kind === "modifier" && t.name === "redirect");
    // redirect= is ignored when the record has an all mechanism (RFC 7208 §6.1).
    if (redirect && allQualifier(terms) === undefined) {
        state.lookups++;
        await follow(dns, redirect.argument, "redirect", state, depth);
    }
}
