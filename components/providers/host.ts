import type * as pulumi from "@pulumi/pulumi";
import type { MailServerConfig } from "../config";
import type { FirewallRule } from "../ports";

/** What every host adapter is given. */
export interface HostInput {
    /** Prefix for child names (`<component>-…`). */
    readonly name: string;
    readonly config: MailServerConfig;
    /** The bootstrap cloud-config (secret: it holds the host's SSH host key). */
    readonly userData: pulumi.Output<string>;
    readonly firewall: readonly FirewallRule[];
    readonly parent: pulumi.Resource;
    /** Resources the machine waits for (the change guard). */
    readonly dependsOn: readonly pulumi.Resource[];
}

/** The resources after which Linode's rDNS may be set. */
export interface ForwardRecords {
    readonly A: pulumi.Resource;
    /** Absent when IPv6 is off. */
    readonly AAAA: pulumi.Resource | undefined;
    /** The configuration step's prepare stage: the host has stopped using what it gives up. */
    readonly apply: pulumi.Resource;
}

/** A provider's block of outbound SMTP on new accounts. */
export interface OutboundSmtp {
    readonly blockedPorts: readonly number[];
    /** The operator step that lifts it. */
    readonly unblock: string;
}

/** What every host adapter returns: the same shape for DigitalOcean and Linode. */
export interface Host {
    readonly ipv4: pulumi.Output<string>;
    /** Without prefix length; undefined when IPv6 is off. */
    readonly ipv6: pulumi.Output<string | undefined>;
    /** The machine resource (replacing it loses the queue and the IP's reputation). */
    readonly machine: pulumi.CustomResource;
    /** The cloud firewall: port 22 must be open before the configuration step connects. */
    readonly firewall: pulumi.CustomResource;
    /** Who serves the PTR records, for the plan and the outputs. */
    readonly ptrServedBy: string;
    /**
     * Called once the forward records and the prepare stage exist: Linode creates its rDNS entries
     * here, since Linode only accepts a PTR name that already resolves to the address. Returns the
     * resources that publish PTR records, which the commit stage waits for.
     */
    readonly afterForwardRecords: (records: ForwardRecords) => pulumi.Resource[];
    /** What the operator must do by hand for this provider. */
    readonly operatorSteps: readonly string[];
    /** The outbound SMTP ports the provider blocks on new accounts, and how to have them unblocked. */
    readonly outboundSmtp: OutboundSmtp;
}

/** `2001:db8::10/128` → `2001:db8::10` (Linode reports the prefix length). */
export function stripPrefixLength(address: string): string {
    return address.replace(/\/\d+$/, "");
}
