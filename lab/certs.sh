#!/bin/bash
# Lab TLS material (fresh per run): a lab CA, Pebble's HTTPS certificate (acme.lab.test,
# 192.0.2.40) and the receiving MX's STARTTLS certificate (mx.example.net).
#   lab/certs.sh DIR   → DIR/{ca.pem,ca.key,acme.pem,acme.key,mx.pem,mx.key}
set -euo pipefail
D=$1; mkdir -p "$D"; cd "$D"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mail lab CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  -keyout ca.key -out ca.pem 2>/dev/null
leaf() { # name sans
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$2" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
leaf acme "DNS:acme.lab.test,IP:192.0.2.40,IP:2001:db8::40"
leaf mx "DNS:mx.example.net"
