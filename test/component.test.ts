import assert from "node:assert/strict";
import { createHash, createPublicKey } from "node:crypto";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { BackupSchedule, HostProvider, MailServer, type MailServerArgs } from "../components";
import { APPLY_PROGRAM, DEPLOY_USER } from "../components/host/bootstrap";
import { chunkTxt } from "../components/records/txt";
import { TYPES } from "../components/resourceTypes";
import { isSecretValue, maskSecrets, PlanMocks, type RecordedResource, revealSecrets } from "../plan/mocks";
import { outputValue } from "./support/outputs";

const mocks = new PlanMocks();
mocks.install("mailserver", "test", true);

const base: MailServerArgs = {
    domain: "example.com",
    operatorEmail: "ops@example.net",
    provider: HostProvider.DigitalOcean,
    region: "fra1",
    sshAllowedCidrs: ["203.0.113.0/24", "2001:db8:ffff::/48"],
};
/** The zone id the mock's filtered lookup answers in `zoneId` (its `id` is empty, as Cloudflare's may be). */
const zoneId = createHash("md5").update("example.com").digest("hex");
const GUARD = "pulumi-nodejs:dynamic/mailserver:ChangeGuard";
const servers: Record<string, MailServer> = {};
const RELAY_PASSWORD = "relay-api-key-0123456789";
let resources: RecordedResource[] = [];

before(async () => {
    await pulumi.runtime.runInPulumiStack(async () => {
        mocks.recordOptions();
        servers.do = new MailServer("do", base);
        servers.ln = new MailServer("ln", {
            ...base,
            provider: HostProvider.Linode,
            region: "eu-central",
            domain: "example.org",
            dkimSelector: "s2026",
            dkimPreviousSelectors: ["mailserver"],
        });
        servers.v4 = new MailServer("v4", {
            ...base,
            provider: HostProvider.Linode,
            region: "eu-central",
            domain: "example.net",
            operatorEmail: "ops@example.org",
            ipv6: false,
            deployFromCidrs: ["198.51.100.0/24"],
        });
        servers.relay = new MailServer("relay", {
            ...base,
            provider: HostProvider.Linode,
            region: "eu-central",
            domain: "example.biz",
            smarthost: "smtp.relay.example.org:587",
            smarthostUser: "mailer",
            smarthostPassword: RELAY_PASSWORD,
            spfIncludes: ["relay.example.org"],
            backups: BackupSchedule.Weekly,
        });
        servers.relay2525 = new MailServer("relay2525", {
            ...base,
            domain: "example.info",
            smarthost: "smtp.relay.example.org:2525",
            spfIp4: ["198.51.100.0/24"],
        });
        servers.zid = new MailServer("zid", { ...base, domain: "example.info", cloudflareZoneId: "0123456789abcdef0123456789abcdef" });
        servers.two = new MailServer("two", {
            ...base,
            extraDomains: ["example.io zoneId=00000000000000000000000000000abc selector=s2026 previousSelectors=old", "shop.example.com"],
            dmarcRua: ["postmaster@example.com"],
            mailboxes: ["alice@example.com", "dave@example.io"],
        });
        return {};
    });
    for (const server of Object.values(servers)) await outputValue(pulumi.all([server.dnsRecords, server.bundle, server.applied]));
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
function named(name: string): RecordedResource {
    const found = resources.find((r) => r.name === name);
    assert.ok(found, `a resource named ${name}`);
    return found;
}
function typeCounts(parent: string): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of children(parent)) counts[r.type] = (counts[r.type] ?? 0) + 1;
    return counts;
}
/** The addresses the mocks gave a server's machine (in the order machines registered). */
async function addresses(server: string): Promise<[string, string]> {
    return [await outputValue(servers[server].ipv4), (await outputValue(servers[server].ipv6)) ?? ""];
}
function record(name: string): Record<string, unknown> {
    const { comment: _comment, ...rest } = named(name).inputs;
    return rest;
}

describe("MailServer on DigitalOcean", () => {
    it("is a mailserver:index:MailServer with exactly its children", () => {
        assert.equal(resources.find((r) => r.name === "do")?.type, "mailserver:index:MailServer");
        assert.deepEqual(typeCounts("do"), {
            [TYPES.privateKey]: 3,
            [GUARD]: 1,
            [TYPES.droplet]: 1,
            [TYPES.doFirewall]: 1,
            [TYPES.dnsRecord]: 7,
            [TYPES.remoteCommand]: 2,
        });
    });

    it("makes a 2048-bit RSA DKIM key per selector, and ed25519 keys for the deploy account and the host", () => {
        assert.deepEqual(named("do-dkim-mailserver").inputs, { algorithm: "RSA", rsaBits: 2048 });
        assert.deepEqual(named("do-deploy-key").inputs, { algorithm: "ED25519" });
        assert.deepEqual(named("do-host-key").inputs, { algorithm: "ED25519" });
    });

    it("names the droplet with the FQDN (its PTR), keeps monitoring off, the disk on resize, and the bootstrap user data", () => {
        const droplet = one("do", TYPES.droplet);
        const { userData, ...rest } = droplet.inputs;
        assert.deepEqual(rest, {
            name: "mail.example.com",
            region: "fra1",
            size: "s-1vcpu-512mb-10gb",
            image: "debian-13-x64",
            ipv6: true,
            monitoring: false,
            resizeDisk: false,
            // Send-only: nothing on the disk that pulumi up cannot rebuild.
            backups: false,
        });
        assert.ok(isSecretValue(userData), "userData is secret");
        assert.deepEqual(droplet.ignoreChanges, ["userData"]);
        assert.deepEqual(droplet.additionalSecretOutputs, ["userData"]);
        assert.deepEqual(droplet.dependsOn, ["do-guard"]);
    });

    it("guards the machine with the settings a change of which needs a new host", () => {
        const { __provider, ...state } = one("do", GUARD).inputs;
        assert.equal(typeof __provider, "string");
        assert.deepEqual(state, {
            provider: "digitalocean",
            region: "fra1",
            image: "debian-13-x64",
            size: "s-1vcpu-512mb-10gb",
            ipv6: true,
            fqdn: "mail.example.com",
            hostGeneration: 1,
            dkimSelector: "mailserver",
            dkimPreviousSelectors: [],
        });
    });

    it("opens 25, 80 and ICMP to all, 22 to the deploy and admin ranges; outbound open", () => {
        const firewall = one("do", TYPES.doFirewall);
        assert.deepEqual(firewall.inputs.inboundRules, [
            { protocol: "tcp", portRange: "25", sourceAddresses: ["0.0.0.0/0", "::/0"] },
            { protocol: "tcp", portRange: "80", sourceAddresses: ["0.0.0.0/0", "::/0"] },
            { protocol: "tcp", portRange: "22", sourceAddresses: ["0.0.0.0/0", "203.0.113.0/24", "::/0", "2001:db8:ffff::/48"] },
            { protocol: "icmp", sourceAddresses: ["0.0.0.0/0", "::/0"] },
        ]);
        assert.deepEqual(firewall.inputs.dropletIds, [Number(one("do", TYPES.droplet).id)]);
        assert.deepEqual(firewall.inputs.outboundRules, [
            { protocol: "tcp", portRange: "1-65535", destinationAddresses: ["0.0.0.0/0", "::/0"] },
            { protocol: "udp", portRange: "1-65535", destinationAddresses: ["0.0.0.0/0", "::/0"] },
            { protocol: "icmp", destinationAddresses: ["0.0.0.0/0", "::/0"] },
        ]);
    });

    it("creates the Cloudflare records with full names, unproxied, TXT pre-chunked, in the zone's zoneId", async () => {
        const dkim = await outputValue(servers.do.dkimRecord);
        const [v4, v6] = await addresses("do");
        const common = { zoneId, ttl: 3600, proxied: false };
        assert.deepEqual(record("do-a-mail.example.com"), { ...common, name: "mail.example.com", type: "A", content: v4 });
        assert.deepEqual(record("do-aaaa-mail.example.com"), { ...common, name: "mail.example.com", type: "AAAA", content: v6 });
        assert.deepEqual(record("do-mx-example.com"), {
            ...common,
            name: "example.com",
            type: "MX",
            content: "mail.example.com",
            priority: 10,
        });
        const spf = `"v=spf1 ip4:${v4} ip6:${v6} -all"`;
        assert.deepEqual(record("do-spf-example.com"), { ...common, name: "example.com", type: "TXT", content: spf });
        assert.deepEqual(record("do-spf-mail.example.com"), { ...common, name: "mail.example.com", type: "TXT", content: spf });
        assert.deepEqual(record("do-dkim-mailserver._domainkey.example.com"), {
            ...common,
            name: "mailserver._domainkey.example.com",
            type: "TXT",
            content: chunkTxt(dkim.value),
        });
        assert.deepEqual(record("do-dmarc-example.com"), {
            ...common,
            name: "_dmarc.example.com",
            type: "TXT",
            content: '"v=DMARC1; p=quarantine; adkim=r; aspf=r"',
        });
        for (const r of children("do").filter((c) => c.type === TYPES.dnsRecord)) assert.ok(String(r.inputs.comment).length <= 100);
    });

    it("derives p= from the key's public half (its SubjectPublicKeyInfo)", async () => {
        const key = mocks.keys.get("do-dkim-mailserver");
        assert.ok(key);
        const dkim = await outputValue(servers.do.dkimRecord);
        assert.equal(dkim.name, "mailserver._domainkey.example.com");
        const spki = createPublicKey(key.privateKeyPem).export({ type: "spki", format: "der" }).toString("base64");
        assert.equal(dkim.value, `v=DKIM1; k=rsa; h=sha256; p=${spki}`);
    });

    it("configures the host over SSH in two stages: the deploy account, its key, the pinned host key, the bundle on stdin", async () => {
        const [step, commit] = children("do").filter((r) => r.type === TYPES.remoteCommand);
        assert.equal(step.name, "do-apply");
        assert.equal(commit.name, "do-commit");
        assert.ok(isSecretValue(step.inputs.stdin), "the bundle is secret");
        assert.ok(isSecretValue(commit.inputs.stdin), "the commit bundle is secret");
        assert.deepEqual(revealSecrets(commit.inputs.connection), revealSecrets(step.inputs.connection));
        assert.ok(isSecretValue(step.inputs.connection), "the connection (its private key) is secret");
        const connection = revealSecrets(step.inputs.connection) as Record<string, unknown>;
        const deploy = mocks.keys.get("do-deploy-key");
        const host = mocks.keys.get("do-host-key");
        assert.deepEqual(
            { ...connection },
            {
                host: (await addresses("do"))[0],
                port: 22,
                user: DEPLOY_USER,
                privateKey: deploy?.privateKeyOpenssh,
                hostKey: host?.publicKeyOpenssh?.trim(),
                dialErrorLimit: 60,
                perDialTimeout: 15,
            },
        );
        assert.equal(step.inputs.create, APPLY_PROGRAM);
        assert.equal(step.inputs.logging, "stdoutAndStderr");
        const bundle = await outputValue(servers.do.bundle);
        assert.equal(revealSecrets(commit.inputs.stdin), bundle);
        assert.equal(revealSecrets(step.inputs.stdin), bundle.replace('"stage":"commit"', '"stage":"prepare"'));
        assert.notEqual(revealSecrets(step.inputs.stdin), bundle);
        assert.equal(await pulumi.isSecret(servers.do.bundle), true);
    });

    it("orders the steps: address and key records, then prepare, then MX, SPF and DMARC, then commit", () => {
        assert.deepEqual(named("do-commit").dependsOn, [
            "do-apply",
            "do-spf-mail.example.com",
            "do-mx-example.com",
            "do-spf-example.com",
            "do-dmarc-example.com",
        ]);
        assert.deepEqual(named("do-apply").dependsOn, [
            "do-droplet",
            "do-firewall",
            "do-a-mail.example.com",
            "do-aaaa-mail.example.com",
            "do-dkim-mailserver._domainkey.example.com",
        ]);
        for (const name of ["do-mx-example.com", "do-spf-example.com", "do-spf-mail.example.com", "do-dmarc-example.com"]) {
            assert.deepEqual(named(name).dependsOn, ["do-apply"], name);
        }
        for (const name of ["do-a-mail.example.com", "do-aaaa-mail.example.com", "do-dkim-mailserver._domainkey.example.com"]) {
            assert.deepEqual(named(name).dependsOn, [], name);
        }
    });

    it("keeps the user data secret, and it is what the droplet got", async () => {
        assert.equal(await pulumi.isSecret(servers.do.userData), true);
        assert.equal(revealSecrets(one("do", TYPES.droplet).inputs.userData), await outputValue(servers.do.userData));
    });

    it("reports its outputs", async () => {
        assert.equal(await outputValue(servers.do.fqdn), "mail.example.com");
        const [v4, v6] = await addresses("do");
        assert.match(v4, /^192\.0\.2\.\d+$/);
        assert.equal(v6, `2001:db8::${(Number(v4.split(".")[3]) + 6).toString(16)}`);
        assert.equal(await outputValue(servers.do.dkimSelector), "mailserver");
        assert.equal(await outputValue(servers.do.applied), "");
        assert.deepEqual(await outputValue(servers.do.ptrRecords), [
            { address: v4, name: "mail.example.com", ttl: 3600, servedBy: "DigitalOcean, from the droplet name" },
            { address: v6, name: "mail.example.com", ttl: 3600, servedBy: "DigitalOcean, from the droplet name" },
        ]);
        const steps = await outputValue(servers.do.operatorSteps);
        assert.equal(steps.length, 3);
        assert.match(steps[0], /^DigitalOcean blocks outbound SMTP \(port 25\) on new accounts/);
        assert.match(steps[1], /^Delete any other SPF/);
        assert.equal(steps[2], "sshAllowedCidrs lets the admin in, but no sshPublicKeys were given, so nobody can log in: add a key.");
    });

    it("passes a given zone id through without a lookup", () => {
        const zoneIds = new Set(
            children("zid")
                .filter((r) => r.type === TYPES.dnsRecord)
                .map((r) => r.inputs.zoneId),
        );
        assert.deepEqual([...zoneIds], ["0123456789abcdef0123456789abcdef"]);
    });
});

describe("MailServer with several domains", () => {
    const recordsOf = (zoneId: string) =>
        children("two")
            .filter((r) => r.type === TYPES.dnsRecord && r.inputs.zoneId === zoneId)
            .map((r) => `${r.inputs.type} ${r.inputs.name}`)
            .sort();
    const zoneOf = (name: string) => createHash("md5").update(name).digest("hex");

    it("writes each domain's records in its own zone: by id, or the zone found by name (shared with the primary)", () => {
        assert.deepEqual(recordsOf("00000000000000000000000000000abc"), [
            "MX example.io",
            "TXT _dmarc.example.io",
            "TXT example.io",
            "TXT old._domainkey.example.io",
            "TXT s2026._domainkey.example.io",
        ]);
        assert.deepEqual(recordsOf(zoneOf("example.com")), [
            "A mail.example.com",
            "AAAA mail.example.com",
            "MX example.com",
            "MX shop.example.com",
            "TXT _dmarc.example.com",
            "TXT _dmarc.shop.example.com",
            "TXT example.com",
            "TXT example.io._report._dmarc.example.com",
            "TXT mail.example.com",
            "TXT mailserver._domainkey.example.com",
            "TXT mailserver._domainkey.shop.example.com",
            "TXT shop.example.com",
        ]);
    });

    it("has a key per published selector of each domain; the primary's keep their names", () => {
        assert.deepEqual(
            children("two")
                .filter((r) => r.type === TYPES.privateKey && r.inputs.algorithm === "RSA")
                .map((r) => r.name),
            ["two-dkim-mailserver", "two-dkim-example.io-s2026", "two-dkim-example.io-old", "two-dkim-shop.example.com-mailserver"],
        );
        const guard = one("two", GUARD).inputs as { extraDomains: unknown };
        assert.deepEqual(guard.extraDomains, [
            { name: "example.io", dkimSelector: "s2026", dkimPreviousSelectors: ["old"] },
            { name: "shop.example.com", dkimSelector: "mailserver", dkimPreviousSelectors: [] },
        ]);
        assert.equal("extraDomains" in one("do", GUARD).inputs, false, "a stack without extra domains keeps its guard unchanged");
    });

    it("signs each domain with its own key: every signing key in the bundle, each published under its domain", async () => {
        const bundle = JSON.parse(await outputValue(servers.two.bundle)) as {
            payload: { files: Array<{ path: string; content: string }>; waitFor: Array<{ name: string; value: string }> };
        };
        const keys = bundle.payload.files.filter((f) => f.path.startsWith("/etc/opendkim/keys/"));
        assert.deepEqual(
            keys.map((f) => f.path),
            [
                "/etc/opendkim/keys/example.com.mailserver.private",
                "/etc/opendkim/keys/example.io.s2026.private",
                "/etc/opendkim/keys/shop.example.com.mailserver.private",
            ],
        );
        const records = await outputValue(servers.two.dnsRecords);
        for (const file of keys) {
            const [domain, selector] = [
                file.path
                    .split("/")
                    .pop()
                    ?.replace(/\.[^.]+\.private$/, ""),
                file.path.split(".").at(-2),
            ];
            const published = records.find((r) => r.name === `${selector}._domainkey.${domain}`)?.value.replace(/" "/g, "");
            const der = createPublicKey(file.content).export({ type: "spki", format: "der" }).toString("base64");
            assert.ok(published?.includes(`p=${der}`), `${file.path} is the key published for ${domain}`);
        }
        assert.equal(new Set(keys.map((f) => f.content)).size, 3, "three different keys");
        assert.deepEqual(
            bundle.payload.waitFor.filter((r) => r.name.includes("_domainkey")).map((r) => r.name),
            ["mailserver._domainkey.example.com", "s2026._domainkey.example.io", "mailserver._domainkey.shop.example.com"],
        );
        assert.deepEqual(await outputValue(servers.two.dkimSelectors), {
            "example.com": "mailserver",
            "example.io": "s2026",
            "shop.example.com": "mailserver",
        });
    });

    it("asks the operator to clean up the SPF and DMARC records of every domain", async () => {
        const steps = await outputValue(servers.two.operatorSteps);
        assert.equal(
            steps[1],
            "Delete any other SPF (v=spf1) or DMARC TXT record at example.com or _dmarc.example.com, example.io or _dmarc.example.io, " +
                "shop.example.com or _dmarc.shop.example.com not made by this stack: two SPF records are a permanent error. " +
                "Put other senders in spfIncludes/spfIp4/spfIp6 instead.",
        );
    });
});

describe("provider backups", () => {
    it("are daily by default once there are mailboxes: the droplet's backups on, with a daily policy", () => {
        const droplet = one("two", TYPES.droplet).inputs;
        assert.deepEqual([droplet.backups, droplet.backupPolicy], [true, { plan: "daily" }]);
    });
    it("turn Linode's Backup service on for any schedule named (it keeps daily, weekly and biweekly backups)", () => {
        assert.equal(one("relay", TYPES.instance).inputs.backupsEnabled, true);
        assert.equal(one("ln", TYPES.instance).inputs.backupsEnabled, false);
    });
});

describe("MailServer with a smarthost", () => {
    it("puts the relay's password only in the secret bundle, never in a resource's plain inputs", async () => {
        assert.equal(await pulumi.isSecret(servers.relay.bundle), true);
        const bundle = JSON.parse(await outputValue(servers.relay.bundle)) as {
            payload: { files: Array<{ path: string; content: string }> };
        };
        const map = bundle.payload.files.find((f) => f.path === "/etc/postfix/smarthost-login");
        assert.equal(map?.content, `[smtp.relay.example.org]:587 mailer:${RELAY_PASSWORD}\n`);
        const masked = JSON.stringify(children("relay").map((r) => maskSecrets(r.inputs)));
        assert.equal(masked.includes(RELAY_PASSWORD), false);
        // Control: the revealed inputs do hold it (the commit step's stdin), so the search above can find it.
        assert.equal(JSON.stringify(children("relay").map((r) => revealSecrets(r.inputs))).includes(RELAY_PASSWORD), true);
    });

    it("tells the operator whether the provider's block still matters: Linode blocks 587 too; 2525 on DigitalOcean passes", async () => {
        const linode = await outputValue(servers.relay.operatorSteps);
        assert.match(
            linode[0],
            /^Linode restricts outbound SMTP \(ports 25, 465, 587\).* The smarthost's port 587 is one of them: use a port the relay offers outside them \(2525 at many relays\), or have the restriction lifted\.$/,
        );
        const digitalOcean = await outputValue(servers.relay2525.operatorSteps);
        assert.equal(
            digitalOcean[0],
            "Outbound mail goes through the smarthost smtp.relay.example.org:2525, so the provider's block of port 25 does not stop it. " +
                "Keep the relay's SPF entry (spfIncludes/spfIp4/spfIp6) for as long as it is set.",
        );
    });
});

describe("MailServer on Linode", () => {
    it("has exactly its children, with rDNS for both addresses and a key per published selector", () => {
        assert.deepEqual(typeCounts("ln"), {
            [TYPES.privateKey]: 4,
            [GUARD]: 1,
            [TYPES.instance]: 1,
            [TYPES.linodeFirewall]: 1,
            [TYPES.dnsRecord]: 8,
            [TYPES.remoteCommand]: 2,
            [TYPES.rdns]: 2,
        });
    });

    it("passes base64 cloud-init in Metadata, secret; a replacement deletes first (labels are unique)", async () => {
        const instance = one("ln", TYPES.instance);
        const { metadatas, ...rest } = instance.inputs;
        assert.deepEqual(rest, {
            label: "mail.example.org",
            region: "eu-central",
            type: "g6-nanode-1",
            image: "linode/debian13",
            booted: true,
            privateIp: false,
            backupsEnabled: false,
        });
        assert.ok(isSecretValue(metadatas), "metadatas are secret");
        const [metadata] = revealSecrets(metadatas) as Array<{ userData: string }>;
        assert.equal(Buffer.from(metadata.userData, "base64").toString("utf8"), await outputValue(servers.ln.userData));
        assert.deepEqual(instance.ignoreChanges, ["metadatas"]);
        // @pulumi/linode's Instance adds its own two (rootPass, stackscriptData) after ours.
        assert.deepEqual(instance.additionalSecretOutputs, ["metadatas", "rootPass", "stackscriptData"]);
        assert.equal(instance.deleteBeforeReplace, true);
    });

    it("publishes the signing key and the previous one; only the signing key goes to the host", async () => {
        const signing = await outputValue(servers.ln.dkimRecord);
        assert.equal(signing.name, "s2026._domainkey.example.org");
        assert.equal(record("ln-dkim-s2026._domainkey.example.org").content, chunkTxt(signing.value));
        const previous = mocks.keys.get("ln-dkim-mailserver");
        assert.ok(previous);
        const spki = createPublicKey(previous.privateKeyPem).export({ type: "spki", format: "der" }).toString("base64");
        assert.equal(record("ln-dkim-mailserver._domainkey.example.org").content, chunkTxt(`v=DKIM1; k=rsa; h=sha256; p=${spki}`));
        const bundle = await outputValue(servers.ln.bundle);
        assert.ok(bundle.includes(JSON.stringify(mocks.keys.get("ln-dkim-s2026")?.privateKeyPem)));
        assert.ok(!bundle.includes(JSON.stringify(previous.privateKeyPem)), "the previous key stays off the host");
    });

    it("sets rDNS after the address record and after the host uses its name, IPv6 without /128", async () => {
        const rdns = children("ln").filter((r) => r.type === TYPES.rdns);
        const ipv4 = await outputValue(servers.ln.ipv4);
        const ipv6 = await outputValue(servers.ln.ipv6);
        assert.match(ipv4, /^192\.0\.2\.\d+$/);
        assert.match(ipv6 ?? "", /^2001:db8::[0-9a-f]+$/);
        assert.deepEqual(
            rdns.map((r) => [r.name, r.inputs, r.dependsOn]),
            [
                [
                    "ln-rdns-ipv4",
                    { address: ipv4, rdns: "mail.example.org", waitForAvailable: true },
                    ["ln-a-mail.example.org", "ln-apply"],
                ],
                [
                    "ln-rdns-ipv6",
                    { address: ipv6, rdns: "mail.example.org", waitForAvailable: true },
                    ["ln-aaaa-mail.example.org", "ln-apply"],
                ],
            ],
        );
        // The commit stage waits for the PTRs it checks.
        assert.deepEqual(
            named("ln-commit").dependsOn?.filter((d) => d.startsWith("ln-rdns")),
            ["ln-rdns-ipv4", "ln-rdns-ipv6"],
        );
    });

    it("firewall: drop inbound except the port table, accept outbound", () => {
        const firewall = one("ln", TYPES.linodeFirewall);
        assert.deepEqual(firewall.inputs, {
            label: "mail-mail.example.org",
            inboundPolicy: "DROP",
            outboundPolicy: "ACCEPT",
            linodes: [Number(one("ln", TYPES.instance).id)],
            inbounds: [
                { label: "allow-smtp", action: "ACCEPT", protocol: "TCP", ports: "25", ipv4s: ["0.0.0.0/0"], ipv6s: ["::/0"] },
                { label: "allow-http", action: "ACCEPT", protocol: "TCP", ports: "80", ipv4s: ["0.0.0.0/0"], ipv6s: ["::/0"] },
                {
                    label: "allow-ssh",
                    action: "ACCEPT",
                    protocol: "TCP",
                    ports: "22",
                    ipv4s: ["0.0.0.0/0", "203.0.113.0/24"],
                    ipv6s: ["::/0", "2001:db8:ffff::/48"],
                },
                { label: "allow-icmp", action: "ACCEPT", protocol: "ICMP", ipv4s: ["0.0.0.0/0"], ipv6s: ["::/0"] },
            ],
        });
    });

    it("strips /128 from the IPv6 output and AAAA", async () => {
        const ipv6 = await outputValue(servers.ln.ipv6);
        assert.doesNotMatch(ipv6 ?? "/", /\//);
        const records = await outputValue(servers.ln.dnsRecords);
        assert.equal(records.find((r) => r.type === "AAAA")?.value, ipv6);
        assert.equal((await outputValue(servers.ln.ptrRecords))[1].servedBy, "Linode, from linode.Rdns");
    });

    it("with IPv6 off: no AAAA, one rDNS, Postfix on IPv4 only; SSH from the deploy range only", async () => {
        assert.deepEqual(typeCounts("v4"), {
            [TYPES.privateKey]: 3,
            [GUARD]: 1,
            [TYPES.instance]: 1,
            [TYPES.linodeFirewall]: 1,
            [TYPES.dnsRecord]: 6,
            [TYPES.remoteCommand]: 2,
            [TYPES.rdns]: 1,
        });
        assert.equal(await outputValue(servers.v4.ipv6), undefined);
        assert.match(await outputValue(servers.v4.bundle), /inet_protocols = ipv4\\n/);
        const ssh = (one("v4", TYPES.linodeFirewall).inputs.inbounds as Array<Record<string, unknown>>).find((r) => r.ports === "22");
        assert.deepEqual(ssh?.ipv4s, ["198.51.100.0/24", "203.0.113.0/24"]);
        assert.deepEqual(ssh?.ipv6s, ["2001:db8:ffff::/48"]);
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
            message:
                'MailServer "bad": domain: "bücher.example" contains non-ASCII characters; use its punycode form "xn--bcher-kva.example"',
        });
        assert.equal(mocks.resources.length, before);
    });
});
