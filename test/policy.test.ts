import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { POLICY_PACK_ARGS, POLICY_PACK_NAME } from "../policy/packArgs";
import {
    dkimStringsPolicy,
    dmarcRecordPolicy,
    dropletFqdnNamePolicy,
    linodeRdnsPolicy,
    mailHostNotProxiedPolicy,
    spfRecordPolicy,
    userDataSecretPolicy,
} from "../policy/policies";
import { type StackResource, UNKNOWN } from "../policy/stackResource";
import { cfRecord, DKIM_VALUE, doStack, linodeStack, resource, runPolicy, urnOf, withChanged, without } from "./support/policyStack";

const CF = "cloudflare:index/dnsRecord:DnsRecord";
/** A private key's PEM armour (the policy looks for the armour, not the key). */
const FAKE_PEM = "-----BEGIN PRIVATE KEY-----\n    MIIEvQIBADANBg==\n    -----END PRIVATE KEY-----";
const DROPLET = "digitalocean:index/droplet:Droplet";
const LINODE = "linode:index/instance:Instance";

function withProps(resources: StackResource[], name: string, props: Record<string, unknown>): StackResource[] {
    return withChanged(resources, name, (r) => ({ ...r, props: { ...r.props, ...props } }));
}

describe("policy pack", () => {
    it("registers the seven policies, all mandatory stack validations", () => {
        assert.equal(POLICY_PACK_NAME, "mailserver");
        assert.equal(POLICY_PACK_ARGS.enforcementLevel, "mandatory");
        assert.deepEqual(
            POLICY_PACK_ARGS.policies.map((p) => [p.name, p.enforcementLevel, "validateStack" in p]),
            [
                ["mailserver-spf-record", "mandatory", true],
                ["mailserver-dmarc-record", "mandatory", true],
                ["mailserver-dkim-txt-strings", "mandatory", true],
                ["mailserver-mail-host-not-proxied", "mandatory", true],
                ["mailserver-droplet-named-fqdn", "mandatory", true],
                ["mailserver-linode-rdns", "mandatory", true],
                ["mailserver-user-data-secret", "mandatory", true],
            ],
        );
    });

    it("finds nothing in what MailServer creates on DigitalOcean and on Linode", async () => {
        for (const policy of [
            spfRecordPolicy,
            dmarcRecordPolicy,
            dkimStringsPolicy,
            mailHostNotProxiedPolicy,
            dropletFqdnNamePolicy,
            linodeRdnsPolicy,
            userDataSecretPolicy,
        ]) {
            assert.deepEqual(await runPolicy(policy, doStack()), [], policy.name);
            assert.deepEqual(await runPolicy(policy, linodeStack()), [], policy.name);
        }
    });
});

describe("mailserver-spf-record", () => {
    it("reports a second SPF record at the same name, written by hand outside the component", async () => {
        const extra = cfRecord("legacy-spf", "TXT", "example.com", "v=spf1 include:_spf.google.com ~all");
        assert.deepEqual(await runPolicy(spfRecordPolicy, [...doStack(), extra]), [
            {
                urn: urnOf(CF, "legacy-spf"),
                message:
                    `example.com has 2 SPF (v=spf1) TXT records: "mail-spf-example.com" (${CF}), "legacy-spf" (${CF}). ` +
                    "Two SPF records are a permanent error at every receiver (RFC 7208 §3.2): merge them into one record and delete the others.",
            },
        ]);
    });

    it("does not count other TXT records, or SPF records at other names", async () => {
        const verification = cfRecord("google-verify", "TXT", "example.com", '"google-site-verification=abc"');
        const sub = cfRecord("news-spf", "TXT", "news.example.com", '"v=spf1 -all"');
        assert.deepEqual(await runPolicy(spfRecordPolicy, [...doStack(), verification, sub]), []);
    });

    it("reports 11 DNS-querying terms, counting a, mx, ptr, exists and redirect= but not ip4/ip6/all", async () => {
        const terms =
            "include:a.example include:b.example include:c.example include:d.example include:e.example a mx:example.net ptr exists:%{i}.x.example ip4:198.51.100.1 ip6:2001:db8::1";
        const spf = withProps(doStack(), "mail-spf-example.com", { content: `"v=spf1 ${terms} redirect=_spf.example.net"` });
        assert.deepEqual(await runPolicy(spfRecordPolicy, spf), []);
        const eleven = withProps(doStack(), "mail-spf-example.com", {
            content: `"v=spf1 ${terms} include:f.example redirect=_spf.example.net"`,
        });
        assert.deepEqual(await runPolicy(spfRecordPolicy, eleven), [
            {
                urn: urnOf(CF, "mail-spf-example.com"),
                message: `SPF record of example.com "mail-spf-example.com" (${CF}) has 11 DNS-querying terms (include, a, mx, ptr, exists, redirect=); receivers allow at most 10, counting those inside each include, and fail SPF beyond that: replace some with ip4:/ip6: terms or remove senders.`,
            },
        ]);
    });

    it("reports +all (also written as a bare all) and ?all, and accepts ~all", async () => {
        const plus = withProps(doStack(), "mail-spf-example.com", { content: '"v=spf1 ip4:192.0.2.10 all"' });
        assert.deepEqual(await runPolicy(spfRecordPolicy, plus), [
            {
                urn: urnOf(CF, "mail-spf-example.com"),
                message: `SPF record of example.com "mail-spf-example.com" (${CF}) ends with "all", which lets any host on the internet send as the domain: end it with "-all" (or "~all").`,
            },
        ]);
        const neutral = withProps(doStack(), "mail-spf-mail.example.com", { content: "v=spf1 ip4:192.0.2.10 ?all" });
        assert.deepEqual(await runPolicy(spfRecordPolicy, neutral), [
            {
                urn: urnOf(CF, "mail-spf-mail.example.com"),
                message: `SPF record of mail.example.com "mail-spf-mail.example.com" (${CF}) ends with "?all", which makes SPF say nothing about other hosts: end it with "-all" (or "~all").`,
            },
        ]);
        const soft = withProps(doStack(), "mail-spf-example.com", { content: '"v=spf1 ip4:192.0.2.10 " "~all"' });
        assert.deepEqual(await runPolicy(spfRecordPolicy, soft), []);
    });

    it("reads pre-chunked strings joined without a separator, and DigitalOcean and deprecated Cloudflare records", async () => {
        const chunked = withProps(doStack(), "mail-spf-example.com", { content: '"v=spf1 ip4:192.0.2.10 +a" "ll"' });
        assert.equal((await runPolicy(spfRecordPolicy, chunked)).length, 1);
        const doRecord = resource("digitalocean:index/dnsRecord:DnsRecord", "do-spf", {
            domain: "example.com",
            name: "@",
            type: "TXT",
            value: "v=spf1 a -all",
        });
        const oldCf = resource("cloudflare:index/record:Record", "old-spf", {
            zoneId: "zone1",
            name: "example.com",
            type: "TXT",
            value: "v=spf1 mx -all",
        });
        const reported = await runPolicy(spfRecordPolicy, [...doStack(), doRecord, oldCf]);
        assert.deepEqual(
            reported.map((v) => v.urn),
            [urnOf("digitalocean:index/dnsRecord:DnsRecord", "do-spf"), urnOf("cloudflare:index/record:Record", "old-spf")],
        );
        assert.match(reported[0].message, /^example\.com has 3 SPF \(v=spf1\) TXT records: /);
    });

    it("reports a term that does not parse", async () => {
        const bad = withProps(doStack(), "mail-spf-example.com", { content: '"v=spf1 ip4:192.0.2.10 incude:x.example -all"' });
        assert.deepEqual(await runPolicy(spfRecordPolicy, bad), [
            {
                urn: urnOf(CF, "mail-spf-example.com"),
                message: `SPF record of example.com "mail-spf-example.com" (${CF}) does not parse: unknown term "incude:x.example". Fix the term (RFC 7208 §5).`,
            },
        ]);
    });
});

describe("mailserver-dmarc-record", () => {
    it("reports a domain whose MX has no DMARC record", async () => {
        assert.deepEqual(await runPolicy(dmarcRecordPolicy, without(doStack(), "mail-dmarc-example.com")), [
            {
                urn: urnOf(CF, "mail-mx-example.com"),
                message: `example.com has an MX record "mail-mx-example.com" (${CF}) but no DMARC record: add a TXT record named _dmarc.example.com with "v=DMARC1; p=quarantine" (p=none at least; Gmail, Yahoo and Outlook require one).`,
            },
        ]);
    });

    it("checks every domain of a stack with several: the second domain's missing DMARC record is reported, the first's is not", async () => {
        const names = doStack()
            .filter((r) => r.type === CF && r.props.type === "MX")
            .map((r) => r.props.name);
        assert.deepEqual(names.sort(), ["example.com", "example.io"]);
        assert.deepEqual(await runPolicy(dmarcRecordPolicy, without(doStack(), "mail-dmarc-example.io")), [
            {
                urn: urnOf(CF, "mail-mx-example.io"),
                message: `example.io has an MX record "mail-mx-example.io" (${CF}) but no DMARC record: add a TXT record named _dmarc.example.io with "v=DMARC1; p=quarantine" (p=none at least; Gmail, Yahoo and Outlook require one).`,
            },
        ]);
    });

    it("does not take a TXT at _dmarc that is not v=DMARC1", async () => {
        const notDmarc = withProps(doStack(), "mail-dmarc-example.com", { content: '"p=reject; v=DMARC1"' });
        assert.equal((await runPolicy(dmarcRecordPolicy, notDmarc)).length, 1);
    });

    it("accepts a hand-written MX for a subdomain covered by the organizational domain's DMARC record", async () => {
        const subMx = cfRecord("lists-mx", "MX", "lists.example.com", "mail.example.com", { priority: 10 });
        assert.deepEqual(await runPolicy(dmarcRecordPolicy, [...doStack(), subMx]), []);
        const otherMx = cfRecord("other-mx", "MX", "example.org", "mail.example.com", { priority: 10 });
        assert.deepEqual(
            (await runPolicy(dmarcRecordPolicy, [...doStack(), otherMx])).map((v) => v.urn),
            [urnOf(CF, "other-mx")],
        );
    });
});

describe("mailserver-dkim-txt-strings", () => {
    it("reports a DKIM record given as one 410-character string", async () => {
        const unsplit = withProps(doStack(), "mail-dkim-mailserver._domainkey.example.com", { content: DKIM_VALUE });
        assert.equal(DKIM_VALUE.length, 420);
        assert.deepEqual(await runPolicy(dkimStringsPolicy, unsplit), [
            {
                urn: urnOf(CF, "mail-dkim-mailserver._domainkey.example.com"),
                message: `DKIM record mailserver._domainkey.example.com "mail-dkim-mailserver._domainkey.example.com" (${CF}) has a string of 420 characters; a TXT string holds at most 255: give the value as quoted strings of at most 255 characters, "<first 255>" "<rest>".`,
            },
        ]);
    });

    it("reports a quoted string of 256 characters, accepts 255, and ignores long TXT records that are not DKIM", async () => {
        const v = `v=DKIM1; k=rsa; p=${"B".repeat(300)}`;
        const bad = withProps(doStack(), "mail-dkim-mailserver._domainkey.example.com", {
            content: `"${v.slice(0, 256)}" "${v.slice(256)}"`,
        });
        assert.deepEqual(
            (await runPolicy(dkimStringsPolicy, bad)).map((x) => x.message.match(/a string of (\d+)/)?.[1]),
            ["256"],
        );
        const good = withProps(doStack(), "mail-dkim-mailserver._domainkey.example.com", {
            content: `"${v.slice(0, 255)}" "${v.slice(255)}"`,
        });
        assert.deepEqual(await runPolicy(dkimStringsPolicy, good), []);
        const other = cfRecord("long", "TXT", "example.com", "x".repeat(300));
        assert.deepEqual(await runPolicy(dkimStringsPolicy, [...doStack(), other]), []);
    });
});

describe("mailserver-mail-host-not-proxied", () => {
    it("reports the mail host's proxied A record", async () => {
        const proxied = withProps(doStack(), "mail-a-mail.example.com", { proxied: true });
        assert.deepEqual(await runPolicy(mailHostNotProxiedPolicy, proxied), [
            {
                urn: urnOf(CF, "mail-a-mail.example.com"),
                message: `A record mail.example.com "mail-a-mail.example.com" (${CF}) is a mail host's address but is proxied through Cloudflare, which does not carry SMTP and hides the host's address from receivers: set proxied: false.`,
            },
        ]);
    });

    it("reports a proxied hand-written AAAA at an MX target, and leaves a proxied web record alone", async () => {
        const mx = cfRecord("mx2", "MX", "example.com", "mx2.example.com", { priority: 20 });
        const mx2 = cfRecord("mx2-aaaa", "AAAA", "mx2.example.com", "2001:db8::99", { proxied: true });
        const www = cfRecord("www", "A", "www.example.com", "192.0.2.80", { proxied: true });
        assert.deepEqual(
            (await runPolicy(mailHostNotProxiedPolicy, [...doStack(), mx, mx2, www])).map((v) => v.urn),
            [urnOf(CF, "mx2-aaaa")],
        );
    });
});

describe("mailserver-droplet-named-fqdn", () => {
    it("reports a MailServer droplet not named with the name of its A record", async () => {
        const short = withProps(doStack(), "mail-droplet", { name: "mail" });
        assert.deepEqual(await runPolicy(dropletFqdnNamePolicy, short), [
            {
                urn: urnOf(DROPLET, "mail-droplet"),
                message: `mail host droplet "mail-droplet" (${DROPLET}) is named "mail" but its A/AAAA record is mail.example.com: name the droplet "mail.example.com" (DigitalOcean sets the PTR of its IPv4 and IPv6 address from the droplet name, and receivers such as Gmail refuse mail from an address whose PTR does not resolve back).`,
            },
        ]);
    });

    it("finds a hand-written droplet through the A record at an MX target, linked by its address", async () => {
        const droplet = resource(DROPLET, "mx-box", { name: "mx-box", ipv4Address: "198.51.100.7" });
        const a = cfRecord("mx-box-a", "A", "mx.example.net", "198.51.100.7");
        const mx = cfRecord("net-mx", "MX", "example.net", "mx.example.net", { priority: 10 });
        const web = resource(DROPLET, "web", { name: "web", ipv4Address: "198.51.100.8" });
        assert.deepEqual(await runPolicy(dropletFqdnNamePolicy, [droplet, a, mx, web]), [
            {
                urn: urnOf(DROPLET, "mx-box"),
                message: `mail host droplet "mx-box" (${DROPLET}) is named "mx-box" but its A/AAAA record is mx.example.net: name the droplet "mx.example.net" (DigitalOcean sets the PTR of its IPv4 and IPv6 address from the droplet name, and receivers such as Gmail refuse mail from an address whose PTR does not resolve back).`,
            },
        ]);
        const named = withProps([droplet, a, mx, web], "mx-box", { name: "mx.example.net" });
        assert.deepEqual(await runPolicy(dropletFqdnNamePolicy, named), []);
    });

    it("reports a MailServer droplet without A record whose name is not a FQDN", async () => {
        const stack = withProps(without(doStack(), "mail-a-mail.example.com", "mail-aaaa-mail.example.com"), "mail-droplet", {
            name: "Mail",
        });
        assert.deepEqual(await runPolicy(dropletFqdnNamePolicy, stack), [
            {
                urn: urnOf(DROPLET, "mail-droplet"),
                message: `mail host droplet "mail-droplet" (${DROPLET}) is named "Mail", which is not a FQDN (must be lower case): name it with the host's FQDN, e.g. mail.example.com (DigitalOcean sets the PTR of its IPv4 and IPv6 address from the droplet name, and receivers such as Gmail refuse mail from an address whose PTR does not resolve back).`,
            },
        ]);
    });
});

describe("mailserver-linode-rdns", () => {
    it("reports a Linode mail host without Rdns for its IPv6 address", async () => {
        assert.deepEqual(await runPolicy(linodeRdnsPolicy, without(linodeStack(), "mail-rdns-ipv6")), [
            {
                urn: urnOf(LINODE, "mail-instance"),
                message: `mail host Linode instance "mail-instance" (${LINODE}) has no linode.Rdns for its IPv6 address: add new linode.Rdns({ address, rdns: "mail.example.com", waitForAvailable: true }) for it, after its A/AAAA records (receivers such as Gmail refuse mail from an address without a matching PTR).`,
            },
        ]);
    });

    it("reports both families when there is no Rdns at all, and needs no IPv6 Rdns without an AAAA record", async () => {
        const none = without(linodeStack(), "mail-rdns-ipv4", "mail-rdns-ipv6");
        assert.deepEqual(
            (await runPolicy(linodeRdnsPolicy, none)).map((v) => v.message.match(/for its (\S+(?: and \S+)?) address:/)?.[1]),
            ["IPv4 and IPv6"],
        );
        assert.deepEqual(await runPolicy(linodeRdnsPolicy, without(linodeStack(), "mail-aaaa-mail.example.com", "mail-rdns-ipv6")), []);
    });

    it("tells the families apart during a preview, when the addresses are not known yet", async () => {
        const preview = linodeStack().map((r) => {
            if (r.name === "mail-instance") return { ...r, props: { ...r.props, ipAddress: UNKNOWN, ipv4s: UNKNOWN, ipv6: UNKNOWN } };
            if (r.name === "mail-a-mail.example.com" || r.name === "mail-aaaa-mail.example.com")
                return { ...r, props: { ...r.props, content: UNKNOWN } };
            if (r.name.startsWith("mail-rdns")) return { ...r, props: { ...r.props, address: UNKNOWN } };
            return r;
        });
        assert.deepEqual(await runPolicy(linodeRdnsPolicy, preview), []);
        assert.deepEqual(
            (await runPolicy(linodeRdnsPolicy, without(preview, "mail-rdns-ipv4"))).map(
                (v) => v.message.match(/for its (\S+(?: and \S+)?) address:/)?.[1],
            ),
            ["IPv4"],
        );
    });
});

describe("mailserver-user-data-secret", () => {
    it("reports droplet user data with a private key that comes from no secret source", async () => {
        // DigitalOcean keeps only the SHA-1 of the user data in state (the provider's StateFunc), so
        // this is a droplet whose user data the policy can read: one from a plain string with a key.
        const plain = withChanged(doStack(), "mail-droplet", (r) => ({
            ...r,
            props: { ...r.props, userData: `#cloud-config\nwrite_files:\n- content: |\n    ${FAKE_PEM}\n` },
            propertyDependencies: {},
            additionalSecretOutputs: undefined,
        }));
        assert.deepEqual(await runPolicy(userDataSecretPolicy, plain), [
            {
                urn: urnOf(DROPLET, "mail-droplet"),
                message: `"mail-droplet" (${DROPLET}) has a private key in userData that is not known to be secret: it would show in plain text in previews, pull-request comments and state. Wrap it in pulumi.secret(...) (or compute it from a tls.PrivateKey's privateKeyPem) and declare it with the resource option additionalSecretOutputs: ["userData"], which is what this policy can see.`,
            },
        ]);
        const declared = withChanged(plain, "mail-droplet", (r) => ({ ...r, additionalSecretOutputs: ["userData"] }));
        assert.deepEqual(await runPolicy(userDataSecretPolicy, declared), []);
    });

    it("decodes Linode's base64 metadata, and ignores user data without a key", async () => {
        const plain = withChanged(linodeStack(), "mail-instance", (r) => ({
            ...r,
            propertyDependencies: {},
            additionalSecretOutputs: undefined,
        }));
        assert.deepEqual(
            (await runPolicy(userDataSecretPolicy, plain)).map((v) => v.message.match(/in (\S+) that/)?.[1]),
            ["metadatas[0].userData"],
        );
        const noKey = withProps(plain, "mail-instance", { metadatas: [{ userData: Buffer.from("#cloud-config\n").toString("base64") }] });
        assert.deepEqual(await runPolicy(userDataSecretPolicy, noKey), []);
    });
});
