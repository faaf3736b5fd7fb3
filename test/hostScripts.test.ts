/**
 * The programs the host runs, as the component renders them: every shell script in the bundle and
 * the user data's boot command pass shellcheck at every level (style included), and the apply
 * program and the applier pass pyflakes. A control shows each tool fails on what it should.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { resolveConfig } from "../components/config";
import { APPLIER_DIR, renderBootstrap } from "../components/host/bootstrap";
import { hostFiles } from "../components/host/bundle";
import { throwawayEd25519Key, throwawayRsaKey } from "../plan/throwawayKey";
import { HOST_ARGS } from "./support/hostArgs";
import { missing, run } from "./support/tools";

const key = throwawayRsaKey(2048);
// A mailbox (its hash is never checked here), so the mail archive tool is among the scripts.
const live = {
    ipv4: "192.0.2.10",
    ipv6: "2001:db8::10",
    dkimKeys: { "example.com": key },
    passwordHashes: { "alice@example.com": "{ARGON2ID}$argon2id$unused" },
};
const scripts = hostFiles(resolveConfig({ ...HOST_ARGS, mailboxes: ["alice@example.com"] }).host, live).filter((f) =>
    /^#!\/bin\/(ba|da)?sh\n/.test(f.content),
);

const shellcheck = (script: string, shell = "sh") => run("shellcheck", ["--shell", shell, "--severity", "style", "-"], script);

describe("the host's shell scripts pass shellcheck", { skip: missing("shellcheck", "shellcheck") }, () => {
    it("the bundle holds exactly these scripts", () => {
        assert.deepEqual(
            scripts.map((f) => f.path),
            [
                "/usr/local/sbin/mailserver-mail",
                "/usr/local/sbin/mailserver-cert",
                "/etc/letsencrypt/renewal-hooks/deploy/mailserver-postfix",
            ],
        );
    });
    for (const file of scripts)
        it(file.path, () => {
            const result = shellcheck(file.content, file.content.startsWith("#!/bin/bash") ? "bash" : "sh");
            assert.equal(result.status, 0, result.stdout);
        });
    it("the user data's boot command", () => {
        const deploy = throwawayEd25519Key("deploy");
        const hostKey = throwawayEd25519Key("host");
        const doc = parse(
            renderBootstrap({
                deployPublicKey: deploy.publicKeyOpenssh ?? "",
                hostKey: { privateOpenssh: hostKey.privateKeyOpenssh ?? "", publicOpenssh: hostKey.publicKeyOpenssh ?? "" },
            }),
        ) as { bootcmd: string[][] };
        const result = shellcheck(`#!/bin/sh\n${doc.bootcmd[0][2]}\n`);
        assert.equal(result.status, 0, result.stdout);
    });
    it("control: an unquoted expansion fails at this level", () => {
        const result = shellcheck("#!/bin/sh\nrm -f $1\n");
        assert.equal(result.status, 1);
        assert.match(result.stdout, /SC2086/);
    });
});

describe("the host's Python programs pass pyflakes", { skip: missing("pyflakes3", "pyflakes3") }, () => {
    it("the apply program and the applier", () => {
        const result = run("pyflakes3", [join(APPLIER_DIR, "mailserver-apply"), join(APPLIER_DIR, "applier.py")]);
        assert.equal(result.status, 0, result.stdout + result.stderr);
    });
    it("control: an unused import fails", () => {
        const result = run("pyflakes3", [], "import os\n");
        assert.equal(result.status, 1);
        assert.match(result.stdout, /'os' imported but unused/);
    });
});
