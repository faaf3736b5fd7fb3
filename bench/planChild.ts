/**
 * One benchmark run in a fresh process: plan N MailServers in one program under the offline
 * plan's mocks (N = 0 is a bare Pulumi program with no resources). Prints one JSON line.
 */

import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { HostProvider, MailServer } from "../components";
import { PlanMocks } from "../plan/mocks";

async function main(): Promise<void> {
    const { positionals } = parseArgs({ allowPositionals: true, options: {} });
    const servers = Number(positionals[0]);
    if (!Number.isInteger(servers) || servers < 0) throw new Error("usage: planChild.js <number of MailServers>");
    const started = performance.now();
    const mocks = new PlanMocks({ reuseKey: true });
    mocks.install("mailserver", "bench", true);
    await pulumi.runtime.runInPulumiStack(async () => {
        for (let i = 0; i < servers; i++) {
            new MailServer(`mail${i}`, {
                domain: `example${i}.com`,
                operatorEmail: "ops@example.net",
                provider: i % 2 === 0 ? HostProvider.DigitalOcean : HostProvider.Linode,
                region: i % 2 === 0 ? "fra1" : "eu-central",
            });
        }
        return {};
    });
    await pulumi.runtime.disconnect();
    const ms = performance.now() - started;
    process.stdout.write(
        `${JSON.stringify({ servers, resources: mocks.resources.length, ms, maxRssKb: process.resourceUsage().maxRSS })}\n`,
    );
}

void main();
