/**
 * The host's own protection, as files of its configuration: who may log in over SSH and from
 * where, unattended security updates, and the cloud's metadata service closed to every user
 * but root.
 */

/** The unprivileged sudo user that gets the operator's SSH keys. */
export const ADMIN_USER = "mailadmin";

/**
 * sshd drop-in: the admin may log in from the allowed ranges only. The user data's own drop-in
 * allows the deploy account; sshd adds up the AllowUsers lines of every drop-in.
 */
export function renderSshdAdminConf(ranges: readonly string[]): string {
    const allowed = ranges.map((range) => `${ADMIN_USER}@${range}`).join(" ");
    return [
        "# Rendered by the mailserver Pulumi component: the admin account, from sshAllowedCidrs only.",
        ...(allowed ? [`AllowUsers ${allowed}`] : ["# sshAllowedCidrs is empty: the admin account cannot log in."]),
        "",
    ].join("\n");
}

/** The admin's authorized keys, one OpenSSH public key per line (validated in config.ts). */
export function renderAdminKeys(keys: readonly string[]): string {
    return `${keys.join("\n")}\n`;
}

/** sudo for the admin: a key-only account on a single-purpose host. */
export function renderAdminSudoers(): string {
    return `# Rendered by the mailserver Pulumi component.\n${ADMIN_USER} ALL=(ALL) NOPASSWD:ALL\n`;
}

/**
 * Security updates, every day, unattended (Debian's 50unattended-upgrades already limits them
 * to the security archive). Reports of failures go to root@, which reaches the operator.
 */
export function renderAutoUpgrades(): string {
    return [
        "// Rendered by the mailserver Pulumi component: install security updates every day.",
        'APT::Periodic::Update-Package-Lists "1";',
        'APT::Periodic::Unattended-Upgrade "1";',
        'APT::Periodic::AutocleanInterval "7";',
        'Unattended-Upgrade::Mail "root";',
        'Unattended-Upgrade::MailReport "only-on-error";',
        'Unattended-Upgrade::Automatic-Reboot "false";',
        "",
    ].join("\n");
}

/** The cloud's metadata service (user data, tokens) at the link-local address every provider uses. */
export const METADATA_ADDRESS = "169.254.169.254";

/**
 * nftables: only root may talk to the metadata service. DigitalOcean serves the droplet's user
 * data there to any process for the host's whole life; Linode hands out a token to any process.
 */
export function renderNftables(): string {
    return `#!/usr/sbin/nft -f
# Rendered by the mailserver Pulumi component.
flush ruleset
table inet mailserver {
    chain output {
        type filter hook output priority 0; policy accept;
        ip daddr ${METADATA_ADDRESS} meta skuid != 0 counter reject comment "only root may read the cloud's metadata"
    }
}
`;
}

/** cloud-init must keep the host name the configuration sets, at every boot. */
export function renderCloudInitConf(): string {
    return "# Rendered by the mailserver Pulumi component: the host name is the mail configuration's.\npreserve_hostname: true\nmanage_etc_hosts: false\n";
}
