/**
 * Dovecot 2.4 (Debian 13): IMAP for the mailboxes, LMTP delivery from Postfix, and the SASL
 * service Postfix's submission ports authenticate against. The component owns one self-contained
 * file, `/etc/dovecot/mailserver.conf`, and a systemd drop-in that starts Dovecot with it: the
 * package's own /etc/dovecot files are ucf-managed (ucf resolves the applier's symlinks and would
 * prompt on every security update), so they stay untouched and unread.
 */
import type { Mailbox } from "../mailboxes";
import { DOVECOT, PATHS } from "./paths";
import { SPAM_HEADER } from "./rspamd";

export interface DovecotInput {
    readonly domain: string;
    readonly fqdn: string;
    /** Whether the host has IPv6: Dovecot listens on it only then, as Postfix does. */
    readonly ipv6: boolean;
    /** Whether there are application logins (a second users file, for Postfix's submission only). */
    readonly apps: boolean;
}

/** Argon2id cost of a mailbox password hash (OWASP's minimum: 19 MiB, 2 passes, 1 lane). */
export const ARGON2 = { memorySize: 19456, iterations: 2, parallelism: 1, hashLength: 32 } as const;

/** /etc/dovecot/mailserver.conf */
export function renderDovecotConf(input: DovecotInput): string {
    const socket = (path: string, mode: string) =>
        `  unix_listener ${path} {\n    mode = ${mode}\n    user = postfix\n    group = postfix\n  }`;
    return `# Rendered by the mailserver Pulumi component: Dovecot reads only this file (see the drop-in
# ${DOVECOT.dropIn}).
dovecot_config_version = 2.4.1
dovecot_storage_version = 2.4.0
protocols {
  imap = yes
  lmtp = yes
}
listen = ${input.ipv6 ? "*, ::" : "*"}
hostname = ${input.fqdn}
log_path = syslog

# TLS only: IMAP on 993, or on 143 after STARTTLS; no password ever crosses in clear text.
ssl = required
ssl_server_cert_file = ${PATHS.tlsCert}
ssl_server_key_file = ${PATHS.tlsKey}
ssl_min_protocol = TLSv1.2
auth_allow_cleartext = no
auth_mechanisms = plain login
# Each failed login is answered late, and later still for an address that keeps failing (anvil).
auth_failure_delay = 2 secs

# Mailboxes: one passwd-file of Argon2id hashes; the host never sees a password.
passdb mailboxes {
  driver = passwd-file
  passwd_file_path = ${DOVECOT.users}
}
userdb mailboxes {
  driver = passwd-file
  passwd_file_path = ${DOVECOT.users}
}
${
    input.apps
        ? `# Application logins: only for Postfix's submission (service smtp), and no userdb entry: no mailbox, no IMAP.
protocol smtp {
  passdb apps {
    driver = passwd-file
    passwd_file_path = ${DOVECOT.apps}
  }
}
`
        : ""
}
# Maildir under /var/mail/vhosts/<domain>/<user>, owned by the vmail account.
mail_uid = ${DOVECOT.mailUser}
mail_gid = ${DOVECOT.mailUser}
first_valid_uid = 100
mail_home = ${DOVECOT.mailRoot}/%{user | domain}/%{user | username}
mail_driver = maildir
mail_path = ~/Maildir
namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    auto = subscribe
    special_use = \\Drafts
  }
  mailbox Junk {
    auto = subscribe
    special_use = \\Junk
  }
  mailbox Sent {
    auto = subscribe
    special_use = \\Sent
  }
  mailbox Trash {
    auto = subscribe
    special_use = \\Trash
  }
}

# Quota: per mailbox (the users file), none unless given; a full mailbox refuses at RCPT time.
mail_plugins {
  quota = yes
}
protocol imap {
  mail_plugins {
    imap_quota = yes
  }
}
quota "User quota" {
  driver = count
}
quota_status_success = DUNNO
quota_status_nouser = DUNNO
quota_status_overquota = "552 5.2.2 Mailbox is full"

# Delivery runs the global Sieve script first: mail the spam filter marked goes to Junk.
protocol lmtp {
  postmaster_address = postmaster@${input.domain}
  mail_plugins {
    sieve = yes
  }
}
sieve_script spam {
  type = before
  path = ${DOVECOT.spamSieve}
}

# Few processes for a small host: login processes serve many clients each; IMAP sessions are bounded.
service imap-login {
  inet_listener imap {
    port = 143
  }
  inet_listener imaps {
    port = 993
    ssl = yes
  }
  restart_request_count = unlimited
  process_min_avail = 1
  process_limit = 2
  client_limit = 256
}
service imap {
  process_limit = 64
}
mail_max_userip_connections = 20
service lmtp {
${socket(DOVECOT.lmtpSocket, "0600")}
  process_limit = 4
}
service auth {
${socket(DOVECOT.authSocket, "0660")}
}
service auth-worker {
  process_limit = 1
}
service quota-status {
  executable = quota-status -p postfix
${socket(DOVECOT.quotaSocket, "0600")}
  client_limit = 1
  process_limit = 2
}
`;
}

/**
 * A users file (passwd-file): `address:hash::::::[userdb_quota_storage_size=…]`. Empty uid, gid
 * and home fall back to mail_uid, mail_gid and mail_home. Application logins have no quota.
 */
export function renderDovecotUsers(mailboxes: readonly Mailbox[], hashes: Readonly<Record<string, string>>): string {
    return mailboxes
        .map((m) => {
            const hash = hashes[m.address];
            if (!hash?.startsWith("{ARGON2ID}$argon2id$")) throw new Error(`no Argon2id hash for the mailbox ${m.address}`);
            return `${m.address}:${hash}::::::${m.quota ? `userdb_quota_storage_size=${m.quota}` : ""}\n`;
        })
        .join("");
}

/** The systemd drop-in: Dovecot runs (and reloads, and stops) with the component's file only. */
export function renderDovecotDropIn(): string {
    return `# Rendered by the mailserver Pulumi component.
[Service]
ExecStart=
ExecStart=/usr/sbin/dovecot -F -c ${DOVECOT.conf}
ExecReload=
ExecReload=/usr/bin/doveadm -c ${DOVECOT.conf} reload
ExecStop=
ExecStop=/usr/bin/doveadm -c ${DOVECOT.conf} stop
`;
}

/**
 * The global Sieve script LMTP runs before delivery: what rspamd marked as spam (its milter's
 * `X-Spam: Yes`) is filed into Junk. Dovecot runs it only precompiled (`sievec`, as root:
 * the delivering user cannot write in /etc), so the applier compiles it on every run.
 */
export function renderSpamSieve(): string {
    return [
        "# Rendered by the mailserver Pulumi component.",
        'require ["fileinto", "mailbox"];',
        `if header :is "${SPAM_HEADER}" "Yes" {`,
        '  fileinto :create "Junk";',
        "  stop;",
        "}",
        "",
    ].join("\n");
}
