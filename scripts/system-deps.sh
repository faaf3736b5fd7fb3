#!/usr/bin/env bash
# The machine packages `npm test` uses for real: nsd (the DNS server the `check` command is tested
# against), openssh-client, python3, shellcheck and pyflakes3 (the lint of what Biome does not
# read); and, as root on Linux, what the mail lab and the Debian 13 tools root need (lab/install-deps.sh: debootstrap, systemd-container, pebble, spamassassin…).
# Installs the missing ones when run as root with apt; otherwise says what is missing, and the
# tests that need them are skipped with that reason (CI sets REQUIRE_ALL=1: a skip fails it).
set -euo pipefail

declare -A packages=([nsd]=nsd [ssh]=openssh-client [python3]=python3 [shellcheck]=shellcheck [pyflakes3]=pyflakes3)
missing=()
for command in "${!packages[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${packages[$command]}")
done

if [ ${#missing[@]} -eq 0 ]; then
  :
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${missing[*]} for the tests (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "Not root or no apt-get: tests that need ${missing[*]} will be skipped (install: apt-get install ${missing[*]})"
fi

if [ "$(id -u)" = 0 ] && [ "$(uname -s)" = Linux ] && command -v apt-get >/dev/null 2>&1; then
  for command in debootstrap systemd-nspawn pebble spamassassin dpkg-scanpackages; do
    if ! command -v "$command" >/dev/null 2>&1; then
      echo "Installing the mail lab's packages (lab/install-deps.sh)"
      sh "$(dirname "$0")/../lab/install-deps.sh"
      break
    fi
  done
else
  echo "Not root on Linux with apt: the mail lab and the Debian 13 tool checks will be skipped (they need namespaces, chroot and systemd-nspawn)"
fi
