import { tcpPort } from "../ports";
import { PATHS } from "./paths";

export interface CertificateInput {
    readonly domain: string;
    readonly fqdn: string;
    readonly ipv6: boolean;
    readonly operatorEmail: string;
    readonly acmeDirectoryUrl: string;
    readonly hasAcmeCaBundle: boolean;
    /** The services that serve the certificate and re-read it on reload: Postfix, and Dovecot with mailboxes. */
    readonly servedBy: readonly ("postfix" | "dovecot")[];
}

const SERVICE_NAMES = { postfix: "Postfix", dovecot: "Dovecot" } as const;

/** How long one run waits for DNS before giving up until the timer's next run. */
export const DNS_WAIT_SECONDS = 600;
/** Pause between runs of the certificate service while it has not succeeded. */
export const RETRY_INTERVAL = "2min";

/** A POSIX shell single-quoted literal. */
export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * /usr/local/sbin/mailserver-cert. `init` points Postfix's certificate links at the snakeoil pair
 * (so STARTTLS works from the first minute); `obtain` waits until the domain's authoritative
 * servers (or, failing those, the system resolver) answer the FQDN with this host's own
 * addresses, because the DNS records are created after the host boots, then runs certbot
 * (http-01, standalone), switches the links and reloads Postfix when they change, and stops its
 * retry timer.
 */
export function renderCertScript(input: CertificateInput): string {
    return `#!/bin/sh
# Rendered by the mailserver Pulumi component.
set -eu
FQDN=${shellQuote(input.fqdn)}
DOMAIN=${shellQuote(input.domain)}
WANT_IPV6=${input.ipv6 ? 1 : 0}
ACME_SERVER=${shellQuote(input.acmeDirectoryUrl)}
OPERATOR=${shellQuote(input.operatorEmail)}
HTTP_PORT=${tcpPort("http")}
DNS_WAIT_SECONDS=${DNS_WAIT_SECONDS}
LIVE="/etc/letsencrypt/live/$FQDN"
${input.hasAcmeCaBundle ? `export REQUESTS_CA_BUNDLE=${shellQuote(PATHS.acmeCaBundle)}\n` : ""}
log() { echo "mailserver-cert: $*"; }

link() { # cert key: point Postfix's certificate links at them
  mkdir -p "$(dirname ${PATHS.tlsCert})"
  ln -sfn "$1" ${PATHS.tlsCert}
  ln -sfn "$2" ${PATHS.tlsKey}
}

own_addresses() {
  ip -o addr show scope global | awk '{ sub(/\\/.*/, "", $4); print $4 }'
}

authorities() { # the NS of the closest enclosing zone of the domain
  zone=$DOMAIN
  while [ -n "$zone" ]; do
    ns=$(dig +short +time=3 +tries=2 NS "$zone" | sed 's/\\.$//')
    if [ -n "$ns" ]; then echo "$ns"; return 0; fi
    case $zone in *.*.*) zone=\${zone#*.} ;; *) zone= ;; esac
  done
}

lookup() { # type: the FQDN's addresses as the authorities and the system resolver answer
  for ns in $(authorities); do
    dig +short +norecurse +time=3 +tries=1 "@$ns" "$FQDN" "$1" || true
  done
  dig +short +time=3 +tries=1 "$FQDN" "$1" || true
}

points_here() {
  mine=$(own_addresses)
  types=A
  [ "$WANT_IPV6" = 1 ] && types="A AAAA"
  for type in $types; do
    found=no
    for answer in $(lookup "$type"); do
      for address in $mine; do [ "$answer" = "$address" ] && found=yes; done
    done
    if [ "$found" = no ]; then log "$FQDN $type does not point at this host yet"; return 1; fi
  done
}

case "\${1:-obtain}" in
init)
  [ -e ${PATHS.tlsCert} ] || link ${PATHS.snakeoilCert} ${PATHS.snakeoilKey}
  ;;
obtain)
  if [ ! -s "$LIVE/fullchain.pem" ]; then
    waited=0
    until points_here; do
      if [ "$waited" -ge "$DNS_WAIT_SECONDS" ]; then log "gave up waiting for DNS; the timer retries"; exit 75; fi
      sleep 10
      waited=$((waited + 10))
    done
    certbot certonly --standalone --non-interactive --agree-tos --no-eff-email \\
      --email "$OPERATOR" --server "$ACME_SERVER" --cert-name "$FQDN" -d "$FQDN" \\
      --preferred-challenges http --http-01-port "$HTTP_PORT" \\
      --key-type rsa --rsa-key-size 2048 --keep-until-expiring
  fi
  if [ "$(readlink ${PATHS.tlsCert})" != "$LIVE/fullchain.pem" ] || [ "$(readlink ${PATHS.tlsKey})" != "$LIVE/privkey.pem" ]; then
    link "$LIVE/fullchain.pem" "$LIVE/privkey.pem"
    systemctl reload ${input.servedBy.join(" ")}
    log "${input.servedBy.map((s) => SERVICE_NAMES[s]).join(" and ")} use${input.servedBy.length === 1 ? "s" : ""} the certificate for $FQDN"
  fi
  # No more retries until the next boot or configuration run. Stop, not disable: the timer's unit
  # file is the applier's link into its release, and disabling a linked unit deletes the link.
  systemctl stop ${PATHS.certUnit}.timer
  ;;
*)
  echo "usage: $0 init|obtain" >&2
  exit 64
  ;;
esac
`;
}

/** mailserver-cert.service: one attempt. */
export function renderCertService(): string {
    return `[Unit]
Description=Obtain the mail host's TLS certificate once DNS points here (mailserver)
Wants=network-online.target
After=network-online.target postfix.service

[Service]
Type=oneshot
ExecStart=${PATHS.certScript} obtain
`;
}

/** mailserver-cert.timer: retries until the service succeeds (it then stops the timer until the next boot or configuration run). */
export function renderCertTimer(): string {
    return `[Unit]
Description=Retry the mail host's TLS certificate until it is obtained (mailserver)

[Timer]
OnBootSec=1min
OnUnitInactiveSec=${RETRY_INTERVAL}

[Install]
WantedBy=timers.target
`;
}

/** Renewal deploy hook: certbot.timer renews; Postfix (and Dovecot) must re-read the files. */
export function renderDeployHook(servedBy: CertificateInput["servedBy"] = ["postfix"]): string {
    const names = servedBy.map((s) => SERVICE_NAMES[s]).join(" and ");
    return `#!/bin/sh\n# Rendered by the mailserver Pulumi component: ${names} re-read${servedBy.length === 1 ? "s" : ""} the renewed certificate.\nsystemctl reload ${servedBy.join(" ")}\n`;
}

/** certbot.service drop-in so renewals trust the same private ACME CA as the first issuance. */
export function renderCertbotCaDropIn(): string {
    return `[Service]\nEnvironment=REQUESTS_CA_BUNDLE=${PATHS.acmeCaBundle}\n`;
}
