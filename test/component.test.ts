import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { createHash, createPublicKey } from "node:crypto";
import { before, describe, it } from "node:test";
import { HostProvider, MailServer, type MailServerArgs } from "../components";
import { chunkTxt } from "../components/records/txt";
import { isSecretValue, PlanMocks, type RecordedResource, revealSecrets } from "../plan/mocks";
import { valueOf } from "./support/outputs";

const mocks = new PlanMocks();
mocks.install("mailserver", "test", true);

const base: MailServerArgs = {
    domain: "example.com",
    operatorEmail: "ops@example.net",
    provider: HostProvider.DigitalOcean,
    region: "fra1",
    sshAllowedCidrs: ["203.0.113.0/24", "2001:db8:ffff::/48"],
};
const zoneId = createHash("md5").update("example.com").digest("hex");
const servers: Record<string, MailServer> = {};
let resources: RecordedResource[] = [];

before(async () => {
    await pulumi.runtime.runInPulumiStack(async () => {
        mocks.recordOptions();
        servers.do = new MailServer("do", base);
        servers.ln = new MailServer("ln", { ...base, provider: HostProvider.Linode, region: "eu-central", domain: "example.org", cloudflareZoneName: undefined });
        servers.v4 = new MailServer("v4", { ...base, provider: HostProvider.Linode, region: "eu-central", domain: "example.net", operatorEmail: "ops@example.org", ipv6: false });
        servers.zid = new MailServer("zid", { ...base, domain: "example.info", cloudflareZoneId: "0123456789abcdef0123456789abcdef" });
        return {};
    });
    for (const server of Object.values(servers)) await valueOf(pulumi.all([server.dnsRecords, server.userDataApplied]));
    await pulumi.runtime.disconnect();
    resources = mocks.withOptions();
});

function children(parent: string): RecordedResource[] {
    return resources.filter((r) => r.parent === parent);
}
function one(parent: string, type: string): RecordedResource {
    const found = children(parent).filter((r) => r.type === type);
    assert.equal(found.length, 1, `${parent}: one ${type}`);
    return found[0];
}
function typeCounts(parent: string): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of children(parent)) counts[r.type] = (counts[r.type] ?? 0) + 1;
    return counts;
}

const inboundDo = [
    { protocol: "tcp", portRange: "25", sourceAddresses: ["0.0.0.0/0", "::/0"] },
    { protocol: "tcp", portRange: "80", sourceAddresses: ["0.0.0.0/0", "::/0"] },
    { protocol: "tcp", portRange: "22", sourceAddresses: ["203.0.113.0/24", "2001:db8:ffff::/48"] },
    { protocol: "icmp", sourceAddresses: ["0.0.0.0/0", "::/0"] },
];

describe("MailServer on DigitalOcean", () => {
    it("is a mailserver:index:MailServer with exactly its children", () => {
        assert.equal(resources.find((r) => r.name === "do")?.type, "mailserver:index:MailServer");
        assert.deepEqual(typeCounts("do"), {
            "tls:index/privateKey:PrivateKey": 1,
            "digitalocean:index/droplet:Droplet": 1,
            "digitalocean:index/firewall:Firewall": 1,
            "cloudflare:index/dnsRecord:DnsRecord": 7,
        });
    });

    it("makes a 2048-bit RSA DKIM key", () => {
        assert.deepEqual(one("do", "tls:index/privateKey:PrivateKey").inputs, { algorithm: "RSA", rsaBits: 2048 });
    });

    it("names the droplet with the FQDN (its PTR for IPv4 and IPv6) and ignores later user-data changes", () => {
        const droplet = one("do", "digitalocean:index/droplet:Droplet");
        const { userData, ...rest } = droplet.inputs;
        assert.deepEqual(rest, {
            name: "mail.example.com",
            region: "fra1",
            size: "s-1vcpu-512mb-10gb",
            image: "debian-13-x64",
            ipv6: true,
            monitoring: true,
        });
        assert.ok(isSecretValue(userData), "userData is secret");
        assert.deepEqual(droplet.ignoreChanges, ["userData"]);
    });

    it("opens only 25, 80, ICMP to all and 22 to the allowed ranges; outbound open", () => {
        const firewall = one("do", "digitalocean:index/firewall:Firewall");
        assert.deepEqual(firewall.inputs.inboundRules, inboundDo);
        assert.deepEqual(firewall.inputs.dropletIds, [Number(one("do", "digitalocean:index/droplet:Droplet").id)]);
        assert.deepEqual(firewall.inputs.outboundRules, [
            { protocol: "tcp", portRange: "1-65535", destinationAddresses: ["0.0.0.0/0", "::/0"] },
            { protocol: "udp", portRange: "1-65535", destinationAddresses: ["0.0.0.0/0", "::/0"] },
            { protocol: "icmp", destinationAddresses: ["0.0.0.0/0", "::/0"] },
        ]);
    });

    it("creates the Cloudflare records with full names, unproxied, TXT pre-chunked", async () => {
        const dkim = await valueOf(servers.do.dkimRecord);
        const records = children("do")
            .filter((r) => r.type === "cloudflare:index/dnsRecord:DnsRecord")
            .map((r) => [r.name, r.inputs] as const);
        const byName = new Map(records.map(([name, inputs]) => [name as string, inputs as Record<string, unknown>]));
        const view = (name: string) => {
            const { comment: _comment, ...rest } = byName.get(name) ?? {};
            return rest;
        };
        assert.deepEqual(view("do-a"), { zoneId, name: "mail.example.com", type: "A", ttl: 3600, content: "192.0.2.10", proxied: false });
        assert.deepEqual(view("do-aaaa"), { zoneId, name: "mail.example.com", type: "AAAA", ttl: 3600, content: "2001:db8::10", proxied: false });
        assert.deepEqual(view("do-mx"), { zoneId, name: "example.com", type: "MX", ttl: 3600, content: "mail.example.com", priority: 10, proxied: false });
        assert.deepEqual(view("do-spf"), { zoneId, name: "example.com", type: "TXT", ttl: 3600, content: '"v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 -all"', proxied: false });
        assert.deepEqual(view("do-helo-spf"), { zoneId, name: "mail.example.com", type: "TXT", ttl: 3600, content: '"v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 -all"', proxied: false });
        assert.deepEqual(view("do-dkim"), { zoneId, name: "mailserver._domainkey.example.com", type: "TXT", ttl: 3600, content: chunkTxt(dkim.value), proxied: false });
        assert.deepEqual(view("do-dmarc"), { zoneId, name: "_dmarc.example.com", type: "TXT", ttl: 3600, content: '"v=DMARC1; p=quarantine; adkim=r; aspf=r"', proxied: false });
        for (const [, inputs] of records) assert.ok(((inputs as { comment: string }).comment).length <= 100);
    });

    it("derives p= from the key's public half (its SubjectPublicKeyInfo)", async () => {
        const key = mocks.keys.get("do-dkim-key");
        assert.ok(key);
        const dkim = await valueOf(servers.do.dkimRecord);
        assert.equal(dkim.name, "mailserver._domainkey.example.com");
        const spki = createPublicKey(key.privateKeyPem).export({ type: "spki", format: "der" }).toString("base64");
        assert.equal(dkim.value, `v=DKIM1; k=rsa; h=sha256; p=${spki}`);
        const records = await valueOf(servers.do.dnsRecords);
        assert.equal(records.find((r) => r.key === "dkim")?.value, chunkTxt(dkim.value));
    });

    it("keeps the user data secret, and it is what the droplet got", async () => {
        assert.equal(await pulumi.isSecret(servers.do.userData), true);
        const droplet = one("do", "digitalocean:index/droplet:Droplet");
        assert.equal(revealSecrets(droplet.inputs.userData), await valueOf(servers.do.userData));
        assert.equal(await valueOf(servers.do.userDataApplied), true);
    });

    it("reports its outputs", async () => {
        assert.equal(await valueOf(servers.do.fqdn), "mail.example.com");
        assert.equal(await valueOf(servers.do.ipv4), "192.0.2.10");
        assert.equal(await valueOf(servers.do.ipv6), "2001:db8::10");
        assert.equal(await valueOf(servers.do.dkimSelector), "mailserver");
        assert.deepEqual(await valueOf(servers.do.ptrRecords), [
            { address: "192.0.2.10", name: "mail.example.com", ttl: 3600, servedBy: "DigitalOcean, from the droplet name" },
            { address: "2001:db8::10", name: "mail.example.com", ttl: 3600, servedBy: "DigitalOcean, from the droplet name" },
        ]);
        const steps = await valueOf(servers.do.operatorSteps);
        assert.equal(steps.length, 3);
        assert.match(steps[0], /^DigitalOcean blocks outbound SMTP \(port 25\) on new accounts/);
        assert.match(steps[1], /^Delete any other SPF/);
        assert.equal(steps[2], "Port 22 is open but no sshPublicKeys were given, so nobody can log in: add a key.");
    });

    it("passes a given zone id through without a lookup", () => {
        const zoneIds = new Set(children("zid").filter((r) => r.type === "cloudflare:index/dnsRecord:DnsRecord").map((r) => r.inputs.zoneId));
        assert.deepEqual([...zoneIds], ["0123456789abcdef0123456789abcdef"]);
    });
});

describe("MailServer on Linode", () => {
    it("has exactly its children, with rDNS for both addresses", () => {
        assert.deepEqual(typeCounts("ln"), {
            "tls:index/privateKey:PrivateKey": 1,
            "linode:index/instance:Instance": 1,
            "linode:index/firewall:Firewall": 1,
            "cloudflare:index/dnsRecord:DnsRecord": 7,
            "linode:index/rdns:Rdns": 2,
        });
    });

    it("passes base64 cloud-init in Metadata, secret, and ignores later changes", async () => {
        const instance = one("ln", "linode:index/instance:Instance");
        const { metadatas, ...rest } = instance.inputs;
        assert.deepEqual(rest, {
            label: "mail.example.org",
            region: "eu-central",
            type: "g6-nanode-1",
            image: "linode/debian13",
            booted: true,
            privateIp: false,
        });
        assert.ok(isSecretValue(metadatas), "metadatas are secret");
        const [metadata] = revealSecrets(metadatas) as Array<{ userData: string }>;
        assert.equal(Buffer.from(metadata.userData, "base64").toString("utf8"), await valueOf(servers.ln.userData));
        assert.deepEqual(instance.ignoreChanges, ["metadatas"]);
    });

    it("creates rDNS after the record of the same address, IPv6 without /128, waiting for it to resolve", async () => {
        const rdns = children("ln").filter((r) => r.type === "linode:index/rdns:Rdns");
        const ipv4 = await valueOf(servers.ln.ipv4);
        const ipv6 = await valueOf(servers.ln.ipv6);
        assert.match(ipv4, /^192\.0\.2\.\d+$/);
        assert.match(ipv6 ?? "", /^2001:db8::[0-9a-f]+$/);
        assert.deepEqual(
            rdns.map((r) => [r.name, r.inputs, r.dependsOn]),
            [
                ["ln-rdns-ipv4", { address: ipv4, rdns: "mail.example.org", waitForAvailable: true }, ["ln-a"]],
                ["ln-rdns-ipv6", { address: ipv6, rdns: "mail.example.org", waitForAvailable: true }, ["ln-aaaa"]],
            ],
        );
    });

    it("firewall: drop inbound except the port table, accept outbound", () => {
        const firewall = one("ln", "linode:index/firewall:Firewall");
        assert.deepEqual(firewall.inputs, {
            label: "mail-mail.example.org",
            inboundPolicy: "DROP",
            outboundPolicy: "ACCEPT",
            linodes: [Number(one("ln", "linode:index/instance:Instance").id)],
            inbounds: [
                { label: "allow-smtp", action: "ACCEPT", protocol: "TCP", ports: "25", ipv4s: ["0.0.0.0/0"], ipv6s: ["::/0"] },
                { label: "allow-http", action: "ACCEPT", protocol: "TCP", ports: "80", ipv4s: ["0.0.0.0/0"], ipv6s: ["::/0"] },
                { label: "allow-ssh", action: "ACCEPT", protocol: "TCP", ports: "22", ipv4s: ["203.0.113.0/24"], ipv6s: ["2001:db8:ffff::/48"] },
                { label: "allow-icmp", action: "ACCEPT", protocol: "ICMP", ipv4s: ["0.0.0.0/0"], ipv6s: ["::/0"] },
            ],
        });
    });

    it("strips /128 from the IPv6 output and AAAA", async () => {
        const ipv6 = await valueOf(servers.ln.ipv6);
        assert.doesNotMatch(ipv6 ?? "/", /\//);
        const records = await valueOf(servers.ln.dnsRecords);
        assert.equal(records.find((r) => r.type === "AAAA")?.value, ipv6);
        assert.equal((await valueOf(servers.ln.ptrRecords))[1].servedBy, "Linode, from linode.Rdns");
    });

    it("with IPv6 off: no AAAA, one rDNS, Postfix on IPv4 only", async () => {
        assert.deepEqual(typeCounts("v4"), {
            "tls:index/privateKey:PrivateKey": 1,
            "linode:index/instance:Instance": 1,
            "linode:index/firewall:Firewall": 1,
            "cloudflare:index/dnsRecord:DnsRecord": 6,
            "linode:index/rdns:Rdns": 1,
        });
        assert.equal(await valueOf(servers.v4.ipv6), undefined);
        assert.match(await valueOf(servers.v4.userData), /inet_protocols = ipv4/);
    });
});

describe("bad input", () => {
    it("throws naming the argument before registering any resource", () => {
        const before = mocks.resources.length;
        assert.throws(() => new MailServer("bad", { ...base, spfAll: "+all" as never }), {
            name: "MailServerArgumentError",
            message: 'MailServer "bad": spfAll: "+all" lets any host send as the domain; use "-all" (default) or "~all"',
        });
        assert.throws(() => new MailServer("bad", { ...base, domain: "bücher.example" }), {
            message: 'MailServer "bad": domain: "bücher.example" contains non-ASCII characters; use its punycode form "xn--bcher-kva.example"',
        });
        assert.equal(mocks.resources.length, before);
    });
});
