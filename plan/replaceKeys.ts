/**
 * Which input changes make a provider replace a resource rather than update it in place, for the
 * offline "what will this change do" report. Each entry cites the provider source it encodes (the
 * versions @pulumi/* in package-lock.json are built on):
 *
 * - DigitalOcean droplet: terraform-provider-digitalocean v2.99.1 digitalocean/droplet/resource_droplet.go,
 *   `ForceNew: true` on image, region, user_data, ssh_keys, monitoring, droplet_agent, vpc_uuid,
 *   public_networking; `ipv6` only true→false (CustomizeDiff); name and size update in place, and so do
 *   backups and backup_policy (the Update function's EnableBackups / DisableBackups / ChangeBackupPolicy
 *   droplet actions).
 * - Linode instance: terraform-provider-linode v3.1.1 linode/instance/schema_resource.go, `ForceNew` on
 *   image, metadata.user_data, authorized_keys, authorized_users, root_pass, ipv4, firewall_id,
 *   disk_encryption, backup_id; label, type (resize) and region (migration) update in place, and so does
 *   backups_enabled (linode/instance/resource.go: EnableInstanceBackups / CancelInstanceBackups).
 * - Linode Rdns: linode/rdns/framework_resource_schema.go, `RequiresReplace` on address.
 * - Cloudflare DnsRecord: terraform-provider-cloudflare v5.22.0 internal/services/dns_record/schema.go,
 *   `RequiresReplace` on zone_id and type.
 * - TLS PrivateKey: terraform-provider-tls internal/provider/resource_private_key.go, every argument
 *   (algorithm, rsa_bits, ecdsa_curve) `RequiresReplace`.
 * - Command remote.Command: pulumi-command v1.2.1 provider/pkg/provider/remote/command.go, `triggers`
 *   replace; any other input change runs the update (or create) command again.
 * - The firewalls and the dynamic guard update in place.
 */
import { TYPES } from "../components/resourceTypes";

/** A function of the old and new value of one input: true when the change replaces the resource. */
type Rule = (before: unknown, after: unknown) => boolean;
const always: Rule = () => true;

export const REPLACE_ON: Readonly<Record<string, Readonly<Record<string, Rule>>>> = {
    [TYPES.droplet]: {
        image: always,
        region: always,
        userData: always,
        sshKeys: always,
        monitoring: always,
        dropletAgent: always,
        vpcUuid: always,
        publicNetworking: always,
        ipv6: (before, after) => before === true && after === false,
    },
    [TYPES.instance]: {
        image: always,
        metadatas: always,
        authorizedKeys: always,
        authorizedUsers: always,
        rootPass: always,
        ipv4: always,
        firewallId: always,
        diskEncryption: always,
        backupId: always,
    },
    [TYPES.rdns]: { address: always },
    [TYPES.dnsRecord]: { zoneId: always, type: always },
    [TYPES.privateKey]: { algorithm: always, rsaBits: always, ecdsaCurve: always },
    [TYPES.remoteCommand]: { triggers: always },
};

/** Whether changing `inputs` from `before` to `after` replaces a resource of `type` (ignoring `ignored` inputs). */
export function replaces(
    type: string,
    before: Record<string, unknown>,
    after: Record<string, unknown>,
    ignored: readonly string[] = [],
): boolean {
    const rules = REPLACE_ON[type] ?? {};
    return Object.entries(rules).some(
        ([key, rule]) =>
            !ignored.includes(key) && JSON.stringify(before[key]) !== JSON.stringify(after[key]) && rule(before[key], after[key]),
    );
}
