import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { DmarcAlignment, DmarcPolicy, HostProvider, type MailServerArgs, SpfAll } from "../components/args";
import { resolveConfig } from "../components/config";
import { HOST_PACKAGES, renderUserData, type WriteFile } from "../components/host/userData";
import { IMAGES } from "../components/images";
import { throwawayRsaKey } from "../plan/throwawayKey";
import { TestCa } from "./support/certificates";
import { missing, run } from "./support/tools";

const key = throwawayRsaKey(2048).privateKeyPem;
const TEST_CA_PEM = new X509Certificate(new TestCa("ACME test CA").pem).toString();
const base: MailServerArgs = {
    domain: "example.com",
    operatorEmail: "ops@example.net",
    provider: HostProvider.DigitalOcean,
    region: "fra1",
    sshPublicKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA ops@example.net"],
};

function userData(args: Partial<MailServerArgs> = {}): string {
    return renderUserData({ host: resolveConfig({ ...base, ...args }).host, dkimPrivateKeyPem: key });
}

describe("user data", () => {
    const doc = parse(userData()) as Record<string, unknown>;
    const files = doc.write_files as WriteFile[];
    const file = (path: string) => files.find((f) => f.path === path);

    it("starts with #cloud-config and names the host by its FQDN", () => {
        assert.ok(userData().startsWith("#cloud-config\n"));
        assert.equal(doc.hostname, "mail");
        assert.equal(doc.fqdn, "mail.example.com");
        assert.equal(doc.prefer_fqdn_over_hostname, true);
    });

    it("installs exactly the mail packages, non-interactively", () => {
        assert.deepEqual(doc.packages, [...HOST_PACKAGES]);
        assert.deepEqual(doc.packages, ["postfix", "opendkim", "opendkim-tools", "postsrsd", "certbot", "bind9-dnsutils", "ca-certificates", "ssl-cert"]);
        const apt = doc.apt as { debconf_selections: Record<string, string> };
        assert.match(apt.debconf_selections.postfix, /postfix postfix\/main_mailer_type select No configuration/);
    });

    it("puts the DKIM key in one file, 0600, owned by opendkim, written after the packages", () => {
        const withKey = files.filter((f) => f.content.includes("PRIVATE KEY"));
        assert.deepEqual(withKey.map((f) => [f.path, f.permissions, f.owner, f.defer]), [
            ["/etc/opendkim/keys/mailserver.private", "0600", "opendkim:opendkim", true],
        ]);
        assert.equal(withKey[0].content, key);
    });

    it("writes every file after package installation (defer)", () => {
        assert.ok(files.every((f) => f.defer === true));
        assert.ok(file("/etc/postfix/main.cf"));
        assert.ok(file("/etc/postfix/master.cf"));
        assert.ok(file("/etc/default/postsrsd"));
        assert.equal(file("/usr/local/sbin/mailserver-cert")?.permissions, "0755");
        assert.equal(file("/etc/letsencrypt/renewal-hooks/deploy/mailserver-postfix")?.permissions, "0755");
        assert.equal(file("/etc/mailserver/acme-ca.pem"), undefined);
    });

    it("restarts services after the files and starts the certificate retry timer last", () => {
        assert.deepEqual(doc.runcmd, [
            ["postmap", "/etc/postfix/virtual"],
            ["newaliases"],
            ["/usr/local/sbin/mailserver-cert", "init"],
            ["install", "-d", "-o", "opendkim", "-g", "postfix", "-m", "2750", "/var/spool/postfix/opendkim"],
            ["systemctl", "daemon-reload"],
            ["systemctl", "restart", "opendkim", "postsrsd"],
            ["postfix", "check"],
            ["systemctl", "restart", "postfix"],
            ["systemctl", "enable", "--now", "mailserver-cert.timer"],
            ["systemctl", "start", "--no-block", "mailserver-cert.service"],
        ]);
    });

    it("gives SSH keys to a sudo user and turns password login off", () => {
        const users = doc.users as Array<Record<string, unknown>>;
        assert.equal(users.length, 1);
        assert.equal(users[0].name, "mailadmin");
        assert.deepEqual(users[0].ssh_authorized_keys, base.sshPublicKeys);
        assert.equal(doc.ssh_pwauth, false);
        // Without keys no user is declared (cloud-init refuses an empty list); password login stays off.
        const keyless = parse(userData({ sshPublicKeys: [] })) as Record<string, unknown>;
        assert.equal("users" in keyless, false);
        assert.equal(keyless.ssh_pwauth, false);
    });

    it("trusts a private ACME CA for issuance and renewal when given", () => {
        const pem = TEST_CA_PEM;
        const withCa = (parse(userData({ acmeCaBundle: pem, acmeDirectoryUrl: "https://10.0.0.1:14000/dir" })) as { write_files: WriteFile[] }).write_files;
        assert.equal(withCa.find((f) => f.path === "/etc/mailserver/acme-ca.pem")?.content, pem);
        assert.equal(
            withCa.find((f) => f.path === "/etc/systemd/system/certbot.service.d/mailserver-acme-ca.conf")?.content,
            "[Service]\nEnvironment=REQUESTS_CA_BUNDLE=/etc/mailserver/acme-ca.pem\n",
        );
        assert.match(withCa.find((f) => f.path === "/usr/local/sbin/mailserver-cert")?.content ?? "", /^ACME_SERVER='https:\/\/10\.0\.0\.1:14000\/dir'$/m);
    });

    it("is byte-identical when only DNS-level inputs change", () => {
        const before = userData();
        const after = userData({
            dmarcPolicy: DmarcPolicy.Reject,
            dmarcAlignment: DmarcAlignment.Strict,
            dmarcRua: ["reports@example.org"],
            spfIncludes: ["_spf.example.org"],
            spfIp4: ["198.51.100.0/24"],
            spfIp6: ["2001:db8:1::/48"],
            spfAll: SpfAll.SoftFail,
            dnsTtl: 300,
            cloudflareZoneName: "example.com",
        });
        assert.equal(after, before);
        // ...and the comparison can fail: a host-level input changes it.
        assert.notEqual(userData({ operatorEmail: "other@example.net" }), before);
    });
});

describe("cloud-init schema (real cloud-init)", { skip: missing("cloud-init", "cloud-init") }, () => {
    const dir = mkdtempSync(join(tmpdir(), "cloud-init-"));
    const variants: Array<[string, Partial<MailServerArgs>]> = [];
    for (const provider of [HostProvider.DigitalOcean, HostProvider.Linode]) {
        for (const [image] of IMAGES[provider]) {
            for (const ipv6 of [true, false]) {
                variants.push([`${provider} ${image} ipv6=${ipv6}`, { provider, image, ipv6, region: provider === HostProvider.Linode ? "eu-central" : "fra1" }]);
            }
        }
    }
    variants.push(["no SSH keys, private ACME CA", { sshPublicKeys: [], acmeCaBundle: TEST_CA_PEM }]);
    for (const [title, args] of variants) {
        it(title, () => {
            const path = join(dir, `${title.replace(/\W+/g, "_")}.yaml`);
            writeFileSync(path, userData(args));
            const result = run("cloud-init", ["schema", "--config-file", path]);
            assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
            assert.match(result.stdout, /^Valid (cloud-config|schema)/m);
        });
    }
    it("negative control: a wrong type is rejected", () => {
        const path = join(dir, "bad.yaml");
        writeFileSync(path, "#cloud-config\npackages: postfix\nssh_pwauth: maybe\n");
        assert.notEqual(run("cloud-init", ["schema", "--config-file", path]).status, 0);
    });
});
