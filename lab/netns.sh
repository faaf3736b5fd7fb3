#!/bin/bash
# The lab's network: namespaces joined by one bridge, documentation addresses only, no route off
# the machine.  `lab/netns.sh up` creates it, `lab/netns.sh down` removes it (safe to repeat).
#
#   mlab-hub     bridge br0 (no addresses); the container boots here (--network-bridge=br0)
#   mlab-dns     192.0.2.53  2001:db8::53   NSD (the lab's only resolver)
#                192.0.2.54  2001:db8::54   NSD serving the zone without the server's PTRs
#   mlab-mx      192.0.2.20  2001:db8::20   receiving MX for example.net (lab/receiver.ts)
#   mlab-client  192.0.2.30  2001:db8::30   outside client
#   mlab-acme    192.0.2.40  2001:db8::40   Pebble
# The server itself (192.0.2.10, 2001:db8::10) is configured by cloud-init inside the container.
set -euo pipefail
P=${LAB_NETNS_PREFIX:-mlab}
NODES="dns mx client acme"
addrs() {
  case $1 in
    dns) echo "192.0.2.53/24 2001:db8::53/64 192.0.2.54/24 2001:db8::54/64" ;;
    mx) echo "192.0.2.20/24 2001:db8::20/64" ;;
    client) echo "192.0.2.30/24 2001:db8::30/64" ;;
    acme) echo "192.0.2.40/24 2001:db8::40/64" ;;
  esac
}

down() {
  for n in $NODES hub; do
    if [ -e "/run/netns/$P-$n" ]; then ip netns del "$P-$n" || true; fi
    rm -rf "/etc/netns/$P-$n"
  done
}

up() {
  down
  ip netns add "$P-hub"
  ip -n "$P-hub" link set lo up
  ip -n "$P-hub" link add br0 type bridge
  ip netns exec "$P-hub" sysctl -qw net.ipv6.conf.br0.disable_ipv6=1 2>/dev/null || true
  ip -n "$P-hub" link set br0 up
  for n in $NODES; do
    ns=$P-$n
    ip netns add "$ns"
    mkdir -p "/etc/netns/$ns"
    printf 'nameserver 192.0.2.53\nsearch example.com\n' >"/etc/netns/$ns/resolv.conf"
    ip -n "$ns" link set lo up
    ip -n "$P-hub" link add "v-$n" type veth peer name eth0 netns "$ns"
    ip -n "$P-hub" link set "v-$n" master br0 up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
    for a in $(addrs "$n"); do
      case $a in *:*) ip -n "$ns" addr add "$a" dev eth0 nodad ;; *) ip -n "$ns" addr add "$a" dev eth0 ;; esac
    done
    ip -n "$ns" link set eth0 up
  done
}

case ${1:-} in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
