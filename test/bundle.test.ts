/**
 * The configuration bundle: the files it carries (with modes, owners, which services re-read
 * them), the records the host waits for, that a DNS-only change leaves it byte-identical, and the
 * applier's refusals of what a bundle must not do.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { MailServerArgs } from "../components/args";
import { resolveConfig } from "../components/config";
import { APPLIER_DIR } from "../components/host/bootstrap";
import {
    announcingRecords,
    awaitedRecords,
    BUNDLE_FORMAT,
    bundlePayload,
    HOST_PACKAGES,
    hostFiles,
    hostGates,
    renderBundle,
    Stage,
} from "../components/host/bundle";
import type { ManagedFile } from "../components/host/files";
import { dkimRecord } from "../components/records/dkim";
import { throwawayRsaKey } from "../plan/throwawayKey";
import { ADMIN_KEY, HOST_ARGS } from "./support/hostArgs";
import { run } from "./support/tools";

const key = throwawayRsaKey(2048);
const live = { ipv4: "192.0.2.10", ipv6: "2001:db8::10", dkimKeys: { "example.com": key } };
const host = (args: Partial<MailServerArgs> = {}) => resolveConfig({ ...HOST_ARGS, ...args }).host;
const files = hostFiles(host(), live);
const byPath = (path: string, list: readonly ManagedFile[] = files) => list.find((f) => f.path === path);

describe("the bundle's files", () => {
    it("are exactly these, with modes, owners and the services that re-read them", () => {
        assert.deepEqual(
            files.map((f) => [f.path, f.mode, f.owner ?? "root:root", f.secret ?? false, f.postmap ?? false, (f.reload ?? []).join(",")]),
            [
                ["/etc/mailname", "0644", "root:root", false, false, "postfix"],
                ["/etc/cloud/cloud.cfg.d/90-mailserver.cfg", "0644", "root:root", false, false, ""],
                ["/etc/postfix/main.cf", "0644", "root:root", false, false, "postfix"],
                ["/etc/postfix/master.cf", "0644", "root:root", false, false, "postfix"],
                ["/etc/postfix/virtual", "0644", "root:root", false, true, "postfix"],
                ["/etc/opendkim.conf", "0644", "root:root", false, false, "opendkim"],
                ["/etc/opendkim/key.table", "0644", "root:root", false, false, "opendkim"],
                ["/etc/opendkim/signing.table", "0644", "root:root", false, false, "opendkim"],
                ["/etc/opendkim/trusted.hosts", "0644", "root:root", false, false, "opendkim"],
                ["/etc/opendkim/keys/example.com.mailserver.private", "0600", "opendkim:opendkim", true, false, "opendkim"],
                ["/etc/default/postsrsd", "0644", "root:root", false, false, "postsrsd"],
                ["/etc/rspamd/local.d/redis.conf", "0644", "root:root", false, false, "rspamd"],
                ["/etc/rspamd/local.d/actions.conf", "0644", "root:root", false, false, "rspamd"],
                ["/etc/rspamd/local.d/options.inc", "0644", "root:root", false, false, "rspamd"],
                ["/etc/rspamd/local.d/worker-proxy.inc", "0644", "root:root", false, false, "rspamd"],
                ["/etc/rspamd/local.d/worker-normal.inc", "0644", "root:root", false, false, "rspamd"],
                ["/etc/rspamd/local.d/dmarc.conf", "0644", "root:root", false, false, "rspamd"],
                ["/etc/rspamd/local.d/milter_headers.conf", "0644", "root:root", false, false, "rspamd"],
                ["/etc/rspamd/local.d/classifier-bayes.conf", "0644", "root:root", false, false, "rspamd"],
                ["/etc/rspamd/local.d/greylist.conf", "0644", "root:root", false, false, "rspamd"],
                ["/etc/rspamd/local.d/rbl.conf", "0644", "root:root", false, false, "rspamd"],
                ["/etc/systemd/system/rspamd.service.d/mailserver.conf", "0644", "root:root", false, false, "systemd"],
                ["/usr/local/sbin/mailserver-cert", "0755", "root:root", false, false, ""],
                ["/etc/systemd/system/mailserver-cert.service", "0644", "root:root", false, false, "systemd"],
                ["/etc/systemd/system/mailserver-cert.timer", "0644", "root:root", false, false, "systemd"],
                ["/etc/letsencrypt/renewal-hooks/deploy/mailserver-postfix", "0755", "root:root", false, false, ""],
                ["/etc/ssh/mailserver/keys/mailadmin", "0644", "root:root", false, false, ""],
                ["/etc/ssh/sshd_config.d/20-mailserver-admin.conf", "0644", "root:root", false, false, "sshd"],
                ["/etc/sudoers.d/mailserver-admin", "0440", "root:root", false, false, ""],
                ["/etc/apt/apt.conf.d/99mailserver-unattended-upgrades", "0644", "root:root", false, false, ""],
                ["/etc/nftables.conf", "0755", "root:root", false, false, "nftables"],
            ],
        );
    });

    it("hold the DKIM private key in the key file only, as a secret", () => {
        const withKey = files.filter((f) => f.content.includes("PRIVATE KEY"));
        assert.deepEqual(
            withKey.map((f) => f.path),
            ["/etc/opendkim/keys/example.com.mailserver.private"],
        );
        assert.equal(withKey[0].content, key.privateKeyPem);
    });

    it("let the admin in from the allowed ranges only, with the given keys; none of it without keys", () => {
        assert.equal(byPath("/etc/ssh/mailserver/keys/mailadmin")?.content, `${ADMIN_KEY}\n`);
        assert.equal(
            byPath("/etc/ssh/sshd_config.d/20-mailserver-admin.conf")?.content,
            "# Rendered by the mailserver Pulumi component: the admin account, from sshAllowedCidrs only.\n" +
                "AllowUsers mailadmin@203.0.113.0/24 mailadmin@2001:db8:ffff::/48\n",
        );
        assert.equal(
            byPath("/etc/sudoers.d/mailserver-admin")?.content,
            "# Rendered by the mailserver Pulumi component.\nmailadmin ALL=(ALL) NOPASSWD:ALL\n",
        );
        const without = hostFiles(host({ sshPublicKeys: [] }), live).map((f) => f.path);
        assert.equal(without.filter((p) => /mailadmin|admin/.test(p)).length, 0);
    });

    it("install security updates unattended, reporting failures to root@ (the operator)", () => {
        assert.equal(
            byPath("/etc/apt/apt.conf.d/99mailserver-unattended-upgrades")?.content,
            [
                "// Rendered by the mailserver Pulumi component: install security updates every day.",
                'APT::Periodic::Update-Package-Lists "1";',
                'APT::Periodic::Unattended-Upgrade "1";',
                'APT::Periodic::AutocleanInterval "7";',
                'Unattended-Upgrade::Mail "root";',
                'Unattended-Upgrade::MailReport "only-on-error";',
                'Unattended-Upgrade::Automatic-Reboot "false";',
                "",
            ].join("\n"),
        );
        assert.ok(HOST_PACKAGES.includes("unattended-upgrades"));
    });
});

describe("the bundle", () => {
    it("is JSON: format, stage, the applier program, the payload; the stages differ only in their name", () => {
        const bundle = JSON.parse(renderBundle(host(), live, Stage.Prepare)) as Record<string, unknown>;
        assert.deepEqual(Object.keys(bundle), ["format", "stage", "applier", "payload"]);
        assert.equal(bundle.format, BUNDLE_FORMAT);
        assert.equal(bundle.stage, "prepare");
        assert.match(String(bundle.applier), /^"""Applies a mailserver configuration bundle/);
        assert.deepEqual(JSON.parse(renderBundle(host(), live, Stage.Commit)), { ...bundle, stage: "commit" });
    });

    it("has the commit stage wait for SPF listing each address and each address's PTR naming the host", () => {
        assert.deepEqual(announcingRecords(host(), live), [
            { name: "example.com", type: "TXT", spfTerm: "ip4:192.0.2.10" },
            { name: "mail.example.com", type: "TXT", spfTerm: "ip4:192.0.2.10" },
            { name: "10.2.0.192.in-addr.arpa", type: "PTR", value: "mail.example.com." },
            { name: "example.com", type: "TXT", spfTerm: "ip6:2001:db8::10" },
            { name: "mail.example.com", type: "TXT", spfTerm: "ip6:2001:db8::10" },
            {
                name: "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
                type: "PTR",
                value: "mail.example.com.",
            },
        ]);
        assert.equal(announcingRecords(host({ ipv6: false }), { ...live, ipv6: undefined }).length, 3);
    });

    it("holds main.cf at IPv4 while IPv6 is new to the host, and holds nothing without IPv6", () => {
        const [gate] = hostGates(host());
        assert.equal(gate.feature, "ipv6");
        assert.deepEqual(gate.restart, ["postfix"]);
        assert.deepEqual(
            gate.held.map((f) => f.path),
            ["/etc/postfix/main.cf"],
        );
        const final = byPath("/etc/postfix/main.cf")?.content ?? "";
        const held = gate.held[0].content;
        assert.match(final, /^inet_protocols = all$/m);
        assert.match(held, /^inet_protocols = ipv4$/m);
        assert.equal(held, byPath("/etc/postfix/main.cf", hostFiles(host({ ipv6: false }), live))?.content);
        assert.deepEqual(hostGates(host({ ipv6: false }))[0].held, []);
        assert.deepEqual(bundlePayload(host(), live).features, { ipv6: true });
    });

    it("with a smarthost login: the SASL modules, and the login map root-only and secret; without a login, neither", () => {
        const relay = {
            smarthost: "smtp.relay.example.org:587",
            smarthostUser: "mailer",
            smarthostPassword: "relay-api-key",
            spfIncludes: ["relay.example.org"],
        };
        const payload = bundlePayload(host(relay), { ...live, smarthostPassword: "relay-api-key" });
        assert.deepEqual(payload.packages, [...HOST_PACKAGES, "libsasl2-modules"]);
        const map = (payload.files as ManagedFile[]).find((f) => f.path === "/etc/postfix/smarthost-login");
        assert.deepEqual(map, {
            path: "/etc/postfix/smarthost-login",
            content: "[smtp.relay.example.org]:587 mailer:relay-api-key\n",
            mode: "0600",
            secret: true,
            reload: ["postfix"],
        });
        const noLogin = bundlePayload(host({ ...relay, smarthostUser: undefined, smarthostPassword: undefined }), live);
        assert.deepEqual(noLogin.packages, [...HOST_PACKAGES]);
        assert.equal(
            (noLogin.files as ManagedFile[]).some((f) => f.path === "/etc/postfix/smarthost-login"),
            false,
        );
        assert.throws(() => bundlePayload(host(relay), live), /smarthost: the login's password is missing/);
    });

    it("makes the host wait for its signing key and its own addresses on the authoritative servers", () => {
        assert.deepEqual(awaitedRecords(host(), live), [
            { name: "mailserver._domainkey.example.com", type: "TXT", value: dkimRecord(key.publicKeyPem) },
            { name: "mail.example.com", type: "A", value: "192.0.2.10" },
            { name: "mail.example.com", type: "AAAA", value: "2001:db8::10" },
        ]);
        assert.deepEqual(
            awaitedRecords(host({ ipv6: false }), { ...live, ipv6: undefined }).map((r) => r.type),
            ["TXT", "A"],
        );
    });

    it("names what must run, and how to check it, after the switch", () => {
        const payload = bundlePayload(host(), live);
        assert.equal(payload.hostname, "mail.example.com");
        assert.deepEqual(payload.packages, [...HOST_PACKAGES]);
        assert.deepEqual(payload.running, ["postsrsd", "opendkim", "redis-server", "rspamd", "postfix"]);
        assert.deepEqual(payload.noPackageStart, ["rspamd"]);
        assert.equal(payload.banner, "220 mail.example.com ESMTP");
        assert.deepEqual(payload.liveQueries, [{ key: "check@example.org", map: "tcp:127.0.0.1:10001", startsWith: "SRS0=" }]);
        assert.deepEqual(payload.users, [{ name: "mailadmin", groups: ["sudo"], shell: "/bin/bash" }]);
    });

    it("is byte-identical after a DNS-only change, and differs after a host change (the comparison can fail)", () => {
        const before = renderBundle(host(), live, Stage.Commit);
        const dnsOnly = resolveConfig({
            ...HOST_ARGS,
            dmarcPolicy: "reject" as never,
            dmarcAlignment: "strict" as never,
            dmarcRua: ["reports@example.org"],
            spfIncludes: ["_spf.example.org"],
            spfIp4: ["198.51.100.0/24"],
            spfAll: "~all" as never,
            dnsTtl: 300,
            cloudflareZoneId: "0123456789abcdef0123456789abcdef",
            dkimPreviousSelectors: ["s2025"],
        });
        assert.equal(renderBundle(dnsOnly.host, live, Stage.Commit), before);
        assert.notEqual(renderBundle(host({ operatorEmail: "other@example.net" }), live, Stage.Commit), before);
    });
});

describe("the applier refuses what a bundle must not do", () => {
    /** Runs a function of applier.py (imported as a module) on JSON arguments; prints its result or error. */
    function applier(call: string): { status: number | null; stdout: string; stderr: string } {
        return run("python3", [
            "-c",
            `import json, sys; sys.path.insert(0, ${JSON.stringify(APPLIER_DIR)}); import applier\napplier.LOG = "/dev/null"\ntry:\n    print(json.dumps(${call}))\nexcept applier.Failure as failure:\n    print("Failure: " + str(failure))`,
        ]);
    }
    const entry = (change: Record<string, unknown>) =>
        JSON.stringify({ path: "/etc/postfix/main.cf", mode: "0644", content: "x", ...change });
    const cases: Array<[string, string, string]> = [
        ["a relative path", entry({ path: "etc/passwd" }), "refusing file path 'etc/passwd'"],
        [
            "a path climbing out",
            entry({ path: "/etc/../root/.ssh/authorized_keys" }),
            "refusing file path '/etc/../root/.ssh/authorized_keys'",
        ],
        ["a path outside /etc", entry({ path: "/root/.bashrc" }), "refusing to manage /root/.bashrc"],
        ["the password file", entry({ path: "/etc/shadow" }), "refusing to manage /etc/shadow"],
        ["its own releases", entry({ path: "/etc/mailserver/current" }), "refusing to manage /etc/mailserver/current"],
        ["a setuid mode", entry({ mode: "4755" }), "/etc/postfix/main.cf: mode '4755' is not one of 0644, 0640, 0600, 0755, 0440"],
        ["an owner without group", entry({ owner: "root" }), "/etc/postfix/main.cf: owner 'root' is not user:group"],
        ["no content", entry({ content: null }), "/etc/postfix/main.cf: no content"],
    ];
    for (const [title, json, message] of cases) {
        it(title, () => {
            const result = applier(`applier.check_file_entry(json.loads(${JSON.stringify(json)}))`);
            assert.equal(result.stdout, `Failure: ${message}\n`, result.stderr);
        });
    }
    it("accepts a well-formed entry, and reads TXT answers as receivers join them", () => {
        assert.equal(applier(`applier.check_file_entry(json.loads(${JSON.stringify(entry({}))}))`).stdout, "null\n");
        assert.equal(applier(`applier.txt_value('"v=DKIM1; k=rsa; " "p=AB\\\\"C"')`).stdout, '"v=DKIM1; k=rsa; p=AB\\"C"\n');
    });
    it("names a release by its content", () => {
        const a = applier('applier.release_id({"files": [{"path": "/etc/a", "content": "1"}]})').stdout;
        assert.equal(a, applier('applier.release_id({"files": [{"content": "1", "path": "/etc/a"}]})').stdout);
        assert.notEqual(a, applier('applier.release_id({"files": [{"path": "/etc/a", "content": "2"}]})').stdout);
        assert.match(a, /^"[0-9a-f]{16}"\n$/);
    });
    it("reloads only the services whose files changed since the release it saved", () => {
        const files = (hook: string) =>
            JSON.stringify({
                hostname: "mail.example.com",
                files: [
                    { path: "/etc/postfix/main.cf", mode: "0644", content: "myhostname = mail.example.com\n", reload: ["postfix"] },
                    { path: "/etc/letsencrypt/renewal-hooks/deploy/mailserver-postfix", mode: "0755", content: hook },
                    { path: "/etc/opendkim.conf", mode: "0644", content: "Mode sv\n", reload: ["opendkim"] },
                ],
            });
        const diff = (before: string, after: string) =>
            applier(
                `applier.changed_services(json.loads(${JSON.stringify(after)}), applier.payload_summary(json.loads(${JSON.stringify(before)})))`,
            ).stdout;
        const a = files("#!/bin/sh\nsystemctl reload postfix\n");
        assert.equal(diff(a, a), "[[], []]\n");
        assert.equal(diff(a, files("#!/bin/sh\n")), '[["/etc/letsencrypt/renewal-hooks/deploy/mailserver-postfix"], []]\n');
        assert.equal(diff(a, a.replace("Mode sv", "Mode s")), '[["/etc/opendkim.conf"], ["opendkim"]]\n');
        assert.equal(
            applier(`applier.changed_services(json.loads(${JSON.stringify(a)}), None)`).stdout,
            '[["/etc/postfix/main.cf", "/etc/letsencrypt/renewal-hooks/deploy/mailserver-postfix", "/etc/opendkim.conf"], ["hostname", "opendkim", "postfix"]]\n',
        );
    });
    it("tries a failed service command once more, keeping the first failure, and stops on a second", () => {
        const dir = mkdtempSync(join(tmpdir(), "applier-"));
        const flaky = JSON.stringify(["sh", "-c", `test -e ${dir}/tried || { touch ${dir}/tried; echo settling >&2; exit 1; }`]);
        const once = applier(`(lambda r: (applier.run_service(${flaky}, r), [(e["command"][:5], e["error"]) for e in r]))([])`);
        assert.equal(once.stdout, `[null, [["sh -c", "settling"]]]\n`, once.stderr);
        const broken = applier(`applier.run_service(["sh", "-c", "echo broken >&2; exit 3"], [])`);
        assert.match(broken.stdout, /^Failure: sh -c echo broken >&2; exit 3 exited 3 twice: broken\n/);
        rmSync(dir, { recursive: true });
    });
    it("leaves nothing of a release that is refused or rolled back: no link into it, the package's file back in place", () => {
        const dir = mkdtempSync(join(tmpdir(), "applier-rollback-"));
        try {
            const result = run("python3", [join(__dirname, "..", "..", "test", "support", "applierRollback.py"), APPLIER_DIR, dir]);
            const { steps, firstRelease, packageFile, newFile } = JSON.parse(result.stdout) as {
                steps: Record<
                    string,
                    [string, { current: string; package: [boolean, string]; new: boolean; originals: string[] }, string[][]?]
                >;
                firstRelease: string;
                packageFile: string;
                newFile: string;
            };
            assert.deepEqual(steps["first-rolled-back"], [
                "port 25 does not answer; the previous configuration (empty) is back in place",
                { current: "releases/empty", package: [false, "from the package\n"], new: false, originals: [] },
            ]);
            assert.deepEqual(steps.first, [
                "ok",
                { current: firstRelease, package: [true, "v1 package.conf\n"], new: false, originals: [packageFile] },
            ]);
            assert.deepEqual(steps.refused, [
                "the new configuration does not pass its checks; nothing was changed",
                { current: firstRelease, package: [true, "v1 package.conf\n"], new: false, originals: [packageFile] },
            ]);
            assert.deepEqual(steps["rolled-back"], [
                `port 25 does not answer; the previous configuration (${firstRelease.replace("releases/", "")}) is back in place`,
                { current: firstRelease, package: [true, "v1 package.conf\n"], new: false, originals: [packageFile] },
                [[packageFile]],
            ]);
            assert.equal(steps.added[0], "ok");
            assert.deepEqual(steps.added[1].package, [true, "v4 package.conf\n"]);
            assert.equal(steps.added[1].new, true);
            assert.equal(steps.removed[0], "ok");
            assert.deepEqual(steps.removed[1].package, [true, "v5 package.conf\n"]);
            assert.equal(steps.removed[1].new, false, "the link of a file no longer in the bundle is gone");
            assert.notEqual(newFile, packageFile);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
    it("holds at prepare what widens the host (a new name, IPv6 new to it), applies it at commit after the announcing records; restarts Postfix when IPv6 goes on or off", () => {
        const dir = mkdtempSync(join(tmpdir(), "applier-stages-"));
        try {
            const result = run("python3", [join(__dirname, "..", "..", "test", "support", "applierStages.py"), APPLIER_DIR, dir]);
            const stage = (
                switched: boolean,
                inet: string,
                waited: string[] | null,
                restart: string[] | null,
                held: string | null = null,
                hostname = "mail.example.com",
            ) => ({ switched, held, unchanged: !switched && held === null, inet, hostname, waited, restart });
            const steps = (JSON.parse(result.stdout) as Array<[string, ...Array<Record<string, unknown>>]>).map(([name, ...runs]) => [
                name,
                ...runs.map((r) => ({
                    switched: r.switched,
                    held: r.held,
                    unchanged: r.unchanged,
                    inet: r.inet_protocols,
                    hostname: String(r.myhostname).replace("myhostname = ", ""),
                    waited: r.waited,
                    restart: r.restart,
                })),
            ]);
            const ipv6Held = "ipv6: new to the host, switched on by the commit stage";
            const address = ["192.0.2.10"];
            const announced = ["192.0.2.10", "ip4:192.0.2.10"];
            assert.deepEqual(steps, [
                ["first boot", stage(true, "ipv4", address, [], ipv6Held), stage(true, "all", announced, ["postfix"])],
                ["operator change", stage(true, "all", address, []), stage(false, "all", null, null)],
                ["ipv6 off", stage(true, "ipv4", address, ["postfix"]), stage(false, "ipv4", null, null)],
                ["ipv6 on", { ...stage(false, "ipv4", null, null, ipv6Held), unchanged: true }, stage(true, "all", announced, ["postfix"])],
                [
                    "rename",
                    stage(false, "all", null, null, "the host name changes to smtp.example.com: the commit stage switches to it"),
                    stage(true, "all", announced, [], null, "smtp.example.com"),
                ],
            ]);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
    it("takes a release saved before features existed as using what the new bundle uses (no IPv6 flap on upgrade)", () => {
        assert.equal(applier('applier.features_of({"hostname": "mail.example.com"}, {"ipv6": True})').stdout, '{"ipv6": true}\n');
        assert.equal(applier('applier.features_of({"features": {"ipv6": False}}, {"ipv6": True})').stdout, '{"ipv6": false}\n');
        assert.equal(applier('applier.features_of(None, {"ipv6": True})').stdout, "{}\n");
    });
    it("refuses an unknown stage, and a gate holding a file the bundle does not have", () => {
        const bundle = (change: Record<string, unknown>) =>
            JSON.stringify({ format: BUNDLE_FORMAT, stage: "prepare", payload: { files: [] }, ...change });
        const read = (json: string) =>
            run("python3", [
                "-c",
                `import sys, io; sys.path.insert(0, ${JSON.stringify(APPLIER_DIR)}); import applier\nsys.stdin = io.TextIOWrapper(io.BytesIO(sys.argv[1].encode()))\ntry:\n    print(applier.read_bundle()[0])\nexcept applier.Failure as failure:\n    print("Failure: " + str(failure))`,
                json,
            ]).stdout;
        assert.equal(read(bundle({})), "prepare\n");
        assert.equal(read(bundle({ stage: "later" })), "Failure: stage 'later' is not one of prepare, commit\n");
        assert.equal(
            read(bundle({ payload: { files: [], gates: [{ feature: "ipv6", held: [{ path: "/etc/shadow", content: "x" }] }] } })),
            "Failure: gate ipv6 holds '/etc/shadow', which is not a file of the bundle\n",
        );
    });
    it("creates a secret file 0600 in a 0700 directory under umask 077, before a byte of it is written", () => {
        const dir = mkdtempSync(join(tmpdir(), "applier-secret-"));
        try {
            const result = run("python3", [join(__dirname, "..", "..", "test", "support", "applierSecretWrite.py"), APPLIER_DIR, dir]);
            assert.deepEqual(JSON.parse(result.stdout), {
                atCreation: {
                    "/etc/opendkim/keys/example.com.mailserver.private": { directory: "0o700", file: "0o600", size: 0, umask: "0o77" },
                    "/etc/opendkim.conf": { directory: "0o755", file: "0o600", size: 0, umask: "0o77" },
                },
                after: {
                    "/etc/opendkim/keys/example.com.mailserver.private": { directory: "0o700", file: "0o600" },
                    "/etc/opendkim.conf": { directory: "0o755", file: "0o644" },
                },
            });
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
    it("is one Python file of the standard library only", () => {
        const imports = run("python3", [
            "-c",
            `import ast,sys; t=ast.parse(open(sys.argv[1]).read()); print(sorted({a.name for n in ast.walk(t) if isinstance(n,(ast.Import,)) for a in n.names}))`,
            join(APPLIER_DIR, "applier.py"),
        ]);
        assert.equal(imports.stdout, "['fcntl', 'grp', 'hashlib', 'json', 'os', 'pwd', 'shutil', 'socket', 'subprocess', 'sys', 'time']\n");
    });
});
