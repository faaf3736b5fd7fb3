/**
 * Every file the component renders for the host, checked by the tool of the Debian 13 host that
 * reads it — postconf, opendkim -n, cloud-init schema, sshd -t/-T, visudo, nft -c, sh -n,
 * python3 — each with a negative control showing the check can fail.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { MailServerArgs } from "../components/args";
import { resolveConfig } from "../components/config";
import {
    APPLIER_DIR,
    renderBootstrap,
    renderDeploySudoers,
    renderSshdBootstrapConf,
    SSHD_BOOTSTRAP_CONF,
    SUDOERS_DEPLOY,
} from "../components/host/bootstrap";
import { hostFiles } from "../components/host/bundle";
import type { ManagedFile } from "../components/host/files";
import { RSPAMD_DIR } from "../components/host/rspamd";
import { throwawayEd25519Key, throwawayRsaKey } from "../plan/throwawayKey";
import { debianMissing, type InDebian, inDebian } from "./support/debian";
import { HOST_ARGS } from "./support/hostArgs";

const skip = debianMissing();
const dkim = throwawayRsaKey(2048);
const files = (args: Partial<MailServerArgs> = {}) =>
    hostFiles(resolveConfig({ ...HOST_ARGS, ...args }).host, { dkimKeys: { "example.com": dkim } });
const content = (list: readonly ManagedFile[], path: string) => {
    const file = list.find((f) => f.path === path);
    assert.ok(file, `the bundle has ${path}`);
    return file.content;
};

describe("the host's files, checked by Debian 13's own tools", { skip }, () => {
    const opened: InDebian[] = [];
    const open = (f: Record<string, string>, modes: Record<string, number> = {}) => {
        const d = inDebian(f, modes);
        opened.push(d);
        return d;
    };
    let postfixVersion = "";
    before(() => {
        postfixVersion = open({}).run("postconf -d -h mail_version").stdout.trim();
    });
    after(() => {
        for (const d of opened) d.dispose();
    });

    it("the tools are Debian 13's (Postfix 3.10)", () => assert.match(postfixVersion, /^3\.10\./));

    for (const ipv6 of [true, false]) {
        it(`Postfix knows every parameter of main.cf (postconf), IPv6 ${ipv6 ? "on" : "off"}, with relay networks`, () => {
            const list = files({ ipv6, relayNetworks: ["10.20.0.0/16", ...(ipv6 ? ["2001:db8:1::/48"] : [])] });
            const d = open({
                "postfix/main.cf": content(list, "/etc/postfix/main.cf"),
                "postfix/master.cf": content(list, "/etc/postfix/master.cf"),
            });
            const r = d.run(`postconf -c ${d.dir}/postfix -n`);
            assert.equal(r.status, 0, r.stderr);
            assert.equal(r.stderr, "", "postconf warned (an unknown or misspelled parameter?)");
            assert.match(r.stdout, new RegExp(`^inet_protocols = ${ipv6 ? "all" : "ipv4"}$`, "m"));
        });
    }
    it("with a smarthost login on 465: postconf knows every parameter, postmap finds the login, the SASL client has PLAIN and LOGIN", () => {
        const relay = {
            smarthost: "smtp.relay.example.org:465",
            smarthostUser: "mailer",
            smarthostPassword: "x",
            spfIncludes: ["relay.example.org"],
        };
        const list = hostFiles(resolveConfig({ ...HOST_ARGS, ...relay }).host, {
            dkimKeys: { "example.com": dkim },
            smarthostPassword: "pass word:with colon",
        });
        const d = open({
            "postfix/main.cf": content(list, "/etc/postfix/main.cf"),
            "postfix/master.cf": content(list, "/etc/postfix/master.cf"),
            "smarthost-login": content(list, "/etc/postfix/smarthost-login"),
        });
        const r = d.run(`postconf -c ${d.dir}/postfix -n`);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr, "", "postconf warned (an unknown or misspelled parameter?)");
        assert.match(r.stdout, /^relayhost = \[smtp\.relay\.example\.org\]:465$/m);
        assert.match(r.stdout, /^smtp_tls_wrappermode = yes$/m);
        assert.match(r.stdout, /^smtp_tls_security_level = secure$/m);
        const q = d.run(`postmap -c ${d.dir}/postfix -q '[smtp.relay.example.org]:465' texthash:${d.dir}/smarthost-login`);
        assert.equal(q.stdout, "mailer:pass word:with colon\n", q.stderr);
        // Control: another next hop is not in the map (postmap -q exits 1).
        assert.equal(d.run(`postmap -c ${d.dir}/postfix -q '[smtp.relay.example.org]:587' texthash:${d.dir}/smarthost-login`).status, 1);
        const mechanisms = d.run("find /usr/lib -path '*/sasl2/*.so' -printf '%f\\n'").stdout;
        assert.match(mechanisms, /^libplain\.so$/m);
        assert.match(mechanisms, /^liblogin\.so$/m);
    });
    it("negative control: postconf reports a misspelled parameter", () => {
        const list = files();
        const d = open({
            "postfix/main.cf": `${content(list, "/etc/postfix/main.cf")}smtpd_milter = x\n`,
            "postfix/master.cf": content(list, "/etc/postfix/master.cf"),
        });
        assert.match(d.run(`postconf -c ${d.dir}/postfix -n`).stderr, /unused parameter: smtpd_milter=x/);
    });

    it("OpenDKIM accepts its configuration (opendkim -n), and refuses an unknown directive", () => {
        const list = files();
        // The files at their paths below a test directory (DIR, set once the directory exists).
        const relocate = (text: string) => text.replaceAll("/etc/opendkim/", "DIR/").replaceAll("/etc/opendkim.conf", "DIR/opendkim.conf");
        const d = open(
            {
                "opendkim.conf": `${relocate(content(list, "/etc/opendkim.conf"))}RequireSafeKeys no\n`,
                "key.table": relocate(content(list, "/etc/opendkim/key.table")),
                "signing.table": content(list, "/etc/opendkim/signing.table"),
                "trusted.hosts": content(list, "/etc/opendkim/trusted.hosts"),
                "keys/example.com.mailserver.private": content(list, "/etc/opendkim/keys/example.com.mailserver.private"),
            },
            { "keys/example.com.mailserver.private": 0o600 },
        );
        const r = d.run(`sed -i "s|DIR|${d.dir}|g" ${d.dir}/opendkim.conf ${d.dir}/key.table && opendkim -n -x ${d.dir}/opendkim.conf`);
        assert.equal(r.status, 0, r.stderr);
        const bad = d.run(`echo 'SigningTabel x' >> ${d.dir}/opendkim.conf && opendkim -n -x ${d.dir}/opendkim.conf`);
        assert.notEqual(bad.status, 0);
    });

    it("rspamd 3.12 takes its local.d (rspamadm configtest and configdump), and refuses a broken file", () => {
        const list = files({ relayNetworks: ["10.20.0.0/16"] });
        const local = Object.fromEntries(
            list
                .filter((f) => f.path.startsWith(`${RSPAMD_DIR}/`))
                .map((f) => [`local.d/${f.path.slice(RSPAMD_DIR.length + 1)}`, f.content]),
        );
        const d = open(local);
        // Debian's /etc/rspamd with our local.d mounted in place, in a mount namespace of its own.
        const rspamadm = (command: string) => d.runWith({ [RSPAMD_DIR]: "local.d" }, `rspamadm ${command}`);
        const ok = rspamadm("configtest");
        assert.equal(ok.status, 0, ok.stderr + ok.stdout);
        assert.match(ok.stdout, /syntax OK/);
        const actions = rspamadm("configdump actions").stdout;
        assert.match(actions, /^reject = 15;$/m);
        assert.match(actions, /^add_header = 6;$/m);
        assert.match(actions, /^greylist = null;$/m);
        assert.match(rspamadm("configdump greylist").stdout, /^enabled = false;$/m);
        assert.match(rspamadm("configdump worker").stdout, /^normal \{[^}]*\n {4}enabled = false;\n\}/m);
        assert.match(rspamadm("configdump rbl").stdout, /^enabled = true;$/m);
        // Added to Debian's own list (private ranges), not in place of it.
        const localAddrs = /local_addrs \[([^\]]*)\]/.exec(rspamadm("configdump options").stdout)?.[1] ?? "";
        assert.match(localAddrs, /"192\.168\.0\.0\/16",\s+"10\.0\.0\.0\/8",[\s\S]*"127\.0\.0\.0\/8",\s+"::1",\s+"10\.20\.0\.0\/16",/);
        assert.match(rspamadm("configdump dmarc").stdout, /reject = "reject";/);
        const bad = d.run(`echo 'reject = ;' >> ${d.dir}/local.d/actions.conf`);
        assert.equal(bad.status, 0);
        assert.notEqual(rspamadm("configtest").status, 0);
    });

    it("cloud-init 25.1 accepts the bootstrap user data, and refuses an empty ssh_genkeytypes", () => {
        const deploy = throwawayEd25519Key("deploy");
        const host = throwawayEd25519Key("host");
        const userData = renderBootstrap({
            deployPublicKey: deploy.publicKeyOpenssh ?? "",
            hostKey: { privateOpenssh: host.privateKeyOpenssh ?? "", publicOpenssh: host.publicKeyOpenssh ?? "" },
        });
        const d = open({
            "user-data": userData,
            "bad-user-data": userData.replace("ssh_genkeytypes:\n  - ed25519", "ssh_genkeytypes: []"),
        });
        const good = d.run(`cloud-init schema --config-file ${d.dir}/user-data`);
        assert.equal(good.status, 0, good.stdout + good.stderr);
        assert.match(good.stdout, /Valid schema/);
        const bad = d.run(`cloud-init schema --config-file ${d.dir}/bad-user-data`);
        assert.equal(bad.status, 1);
        assert.match(bad.stdout + bad.stderr, /ssh_genkeytypes: \[\] is too short/);
    });

    it("sshd (OpenSSH 10) takes both drop-ins: keys only, no root, and AllowUsers adds up across them", () => {
        const list = files();
        const key = throwawayEd25519Key("test host key");
        const d = open(
            {
                sshd_config:
                    "Include DIR/sshd_config.d/*.conf\nKbdInteractiveAuthentication no\nUsePAM yes\nX11Forwarding yes\nSubsystem sftp /usr/lib/openssh/sftp-server\n",
                [`sshd_config.d/${SSHD_BOOTSTRAP_CONF.split("/").pop()}`]: renderSshdBootstrapConf().replace(
                    "HostKey /etc/ssh/ssh_host_ed25519_key",
                    "HostKey DIR/host_key",
                ),
                "sshd_config.d/20-mailserver-admin.conf": content(list, "/etc/ssh/sshd_config.d/20-mailserver-admin.conf"),
                host_key: key.privateKeyOpenssh ?? "",
            },
            { host_key: 0o600 },
        );
        const r = d.run(
            `sed -i "s|DIR|${d.dir}|g" ${d.dir}/sshd_config ${d.dir}/sshd_config.d/*.conf && mkdir -p /run/sshd && sshd -t -f ${d.dir}/sshd_config && sshd -T -f ${d.dir}/sshd_config -C user=mailadmin,host=x,addr=203.0.113.5`,
        );
        assert.equal(r.status, 0, r.stderr);
        const lines = new Set(r.stdout.split("\n"));
        for (const line of [
            "permitrootlogin no",
            "passwordauthentication no",
            "kbdinteractiveauthentication no",
            "authenticationmethods publickey",
            "x11forwarding no",
            "allowtcpforwarding no",
            "allowagentforwarding no",
            "allowusers mailserver-deploy",
            "allowusers mailadmin@203.0.113.0/24",
            "allowusers mailadmin@2001:db8:ffff::/48",
        ]) {
            assert.ok(lines.has(line), `sshd -T: ${line}`);
        }
        const bad = d.run(`echo 'PermitRootLogin maybe' > ${d.dir}/sshd_config.d/05-bad.conf && sshd -t -f ${d.dir}/sshd_config`);
        assert.notEqual(bad.status, 0);
    });

    it("sudo accepts both sudoers files (visudo), and refuses a broken one", () => {
        const d = open(
            {
                deploy: renderDeploySudoers(),
                admin: content(files(), "/etc/sudoers.d/mailserver-admin"),
                bad: "mailadmin ALL=(ALL NOPASSWD\n",
            },
            { deploy: 0o440, admin: 0o440, bad: 0o440 },
        );
        for (const name of ["deploy", "admin"]) {
            const r = d.run(`visudo -c -q -f ${d.dir}/${name}`);
            assert.equal(r.status, 0, `${name}: ${r.stdout}${r.stderr}`);
        }
        assert.notEqual(d.run(`visudo -c -q -f ${d.dir}/bad`).status, 0);
        assert.match(SUDOERS_DEPLOY, /^\/etc\/sudoers\.d\//);
    });

    it("nftables parses the metadata rule (nft -c), and refuses a broken one", () => {
        const rules = content(files(), "/etc/nftables.conf");
        const d = open({ "nftables.conf": rules, "bad.conf": rules.replace("meta skuid != 0", "meta skuid !=") });
        const r = d.run(`nft -c -f ${d.dir}/nftables.conf`);
        assert.equal(r.status, 0, r.stderr);
        assert.notEqual(d.run(`nft -c -f ${d.dir}/bad.conf`).status, 0);
    });

    it("the shell scripts are valid for Debian's sh (dash), and a broken one is not", () => {
        const list = files();
        const d = open({
            cert: content(list, "/usr/local/sbin/mailserver-cert"),
            hook: content(list, "/etc/letsencrypt/renewal-hooks/deploy/mailserver-postfix"),
            bad: "#!/bin/sh\nif then\n",
        });
        for (const name of ["cert", "hook"]) assert.equal(d.run(`sh -n ${d.dir}/${name}`).status, 0, name);
        assert.notEqual(d.run(`sh -n ${d.dir}/bad`).status, 0);
    });

    it("the applier and its stub compile with Debian 13's python3", () => {
        const d = open({
            "applier.py": readFileSync(join(APPLIER_DIR, "applier.py"), "utf8"),
            "mailserver-apply": readFileSync(join(APPLIER_DIR, "mailserver-apply"), "utf8"),
            "bad.py": "def broken(:\n",
        });
        for (const name of ["applier.py", "mailserver-apply"]) {
            const r = d.run(`python3 -c 'import ast,sys; ast.parse(open(sys.argv[1]).read())' ${d.dir}/${name}`);
            assert.equal(r.status, 0, `${name}: ${r.stderr}`);
        }
        assert.notEqual(d.run(`python3 -c 'import ast,sys; ast.parse(open(sys.argv[1]).read())' ${d.dir}/bad.py`).status, 0);
    });
});
