import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseDkimKey } from "../check/dkimKey";
import { mxMatches, parseMtaStsPolicy } from "../check/mtaStsPolicy";
import { selectorFromProject } from "../check/selector";
import { dkimRecord } from "../components/records/dkim";
import { throwawayRsaKey } from "../plan/throwawayKey";
import { scratchDir } from "./support/scratch";

function project(stacks: Record<string, string>): string {
    const dir = scratchDir("project-");
    writeFileSync(join(dir, "Pulumi.yaml"), "name: mailserver\nruntime: nodejs\n");
    mkdirSync(join(dir, "stacks"));
    for (const [name, text] of Object.entries(stacks)) writeFileSync(join(dir, "stacks", `Pulumi.${name}.yaml`), text);
    return dir;
}

describe("check: DKIM selector from the project", () => {
    // Without a Pulumi CLI (as here and in CI) the stack files answer.
    it("takes the stack file whose domain matches, with its selector or the default", () => {
        const dir = project({
            a: "config:\n  mailserver:domain: example.org\n  mailserver:dkimSelector: s2026\n",
            b: "config:\n  mailserver:domain: example.com\n",
        });
        assert.deepEqual(selectorFromProject(dir, "example.org"), { selector: "s2026", source: "stacks/Pulumi.a.yaml" });
        assert.deepEqual(selectorFromProject(dir, "example.com"), { selector: "mailserver", source: "stacks/Pulumi.b.yaml" });
        assert.equal(selectorFromProject(dir, "example.net"), undefined);
    });
    it("finds a further domain in a stack's extraDomains, with its entry's selector or the default", () => {
        const dir = project({
            c: "config:\n  mailserver:domain: example.com\n  mailserver:extraDomains:\n    - example.io selector=s2026\n    - example.info\n",
        });
        assert.deepEqual(selectorFromProject(dir, "example.io"), { selector: "s2026", source: "stacks/Pulumi.c.yaml (extraDomains)" });
        assert.deepEqual(selectorFromProject(dir, "example.info"), {
            selector: "mailserver",
            source: "stacks/Pulumi.c.yaml (extraDomains)",
        });
        assert.equal(selectorFromProject(dir, "example.biz"), undefined);
    });
    it("outside a project there is none", () => {
        assert.equal(selectorFromProject(scratchDir("empty-"), "example.com"), undefined);
    });
});

describe("check: DKIM key records", () => {
    it("reads RSA size and rejects revoked, truncated and malformed keys", () => {
        assert.deepEqual(parseDkimKey(dkimRecord(throwawayRsaKey(2048).publicKeyPem)), { ok: true, algorithm: "rsa", bits: 2048 });
        assert.deepEqual(parseDkimKey("v=DKIM1; k=rsa; p="), { ok: false, revoked: true, error: "p= is empty: the key is revoked" });
        assert.deepEqual(parseDkimKey("v=DKIM1; k=rsa; p=MIIBIjANBgkq"), {
            ok: false,
            revoked: false,
            error: "p= does not decode to a public key (truncated?)",
        });
        assert.deepEqual(parseDkimKey("k=rsa; v=DKIM1; p=x"), { ok: false, revoked: false, error: "v= must be DKIM1 and come first" });
        assert.deepEqual(parseDkimKey("v=DKIM1; k=dsa; p=AAAA"), { ok: false, revoked: false, error: "k=dsa is not rsa or ed25519" });
        assert.deepEqual(parseDkimKey("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="), {
            ok: true,
            algorithm: "ed25519",
            bits: 256,
        });
    });
});

describe("check: MTA-STS policy", () => {
    it("parses a valid policy and matches mx patterns", () => {
        assert.deepEqual(parseMtaStsPolicy("version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 86400\n"), {
            mode: "enforce",
            mx: ["mail.example.com", "*.example.net"],
            maxAge: 86400,
            problems: [],
        });
        assert.equal(mxMatches("*.example.net", "mx1.example.net"), true);
        assert.equal(mxMatches("*.example.net", "a.mx1.example.net"), false);
        assert.equal(mxMatches("mail.example.com", "MAIL.example.com"), true);
    });
    it("lists every problem", () => {
        assert.deepEqual(parseMtaStsPolicy("mode: strict\nmax_age: 99999999999\n").problems, [
            "version: STSv1 missing",
            'mode "strict" is not enforce, testing or none',
            "no mx: lines",
            'max_age "99999999999" is not 0–31557600',
        ]);
    });
});
