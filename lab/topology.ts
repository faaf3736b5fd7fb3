/**
 * The lab's network: the one source of its namespaces, names and addresses (documentation ranges
 * only; nothing routes off the machine). lab/network.ts builds it; everything else reads it here.
 *
 *   mlab-hub     bridge br0 (no addresses); the server boots here (systemd-nspawn --network-bridge)
 *   mlab-dns     NSD: the lab's only resolver, and a second one serving the zones without PTRs
 *   mlab-mx      the receiving MX for example.net (lab/receiver.ts), and the smarthost (lab/relay.ts)
 *   mlab-client  an outside client (example.org), and the machine that runs `pulumi up`
 *   mlab-app     an application server that a change puts in relayNetworks (it sends without logging in)
 *   mlab-bot     a spam bot: talks before the greeting, pipelines unasked (postscreen's negative controls)
 *   mlab-acme    Pebble, the ACME server
 */
import { documentationAddresses } from "../plan/mocks";

export interface Node {
    readonly netns: string;
    /** Fully qualified, without the trailing dot. */
    readonly name: string;
    readonly v4: string;
    readonly v6: string;
}

/** The server: the plan gives its one host the first documentation addresses. */
const server = documentationAddresses(0);

export const LAB = {
    prefix: "mlab",
    hub: { netns: "mlab-hub", bridge: "br0" },
    /** The mail host, inside the container; cloud-init configures these addresses. Its name is the plan's (Plan.hostname): a change may rename it. */
    server: { domain: "example.com", v4: server.ipv4, v6: server.ipv6 },
    dns: { netns: "mlab-dns", name: "ns.lab.test", v4: "192.0.2.53", v6: "2001:db8::53" },
    /** A second NSD in the same namespace, serving the zones without the server's PTR records. */
    dnsNoPtr: { netns: "mlab-dns", name: "ns2.lab.test", v4: "192.0.2.54", v6: "2001:db8::54" },
    mx: { netns: "mlab-mx", name: "mx.example.net", v4: "192.0.2.20", v6: "2001:db8::20" },
    /**
     * The smarthost a change may send through (lab/relay.ts): a provider's relay on its submission
     * port, with one login (a throwaway of the lab), and its own addresses in `_spf.example.net`.
     */
    relay: {
        netns: "mlab-mx",
        name: "relay.example.net",
        v4: "192.0.2.21",
        v6: "2001:db8::21",
        port: 587,
        login: { user: "lab-relay", password: "lab-relay-throwaway-password" },
        spfInclude: "_spf.example.net",
    },
    client: { netns: "mlab-client", name: "client.example.org", v4: "192.0.2.30", v6: "2001:db8::30" },
    /** An application server elsewhere, sending as the mail domain through port 25 once its /32 is in relayNetworks. */
    app: { netns: "mlab-app", name: "app.example.org", v4: "192.0.2.31", v6: "2001:db8::31" },
    /** A spam bot on a botnet address: no DNS names; only the filter checks use it. */
    bot: { netns: "mlab-bot", name: "bot.example", v4: "192.0.2.32", v6: "2001:db8::32" },
    acme: { netns: "mlab-acme", name: "acme.lab.test", v4: "192.0.2.40", v6: "2001:db8::40" },
    /** The operator's mailbox, at the receiving MX. */
    operator: "ops@example.net",
    /** Prefix lengths of the lab's one segment. */
    prefix4: 24,
    prefix6: 64,
} as const;

/** Every namespace the lab makes, with the addresses on its link (the server's are in the container). */
export function namespaces(): Array<{ netns: string; addresses: string[] }> {
    const byNamespace = new Map<string, string[]>();
    for (const node of [LAB.dns, LAB.dnsNoPtr, LAB.mx, LAB.relay, LAB.client, LAB.app, LAB.bot, LAB.acme] as readonly Node[]) {
        const list = byNamespace.get(node.netns) ?? [];
        list.push(`${node.v4}/${LAB.prefix4}`, `${node.v6}/${LAB.prefix6}`);
        byNamespace.set(node.netns, list);
    }
    return [...byNamespace].map(([netns, addresses]) => ({ netns, addresses }));
}
