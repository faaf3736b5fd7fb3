import * as pulumi from "@pulumi/pulumi";
import type { MailServerArgs } from "./args";
import { MailServerArgumentError } from "./errors";

/** A config value's type, as Pulumi.yaml declares it (arrays are arrays of strings). */
export type ConfigType = "string" | "integer" | "boolean" | "array";

/**
 * What changing a key on a running stack does: only DNS records change; the running host (or its
 * cloud resource) is changed in place, without reboot or replacement; or the machine is replaced
 * or powered off, which the change guard refuses unless hostGeneration is raised in the same run.
 */
export type ChangeKind = "dns-only" | "in-place" | "new-host";

/** One stack config key of the program: `mailserver:<key>`, the MailServerArgs field of the same name. */
export interface ConfigKey {
    readonly change: ChangeKind;
    /** For in-place keys: whether the host's configuration changes (the configuration step runs). */
    readonly onHost?: boolean;
    /** An exception to `change`, said in the README. */
    readonly changeNote?: string;
    readonly type: ConfigType;
    /**
     * The default Pulumi.yaml declares; absent means the key is required. For a string, `""` means
     * "not set": the component picks its own default (shown in {@link ConfigKey.defaultText}).
     */
    readonly default?: string | number | boolean | readonly string[];
    /** What the default is when it is computed by the component (for `""` defaults). */
    readonly defaultText?: string;
    /** One line for Pulumi.yaml's `description` and the README's table. */
    readonly description: string;
    /**
     * A secret: a value kept in plain text in the stack file is refused (argsFromConfig). Not
     * declared `secret: true` in Pulumi.yaml: the CLI would then refuse the key's default and make
     * it required (pkg/workspace/config.go, plan/pulumiConfig.ts).
     */
    readonly secret?: boolean;
}

/** The project name: Pulumi.yaml's `name`, the namespace of every key below. */
export const PROJECT = "mailserver";

/**
 * The program's config keys: the single source of Pulumi.yaml's `config:` block (test/project.test.ts
 * compares the file with {@link pulumiYamlConfig}), the README's table of keys, and
 * {@link argsFromConfig}. Every optional key has a default, so a stack that sets only the
 * required keys previews (the CLI treats a declared key without default as required).
 */
export const CONFIG_KEYS: Readonly<Record<keyof MailServerArgs, ConfigKey>> = {
    domain: {
        change: "in-place",
        onHost: true,
        changeNote:
            "records move to the new name; DigitalOcean renames the droplet (its PTR); the host takes the new name once its SPF and PTR are served; refused together with ipv6 off, and while there are mailboxes",
        type: "string",
        description: "Mail domain (example.com); MX, SPF, DKIM and DMARC are published for it. Lower-case ASCII, punycode for IDNs.",
    },
    hostLabel: {
        change: "in-place",
        onHost: true,
        changeNote: "as domain",
        type: "string",
        default: "mail",
        description: "Label of the mail host; its FQDN <hostLabel>.<domain> is its hostname, HELO name, certificate name and PTR.",
    },
    operatorEmail: {
        change: "in-place",
        onHost: true,
        type: "string",
        description: "ACME account e-mail, and where postmaster@ and abuse@ are forwarded. An address hosted outside the mail domain.",
    },
    provider: {
        change: "new-host",
        type: "string",
        description: "Host provider: digitalocean or linode.",
    },
    region: {
        change: "new-host",
        type: "string",
        description: "Provider region, e.g. fra1 (DigitalOcean) or eu-central (Linode).",
    },
    size: {
        change: "new-host",
        changeNote: "the provider powers the host off to move it; its disk and addresses stay",
        type: "string",
        default: "",
        defaultText: "s-1vcpu-512mb-10gb / g6-nanode-1",
        description: "Droplet size or Linode type; empty for the provider's smallest that runs the server.",
    },
    backups: {
        change: "in-place",
        changeNote: "the provider turns them on or off on the running host; turning them off deletes its existing backups",
        type: "string",
        default: "",
        defaultText: "daily with mailboxes, else off",
        description:
            "Provider backups of the whole disk: daily, weekly or off (DigitalOcean: +30 % / +20 % of the droplet price; Linode: from $2/month).",
    },
    image: {
        change: "new-host",
        type: "string",
        default: "",
        defaultText: "debian-13-x64 / linode/debian13",
        description: "Operating-system image: Debian 13; empty for the provider's Debian 13 image.",
    },
    linodeLabel: {
        change: "in-place",
        onHost: false,
        changeNote: "Linode renames the instance",
        type: "string",
        default: "",
        defaultText: "the FQDN",
        description: "Linode only: instance label (3-50 characters); empty for the FQDN.",
    },
    sshPublicKeys: {
        change: "in-place",
        onHost: true,
        type: "array",
        default: [],
        description: "OpenSSH public keys of the mailadmin sudo user (ssh-ed25519, ecdsa-sha2-*, ssh-rsa ≥ 2048 bits). None: no login.",
    },
    sshAllowedCidrs: {
        change: "in-place",
        onHost: true,
        changeNote: "the cloud firewall and sshd",
        type: "array",
        default: [],
        description: "Source ranges (IPv4 or IPv6 CIDR) the admin may log in from over SSH. None: no admin login.",
    },
    deployFromCidrs: {
        change: "in-place",
        onHost: false,
        changeNote: "the cloud firewall",
        type: "array",
        default: ["0.0.0.0/0", "::/0"],
        description: "Source ranges pulumi up connects from to configure the host over SSH (key-only, one forced command).",
    },
    hostGeneration: {
        change: "in-place",
        onHost: false,
        changeNote: "the opt-in itself: nothing changes by it alone",
        type: "integer",
        default: 1,
        description: "Raise it in the same run as a change that needs a new or powered-off host (provider, region, image, size).",
    },
    cloudflareZoneId: {
        change: "dns-only",
        type: "string",
        default: "",
        defaultText: "none",
        description: "Cloudflare zone id (32 hexadecimal characters); give this or cloudflareZoneName.",
    },
    cloudflareZoneName: {
        change: "dns-only",
        type: "string",
        default: "",
        defaultText: "registrable domain of domain",
        description: "Cloudflare zone name, looked up at preview; empty for the registrable domain of domain.",
    },
    dnsTtl: {
        change: "dns-only",
        type: "integer",
        default: 3600,
        description: "TTL of every record in seconds: 1 (Cloudflare automatic) or 60-86400.",
    },
    spfIncludes: {
        change: "dns-only",
        type: "array",
        default: [],
        description: "Other services sending as the domain, as SPF include domains (at most 10 lookups, nested ones count too).",
    },
    spfIp4: {
        change: "dns-only",
        type: "array",
        default: [],
        description: "Other IPv4 senders (address or CIDR, /8 or narrower) for the domain's SPF.",
    },
    spfIp6: {
        change: "dns-only",
        type: "array",
        default: [],
        description: "Other IPv6 senders (address or CIDR, /16 or narrower) for the domain's SPF.",
    },
    spfAll: {
        change: "dns-only",
        type: "string",
        default: "-all",
        description: "SPF all qualifier: -all (reject) or ~all (soft fail).",
    },
    dkimSelector: {
        change: "in-place",
        onHost: true,
        changeNote: "a new key: its record is published and waited for before the host signs with it",
        type: "string",
        default: "mailserver",
        description: "DKIM selector of the signing key; a new selector is a new key (rotation).",
    },
    dkimPreviousSelectors: {
        change: "dns-only",
        changeNote: "a selector removed from the list is retired: its record and key are deleted",
        type: "array",
        default: [],
        description: "Selectors of earlier keys kept published after a rotation; remove one a week or more later.",
    },
    extraDomains: {
        change: "in-place",
        onHost: true,
        changeNote:
            "an added domain gets its key, records and host configuration in one run; a removed one loses them (its mailboxes must go first)",
        type: "array",
        default: [],
        description:
            'Further mail domains on the same host: "example.org [zone=<name>|zoneId=<id>] [selector=<s>] [previousSelectors=<a>,<b>]".',
    },
    dmarcPolicy: {
        change: "dns-only",
        type: "string",
        default: "quarantine",
        description: "DMARC policy: none, quarantine or reject.",
    },
    dmarcRua: {
        change: "dns-only",
        type: "array",
        default: [],
        description: "Addresses (or mailto: URIs) receiving DMARC aggregate reports.",
    },
    dmarcAlignment: {
        change: "dns-only",
        type: "string",
        default: "relaxed",
        description: "DMARC alignment for DKIM and SPF: relaxed or strict.",
    },
    ipv6: {
        change: "in-place",
        onHost: true,
        changeNote:
            "off: Postfix restarts on IPv4 before the records go; on: it restarts with IPv6 once SPF and the PTR list the address; turning it off on DigitalOcean replaces the droplet: new-host there",
        type: "boolean",
        default: true,
        description: "Give the host IPv6 (AAAA, PTR, sending over IPv6); off sends over IPv4 only.",
    },
    mailboxes: {
        change: "in-place",
        onHost: true,
        changeNote:
            "a new mailbox gets its password and Maildir; a removed one can no longer log in or receive, and its mail stays on the host; the first mailbox on a send-only stack raises the DigitalOcean default size (new-host)",
        type: "array",
        default: [],
        description: "Mailboxes of the domain, read over IMAP: alice@example.com or alice@example.com quota=2G. None: send-only.",
    },
    aliases: {
        change: "in-place",
        onHost: true,
        type: "array",
        default: [],
        description: "Aliases: an address (or @domain, the catch-all) then its targets, mailboxes or outside addresses, one space apart.",
    },
    submissionApps: {
        change: "in-place",
        onHost: true,
        changeNote: "a new login gets its generated password; a removed one can no longer send",
        type: "array",
        default: [],
        description:
            "Application logins (billing@example.com): send through 587/465 as that address only, no mailbox; passwords in output appPasswords.",
    },
    relayNetworks: {
        change: "in-place",
        onHost: true,
        type: "array",
        default: [],
        description:
            "Networks (CIDR, at most /16 or /32) whose hosts may send through port 25 without logging in, signed like the host's mail.",
    },
    dnsBlocklists: {
        change: "in-place",
        onHost: true,
        type: "boolean",
        default: true,
        description:
            "Refuse clients listed by Spamhaus ZEN (postscreen) and score senders and links by rspamd's DNS lists; off without Internet access.",
    },
    mailboxPasswords: {
        change: "in-place",
        onHost: true,
        secret: true,
        changeNote: "the host gets the new hash; the old password stops working",
        type: "array",
        default: [],
        description:
            'Secret: chosen passwords, "alice@example.com <password>" (12+ characters); others are generated (output mailboxPasswords).',
    },
    smarthost: {
        change: "in-place",
        onHost: true,
        changeNote:
            "list the relay in SPF (spfIncludes/spfIp4/spfIp6) one pulumi up and dnsTtl before: the host sends through it as soon as it is set",
        type: "string",
        default: "",
        defaultText: "none: delivery to each MX on port 25",
        description: "Relay for all outbound mail when port 25 stays blocked: host:port (587 STARTTLS, 465 TLS, 2525), TLS verified.",
    },
    smarthostUser: {
        change: "in-place",
        onHost: true,
        type: "string",
        default: "",
        defaultText: "none",
        description: "Login name at the smarthost; empty when the relay authorizes by address.",
    },
    smarthostPassword: {
        change: "in-place",
        onHost: true,
        secret: true,
        type: "string",
        default: "",
        defaultText: "none",
        description: "Secret: password or API key of smarthostUser (pulumi config set --secret).",
    },
    acmeDirectoryUrl: {
        change: "in-place",
        onHost: true,
        type: "string",
        default: "https://acme-v02.api.letsencrypt.org/directory",
        description: "ACME directory (https) for the host certificate: Let's Encrypt production by default.",
    },
    acmeCaBundle: {
        change: "in-place",
        onHost: true,
        type: "string",
        default: "",
        defaultText: "none (the system trust store)",
        description: "PEM certificates certbot must trust for the ACME server's own HTTPS (test servers such as Pebble); empty for none.",
    },
};

/** Whether `key` (without namespace) is a secret key of the table. */
export function isSecretKey(key: string): boolean {
    return CONFIG_KEYS[key as keyof MailServerArgs]?.secret === true;
}

/** A config value as reports and logs may show it: a secret key's value as `[secret]`. */
export function shownValue(key: string, value: string): string {
    return isSecretKey(key) ? "[secret]" : value;
}

/** The `config:` block of Pulumi.yaml, as the table declares it. */
export function pulumiYamlConfig(): Record<string, Record<string, unknown>> {
    return Object.fromEntries(
        Object.entries(CONFIG_KEYS).map(([key, spec]) => [
            key,
            {
                type: spec.type,
                ...(spec.type === "array" ? { items: { type: "string" } } : {}),
                description: spec.description,
                ...(spec.default !== undefined ? { default: spec.default } : {}),
            },
        ]),
    );
}

/** Keys Pulumi.yaml declares without default: the CLI refuses to preview a stack that does not set them. */
export function requiredKeys(): string[] {
    return Object.entries(CONFIG_KEYS)
        .filter(([, spec]) => spec.default === undefined)
        .map(([key]) => key);
}

/** Edit distance, for naming the key a misspelled one was probably meant to be. */
function distance(a: string, b: string): number {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const row = [i];
        for (let j = 1; j <= b.length; j++) {
            row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        previous = row;
    }
    return previous[b.length];
}

/** The declared key closest to `key` (case-insensitive edit distance). */
export function closestKey(key: string): string {
    const known = Object.keys(CONFIG_KEYS);
    const score = (candidate: string) => distance(key.toLowerCase(), candidate.toLowerCase());
    return known.reduce((best, candidate) => (score(candidate) < score(best) ? candidate : best));
}

/**
 * Whether the CLI handed the key over as a secret: the Node.js language host lists the secret
 * keys in PULUMI_CONFIG_SECRET_KEYS (sdk/nodejs/cmd/pulumi-language-nodejs/main.go,
 * constructConfigSecretKeys), which the SDK's runtime.isConfigSecret reads (runtime/config.ts;
 * exported, though not in the typings).
 */
function isConfigSecret(fullKey: string): boolean {
    const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
    if (typeof runtime.isConfigSecret !== "function") throw new Error("@pulumi/pulumi no longer exports runtime.isConfigSecret");
    return runtime.isConfigSecret(fullKey);
}

/** Errors in the program's config: the key (with namespace) and what is wrong. */
export class ProgramConfigError extends MailServerArgumentError {}

/**
 * A stack value of `type` from the text the CLI hands the program (every value is a string;
 * arrays are JSON), parsed as strictly as the CLI's own type check (pkg/workspace/config.go:
 * integers as Go's strconv.Atoi, booleans exactly "true" or "false"). Pulumi's Config.getNumber
 * would take "3600abc" as 3600; this does not.
 */
export function parseConfigValue(key: string, type: ConfigType, text: string): string | number | boolean | string[] {
    const wrongType = () =>
        new ProgramConfigError(
            `${PROJECT}:${key}`,
            `${JSON.stringify(text)} is not of type '${type === "array" ? "array<string>" : type}'`,
        );
    switch (type) {
        case "string":
            return text;
        case "integer": {
            if (!/^[+-]?[0-9]+$/.test(text) || !Number.isSafeInteger(Number(text))) throw wrongType();
            return Number(text);
        }
        case "boolean":
            if (text !== "true" && text !== "false") throw wrongType();
            return text === "true";
        case "array": {
            let value: unknown;
            try {
                value = JSON.parse(text);
            } catch {
                throw wrongType();
            }
            if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) throw wrongType();
            return value as string[];
        }
    }
}

/**
 * MailServerArgs from the stack's config (`mailserver:<key>`): every value parsed strictly, `""`
 * for a key whose default is `""` meaning the component's default, and any other key in the
 * `mailserver:` namespace refused with the name of the closest known key (a misspelled key
 * would otherwise be ignored silently).
 */
export function argsFromConfig(
    values: Readonly<Record<string, string>> = pulumi.runtime.allConfig(),
    isSecret: (fullKey: string) => boolean = isConfigSecret,
): MailServerArgs {
    for (const fullKey of Object.keys(values).sort()) {
        if (!fullKey.startsWith(`${PROJECT}:`)) continue;
        const key = fullKey.slice(PROJECT.length + 1);
        if (!(key in CONFIG_KEYS)) {
            throw new ProgramConfigError(fullKey, `unknown configuration key; did you mean '${PROJECT}:${closestKey(key)}'?`);
        }
    }
    const args: Record<string, unknown> = {};
    for (const [key, spec] of Object.entries(CONFIG_KEYS)) {
        const text = values[`${PROJECT}:${key}`];
        if (text === undefined) continue;
        if (spec.type === "string" && spec.default === "" && text === "") continue;
        const value = parseConfigValue(key, spec.type, text);
        // An empty value (the default) holds no secret.
        const empty = value === "" || (Array.isArray(value) && value.length === 0);
        if (spec.secret && !empty && !isSecret(`${PROJECT}:${key}`))
            throw new ProgramConfigError(
                `${PROJECT}:${key}`,
                `is in the stack's config in plain text; set it encrypted: pulumi config set --secret ${PROJECT}:${key} <value>`,
            );
        args[key] = value;
    }
    return args as unknown as MailServerArgs;
}
