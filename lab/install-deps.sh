#!/bin/sh
# Host packages the mail lab needs (Debian 12 host building a Debian 13 root, run as root).
# Idempotent. debian-archive-keyring >= 2023.3+deb12u2 has the trixie keys debootstrap checks.
set -eu
export DEBIAN_FRONTEND=noninteractive
# postfix must not configure itself on the host (the lab only uses its binaries, if at all)
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
if [ "${LAB_SKIP_APT_UPDATE:-}" != 1 ]; then apt-get update -qq; fi
apt-get install -y -qq --no-install-recommends \
  debootstrap debian-archive-keyring systemd-container dpkg-dev iproute2 util-linux \
  nsd pebble openssl openssh-client ca-certificates dnsutils curl procps \
  spamassassin libmail-spf-perl libmail-dmarc-perl libnet-dns-perl \
  >/dev/null
# the lab starts its own nsd/spamd; keep the host's units stopped
systemctl disable --now nsd 2>/dev/null || true
systemctl disable --now spamassassin 2>/dev/null || true
