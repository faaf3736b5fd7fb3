#!/bin/bash
# Build (and cache) the lab's Debian 13 (trixie) root filesystem and a local apt repository
# holding every package the user data installs, with dependencies and security updates.
#
#   lab/rootfs.sh CACHE_DIR PACKAGE...   (root; needs debootstrap, dpkg-dev; network to the apt mirror)
# The packages for the local repository are the PACKAGE arguments: the component's own list
# (HOST_PACKAGES in components/host/bundle.ts, which lab/setup.ts and the tests pass), never a
# copy kept here. LAB_SUITE overrides the suite (default trixie).
#
# Output (printed as shell assignments on the last two lines):
#   ROOTFS=<CACHE_DIR>/rootfs-<key>   a cloud-image-like root: systemd, cloud-init, python3,
#                                      openssh-server, C.UTF-8, apt sources = only the local
#                                      repository (deb822 lab.sources, file:/srv/repo),
#                                      cloud-init told to keep those sources
#   REPO=<CACHE_DIR>/repo-<key>       flat apt repository (Packages.gz), bind-mount it read-only
#                                      at /srv/repo inside the container
#   TOOLS=<CACHE_DIR>/tools-<key>     the same root with the packages installed: the tests run
#                                      Debian 13's postconf, opendkim, sshd, visudo, nft and
#                                      cloud-init there (chroot) on the files the component renders
# The key hashes this script, the package lists and the mirror; a complete cache entry is reused,
# an incomplete one is rebuilt. Timing of each step goes to stderr.
set -euo pipefail

if (( $# < 2 )); then
  echo "usage: lab/rootfs.sh CACHE_DIR PACKAGE... (the packages: HOST_PACKAGES of components/host/bundle.ts)" >&2
  exit 2
fi
CACHE_DIR=$1
MIRROR=${LAB_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${LAB_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
SUITE=${LAB_SUITE:-trixie}
# What a DigitalOcean/Linode Debian 13 image has that matters here (python3-cffi-backend:
# debootstrap can't resolve python3-cryptography's virtual dependency on its own, in trixie as in
# bookworm; locales comes in as a dependency of cloud-init).
BASE_PACKAGES="systemd,systemd-sysv,dbus,cloud-init,python3,python3-cffi-backend,iproute2,procps,sudo,openssh-server,ca-certificates,gnupg,less"
# What the configuration step installs: the arguments after CACHE_DIR.
USERDATA_PACKAGES="${*:2}"   # one space apart (cache key)
USERDATA_LIST=("${@:2}")
[[ -n $USERDATA_PACKAGES ]] || { echo "rootfs.sh: no packages for the local repository" >&2; exit 2; }

log() { printf '[rootfs %s] %s\n' "$(date +%T)" "$*" >&2; }
step() { STEP_NAME=$1; STEP_T0=$(date +%s.%N); log "$1 ..."; }
done_step() { log "$STEP_NAME done in $(awk -v a="$STEP_T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"; }

KEY=$( { cat "$0"; echo "$BASE_PACKAGES|$USERDATA_PACKAGES|$MIRROR|$SECURITY_MIRROR|$SUITE"; } | sha256sum | cut -c1-16)
ROOTFS=$CACHE_DIR/rootfs-$KEY
REPO=$CACHE_DIR/repo-$KEY
mkdir -p "$CACHE_DIR"

TOOLS=$CACHE_DIR/tools-$KEY
complete() { [[ -f $ROOTFS/.lab-complete && -f $REPO/Packages.gz && -f $TOOLS/.lab-complete ]]; }
if complete; then
  log "cache hit: $ROOTFS"
  echo "ROOTFS=$ROOTFS"; echo "REPO=$REPO"; echo "TOOLS=$TOOLS"; exit 0
fi

# one builder at a time per cache dir; another may have finished while this one waited
exec 9>"$CACHE_DIR/.lock"; flock 9
if complete; then
  log "cache hit after waiting: $ROOTFS"
  echo "ROOTFS=$ROOTFS"; echo "REPO=$REPO"; echo "TOOLS=$TOOLS"; exit 0
fi
TMP_ROOT=$ROOTFS.tmp
# unmount anything left mounted under a directory (an interrupted build's /proc, /dev) before
# deleting it: rm -rf through a bind mount of /dev would delete the host's device nodes
unmount_under() {
  local d m
  d=$(realpath -m "$1")
  awk '{print $2}' /proc/mounts | { grep -E "^$d(/|$)" || true; } | sort -r | while IFS= read -r m; do umount -l "$m" || true; done
}
safe_rm() { for d in "$@"; do unmount_under "$d"; rm -rf --one-file-system "$d"; done; }
safe_rm "$ROOTFS" "$REPO" "$TOOLS" "$TMP_ROOT" "$REPO.tmp" "$TOOLS.tmp"

in_root() { chroot "$TMP_ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
cleanup() { unmount_under "$TMP_ROOT"; }
trap cleanup EXIT

step debootstrap
# Debian 12's debootstrap (1.0.128+nmu2+deb12u2) has scripts/trixie (-> sid); an older one may not:
# trixie's bootstrap is the same as sid's
SCRIPT=/usr/share/debootstrap/scripts/$SUITE
[[ -e $SCRIPT ]] || SCRIPT=/usr/share/debootstrap/scripts/sid
debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$TMP_ROOT" "$MIRROR" "$SCRIPT" >"$CACHE_DIR/debootstrap.log" 2>&1 \
  || { tail -30 "$CACHE_DIR/debootstrap.log" >&2; exit 1; }
done_step

mount -t proc proc "$TMP_ROOT/proc"
mount --rbind /dev "$TMP_ROOT/dev"
cp /etc/resolv.conf "$TMP_ROOT/etc/resolv.conf"   # build only; replaced below

step "security and point updates"
# deb822, as a Debian 13 cloud image has it (debootstrap wrote a one-line sources.list)
rm -f "$TMP_ROOT/etc/apt/sources.list"
cat >"$TMP_ROOT/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
in_root apt-get update -qq
in_root apt-get -y -qq -o Dpkg::Options::=--force-confold dist-upgrade >/dev/null
done_step

step "download user-data packages"
# Same root, same apt configuration (Recommends on) as cloud-init's `apt-get install` at boot,
# so the download is exactly what the boot will ask for.
mkdir -p "$REPO.tmp"
in_root apt-get -y -qq install --download-only "${USERDATA_LIST[@]}" >/dev/null
cp "$TMP_ROOT"/var/cache/apt/archives/*.deb "$REPO.tmp/"
# keep the base image's own packages too, so a `package_upgrade` or reinstall finds them
done_step

step "index local repository"
(cd "$REPO.tmp" && dpkg-scanpackages -m . /dev/null 2>/dev/null | gzip -9 >Packages.gz)
log "repository: $(find "$REPO.tmp" -maxdepth 1 -name '*.deb' | wc -l) packages, $(du -sh "$REPO.tmp" | cut -f1)"
done_step

step "configure image"
rm -rf "$TMP_ROOT"/etc/apt/sources.list "$TMP_ROOT"/etc/apt/sources.list.d/*
cat >"$TMP_ROOT/etc/apt/sources.list.d/lab.sources" <<'EOF'
Types: deb
URIs: file:/srv/repo
Suites: ./
Trusted: yes
EOF
in_root apt-get clean
rm -rf "$TMP_ROOT"/var/lib/apt/lists/*
mkdir -p "$TMP_ROOT/srv/repo"
# cloud-init must keep the local sources (the image's only package source; Debian's own
# cloud.cfg sets this too, in 22.4 and 25.1; a provider's image may not)
cat >"$TMP_ROOT/etc/cloud/cloud.cfg.d/01_lab_apt.cfg" <<'EOF'
apt:
  preserve_sources_list: true
EOF
# NoCloud only, so cloud-init doesn't probe metadata services it cannot reach
cat >"$TMP_ROOT/etc/cloud/cloud.cfg.d/02_lab_datasource.cfg" <<'EOF'
datasource_list: [ NoCloud, None ]
EOF
# (trixie: /etc/default/locale is a symlink to ../locale.conf; cloud-init 25.1 assumes C.UTF-8
# when no locale is set, 22.4 assumed en_US.UTF-8 and failed without it)
echo 'LANG=C.UTF-8' >"$TMP_ROOT/etc/default/locale"
# networkd: no router advertisements in the lab (wait-online would wait ~13 s for one)
mkdir -p "$TMP_ROOT/etc/systemd/network/10-cloud-init-host0.network.d"
printf '[Network]\nIPv6AcceptRA=no\n' >"$TMP_ROOT/etc/systemd/network/10-cloud-init-host0.network.d/lab.conf"
in_root systemctl enable systemd-networkd.service >/dev/null 2>&1
# debootstrap copies host identity: empty it so first boot is a first boot
: >"$TMP_ROOT/etc/machine-id"
rm -f "$TMP_ROOT/var/lib/dbus/machine-id"
echo localhost >"$TMP_ROOT/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$TMP_ROOT/etc/hosts"
rm -f "$TMP_ROOT/etc/resolv.conf"   # written per boot by the lab (points at the lab DNS)
rm -f "$TMP_ROOT"/etc/ssh/ssh_host_*   # regenerated by cloud-init, as on a cloud image
# a root password is never needed: the lab enters with nsenter
done_step

cleanup
trap - EXIT
mv "$REPO.tmp" "$REPO"
touch "$TMP_ROOT/.lab-complete"
mv "$TMP_ROOT" "$ROOTFS"

step "tools root (the packages installed, offline, from the local repository)"
cp -a "$ROOTFS" "$TOOLS.tmp"
rm -f "$TOOLS.tmp/.lab-complete"
mount --bind "$REPO" "$TOOLS.tmp/srv/repo"
mount -t proc proc "$TOOLS.tmp/proc"
tools_cleanup() { unmount_under "$TOOLS.tmp"; }
trap tools_cleanup EXIT
in_tools() { chroot "$TOOLS.tmp" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
echo "postfix postfix/main_mailer_type select No configuration" | in_tools debconf-set-selections
in_tools apt-get update -qq
# policy-rc.d: install without starting services in the chroot
printf '#!/bin/sh\nexit 101\n' >"$TOOLS.tmp/usr/sbin/policy-rc.d"; chmod 755 "$TOOLS.tmp/usr/sbin/policy-rc.d"
in_tools apt-get -y -qq install "${USERDATA_LIST[@]}" >/dev/null
rm -rf "$TOOLS.tmp"/var/lib/apt/lists/*
tools_cleanup
trap - EXIT
touch "$TOOLS.tmp/.lab-complete"
mv "$TOOLS.tmp" "$TOOLS"
done_step

# drop older cache entries
for d in "$CACHE_DIR"/rootfs-* "$CACHE_DIR"/repo-* "$CACHE_DIR"/tools-*; do
  case $d in "$ROOTFS"|"$REPO"|"$TOOLS") ;; *) safe_rm "$d" ;; esac
done
echo "ROOTFS=$ROOTFS"; echo "REPO=$REPO"; echo "TOOLS=$TOOLS"
