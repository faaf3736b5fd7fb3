/**
 * DMARC record text (RFC 7489 §6.3, §6.4; RFC 9989) as tags: pure, no DNS. Shared by the policy
 * pack and the live `check` command.
 */

/**
 * The result of {@link parseDmarcTags}: tag → value (names lower case), what is invalid (empty
 * when nothing), and what receivers merely ignore (unknown tags: probably typos).
 */
export interface DmarcParse {
    readonly tags: ReadonlyMap<string, string>;
    readonly problems: readonly string[];
    readonly ignored: readonly string[];
}

/** Tags of RFC 7489 and RFC 9989 other than v, p, sp, adkim, aspf, pct, rua, ruf, with their syntax. */
const OTHER_TAGS: Readonly<Record<string, RegExp>> = {
    np: /^(?:none|quarantine|reject)$/,
    fo: /^[01ds](?::[01ds])*$/,
    rf: /^afrf(?::afrf)*$/i,
    ri: /^\d+$/,
    t: /^[yn]$/,
    psd: /^[ynu]$/,
};
const KNOWN_TAGS = new Set(["v", "p", "sp", "adkim", "aspf", "pct", "rua", "ruf", ...Object.keys(OTHER_TAGS)]);

/** True when a TXT value is a DMARC record: it starts with `v=DMARC1`, then `;` or its end. */
export function isDmarcRecord(text: string): boolean {
    return /^v\s*=\s*DMARC1\s*(?:;|$)/.test(text);
}

const POLICIES = ["none", "quarantine", "reject"];
const ALIGNMENTS = ["r", "s"];

/** Tags of a DMARC record's text, with the problems a receiver would reject or ignore. */
export function parseDmarcTags(text: string): DmarcParse {
    const tags = new Map<string, string>();
    const problems: string[] = [];
    const parts = text.split(";").map((p) => p.trim());
    if (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
    for (const [i, part] of parts.entries()) {
        const tag = /^([a-z][a-z0-9_]*)\s*=\s*(.*)$/i.exec(part);
        if (!tag) {
            problems.push(`"${part}" is not a tag=value pair`);
            continue;
        }
        const name = tag[1].toLowerCase();
        if (tags.has(name)) problems.push(`tag "${name}" appears more than once`);
        tags.set(name, tag[2].trim());
        if (i === 0 && name !== "v") problems.push('"v=DMARC1" must come first');
    }
    if (tags.get("v") !== "DMARC1") problems.push('"v=DMARC1" must come first');
    const p = tags.get("p");
    if (p === undefined) problems.push('no "p=" tag');
    else if (!POLICIES.includes(p)) problems.push(`p=${p} is not none, quarantine or reject`);
    const sp = tags.get("sp");
    if (sp !== undefined && !POLICIES.includes(sp)) problems.push(`sp=${sp} is not none, quarantine or reject`);
    for (const name of ["adkim", "aspf"]) {
        const value = tags.get(name);
        if (value !== undefined && !ALIGNMENTS.includes(value)) problems.push(`${name}=${value} is not r or s`);
    }
    const pct = tags.get("pct");
    if (pct !== undefined && !(/^\d{1,3}$/.test(pct) && Number(pct) <= 100)) problems.push(`pct=${pct} is not 0-100`);
    for (const name of ["rua", "ruf"]) {
        const value = tags.get(name);
        if (value === undefined) continue;
        for (const uri of dmarcReportUris(value)) {
            if (!/^mailto:[^@\s]+@[^@\s!]+(?:![0-9]+[kmgt]?)?$/i.test(uri)) problems.push(`${name} URI "${uri}" is not a mailto: address`);
        }
    }
    for (const [name, syntax] of Object.entries(OTHER_TAGS)) {
        const value = tags.get(name);
        if (value !== undefined && !syntax.test(value)) problems.push(`${name}=${value} is not valid`);
    }
    const ignored = [...tags.keys()].filter((name) => !KNOWN_TAGS.has(name)).map((name) => `unknown tag ${name}= (receivers ignore it)`);
    return { tags, problems: [...new Set(problems)], ignored };
}

/** The addresses of a `rua=`/`ruf=` value's mailto: URIs (size suffix dropped). */
export function dmarcReportAddresses(value: string | undefined): string[] {
    return dmarcReportUris(value ?? "")
        .map((uri) => /^mailto:([^@\s]+@[^@\s!]+)/i.exec(uri)?.[1])
        .filter((address): address is string => address !== undefined);
}

/** The comma-separated URIs of a `rua=`/`ruf=` value, trimmed. */
export function dmarcReportUris(value: string): string[] {
    return value
        .split(",")
        .map((u) => u.trim())
        .filter((u) => u !== "");
}
