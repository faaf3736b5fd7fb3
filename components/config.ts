import { getDomain } from "tldts";
import { BackupSchedule, DmarcAlignment, DmarcPolicy, HostProvider, type MailServerArgs, SpfAll } from "./args";
import { labelProblem, MAX_NAME_LENGTH } from "./dnsName";
import {
    CLOUDFLARE_ZONE_ID,
    extraDomainsProblem,
    type MailDomain,
    parseExtraDomain,
    type SigningDomain,
    selectorProblem,
    type ZoneRef,
} from "./domains";
import { MailServerArgumentError } from "./errors";
import { DEFAULT_SIZES, defaultImage, IMAGES, imageFamily, MAILBOX_SIZES } from "./images";
import { type MailSettings, mailSystemProblem, parseAlias, parseApp, parseMailbox } from "./mailboxes";
import { parseSmarthost, type Smarthost, smarthostPasswordProblem, smarthostUserProblem } from "./smarthost";
import {
    addressRange,
    certificateBundle,
    dmarcReportUri,
    firstDuplicate,
    httpsUrlProblem,
    isWithin,
    mailboxProblem,
    type RangeRules,
    registrableDomainProblem,
    sshPublicKeyProblem,
} from "./validation";

/** Everything the host's user data is rendered from, and nothing else (see renderUserData). */
export interface HostSettings {
    readonly domain: string;
    readonly fqdn: string;
    readonly operatorEmail: string;
    readonly ipv6: boolean;
    readonly dkimSelector: string;
    /** The further mail domains and the selectors they sign with (extraDomains). */
    readonly extraDomains: readonly SigningDomain[];
    readonly acmeDirectoryUrl: string;
    readonly acmeCaBundle: string | undefined;
    readonly sshPublicKeys: readonly string[];
    /** Where the admin (sshPublicKeys) may log in from: sshd's AllowUsers, besides the cloud firewall. */
    readonly sshAllowedCidrs: readonly string[];
    /** Mailboxes and aliases; none: send-only. */
    readonly mail: MailSettings;
    /** Networks (CIDR) that may relay without logging in, their mail signed: Postfix's mynetworks and OpenDKIM's InternalHosts. */
    readonly relayNetworks: readonly string[];
    /** The relay that takes every outbound message; undefined: the host delivers to each MX itself. */
    readonly smarthost: Smarthost | undefined;
    /** Whether postscreen and rspamd ask DNS blocklists about inbound clients and senders. */
    readonly dnsBlocklists: boolean;
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
    /** Selectors of earlier DKIM keys that stay published (with their keys). */
    readonly dkimPreviousSelectors: readonly string[];
    /** Where `pulumi up` connects from to configure the host (port 22). */
    readonly deployFrom: { readonly ipv4: readonly string[]; readonly ipv6: readonly string[] };
    readonly hostGeneration: number;
    readonly host: HostSettings;
    readonly dns: DnsSettings;
    readonly provider: HostProvider;
    readonly region: string;
    readonly size: string;
    /** The provider's disk backups. */
    readonly backups: BackupSchedule;
    readonly image: string;
    readonly linodeLabel: string;
    /** CIDR ranges, IPv4 and IPv6 apart. */
    readonly sshAllowed: { readonly ipv4: readonly string[]; readonly ipv6: readonly string[] };
    readonly zone: ZoneRef;
    /** The further mail domains, each with its zone and keys. */
    readonly extraDomains: readonly MailDomain[];
    /** Passwords chosen for mailboxes, by address (secret); the others are generated. */
    readonly mailboxPasswords: Readonly<Record<string, string>>;
    /** The smarthost login's password (secret); undefined without a login. */
    readonly smarthostPassword: string | undefined;
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
    dnsBlocklists: true,
    acmeDirectoryUrl: "https://acme-v02.api.letsencrypt.org/directory",
    deployFromCidrs: ["0.0.0.0/0", "::/0"],
    hostGeneration: 1,
} as const;

/** A chosen mailbox password is at least this long (generated ones are 24 letters and digits). */
export const MIN_PASSWORD_LENGTH = 12;

/** The widest relay network: a range that lets many hosts send unauthenticated mail as the server is an open relay in all but name. */
export const RELAY_MIN_PREFIX = { ipv4: 16, ipv6: 32 } as const;

/** RFC 7208 §4.6.4: at most 10 terms that cause DNS lookups. */
export const SPF_MAX_LOOKUPS = 10;

const LINODE_LABEL = /^[a-zA-Z](?:[a-zA-Z0-9]|[-_.](?![-_.]))*[a-zA-Z0-9]$/;
const SLUG = /^[a-z0-9][a-z0-9-]*$/;
/** SPF ranges wider than these let a large part of the Internet send as the domain. */
const SPF_MIN_PREFIX = { ipv4: 8, ipv6: 16 } as const;

function fail(argument: string, problem: string | undefined): never {
    throw new MailServerArgumentError(argument, problem ?? "is not valid");
}

function oneOf<T extends string>(argument: string, value: unknown, allowed: Record<string, T>): T {
    const values = Object.values(allowed);
    if (!values.includes(value as T)) {
        fail(argument, `${JSON.stringify(value)} is not one of ${values.join(", ")}`);
    }
    return value as T;
}

function text(argument: string, value: unknown, what: string): string {
    if (typeof value !== "string" || value === "") fail(argument, `required: ${what}`);
    return value;
}

/** A list of strings, each given once (`secret`: the duplicate is not quoted in the error). */
function list(argument: string, value: unknown, secret = false): string[] {
    if (value === undefined) return [];
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) fail(argument, "must be a list of strings");
    const twice = firstDuplicate(value as string[]);
    if (twice !== undefined && secret) fail(argument, "an entry is given twice");
    if (twice !== undefined) fail(argument, `${JSON.stringify(twice)} is given twice`);
    return value as string[];
}

/** A list of one-line entries, each parsed, each address given once. */
function parsedList<T>(
    argument: string,
    value: unknown,
    parse: (line: string) => { value: T } | { problem: string },
    address: (entry: T) => string,
): T[] {
    const entries = list(argument, value).map((line) => {
        const parsed = parse(line);
        if ("problem" in parsed) fail(argument, parsed.problem);
        return parsed.value;
    });
    const twice = firstDuplicate(entries.map(address));
    if (twice !== undefined) fail(argument, `${JSON.stringify(twice)} is given twice`);
    return entries;
}

function domainName(argument: string, value: unknown, allowUnderscore = false): string {
    const name = text(argument, value, "a domain name such as example.com");
    const problem = registrableDomainProblem(name, allowUnderscore);
    if (problem) fail(argument, `${JSON.stringify(name)} ${problem}`);
    return name;
}

function ranges(argument: string, values: readonly string[], rules: RangeRules): Array<{ cidr: string; family: "ipv4" | "ipv6" }> {
    const out = values.map((value) => {
        const range = addressRange(value, rules);
        if ("problem" in range) fail(argument, range.problem);
        return range;
    });
    const twice = firstDuplicate(out.map((r) => r.cidr));
    if (twice !== undefined) fail(argument, `${twice} is given twice`);
    return out;
}

/** Validate `args` and apply defaults. Throws MailServerArgumentError naming the argument. */
export function resolveConfig(args: MailServerArgs): MailServerConfig {
    if (args === null || typeof args !== "object") fail("args", "required");
    const domain = domainName("domain", args.domain);
    const hostLabel = args.hostLabel ?? DEFAULTS.hostLabel;
    const labelIssue = typeof hostLabel === "string" ? labelProblem(hostLabel) : "must be a string";
    if (typeof hostLabel !== "string" || hostLabel !== hostLabel.toLowerCase() || labelIssue) {
        fail("hostLabel", `${JSON.stringify(hostLabel)} is not a lower-case DNS label: ${labelIssue ?? "must be lower case"}`);
    }
    const fqdn = `${hostLabel}.${domain}`;
    if (fqdn.length > MAX_NAME_LENGTH) {
        fail("hostLabel", `the host name "${fqdn}" is ${fqdn.length} characters; DNS names are at most ${MAX_NAME_LENGTH}`);
    }
    const extraDomains = parsedList(
        "extraDomains",
        args.extraDomains,
        (line) => parseExtraDomain(line, DEFAULTS.dkimSelector),
        (d) => d.name,
    );
    const extraProblem = extraDomainsProblem(extraDomains, domain, fqdn);
    if (extraProblem) fail("extraDomains", extraProblem);
    /** Every mail domain of the server, the primary first. */
    const domains = [domain, ...extraDomains.map((d) => d.name)];
    const operatorEmail = text("operatorEmail", args.operatorEmail, "an e-mail address hosted outside the mail domains");
    const operatorProblem = mailboxProblem(operatorEmail, domains);
    if (operatorProblem) fail("operatorEmail", operatorProblem);

    const mailboxes = parsedList(
        "mailboxes",
        args.mailboxes,
        (line) => parseMailbox(line, domains),
        (m) => m.address,
    );
    const aliases = parsedList(
        "aliases",
        args.aliases,
        (line) => parseAlias(line, domains),
        (a) => a.address,
    );
    const apps = parsedList(
        "submissionApps",
        args.submissionApps,
        (address) => parseApp(address, domains),
        (address) => address,
    );
    const mail: MailSettings = { mailboxes, aliases, apps };
    const mailProblem = mailSystemProblem(mail, domains, fqdn);
    if (mailProblem) fail(/^application logins |is an application login and/.test(mailProblem) ? "submissionApps" : "aliases", mailProblem);
    const mailboxPasswords: Record<string, string> = {};
    for (const line of list("mailboxPasswords", args.mailboxPasswords, true)) {
        // Never quote the line: it holds a password.
        const space = line.indexOf(" ");
        const address = space < 0 ? line : line.slice(0, space);
        const password = space < 0 ? "" : line.slice(space + 1);
        if (!mailboxes.some((m) => m.address === address))
            fail("mailboxPasswords", `an entry does not start with a mailbox of mailboxes and a space ("alice@${domain} <password>")`);
        if (address in mailboxPasswords) fail("mailboxPasswords", `${address} is given twice`);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
        if (password.length < MIN_PASSWORD_LENGTH || /[\x00-\x1f\x7f]/.test(password))
            fail(
                "mailboxPasswords",
                `the password of ${address} is shorter than ${MIN_PASSWORD_LENGTH} characters or holds a control character`,
            );
        mailboxPasswords[address] = password;
    }

    const provider = oneOf("provider", args.provider, HostProvider);
    if (args.region === undefined || args.region === null) fail("region", "required: a region slug such as fra1 or eu-central");
    if (typeof args.region !== "string" || !SLUG.test(args.region)) {
        fail("region", `${JSON.stringify(args.region)} is not a region slug such as fra1 or eu-central`);
    }
    const defaultSize = (mailboxes.length > 0 ? MAILBOX_SIZES : DEFAULT_SIZES)[provider];
    const size = args.size ?? defaultSize;
    if (typeof size !== "string" || !SLUG.test(size)) fail("size", `${JSON.stringify(size)} is not a plan slug such as ${defaultSize}`);
    // Mail is the one thing on a host with mailboxes that `pulumi up` cannot rebuild.
    const backups = oneOf("backups", args.backups ?? (mailboxes.length > 0 ? BackupSchedule.Daily : BackupSchedule.Off), BackupSchedule);
    const image = args.image ?? defaultImage(provider);
    if (typeof image !== "string" || imageFamily(provider, image) === undefined) {
        const allowed = IMAGES[provider].map(([name]) => name).join(", ");
        fail("image", `${JSON.stringify(image)} is not a supported image on ${provider}; use ${allowed}`);
    }
    const linodeLabel = args.linodeLabel ?? fqdn;
    if (
        provider === HostProvider.Linode &&
        (typeof linodeLabel !== "string" || linodeLabel.length < 3 || linodeLabel.length > 50 || !LINODE_LABEL.test(linodeLabel))
    ) {
        fail(
            "linodeLabel",
            `${JSON.stringify(linodeLabel)} is not a valid Linode label: 3–50 characters, starting with a letter, ending with a letter or digit, ` +
                `only letters, digits, "-", "_" and "." and no two of those in a row (set linodeLabel when the FQDN does not fit)`,
        );
    }

    const sshPublicKeys = list("sshPublicKeys", args.sshPublicKeys);
    for (const key of sshPublicKeys) {
        const problem = sshPublicKeyProblem(key);
        if (problem) fail("sshPublicKeys", problem);
    }
    const sshRanges = ranges("sshAllowedCidrs", list("sshAllowedCidrs", args.sshAllowedCidrs), { family: "any" });
    const deployRanges = ranges("deployFromCidrs", list("deployFromCidrs", args.deployFromCidrs ?? [...DEFAULTS.deployFromCidrs]), {
        family: "any",
    });
    if (deployRanges.length === 0) fail("deployFromCidrs", "is empty: pulumi up could not reach the host to configure it");
    const hostGeneration = args.hostGeneration ?? DEFAULTS.hostGeneration;
    if (typeof hostGeneration !== "number" || !Number.isSafeInteger(hostGeneration) || hostGeneration < 1) {
        fail("hostGeneration", `${JSON.stringify(hostGeneration)} is not a whole number from 1 up`);
    }

    if (args.cloudflareZoneId !== undefined && args.cloudflareZoneName !== undefined) {
        fail("cloudflareZoneId", "give either cloudflareZoneId or cloudflareZoneName, not both");
    }
    if (typeof args.cloudflareZoneId === "string" && !CLOUDFLARE_ZONE_ID.test(args.cloudflareZoneId)) {
        fail("cloudflareZoneId", `${JSON.stringify(args.cloudflareZoneId)} is not a Cloudflare zone id (32 hexadecimal characters)`);
    }
    let zone: MailServerConfig["zone"];
    if (args.cloudflareZoneId !== undefined) {
        zone = { id: args.cloudflareZoneId };
    } else {
        const name = domainName("cloudflareZoneName", args.cloudflareZoneName ?? getDomain(domain) ?? domain);
        if (!isWithin(domain, name)) {
            fail("cloudflareZoneName", `"${name}" does not contain the mail domain "${domain}"`);
        }
        zone = { name };
    }

    const ttl = args.dnsTtl ?? DEFAULTS.dnsTtl;
    if (typeof ttl !== "number" || !Number.isInteger(ttl) || (ttl !== 1 && (ttl < 60 || ttl > 86400))) {
        fail("dnsTtl", `${JSON.stringify(ttl)} is not 1 (automatic) or a whole number of seconds from 60 to 86400`);
    }

    const spfIncludes = list("spfIncludes", args.spfIncludes).map((v) => domainName("spfIncludes", v, true));
    const included = spfIncludes.find((name) => domains.includes(name));
    if (included !== undefined)
        fail("spfIncludes", `"${included}" is a mail domain of this server: including it is a loop (SPF permerror)`);
    if (spfIncludes.length > SPF_MAX_LOOKUPS) {
        fail(
            "spfIncludes",
            `${spfIncludes.length} DNS-querying SPF terms; RFC 7208 allows at most ${SPF_MAX_LOOKUPS}, counting those nested in each include`,
        );
    }
    const spfRules = { minPrefix: SPF_MIN_PREFIX, globalOnly: true } as const;
    const spfIp4 = ranges("spfIp4", list("spfIp4", args.spfIp4), { family: "ipv4", ...spfRules }).map((r) => r.cidr);
    const spfIp6 = ranges("spfIp6", list("spfIp6", args.spfIp6), { family: "ipv6", ...spfRules }).map((r) => r.cidr);
    const spfAllValue = args.spfAll ?? DEFAULTS.spfAll;
    if (spfAllValue === ("+all" as SpfAll) || spfAllValue === ("?all" as SpfAll)) {
        fail("spfAll", `"${spfAllValue}" lets any host send as the domain; use "-all" (default) or "~all"`);
    }
    const spfAll = oneOf("spfAll", spfAllValue, SpfAll);

    const dkimSelector = args.dkimSelector ?? DEFAULTS.dkimSelector;
    if (typeof dkimSelector !== "string") fail("dkimSelector", "must be a string");
    const selectorIssue = selectorProblem(dkimSelector);
    if (selectorIssue) fail("dkimSelector", selectorIssue);

    const dkimPreviousSelectors = list("dkimPreviousSelectors", args.dkimPreviousSelectors);
    for (const selector of dkimPreviousSelectors) {
        const issue = selectorProblem(selector);
        if (issue) fail("dkimPreviousSelectors", issue);
    }
    if (dkimPreviousSelectors.includes(dkimSelector)) {
        fail("dkimPreviousSelectors", `"${dkimSelector}" is the signing selector (dkimSelector); list only earlier ones`);
    }

    const dmarcPolicy = oneOf("dmarcPolicy", args.dmarcPolicy ?? DEFAULTS.dmarcPolicy, DmarcPolicy);
    const dmarcAlignment = oneOf("dmarcAlignment", args.dmarcAlignment ?? DEFAULTS.dmarcAlignment, DmarcAlignment);
    const dmarcRua = list("dmarcRua", args.dmarcRua).map((v) => {
        const report = dmarcReportUri(v);
        if ("problem" in report) fail("dmarcRua", report.problem);
        return report.uri;
    });
    const ruaTwice = firstDuplicate(dmarcRua);
    if (ruaTwice !== undefined) fail("dmarcRua", `${ruaTwice} is given twice`);

    const dns: DnsSettings = { ttl, spfIncludes, spfIp4, spfIp6, spfAll, dmarcPolicy, dmarcRua, dmarcAlignment };

    const ipv6 = args.ipv6 ?? DEFAULTS.ipv6;
    if (typeof ipv6 !== "boolean") fail("ipv6", `${JSON.stringify(ipv6)} is not true or false`);

    const relayNetworks = ranges("relayNetworks", list("relayNetworks", args.relayNetworks), { family: "any", globalOnly: true }).map(
        (r) => {
            const prefix = Number(r.cidr.split("/")[1]);
            if (prefix < RELAY_MIN_PREFIX[r.family])
                fail(
                    "relayNetworks",
                    `${r.cidr} is wider than /${RELAY_MIN_PREFIX[r.family]}: every host in it could send mail as the server without logging in`,
                );
            if (r.family === "ipv6" && !ipv6)
                fail("relayNetworks", `${r.cidr} is an IPv6 range, but ipv6 is off: the server does not listen on IPv6`);
            return r.cidr;
        },
    );

    const { smarthost, smarthostPassword } = smarthostSettings(args, dns);

    const dnsBlocklists = args.dnsBlocklists ?? DEFAULTS.dnsBlocklists;
    if (typeof dnsBlocklists !== "boolean") fail("dnsBlocklists", `${JSON.stringify(dnsBlocklists)} is not true or false`);

    const acmeDirectoryUrl = args.acmeDirectoryUrl ?? DEFAULTS.acmeDirectoryUrl;
    if (typeof acmeDirectoryUrl !== "string") fail("acmeDirectoryUrl", "must be an https:// URL of an ACME directory");
    const urlProblem = httpsUrlProblem(acmeDirectoryUrl);
    if (urlProblem) fail("acmeDirectoryUrl", `${urlProblem}; give the https:// URL of an ACME directory`);
    let acmeCaBundle: string | undefined;
    if (args.acmeCaBundle !== undefined) {
        if (typeof args.acmeCaBundle !== "string") fail("acmeCaBundle", "must be PEM text");
        const bundle = certificateBundle(args.acmeCaBundle);
        if ("problem" in bundle) fail("acmeCaBundle", bundle.problem);
        acmeCaBundle = bundle.pem;
    }

    return {
        host: {
            domain,
            fqdn,
            operatorEmail,
            ipv6,
            dkimSelector,
            extraDomains: extraDomains.map((d) => ({ domain: d.name, selector: d.dkimSelector })),
            acmeDirectoryUrl,
            acmeCaBundle,
            sshPublicKeys,
            sshAllowedCidrs: sshRanges.map((r) => r.cidr),
            mail,
            relayNetworks,
            smarthost,
            dnsBlocklists,
        },
        dns,
        provider,
        region: args.region,
        size,
        backups,
        image,
        linodeLabel,
        sshAllowed: {
            ipv4: sshRanges.filter((r) => r.family === "ipv4").map((r) => r.cidr),
            ipv6: sshRanges.filter((r) => r.family === "ipv6").map((r) => r.cidr),
        },
        deployFrom: {
            ipv4: deployRanges.filter((r) => r.family === "ipv4").map((r) => r.cidr),
            ipv6: deployRanges.filter((r) => r.family === "ipv6").map((r) => r.cidr),
        },
        hostGeneration,
        dkimPreviousSelectors,
        zone,
        extraDomains,
        mailboxPasswords,
        smarthostPassword,
    };
}

/** The smarthost and its login; refused without an SPF entry for the relay's addresses. The password is never quoted. */
function smarthostSettings(
    args: MailServerArgs,
    dns: DnsSettings,
): { smarthost: Smarthost | undefined; smarthostPassword: string | undefined } {
    const optional = (argument: "smarthost" | "smarthostUser" | "smarthostPassword") => {
        const value = args[argument];
        if (value !== undefined && typeof value !== "string") fail(argument, "must be a string");
        return value === "" ? undefined : value;
    };
    const relayText = optional("smarthost");
    const user = optional("smarthostUser");
    const password = optional("smarthostPassword");
    if (relayText === undefined) {
        if (user !== undefined) fail("smarthostUser", "is set, but smarthost is not: give the relay as smarthost (host:port)");
        if (password !== undefined) fail("smarthostPassword", "is set, but smarthost is not: give the relay as smarthost (host:port)");
        return { smarthost: undefined, smarthostPassword: undefined };
    }
    const relay = parseSmarthost(relayText);
    if ("problem" in relay) fail("smarthost", relay.problem);
    if (user !== undefined) {
        const problem = smarthostUserProblem(user);
        if (problem) fail("smarthostUser", problem);
    }
    if ((user === undefined) !== (password === undefined))
        fail(user === undefined ? "smarthostUser" : "smarthostPassword", "give both smarthostUser and smarthostPassword, or neither");
    if (password !== undefined) {
        const problem = smarthostPasswordProblem(password);
        if (problem) fail("smarthostPassword", problem);
    }
    if (dns.spfIncludes.length + dns.spfIp4.length + dns.spfIp6.length === 0)
        fail(
            "smarthost",
            `mail relayed through ${relay.value.host} leaves from its addresses, which the domain's SPF must list or receivers see an SPF fail: ` +
                "add the relay's include domain to spfIncludes (its documentation names it), or its addresses to spfIp4/spfIp6",
        );
    return { smarthost: { ...relay.value, user }, smarthostPassword: password };
}

/** Every mail domain of the server with its zone and keys, the primary (domain) first. */
export function mailDomains(config: Pick<MailServerConfig, "host" | "zone" | "dkimPreviousSelectors" | "extraDomains">): MailDomain[] {
    return [
        {
            name: config.host.domain,
            zone: config.zone,
            dkimSelector: config.host.dkimSelector,
            dkimPreviousSelectors: config.dkimPreviousSelectors,
        },
        ...config.extraDomains,
    ];
}

/** The domains the host signs and receives mail for, the primary first. */
export function signingDomains(host: Pick<HostSettings, "domain" | "dkimSelector" | "extraDomains">): SigningDomain[] {
    return [{ domain: host.domain, selector: host.dkimSelector }, ...host.extraDomains];
}
