import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { before, describe, it, mock } from "node:test";
import { HostProvider, MailServer, type MailServerArgs } from "../components";
import { PlanMocks } from "../plan/mocks";
import { valueOf } from "./support/outputs";

// A later run: the provider holds the user data the host was created with, which differs.
const held = "#cloud-config\nhostname: mail\n";
const mocks = new PlanMocks({ heldUserData: held });
mocks.install("mailserver", "test", false);

const base: MailServerArgs = { domain: "example.com", operatorEmail: "ops@example.net", provider: HostProvider.DigitalOcean, region: "fra1" };
const warnings: string[] = [];
const servers: Record<string, MailServer> = {};

before(async () => {
    mock.method(console, "warn", (message: string) => warnings.push(message));
    await pulumi.runtime.runInPulumiStack(async () => {
        servers.do = new MailServer("do", base);
        servers.ln = new MailServer("ln", { ...base, provider: HostProvider.Linode, region: "eu-central" });
        return {};
    });
    for (const server of Object.values(servers)) await valueOf(server.userDataApplied);
    await pulumi.runtime.disconnect();
});

describe("a user-data change on a running host", () => {
    it("is reported as not applied, per provider", async () => {
        assert.equal(await valueOf(servers.do.userDataApplied), false);
        assert.equal(await valueOf(servers.ln.userDataApplied), false);
    });

    it("warns once per host, saying what was not applied and how to apply it, without the user data", () => {
        const ours = warnings.filter((w) => w.includes("The user data of"));
        assert.equal(ours.length, 2);
        const urns = [
            "urn:pulumi:test::mailserver::mailserver:index:MailServer$digitalocean:index/droplet:Droplet::do-droplet",
            "urn:pulumi:test::mailserver::mailserver:index:MailServer$linode:index/instance:Instance::ln-instance",
        ];
        for (const urn of urns) {
            assert.ok(
                ours.includes(
                    "warning: [runtime] The user data of mail.example.com changed, but the running host keeps the one it was created with: " +
                        "replacing a mail server loses its queue and its IP address's sending reputation, so the change was not applied. " +
                        "To apply it, re-create the host deliberately (a new IP means new PTR and A/AAAA records, applied in the same run): " +
                        `pulumi up --replace '${urn}'`,
                ),
                `warning for ${urn}`,
            );
        }
        for (const w of ours) assert.doesNotMatch(w, /PRIVATE KEY|#cloud-config/);
    });
});
