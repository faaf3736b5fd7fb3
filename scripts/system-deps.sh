#!/usr/bin/env bash
# The Debian packages the tests run for real: cloud-init (schema), postfix (postconf), opendkim,
# nsd (the DNS server the check command is tested against).
# Installs the missing ones when run as root with apt; otherwise says what is missing, and the
# tests that need them are skipped with that reason.
set -euo pipefail

declare -A packages=([cloud-init]=cloud-init [postconf]=postfix [opendkim]=opendkim [nsd]=nsd)
missing=()
for command in "${!packages[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${packages[$command]}")
done

if [ ${#missing[@]} -eq 0 ]; then
  :
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${missing[*]} for the tests (apt-get)"
  # Postfix must not ask questions or configure itself: the tests give it their own config.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "Not root or no apt-get: tests that need ${missing[*]} will be skipped (install: apt-get install ${missing[*]})"
fi

# The mail lab (part of npm test as root on Linux, LAB=0 skips it) needs more: debootstrap,
# systemd-nspawn, pebble, spamassassin… lab/install-deps.sh installs them when one is missing.
if [ "$(id -u)" = 0 ] && [ "$(uname -s)" = Linux ] && [ "${LAB:-}" != 0 ] && command -v apt-get >/dev/null 2>&1; then
  for command in debootstrap systemd-nspawn pebble spamassassin dpkg-scanpackages; do
    if ! command -v "$command" >/dev/null 2>&1; then
      echo "Installing the mail lab's packages (lab/install-deps.sh)"
      sh "$(dirname "$0")/../lab/install-deps.sh"
      break
    fi
  done
fi
