/**
 * `--hold`: what someone needs to try the running lab server with their own tools, written to
 * out/lab/<stack>/endpoints.json (addresses, the CA, the resolver, the throwaway passwords).
 */
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Lab } from "./lab";
import { LAB } from "./topology";

export interface Endpoints {
    readonly clientNetns: string;
    readonly host: { readonly fqdn: string; readonly ipv4: string; readonly ipv6: string | undefined };
    readonly caFile: string;
    readonly resolver: string;
    readonly users: ReadonlyArray<{ readonly address: string; readonly password: string; readonly aliases: readonly string[] }>;
    /** Application logins: submission only, as their own address. */
    readonly apps: ReadonlyArray<{ readonly address: string; readonly password: string }>;
    readonly forwards: ReadonlyArray<{ readonly address: string; readonly to: readonly string[] }>;
    readonly outsideSender: string;
    readonly externalRecipient: string;
    readonly zoneFiles: readonly string[];
    readonly receivedDir: string;
}

/** The lab as it runs now. */
export function endpoints(lab: Lab): Endpoints {
    // The mail domains, as the plan's bundle signs for them.
    const hosted = new Set(lab.plan.domains.map((d) => `@${d}`));
    return {
        clientNetns: LAB.client.netns,
        host: { fqdn: lab.plan.hostname, ipv4: LAB.server.v4, ipv6: lab.plan.outputs.ipv6 ? LAB.server.v6 : undefined },
        caFile: lab.pebble.root,
        resolver: `${LAB.dns.v4}:53`,
        users: lab.plan.mailboxes.map((m) => ({
            address: m.address,
            password: m.password,
            aliases: lab.plan.aliases.filter((a) => a.targets.includes(m.address)).map((a) => a.address),
        })),
        apps: lab.plan.apps,
        forwards: lab.plan.aliases
            .map((a) => ({ address: a.address, to: a.targets.filter((t) => !hosted.has(t.slice(t.lastIndexOf("@")))) }))
            .filter((f) => f.to.length > 0),
        // example.org's SPF lists the client namespace's addresses (lab/zones.ts).
        outsideSender: "alice@example.org",
        externalRecipient: LAB.operator,
        zoneFiles: readdirSync(lab.dns.dir)
            .filter((f) => f.endsWith(".zone"))
            .sort()
            .map((f) => join(lab.dns.dir, f)),
        receivedDir: lab.mailDir,
    };
}

export function writeEndpoints(lab: Lab): string {
    const file = join(lab.out, "endpoints.json");
    writeFileSync(file, `${JSON.stringify(endpoints(lab), null, 2)}\n`, { mode: 0o600 });
    return file;
}
