import { domainToASCII, domainToUnicode } from "node:url";

/** RFC 1035 §2.3.4 / RFC 1123 §2.1 limits. */
export const MAX_NAME_LENGTH = 253;
export const MAX_LABEL_LENGTH = 63;

const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
/** Service labels such as `_spf` or `_dmarc` (RFC 8552) are allowed where a name is only looked up. */
const SERVICE_LABEL = /^_?[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$/;

/**
 * Why `label` is not a host-name label (letters, digits, hyphen, not at either end, ≤ 63; an
 * `xn--` label valid punycode), or undefined when it is. Lower-case input expected.
 */
export function labelProblem(label: string, allowUnderscore = false): string | undefined {
    if (label.length === 0) return "empty label";
    if (label.length > MAX_LABEL_LENGTH) {
        return `label ${JSON.stringify(label)} is ${label.length} characters; DNS labels are at most ${MAX_LABEL_LENGTH}`;
    }
    if (!(allowUnderscore ? SERVICE_LABEL : LDH_LABEL).test(label)) {
        const allowed = allowUnderscore ? "letters, digits, hyphens and underscores" : "letters, digits and hyphens";
        return `label ${JSON.stringify(label)} may contain only ${allowed}, not a hyphen at its start or end`;
    }
    return punycodeProblem(label);
}

/** Why `name` contains characters outside ASCII, with its punycode form; or undefined. */
export function nonAsciiProblem(name: string): string | undefined {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the range is "every ASCII character", on purpose
    if (/^[\x00-\x7f]*$/.test(name)) return undefined;
    const ascii = domainToASCII(name);
    return ascii
        ? `contains non-ASCII characters; use its punycode form "${ascii}"`
        : "contains non-ASCII characters and has no valid punycode form";
}

/**
 * Why `name` is not a fully-qualified host/domain name of at least two labels, or undefined.
 * The top-level label must not be all digits (it would read as an address). `allowUnderscore`
 * accepts service labels (`_spf.example.com`) for names that are looked up, never for host names.
 */
export function domainProblem(name: string, allowUnderscore = false): string | undefined {
    const nonAscii = nonAsciiProblem(name);
    if (nonAscii) return nonAscii;
    if (name !== name.toLowerCase()) return "must be lower case";
    if (name.endsWith(".")) return "must not end with a dot";
    if (name.length > MAX_NAME_LENGTH) {
        return `is ${name.length} characters; DNS names are at most ${MAX_NAME_LENGTH}`;
    }
    const labels = name.split(".");
    if (labels.length < 2) return "needs at least two labels, e.g. example.com";
    for (const label of labels) {
        const problem = labelProblem(label, allowUnderscore);
        if (problem) return problem;
    }
    if (/^[0-9]+$/.test(labels[labels.length - 1])) return "top-level label must not be all digits";
    return undefined;
}

/**
 * Why an `xn--` label is not valid punycode (an A-label must decode to a name with non-ASCII
 * characters and encode back to itself, RFC 5891 §5.4), or undefined.
 */
export function punycodeProblem(label: string): string | undefined {
    if (!label.startsWith("xn--")) return undefined;
    const unicode = domainToUnicode(label);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the range is "every ASCII character", on purpose
    if (unicode === "" || /^[\x00-\x7f]*$/.test(unicode) || domainToASCII(unicode) !== label) {
        return `label ${JSON.stringify(label)} is not valid punycode`;
    }
    return undefined;
}
