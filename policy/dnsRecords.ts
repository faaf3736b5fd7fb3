import { TXT_STRING_MAX, unchunkTxt } from "../components/records/txt";
import { TYPES } from "../components/resourceTypes";
import { isKnown, type StackResource, stringProp, UNKNOWN, type Unknown } from "./stackResource";

/** Cloudflare's DNS record (provider v5+). */
export const CLOUDFLARE_DNS_RECORD = TYPES.dnsRecord;
/** Cloudflare's deprecated DNS record (provider ≤ v4, `value` or `content`). */
export const CLOUDFLARE_RECORD = TYPES.legacyCloudflareRecord;
/** DigitalOcean's DNS record: `name` relative to `domain` (`@` = the apex), `value`. */
export const DIGITALOCEAN_DNS_RECORD = TYPES.doDnsRecord;

/** A DNS record of any supported provider, in one shape. */
export interface DnsRecordView {
    readonly resource: StackResource;
    readonly provider: "cloudflare" | "digitalocean";
    /** Upper case: `A`, `TXT`, … */
    readonly type: string | Unknown;
    /** Fully-qualified, lower case, no trailing dot, when it can be told. */
    readonly name: string | Unknown;
    /** The value as given to the provider (TXT: possibly quoted strings). */
    readonly content: string | Unknown;
    /** The property holding the value (`content` or `value`), for dependency lookups. */
    readonly contentProperty: string;
    /** Cloudflare only: proxied through Cloudflare (undefined = the provider default, not proxied). */
    readonly proxied?: boolean | Unknown;
}

/** A DNS name compared as receivers do: lower case, without the trailing dot. */
export function normalizeName(name: string): string {
    return name.toLowerCase().replace(/\.$/, "");
}

function upper(value: string | Unknown | undefined): string | Unknown | undefined {
    return isKnown(value) ? value.toUpperCase() : value;
}

function digitalOceanName(props: Readonly<Record<string, unknown>>): string | Unknown | undefined {
    const fqdn = stringProp(props.fqdn);
    if (isKnown(fqdn)) return normalizeName(fqdn);
    const name = stringProp(props.name);
    const domain = stringProp(props.domain);
    if (name === UNKNOWN || domain === UNKNOWN) return UNKNOWN;
    if (name === undefined || domain === undefined) return undefined;
    if (name.endsWith(".")) return normalizeName(name);
    return normalizeName(name === "@" ? domain : `${name}.${domain}`);
}

/** The resource as a DNS record, or undefined when it is not one (or lacks a name or type). */
export function dnsRecordView(resource: StackResource): DnsRecordView | undefined {
    const props = resource.props;
    let view: Omit<DnsRecordView, "resource" | "name" | "type" | "content"> & {
        name: string | Unknown | undefined;
        type: string | Unknown | undefined;
        content: string | Unknown | undefined;
    };
    if (resource.type === CLOUDFLARE_DNS_RECORD || resource.type === CLOUDFLARE_RECORD) {
        const contentProperty = props.content !== undefined || props.value === undefined ? "content" : "value";
        const name = stringProp(props.name);
        const proxied = props.proxied === UNKNOWN ? UNKNOWN : typeof props.proxied === "boolean" ? props.proxied : undefined;
        view = {
            provider: "cloudflare",
            type: upper(stringProp(props.type)),
            name: isKnown(name) ? normalizeName(name) : name,
            content: stringProp(props[contentProperty]),
            contentProperty,
            ...(proxied !== undefined ? { proxied } : {}),
        };
    } else if (resource.type === DIGITALOCEAN_DNS_RECORD) {
        view = {
            provider: "digitalocean",
            type: upper(stringProp(props.type)),
            name: digitalOceanName(props),
            content: stringProp(props.value),
            contentProperty: "value",
        };
    } else {
        return undefined;
    }
    if (view.name === undefined || view.type === undefined) return undefined;
    return { ...view, resource, name: view.name, type: view.type, content: view.content ?? "" };
}

/** Every DNS record among the resources. */
export function dnsRecords(resources: readonly StackResource[]): DnsRecordView[] {
    return resources.map(dnsRecordView).filter((r): r is DnsRecordView => r !== undefined);
}

/**
 * The character-strings of a TXT value: quoted strings (`"a" "b"`, as Cloudflare and zone files
 * take long values) are split; anything else is one string, given as is.
 */
export function txtStrings(content: string): string[] {
    if (content.startsWith('"')) {
        try {
            unchunkTxt(content);
            return (content.match(/"[^"]*"/g) ?? []).map((s) => s.slice(1, -1));
        } catch {
            // Not a clean sequence of quoted strings: treat it as one plain string.
        }
    }
    return [content];
}

/** The logical value of a TXT record: its strings concatenated with no separator (RFC 7208 §3.3, RFC 6376 §3.6.2.2). */
export function txtValue(content: string): string {
    return txtStrings(content).join("");
}

/** The strings of a TXT value longer than a character-string may be (255 octets). */
export function overlongStrings(content: string): string[] {
    return txtStrings(content).filter((s) => Buffer.byteLength(s, "utf8") > TXT_STRING_MAX);
}

/** A known MX target: the host part of the content (`10 mail.example.com.` or `mail.example.com`), normalized. */
export function mxTarget(record: DnsRecordView): string | undefined {
    if (record.type !== "MX" || !isKnown(record.content)) return undefined;
    const words = record.content.trim().split(/\s+/);
    const host = words[words.length - 1];
    const target = host === undefined ? "" : normalizeName(host);
    return target === "" ? undefined : target; // "." is a null MX (RFC 7505): no host
}
