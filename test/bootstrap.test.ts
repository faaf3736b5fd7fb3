/**
 * The user data: a bootstrap that lets `pulumi up` configure the host over SSH, and nothing of
 * the mail configuration (no DKIM key, no mail settings): so no mail setting ever needs a new host.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import {
    APPLIER_DIR,
    APPLY_PROGRAM,
    bootstrapConfig,
    DEPLOY_USER,
    deployAuthorizedKey,
    renderBootstrap,
    SSHD_BOOTSTRAP_CONF,
    SUDOERS_DEPLOY,
} from "../components/host/bootstrap";
import { renderNftables } from "../components/host/hardening";
import { throwawayEd25519Key } from "../plan/throwawayKey";
import { run } from "./support/tools";

const deploy = throwawayEd25519Key("deploy");
const host = throwawayEd25519Key("host");
const input = {
    deployPublicKey: deploy.publicKeyOpenssh ?? "",
    hostKey: { privateOpenssh: host.privateKeyOpenssh ?? "", publicOpenssh: host.publicKeyOpenssh ?? "" },
};
const text = renderBootstrap(input);
const doc = parse(text) as Record<string, unknown>;
type WriteFile = { path: string; content: string; permissions: string };
const files = doc.write_files as WriteFile[];
const file = (path: string) => files.find((f) => f.path === path);

describe("bootstrap user data", () => {
    it("is a cloud-config with exactly these modules", () => {
        assert.ok(text.startsWith("#cloud-config\n"));
        assert.deepEqual(Object.keys(doc), [
            "users",
            "disable_root",
            "ssh_pwauth",
            "ssh_deletekeys",
            "ssh_genkeytypes",
            "ssh_keys",
            "bootcmd",
            "write_files",
        ]);
        assert.deepEqual(doc, bootstrapConfig(input));
    });

    it("creates only the deploy account, without password, whose key can run one command and nothing else", () => {
        const [user] = doc.users as Array<Record<string, unknown>>;
        assert.deepEqual(doc.users, [
            {
                name: DEPLOY_USER,
                gecos: "mailserver configuration channel",
                shell: "/bin/sh",
                lock_passwd: true,
                ssh_authorized_keys: [`restrict,command="sudo -n ${APPLY_PROGRAM}" ${deploy.publicKeyOpenssh?.trim()} ${DEPLOY_USER}`],
            },
        ]);
        assert.equal((user.ssh_authorized_keys as string[])[0], deployAuthorizedKey(input.deployPublicKey));
        assert.equal(doc.disable_root, true);
        assert.equal(doc.ssh_pwauth, false);
    });

    it("gives the host the ed25519 host key pulumi up pins, and makes no other", () => {
        assert.deepEqual(doc.ssh_keys, { ed25519_private: host.privateKeyOpenssh, ed25519_public: host.publicKeyOpenssh?.trim() });
        assert.equal(doc.ssh_deletekeys, true);
        assert.deepEqual(doc.ssh_genkeytypes, ["ed25519"]);
    });

    it("hardens sshd: keys only, no root, no forwarding, only the deploy account (the admin comes with the configuration)", () => {
        const sshd = file(SSHD_BOOTSTRAP_CONF);
        assert.equal(sshd?.permissions, "0644");
        const settings = (sshd?.content ?? "").split("\n").filter((l) => l && !l.startsWith("#"));
        assert.deepEqual(settings, [
            "PermitRootLogin no",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "AuthenticationMethods publickey",
            "HostKey /etc/ssh/ssh_host_ed25519_key",
            "AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/mailserver/keys/%u",
            `AllowUsers ${DEPLOY_USER}`,
            "AllowTcpForwarding no",
            "AllowStreamLocalForwarding no",
            "AllowAgentForwarding no",
            "X11Forwarding no",
            "PermitTunnel no",
            "PermitUserEnvironment no",
            "MaxAuthTries 3",
            "LoginGraceTime 30",
        ]);
    });

    it("lets the deploy account sudo the apply program without arguments, and installs that program", () => {
        assert.deepEqual(file(SUDOERS_DEPLOY), {
            path: SUDOERS_DEPLOY,
            permissions: "0440",
            content: `# Rendered by the mailserver Pulumi component (user data).\n${DEPLOY_USER} ALL=(root) NOPASSWD: ${APPLY_PROGRAM} ""\n`,
        });
        assert.equal(file(APPLY_PROGRAM)?.permissions, "0755");
        assert.equal(file(APPLY_PROGRAM)?.content, readFileSync(join(APPLIER_DIR, "mailserver-apply"), "utf8"));
    });

    it("closes the metadata service to every user but root before anything else runs", () => {
        assert.deepEqual(doc.bootcmd, [
            [
                "sh",
                "-c",
                `if command -v nft >/dev/null 2>&1; then nft -f - <<'EOF'\n${renderNftables()}EOF\nelse echo "mailserver: no nft at boot: the metadata service stays open to local users until the first configuration run installs nftables" >&2; fi`,
            ],
        ]);
        assert.match(renderNftables(), /ip daddr 169\.254\.169\.254 meta skuid != 0 counter reject/);
        const result = run("sh", ["-n"], (doc.bootcmd as string[][])[0][2]);
        assert.equal(result.status, 0, result.stderr);
    });

    it("holds no mail secret and no mail setting", () => {
        assert.doesNotMatch(text, /BEGIN (RSA |)PRIVATE KEY/);
        assert.doesNotMatch(text, /postfix|opendkim|example\.com/);
        assert.equal((text.match(/BEGIN OPENSSH PRIVATE KEY/g) ?? []).length, 1, "only the host key");
    });

    it("the apply stub is valid Python that refuses anything but a bundle", () => {
        const stub = join(APPLIER_DIR, "mailserver-apply");
        const compiled = run("python3", ["-c", `import ast,sys; ast.parse(open(sys.argv[1]).read())`, stub]);
        assert.equal(compiled.status, 0, compiled.stderr);
        if (process.getuid?.() === 0) {
            const garbage = run("python3", ["-I", stub], "not json");
            assert.equal(garbage.status, 2);
            assert.match(garbage.stderr, /^mailserver-apply: the bundle is not JSON/);
            const other = run("python3", ["-I", stub], JSON.stringify({ format: "something/1" }));
            assert.equal(other.stderr, "mailserver-apply: not a mailserver-bundle/1 bundle\n");
        }
    });
});
