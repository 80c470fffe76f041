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
#   - busybox-static for arm64 (the test initramfs);
#   - with KP_QEMU11=1 (make deps QEMU11=1), for qemu-test-s1pie: QEMU 11
#     from trixie-backports at exactly the version in qemu11-version, with
#     the closure of its dependencies from trixie (glibc included), into
#     deps/qemu11, run through that root's own dynamic loader
#     (deps/qemu11/qemu-system-aarch64, a wrapper); bookworm's QEMU 10 lacks
#     FEAT_S1PIE.
# The last three come from a private apt configuration that leaves the
# system's sources and packages untouched.
#
# Environment: KP_CACHE (default /var/cache/kvmprof-kernel), KP_QEMU11.
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

# Private apt configuration: its own sources, lists, archive directory and
# an empty dpkg status (nothing is installed, as far as it knows: "install
# --download-only" fetches the whole dependency closure). <suite> may list
# several suites, separated by blanks.
APT_DIR=$DEPS/apt
apt_private() {
	local name=$1 arch=$2 suite=$3 s
	shift 3
	local root=$APT_DIR/$name
	mkdir -p "$root/lists/partial" "$root/archives/partial"
	: >"$root/status"
	for s in $suite; do
		echo "deb [arch=$arch] $MIRROR $s main"
	done >"$root/sources.list"
	apt-get -q -o Dir::Etc::SourceList="$root/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o Dir::Etc::Preferences=/dev/null \
		-o Dir::Etc::PreferencesParts=/dev/null \
		-o Dir::State::Lists="$root/lists" \
		-o Dir::State::status="$root/status" \
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

# QEMU 11 (qemu-test-s1pie): the pinned qemu-system-arm of trixie-backports
# and everything it needs from trixie, glibc included, unpacked into
# deps/qemu11 (nothing is installed). deps/qemu11/qemu-system-aarch64 runs it
# with that root's dynamic loader and libraries.
QEMU11_VERSION=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$(dirname "$0")/qemu11-version")
QEMU11_ROOT=$DEPS/qemu11
QEMU11=$QEMU11_ROOT/qemu-system-aarch64
qemu11_ok() {
	[ "$(cat "$QEMU11_ROOT/version" 2>/dev/null)" = "$QEMU11_VERSION" ] &&
		[[ $("$QEMU11" --version 2>/dev/null) == *"version 11."* ]]
}
if [ "${KP_QEMU11:-0}" = 1 ] && ! qemu11_ok; then
	log "fetching QEMU $QEMU11_VERSION from trixie-backports, with its trixie libraries"
	root=$APT_DIR/qemu11
	rm -rf "$root/archives" "$QEMU11_ROOT.tmp"
	apt_private qemu11 amd64 "trixie trixie-backports" update >/dev/null
	apt_private qemu11 amd64 "trixie trixie-backports" install -y --download-only \
		--no-install-recommends "qemu-system-arm=$QEMU11_VERSION" \
		"qemu-system-common=$QEMU11_VERSION" "qemu-system-data=$QEMU11_VERSION" \
		>"$root/install.log" 2>&1 || {
		cat "$root/install.log" >&2
		die "QEMU $QEMU11_VERSION cannot be had from trixie-backports (qemu11-version; apt-cache policy in $root lists what can)"
	}
	mkdir -p "$QEMU11_ROOT.tmp"
	for deb in "$root"/archives/*.deb; do
		dpkg -x "$deb" "$QEMU11_ROOT.tmp"
	done
	ld=usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2	# trixie's libc6
	[ -f "$QEMU11_ROOT.tmp/$ld" ] || die "the QEMU 11 closure has no $ld"
	# -L: its firmware and data; modules (display, audio) are not used
	cat >"$QEMU11_ROOT.tmp/qemu-system-aarch64" <<-EOF
		#!/bin/sh
		# QEMU $QEMU11_VERSION (trixie-backports) with trixie's libraries (deps.sh)
		r=\$(dirname "\$(readlink -f "\$0")")
		exec "\$r/$ld" --library-path "\$r/usr/lib/x86_64-linux-gnu:\$r/lib/x86_64-linux-gnu" \\
			"\$r/usr/bin/qemu-system-aarch64" "\$@"
	EOF
	chmod 755 "$QEMU11_ROOT.tmp/qemu-system-aarch64"
	echo "$QEMU11_VERSION" >"$QEMU11_ROOT.tmp/version"
	for deb in "$root"/archives/*.deb; do
		basename "$deb"
	done >"$QEMU11_ROOT.tmp/debs"
	rm -rf "$QEMU11_ROOT"
	mv "$QEMU11_ROOT.tmp" "$QEMU11_ROOT"
	rm -rf "$root/archives"
	qemu11_ok || die "$QEMU11 does not run as QEMU 11: $("$QEMU11" --version 2>&1 | head -3)"
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
if qemu11_ok; then
	log "ok: $("$QEMU11" --version | head -1) ($QEMU11)"
fi
