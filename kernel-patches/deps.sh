#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Installs what `make -C kernel-patches check`, `matrix`, `qemu-test`,
# `kunit` and `qemu-bench` need.
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

. "$(dirname "$0")/scripts/lib.sh"
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
	clang lld llvm		# check: the LLVM=1 Image
	sparse			# check: C=2 on the changed files
	python3-docutils	# check: the changed .rst files (scripts/rst-check.py)
	qemu-system-arm		# pulls in the shared libraries QEMU 10 uses
)

missing=()
for p in "${PKGS[@]}"; do
	[[ $p == \#* ]] && continue
	# the machine's own architecture (arm64 builds of some may be there too)
	dpkg-query -W -f='${Status} ${Architecture}\n' "$p" 2>/dev/null |
		grep -Eq "^install ok installed ($(dpkg --print-architecture)|all)\$" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# The base tree, pinned (base-version), into the cache (lib.sh)
KP_DIR=$(cd "$(dirname "$0")" && pwd)
fetch_base "$BASE_PKG_VERSION"

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

# kvmprof itself for arm64 (qemu-test runs it in every boot): the cross
# compiler and the arm64 builds of its libraries
"$KP_DIR/../scripts/deps.sh" --arch arm64 >&2

log "ok: base linux-source-6.12=$BASE_PKG_VERSION; $("$QEMU" --version | head -1); busybox-static arm64 in $DEPS"
