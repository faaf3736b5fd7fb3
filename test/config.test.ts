import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { describe, it } from "node:test";
import { BackupSchedule, DmarcAlignment, DmarcPolicy, HostProvider, type MailServerArgs, SpfAll } from "../components/args";
import { resolveConfig } from "../components/config";
import { MailServerArgumentError } from "../components/errors";
import { dmarcRecord } from "../components/records/dmarc";
import { domainSpf } from "../components/records/spf";
import { TestCa } from "./support/certificates";

const base: MailServerArgs = {
    domain: "example.com",
    operatorEmail: "ops@example.net",
    provider: HostProvider.DigitalOcean,
    region: "fra1",
};

/** Public keys made with ssh-keygen (test fixtures; no private half is kept). */
const ED = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA2PpFAEz5oulgsbA5OsnoEwUuQR4Xp/XszAbs4Q18Jz";
const RSA_1024 =
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC6SccXLcO2qCRTmR+ZanT4xmoMRsAo3o30n6gJGmeGM5wofztfGuzIO0Ei8mI8g84OrwZSc95qNCEp/w/c3SNhIUWIZ8iCiqSg7ZL5ljCnxLQZznVhjLszo7v6oaVLot+eaZ+1xiy0n7DVOnYfdZdE/YxVfEEMhVPL1mNNbXD/Gw==";
const RSA_2048 =
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDisWwaChAYRk7w9K9ZCPiwhAMFW6KFAg0OFebvmT7UTPfTjRdBNalF5u7OW3hxQC0/IrU7uxjjwH6W0/kGHC0kWFXaBEiZs6wAfX0x6WfQY/jOK5+Cx+OJ4P2Lq1XUpvJTy4gD/qvF2S1yY576r2lEKuWxQttqRSNQVww4AIFoJumls3X3N9KPSPc1ZSTAX9dqEVvH02xOcxutZnc0SXiGzOW4acXUPdYtKwI1sUGf7oGB0hvrIInE+KlDhK7Wgm106lUBCzjO3npu3/HHMRMRqF7dorPjzu+GUyMeBq+lY3RQ4iuZcWGReMLqKx+QZe8UhjZINUYOJNa+eIBWNDJX";
const ECDSA_256 =
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPseRJxYMR839ZLevpW/xf8Pu8FueCcdmQDvSQ7gkiqM9jU+jAHl16EL1BcnZZst7re4Fz8dBzxUK8ptmREy8+o=";
const ED_DATA = ED.split(" ")[1];
/** An SSH public key blob (RFC 4253 §6.6: each string as uint32 length, then bytes), in base64. */
function sshBlob(...strings: Array<string | Buffer>): string {
    return Buffer.concat(
        strings.flatMap((s) => {
            const bytes = typeof s === "string" ? Buffer.from(s, "latin1") : s;
            const length = Buffer.alloc(4);
            length.writeUInt32BE(bytes.length);
            return [length, bytes];
        }),
    ).toString("base64");
}
const ECDSA_DATA = ECDSA_256.split(" ")[1];

type Args = Partial<Record<keyof MailServerArgs, unknown>>;

function errorOf(args: Args): string {
    try {
        resolveConfig({ ...base, ...args } as MailServerArgs);
    } catch (error) {
        assert.ok(error instanceof MailServerArgumentError, `expected MailServerArgumentError, got ${error}`);
        assert.equal(error.stack?.includes("\n    at ") ?? false, true, "keeps a stack for debugging");
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
            extraDomains: [],
            acmeDirectoryUrl: "https://acme-v02.api.letsencrypt.org/directory",
            acmeCaBundle: undefined,
            sshPublicKeys: [],
            sshAllowedCidrs: [],
            mail: { mailboxes: [], aliases: [], apps: [] },
            relayNetworks: [],
            smarthost: undefined,
            dnsBlocklists: true,
        });
        assert.deepEqual(c.mailboxPasswords, {});
        assert.equal(c.smarthostPassword, undefined);
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
        assert.equal(c.backups, "off");
        assert.equal(c.image, "debian-13-x64");
        assert.deepEqual(c.zone, { name: "example.com" });
        assert.deepEqual(c.sshAllowed, { ipv4: [], ipv6: [] });
        assert.deepEqual(c.deployFrom, { ipv4: ["0.0.0.0/0"], ipv6: ["::/0"] });
        assert.equal(c.hostGeneration, 1);
        assert.deepEqual(c.dkimPreviousSelectors, []);
        assert.deepEqual(c.extraDomains, []);
    });

    it("backs up daily once there are mailboxes, unless told otherwise", () => {
        assert.equal(resolveConfig({ ...base, mailboxes: ["alice@example.com"] }).backups, "daily");
        assert.equal(resolveConfig({ ...base, mailboxes: ["alice@example.com"], backups: BackupSchedule.Off }).backups, "off");
        assert.equal(resolveConfig({ ...base, backups: BackupSchedule.Weekly }).backups, "weekly");
    });

    it("defaults per provider for Linode", () => {
        const c = resolveConfig({ ...base, provider: HostProvider.Linode, region: "eu-central" });
        assert.equal(c.size, "g6-nanode-1");
        assert.equal(c.image, "linode/debian13");
        assert.equal(c.linodeLabel, "mail.example.com");
    });

    it("looks the zone up by the registrable domain of a subdomain", () => {
        assert.deepEqual(resolveConfig({ ...base, domain: "lists.example.co.uk" }).zone, { name: "example.co.uk" });
    });
});

describe("resolveConfig accepts good values and renders them unchanged", () => {
    it("operator addresses with dots, plus and hyphens, elsewhere", () => {
        for (const address of ["first.last+tag@example.net", "o_p-s@mail.example.org", "ops@xn--bcher-kva.example"]) {
            assert.equal(resolveConfig({ ...base, operatorEmail: address }).host.operatorEmail, address);
        }
    });
    it("punycode and multi-label public suffixes", () => {
        assert.equal(resolveConfig({ ...base, domain: "xn--bcher-kva.example" }).host.fqdn, "mail.xn--bcher-kva.example");
        assert.deepEqual(resolveConfig({ ...base, domain: "example.co.uk" }).zone, { name: "example.co.uk" });
    });
    it("SSH keys of each type, with their comments, as given", () => {
        const keys = [`${ED} ops laptop 2026`, RSA_2048, ECDSA_256];
        assert.deepEqual(resolveConfig({ ...base, sshPublicKeys: keys }).host.sshPublicKeys, keys);
        const securityKey = `sk-ssh-ed25519@openssh.com ${sshBlob("sk-ssh-ed25519@openssh.com", Buffer.alloc(32, 7), "ssh:")} yubikey`;
        assert.deepEqual(resolveConfig({ ...base, sshPublicKeys: [securityKey] }).host.sshPublicKeys, [securityKey]);
    });
    it("SSH ranges as CIDR (0.0.0.0/0 is allowed: port 22 is key-only)", () => {
        const c = resolveConfig({ ...base, sshAllowedCidrs: ["203.0.113.7", "2001:db8::/32", "0.0.0.0/0"] });
        assert.deepEqual(c.sshAllowed, { ipv4: ["203.0.113.7/32", "0.0.0.0/0"], ipv6: ["2001:db8::/32"] });
    });
    it("SPF ranges as CIDR, written bare for single hosts", () => {
        const c = resolveConfig({
            ...base,
            spfIp4: ["198.51.100.0/24", "203.0.113.9"],
            spfIp6: ["2001:db8:1::1", "2001:DB8:2::/48"],
            spfIncludes: ["_spf.google.com"],
        });
        assert.deepEqual(c.dns.spfIp4, ["198.51.100.0/24", "203.0.113.9/32"]);
        assert.deepEqual(c.dns.spfIp6, ["2001:db8:1::1/128", "2001:db8:2::/48"]);
        assert.equal(
            domainSpf({
                hostIpv4: "192.0.2.10",
                hostIpv6: undefined,
                ip4: c.dns.spfIp4,
                ip6: c.dns.spfIp6,
                includes: c.dns.spfIncludes,
                all: c.dns.spfAll,
            }),
            "v=spf1 ip4:192.0.2.10 ip4:198.51.100.0/24 ip4:203.0.113.9 ip6:2001:db8:1::1 ip6:2001:db8:2::/48 include:_spf.google.com -all",
        );
    });
    it("DMARC report addresses as RFC 7489 URIs: mailto:, ! percent-encoded, size limits kept", () => {
        const c = resolveConfig({ ...base, dmarcRua: ["reports@example.com", "mailto:agg@example.org!10m", "a!10m@example.net"] });
        assert.deepEqual(c.dns.dmarcRua, ["mailto:reports@example.com", "mailto:agg@example.org!10m", "mailto:a%2110m@example.net"]);
        assert.equal(
            dmarcRecord({ policy: c.dns.dmarcPolicy, alignment: c.dns.dmarcAlignment, rua: c.dns.dmarcRua }),
            "v=DMARC1; p=quarantine; adkim=r; aspf=r; rua=mailto:reports@example.com,mailto:agg@example.org!10m,mailto:a%2110m@example.net",
        );
    });
    it("TTLs at the limits", () => {
        for (const ttl of [1, 60, 86400]) assert.equal(resolveConfig({ ...base, dnsTtl: ttl }).dns.ttl, ttl);
    });
    it("ACME CA bundle: only its certificates, re-encoded, reach the host", () => {
        const ca = new TestCa("ACME test CA").pem;
        const bundle = resolveConfig({ ...base, acmeCaBundle: `# the test CA\n${ca}\ntrailing text\n` }).host.acmeCaBundle;
        assert.equal(bundle, new X509Certificate(ca).toString());
        assert.doesNotMatch(bundle ?? "", /test CA|trailing/);
    });
});

describe("resolveConfig refuses bad input, naming the argument", () => {
    const cases: Array<[string, Args, string]> = [
        ["missing domain", { domain: null }, "domain: required: a domain name such as example.com"],
        ["empty domain", { domain: "" }, "domain: required: a domain name such as example.com"],
        ["domain not a string", { domain: 42 }, "domain: required: a domain name such as example.com"],
        [
            "space in domain",
            { domain: "exa mple.com" },
            'domain: "exa mple.com" label "exa mple" may contain only letters, digits and hyphens, not a hyphen at its start or end',
        ],
        ["single label", { domain: "localhost" }, 'domain: "localhost" needs at least two labels, e.g. example.com'],
        [
            "hyphen at label end",
            { domain: "bad-.example" },
            'domain: "bad-.example" label "bad-" may contain only letters, digits and hyphens, not a hyphen at its start or end',
        ],
        ["upper case", { domain: "Example.com" }, 'domain: "Example.com" must be lower case'],
        ["trailing dot", { domain: "example.com." }, 'domain: "example.com." must not end with a dot'],
        ["numeric TLD", { domain: "192.0.2.1" }, 'domain: "192.0.2.1" top-level label must not be all digits'],
        [
            "non-ASCII",
            { domain: "bücher.example" },
            'domain: "bücher.example" contains non-ASCII characters; use its punycode form "xn--bcher-kva.example"',
        ],
        ["invalid punycode", { domain: "xn--zz.com" }, 'domain: "xn--zz.com" label "xn--zz" is not valid punycode'],
        ["public suffix", { domain: "co.uk" }, 'domain: "co.uk" is a public suffix (like com or co.uk), not a domain one can register'],
        [
            "private public suffix",
            { domain: "github.io" },
            'domain: "github.io" is a public suffix (like com or co.uk), not a domain one can register',
        ],
        ["localhost subdomain", { domain: "mail.localhost" }, 'domain: "mail.localhost" is a localhost name, not a domain on the Internet'],
        [
            "underscore",
            { domain: "_dmarc.example.com" },
            'domain: "_dmarc.example.com" label "_dmarc" may contain only letters, digits and hyphens, not a hyphen at its start or end',
        ],
        ["empty label", { domain: "example..com" }, 'domain: "example..com" empty label'],
        [
            "newline",
            { domain: "example.com\nmail.evil.test" },
            'domain: "example.com\\nmail.evil.test" label "com\\nmail" may contain only letters, digits and hyphens, not a hyphen at its start or end',
        ],
        [
            "label over 63",
            { domain: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com" },
            'domain: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com" label "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" is 64 characters; DNS labels are at most 63',
        ],
        [
            "domain over 253",
            {
                domain: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
            },
            'domain: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com" is 257 characters; DNS names are at most 253',
        ],
        [
            "FQDN over 253",
            {
                domain: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
            },
            'hostLabel: the host name "mail.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com" is 258 characters; DNS names are at most 253',
        ],
        [
            "bad host label",
            { hostLabel: "mail_1" },
            'hostLabel: "mail_1" is not a lower-case DNS label: label "mail_1" may contain only letters, digits and hyphens, not a hyphen at its start or end',
        ],
        [
            "host label with dot",
            { hostLabel: "mail.x" },
            'hostLabel: "mail.x" is not a lower-case DNS label: label "mail.x" may contain only letters, digits and hyphens, not a hyphen at its start or end',
        ],
        [
            "host label upper",
            { hostLabel: "Mail" },
            'hostLabel: "Mail" is not a lower-case DNS label: label "Mail" may contain only letters, digits and hyphens, not a hyphen at its start or end',
        ],
        ["host label empty", { hostLabel: "" }, 'hostLabel: "" is not a lower-case DNS label: empty label'],
        [
            "host label over 63",
            { hostLabel: "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm" },
            'hostLabel: "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm" is not a lower-case DNS label: label "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm" is 64 characters; DNS labels are at most 63',
        ],
        ["host label not a string", { hostLabel: 7 }, "hostLabel: 7 is not a lower-case DNS label: must be a string"],
        ["operator missing", { operatorEmail: null }, "operatorEmail: required: an e-mail address hosted outside the mail domains"],
        [
            "operator no at",
            { operatorEmail: "ops-at-example.net" },
            'operatorEmail: "ops-at-example.net" is not an e-mail address (local@domain)',
        ],
        [
            "operator pipe",
            { operatorEmail: "|touch${IFS}/tmp/pwned&@example.net" },
            'operatorEmail: "|touch${IFS}/tmp/pwned&@example.net" is not a plain e-mail address: the part before @ may hold only letters, digits and . _ + - (at most 64)',
        ],
        [
            "operator path",
            { operatorEmail: "/var/tmp/x@example.net" },
            'operatorEmail: "/var/tmp/x@example.net" is not a plain e-mail address: the part before @ may hold only letters, digits and . _ + - (at most 64)',
        ],
        [
            "operator include",
            { operatorEmail: ":include:/etc/passwd@example.net" },
            'operatorEmail: ":include:/etc/passwd@example.net" is not a plain e-mail address: the part before @ may hold only letters, digits and . _ + - (at most 64)',
        ],
        [
            "operator quoted local",
            { operatorEmail: '"a b"@example.net' },
            'operatorEmail: "\\"a b\\"@example.net" is not a plain e-mail address: the part before @ may hold only letters, digits and . _ + - (at most 64)',
        ],
        [
            "operator space",
            { operatorEmail: "ops @example.net" },
            'operatorEmail: "ops @example.net" is not a plain e-mail address: the part before @ may hold only letters, digits and . _ + - (at most 64)',
        ],
        [
            "operator leading dot",
            { operatorEmail: ".ops@example.net" },
            'operatorEmail: ".ops@example.net" is not a plain e-mail address: the part before @ may hold only letters, digits and . _ + - (at most 64)',
        ],
        [
            "operator double dot",
            { operatorEmail: "o..ps@example.net" },
            'operatorEmail: "o..ps@example.net" is not a plain e-mail address: the part before @ may hold only letters, digits and . _ + - (at most 64)',
        ],
        [
            "operator local over 64",
            { operatorEmail: "ooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo@example.net" },
            'operatorEmail: "ooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo@example.net" is not a plain e-mail address: the part before @ may hold only letters, digits and . _ + - (at most 64)',
        ],
        [
            "operator domain single label",
            { operatorEmail: "ops@example" },
            'operatorEmail: "ops@example" is not an e-mail address: domain "example" needs at least two labels, e.g. example.com',
        ],
        [
            "operator in the domain",
            { operatorEmail: "ops@example.com" },
            `operatorEmail: "ops@example.com" is in example.com, a mail domain of this server: the operator's address must be hosted elsewhere, so that the server's reports and the ACME account's mail reach someone while the server is down`,
        ],
        [
            "operator in the host",
            { operatorEmail: "ops@mail.example.com" },
            `operatorEmail: "ops@mail.example.com" is in example.com, a mail domain of this server: the operator's address must be hosted elsewhere, so that the server's reports and the ACME account's mail reach someone while the server is down`,
        ],
        [
            "operator in a subdomain",
            { operatorEmail: "ops@localhost.example.com" },
            `operatorEmail: "ops@localhost.example.com" is in example.com, a mail domain of this server: the operator's address must be hosted elsewhere, so that the server's reports and the ACME account's mail reach someone while the server is down`,
        ],
        [
            "operator localhost",
            { operatorEmail: "root@localhost" },
            'operatorEmail: "root@localhost" is not an e-mail address: domain "localhost" needs at least two labels, e.g. example.com',
        ],
        [
            "operator localhost domain",
            { operatorEmail: "root@x.localhost" },
            'operatorEmail: "root@x.localhost" is not an e-mail address: domain "x.localhost" is a localhost name, not a domain on the Internet',
        ],
        [
            "operator ip literal",
            { operatorEmail: "ops@[192.0.2.1]" },
            'operatorEmail: "ops@[192.0.2.1]" is not an e-mail address: domain "[192.0.2.1]" label "[192" may contain only letters, digits and hyphens, not a hyphen at its start or end',
        ],
        [
            "operator public suffix",
            { operatorEmail: "ops@co.uk" },
            'operatorEmail: "ops@co.uk" is not an e-mail address: domain "co.uk" is a public suffix (like com or co.uk), not a domain one can register',
        ],
        [
            "operator two ats",
            { operatorEmail: "a@b@example.net" },
            'operatorEmail: "a@b@example.net" is not a plain e-mail address: the part before @ may hold only letters, digits and . _ + - (at most 64)',
        ],
        [
            "operator newline",
            { operatorEmail: "ops@example.net\nroot: |/bin/sh" },
            'operatorEmail: "ops@example.net\\nroot: |/bin/sh" is not an e-mail address: domain "example.net\\nroot: |/bin/sh" label "net\\nroot: |/bin/sh" may contain only letters, digits and hyphens, not a hyphen at its start or end',
        ],
        [
            "operator comma",
            { operatorEmail: "ops@example.net,root@example.org" },
            'operatorEmail: "ops@example.net,root@example.org" is not a plain e-mail address: the part before @ may hold only letters, digits and . _ + - (at most 64)',
        ],
        [
            "operator upper-case domain",
            { operatorEmail: "ops@Example.net" },
            'operatorEmail: "ops@Example.net" is not an e-mail address: domain "Example.net" must be lower case',
        ],
        ["unknown provider", { provider: "aws" }, 'provider: "aws" is not one of digitalocean, linode'],
        ["provider upper case", { provider: "DigitalOcean" }, 'provider: "DigitalOcean" is not one of digitalocean, linode'],
        ["region missing", { region: null }, "region: required: a region slug such as fra1 or eu-central"],
        ["region", { region: "Frankfurt 1" }, 'region: "Frankfurt 1" is not a region slug such as fra1 or eu-central'],
        ["region with slash", { region: "fra1/../x" }, 'region: "fra1/../x" is not a region slug such as fra1 or eu-central'],
        ["size", { size: "s 1vcpu" }, 'size: "s 1vcpu" is not a plan slug such as s-1vcpu-512mb-10gb'],
        [
            "relay network too wide",
            { relayNetworks: ["10.0.0.0/8"] },
            "relayNetworks: 10.0.0.0/8 is wider than /16: every host in it could send mail as the server without logging in",
        ],
        [
            "relay network IPv6 too wide",
            { relayNetworks: ["2001:db8::/31"] },
            "relayNetworks: 2001:db8::/31 is wider than /32: every host in it could send mail as the server without logging in",
        ],
        [
            "relay network IPv6 with ipv6 off",
            { relayNetworks: ["2001:db8:1::/48"], ipv6: false },
            "relayNetworks: 2001:db8:1::/48 is an IPv6 range, but ipv6 is off: the server does not listen on IPv6",
        ],
        [
            "relay network loopback",
            { relayNetworks: ["127.0.0.2/32"] },
            'relayNetworks: "127.0.0.2/32" is a loopback address, never the source of mail from the Internet',
        ],
        [
            "relay network host bits",
            { relayNetworks: ["10.1.2.3/16"] },
            'relayNetworks: "10.1.2.3/16" has bits set after the /16 prefix; the range is 10.1.0.0/16',
        ],
        [
            "smarthost without SPF for it",
            { smarthost: "smtp.sendgrid.net:587" },
            "smarthost: mail relayed through smtp.sendgrid.net leaves from its addresses, which the domain's SPF must list or receivers see an SPF fail: " +
                "add the relay's include domain to spfIncludes (its documentation names it), or its addresses to spfIp4/spfIp6",
        ],
        [
            "smarthost without port",
            { smarthost: "smtp.sendgrid.net", spfIncludes: ["sendgrid.net"] },
            'smarthost: "smtp.sendgrid.net" is not host:port, e.g. smtp.sendgrid.net:587',
        ],
        [
            "smarthost on port 25",
            { smarthost: "smtp.sendgrid.net:25", spfIncludes: ["sendgrid.net"] },
            "smarthost: port 25 is the one providers block: use the relay's submission port (587, 465, or 2525 where 587 is blocked too)",
        ],
        [
            "smarthost port 0",
            { smarthost: "smtp.sendgrid.net:0", spfIncludes: ["sendgrid.net"] },
            "smarthost: port 0 is not a TCP port (1-65535)",
        ],
        [
            "smarthost as an address",
            { smarthost: "192.0.2.7:587", spfIp4: ["192.0.2.7"] },
            'smarthost: the host "192.0.2.7" top-level label must not be all digits (give its name: its certificate is verified for it)',
        ],
        [
            "smarthost with a line break",
            { smarthost: "smtp.sendgrid.net:587\nrelayhost = evil.example:25", spfIncludes: ["sendgrid.net"] },
            'smarthost: "smtp.sendgrid.net:587\\nrelayhost = evil.example:25" is not host:port, e.g. smtp.sendgrid.net:587',
        ],
        [
            "smarthost user without smarthost",
            { smarthostUser: "apikey" },
            "smarthostUser: is set, but smarthost is not: give the relay as smarthost (host:port)",
        ],
        [
            "smarthost password without smarthost",
            { smarthostPassword: "a secret key" },
            "smarthostPassword: is set, but smarthost is not: give the relay as smarthost (host:port)",
        ],
        [
            "smarthost user without password",
            { smarthost: "smtp.sendgrid.net:587", spfIncludes: ["sendgrid.net"], smarthostUser: "apikey" },
            "smarthostPassword: give both smarthostUser and smarthostPassword, or neither",
        ],
        [
            "smarthost user with a colon",
            { smarthost: "smtp.sendgrid.net:587", spfIncludes: ["sendgrid.net"], smarthostUser: "api:key", smarthostPassword: "k" },
            "smarthostUser: must not hold a space, a colon or a control character",
        ],
        [
            "smarthost password with a line break (not quoted)",
            {
                smarthost: "smtp.sendgrid.net:587",
                spfIncludes: ["sendgrid.net"],
                smarthostUser: "apikey",
                smarthostPassword: "SG.abc\n[evil]:25 x:y",
            },
            "smarthostPassword: holds a control character or starts or ends with a space, which Postfix's map cannot carry",
        ],
        [
            "smarthost password with a trailing space (not quoted)",
            { smarthost: "smtp.sendgrid.net:587", spfIncludes: ["sendgrid.net"], smarthostUser: "apikey", smarthostPassword: "SG.abc " },
            "smarthostPassword: holds a control character or starts or ends with a space, which Postfix's map cannot carry",
        ],
        ["size upper", { size: "S-1VCPU" }, 'size: "S-1VCPU" is not a plan slug such as s-1vcpu-512mb-10gb'],
        [
            "unknown image",
            { image: "centos-stream-9-x64" },
            'image: "centos-stream-9-x64" is not a supported image on digitalocean; use debian-13-x64',
        ],
        [
            "Debian 12 image",
            { image: "debian-12-x64" },
            'image: "debian-12-x64" is not a supported image on digitalocean; use debian-13-x64',
        ],
        [
            "Ubuntu image",
            { image: "ubuntu-24-04-x64" },
            'image: "ubuntu-24-04-x64" is not a supported image on digitalocean; use debian-13-x64',
        ],
        [
            "Linode image on DigitalOcean",
            { image: "linode/debian13" },
            'image: "linode/debian13" is not a supported image on digitalocean; use debian-13-x64',
        ],
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
        [
            "Linode label too short",
            { provider: "linode", region: "eu-central", linodeLabel: "ab" },
            'linodeLabel: "ab" is not a valid Linode label: 3–50 characters, starting with a letter, ending with a letter or digit, only letters, digits, "-", "_" and "." and no two of those in a row (set linodeLabel when the FQDN does not fit)',
        ],
        [
            "Linode label starting with digit",
            { provider: "linode", region: "eu-central", linodeLabel: "1mail" },
            'linodeLabel: "1mail" is not a valid Linode label: 3–50 characters, starting with a letter, ending with a letter or digit, only letters, digits, "-", "_" and "." and no two of those in a row (set linodeLabel when the FQDN does not fit)',
        ],
        [
            "Linode label with space",
            { provider: "linode", region: "eu-central", linodeLabel: "mail host" },
            'linodeLabel: "mail host" is not a valid Linode label: 3–50 characters, starting with a letter, ending with a letter or digit, only letters, digits, "-", "_" and "." and no two of those in a row (set linodeLabel when the FQDN does not fit)',
        ],
        [
            "SSH key without type",
            { sshPublicKeys: ["AAAAC3Nza no type"] },
            'sshPublicKeys: "AAAAC3Nza no type" is not an OpenSSH public key line (ssh-ed25519 AAAA… comment)',
        ],
        [
            "SSH key options prefix",
            { sshPublicKeys: [`command="/bin/sh" ${ED}`] },
            'sshPublicKeys: "command=\\"/bin/sh\\" ssh-ed25519 AAAAC3NzaC…" is not an OpenSSH public key line (ssh-ed25519 AAAA… comment)',
        ],
        [
            "SSH key newline",
            { sshPublicKeys: [`${ED} a\n${ED}`] },
            'sshPublicKeys: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA2P…" contains a line break or control character',
        ],
        [
            "SSH key type mismatch",
            { sshPublicKeys: [`ssh-rsa ${ED_DATA}`] },
            'sshPublicKeys: "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIA2PpFAE…": the line says ssh-rsa but its key data holds "ssh-ed25519"',
        ],
        [
            "SSH key not base64",
            { sshPublicKeys: ["ssh-ed25519 AAAA$$$$"] },
            'sshPublicKeys: "ssh-ed25519 AAAA$$$$" is not an OpenSSH public key line (ssh-ed25519 AAAA… comment)',
        ],
        [
            "SSH key truncated",
            { sshPublicKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA2PpFAEz5oulgsb"] },
            'sshPublicKeys: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA2P…": its key data is not an SSH public key',
        ],
        [
            "SSH RSA 1024",
            { sshPublicKeys: [`${RSA_1024}`] },
            'sshPublicKeys: "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC6…": an RSA key of 1024 bits; at least 2048 (or use ssh-ed25519)',
        ],
        [
            "SSH DSA",
            { sshPublicKeys: ["ssh-dss AAAAB3NzaC1kc3MAAACBAP"] },
            'sshPublicKeys: "ssh-dss AAAAB3NzaC1kc3MAAACBAP": DSA keys are refused by OpenSSH since 7.0; use ssh-ed25519',
        ],
        [
            "SSH key private",
            { sshPublicKeys: ["-----BEGIN OPENSSH PRIVATE KEY-----"] },
            'sshPublicKeys: "-----BEGIN OPENSSH PRIVATE KEY-----" is not an OpenSSH public key line (ssh-ed25519 AAAA… comment)',
        ],
        ["SSH key twice", { sshPublicKeys: [`${ED}`, `${ED}`] }, `sshPublicKeys: "ssh-ed25519 ${ED_DATA}" is given twice`],
        ["SSH keys not a list", { sshPublicKeys: `${ED}` }, "sshPublicKeys: must be a list of strings"],
        [
            "SSH ecdsa curve mismatch",
            { sshPublicKeys: [`ecdsa-sha2-nistp384 ${ECDSA_DATA}`] },
            'sshPublicKeys: "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTIt…": the line says ecdsa-sha2-nistp384 but its key data holds "ecdsa-sha2-nistp256"',
        ],
        [
            "SSH range prefix 33",
            { sshAllowedCidrs: ["203.0.113.0/33"] },
            'sshAllowedCidrs: "203.0.113.0/33" is not an IPv4 or IPv6 address or CIDR range',
        ],
        [
            "SSH range zone id",
            { sshAllowedCidrs: ["fe80::1%eth0"] },
            'sshAllowedCidrs: "fe80::1%eth0" has a zone id (%…); give a plain address or CIDR range',
        ],
        [
            "SSH range host bits",
            { sshAllowedCidrs: ["203.0.113.7/24"] },
            'sshAllowedCidrs: "203.0.113.7/24" has bits set after the /24 prefix; the range is 203.0.113.0/24',
        ],
        ["SSH range twice", { sshAllowedCidrs: ["203.0.113.0/24", "203.0.113.0/24"] }, 'sshAllowedCidrs: "203.0.113.0/24" is given twice'],
        [
            "SSH range hostname",
            { sshAllowedCidrs: ["office.example.net"] },
            'sshAllowedCidrs: "office.example.net" is not an IPv4 or IPv6 address or CIDR range',
        ],
        [
            "SSH range octal",
            { sshAllowedCidrs: ["010.0.0.1"] },
            'sshAllowedCidrs: "010.0.0.1" is not an IPv4 or IPv6 address or CIDR range',
        ],
        [
            "SSH range leading zero prefix",
            { sshAllowedCidrs: ["203.0.113.0/024"] },
            'sshAllowedCidrs: "203.0.113.0/024" is not an IPv4 or IPv6 address or CIDR range',
        ],
        ["SSH range empty", { sshAllowedCidrs: [""] }, 'sshAllowedCidrs: "" is not an IPv4 or IPv6 address or CIDR range'],
        [
            "zone id and name",
            { cloudflareZoneId: "0123456789abcdef0123456789abcdef", cloudflareZoneName: "example.com" },
            "cloudflareZoneId: give either cloudflareZoneId or cloudflareZoneName, not both",
        ],
        [
            "zone id format",
            { cloudflareZoneId: "example.com" },
            'cloudflareZoneId: "example.com" is not a Cloudflare zone id (32 hexadecimal characters)',
        ],
        [
            "zone id upper hex",
            { cloudflareZoneId: "0123456789ABCDEF0123456789ABCDEF" },
            'cloudflareZoneId: "0123456789ABCDEF0123456789ABCDEF" is not a Cloudflare zone id (32 hexadecimal characters)',
        ],
        [
            "zone not containing the domain",
            { cloudflareZoneName: "example.org" },
            'cloudflareZoneName: "example.org" does not contain the mail domain "example.com"',
        ],
        ["zone public suffix", { cloudflareZoneName: "com" }, 'cloudflareZoneName: "com" needs at least two labels, e.g. example.com'],
        [
            "zone a suffix-like",
            { cloudflareZoneName: "ample.com" },
            'cloudflareZoneName: "ample.com" does not contain the mail domain "example.com"',
        ],
        ["TTL 30", { dnsTtl: 30 }, "dnsTtl: 30 is not 1 (automatic) or a whole number of seconds from 60 to 86400"],
        ["TTL 0", { dnsTtl: 0 }, "dnsTtl: 0 is not 1 (automatic) or a whole number of seconds from 60 to 86400"],
        ["TTL too long", { dnsTtl: 86401 }, "dnsTtl: 86401 is not 1 (automatic) or a whole number of seconds from 60 to 86400"],
        ["TTL fraction", { dnsTtl: 3600.5 }, "dnsTtl: 3600.5 is not 1 (automatic) or a whole number of seconds from 60 to 86400"],
        ["TTL string", { dnsTtl: "3600abc" }, 'dnsTtl: "3600abc" is not 1 (automatic) or a whole number of seconds from 60 to 86400'],
        ["TTL negative", { dnsTtl: -1 }, "dnsTtl: -1 is not 1 (automatic) or a whole number of seconds from 60 to 86400"],
        ["SPF +all", { spfAll: "+all" }, 'spfAll: "+all" lets any host send as the domain; use "-all" (default) or "~all"'],
        ["SPF ?all", { spfAll: "?all" }, 'spfAll: "?all" lets any host send as the domain; use "-all" (default) or "~all"'],
        ["SPF all unknown", { spfAll: "all" }, 'spfAll: "all" is not one of -all, ~all'],
        [
            "11 SPF lookups",
            {
                spfIncludes: [
                    "_spf0.example.org",
                    "_spf1.example.org",
                    "_spf2.example.org",
                    "_spf3.example.org",
                    "_spf4.example.org",
                    "_spf5.example.org",
                    "_spf6.example.org",
                    "_spf7.example.org",
                    "_spf8.example.org",
                    "_spf9.example.org",
                    "_spf10.example.org",
                ],
            },
            "spfIncludes: 11 DNS-querying SPF terms; RFC 7208 allows at most 10, counting those nested in each include",
        ],
        [
            "SPF include not a domain",
            { spfIncludes: ["include:_spf.google.com"] },
            'spfIncludes: "include:_spf.google.com" label "include:_spf" may contain only letters, digits, hyphens and underscores, not a hyphen at its start or end',
        ],
        ["SPF include twice", { spfIncludes: ["_spf.google.com", "_spf.google.com"] }, 'spfIncludes: "_spf.google.com" is given twice'],
        [
            "SPF include self",
            { spfIncludes: ["example.com"] },
            'spfIncludes: "example.com" is a mail domain of this server: including it is a loop (SPF permerror)',
        ],
        [
            "SPF include macro",
            { spfIncludes: ["%{i}._spf.example.org"] },
            'spfIncludes: "%{i}._spf.example.org" label "%{i}" may contain only letters, digits, hyphens and underscores, not a hyphen at its start or end',
        ],
        ["SPF include public suffix", { spfIncludes: ["com"] }, 'spfIncludes: "com" needs at least two labels, e.g. example.com'],
        [
            "SPF include space",
            { spfIncludes: ["_spf.google.com -all"] },
            'spfIncludes: "_spf.google.com -all" label "com -all" may contain only letters, digits, hyphens and underscores, not a hyphen at its start or end',
        ],
        ["malformed ip4", { spfIp4: ["300.1.2.3"] }, 'spfIp4: "300.1.2.3" is not an IPv4 address or CIDR range'],
        [
            "ip4 /0",
            { spfIp4: ["0.0.0.0/0"] },
            'spfIp4: "0.0.0.0/0" is wider than /8: it would let every host on the Internet send as the domain',
        ],
        [
            "ip4 /7",
            { spfIp4: ["128.0.0.0/7"] },
            'spfIp4: "128.0.0.0/7" is wider than /8: it would let a large part of the Internet send as the domain',
        ],
        [
            "ip4 loopback",
            { spfIp4: ["127.0.0.1"] },
            'spfIp4: "127.0.0.1" is a loopback address, never the source of mail from the Internet',
        ],
        [
            "ip4 unspecified",
            { spfIp4: ["0.0.0.0"] },
            'spfIp4: "0.0.0.0" is an unspecified address, never the source of mail from the Internet',
        ],
        [
            "ip4 host bits",
            { spfIp4: ["198.51.100.7/24"] },
            'spfIp4: "198.51.100.7/24" has bits set after the /24 prefix; the range is 198.51.100.0/24',
        ],
        ["ip4 twice", { spfIp4: ["198.51.100.0/24", "198.51.100.0/24"] }, 'spfIp4: "198.51.100.0/24" is given twice'],
        ["ip4 zone id", { spfIp4: ["198.51.100.1%1"] }, 'spfIp4: "198.51.100.1%1" has a zone id (%…); give a plain address or CIDR range'],
        ["ip6 given as ip4", { spfIp4: ["2001:db8::1"] }, 'spfIp4: "2001:db8::1" is not an IPv4 address or CIDR range'],
        ["malformed ip6", { spfIp6: ["2001:db8::/129"] }, 'spfIp6: "2001:db8::/129" is not an IPv6 address or CIDR range'],
        ["ip6 /0", { spfIp6: ["::/0"] }, 'spfIp6: "::/0" is wider than /16: it would let every host on the Internet send as the domain'],
        ["ip6 zone id", { spfIp6: ["fe80::1%eth0"] }, 'spfIp6: "fe80::1%eth0" has a zone id (%…); give a plain address or CIDR range'],
        [
            "ip6 link-local",
            { spfIp6: ["fe80::1"] },
            'spfIp6: "fe80::1" is a link-local address, never the source of mail from the Internet',
        ],
        [
            "ip6 multicast",
            { spfIp6: ["ff02::1/128"] },
            'spfIp6: "ff02::1/128" is a multicast address, never the source of mail from the Internet',
        ],
        ["ip4 given as ip6", { spfIp6: ["198.51.100.1"] }, 'spfIp6: "198.51.100.1" is not an IPv6 address or CIDR range'],
        [
            "ip6 mapped v4 range too wide",
            { spfIp6: ["2000::/3"] },
            'spfIp6: "2000::/3" is wider than /16: it would let a large part of the Internet send as the domain',
        ],
        [
            "selector with underscore",
            { dkimSelector: "mail_2026" },
            'dkimSelector: "mail_2026" is not a lower-case DNS label: label "mail_2026" may contain only letters, digits and hyphens, not a hyphen at its start or end',
        ],
        [
            "selector with dot",
            { dkimSelector: "a.b" },
            'dkimSelector: "a.b" is not a lower-case DNS label: label "a.b" may contain only letters, digits and hyphens, not a hyphen at its start or end',
        ],
        [
            "selector upper",
            { dkimSelector: "S2026" },
            'dkimSelector: "S2026" is not a lower-case DNS label: label "S2026" may contain only letters, digits and hyphens, not a hyphen at its start or end',
        ],
        ["selector empty", { dkimSelector: "" }, 'dkimSelector: "" is not a lower-case DNS label: empty label'],
        ["DMARC policy", { dmarcPolicy: "block" }, 'dmarcPolicy: "block" is not one of none, quarantine, reject'],
        ["backups", { backups: "hourly" }, 'backups: "hourly" is not one of daily, weekly, off'],
        ["DMARC alignment", { dmarcAlignment: "s" }, 'dmarcAlignment: "s" is not one of relaxed, strict'],
        ["DMARC rua no domain", { dmarcRua: ["mailto:reports"] }, 'dmarcRua: "mailto:reports" is not an e-mail address or mailto: URI'],
        [
            "DMARC rua with comma",
            { dmarcRua: ["a@example.com,b@example.com"] },
            'dmarcRua: "a@example.com,b@example.com" is not a plain e-mail address: the part before @ may hold only letters, digits and . _ + - !',
        ],
        [
            "DMARC rua fragment",
            { dmarcRua: ["a#b@example.net"] },
            'dmarcRua: "a#b@example.net" holds ? or #, which a URI reads as the start of its query or fragment',
        ],
        [
            "DMARC rua query",
            { dmarcRua: ["mailto:a@example.net?subject=x"] },
            'dmarcRua: "mailto:a@example.net?subject=x" holds ? or #, which a URI reads as the start of its query or fragment',
        ],
        [
            "DMARC rua semicolon",
            { dmarcRua: ["a@example.net; p=none"] },
            'dmarcRua: "a@example.net; p=none" is not an e-mail address: domain "example.net; p=none" label "net; p=none" may contain only letters, digits and hyphens, not a hyphen at its start or end',
        ],
        [
            "DMARC rua https",
            { dmarcRua: ["https://example.net/dmarc"] },
            'dmarcRua: "https://example.net/dmarc" is not an e-mail address or mailto: URI',
        ],
        [
            "DMARC rua bad size",
            { dmarcRua: ["mailto:a@example.net!10x"] },
            'dmarcRua: "mailto:a@example.net!10x": a size limit is written mailto:address!<number>[k|m|g|t]',
        ],
        [
            "DMARC rua size without mailto",
            { dmarcRua: ["a@example.net!10m"] },
            'dmarcRua: "a@example.net!10m": a size limit is written mailto:address!<number>[k|m|g|t]',
        ],
        ["DMARC rua twice", { dmarcRua: ["a@example.net", "mailto:a@example.net"] }, "dmarcRua: mailto:a@example.net is given twice"],
        [
            "DMARC rua percent",
            { dmarcRua: ["a%21b@example.net"] },
            'dmarcRua: "a%21b@example.net" is not a plain e-mail address: the part before @ may hold only letters, digits and . _ + - !',
        ],
        [
            "DMARC rua localhost",
            { dmarcRua: ["root@localhost"] },
            'dmarcRua: "root@localhost" is not an e-mail address: domain "localhost" needs at least two labels, e.g. example.com',
        ],
        ["ipv6 not boolean", { ipv6: "yes" }, 'ipv6: "yes" is not true or false'],
        ["ipv6 string true", { ipv6: "true" }, 'ipv6: "true" is not true or false'],
        ["dnsBlocklists not boolean", { dnsBlocklists: "off" }, 'dnsBlocklists: "off" is not true or false'],
        [
            "ACME over http",
            { acmeDirectoryUrl: "http://acme.example/dir" },
            'acmeDirectoryUrl: "http://acme.example/dir" is not an https:// URL; give the https:// URL of an ACME directory',
        ],
        [
            "ACME with space",
            { acmeDirectoryUrl: " https://acme.example/dir" },
            'acmeDirectoryUrl: " https://acme.example/dir" contains white space, quotes or other characters a URL does not; give the https:// URL of an ACME directory',
        ],
        [
            "ACME with quote",
            { acmeDirectoryUrl: "https://acme.example/dir'$(reboot)'" },
            "acmeDirectoryUrl: \"https://acme.example/dir'$(reboot)'\" contains white space, quotes or other characters a URL does not; give the https:// URL of an ACME directory",
        ],
        [
            "ACME with newline",
            { acmeDirectoryUrl: "https://acme.example/dir\nreboot" },
            'acmeDirectoryUrl: "https://acme.example/dir\\nreboot" contains white space, quotes or other characters a URL does not; give the https:// URL of an ACME directory',
        ],
        [
            "ACME credentials",
            { acmeDirectoryUrl: "https://u:p@acme.example/dir" },
            'acmeDirectoryUrl: "https://u:p@acme.example/dir" holds a user name or password; give the https:// URL of an ACME directory',
        ],
        [
            "ACME fragment",
            { acmeDirectoryUrl: "https://acme.example/dir#x" },
            'acmeDirectoryUrl: "https://acme.example/dir#x" has a fragment (#…); give the https:// URL of an ACME directory',
        ],
        [
            "ACME not a URL",
            { acmeDirectoryUrl: "acme.example" },
            'acmeDirectoryUrl: "acme.example" is not a URL; give the https:// URL of an ACME directory',
        ],
        ["ACME CA bundle text", { acmeCaBundle: "not a pem" }, 'acmeCaBundle: is not PEM text with at least one "CERTIFICATE" block'],
        [
            "ACME CA private key",
            { acmeCaBundle: "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n" },
            'acmeCaBundle: holds a PRIVATE KEY block; give only CA certificates (PEM "CERTIFICATE" blocks)',
        ],
        [
            "ACME CA garbage cert",
            { acmeCaBundle: "-----BEGIN CERTIFICATE-----\nMIIBnotacert\n-----END CERTIFICATE-----\n" },
            "acmeCaBundle: certificate 1 does not parse as X.509",
        ],
        [
            "ACME CA mismatched block",
            { acmeCaBundle: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END PRIVATE KEY-----\n" },
            'acmeCaBundle: has a "CERTIFICATE" block ending as "PRIVATE KEY"',
        ],
        // Found by a held-out set thrown at the plan (values that reached a host file or a record).
        [
            "operator starting with a hyphen (certbot would read an option)",
            { operatorEmail: "-ops@example.net" },
            'operatorEmail: "-ops@example.net" starts with "-", which a command line (certbot\'s --email) would read as an option',
        ],
        [
            "operator longer than 254 characters",
            { operatorEmail: `opsopsops@${"a".repeat(60)}.${"b".repeat(60)}.${"c".repeat(60)}.${"d".repeat(60)}.net` },
            `operatorEmail: "opsopsops@${"a".repeat(60)}.${"b".repeat(60)}.${"c".repeat(60)}.${"d".repeat(60)}.net" is 257 characters; an e-mail address is at most 254`,
        ],
        [
            "operator at localhost.localdomain",
            { operatorEmail: "ops@localhost.localdomain" },
            'operatorEmail: "ops@localhost.localdomain" is not an e-mail address: domain "localhost.localdomain" is under .localdomain, a special-use name that never reaches the Internet',
        ],
        [
            "operator under .invalid",
            { operatorEmail: "ops@example.invalid" },
            'operatorEmail: "ops@example.invalid" is not an e-mail address: domain "example.invalid" is under .invalid, a special-use name that never reaches the Internet',
        ],
        [
            "operator under .local (mDNS)",
            { operatorEmail: "ops@printer.local" },
            'operatorEmail: "ops@printer.local" is not an e-mail address: domain "printer.local" is under .local, a special-use name that never reaches the Internet',
        ],
        [
            "domain under .internal",
            { domain: "corp.internal" },
            'domain: "corp.internal" is under .internal, a special-use name that never reaches the Internet',
        ],
        [
            "domain under .onion",
            { domain: "abcdefghijklmnop.onion" },
            'domain: "abcdefghijklmnop.onion" is under .onion, a special-use name that never reaches the Internet',
        ],
        [
            "SPF include under .localdomain",
            { spfIncludes: ["localhost.localdomain"] },
            'spfIncludes: "localhost.localdomain" is under .localdomain, a special-use name that never reaches the Internet',
        ],
        [
            "SPF ip6 IPv4-mapped address (never matches)",
            { spfIp6: ["::ffff:198.51.100.1"] },
            'spfIp6: "::ffff:198.51.100.1" is an IPv4-mapped IPv6 address (::ffff:…), which never appears on the wire; give the IPv4 address',
        ],
        [
            "SPF ip6 every IPv4-mapped address",
            { spfIp6: ["::ffff:0:0/96"] },
            'spfIp6: "::ffff:0:0/96" is an IPv4-mapped IPv6 address (::ffff:…), which never appears on the wire; give the IPv4 address',
        ],
        [
            "SSH range IPv4-mapped (would lock the admin out)",
            { sshAllowedCidrs: ["::ffff:203.0.113.7"] },
            'sshAllowedCidrs: "::ffff:203.0.113.7" is an IPv4-mapped IPv6 address (::ffff:…), which never appears on the wire; give the IPv4 address',
        ],
        [
            "deploy range IPv4-mapped",
            { deployFromCidrs: ["::ffff:0.0.0.0/96"] },
            'deployFromCidrs: "::ffff:0.0.0.0/96" is an IPv4-mapped IPv6 address (::ffff:…), which never appears on the wire; give the IPv4 address',
        ],
        [
            "ACME URL with no slashes after https:",
            { acmeDirectoryUrl: "https:acme.example/dir" },
            'acmeDirectoryUrl: "https:acme.example/dir" has no host after https://; give the https:// URL of an ACME directory',
        ],
        [
            "ACME URL with an empty host",
            { acmeDirectoryUrl: "https:///dir" },
            'acmeDirectoryUrl: "https:///dir" has no host after https://; give the https:// URL of an ACME directory',
        ],
        [
            "ACME URL with a 70-character label",
            { acmeDirectoryUrl: `https://${"a".repeat(70)}.example/dir` },
            `acmeDirectoryUrl: "https://${"a".repeat(70)}.example/dir": host "${"a".repeat(70)}.example" label "${"a".repeat(70)}" is 70 characters; DNS labels are at most 63; give the https:// URL of an ACME directory`,
        ],
        [
            "ACME URL with a non-ASCII host",
            { acmeDirectoryUrl: "https://bücher.example/dir" },
            'acmeDirectoryUrl: "https://bücher.example/dir": write the host as "xn--bcher-kva.example" (ASCII, as a URL parser reads it); give the https:// URL of an ACME directory',
        ],
        [
            "host label invalid punycode",
            { hostLabel: "xn--zz" },
            'hostLabel: "xn--zz" is not a lower-case DNS label: label "xn--zz" is not valid punycode',
        ],
        [
            "selector invalid punycode",
            { dkimSelector: "xn--zz" },
            'dkimSelector: "xn--zz" is not a lower-case DNS label: label "xn--zz" is not valid punycode',
        ],
        [
            "previous selector invalid punycode",
            { dkimPreviousSelectors: ["xn--zz"] },
            'dkimPreviousSelectors: "xn--zz" is not a lower-case DNS label: label "xn--zz" is not valid punycode',
        ],
        [
            "ECDSA key with no point",
            { sshPublicKeys: [`ecdsa-sha2-nistp256 ${sshBlob("ecdsa-sha2-nistp256", "nistp256")}`] },
            `sshPublicKeys: "ecdsa-sha2-nistp256 ${sshBlob("ecdsa-sha2-nistp256", "nistp256").slice(0, 20)}…": its key data is not a nistp256 key (a point on the curve)`,
        ],
        [
            "ECDSA key whose point is not on the curve",
            {
                sshPublicKeys: [
                    `ecdsa-sha2-nistp256 ${sshBlob("ecdsa-sha2-nistp256", "nistp256", Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]))}`,
                ],
            },
            `sshPublicKeys: "ecdsa-sha2-nistp256 ${sshBlob("ecdsa-sha2-nistp256", "nistp256").slice(0, 20)}…": its key data is not a nistp256 key (a point on the curve)`,
        ],
        [
            "security-key Ed25519 of 5 bytes",
            { sshPublicKeys: [`sk-ssh-ed25519@openssh.com ${sshBlob("sk-ssh-ed25519@openssh.com", Buffer.alloc(5, 7), "ssh:")}`] },
            `sshPublicKeys: "sk-ssh-ed25519@openssh.com ${sshBlob("sk-ssh-ed25519@openssh.com").slice(0, 13)}…": its key data is not a 32-byte Ed25519 key`,
        ],
        [
            "security-key Ed25519 without its application",
            { sshPublicKeys: [`sk-ssh-ed25519@openssh.com ${sshBlob("sk-ssh-ed25519@openssh.com", Buffer.alloc(32, 7))}`] },
            `sshPublicKeys: "sk-ssh-ed25519@openssh.com ${sshBlob("sk-ssh-ed25519@openssh.com").slice(0, 13)}…": its key data does not end with a security key's application ("ssh:…")`,
        ],
    ];
    it("has at least 120 cases", () => assert.ok(cases.length >= 120, `${cases.length} cases`));
    for (const [title, args, message] of cases) {
        it(title, () => assert.equal(errorOf(args), message));
    }
});
