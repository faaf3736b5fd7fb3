/** An MTA-STS policy file (RFC 8461 §3.2), checked. */
export interface MtaStsPolicy {
    readonly mode: string | undefined;
    readonly mx: string[];
    readonly maxAge: number | undefined;
    readonly problems: string[];
}

/** RFC 8461 §3.2: max_age at most one year. */
export const MTA_STS_MAX_AGE = 31557600;

export function parseMtaStsPolicy(text: string): MtaStsPolicy {
    const fields = new Map<string, string[]>();
    for (const line of text.split(/\r?\n/)) {
        if (line.trim() === "") continue;
        const colon = line.indexOf(":");
        if (colon < 0) continue;
        const key = line.slice(0, colon).trim();
        fields.set(key, [...(fields.get(key) ?? []), line.slice(colon + 1).trim()]);
    }
    const problems: string[] = [];
    if (fields.get("version")?.[0] !== "STSv1") problems.push("version: STSv1 missing");
    const mode = fields.get("mode")?.[0];
    if (!mode || !["enforce", "testing", "none"].includes(mode)) problems.push(`mode "${mode ?? ""}" is not enforce, testing or none`);
    const mx = fields.get("mx") ?? [];
    if (mode !== "none" && mx.length === 0) problems.push("no mx: lines");
    const maxAgeText = fields.get("max_age")?.[0];
    const maxAge = maxAgeText !== undefined && /^\d{1,10}$/.test(maxAgeText) ? Number(maxAgeText) : undefined;
    if (maxAge === undefined || maxAge > MTA_STS_MAX_AGE) problems.push(`max_age "${maxAgeText ?? ""}" is not 0–${MTA_STS_MAX_AGE}`);
    return { mode, mx, maxAge, problems };
}

/** Whether `host` matches an MTA-STS mx pattern (`mail.example.com` or `*.example.com`, one label). */
export function mxMatches(pattern: string, host: string): boolean {
    const p = pattern.toLowerCase();
    const h = host.toLowerCase();
    if (p.startsWith("*.")) {
        const rest = h.slice(h.indexOf(".") + 1);
        return h.includes(".") && rest === p.slice(2);
    }
    return p === h;
}
