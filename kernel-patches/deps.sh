#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Installs what `make -C kernel-patches check` and `qemu-test` need.
# Idempotent: a second run only checks.
#
# System packages come from Debian's registry through apt-get. Three things
# are not installed system-wide but unpacked into the cache with dpkg -x:
#   - the base tree: linux-source-6.12 at exactly the version in base-version
#     (apt-get download PKG=VERSION from the system's sources, which carry
#     bookworm-security; the newest version is never picked up by accident);
#   - QEMU 10 from bookworm-backports (bookworm's QEMU 7.2 lacks FEAT_FGT);
#     its shared libraries are those of the system qemu-system-arm package;
#   - busybox-static for arm64 (the test initramfs).
# The last two come from a private apt configuration that leaves the system's
# sources untouched.
#
# Environment: KP_CACHE (default /var/cache/kvmprof-kernel).
set -euo pipefail

CACHE=${KP_CACHE:-/var/cache/kvmprof-kernel}
DEPS=$CACHE/deps
SUITE=bookworm
BACKPORTS=bookworm-backports
MIRROR=${KP_DEBIAN_MIRROR:-http://deb.debian.org/debian}

log() { printf '[kernel-patches deps] %s\n' "$*" >&2; }
die() { printf '[kernel-patches deps] ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (apt-get install)"

PKGS=(
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	make bc flex bison libssl-dev libelf-dev dwarves
	perl python3 python3-ply python3-git git ccache xz-utils cpio gzip coreutils
	device-tree-compiler	# the device tree of the Linux guest (L2)
	qemu-system-arm		# pulls in the shared libraries QEMU 10 uses
)

missing=()
for p in "${PKGS[@]}"; do
	[[ $p == \#* ]] && continue
	[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# The base tree, pinned (base-version); lib.sh reads the same file.
KP_DIR=$(cd "$(dirname "$0")" && pwd)
BASE_PKG_VERSION=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$KP_DIR/base-version")
BASE_DIR=$CACHE/base/$BASE_PKG_VERSION
BASE_TARBALL=$BASE_DIR/usr/src/linux-source-6.12.tar.xz
if ! [ -f "$BASE_TARBALL" ]; then
	log "fetching linux-source-6.12=$BASE_PKG_VERSION"
	rm -rf "$BASE_DIR.tmp"
	mkdir -p "$BASE_DIR.tmp"
	if ! (cd "$BASE_DIR.tmp" &&
		apt-get download -q "linux-source-6.12=$BASE_PKG_VERSION" >/dev/null 2>&1); then
		apt-get update -q >/dev/null
		(cd "$BASE_DIR.tmp" &&
			apt-get download -q "linux-source-6.12=$BASE_PKG_VERSION" >/dev/null) ||
			die "linux-source-6.12=$BASE_PKG_VERSION cannot be downloaded (apt-cache madison linux-source-6.12 lists what can; see README, Base)"
	fi
	dpkg -x "$BASE_DIR.tmp"/linux-source-6.12_*.deb "$BASE_DIR.tmp/root"
	rm -rf "$BASE_DIR"
	mv "$BASE_DIR.tmp/root" "$BASE_DIR"
	rm -rf "$BASE_DIR.tmp"
	[ -f "$BASE_TARBALL" ] ||
		die "linux-source-6.12=$BASE_PKG_VERSION has no /usr/src/linux-source-6.12.tar.xz"
fi

# Private apt configuration: its own sources, lists and archive directory.
APT_DIR=$DEPS/apt
apt_private() {
	local name=$1 arch=$2 suite=$3
	shift 3
	local root=$APT_DIR/$name
	mkdir -p "$root/lists/partial" "$root/archives/partial"
	echo "deb [arch=$arch] $MIRROR $suite main" >"$root/sources.list"
	apt-get -q -o Dir::Etc::SourceList="$root/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$root/lists" \
		-o Dir::Cache::Archives="$root/archives" \
		-o APT::Architecture="$arch" -o APT::Architectures::="$arch" \
		-o APT::Sandbox::User=root \
		"$@"
}

fetch_debs() {
	local name=$1 arch=$2 suite=$3 dest=$4
	shift 4
	local root=$APT_DIR/$name
	rm -rf "$root/debs" "$dest.tmp"
	mkdir -p "$root/debs" "$dest.tmp"
	apt_private "$name" "$arch" "$suite" update >/dev/null
	(cd "$root/debs" && apt_private "$name" "$arch" "$suite" download "$@" >/dev/null)
	for deb in "$root"/debs/*.deb; do
		dpkg -x "$deb" "$dest.tmp"
	done
	rm -rf "$dest"
	mv "$dest.tmp" "$dest"
}

QEMU=$DEPS/qemu10/usr/bin/qemu-system-aarch64
qemu_is_10() { [[ $("$QEMU" --version 2>/dev/null) == *"version 10."* ]]; }
if ! qemu_is_10; then
	log "fetching QEMU 10 from $BACKPORTS"
	fetch_debs qemu amd64 "$BACKPORTS" "$DEPS/qemu10" \
		"qemu-system-arm/$BACKPORTS" "qemu-system-common/$BACKPORTS" \
		"qemu-system-data/$BACKPORTS"
	qemu_is_10 ||
		die "QEMU from $BACKPORTS is not version 10"
fi

BUSYBOX=$DEPS/busybox-arm64/bin/busybox
if ! [ -x "$BUSYBOX" ]; then
	log "fetching busybox-static:arm64"
	fetch_debs busybox arm64 "$SUITE" "$DEPS/busybox-arm64" busybox-static
	[ -x "$BUSYBOX" ] || die "busybox-static:arm64 has no bin/busybox"
fi

log "ok: base linux-source-6.12=$BASE_PKG_VERSION; $("$QEMU" --version | head -1); busybox-static arm64 in $DEPS"
