import type * as pulumi from "@pulumi/pulumi";
import type { MailServerConfig } from "../config";
import type { FirewallRule } from "../ports";

/** What every host adapter is given. */
export interface HostInput {
    /** Prefix for child names (`<component>-…`). */
    readonly name: string;
    readonly config: MailServerConfig;
    /** cloud-config text; secret (it holds the DKIM private key). */
    readonly userData: pulumi.Output<string>;
    readonly firewall: readonly FirewallRule[];
    readonly parent: pulumi.Resource;
}

/** The host's address records, once created (AAAA absent when IPv6 is off). */
export interface ForwardRecords {
    readonly A: pulumi.Resource | undefined;
    readonly AAAA: pulumi.Resource | undefined;
}

/** What every host adapter returns: the same shape for DigitalOcean and Linode. */
export interface Host {
    readonly ipv4: pulumi.Output<string>;
    /** Without prefix length; undefined when IPv6 is off. */
    readonly ipv6: pulumi.Output<string | undefined>;
    /** The machine resource (replacing it loses the queue and the IP's reputation). */
    readonly machine: pulumi.CustomResource;
    /**
     * True when the user data the provider holds for the running host is not `wanted`; such a
     * change is ignored (ignoreChanges) rather than replacing the host.
     */
    readonly userDataDiffers: (wanted: string) => pulumi.Output<boolean>;
    /** Who serves the PTR records, for the plan and the outputs. */
    readonly ptrServedBy: string;
    /**
     * Called once the forward records exist: Linode creates its rDNS entries here, since Linode
     * only accepts a PTR name that already resolves to the address.
     */
    readonly afterForwardRecords: (records: ForwardRecords) => void;
    /** What the operator must do by hand for this provider. */
    readonly operatorSteps: readonly string[];
}

/** `2001:db8::10/128` → `2001:db8::10` (Linode reports the prefix length). */
export function stripPrefixLength(address: string): string {
    return address.replace(/\/\d+$/, "");
}
