/**
 * The change guard: its rule as a table, and its provider as the engine runs it — serialized with
 * @pulumi/pulumi's own closure serializer (what a dynamic resource stores as `__provider`, see
 * sdk/nodejs/dynamic/index.ts `serializeProvider`), loaded back as the CLI's dynamic-provider
 * host loads it, and asked to diff.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { changeProblems, type GuardState, guardProvider } from "../components/changeGuard";

const base: GuardState = {
    provider: "digitalocean",
    region: "fra1",
    image: "debian-13-x64",
    size: "s-1vcpu-512mb-10gb",
    ipv6: true,
    fqdn: "mail.example.com",
    hostGeneration: 1,
    dkimSelector: "mailserver",
    dkimPreviousSelectors: [],
};
const raise = "To do it deliberately, raise hostGeneration in the same run: pulumi config set mailserver:hostGeneration 2";
const newHost = "needs a new host: a new IP address, new PTR records, no IP reputation, and the mail queued on the old host is lost. ";

describe("change guard: what it refuses", () => {
    const cases: Array<[string, Partial<GuardState>, string[]]> = [
        ["nothing changed", {}, []],
        ["region", { region: "ams3" }, [`region: changing it from "fra1" to "ams3" ${newHost}${raise}`]],
        ["image", { image: "debian-14-x64" }, [`image: changing it from "debian-13-x64" to "debian-14-x64" ${newHost}${raise}`]],
        ["provider", { provider: "linode" }, [`provider: changing it from "digitalocean" to "linode" ${newHost}${raise}`]],
        [
            "size",
            { size: "s-1vcpu-1gb" },
            [
                `size: changing it from "s-1vcpu-512mb-10gb" to "s-1vcpu-1gb" powers the host off while the provider moves it to another machine. ${raise}`,
            ],
        ],
        [
            "IPv6 off on DigitalOcean",
            { ipv6: false },
            [
                `ipv6: turning it off on DigitalOcean replaces the droplet (IPv6 cannot be removed from a running droplet): it ${newHost}${raise}`,
            ],
        ],
        ["region with hostGeneration raised", { region: "ams3", hostGeneration: 2 }, []],
        ["size and IPv6 off with hostGeneration raised", { size: "s-1vcpu-1gb", ipv6: false, hostGeneration: 3 }, []],
        ["hostGeneration lowered", { hostGeneration: 0 }, ["hostGeneration: it went down from 1 to 0; it may only be raised"]],
        [
            "a new selector without keeping the old one",
            { dkimSelector: "s2026" },
            [
                'dkimSelector: changing it from "mailserver" to "s2026" would delete mailserver._domainkey while receivers still verify mail signed with it. ' +
                    "Keep it published for a week or more: pulumi config set --path 'dkimPreviousSelectors[0]' mailserver",
            ],
        ],
        ["a rename alone", { fqdn: "smtp.example.com" }, []],
        ["a rename with IPv6 going on", { ipv6: true, fqdn: "smtp.example.com" }, []],
        ["a rename on a new host, IPv6 off", { ipv6: false, fqdn: "smtp.example.com", hostGeneration: 2 }, []],
        ["a new selector keeping the old one", { dkimSelector: "s2026", dkimPreviousSelectors: ["mailserver"] }, []],
        ["back to a previous selector", { dkimSelector: "mailserver" }, []],
    ];
    for (const [title, change, problems] of cases) {
        it(title, () => assert.deepEqual(changeProblems(base, { ...base, ...change }), problems));
    }
    describe("a further domain's key rotation (extraDomains)", () => {
        const io = (dkimSelector: string, dkimPreviousSelectors: string[] = []) => ({
            ...base,
            extraDomains: [{ name: "example.io", dkimSelector, dkimPreviousSelectors }],
        });
        it("refuses a new selector that drops the old one, naming the entry's option", () =>
            assert.deepEqual(changeProblems(io("mailserver"), io("s2026")), [
                'extraDomains: changing example.io\'s selector from "mailserver" to "s2026" would delete mailserver._domainkey.example.io ' +
                    "while receivers still verify mail signed with it. Keep it published for a week or more: add previousSelectors=mailserver to its entry",
            ]));
        it("accepts a new selector that keeps the old one published", () =>
            assert.deepEqual(changeProblems(io("mailserver"), io("s2026", ["mailserver"])), []));
        it("accepts adding and removing a domain (its records go with it), and a guard from before there were any", () => {
            assert.deepEqual(changeProblems(base, io("mailserver")), []);
            assert.deepEqual(changeProblems(io("mailserver"), base), []);
        });
        it("leaves the primary's rule alone: the same selector names in two domains are two keys", () =>
            assert.deepEqual(
                changeProblems(io("s2026"), { ...io("s2026"), dkimSelector: "s2026", dkimPreviousSelectors: ["mailserver"] }),
                [],
            ));
    });
    it("IPv6 off on Linode is in place (every Linode keeps its SLAAC address; only records and Postfix change)", () => {
        const linode = { ...base, provider: "linode", region: "eu-central", image: "linode/debian13", size: "g6-nanode-1" };
        assert.deepEqual(changeProblems(linode, { ...linode, ipv6: false }), []);
    });
    it("IPv6 off on Linode in the same run as a rename is refused (the rename waits for the commit stage; IPv6 could not stop first)", () => {
        const linode = { ...base, provider: "linode", region: "eu-central", image: "linode/debian13", size: "g6-nanode-1" };
        assert.deepEqual(changeProblems(linode, { ...linode, ipv6: false, fqdn: "smtp.example.com" }), [
            "ipv6: turning it off while the host name changes from mail.example.com to smtp.example.com would have the host send over IPv6 " +
                "after the SPF record dropped its IPv6 address. Change them in two runs: first ipv6, then hostLabel or domain.",
        ]);
        assert.deepEqual(changeProblems(linode, { ...linode, fqdn: "smtp.example.com" }), []);
        assert.deepEqual(changeProblems({ ...linode, fqdn: undefined }, { ...linode, ipv6: false, fqdn: "smtp.example.com" }), []);
    });
    it("a new domain is refused while there are mailboxes (their mail is kept under the old one), and not otherwise", () => {
        const withMail = { ...base, mailboxDomain: "example.com" };
        assert.deepEqual(
            changeProblems(withMail, { ...withMail, fqdn: "mail.example.org", mailboxDomain: "example.org", hostGeneration: 2 }),
            [
                "domain: the mailboxes' mail is kept under example.com; changing the domain to example.org would leave it behind, unreachable. " +
                    "Remove the mailboxes in one run (their mail stays on the host), then change the domain.",
            ],
        );
        assert.deepEqual(changeProblems(withMail, { ...base, fqdn: "mail.example.org" }), [], "the mailboxes removed first");
        assert.deepEqual(changeProblems(withMail, { ...withMail, fqdn: "smtp.example.com" }), [], "a new host label keeps the domain");
        assert.deepEqual(changeProblems(base, { ...withMail }), [], "the first mailboxes");
    });
    it("IPv6 on is in place on DigitalOcean (the droplet gets an address)", () => {
        assert.deepEqual(changeProblems({ ...base, ipv6: false }, base), []);
    });
});

describe("change guard: the provider as the engine runs it", () => {
    it("survives Pulumi's closure serialization and refuses in diff, which runs at preview", async () => {
        const serialized = await pulumi.runtime.serializeFunction(() => guardProvider, { allowSecrets: false });
        // The dynamic-provider host evaluates the text and calls the exported function (sdk/nodejs/cmd/dynamic-provider).
        const module = { exports: {} as Record<string, unknown> };
        new Function("module", "exports", "require", serialized.text)(module, module.exports, require);
        const provider = (module.exports[serialized.exportName] as () => pulumi.dynamic.ResourceProvider)();
        assert.ok(provider.diff);
        assert.deepEqual(await provider.diff("mailserver-change-guard", base, base), { changes: false });
        assert.deepEqual(await provider.diff("mailserver-change-guard", base, { ...base, hostGeneration: 2 }), { changes: true });
        await assert.rejects(provider.diff("mailserver-change-guard", base, { ...base, region: "ams3" }), {
            message: `region: changing it from "fra1" to "ams3" ${newHost}${raise}`,
        });
        assert.deepEqual(await provider.create?.(base), { id: "mailserver-change-guard", outs: base });
    });
});
