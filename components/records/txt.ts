/** RFC 1035 §3.3: a TXT character-string holds at most 255 octets. */
export const TXT_STRING_MAX = 255;

/**
 * A TXT value as quoted character-strings of at most 255 octets, joined by spaces:
 * `"<255 chars>" "<rest>"`. Receivers concatenate the strings with no separator (RFC 7208 §3.3,
 * RFC 6376 §3.6.2.2). Cloudflare and BIND zone files both take this form; giving Cloudflare one
 * long string makes the provider show permanent drift.
 */
export function chunkTxt(value: string): string {
    if (!/^[\x20-\x7e]*$/.test(value)) throw new Error("TXT value must be printable ASCII");
    if (/["\\]/.test(value)) throw new Error('TXT value must not contain " or \\');
    const strings: string[] = [];
    for (let i = 0; i < value.length; i += TXT_STRING_MAX) strings.push(value.slice(i, i + TXT_STRING_MAX));
    if (strings.length === 0) strings.push("");
    return strings.map((s) => `"${s}"`).join(" ");
}

/** The logical value of a chunked TXT content (strings concatenated). */
export function unchunkTxt(content: string): string {
    const strings = content.match(/"[^"]*"/g);
    if (!strings || strings.join(" ") !== content) throw new Error(`not a sequence of quoted strings: ${content}`);
    return strings.map((s) => s.slice(1, -1)).join("");
}
