/** Paths on the host, shared by the rendered files that refer to each other. */
export const PATHS = {
    /** Symlinks Postfix reads; they point at the snakeoil pair until certbot succeeds. */
    tlsCert: "/etc/mailserver/tls/fullchain.pem",
    tlsKey: "/etc/mailserver/tls/privkey.pem",
    snakeoilCert: "/etc/ssl/certs/ssl-cert-snakeoil.pem",
    snakeoilKey: "/etc/ssl/private/ssl-cert-snakeoil.key",
    acmeCaBundle: "/etc/ssl/mailserver/acme-ca.pem",
    certScript: "/usr/local/sbin/mailserver-cert",
    certUnit: "mailserver-cert",
    deployHook: "/etc/letsencrypt/renewal-hooks/deploy/mailserver-postfix",
    virtualMap: "/etc/postfix/virtual",
    opendkimDir: "/etc/opendkim",
    opendkimConf: "/etc/opendkim.conf",
    /** Who may log in besides the deploy account, and from where (sshd accumulates AllowUsers). */
    sshdAdminConf: "/etc/ssh/sshd_config.d/20-mailserver-admin.conf",
    /** The admin's authorized keys (sshd reads them through AuthorizedKeysFile, set by the user data). */
    adminKeysDir: "/etc/ssh/mailserver/keys",
    sudoersAdmin: "/etc/sudoers.d/mailserver-admin",
    autoUpgrades: "/etc/apt/apt.conf.d/99mailserver-unattended-upgrades",
    nftables: "/etc/nftables.conf",
    cloudInitConf: "/etc/cloud/cloud.cfg.d/90-mailserver.cfg",
} as const;

/**
 * OpenDKIM's milter socket, shared by opendkim.conf, Postfix and the first-boot commands. A Unix
 * socket, not loopback TCP: over TCP each milter round trip can wait for a delayed ACK (the lab
 * measured ≈ 80 ms per message). Postfix drops supplementary groups, so the directory is owned
 * by group postfix and setgid: the socket OpenDKIM creates there (UMask 007) is postfix's to use.
 */
export const DKIM_MILTER = {
    directory: "/var/spool/postfix/opendkim",
    socket: "/var/spool/postfix/opendkim/opendkim.sock",
} as const;

/**
 * Dovecot's files and the sockets it offers Postfix. The sockets live in Postfix's queue
 * directory (`private/`), so Postfix (chroot off) names them relative to it.
 */
export const DOVECOT = {
    conf: "/etc/dovecot/mailserver.conf",
    users: "/etc/dovecot/mailserver-users",
    apps: "/etc/dovecot/mailserver-apps",
    dropIn: "/etc/systemd/system/dovecot.service.d/mailserver.conf",
    mailUser: "vmail",
    mailRoot: "/var/mail/vhosts",
    lmtpSocket: "/var/spool/postfix/private/dovecot-lmtp",
    authSocket: "/var/spool/postfix/private/dovecot-auth",
    quotaSocket: "/var/spool/postfix/private/dovecot-quota",
    /** The global Sieve script (and, compiled next to it, spam.svbin) that files spam into Junk. */
    spamSieve: "/etc/dovecot/sieve/spam.sieve",
} as const;

/** The Postfix maps of mailbox mode: which addresses are mailboxes, and who may send as which address. */
export const MAILBOX_MAPS = {
    mailboxes: "/etc/postfix/vmailbox",
    senderLogins: "/etc/postfix/sender_logins",
} as const;

/** A domain's signing key; selectors repeat across domains (each defaults to the same one), so the name holds both. */
export function dkimKeyPath(domain: string, selector: string): string {
    return `${PATHS.opendkimDir}/keys/${domain}.${selector}.private`;
}
