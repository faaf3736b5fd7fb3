import { MAILSERVER_TYPE } from "../components/mailServer";
import { TYPES } from "../components/resourceTypes";
import { type DnsRecordView, dnsRecords, mxTarget, normalizeName } from "./dnsRecords";
import { ancestors, dependsOn, isKnown, type StackResource, stringProp } from "./stackResource";

/** DigitalOcean's droplet: `name` (its PTR name), outputs `ipv4Address`, `ipv6Address`. */
export const DIGITALOCEAN_DROPLET = TYPES.droplet;
/** Linode's instance: `label`, outputs `ipAddress`, `ipv4s`, `ipv6` (with `/128`). */
export const LINODE_INSTANCE = TYPES.instance;
/** Linode's reverse DNS for one address. */
export const LINODE_RDNS = TYPES.rdns;

/** A droplet or Linode instance that sends and receives the stack's mail. */
export interface MailHost {
    readonly machine: StackResource;
    readonly kind: "droplet" | "linode";
    /** Its A and AAAA records (content equal to one of its addresses, or computed from it). */
    readonly addressRecords: readonly DnsRecordView[];
}

/** The addresses of a droplet or instance that are known, without prefix length. */
export function machineAddresses(machine: StackResource): string[] {
    const p = machine.props;
    const values: unknown[] =
        machine.type === DIGITALOCEAN_DROPLET
            ? [p.ipv4Address, p.ipv6Address]
            : [p.ipAddress, ...(Array.isArray(p.ipv4s) ? p.ipv4s : []), p.ipv6];
    const addresses = values
        .map(stringProp)
        .filter(isKnown)
        .map((a) => a.replace(/\/\d+$/, "").toLowerCase());
    return [...new Set(addresses.filter((a) => a !== ""))];
}

/** True when `record` is an A/AAAA record whose value is one of `machine`'s addresses or is computed from `machine`. */
export function pointsAt(record: DnsRecordView, machine: StackResource): boolean {
    if (record.type !== "A" && record.type !== "AAAA") return false;
    if (dependsOn(record.resource, record.contentProperty, machine.urn)) return true;
    return isKnown(record.content) && machineAddresses(machine).includes(record.content.toLowerCase());
}

/** The host names mail for the stack's domains is delivered to (targets of its MX records). */
export function mxTargets(records: readonly DnsRecordView[]): Set<string> {
    return new Set(records.map(mxTarget).filter((t): t is string => t !== undefined));
}

/**
 * The mail hosts of the stack: every droplet or Linode instance that is a descendant of a
 * `MailServer` component, or that an A/AAAA record named as an MX target points at.
 */
export function mailHosts(resources: readonly StackResource[]): MailHost[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const records = dnsRecords(resources);
    const targets = mxTargets(records);
    const hosts: MailHost[] = [];
    for (const machine of resources) {
        const kind = machine.type === DIGITALOCEAN_DROPLET ? "droplet" : machine.type === LINODE_INSTANCE ? "linode" : undefined;
        if (!kind) continue;
        const addressRecords = records.filter((r) => pointsAt(r, machine));
        const inComponent = ancestors(machine, byUrn).some((a) => a.type === MAILSERVER_TYPE);
        const isMxTarget = addressRecords.some((r) => isKnown(r.name) && targets.has(r.name));
        if (inComponent || isMxTarget) hosts.push({ machine, kind, addressRecords });
    }
    return hosts;
}

/** The FQDN a mail host's own configuration gives it: a droplet's `name`, a Linode's `label` (when it has a dot). */
export function machineFqdn(host: MailHost): string | undefined {
    const value = stringProp(host.kind === "droplet" ? host.machine.props.name : host.machine.props.label);
    return isKnown(value) && value.includes(".") ? normalizeName(value) : undefined;
}

/**
 * Names of mail hosts: every MX target, every name of an A/AAAA record of a mail host, and the
 * FQDN each mail host is named with.
 */
export function mailHostNames(resources: readonly StackResource[]): Set<string> {
    const names = mxTargets(dnsRecords(resources));
    for (const host of mailHosts(resources)) {
        for (const record of host.addressRecords) if (isKnown(record.name)) names.add(record.name);
        const fqdn = machineFqdn(host);
        if (fqdn) names.add(fqdn);
    }
    return names;
}
