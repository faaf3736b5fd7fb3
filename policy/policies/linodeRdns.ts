import { LINODE_RDNS, type MailHost, machineAddresses, mailHosts } from "../mailHosts";
import type { MailPolicy } from "../mailPolicy";
import { dependsOn, isKnown, label, type StackResource, stringProp, type Violation } from "../stackResource";

type Family = "IPv4" | "IPv6";

/** Which address family an Rdns is for: from its address when known, else from the A/AAAA record it was made after. */
function rdnsFamily(rdns: StackResource, host: MailHost): Family | undefined {
    const address = stringProp(rdns.props.address);
    if (isKnown(address)) return address.includes(":") ? "IPv6" : "IPv4";
    const after = rdns.dependencies ?? [];
    const record = host.addressRecords.find((r) => after.includes(r.resource.urn));
    if (record?.type === "A") return "IPv4";
    if (record?.type === "AAAA") return "IPv6";
    return undefined;
}

/** True when the Rdns is for one of the host's addresses (equal, or computed from the instance). */
function isForHost(rdns: StackResource, host: MailHost): boolean {
    if (dependsOn(rdns, "address", host.machine.urn)) return true;
    const address = stringProp(rdns.props.address);
    return isKnown(address) && machineAddresses(host.machine).includes(address.replace(/\/\d+$/, "").toLowerCase());
}

/**
 * A Linode instance that is a mail host has `linode.Rdns` for its IPv4 address, and for its IPv6
 * address when an AAAA record points at it (Linode serves the PTR only from Rdns).
 */
export const linodeRdnsPolicy: MailPolicy = {
    name: "mailserver-linode-rdns",
    description:
        "A Linode instance used as a mail host has linode.Rdns for its IPv4 address and, when it has an AAAA record, its IPv6 address.",
    check: (resources) => {
        const violations: Violation[] = [];
        for (const host of mailHosts(resources)) {
            if (host.kind !== "linode") continue;
            const needed: Family[] = ["IPv4", ...(host.addressRecords.some((r) => r.type === "AAAA") ? (["IPv6"] as Family[]) : [])];
            const rdns = resources.filter((r) => r.type === LINODE_RDNS && isForHost(r, host));
            const families = rdns.map((r) => rdnsFamily(r, host));
            let unattributed = families.filter((f) => f === undefined).length;
            const missing = needed.filter((family) => {
                if (families.includes(family)) return false;
                if (unattributed > 0) {
                    unattributed -= 1; // an Rdns whose address is not known yet counts for a missing family
                    return false;
                }
                return true;
            });
            if (missing.length === 0) continue;
            const name = host.addressRecords.map((r) => r.name).find(isKnown) ?? "<the host's FQDN>";
            violations.push({
                urn: host.machine.urn,
                message: `mail host Linode instance ${label(host.machine)} has no linode.Rdns for its ${missing.join(" and ")} address: add new linode.Rdns({ address, rdns: "${name}", waitForAvailable: true }) for ${missing.length === 1 ? "it" : "each"}, after its A/AAAA records (receivers such as Gmail refuse mail from an address without a matching PTR).`,
            });
        }
        return violations;
    },
};
