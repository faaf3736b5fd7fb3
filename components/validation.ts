/**
 * Checks of the values that end up in DNS records and host files: each returns why a value is
 * refused, or undefined. Pure; config.ts turns a problem into an error naming the argument.
 * What a value may hold is decided by where it lands: an address goes into Postfix maps and
 * certbot's command line, a URL into a shell script, ranges into SPF and the firewall, keys into
 * authorized_keys, certificates into certbot's trust store.
 */
import { createPublicKey, X509Certificate } from "node:crypto";
import * as ipaddr from "ipaddr.js";
import { getDomain } from "tldts";
import { domainProblem } from "./dnsName";

/**
 * Local parts we accept: letters, digits and `. _ + -`, not starting or ending with a dot, no
 * `..`. RFC 5322 allows more (`|`, `/`, `$`, `{`…), but in /etc/aliases or a Postfix map such
 * characters turn an address into a command, a file or an include; nobody's real mailbox needs them.
 */
const LOCAL_PART = /^[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*$/;
/** RFC 5321 §4.5.3.1.1. */
const MAX_LOCAL_PART = 64;
/** RFC 5321 §4.5.3.1.3: a path is at most 256 octets with its angle brackets. */
const MAX_ADDRESS = 254;
/**
 * Top-level names that never reach a mailbox on the Internet (RFC 6761 `localhost`, `invalid`;
 * RFC 6762 `local`; RFC 7686 `onion`; RFC 9476 `alt`; ICANN's `internal`; `arpa`'s reverse and
 * home names; the common `localdomain`). `example` and `test` stay: documentation and tests use them.
 */
const SPECIAL_USE_TLDS: ReadonlySet<string> = new Set(["localhost", "invalid", "local", "onion", "alt", "internal", "arpa", "localdomain"]);

function quoted(value: string): string {
    return JSON.stringify(value);
}

/** Why `name` is not a domain one can register and run mail for (a public suffix, `localhost`…), or undefined. */
export function registrableDomainProblem(name: string, allowUnderscore = false): string | undefined {
    const problem = domainProblem(name, allowUnderscore);
    if (problem) return problem;
    const labels = name.split(".");
    if (labels[labels.length - 1] === "localhost") return "is a localhost name, not a domain on the Internet";
    if (SPECIAL_USE_TLDS.has(labels[labels.length - 1]))
        return `is under .${labels[labels.length - 1]}, a special-use name that never reaches the Internet`;
    if (getDomain(name.replace(/^_[^.]*\./, ""), { allowPrivateDomains: true }) === null) {
        return "is a public suffix (like com or co.uk), not a domain one can register";
    }
    return undefined;
}

/** Why `name` is inside `domain` (the domain itself or one of its subdomains), or undefined. */
function within(name: string, domain: string): boolean {
    return name === domain || name.endsWith(`.${domain}`);
}

/** Splits `local@domain` at the last `@`; undefined when there is none or a side is empty. */
export function splitAddress(address: string): { local: string; domain: string } | undefined {
    const at = address.lastIndexOf("@");
    if (at <= 0 || at === address.length - 1) return undefined;
    return { local: address.slice(0, at), domain: address.slice(at + 1) };
}

/**
 * Why `address` is not a plain mailbox address (`local@domain`, the local part as above, the
 * domain registrable), or undefined. `outside`: domains the address must not be in (nor in any
 * of their subdomains).
 */
export function mailboxProblem(address: string, outside: readonly string[] = []): string | undefined {
    const parts = splitAddress(address);
    if (!parts) return `${quoted(address)} is not an e-mail address (local@domain)`;
    if (address.length > MAX_ADDRESS)
        return `${quoted(address)} is ${address.length} characters; an e-mail address is at most ${MAX_ADDRESS}`;
    if (parts.local.startsWith("-"))
        return `${quoted(address)} starts with "-", which a command line (certbot's --email) would read as an option`;
    if (parts.local.length > MAX_LOCAL_PART || !LOCAL_PART.test(parts.local)) {
        return `${quoted(address)} is not a plain e-mail address: the part before @ may hold only letters, digits and . _ + - (at most ${MAX_LOCAL_PART})`;
    }
    const domainIssue = registrableDomainProblem(parts.domain);
    if (domainIssue) return `${quoted(address)} is not an e-mail address: domain ${quoted(parts.domain)} ${domainIssue}`;
    const inside = outside.find((domain) => within(parts.domain, domain));
    if (inside)
        return `${quoted(address)} is in ${inside}, a mail domain of this server: the operator's address must be hosted elsewhere, so that the server's reports and the ACME account's mail reach someone while the server is down`;
    return undefined;
}

/** RFC 7489 §6.4: a report URI's optional size limit, `!<digits>[kmgt]`. */
const SIZE_LIMIT = /^[0-9]+[kmgt]?$/;

/**
 * A DMARC report address as an RFC 7489 `mailto:` URI, from `reports@example.net`,
 * `mailto:reports@example.net` or `mailto:reports@example.net!10m` (a size limit). A `!` in the
 * local part is percent-encoded (`%21`), or receivers would read it as a size limit; characters
 * a URI would read as its query or fragment (`?`, `#`), and `,` `;` that end a URI list or a tag,
 * are refused (by the local-part rule).
 */
export function dmarcReportUri(value: string): { uri: string } | { problem: string } {
    if (/[?#]/.test(value)) return { problem: `${quoted(value)} holds ? or #, which a URI reads as the start of its query or fragment` };
    const isUri = value.startsWith("mailto:");
    const rest = isUri ? value.slice("mailto:".length) : value;
    const parts = splitAddress(rest);
    if (!parts) return { problem: `${quoted(value)} is not an e-mail address or mailto: URI` };
    const [domain, size, ...more] = parts.domain.split("!");
    if (more.length > 0 || (size !== undefined && (!isUri || !SIZE_LIMIT.test(size)))) {
        return { problem: `${quoted(value)}: a size limit is written mailto:address!<number>[k|m|g|t]` };
    }
    const localWithoutBang = parts.local.replace(/!/g, "");
    if (localWithoutBang === "" || parts.local.startsWith("!") || !LOCAL_PART.test(localWithoutBang.replace(/\.\./g, "."))) {
        return { problem: `${quoted(value)} is not a plain e-mail address: the part before @ may hold only letters, digits and . _ + - !` };
    }
    const problem = mailboxProblem(`${localWithoutBang}@${domain}`);
    if (problem) return { problem };
    const local = parts.local.replace(/!/g, "%21");
    return { uri: `mailto:${local}@${domain}${size !== undefined ? `!${size}` : ""}` };
}

/** The domain a report URI sends to (`mailto:a%21b@example.net!10m` → `example.net`). */
export function reportUriDomain(uri: string): string {
    const parts = splitAddress(uri.replace(/^mailto:/, ""));
    if (!parts) throw new Error(`not a mailto: URI: ${uri}`);
    return parts.domain.split("!")[0];
}

export type AddressFamily = "ipv4" | "ipv6";

/** ipaddr.js ranges that never send mail over the Internet, as a sentence names them. */
const NON_GLOBAL: Readonly<Record<string, string>> = {
    unspecified: "an unspecified",
    loopback: "a loopback",
    linkLocal: "a link-local",
    multicast: "a multicast",
    broadcast: "the broadcast",
};

export interface RangeRules {
    readonly family: AddressFamily | "any";
    /** Shortest prefix allowed per family (a wider range covers too much of the Internet). */
    readonly minPrefix?: Readonly<Record<AddressFamily, number>>;
    /** Refuse loopback, link-local, multicast, unspecified and broadcast addresses. */
    readonly globalOnly?: boolean;
}

/**
 * An address or CIDR range, as `<network>/<prefix>` (a bare address gets /32 or /128), or why it
 * is refused: not an address of the family, a zone id (`%eth0`), host bits set after the prefix,
 * a range wider than `minPrefix`, a non-global address when `globalOnly`.
 */
export function addressRange(value: string, rules: RangeRules): { cidr: string; family: AddressFamily } | { problem: string } {
    const what = rules.family === "ipv4" ? "an IPv4" : rules.family === "ipv6" ? "an IPv6" : "an IPv4 or IPv6";
    const notRange = { problem: `${quoted(value)} is not ${what} address or CIDR range` };
    if (value.includes("%")) return { problem: `${quoted(value)} has a zone id (%…); give a plain address or CIDR range` };
    const [address, prefixText, ...extra] = value.split("/");
    if (extra.length > 0 || !ipaddr.isValid(address)) return notRange;
    const ip = ipaddr.parse(address);
    const family = ip.kind();
    if (family === "ipv4" && !ipaddr.IPv4.isValidFourPartDecimal(address)) return notRange;
    if (rules.family !== "any" && family !== rules.family) return notRange;
    const bits = family === "ipv4" ? 32 : 128;
    if (prefixText !== undefined && !/^(?:0|[1-9][0-9]{0,2})$/.test(prefixText)) return notRange;
    const prefix = prefixText === undefined ? bits : Number(prefixText);
    if (prefix > bits) return notRange;
    const network = (
        family === "ipv4"
            ? ipaddr.IPv4.networkAddressFromCIDR(`${address}/${prefix}`)
            : ipaddr.IPv6.networkAddressFromCIDR(`${address}/${prefix}`)
    ).toString();
    if (network !== ip.toString())
        return { problem: `${quoted(value)} has bits set after the /${prefix} prefix; the range is ${network}/${prefix}` };
    const min = rules.minPrefix?.[family];
    if (min !== undefined && prefix < min) {
        return {
            problem: `${quoted(value)} is wider than /${min}: it would let ${prefix === 0 ? "every host on the Internet" : "a large part of the Internet"} send as the domain`,
        };
    }
    if (family === "ipv6" && ip.range() === "ipv4Mapped")
        return {
            problem: `${quoted(value)} is an IPv4-mapped IPv6 address (::ffff:…), which never appears on the wire; give the IPv4 address`,
        };
    if (rules.globalOnly) {
        const local = NON_GLOBAL[ip.range()];
        if (local !== undefined) return { problem: `${quoted(value)} is ${local} address, never the source of mail from the Internet` };
    }
    return { cidr: `${network}/${prefix}`, family };
}

/**
 * Key types an OpenSSH authorized_keys line may start with: the curve their blob names, and
 * whether it is a security-key type (its blob ends with an application string, `ssh:` by default).
 */
const SSH_KEY_TYPES: Readonly<Record<string, { curve?: string; securityKey?: boolean }>> = {
    "ssh-ed25519": {},
    "ssh-rsa": {},
    "ecdsa-sha2-nistp256": { curve: "nistp256" },
    "ecdsa-sha2-nistp384": { curve: "nistp384" },
    "ecdsa-sha2-nistp521": { curve: "nistp521" },
    "sk-ssh-ed25519@openssh.com": { securityKey: true },
    "sk-ecdsa-sha2-nistp256@openssh.com": { curve: "nistp256", securityKey: true },
};
/** An ECDSA curve's JWK name and coordinate size in bytes (RFC 5656 §10.1). */
const SSH_CURVES: Readonly<Record<string, { jwk: string; bytes: number }>> = {
    nistp256: { jwk: "P-256", bytes: 32 },
    nistp384: { jwk: "P-384", bytes: 48 },
    nistp521: { jwk: "P-521", bytes: 66 },
};

/** Whether `point` is an uncompressed point (0x04 ‖ x ‖ y) on `curve` (RFC 5656 §3.1). */
function onCurve(point: Buffer, curve: string): boolean {
    const { jwk, bytes } = SSH_CURVES[curve];
    if (point.length !== 1 + 2 * bytes || point[0] !== 4) return false;
    try {
        createPublicKey({
            key: {
                kty: "EC",
                crv: jwk,
                x: point.subarray(1, 1 + bytes).toString("base64url"),
                y: point.subarray(1 + bytes).toString("base64url"),
            },
            format: "jwk",
        });
        return true;
    } catch {
        return false;
    }
}
/** RSA keys shorter than this are refused (OpenSSH refuses < 1024; NIST retired < 2048). */
export const SSH_RSA_MIN_BITS = 2048;

/** The SSH wire-format strings of a key blob (RFC 4253 §6.6): uint32 length, then the bytes. */
function sshStrings(blob: Buffer): Buffer[] | undefined {
    const out: Buffer[] = [];
    let offset = 0;
    while (offset < blob.length) {
        if (offset + 4 > blob.length) return undefined;
        const length = blob.readUInt32BE(offset);
        offset += 4;
        if (offset + length > blob.length) return undefined;
        out.push(blob.subarray(offset, offset + length));
        offset += length;
    }
    return out;
}

/**
 * Why `line` is not one OpenSSH public key (`<type> <base64> [comment]`) whose decoded blob
 * names the same type and holds a well-formed key, or undefined. Options before the type
 * (`command="…"`), line breaks and control characters are refused: the line is written to
 * authorized_keys as it is.
 */
export function sshPublicKeyProblem(line: string): string | undefined {
    const shown = quoted(line.length > 40 ? `${line.slice(0, 40)}…` : line);
    const notKey = `${shown} is not an OpenSSH public key line (ssh-ed25519 AAAA… comment)`;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    if (/[\x00-\x1f\x7f]/.test(line)) return `${shown} contains a line break or control character`;
    const [type, data] = line.split(" ");
    if (type === "ssh-dss") return `${shown}: DSA keys are refused by OpenSSH since 7.0; use ssh-ed25519`;
    if (!(type in SSH_KEY_TYPES) || data === undefined) return notKey;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data)) return notKey;
    const blob = Buffer.from(data, "base64");
    if (blob.toString("base64") !== data) return `${shown}: its key data is not canonical base64`;
    const strings = sshStrings(blob);
    if (!strings || strings.length === 0) return `${shown}: its key data is not an SSH public key`;
    const named = strings[0].toString("latin1");
    if (named !== type) return `${shown}: the line says ${type} but its key data holds ${quoted(named)}`;
    const { curve, securityKey } = SSH_KEY_TYPES[type];
    // A security key's blob ends with its application ("ssh:" unless chosen otherwise).
    const application = securityKey ? strings[strings.length - 1]?.toString("latin1") : undefined;
    if (securityKey && (strings.length < 3 || !application?.startsWith("ssh:")))
        return `${shown}: its key data does not end with a security key's application ("ssh:…")`;
    const key = securityKey ? strings.slice(0, -1) : strings;
    if (type.includes("ed25519") && (key.length !== 2 || key[1].length !== 32))
        return `${shown}: its key data is not a 32-byte Ed25519 key`;
    if (curve !== undefined && (key.length !== 3 || key[1].toString("latin1") !== curve || !onCurve(key[2], curve)))
        return `${shown}: its key data is not a ${curve} key (a point on the curve)`;
    if (type === "ssh-rsa") {
        if (strings.length !== 3) return `${shown}: its key data is not an RSA key`;
        const [, e, n] = strings;
        try {
            const key = createPublicKey({ key: { kty: "RSA", e: e.toString("base64url"), n: n.toString("base64url") }, format: "jwk" });
            const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
            if (bits < SSH_RSA_MIN_BITS) return `${shown}: an RSA key of ${bits} bits; at least ${SSH_RSA_MIN_BITS} (or use ssh-ed25519)`;
        } catch {
            return `${shown}: its key data is not an RSA key`;
        }
    }
    return undefined;
}

/**
 * The certificates of a PEM bundle, re-encoded from their parsed form (so nothing but
 * certificates reaches the host), or why it is refused: no certificate, a block of another kind
 * (a private key!), or a certificate that does not parse.
 */
export function certificateBundle(pem: string): { pem: string; count: number } | { problem: string } {
    const blocks = [...pem.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g)];
    const certificates: string[] = [];
    for (const [block, begin, , end] of blocks) {
        if (begin !== end) return { problem: `has a "${begin}" block ending as "${end}"` };
        if (begin !== "CERTIFICATE") return { problem: `holds a ${begin} block; give only CA certificates (PEM "CERTIFICATE" blocks)` };
        try {
            certificates.push(new X509Certificate(block).toString());
        } catch {
            return { problem: `certificate ${certificates.length + 1} does not parse as X.509` };
        }
    }
    if (certificates.length === 0) return { problem: 'is not PEM text with at least one "CERTIFICATE" block' };
    return { pem: certificates.join(""), count: certificates.length };
}

/**
 * Why `value` is not an https URL a shell script and certbot can take as they are: no white
 * space, quotes, backslashes or control characters, a host name, no user or password, no fragment.
 */
export function httpsUrlProblem(value: string): string | undefined {
    const shown = quoted(value);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    if (/[\s"'`\\$<>{}|^\x00-\x1f\x7f]/.test(value)) return `${shown} contains white space, quotes or other characters a URL does not`;
    if (!URL.canParse(value)) return `${shown} is not a URL`;
    const url = new URL(value);
    if (url.protocol !== "https:") return `${shown} is not an https:// URL`;
    if (url.username !== "" || url.password !== "") return `${shown} holds a user name or password`;
    // What reaches the host is the text as given, so it must already be in the form a URL parser
    // leaves alone: `https://` then the host (no `https:host/…`, no `https:///…`, no IDN).
    const authority = /^https:\/\/([^/?#]*)/.exec(value)?.[1];
    if (authority === undefined || authority === "") return `${shown} has no host after https://`;
    if (authority.toLowerCase() !== url.host)
        return `${shown}: write the host as ${JSON.stringify(url.host)} (ASCII, as a URL parser reads it)`;
    const hostIssue = /^[0-9.]+$|^\[/.test(url.hostname) ? undefined : domainProblem(url.hostname);
    if (hostIssue) return `${shown}: host ${JSON.stringify(url.hostname)} ${hostIssue}`;
    if (url.hash !== "") return `${shown} has a fragment (#…)`;
    return undefined;
}

/** The first value given twice in `values`, or undefined. */
export function firstDuplicate(values: readonly string[]): string | undefined {
    return values.find((value, i) => values.indexOf(value) !== i);
}

/** Whether `name` is `domain` or below it (for callers outside this module). */
export function isWithin(name: string, domain: string): boolean {
    return within(name, domain);
}
