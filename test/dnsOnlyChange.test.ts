import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { DmarcAlignment, DmarcPolicy, HostProvider, MailServer, type MailServerArgs, SpfAll } from "../components";
import { PlanMocks, type RecordedResource, revealSecrets } from "../plan/mocks";
import { valueOf } from "./support/outputs";

// One key for every server, so only the arguments can make two hosts differ.
const mocks = new PlanMocks({ reuseKey: true });
mocks.install("mailserver", "test", true);

const base: MailServerArgs = { domain: "example.com", operatorEmail: "ops@example.net", provider: HostProvider.DigitalOcean, region: "fra1" };
const dnsOnly: Partial<MailServerArgs> = {
    dmarcPolicy: DmarcPolicy.Reject,
    dmarcAlignment: DmarcAlignment.Strict,
    dmarcRua: ["reports@example.org"],
    spfIncludes: ["_spf.example.org"],
    spfIp4: ["198.51.100.0/24"],
    spfAll: SpfAll.SoftFail,
    dnsTtl: 300,
};
let resources: RecordedResource[] = [];

before(async () => {
    await pulumi.runtime.runInPulumiStack(async () => {
        mocks.recordOptions();
        const servers = [
            new MailServer("do1", base),
            new MailServer("do2", { ...base, ...dnsOnly }),
            new MailServer("ln1", { ...base, provider: HostProvider.Linode, region: "eu-central" }),
            new MailServer("ln2", { ...base, ...dnsOnly, provider: HostProvider.Linode, region: "eu-central" }),
            new MailServer("do3", { ...base, operatorEmail: "other@example.net" }),
        ];
        await Promise.all(servers.map((s) => valueOf(s.dnsRecords)));
        return {};
    });
    await pulumi.runtime.disconnect();
    resources = mocks.withOptions();
});

function hostInputs(parent: string, type: string): unknown {
    const found = resources.find((r) => r.parent === parent && r.type === type);
    assert.ok(found, `${parent} has a ${type}`);
    return revealSecrets(found.inputs);
}

describe("changing only DNS-level inputs", () => {
    it("leaves every droplet input byte-identical", () => {
        const type = "digitalocean:index/droplet:Droplet";
        assert.equal(JSON.stringify(hostInputs("do2", type)), JSON.stringify(hostInputs("do1", type)));
    });
    it("leaves every Linode instance input byte-identical", () => {
        const type = "linode:index/instance:Instance";
        assert.equal(JSON.stringify(hostInputs("ln2", type)), JSON.stringify(hostInputs("ln1", type)));
    });
    it("does change the DNS records", () => {
        const spf = (parent: string) => resources.find((r) => r.parent === parent && r.name === `${parent}-spf`)?.inputs.content;
        assert.notEqual(spf("do2"), spf("do1"));
    });
    it("while a host-level input does change the host (the comparison can fail)", () => {
        const type = "digitalocean:index/droplet:Droplet";
        assert.notEqual(JSON.stringify(hostInputs("do3", type)), JSON.stringify(hostInputs("do1", type)));
    });
});
