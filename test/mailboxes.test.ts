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

describe("several mail domains (extraDomains)", () => {
    const two = { extraDomains: ["example.io"] };
    it("parses each domain with its zone and selectors, defaults applied", () => {
        const c = resolveConfig({
            ...base,
            extraDomains: [
                "example.io",
                "lists.example.co.uk selector=s2026 previousSelectors=s2025,s2024",
                "example.info zoneId=0123456789abcdef0123456789abcdef",
                "shop.example.org zone=shop.example.org",
            ],
        });
        assert.deepEqual(c.extraDomains, [
            { name: "example.io", zone: { name: "example.io" }, dkimSelector: "mailserver", dkimPreviousSelectors: [] },
            {
                name: "lists.example.co.uk",
                zone: { name: "example.co.uk" },
                dkimSelector: "s2026",
                dkimPreviousSelectors: ["s2025", "s2024"],
            },
            {
                name: "example.info",
                zone: { id: "0123456789abcdef0123456789abcdef" },
                dkimSelector: "mailserver",
                dkimPreviousSelectors: [],
            },
            { name: "shop.example.org", zone: { name: "shop.example.org" }, dkimSelector: "mailserver", dkimPreviousSelectors: [] },
        ]);
        assert.deepEqual(c.host.extraDomains, [
            { domain: "example.io", selector: "mailserver" },
            { domain: "lists.example.co.uk", selector: "s2026" },
            { domain: "example.info", selector: "mailserver" },
            { domain: "shop.example.org", selector: "mailserver" },
        ]);
    });
    it("takes users, aliases, catch-alls and application logins of every domain", () => {
        const c = resolveConfig({
            ...base,
            ...two,
            mailboxes: ["alice@example.com", "dave@example.io quota=1G"],
            aliases: [
                "sales@example.io dave@example.io alice@example.com",
                "@example.io dave@example.io",
                "@example.com alice@example.com",
            ],
            submissionApps: ["shop@example.io"],
        });
        assert.deepEqual(
            c.host.mail.mailboxes.map((m) => m.address),
            ["alice@example.com", "dave@example.io"],
        );
        assert.deepEqual(
            senderLogins(c.host.mail).map((e) => `${e.address}: ${e.logins.join(",")}`),
            [
                "alice@example.com: alice@example.com",
                "dave@example.io: dave@example.io",
                "sales@example.io: dave@example.io,alice@example.com",
                "shop@example.io: shop@example.io",
            ],
        );
    });
    const refusals: Array<[string, Partial<Record<keyof MailServerArgs, unknown>>, string]> = [
        [
            "a mailbox of a domain not served",
            { mailboxes: ["dave@example.io"] },
            'mailboxes: "dave@example.io" is not in the mail domain example.com',
        ],
        [
            "a mailbox of neither domain",
            { ...two, mailboxes: ["dave@example.biz"] },
            'mailboxes: "dave@example.biz" is not in a mail domain: example.com, example.io',
        ],
        [
            "the primary again",
            { extraDomains: ["example.com"] },
            'extraDomains: "example.com" is the primary domain (domain); list only the others',
        ],
        [
            "the host name",
            { extraDomains: ["mail.example.com"] },
            'extraDomains: "mail.example.com" is the host name mail.example.com or under it, which receives no mail',
        ],
        ["a domain twice", { extraDomains: ["example.io", "example.io selector=x"] }, 'extraDomains: "example.io" is given twice'],
        [
            "a public suffix",
            { extraDomains: ["co.uk"] },
            'extraDomains: "co.uk" is a public suffix (like com or co.uk), not a domain one can register',
        ],
        ["upper case", { extraDomains: ["Example.io"] }, 'extraDomains: "Example.io" must be lower case'],
        [
            "an unknown option",
            { extraDomains: ["example.io dkim=x"] },
            'extraDomains: "example.io dkim=x": after the domain only zone=<name> or zoneId=<id>, selector=<label> and previousSelectors=<label>,… may follow, each once',
        ],
        [
            "a line break smuggling a second entry",
            { extraDomains: ["example.io\nexample.biz"] },
            'extraDomains: "example.io\\nexample.biz" label "io\\nexample" may contain only letters, digits and hyphens, not a hyphen at its start or end',
        ],
        [
            "zone and zoneId",
            { extraDomains: ["example.io zone=example.io zoneId=0123456789abcdef0123456789abcdef"] },
            'extraDomains: "example.io zone=example.io zoneId=0123456789abcdef0123456789abcdef": give zone= or zoneId=, not both',
        ],
        [
            "a bad zone id",
            { extraDomains: ["example.io zoneId=xyz"] },
            'extraDomains: "example.io zoneId=xyz": "xyz" is not a Cloudflare zone id (32 hexadecimal characters)',
        ],
        [
            "a zone that does not hold it",
            { extraDomains: ["example.io zone=example.org"] },
            'extraDomains: "example.io zone=example.org": the zone "example.org" does not contain the domain "example.io"',
        ],
        [
            "a bad selector",
            { extraDomains: ["example.io selector=S_1"] },
            'extraDomains: "example.io selector=S_1": selector "S_1" is not a lower-case DNS label: label "S_1" may contain only letters, digits and hyphens, not a hyphen at its start or end',
        ],
        [
            "the signing selector as a previous one",
            { extraDomains: ["example.io selector=a previousSelectors=b,a"] },
            'extraDomains: "example.io selector=a previousSelectors=b,a": "a" is the signing selector; list only earlier ones in previousSelectors',
        ],
        [
            "the operator inside a second domain",
            { ...two, operatorEmail: "ops@example.io" },
            "operatorEmail: \"ops@example.io\" is in example.io, a mail domain of this server: the operator's address must be hosted elsewhere, so that the server's reports and the ACME account's mail reach someone while the server is down",
        ],
        [
            "an SPF include of a second domain",
            { ...two, spfIncludes: ["example.io"] },
            'spfIncludes: "example.io" is a mail domain of this server: including it is a loop (SPF permerror)',
        ],
        [
            "a catch-all of a second domain that only forwards outside",
            { ...two, aliases: ["@example.io friend@example.net"] },
            "aliases: the catch-all @example.io must deliver to at least one mailbox: forwarding every unknown address outside would forward spam under this server's name",
        ],
        [
            "an alias to an unknown address of a second domain",
            { ...two, aliases: ["sales@example.com nobody@example.io"] },
            "aliases: sales@example.com → nobody@example.io: no mailbox or alias has that address",
        ],
    ];
    for (const [what, args, message] of refusals) {
        it(`refuses ${what}, naming the argument`, () => assert.equal(errorOf(args), message));
    }
    it("forwards a second domain's role addresses like the primary's (an alias may target them)", () => {
        const c = resolveConfig({ ...base, ...two, aliases: ["sales@example.com postmaster@example.io"] });
        assert.deepEqual(c.host.mail.aliases, [{ address: "sales@example.com", targets: ["postmaster@example.io"] }]);
    });
});
