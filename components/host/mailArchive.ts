import { DOVECOT } from "./paths";

/** The host's tool that carries the mailboxes to a new host (README: "Moving to a new host"). */
export const MAIL_ARCHIVE_TOOL = "/usr/local/sbin/mailserver-mail";

/**
 * `mailserver-mail export > mail.tar` on the old host: stops Postfix and Dovecot, so nothing
 * arrives or changes after the copy (senders keep new mail and retry, for days, until the MX
 * answers again: then from the new host), and writes every Maildir as a tar stream.
 * `mailserver-mail import < mail.tar` on the new host: unpacks it as the mail account itself, so
 * an archive can create nothing outside the mail directory whatever it holds (no root-owned file,
 * no link followed out), then has Dovecot rebuild its indexes. `systemctl start postfix dovecot`
 * on the old host undoes an export.
 */
export function renderMailArchiveScript(): string {
    const doveadm = `doveadm -c ${DOVECOT.conf}`;
    return `#!/bin/bash
# Rendered by the mailserver Pulumi component: the mailboxes, carried to a new host.
#   mailserver-mail export > mail.tar   (old host: stops Postfix and Dovecot, then writes the Maildirs)
#   mailserver-mail import < mail.tar   (new host, after pulumi up: unpacks them as ${DOVECOT.mailUser})
set -euo pipefail
root=${DOVECOT.mailRoot}
case "\${1:-}" in
export)
    if [ -t 1 ]; then echo "mailserver-mail export: send the output to a file: mailserver-mail export > mail.tar" >&2; exit 2; fi
    # From here on, senders keep new mail and retry; the new host takes it once the MX points there.
    systemctl stop postfix dovecot
    tar -C "$root" -cf - .
    echo "mailserver-mail: exported $root; Postfix and Dovecot are stopped here (systemctl start postfix dovecot undoes it)" >&2
    ;;
import)
    if [ -t 0 ]; then echo "mailserver-mail import: give the archive on stdin: mailserver-mail import < mail.tar" >&2; exit 2; fi
    install -d -o ${DOVECOT.mailUser} -g ${DOVECOT.mailUser} -m 0750 "$root"
    # As the mail account: whatever the archive holds, it lands under $root and belongs to ${DOVECOT.mailUser}.
    runuser -u ${DOVECOT.mailUser} -- tar -C "$root" --no-same-owner -xf -
    ${doveadm} force-resync -A '*'
    echo "mailserver-mail: imported into $root" >&2
    ;;
*)
    echo "usage: mailserver-mail export > mail.tar | mailserver-mail import < mail.tar" >&2
    exit 2
    ;;
esac
`;
}
