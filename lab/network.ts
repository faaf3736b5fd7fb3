/**
 * Builds and removes the lab's network from lab/topology.ts: one namespace per node, each joined
 * by a veth pair to a bridge in the hub namespace, documentation addresses, no route off the
 * machine. `/etc/netns/<ns>/resolv.conf` points every namespace at the lab's DNS.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { run } from "./sys";
import { LAB, namespaces } from "./topology";

const ip = (args: readonly string[]) => run("ip", args);

/** Removes the lab's namespaces (safe to repeat). */
export async function networkDown(): Promise<void> {
    for (const netns of [...namespaces().map((n) => n.netns), LAB.hub.netns]) {
        if (existsSync(`/run/netns/${netns}`)) await run("ip", ["netns", "del", netns], { allowFail: true });
        rmSync(`/etc/netns/${netns}`, { recursive: true, force: true });
    }
}

/** Builds the lab's network afresh. */
export async function networkUp(): Promise<void> {
    await networkDown();
    const hub = LAB.hub.netns;
    await ip(["netns", "add", hub]);
    await ip(["-n", hub, "link", "set", "lo", "up"]);
    await ip(["-n", hub, "link", "add", LAB.hub.bridge, "type", "bridge"]);
    await run("ip", ["netns", "exec", hub, "sysctl", "-qw", `net.ipv6.conf.${LAB.hub.bridge}.disable_ipv6=1`], { allowFail: true });
    await ip(["-n", hub, "link", "set", LAB.hub.bridge, "up"]);
    for (const [i, node] of namespaces().entries()) {
        const { netns } = node;
        await ip(["netns", "add", netns]);
        mkdirSync(`/etc/netns/${netns}`, { recursive: true });
        writeFileSync(`/etc/netns/${netns}/resolv.conf`, `nameserver ${LAB.dns.v4}\nsearch ${LAB.server.domain}\n`);
        await ip(["-n", netns, "link", "set", "lo", "up"]);
        const peer = `v${i}-${netns.slice(LAB.prefix.length + 1)}`.slice(0, 15);
        await ip(["-n", hub, "link", "add", peer, "type", "veth", "peer", "name", "eth0", "netns", netns]);
        await ip(["-n", hub, "link", "set", peer, "master", LAB.hub.bridge, "up"]);
        await run("ip", ["netns", "exec", netns, "sysctl", "-qw", "net.ipv6.conf.all.accept_ra=0", "net.ipv6.conf.default.accept_ra=0"]);
        for (const address of node.addresses) {
            await ip(["-n", netns, "addr", "add", address, "dev", "eth0", ...(address.includes(":") ? ["nodad"] : [])]);
        }
        await ip(["-n", netns, "link", "set", "eth0", "up"]);
    }
}
