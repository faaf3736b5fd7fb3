import * as digitalocean from "@pulumi/digitalocean";
import { BackupSchedule } from "../args";
import { ANYWHERE } from "../ports";
import type { Host, HostInput } from "./host";

/**
 * A droplet named with the FQDN — DigitalOcean derives the PTR of its IPv4 and IPv6 address from
 * the droplet name; there is no PTR API — and a cloud firewall built from the port table.
 */
export function digitalOceanHost(input: HostInput): Host {
    const { config } = input;
    const droplet = new digitalocean.Droplet(
        `${input.name}-droplet`,
        {
            name: config.host.fqdn,
            region: config.region,
            size: config.size,
            image: config.image,
            ipv6: config.host.ipv6,
            // The metadata service is closed to every user but root (it serves the user data);
            // DigitalOcean's monitoring agent needs it, so monitoring stays off.
            monitoring: false,
            // A size change (only with a raised hostGeneration) keeps the disk: it can be undone.
            resizeDisk: false,
            // Updated in place (resource_droplet.go: EnableBackups / DisableBackups / ChangeBackupPolicy);
            // a policy is allowed only with backups on.
            backups: config.backups !== BackupSchedule.Off,
            ...(config.backups !== BackupSchedule.Off ? { backupPolicy: { plan: config.backups } } : {}),
            userData: input.userData,
        },
        // The user data is a generic bootstrap (the configuration arrives over SSH): a newer
        // bootstrap from a newer component must not replace a running mail server.
        // The user data holds the SSH host key; secret in state and previews whatever the provider says.
        { parent: input.parent, dependsOn: [...input.dependsOn], ignoreChanges: ["userData"], additionalSecretOutputs: ["userData"] },
    );
    const everywhere = [...ANYWHERE.ipv4, ...ANYWHERE.ipv6];
    const firewall = new digitalocean.Firewall(
        `${input.name}-firewall`,
        {
            name: `mail-${config.host.fqdn}`.slice(0, 255),
            dropletIds: [droplet.id.apply((id) => Number(id))],
            inboundRules: input.firewall.map((rule) => ({
                protocol: rule.protocol,
                ...(rule.port !== undefined ? { portRange: String(rule.port) } : {}),
                sourceAddresses: [...rule.ipv4, ...rule.ipv6],
            })),
            // Outbound is open: SMTP to any MX, DNS, apt, ACME, NTP.
            outboundRules: [
                { protocol: "tcp", portRange: "1-65535", destinationAddresses: everywhere },
                { protocol: "udp", portRange: "1-65535", destinationAddresses: everywhere },
                { protocol: "icmp", destinationAddresses: everywhere },
            ],
        },
        { parent: input.parent },
    );
    return {
        ipv4: droplet.ipv4Address,
        ipv6: droplet.ipv6Address.apply((address) => (config.host.ipv6 ? address : undefined)),
        machine: droplet,
        firewall,
        ptrServedBy: "DigitalOcean, from the droplet name",
        afterForwardRecords: () => [],
        operatorSteps: [],
        outboundSmtp: {
            blockedPorts: [25],
            unblock:
                "DigitalOcean blocks outbound SMTP (port 25) on new accounts: open a support ticket asking to unblock it for this droplet " +
                "(https://docs.digitalocean.com/support/why-is-smtp-blocked/).",
        },
    };
}
