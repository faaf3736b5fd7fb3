/**
 * Mailboxes, aliases and chosen passwords: what resolveConfig accepts, what it refuses (each
 * refusal naming the argument and the reason), and who may send as which address.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HostProvider, type MailServerArgs } from "../components/args";
import { resolveConfig } from "../components/config";
import { MailServerArgumentError } from "../components/errors";
import { deliveredTo, senderLogins } from "../components/mailboxes";

const base: MailServerArgs = {
    domain: "example.com",
    operatorEmail: "ops@example.net",
    provider: HostProvider.DigitalOcean,
    region: "fra1",
    mailboxes: ["alice@example.com quota=2G", "bob@example.com"],
};

function errorOf(args: Partial<Record<keyof MailServerArgs, unknown>>): string {
    try {
        resolveConfig({ ...base, ...args } as MailServerArgs);
    } catch (error) {
        assert.ok(error instanceof MailServerArgumentError, `expected MailServerArgumentError, got ${error}`);
        return error.message;
    }
    assert.fail("expected an error");
}

describe("mailboxes", () => {
    it("parses addresses and quotas", () => {
        assert.deepEqual(resolveConfig(base).host.mail.mailboxes, [
            { address: "alice@example.com", quota: "2G" },
            { address: "bob@example.com", quota: undefined },
        ]);
    });

    it("makes the default plan 1 GB on DigitalOcean (Linode's smallest already is)", () => {
        assert.equal(resolveConfig(base).size, "s-1vcpu-1gb");
        assert.equal(resolveConfig({ ...base, mailboxes: [] }).size, "s-1vcpu-512mb-10gb");
        assert.equal(resolveConfig({ ...base, provider: HostProvider.Linode, region: "eu-central" }).size, "g6-nanode-1");
        assert.equal(resolveConfig({ ...base, size: "s-1vcpu-512mb-10gb" }).size, "s-1vcpu-512mb-10gb");
    });

    const refusals: Array<[string, unknown, string]> = [
        ["outside the domain", ["alice@example.org"], 'mailboxes: "alice@example.org" is not in the mail domain example.com'],
        ["upper case", ["Alice@example.com"], 'mailboxes: "Alice@example.com": write a mailbox in lower case'],
        [
            "a tag",
            ["alice+news@example.com"],
            'mailboxes: "alice+news@example.com": "+" separates an address\'s tag (alice+news@ reaches alice@)',
        ],
        [
            "a role address",
            ["postmaster@example.com"],
            'mailboxes: "postmaster@example.com" is forwarded to operatorEmail (RFC 2142 role address); it cannot be a mailbox',
        ],
        [
            "a bad quota",
            ["alice@example.com quota=2T"],
            'mailboxes: "alice@example.com quota=2T": after the address only "quota=<size>" may follow, e.g. quota=500M or quota=2G',
        ],
        ["twice", ["bob@example.com", "bob@example.com"], 'mailboxes: "bob@example.com" is given twice'],
        [
            "a command character",
            ["|cmd@example.com"],
            'mailboxes: "|cmd@example.com" is not a plain e-mail address: the part before @ may hold only letters, digits and . _ + - (at most 64)',
        ],
    ];
    for (const [what, mailboxes, message] of refusals) {
        it(`refuses ${what}`, () => assert.equal(errorOf({ mailboxes }), message));
    }
});

describe("aliases", () => {
    const aliases = [
        "sales@example.com alice@example.com bob@example.com",
        "list@example.com sales@example.com friend@example.net",
        "@example.com alice@example.com",
    ];

    it("parses targets and the catch-all", () => {
        assert.deepEqual(resolveConfig({ ...base, aliases }).host.mail.aliases, [
            { address: "sales@example.com", targets: ["alice@example.com", "bob@example.com"] },
            { address: "list@example.com", targets: ["sales@example.com", "friend@example.net"] },
            { address: "@example.com", targets: ["alice@example.com"] },
        ]);
    });

    it("forwards outside without any mailbox (send-only with aliases)", () => {
        const c = resolveConfig({ ...base, mailboxes: [], aliases: ["info@example.com a@example.net b@example.org"] });
        assert.deepEqual(c.host.mail.aliases, [{ address: "info@example.com", targets: ["a@example.net", "b@example.org"] }]);
    });

    it("lets a user send as the aliases that reach them, and nobody as the catch-all", () => {
        const mail = resolveConfig({ ...base, aliases }).host.mail;
        assert.deepEqual(deliveredTo("list@example.com", mail), ["alice@example.com", "bob@example.com"]);
        assert.deepEqual(senderLogins(mail), [
            { address: "alice@example.com", logins: ["alice@example.com"] },
            { address: "bob@example.com", logins: ["bob@example.com"] },
            { address: "sales@example.com", logins: ["alice@example.com", "bob@example.com"] },
            { address: "list@example.com", logins: ["alice@example.com", "bob@example.com"] },
        ]);
    });

    const refusals: Array<[string, unknown, string]> = [
        ["no target", ["sales@example.com"], 'aliases: "sales@example.com": give the address, then its targets, one space apart'],
        [
            "a mailbox as alias",
            ["bob@example.com alice@example.com"],
            "aliases: bob@example.com is a mailbox and an alias; an address is one or the other",
        ],
        [
            "a target nobody receives",
            ["sales@example.com carol@example.com"],
            "aliases: sales@example.com → carol@example.com: no mailbox or alias has that address",
        ],
        [
            "a target at the host name",
            ["sales@example.com root@mail.example.com"],
            "aliases: sales@example.com → root@mail.example.com: the host name mail.example.com receives no mail; use an address of example.com or outside",
        ],
        ["itself", ["a@example.com a@example.com"], "aliases: a@example.com → a@example.com: an alias cannot target itself"],
        [
            "a loop",
            ["a@example.com b@example.com", "b@example.com c@example.com", "c@example.com a@example.com"],
            "aliases: aliases loop: a@example.com → b@example.com → c@example.com → a@example.com",
        ],
        [
            "an outside-only catch-all",
            ["@example.com friend@example.net"],
            "aliases: the catch-all @example.com must deliver to at least one mailbox: forwarding every unknown address outside would forward spam under this server's name",
        ],
        [
            "a target given twice",
            ["s@example.com alice@example.com alice@example.com"],
            'aliases: "s@example.com alice@example.com alice@example.com": alice@example.com is given twice',
        ],
        ["an alias twice", ["s@example.com alice@example.com", "s@example.com bob@example.com"], 'aliases: "s@example.com" is given twice'],
        [
            "another domain's catch-all",
            ["@example.org alice@example.com"],
            'aliases: "@example.org" is not an e-mail address (local@domain)',
        ],
    ];
    for (const [what, value, message] of refusals) {
        it(`refuses ${what}`, () => assert.equal(errorOf({ aliases: value }), message));
    }
});

describe("application logins", () => {
    it("are addresses of the domain that may send as themselves only", () => {
        const c = resolveConfig({ ...base, submissionApps: ["billing@example.com"] });
        assert.deepEqual(c.host.mail.apps, ["billing@example.com"]);
        assert.deepEqual(senderLogins(c.host.mail).pop(), { address: "billing@example.com", logins: ["billing@example.com"] });
    });

    const refusals: Array<[string, Partial<MailServerArgs>, string]> = [
        [
            "outside the domain",
            { submissionApps: ["billing@example.org"] },
            'submissionApps: "billing@example.org" is not in the mail domain example.com',
        ],
        [
            "a mailbox",
            { submissionApps: ["bob@example.com"] },
            "submissionApps: bob@example.com is an application login and a mailbox or alias; an address is one of them",
        ],
        [
            "an alias target",
            { submissionApps: ["billing@example.com"], aliases: ["s@example.com billing@example.com"] },
            "aliases: s@example.com → billing@example.com: an application login receives no mail",
        ],
        [
            "without a mailbox",
            { mailboxes: [], submissionApps: ["billing@example.com"] },
            "submissionApps: application logins need at least one mailbox for now: Dovecot, which checks their passwords, runs for the mailboxes",
        ],
    ];
    for (const [what, args, message] of refusals) {
        it(`refuses ${what}`, () => assert.equal(errorOf(args), message));
    }
});

describe("chosen passwords", () => {
    it("takes them by address", () => {
        const c = resolveConfig({ ...base, mailboxPasswords: ["bob@example.com correct horse battery"] });
        assert.deepEqual(c.mailboxPasswords, { "bob@example.com": "correct horse battery" });
    });

    const secret = "hunter2-hunter2";
    const refusals: Array<[string, unknown, string]> = [
        [
            "one for no mailbox",
            [`carol@example.com ${secret}`],
            'mailboxPasswords: an entry does not start with a mailbox of mailboxes and a space ("alice@example.com <password>")',
        ],
        [
            "a short one",
            ["bob@example.com short"],
            "mailboxPasswords: the password of bob@example.com is shorter than 12 characters or holds a control character",
        ],
        ["one twice", [`bob@example.com ${secret}`, `bob@example.com ${secret}x`], "mailboxPasswords: bob@example.com is given twice"],
        ["the same line twice", [`bob@example.com ${secret}`, `bob@example.com ${secret}`], "mailboxPasswords: an entry is given twice"],
        [
            "a line without a space",
            [secret],
            'mailboxPasswords: an entry does not start with a mailbox of mailboxes and a space ("alice@example.com <password>")',
        ],
    ];
    for (const [what, value, message] of refusals) {
        it(`refuses ${what}, never quoting the password`, () => {
            const text = errorOf({ mailboxPasswords: value });
            assert.equal(text, message);
            assert.equal(text.includes(secret), false);
        });
    }
});
