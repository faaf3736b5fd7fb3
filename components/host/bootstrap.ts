/**
 * The user data: what a new host needs to be configured over SSH, and nothing of the mail
 * configuration. It creates the deploy account, whose key can run one program (forced command,
 * no shell, no forwarding), installs that program (a stub that hands each bundle to the applier it
 * carries), hardens sshd, and gives the host an SSH host key that `pulumi up` pins. It holds no
 * mail secret (DKIM keys and passwords travel in bundles); it holds the host key, which is why it
 * is a secret output and why only root may read the metadata service that serves it.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Document } from "yaml";
import { renderNftables } from "./hardening";

/** The account whose key applies configuration bundles, and the program it may run. */
export const DEPLOY_USER = "mailserver-deploy";
export const APPLY_PROGRAM = "/usr/local/sbin/mailserver-apply";
export const SSHD_BOOTSTRAP_CONF = "/etc/ssh/sshd_config.d/10-mailserver.conf";
export const SUDOERS_DEPLOY = "/etc/sudoers.d/mailserver-deploy";
/** The command the deploy key is forced to run (sshd runs it whatever the client asks). */
export const FORCED_COMMAND = `sudo -n ${APPLY_PROGRAM}`;

/**
 * Where the applier's Python sources are: components/host/applier/ of this package, found from
 * this module whether it runs compiled (dist/components/host/) or as TypeScript (the Pulumi CLI
 * runs index.ts with ts-node).
 */
export const APPLIER_DIR = (() => {
    for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
        const candidate = join(dir, "components", "host", "applier");
        if (existsSync(join(candidate, "applier.py"))) return candidate;
    }
    throw new Error(`components/host/applier/ not found above ${__dirname}`);
})();

export interface BootstrapInput {
    /** OpenSSH public key of the deploy key (`ssh-ed25519 AAAA…`). */
    readonly deployPublicKey: string;
    /** The host's ed25519 SSH host key: OpenSSH private key text and public key line. */
    readonly hostKey: { readonly privateOpenssh: string; readonly publicOpenssh: string };
}

/** sshd: keys only, no root, no forwarding, the deploy account; the admin is allowed by the configuration's own drop-in. */
export function renderSshdBootstrapConf(): string {
    return [
        "# Rendered by the mailserver Pulumi component (user data): SSH takes keys only.",
        "PermitRootLogin no",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "AuthenticationMethods publickey",
        "HostKey /etc/ssh/ssh_host_ed25519_key",
        "# The deploy account's key comes from the user data; the admin's from the configuration.",
        "AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/mailserver/keys/%u",
        `AllowUsers ${DEPLOY_USER}`,
        "AllowTcpForwarding no",
        "AllowStreamLocalForwarding no",
        "AllowAgentForwarding no",
        "X11Forwarding no",
        "PermitTunnel no",
        "PermitUserEnvironment no",
        "MaxAuthTries 3",
        "LoginGraceTime 30",
        "",
    ].join("\n");
}

/** sudo: the deploy account may run the apply program, without arguments, and nothing else. */
export function renderDeploySudoers(): string {
    return `# Rendered by the mailserver Pulumi component (user data).\n${DEPLOY_USER} ALL=(root) NOPASSWD: ${APPLY_PROGRAM} ""\n`;
}

/** The deploy key's authorized_keys line: `restrict` (no pty, no forwarding) and the forced command. */
export function deployAuthorizedKey(publicKey: string): string {
    const [type, data] = publicKey.trim().split(/\s+/);
    return `restrict,command="${FORCED_COMMAND}" ${type} ${data} ${DEPLOY_USER}`;
}

const NO_NFT_AT_BOOT =
    "mailserver: no nft at boot: the metadata service stays open to local users until the first configuration run installs nftables";

/** The cloud-config object of the bootstrap. */
export function bootstrapConfig(input: BootstrapInput): Record<string, unknown> {
    return {
        // Only the deploy account: no distribution default user, no root login.
        users: [
            {
                name: DEPLOY_USER,
                gecos: "mailserver configuration channel",
                shell: "/bin/sh",
                lock_passwd: true,
                ssh_authorized_keys: [deployAuthorizedKey(input.deployPublicKey)],
            },
        ],
        disable_root: true,
        ssh_pwauth: false,
        // The host key `pulumi up` pins; no other host key is made (ed25519 is given, so none is generated).
        ssh_deletekeys: true,
        ssh_genkeytypes: ["ed25519"],
        ssh_keys: { ed25519_private: input.hostKey.privateOpenssh, ed25519_public: input.hostKey.publicOpenssh.trim() },
        // Before anything else runs: only root may read the metadata service (which serves this user data).
        // Without nft (an image that lacks it) the rule comes with the first configuration run, which installs nftables: said, not silent.
        bootcmd: [
            [
                "sh",
                "-c",
                `if command -v nft >/dev/null 2>&1; then nft -f - <<'EOF'\n${renderNftables()}EOF\nelse echo "${NO_NFT_AT_BOOT}" >&2; fi`,
            ],
        ],
        write_files: [
            { path: SSHD_BOOTSTRAP_CONF, content: renderSshdBootstrapConf(), permissions: "0644" },
            { path: SUDOERS_DEPLOY, content: renderDeploySudoers(), permissions: "0440" },
            { path: APPLY_PROGRAM, content: readFileSync(join(APPLIER_DIR, "mailserver-apply"), "utf8"), permissions: "0755" },
        ],
    };
}

/** The user data text: `#cloud-config`, an optional header comment, then YAML. */
export function renderBootstrap(input: BootstrapInput, headerComment?: string): string {
    const header = headerComment
        ? `${headerComment
              .split("\n")
              .map((l) => `# ${l}`.trimEnd())
              .join("\n")}\n`
        : "";
    return `#cloud-config\n${header}${new Document(bootstrapConfig(input)).toString({ lineWidth: 0, blockQuote: "literal" })}`;
}
