/**
 * Mailbox mode's files, checked by Debian 13's own Dovecot 2.4 and Postfix 3.10 (the tools root
 * of lab/rootfs.sh): doveconf takes the configuration, doveadm verifies the hashes computed here,
 * postconf knows every parameter and service option, and the maps answer as Postfix will ask.
 * Each check has a negative control that fails it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { MailServerArgs } from "../components/args";
import { resolveConfig } from "../components/config";
import { hostFiles } from "../components/host/bundle";
import type { ManagedFile } from "../components/host/files";
import { DOVECOT, MAILBOX_MAPS, PATHS } from "../components/host/paths";
import { dovecotPasswordHash, passwordHashes } from "../components/passwords";
import { debianMissing, type InDebian, inDebian } from "./support/debian";
import { HOST_ARGS } from "./support/hostArgs";

const skip = debianMissing();
const PASSWORDS = {
    "alice@example.com": "correct horse battery staple",
    "bob@example.com": "bob's 12+ characters",
    "billing@example.com": "an application's password",
};
const MAIL: Partial<MailServerArgs> = {
    mailboxes: ["alice@example.com quota=2G", "bob@example.com"],
    aliases: [
        "sales@example.com alice@example.com bob@example.com",
        "list@example.com sales@example.com friend@example.net",
        "@example.com alice@example.com",
    ],
    submissionApps: ["billing@example.com"],
};

async function files(args: Partial<MailServerArgs> = MAIL): Promise<ManagedFile[]> {
    return hostFiles(resolveConfig({ ...HOST_ARGS, ...args }).host, {
        dkimKeys: { "example.com": { privateKeyPem: "unused", publicKeyPem: "unused" } },
        passwordHashes: await passwordHashes(PASSWORDS),
    });
}
const content = (list: readonly ManagedFile[], path: string) => {
    const file = list.find((f) => f.path === path);
    assert.ok(file, `the bundle has ${path}`);
    return file.content;
};

describe("password hashes", () => {
    it("are Argon2id at OWASP's minimum cost, the same for the same login and password, different otherwise", async () => {
        const hash = await dovecotPasswordHash("alice@example.com", "correct horse battery staple");
        assert.match(hash, /^\{ARGON2ID\}\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
        assert.equal(await dovecotPasswordHash("alice@example.com", "correct horse battery staple"), hash);
        assert.notEqual(await dovecotPasswordHash("bob@example.com", "correct horse battery staple"), hash);
        assert.notEqual(await dovecotPasswordHash("alice@example.com", "correct horse battery stapler"), hash);
    });
});

describe("mailbox mode, checked by Debian 13's Dovecot and Postfix", { skip }, () => {
    const opened: InDebian[] = [];
    let list: ManagedFile[] = [];
    let d: InDebian;
    before(async () => {
        list = await files();
        // Paths moved below the test directory (DIR); the certificate links do not exist there, the snakeoil pair does.
        const conf = content(list, DOVECOT.conf)
            .replaceAll(DOVECOT.users, "DIR/users")
            .replace(PATHS.tlsCert, PATHS.snakeoilCert)
            .replace(PATHS.tlsKey, PATHS.snakeoilKey);
        d = inDebian({
            "dovecot.conf": conf.replaceAll(DOVECOT.apps, "DIR/apps"),
            users: content(list, DOVECOT.users),
            apps: content(list, DOVECOT.apps),
            "postfix/main.cf": content(list, "/etc/postfix/main.cf"),
            "postfix/master.cf": content(list, "/etc/postfix/master.cf"),
            "postfix/virtual": content(list, PATHS.virtualMap),
            "postfix/vmailbox": content(list, MAILBOX_MAPS.mailboxes),
            "postfix/sender_logins": content(list, MAILBOX_MAPS.senderLogins),
        });
        opened.push(d);
        assert.equal(d.run(`sed -i "s|DIR|${d.dir}|g" ${d.dir}/dovecot.conf`).status, 0);
    });
    after(() => {
        for (const o of opened) o.dispose();
    });

    it("the tools are Debian 13's (Dovecot 2.4)", () => {
        assert.match(d.run("dovecot --version").stdout, /^2\.4\./);
    });

    it("doveconf takes the configuration, certificates included (-x), without a warning", () => {
        const r = d.run(`doveconf -c ${d.dir}/dovecot.conf -x -n`);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr, "");
        assert.match(r.stdout, /^ssl = required$/m);
        const setting = (name: string) => d.run(`doveconf -c ${d.dir}/dovecot.conf -h ${name}`).stdout.trim();
        assert.equal(setting("auth_allow_cleartext"), "no");
        assert.equal(setting("mail_home"), "/var/mail/vhosts/%{user | domain}/%{user | username}");
    });

    it("runs the spam script before delivery: sievec compiles it (into Junk, by X-Spam), and refuses one without its require", () => {
        assert.equal(d.run(`doveconf -c ${d.dir}/dovecot.conf -h sieve_script/spam/path`).stdout.trim(), DOVECOT.spamSieve);
        assert.equal(d.run(`doveconf -c ${d.dir}/dovecot.conf -h sieve_script/spam/type`).stdout.trim(), "before");
        const script = content(list, DOVECOT.spamSieve);
        // The mail user is the host's (the applier creates it); this root has none, so sievec takes nobody's here.
        assert.equal(
            d.run(
                `sed -E 's/^mail_uid = vmail$/mail_uid = nobody/; s/^mail_gid = vmail$/mail_gid = nogroup/' ${d.dir}/dovecot.conf > ${d.dir}/sievec.conf`,
            ).status,
            0,
        );
        assert.match(script, /^if header :is "X-Spam" "Yes" \{\n {2}fileinto :create "Junk";\n {2}stop;\n\}$/m);
        const ok = d.run(
            `mkdir -p ${d.dir}/sieve && cat > ${d.dir}/sieve/spam.sieve && sievec -c ${d.dir}/sievec.conf ${d.dir}/sieve/spam.sieve && ls ${d.dir}/sieve`,
            script,
        );
        assert.equal(ok.status, 0, ok.stderr);
        assert.deepEqual(ok.stdout.trim().split("\n"), ["spam.sieve", "spam.svbin"]);
        const bad = d.run(
            `cat > ${d.dir}/sieve/bad.sieve && sievec -c ${d.dir}/sievec.conf ${d.dir}/sieve/bad.sieve`,
            script.replace(/^require .*\n/m, ""),
        );
        assert.notEqual(bad.status, 0);
        assert.match(bad.stdout + bad.stderr, /unknown command 'fileinto'/);
    });

    it("listens on IPv6 only while the host has it, as Postfix does", async () => {
        assert.equal(d.run(`doveconf -c ${d.dir}/dovecot.conf -h listen`).stdout.trim(), "* ::");
        const v4 = content(await files({ ...MAIL, ipv6: false }), DOVECOT.conf)
            .replace(PATHS.tlsCert, PATHS.snakeoilCert)
            .replace(PATHS.tlsKey, PATHS.snakeoilKey);
        const e = inDebian({ "dovecot.conf": v4 });
        opened.push(e);
        const r = e.run(`doveconf -c ${e.dir}/dovecot.conf -h listen`);
        assert.equal(r.stdout.trim(), "*", r.stderr);
    });

    it("negative control: doveconf refuses a misspelled setting and a bad value", () => {
        const spelled = d.run(
            `sed 's/^auth_allow_cleartext/auth_alow_cleartext/' ${d.dir}/dovecot.conf > ${d.dir}/bad.conf && doveconf -c ${d.dir}/bad.conf -n`,
        );
        assert.notEqual(spelled.status, 0);
        assert.match(spelled.stderr, /auth_alow_cleartext: Unknown setting/);
        const value = d.run(
            `sed 's/^ssl = required/ssl = requried/' ${d.dir}/dovecot.conf > ${d.dir}/bad.conf && doveconf -c ${d.dir}/bad.conf -n`,
        );
        assert.notEqual(value.status, 0);
    });

    it("only the mailboxes log in: passdb and userdb are the users file, nothing of the system's", () => {
        const r = d.run(`doveconf -c ${d.dir}/dovecot.conf -n passdb userdb`);
        assert.equal(r.status, 0, r.stderr);
        assert.equal((r.stdout.match(/driver = /g) ?? []).length, 2);
        assert.doesNotMatch(r.stdout, /pam|passwd \{|driver = passwd$/m);
    });

    it("application logins are checked for Postfix's submission (service smtp) only: IMAP never sees them", () => {
        const smtp = d.run(`doveconf -c ${d.dir}/dovecot.conf -f protocol=smtp passdb`);
        assert.equal(smtp.status, 0, smtp.stderr);
        assert.deepEqual(smtp.stdout.match(/^passdb \S+/gm), ["passdb mailboxes", "passdb apps"]);
        const imap = d.run(`doveconf -c ${d.dir}/dovecot.conf -f protocol=imap passdb`);
        assert.deepEqual(imap.stdout.match(/^passdb \S+/gm), ["passdb mailboxes"]);
        assert.match(content(list, DOVECOT.apps), /^billing@example\.com:\{ARGON2ID\}[^:]+::::::\n$/);
        assert.equal(content(list, DOVECOT.users).includes("billing@"), false, "no mailbox for the application");
    });

    it("doveadm verifies each stored hash against its password, and refuses another password (control)", () => {
        for (const [address, password] of Object.entries(PASSWORDS)) {
            const hash = (address.startsWith("billing@") ? content(list, DOVECOT.apps) : content(list, DOVECOT.users))
                .split("\n")
                .find((line) => line.startsWith(`${address}:`))
                ?.split(":")[1];
            assert.ok(hash);
            const ok = d.run(`doveadm pw -t '${hash}' -p "$(cat)"`, password);
            assert.equal(ok.status, 0, ok.stderr);
            assert.match(ok.stdout, /\(verified\)/);
            const wrong = d.run(`doveadm pw -t '${hash}' -p "$(cat)"`, `${password}!`);
            assert.equal(wrong.status, 75, "a wrong password fails");
        }
    });

    it("the users file holds hashes and quotas, never a password", () => {
        const users = content(list, DOVECOT.users);
        for (const password of Object.values(PASSWORDS)) assert.equal(users.includes(password), false);
        assert.match(users, /^alice@example\.com:\{ARGON2ID\}[^:]+::::::userdb_quota_storage_size=2G$/m);
        assert.match(users, /^bob@example\.com:\{ARGON2ID\}[^:]+::::::$/m);
    });

    it("postconf knows every parameter and service option of mailbox mode, without a warning", () => {
        const n = d.run(`postconf -c ${d.dir}/postfix -n`);
        assert.equal(n.status, 0, n.stderr);
        assert.equal(n.stderr, "");
        assert.match(n.stdout, /^virtual_mailbox_domains = \$mydomain$/m);
        assert.match(n.stdout, /^virtual_alias_domains = \$myhostname$/m);
        const p = d.run(`postconf -c ${d.dir}/postfix -P`);
        assert.equal(p.status, 0, p.stderr);
        assert.equal(p.stderr, "");
        assert.match(p.stdout, /^587\/inet\/smtpd_tls_security_level = encrypt$/m);
        assert.match(p.stdout, /^465\/inet\/smtpd_tls_wrappermode = yes$/m);
        assert.match(p.stdout, /^587\/inet\/smtpd_helo_restrictions =$/m);
    });

    it("negative control: postconf reports an unknown service option", () => {
        const r = d.run(
            `sed 's/-o smtpd_tls_auth_only=yes/-o smtpd_tls_auth_onyl=yes/' ${d.dir}/postfix/master.cf > ${d.dir}/postfix/master.bad && ` +
                `mv ${d.dir}/postfix/master.bad ${d.dir}/postfix/master.cf && postconf -c ${d.dir}/postfix -P >/dev/null`,
        );
        assert.match(r.stderr, /smtpd_tls_auth_onyl/);
    });

    it("the maps answer as Postfix asks: mailboxes, aliases, who may send as what", () => {
        const dir = `${d.dir}/postfix`;
        const r = d.run(`cd ${dir} && for m in virtual vmailbox sender_logins; do postmap -c ${dir} $m || exit 1; done`);
        assert.equal(r.status, 0, r.stderr);
        const q = (key: string, map: string) => d.run(`postmap -c ${dir} -q '${key}' hash:${dir}/${map}`).stdout.trim();
        assert.equal(q("alice@example.com", "vmailbox"), "OK");
        assert.equal(q("carol@example.com", "vmailbox"), "");
        assert.equal(q("sales@example.com", "virtual"), "alice@example.com, bob@example.com");
        assert.equal(q("alice@example.com", "virtual"), "alice@example.com");
        assert.equal(q("@example.com", "virtual"), "alice@example.com");
        assert.equal(q("postmaster@example.com", "virtual"), "ops@example.net");
        assert.equal(q("list@example.com", "sender_logins"), "alice@example.com, bob@example.com");
        assert.equal(q("bob@example.com", "sender_logins"), "bob@example.com");
        assert.equal(q("@example.com", "sender_logins"), "", "nobody may send as the whole domain");
        assert.equal(q("billing@example.com", "sender_logins"), "billing@example.com");
    });
});

describe("send-only stays as it was", () => {
    it("no Dovecot file, map or client port without mailboxes", async () => {
        const list = await files({});
        const paths = list.map((f) => f.path);
        for (const path of [DOVECOT.conf, DOVECOT.users, DOVECOT.apps, DOVECOT.dropIn, MAILBOX_MAPS.mailboxes, MAILBOX_MAPS.senderLogins]) {
            assert.equal(paths.includes(path), false, path);
        }
        const master = content(list, "/etc/postfix/master.cf");
        assert.doesNotMatch(master, /^(587|465) /m);
        assert.match(content(list, "/etc/postfix/main.cf"), /^virtual_alias_domains = \$mydomain, \$myhostname$/m);
    });
});
