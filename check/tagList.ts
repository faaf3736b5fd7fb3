/**
 * DKIM/DMARC/MTA-STS/TLS-RPT style tag lists (`k=v; k2=v2`, RFC 6376 §3.2): the tags in order, or
 * the reason they do not parse (empty tag, duplicate tag).
 */
export function parseTags(record: string): { tags: Map<string, string>; order: string[] } | { error: string } {
    const tags = new Map<string, string>();
    const order: string[] = [];
    for (const part of record.split(";")) {
        if (part.trim() === "") continue;
        const eq = part.indexOf("=");
        if (eq < 0) return { error: `"${part.trim()}" is not tag=value` };
        const name = part.slice(0, eq).trim();
        const value = part
            .slice(eq + 1)
            .replace(/\s+/g, " ")
            .trim();
        if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) return { error: `"${name}" is not a tag name` };
        if (tags.has(name)) return { error: `tag ${name} appears twice` };
        tags.set(name, value);
        order.push(name);
    }
    return { tags, order };
}
