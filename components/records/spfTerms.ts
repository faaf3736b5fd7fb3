/**
 * SPF record text (RFC 7208 §4.5, §5, §6, §12) as terms: pure, no DNS. Shared by the policy pack
 * and the live `check` command, which adds the recursive count through includes and redirects.
 */

/** A mechanism's qualifier (RFC 7208 §4.6.2); absent means `+`. */
export type SpfQualifier = "+" | "-" | "~" | "?";

/** One term of an SPF record: a mechanism (`-all`, `include:x`) or a modifier (`redirect=x`). */
export interface SpfTerm {
    /** The term as written. */
    readonly text: string;
    readonly kind: "mechanism" | "modifier";
    /** Mechanism or modifier name, lower case: `include`, `a`, `redirect`, … */
    readonly name: string;
    /** Mechanisms only: the qualifier, `+` when none is written. */
    readonly qualifier?: SpfQualifier;
    /** What follows the name: `_spf.example.com` for `include:_spf.example.com`, `/24` for `a/24`, the value of a modifier; "" when none. */
    readonly argument: string;
}

/** The result of {@link parseSpf}: the terms, and why the text is not valid SPF (empty when it is). */
export interface SpfParse {
    readonly terms: readonly SpfTerm[];
    readonly problems: readonly string[];
}

/** RFC 7208 §5: every mechanism. */
export const SPF_MECHANISMS: readonly string[] = ["all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"];

/** RFC 7208 §4.6.4: the terms that cost a DNS lookup (mechanisms, plus the `redirect` modifier). */
export const SPF_LOOKUP_TERMS: readonly string[] = ["include", "a", "mx", "ptr", "exists", "redirect"];

/** True when a TXT value is an SPF record: it starts with `v=spf1` followed by a space or nothing (case-insensitive). */
export function isSpfRecord(text: string): boolean {
    return /^v=spf1(?: |$)/i.test(text);
}

/** Terms of an SPF record's text (the TXT strings already concatenated). */
export function parseSpf(text: string): SpfParse {
    const problems: string[] = [];
    if (!isSpfRecord(text)) return { terms: [], problems: ['does not start with "v=spf1"'] };
    const terms: SpfTerm[] = [];
    const seenModifiers = new Set<string>();
    for (const word of text
        .slice("v=spf1".length)
        .split(" ")
        .filter((w) => w !== "")) {
        const modifier = /^([a-z][a-z0-9_.-]*)=(.*)$/i.exec(word);
        if (modifier) {
            const name = modifier[1].toLowerCase();
            if ((name === "redirect" || name === "exp") && seenModifiers.has(name)) {
                problems.push(`modifier "${name}" appears more than once`);
            }
            seenModifiers.add(name);
            terms.push({ text: word, kind: "modifier", name, argument: modifier[2] });
            continue;
        }
        const mechanism = /^([+~?-]?)([a-z][a-z0-9]*)(.*)$/i.exec(word);
        const name = mechanism?.[2].toLowerCase();
        if (!mechanism || name === undefined || !SPF_MECHANISMS.includes(name)) {
            problems.push(`unknown term "${word}"`);
            continue;
        }
        const rest = mechanism[3];
        if (rest !== "" && !rest.startsWith(":") && !rest.startsWith("/")) {
            problems.push(`unknown term "${word}"`);
            continue;
        }
        terms.push({
            text: word,
            kind: "mechanism",
            name,
            qualifier: (mechanism[1] || "+") as SpfQualifier,
            argument: rest.startsWith(":") ? rest.slice(1) : rest,
        });
    }
    return { terms, problems };
}

/** How many terms of one record cost a DNS lookup (RFC 7208 §4.6.4), not counting those inside includes or redirects. */
export function countLookupTerms(terms: readonly SpfTerm[]): number {
    return terms.filter((t) => SPF_LOOKUP_TERMS.includes(t.name) && (t.kind === "mechanism" || t.name === "redirect")).length;
}

/** The qualifier of the record's `all` mechanism, or undefined when it has none. */
export function allQualifier(terms: readonly SpfTerm[]): SpfQualifier | undefined {
    return terms.find((t) => t.kind === "mechanism" && t.name === "all")?.qualifier;
}
