import type * as pulumi from "@pulumi/pulumi";
import * as ipaddr from "ipaddr.js";
import { getDomain } from "tldts";
import { DmarcAlignment, DmarcPolicy, HostProvider, MailServerArgs, SpfAll } from "./args";
import { domainProblem, labelProblem, MAX_NAME_LENGTH } from "./dnsName";
import { MailServerArgumentError } from "./errors";
import { DEFAULT_SIZES, defaultImage, IMAGES, imageFamily } from "./images";

/** Everything the host's user data is rendered from, and nothing else (see renderUserData). */
export interface HostSettings {
    readonly domain: string;
    readonly fqdn: string;
    readonly operatorEmail: string;
    readonly ipv6: boolean;
    readonly dkimSelector: string;
    readonly acmeDirectoryUrl: string;
    readonly acmeCaBundle: string | undefined;
    readonly sshPublicKeys: readonly string[];
}

/** DNS-only settings: changing them never touches the host. */
export interface DnsSettings {
    readonly ttl: number;
    readonly spfIncludes: readonly string[];
    readonly spfIp4: readonly string[];
    readonly spfIp6: readonly string[];
    readonly spfAll: SpfAll;
    readonly dmarcPolicy: DmarcPolicy;
    /** `mailto:` URIs. */
    readonly dmarcRua: readonly string[];
    readonly dmarcAlignment: DmarcAlignment;
}

/** MailServerArgs validated, with every default applied once. */
export interface MailServerConfig {
    readonly host: HostSettings;
    readonly dns: DnsSettings;
    readonly provider: HostProvider;
    readonly region: string;
    readonly size: string;
    readonly image: string;
    readonly linodeLabel: string;
    /** CIDR ranges, IPv4 and IPv6 apart. */
    readonly sshAllowed: { readonly ipv4: readonly string[]; readonly ipv6: readonly string[] };
    readonly zone: { readonly id: pulumi.Input<string> } | { readonly name: string };
}

export const DEFAULTS = {
    hostLabel: "mail",
    dnsTtl: 3600,
    spfAll: SpfAll.Fail,
    /** Chosen not to collide with selectors of common senders (google, k1, s1, selector1). */
    dkimSelector: "mailserver",
    dmarcPolicy: DmarcPolicy.Quarantine,
    dmarcAlignment: DmarcAlignment.Relaxed,
    ipv6: true,
    acmeDirectoryUrl: "https://acme-v02.api.letsencrypt.org/directory",
} as const;

/** RFC 7208 §4.6.4: at most 10 terms that cause DNS lookups. */
export const SPF_MAX_LOOKUPS = 10;

const LINODE_LABEL = /^[a-zA-Z](?:[a-zA-Z0-9]|[-_.](?![-_.]))*[a-zA-Z0-9]$/;
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const SSH_KEY =
    /^(?:ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}(?: [^\r\n]*)?$/;
const SLUG = /^[a-z0-9][a-z0-9-]*$/;

function fail(argument: string, problem: string): never {
    throw new MailServerArgumentError(argument, problem);
}

function oneOf<T extends string>(argument: string, value: unknown, allowed: Record<string, T>): T {
    const values = Object.values(allowed);
    if (!values.includes(value as T)) {
        fail(argument, `${JSON.stringify(value)} is not one of ${values.join(", ")}`);
    }
    return value as T;
}

function list(argument: string, value: unknown): string[] {
    if (value === undefined) return [];
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) fail(argument, "must be a list of strings");
    return value as string[];
}

/** Why `address` is not an e-mail address with a valid domain, or undefined. */
export function emailProblem(address: string): string | undefined {
    const at = address.lastIndexOf("@");
    if (at <= 0) return `${JSON.stringify(address)} is not an e-mail address (local@domain)`;
    const local = address.slice(0, at);
    const domain = address.slice(at + 1);
    if (local.length > 64 || !DOT_ATOM.test(local)) {
        return `${JSON.stringify(address)} is not an e-mail address: bad local part "${local}"`;
    }
    const problem = domainProblem(domain);
    return problem ? `${JSON.stringify(address)} is not an e-mail address: domain ${problem}` : undefined;
}

function email(argument: string, value: unknown): string {
    if (typeof value !== "string") fail(argument, "required: an e-mail address");
    const problem = emailProblem(value);
    if (problem) fail(argument, problem);
    return value;
}

function domainName(argument: string, value: unknown, allowUnderscore = false): string {
    if (typeof value !== "string" || value === "") fail(argument, "required: a domain name such as example.com");
    const problem = domainProblem(value, allowUnderscore);
    if (problem) fail(argument, `"${value}" ${problem}`);
    return value;
}

/** A plain address or CIDR of `kind`, returned as CIDR. */
function cidr(argument: string, value: string, kind: "ipv4" | "ipv6" | "any"): string {
    const [address, prefix] = value.split("/");
    const valid =
        ipaddr.isValid(address) &&
        (ipaddr.parse(address).kind() === "ipv6" || ipaddr.IPv4.isValidFourPartDecimal(address)) &&
        (prefix === undefined || ipaddr.isValidCIDR(value));
    const family = valid ? ipaddr.parse(address).kind() : undefined;
    if (!valid || (kind !== "any" && family !== kind)) {
        const what = kind === "ipv4" ? "an IPv4" : kind === "ipv6" ? "an IPv6" : "an IPv4 or IPv6";
        fail(argument, `"${value}" is not ${what} address or CIDR range`);
    }
    if (prefix !== undefined) return value;
    return `${value}/${family === "ipv4" ? 32 : 128}`;
}

/** Validate `args` and apply defaults. Throws MailServerArgumentError naming the argument. */
export function resolveConfig(args: MailServerArgs): MailServerConfig {
    if (args === null || typeof args !== "object") fail("args", "required");
    const domain = domainName("domain", args.domain);
    const hostLabel = args.hostLabel ?? DEFAULTS.hostLabel;
    const labelIssue = labelProblem(hostLabel);
    if (hostLabel !== hostLabel.toLowerCase() || labelIssue) {
        fail("hostLabel", `"${hostLabel}" is not a lower-case DNS label: ${labelIssue ?? "must be lower case"}`);
    }
    const fqdn = `${hostLabel}.${domain}`;
    if (fqdn.length > MAX_NAME_LENGTH) {
        fail("hostLabel", `the host name "${fqdn}" is ${fqdn.length} characters; DNS names are at most ${MAX_NAME_LENGTH}`);
    }
    const operatorEmail = email("operatorEmail", args.operatorEmail);
    const operatorDomain = operatorEmail.slice(operatorEmail.lastIndexOf("@") + 1);
    if (operatorDomain === domain || operatorDomain === fqdn) {
        fail(
            "operatorEmail",
            `"${operatorEmail}" is in the mail domain, which this server only forwards from (it has no mailboxes); use an address hosted elsewhere`,
        );
    }

    const provider = oneOf("provider", args.provider, HostProvider);
    if (typeof args.region !== "string" || !SLUG.test(args.region)) {
        fail("region", `${JSON.stringify(args.region)} is not a region slug such as fra1 or eu-central`);
    }
    const size = args.size ?? DEFAULT_SIZES[provider];
    if (!SLUG.test(size)) fail("size", `"${size}" is not a plan slug such as ${DEFAULT_SIZES[provider]}`);
    const image = args.image ?? defaultImage(provider);
    if (imageFamily(provider, image) === undefined) {
        const allowed = IMAGES[provider].map(([name]) => name).join(", ");
        fail("image", `"${image}" is not a supported image family on ${provider}; use one of ${allowed}`);
    }
    const linodeLabel = args.linodeLabel ?? fqdn;
    if (provider === HostProvider.Linode && (linodeLabel.length < 3 || linodeLabel.length > 50 || !LINODE_LABEL.test(linodeLabel))) {
        fail(
            "linodeLabel",
            `"${linodeLabel}" is not a valid Linode label: 3–50 characters, starting with a letter, ending with a letter or digit, ` +
                `only letters, digits, "-", "_" and "." and no two of those in a row (set linodeLabel when the FQDN does not fit)`,
        );
    }

    const sshPublicKeys = list("sshPublicKeys", args.sshPublicKeys);
    for (const key of sshPublicKeys) {
        if (!SSH_KEY.test(key)) fail("sshPublicKeys", `"${key.slice(0, 40)}" is not an OpenSSH public key line (ssh-ed25519 AAAA… comment)`);
    }
    const sshRanges = list("sshAllowedCidrs", args.sshAllowedCidrs).map((v) => cidr("sshAllowedCidrs", v, "any"));

    if (args.cloudflareZoneId !== undefined && args.cloudflareZoneName !== undefined) {
        fail("cloudflareZoneId", "give either cloudflareZoneId or cloudflareZoneName, not both");
    }
    if (typeof args.cloudflareZoneId === "string" && !/^[0-9a-f]{32}$/.test(args.cloudflareZoneId)) {
        fail("cloudflareZoneId", `"${args.cloudflareZoneId}" is not a Cloudflare zone id (32 hexadecimal characters)`);
    }
    let zone: MailServerConfig["zone"];
    if (args.cloudflareZoneId !== undefined) {
        zone = { id: args.cloudflareZoneId };
    } else {
        const name = domainName("cloudflareZoneName", args.cloudflareZoneName ?? getDomain(domain) ?? domain);
        if (domain !== name && !domain.endsWith(`.${name}`)) {
            fail("cloudflareZoneName", `"${name}" does not contain the mail domain "${domain}"`);
        }
        zone = { name };
    }

    const ttl = args.dnsTtl ?? DEFAULTS.dnsTtl;
    if (!Number.isInteger(ttl) || (ttl !== 1 && (ttl < 60 || ttl > 86400))) {
        fail("dnsTtl", `${ttl} is not 1 (automatic) or a whole number of seconds from 60 to 86400`);
    }

    const spfIncludes = list("spfIncludes", args.spfIncludes).map((v) => domainName("spfIncludes", v, true));
    if (spfIncludes.length > SPF_MAX_LOOKUPS) {
        fail(
            "spfIncludes",
            `${spfIncludes.length} DNS-querying SPF terms; RFC 7208 allows at most ${SPF_MAX_LOOKUPS}, counting those nested in each include`,
        );
    }
    const spfIp4 = list("spfIp4", args.spfIp4).map((v) => cidr("spfIp4", v, "ipv4"));
    const spfIp6 = list("spfIp6", args.spfIp6).map((v) => cidr("spfIp6", v, "ipv6"));
    const spfAllValue = args.spfAll ?? DEFAULTS.spfAll;
    if (spfAllValue === ("+all" as SpfAll) || spfAllValue === ("?all" as SpfAll)) {
        fail("spfAll", `"${spfAllValue}" lets any host send as the domain; use "-all" (default) or "~all"`);
    }
    const spfAll = oneOf("spfAll", spfAllValue, SpfAll);

    const dkimSelector = args.dkimSelector ?? DEFAULTS.dkimSelector;
    const selectorIssue = labelProblem(dkimSelector);
    if (dkimSelector !== dkimSelector.toLowerCase() || selectorIssue) {
        fail("dkimSelector", `"${dkimSelector}" is not a lower-case DNS label: ${selectorIssue ?? "must be lower case"}`);
    }

    const dmarcPolicy = oneOf("dmarcPolicy", args.dmarcPolicy ?? DEFAULTS.dmarcPolicy, DmarcPolicy);
    const dmarcAlignment = oneOf("dmarcAlignment", args.dmarcAlignment ?? DEFAULTS.dmarcAlignment, DmarcAlignment);
    const dmarcRua = list("dmarcRua", args.dmarcRua).map((v) => {
        const address = v.startsWith("mailto:") ? v.slice("mailto:".length) : v;
        const problem = emailProblem(address);
        if (problem) fail("dmarcRua", `${problem}; give an address or a mailto: URI`);
        return `mailto:${address}`;
    });

    const ipv6 = args.ipv6 ?? DEFAULTS.ipv6;
    if (typeof ipv6 !== "boolean") fail("ipv6", `${JSON.stringify(ipv6)} is not true or false`);

    const acmeDirectoryUrl = args.acmeDirectoryUrl ?? DEFAULTS.acmeDirectoryUrl;
    if (!URL.canParse(acmeDirectoryUrl) || new URL(acmeDirectoryUrl).protocol !== "https:") {
        fail("acmeDirectoryUrl", `"${acmeDirectoryUrl}" is not an https:// URL of an ACME directory`);
    }
    const acmeCaBundle = args.acmeCaBundle;
    if (acmeCaBundle !== undefined && !/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(acmeCaBundle)) {
        fail("acmeCaBundle", "is not PEM text with at least one CERTIFICATE block");
    }

    return {
        host: {
            domain,
            fqdn,
            operatorEmail,
            ipv6,
            dkimSelector,
            acmeDirectoryUrl,
            acmeCaBundle,
            sshPublicKeys,
        },
        dns: { ttl, spfIncludes, spfIp4, spfIp6, spfAll, dmarcPolicy, dmarcRua, dmarcAlignment },
        provider,
        region: args.region,
        size,
        image,
        linodeLabel,
        sshAllowed: {
            ipv4: sshRanges.filter((r) => !r.includes(":")),
            ipv6: sshRanges.filter((r) => r.includes(":")),
        },
        zone,
    };
}
