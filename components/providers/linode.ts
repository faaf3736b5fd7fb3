import * as linode from "@pulumi/linode";
import * as pulumi from "@pulumi/pulumi";
import { BackupSchedule } from "../args";
import { type Host, type HostInput, stripPrefixLength } from "./host";

/** Linode only applies Metadata user data on images and regions with these capabilities. */
export const LINODE_IMAGE_CAPABILITY = "cloud-init";
export const LINODE_REGION_CAPABILITY = "Metadata";

/**
 * A Linode instance with base64 cloud-init Metadata, a Linode firewall from the port table and,
 * once the A/AAAA records exist, rDNS for its IPv4 and IPv6 address (`linode.Rdns`).
 */
export function linodeHost(input: HostInput): Host {
    const { config } = input;
    const metadataUserData = input.userData.apply((text) => Buffer.from(text, "utf8").toString("base64"));
    // Without these capabilities Linode silently never applies the user data: fail the preview instead.
    const capable = pulumi
        .all([
            linode.getImageOutput({ id: config.image }, { parent: input.parent }).capabilities,
            linode.getRegionOutput({ id: config.region }, { parent: input.parent }).capabilities,
        ])
        .apply(([image, region]) => {
            if (!image.includes(LINODE_IMAGE_CAPABILITY)) {
                throw new Error(
                    `image: "${config.image}" lacks Linode's "${LINODE_IMAGE_CAPABILITY}" capability; its user data would never run`,
                );
            }
            if (!region.includes(LINODE_REGION_CAPABILITY)) {
                throw new Error(
                    `region: "${config.region}" lacks Linode's "${LINODE_REGION_CAPABILITY}" capability; user data would never reach the host`,
                );
            }
            return true;
        });
    const instance = new linode.Instance(
        `${input.name}-instance`,
        {
            label: config.linodeLabel,
            region: capable.apply(() => config.region),
            type: config.size,
            image: config.image,
            metadatas: [{ userData: pulumi.secret(metadataUserData) }],
            booted: true,
            privateIp: false,
            // Updated in place (resource.go: EnableInstanceBackups / CancelInstanceBackups); Linode keeps
            // a daily, a weekly and a biweekly backup whichever schedule is named.
            backupsEnabled: config.backups !== BackupSchedule.Off,
        },
        // The user data is a generic bootstrap (the configuration arrives over SSH): a newer
        // bootstrap from a newer component must not replace a running mail server. Labels are
        // unique per account: a replacement must delete the old instance first.
        // The user data holds the SSH host key; secret in state and previews whatever the provider says.
        {
            parent: input.parent,
            dependsOn: [...input.dependsOn],
            ignoreChanges: ["metadatas"],
            additionalSecretOutputs: ["metadatas"],
            deleteBeforeReplace: true,
        },
    );
    const linodeId = instance.id.apply((id) => Number(id));
    const firewall = new linode.Firewall(
        `${input.name}-firewall`,
        {
            label: `mail-${config.linodeLabel}`.slice(0, 32).replace(/[^a-zA-Z0-9]+$/, ""),
            inboundPolicy: "DROP",
            inbounds: input.firewall.map((rule) => ({
                label: `allow-${rule.service}`,
                action: "ACCEPT",
                protocol: rule.protocol.toUpperCase(),
                ...(rule.port !== undefined ? { ports: String(rule.port) } : {}),
                ...(rule.ipv4.length > 0 ? { ipv4s: [...rule.ipv4] } : {}),
                ...(rule.ipv6.length > 0 ? { ipv6s: [...rule.ipv6] } : {}),
            })),
            // Outbound is open: SMTP to any MX, DNS, apt, ACME, NTP.
            outboundPolicy: "ACCEPT",
            linodes: [linodeId],
        },
        { parent: input.parent },
    );
    const ipv4 = instance.ipAddress;
    const ipv6 = instance.ipv6.apply((address) => (config.host.ipv6 ? stripPrefixLength(address) : undefined));
    return {
        ipv4,
        ipv6,
        machine: instance,
        firewall,
        ptrServedBy: "Linode, from linode.Rdns",
        afterForwardRecords: (records) => {
            // Linode refuses an rDNS name that does not resolve to the address yet: after A/AAAA;
            // and after the prepare stage, which stops the host sending from an address or name it
            // gives up; the commit stage waits for these before the host uses a new one.
            const rdns = (suffix: string, address: pulumi.Input<string>, record: pulumi.Resource | undefined) => {
                if (!record) throw new Error(`linode rDNS ${suffix}: its address record was not created`);
                return new linode.Rdns(
                    `${input.name}-rdns-${suffix}`,
                    { address, rdns: config.host.fqdn, waitForAvailable: true },
                    { parent: input.parent, dependsOn: [record, records.apply] },
                );
            };
            return [
                rdns("ipv4", ipv4, records.A),
                ...(config.host.ipv6
                    ? [
                          rdns(
                              "ipv6",
                              ipv6.apply((a) => a ?? ""),
                              records.AAAA,
                          ),
                      ]
                    : []),
            ];
        },
        operatorSteps: [],
        outboundSmtp: {
            blockedPorts: [25, 465, 587],
            unblock:
                "Linode restricts outbound SMTP (ports 25, 465, 587) on accounts created after 2019-11-05: once the A record and rDNS " +
                "resolve, open a support ticket asking to lift the restriction for this instance.",
        },
    };
}
