import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DmarcAlignment, DmarcPolicy, HostProvider, type MailServerArgs, SpfAll } from "../components/args";
import { resolveConfig } from "../components/config";
import { MailServerArgumentError } from "../components/errors";

const base: MailServerArgs = {
    domain: "example.com",
    operatorEmail: "ops@example.net",
    provider: HostProvider.DigitalOcean,
    region: "fra1",
};

function errorOf(args: Partial<Record<keyof MailServerArgs, unknown>>): string {
    try {
        resolveConfig({ ...base, ...args } as MailServerArgs);
    } catch (error) {
        assert.ok(error instanceof MailServerArgumentError, `expected MailServerArgumentError, got ${error}`);
        return error.message;
    }
    assert.fail("expected an error");
}

describe("resolveConfig defaults", () => {
    it("applies every default once", () => {
        const c = resolveConfig(base);
        assert.deepEqual(c.host, {
            domain: "example.com",
            fqdn: "mail.example.com",
            operatorEmail: "ops@example.net",
            ipv6: true,
            dkimSelector: "mailserver",
            acmeDirectoryUrl: "https://acme-v02.api.letsencrypt.org/directory",
            acmeCaBundle: undefined,
            sshPublicKeys: [],
        });
        assert.deepEqual(c.dns, {
            ttl: 3600,
            spfIncludes: [],
            spfIp4: [],
            spfIp6: [],
            spfAll: SpfAll.Fail,
            dmarcPolicy: DmarcPolicy.Quarantine,
            dmarcRua: [],
            dmarcAlignment: DmarcAlignment.Relaxed,
        });
        assert.equal(c.size, "s-1vcpu-512mb-10gb");
        assert.equal(c.image, "debian-12-x64");
        assert.deepEqual(c.zone, { name: "example.com" });
        assert.deepEqual(c.sshAllowed, { ipv4: [], ipv6: [] });
    });

    it("defaults per provider for Linode", () => {
        const c = resolveConfig({ ...base, provider: HostProvider.Linode, region: "eu-central" });
        assert.equal(c.size, "g6-nanode-1");
        assert.equal(c.image, "linode/debian12");
        assert.equal(c.linodeLabel, "mail.example.com");
    });

    it("looks the zone up by the registrable domain of a subdomain", () => {
        assert.deepEqual(resolveConfig({ ...base, domain: "lists.example.co.uk" }).zone, { name: "example.co.uk" });
    });

    it("normalizes ranges and rua", () => {
        const c = resolveConfig({
            ...base,
            sshAllowedCidrs: ["203.0.113.7", "2001:db8::/32"],
            spfIp4: ["198.51.100.0/24"],
            spfIp6: ["2001:db8:1::1"],
            dmarcRua: ["reports@example.com", "mailto:agg@example.org"],
        });
        assert.deepEqual(c.sshAllowed, { ipv4: ["203.0.113.7/32"], ipv6: ["2001:db8::/32"] });
        assert.deepEqual(c.dns.spfIp4, ["198.51.100.0/24"]);
        assert.deepEqual(c.dns.spfIp6, ["2001:db8:1::1/128"]);
        assert.deepEqual(c.dns.dmarcRua, ["mailto:reports@example.com", "mailto:agg@example.org"]);
    });

    it("accepts Ubuntu 24.04 on both providers", () => {
        assert.equal(resolveConfig({ ...base, image: "ubuntu-24-04-x64" }).image, "ubuntu-24-04-x64");
        assert.equal(resolveConfig({ ...base, provider: HostProvider.Linode, image: "linode/ubuntu24.04" }).image, "linode/ubuntu24.04");
    });
});

describe("resolveConfig rejects bad input, naming the argument", () => {
    const long63 = "a".repeat(63);
    const cases: Array<[string, Partial<Record<keyof MailServerArgs, unknown>>, string]> = [
        ["missing domain", { domain: undefined }, "domain: required: a domain name such as example.com"],
        ["space in domain", { domain: "exa mple.com" }, 'domain: "exa mple.com" label "exa mple" may contain only letters, digits and hyphens, not a hyphen at its start or end'],
        ["single label", { domain: "localhost" }, 'domain: "localhost" needs at least two labels, e.g. example.com'],
        ["hyphen at label end", { domain: "bad-.example" }, 'domain: "bad-.example" label "bad-" may contain only letters, digits and hyphens, not a hyphen at its start or end'],
        ["upper case", { domain: "Example.com" }, 'domain: "Example.com" must be lower case'],
        ["trailing dot", { domain: "example.com." }, 'domain: "example.com." must not end with a dot'],
        ["numeric TLD", { domain: "192.0.2.1" }, 'domain: "192.0.2.1" top-level label must not be all digits'],
        ["non-ASCII", { domain: "bücher.example" }, 'domain: "bücher.example" contains non-ASCII characters; use its punycode form "xn--bcher-kva.example"'],
        ["label over 63", { domain: `${"a".repeat(64)}.com` }, `domain: "${"a".repeat(64)}.com" label "${"a".repeat(64)}" is 64 characters; DNS labels are at most 63`],
        [
            "domain over 253",
            { domain: `${long63}.${long63}.${long63}.${"a".repeat(61)}.com` },
            `domain: "${long63}.${long63}.${long63}.${"a".repeat(61)}.com" is 257 characters; DNS names are at most 253`,
        ],
        [
            "FQDN over 253",
            { domain: `${long63}.${long63}.${long63}.${"a".repeat(57)}.com` },
            `hostLabel: the host name "mail.${long63}.${long63}.${long63}.${"a".repeat(57)}.com" is 258 characters; DNS names are at most 253`,
        ],
        ["bad host label", { hostLabel: "mail_1" }, 'hostLabel: "mail_1" is not a lower-case DNS label: label "mail_1" may contain only letters, digits and hyphens, not a hyphen at its start or end'],
        ["host label over 63", { hostLabel: "m".repeat(64) }, `hostLabel: "${"m".repeat(64)}" is not a lower-case DNS label: label "${"m".repeat(64)}" is 64 characters; DNS labels are at most 63`],
        ["operator email", { operatorEmail: "ops-at-example.net" }, 'operatorEmail: "ops-at-example.net" is not an e-mail address (local@domain)'],
        ["operator email domain", { operatorEmail: "ops@example" }, 'operatorEmail: "ops@example" is not an e-mail address: domain needs at least two labels, e.g. example.com'],
        ["operator email in the domain", { operatorEmail: "ops@example.com" }, 'operatorEmail: "ops@example.com" is in the mail domain, which this server only forwards from (it has no mailboxes); use an address hosted elsewhere'],
        ["unknown provider", { provider: "aws" }, 'provider: "aws" is not one of digitalocean, linode'],
        ["region", { region: "Frankfurt 1" }, 'region: "Frankfurt 1" is not a region slug such as fra1 or eu-central'],
        ["unknown image family", { image: "centos-stream-9-x64" }, 'image: "centos-stream-9-x64" is not a supported image family on digitalocean; use one of debian-12-x64, ubuntu-24-04-x64'],
        ["Linode image on DigitalOcean", { image: "linode/debian12" }, 'image: "linode/debian12" is not a supported image family on digitalocean; use one of debian-12-x64, ubuntu-24-04-x64'],
        [
            "Linode label too long",
            { provider: "linode", region: "eu-central", domain: "a-rather-long-subdomain.of-an-organisation.example" },
            'linodeLabel: "mail.a-rather-long-subdomain.of-an-organisation.example" is not a valid Linode label: 3–50 characters, starting with a letter, ending with a letter or digit, only letters, digits, "-", "_" and "." and no two of those in a row (set linodeLabel when the FQDN does not fit)',
        ],
        [
            "Linode label with --",
            { provider: "linode", region: "eu-central", domain: "xn--bcher-kva.example" },
            'linodeLabel: "mail.xn--bcher-kva.example" is not a valid Linode label: 3–50 characters, starting with a letter, ending with a letter or digit, only letters, digits, "-", "_" and "." and no two of those in a row (set linodeLabel when the FQDN does not fit)',
        ],
        ["SSH key", { sshPublicKeys: ["AAAAC3Nza no type"] }, 'sshPublicKeys: "AAAAC3Nza no type" is not an OpenSSH public key line (ssh-ed25519 AAAA… comment)'],
        ["SSH range", { sshAllowedCidrs: ["203.0.113.0/33"] }, 'sshAllowedCidrs: "203.0.113.0/33" is not an IPv4 or IPv6 address or CIDR range'],
        ["zone id and name", { cloudflareZoneId: "0123456789abcdef0123456789abcdef", cloudflareZoneName: "example.com" }, "cloudflareZoneId: give either cloudflareZoneId or cloudflareZoneName, not both"],
        ["zone id format", { cloudflareZoneId: "example.com" }, 'cloudflareZoneId: "example.com" is not a Cloudflare zone id (32 hexadecimal characters)'],
        ["zone not containing the domain", { cloudflareZoneName: "example.org" }, 'cloudflareZoneName: "example.org" does not contain the mail domain "example.com"'],
        ["TTL", { dnsTtl: 30 }, "dnsTtl: 30 is not 1 (automatic) or a whole number of seconds from 60 to 86400"],
        ["SPF +all", { spfAll: "+all" }, 'spfAll: "+all" lets any host send as the domain; use "-all" (default) or "~all"'],
        ["SPF ?all", { spfAll: "?all" }, 'spfAll: "?all" lets any host send as the domain; use "-all" (default) or "~all"'],
        ["SPF all unknown", { spfAll: "all" }, 'spfAll: "all" is not one of -all, ~all'],
        [
            "11 SPF lookups",
            { spfIncludes: Array.from({ length: 11 }, (_, i) => `_spf${i}.example.org`) },
            "spfIncludes: 11 DNS-querying SPF terms; RFC 7208 allows at most 10, counting those nested in each include",
        ],
        ["SPF include not a domain", { spfIncludes: ["include:_spf.google.com"] }, 'spfIncludes: "include:_spf.google.com" label "include:_spf" may contain only letters, digits, hyphens and underscores, not a hyphen at its start or end'],
        ["malformed ip4", { spfIp4: ["300.1.2.3"] }, 'spfIp4: "300.1.2.3" is not an IPv4 address or CIDR range'],
        ["ip6 given as ip4", { spfIp4: ["2001:db8::1"] }, 'spfIp4: "2001:db8::1" is not an IPv4 address or CIDR range'],
        ["malformed ip6", { spfIp6: ["2001:db8::/129"] }, 'spfIp6: "2001:db8::/129" is not an IPv6 address or CIDR range'],
        ["ip4 given as ip6", { spfIp6: ["198.51.100.1"] }, 'spfIp6: "198.51.100.1" is not an IPv6 address or CIDR range'],
        ["selector with underscore", { dkimSelector: "mail_2026" }, 'dkimSelector: "mail_2026" is not a lower-case DNS label: label "mail_2026" may contain only letters, digits and hyphens, not a hyphen at its start or end'],
        ["selector with dot", { dkimSelector: "a.b" }, 'dkimSelector: "a.b" is not a lower-case DNS label: label "a.b" may contain only letters, digits and hyphens, not a hyphen at its start or end'],
        ["DMARC policy", { dmarcPolicy: "block" }, 'dmarcPolicy: "block" is not one of none, quarantine, reject'],
        ["DMARC rua", { dmarcRua: ["mailto:reports"] }, 'dmarcRua: "reports" is not an e-mail address (local@domain); give an address or a mailto: URI'],
        ["DMARC rua with comma", { dmarcRua: ["a@example.com,b@example.com"] }, 'dmarcRua: "a@example.com,b@example.com" is not an e-mail address: bad local part "a@example.com,b"; give an address or a mailto: URI'],
        ["DMARC alignment", { dmarcAlignment: "s" }, 'dmarcAlignment: "s" is not one of relaxed, strict'],
        ["ipv6 not boolean", { ipv6: "yes" }, 'ipv6: "yes" is not true or false'],
        ["ACME over http", { acmeDirectoryUrl: "http://acme.example/dir" }, 'acmeDirectoryUrl: "http://acme.example/dir" is not an https:// URL of an ACME directory'],
        ["ACME CA bundle", { acmeCaBundle: "not a pem" }, "acmeCaBundle: is not PEM text with at least one CERTIFICATE block"],
    ];
    for (const [title, args, message] of cases) {
        it(title, () => assert.equal(errorOf(args), message));
    }
});
