/** Services the applier reloads (or restarts) when one of their files changes, in this order. */
export const SERVICES = ["systemd", "nftables", "sshd", "postsrsd", "opendkim", "rspamd", "dovecot", "postfix"] as const;
export type Service = (typeof SERVICES)[number];

/**
 * One file of the host's configuration. The applier writes every file of a bundle into a new
 * release directory, checks the release with the real tools, then switches to it at once (the
 * live path is a link into the current release) and reloads the services the changed files name.
 */
export interface ManagedFile {
    /** Live path on the host, absolute. */
    readonly path: string;
    readonly content: string;
    /** 0440 for sudoers files (sudo refuses others). */
    readonly mode: "0644" | "0640" | "0600" | "0755" | "0440";
    /** `user:group`. @default "root:root" */
    readonly owner?: string;
    /** A key: written 0600 inside a 0700 directory from the first byte, never echoed. */
    readonly secret?: boolean;
    /** A Postfix lookup table: the applier compiles it (postmap) inside the release. */
    readonly postmap?: boolean;
    /** Services that must re-read this file when it changes. */
    readonly reload?: readonly Service[];
}
