import type * as pulumi from "@pulumi/pulumi";

/** Where the mail host runs. */
export enum HostProvider {
    DigitalOcean = "digitalocean",
    Linode = "linode",
}

/** How receivers treat mail from an address the SPF record does not list. */
export enum SpfAll {
    /** `-all`: reject (recommended). */
    Fail = "-all",
    /** `~all`: accept but mark; for a migration period. */
    SoftFail = "~all",
}

/** DMARC `p=`: what receivers do with mail that fails DMARC. */
export enum DmarcPolicy {
    None = "none",
    Quarantine = "quarantine",
    Reject = "reject",
}

/** DMARC `adkim=`/`aspf=`: whether a subdomain of the From domain counts as aligned. */
export enum DmarcAlignment {
    Relaxed = "relaxed",
    Strict = "strict",
}

/** The provider's backups of the whole disk: how often, or off. */
export enum BackupSchedule {
    Daily = "daily",
    Weekly = "weekly",
    Off = "off",
}

/**
 * Arguments of {@link MailServer}. Flat, plain values and string enums so the component can be
 * offered to other Pulumi languages; only the Cloudflare zone id may come from another resource.
 */
export interface MailServerArgs {
    /** Mail domain, e.g. `example.com`: MX, SPF, DKIM and DMARC are published for it. ASCII (punycode for IDNs). */
    readonly domain: string;
    /**
     * Label of the mail host inside the domain; the host's FQDN is `<hostLabel>.<domain>`, and
     * that FQDN is its hostname, HELO name, certificate name and PTR.
     * @default "mail"
     */
    readonly hostLabel?: string;
    /** Operator's address: ACME account e-mail, and where postmaster@ and abuse@ of the domain are forwarded. */
    readonly operatorEmail: string;

    /** Host provider. */
    readonly provider: HostProvider;
    /** Provider region, e.g. `fra1` (DigitalOcean) or `eu-central` (Linode). */
    readonly region: string;
    /**
     * Droplet size or Linode type.
     * @default "s-1vcpu-512mb-10gb" (DigitalOcean), "g6-nanode-1" (Linode)
     */
    readonly size?: string;
    /**
     * The provider's backups of the host's whole disk (mail, queue, keys on the host): `daily`,
     * `weekly` or `off`. DigitalOcean charges 30 % (daily) or 20 % (weekly) of the droplet's price
     * and keeps 7 daily or 4 weekly images; Linode's Backup service (from $2 a month) always keeps a
     * daily, a weekly and a biweekly one, so `daily` and `weekly` both turn it on. Turning backups
     * off deletes the provider's existing backups.
     * @default "daily" with mailboxes, "off" without (a send-only host keeps nothing `pulumi up` cannot rebuild)
     */
    readonly backups?: BackupSchedule;
    /**
     * Image; Debian 12 and Ubuntu 24.04 are supported.
     * @default "debian-12-x64" (DigitalOcean), "linode/debian12" (Linode)
     */
    readonly image?: string;
    /**
     * Linode instance label (3–50 characters, letters, digits, `-`, `_`, `.`). Ignored on DigitalOcean,
     * where the droplet must be named with the FQDN for its PTR records.
     * @default the FQDN
     */
    readonly linodeLabel?: string;
    /**
     * OpenSSH public keys (`ssh-ed25519 AAAA… comment`) for the `mailadmin` sudo user.
     * @default [] (no SSH login)
     */
    readonly sshPublicKeys?: string[];
    /**
     * Source ranges (CIDR, IPv4 or IPv6) the admin may log in from (the firewall and sshd).
     * @default [] (no admin login)
     */
    readonly sshAllowedCidrs?: string[];
    /**
     * Source ranges the machine running `pulumi up` connects from, to hand the host its
     * configuration over SSH (port 22; key-only, one forced command). Anywhere by default, so
     * that laptops and CI runners with changing addresses can deploy.
     * @default ["0.0.0.0/0", "::/0"]
     */
    readonly deployFromCidrs?: string[];
    /**
     * Raise it (1 → 2) in the same run as a change that needs a new host or powers it off
     * (provider, region, image, size, IPv6 off on DigitalOcean); such a change is refused
     * otherwise. Raising it replaces nothing by itself.
     * @default 1
     */
    readonly hostGeneration?: number;

    /**
     * Cloudflare zone id. Give this or {@link cloudflareZoneName}.
     * @default none (looked up by name)
     */
    readonly cloudflareZoneId?: pulumi.Input<string>;
    /**
     * Cloudflare zone name, looked up at preview.
     * @default the registrable domain of {@link domain} (e.g. `example.com` for `lists.example.com`)
     */
    readonly cloudflareZoneName?: string;
    /**
     * TTL of every record, seconds: 1 (Cloudflare automatic) or 60–86400.
     * @default 3600
     */
    readonly dnsTtl?: number;

    /**
     * Other services that send as the domain, as SPF `include:` domains (e.g. `_spf.google.com`).
     * @default []
     */
    readonly spfIncludes?: string[];
    /** Other IPv4 senders (address or CIDR). @default [] */
    readonly spfIp4?: string[];
    /** Other IPv6 senders (address or CIDR). @default [] */
    readonly spfIp6?: string[];
    /** SPF `all` qualifier. @default SpfAll.Fail (`-all`) */
    readonly spfAll?: SpfAll;

    /**
     * DKIM selector: `<selector>._domainkey.<domain>`. Stable across runs; pick a new one only to
     * rotate the key.
     * @default "mailserver"
     */
    readonly dkimSelector?: string;
    /**
     * Selectors of earlier keys that stay published (their keys kept) after a rotation, so that
     * mail signed before it still verifies. Remove one a week or more after the rotation.
     * @default []
     */
    readonly dkimPreviousSelectors?: string[];

    /**
     * Further mail domains served by the same host, one per entry: `"example.org"`, optionally
     * followed by `zone=<Cloudflare zone name>` or `zoneId=<zone id>` (default: the registrable
     * domain), `selector=<DKIM selector>` (default {@link dkimSelector}'s default) and
     * `previousSelectors=<a>,<b>` (kept published after a rotation). Each gets its own DKIM key, MX,
     * SPF and DMARC records in its zone; the host name, its PTR and certificate stay those of
     * {@link domain}. Mailboxes, aliases and application logins may use any of the domains.
     * @default []
     */
    readonly extraDomains?: string[];

    /** DMARC policy. @default DmarcPolicy.Quarantine */
    readonly dmarcPolicy?: DmarcPolicy;
    /** Addresses (or `mailto:` URIs) that receive DMARC aggregate reports. @default [] */
    readonly dmarcRua?: string[];
    /** DMARC alignment for both DKIM and SPF. @default DmarcAlignment.Relaxed */
    readonly dmarcAlignment?: DmarcAlignment;

    /**
     * Give the host an IPv6 address, publish AAAA and its PTR, and send over IPv6. Off: the host
     * sends over IPv4 only.
     * @default true
     */
    readonly ipv6?: boolean;

    /**
     * Mailboxes, read over IMAP (993, or 143 after STARTTLS) and sending through the submission
     * ports (587, 465): `"alice@example.com"` or `"alice@example.com quota=2G"`, addresses of
     * {@link domain}. Each gets a generated password (the `mailboxPasswords` output) unless
     * {@link mailboxPasswords} gives one. Adding, removing or changing one changes the running
     * host in place; removing one keeps its mail on the host.
     * @default [] (send-only: the host delivers nothing and opens no client ports)
     */
    readonly mailboxes?: string[];
    /**
     * Aliases: `"sales@example.com alice@example.com bob@partner.example"` sends mail for the first
     * address to every target (mailboxes, other aliases, outside addresses; forwarded mail keeps
     * passing SPF through SRS). `"@example.com alice@example.com"` is the catch-all, which must
     * reach a mailbox. A mailbox user may send as each alias that delivers to them.
     * @default []
     */
    readonly aliases?: string[];
    /**
     * Application credentials: logins (`"billing@example.com"`, an address of {@link domain}) for
     * applications elsewhere that send through the submission ports as that address only; no
     * mailbox, no IMAP. Each gets a generated password (the `appPasswords` output). Needs at least
     * one mailbox for now.
     * @default []
     */
    readonly submissionApps?: string[];
    /**
     * Networks (CIDR) whose hosts may send through port 25 without logging in, their mail signed
     * like the host's own: e.g. application servers in the same private network. At most a /16
     * (IPv4) or /32 (IPv6); IPv6 ranges need {@link ipv6}.
     * @default [] (only the host itself)
     */
    readonly relayNetworks?: string[];
    /**
     * Ask DNS blocklists about inbound mail: postscreen refuses clients that Spamhaus ZEN lists
     * (or Mailspike, weighed against DNSWL), and rspamd's RBL module scores senders and links.
     * Spamhaus answers only queries from the host's own resolver path, not from large public
     * resolvers (those answers are ignored, never a refusal). Off where the host has no Internet.
     * @default true
     */
    readonly dnsBlocklists?: boolean;
    /**
     * Passwords chosen for mailboxes, `"alice@example.com <password>"` (at least 12 characters), kept
     * as secrets; a mailbox not listed gets a generated one. The host stores only Argon2id hashes.
     * @default [] (every password generated)
     */
    readonly mailboxPasswords?: string[];

    /**
     * A relay (smarthost) that takes every outbound message, for accounts whose provider keeps
     * outbound port 25 blocked: `"smtp.sendgrid.net:587"` (STARTTLS; port 465: TLS from the first
     * byte). Postfix sends only over TLS with the relay's certificate verified for that name.
     * Mail then leaves from the relay's addresses, so the domain's SPF must list them:
     * {@link spfIncludes} (the relay's include domain), {@link spfIp4} or {@link spfIp6} must not
     * be empty. Mail stays DKIM-signed by this host.
     * @default none (the host delivers to each recipient's MX on port 25)
     */
    readonly smarthost?: string;
    /** The login name at the {@link smarthost} (no space or colon). @default none (the relay authorizes by address) */
    readonly smarthostUser?: string;
    /** The password (or API key) of {@link smarthostUser}, kept as a secret. @default none */
    readonly smarthostPassword?: string;

    /**
     * ACME directory for the host's certificate.
     * @default "https://acme-v02.api.letsencrypt.org/directory" (Let's Encrypt production)
     */
    readonly acmeDirectoryUrl?: string;
    /**
     * PEM certificates certbot must trust for the ACME server's own HTTPS (a test server such as
     * Pebble, or a private CA). Public ACME servers need none.
     * @default none (the system trust store)
     */
    readonly acmeCaBundle?: string;
}
