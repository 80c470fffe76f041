# SPDX-License-Identifier: GPL-2.0-only
# Shared by the scripts of kernel-patches/scripts. Sourced, not run.
#
# Layout of the cache (KP_CACHE, default /var/cache/kvmprof-kernel), reused
# from one run to the next and rebuilt piecewise when its inputs change:
#   linux/		git repository of the base tree (tag "base")
#   linux-image/	git worktree at the tip of the series, for qemu-test
#   linux-base/		git worktree at "base", for qemu-bench's baseline
#   build-check/	O= build directory of check (W=1, arch/arm64/kvm/)
#   build-image/	O= build directory of qemu-test (Image with BTF)
#   build-base/		O= build directory of the base tree's Image (qemu-bench)
#   ccache/		compiler cache shared by both
#   deps/		QEMU 10 and busybox, filled by deps.sh

set -euo pipefail

KP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${KP_CACHE:-/var/cache/kvmprof-kernel}
JOBS=${KP_JOBS:-2}
# The base: Debian's linux-source-6.12 at the version in base-version
# ("6.12.117-1~deb12u1"; the kernel's own version is the part before "-"),
# fetched by deps.sh into the cache.
BASE_PKG_VERSION=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$KP_DIR/base-version")
BASE_VERSION=${BASE_PKG_VERSION%%-*}
BASE_TARBALL=${KP_BASE_TARBALL:-$CACHE/base/$BASE_PKG_VERSION/usr/src/linux-source-6.12.tar.xz}
CROSS=aarch64-linux-gnu-
SERIES=$KP_DIR/series
CONFIG_FRAGMENT=$KP_DIR/config/qemu.config
SRC=$CACHE/linux

QEMU=$CACHE/deps/qemu10/usr/bin/qemu-system-aarch64
QEMU_DATA=$CACHE/deps/qemu10/usr/share/qemu
BUSYBOX=$CACHE/deps/busybox-arm64/bin/busybox

export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
# Paths relative to the cache's parent, and no working directory in the
# hash: trees and build directories at the same places inside two caches
# (KP_CACHE) share their objects.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(dirname "$CACHE")}
export CCACHE_NOHASHDIR=1

log() { printf '[kernel-patches] %s\n' "$*" >&2; }
die() { printf '[kernel-patches] ERROR: %s\n' "$*" >&2; exit 1; }

now() { date +%s; }

need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || die "$t not found: run kernel-patches/deps.sh"
	done
}

# The series, in the order in which they apply together: one folder each
# (its cover letter, its patches and a series file listing them).
series_names() {
	local line
	[ -f "$SERIES" ] || die "no series file at $SERIES"
	while read -r line; do
		line=${line%%#*}
		line=$(echo "$line" | tr -d '[:space:]')
		[ -n "$line" ] || continue
		[ -f "$KP_DIR/$line/series" ] || die "series lists $line, which has no $line/series"
		echo "$line"
	done <"$SERIES"
}

# Patches of the named series (default: all of them, in order), as absolute
# paths, without the cover letters.
series_patches() {
	local name line
	for name in ${*:-$(series_names)}; do
		while read -r line; do
			line=${line%%#*}
			line=$(echo "$line" | tr -d '[:space:]')
			[ -n "$line" ] || continue
			[ -f "$KP_DIR/$name/$line" ] ||
				die "$name/series lists $line, which does not exist"
			echo "$KP_DIR/$name/$line"
		done <"$KP_DIR/$name/series"
	done
}

# Identifies the series' content: changes whenever any patch does.
series_key() {
	series_patches | xargs cat | sha256sum | cut -d' ' -f1
}

# kmake <source tree> <build directory> <make arguments>
kmake() {
	local src=$1 out=$2
	shift 2
	make -s --no-print-directory -C "$src" O="$out" ARCH=arm64 CROSS_COMPILE=$CROSS \
		CC="ccache ${CROSS}gcc" -j"$JOBS" "$@"
}

# base_tarball <package version>: where fetch_base puts its source tarball
base_tarball() {
	echo "$CACHE/base/$1/usr/src/linux-source-6.12.tar.xz"
}

# fetch_base <package version>: Debian's linux-source-6.12 at exactly that
# version (bookworm-security keeps several), unpacked into $CACHE/base/.
fetch_base() {
	local v=$1 dir=$CACHE/base/$1
	[ -f "$(base_tarball "$v")" ] && return
	log "fetching linux-source-6.12=$v"
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp"
	if ! (cd "$dir.tmp" && apt-get download -q "linux-source-6.12=$v" >/dev/null 2>&1); then
		apt-get update -q >/dev/null
		(cd "$dir.tmp" && apt-get download -q "linux-source-6.12=$v" >/dev/null) ||
			die "linux-source-6.12=$v cannot be downloaded (apt-cache madison linux-source-6.12 lists what can; README, Base)"
	fi
	dpkg -x "$dir.tmp"/linux-source-6.12_*.deb "$dir.tmp/root"
	rm -rf "$dir"
	mv "$dir.tmp/root" "$dir"
	rm -rf "$dir.tmp"
	[ -f "$(base_tarball "$v")" ] ||
		die "linux-source-6.12=$v has no /usr/src/linux-source-6.12.tar.xz"
}

# Unpack the base tree into a git repository, once per tarball.
prepare_base() {
	local key version
	need ${CROSS}gcc ccache git make flex bison bc pahole perl
	[ -f "$BASE_TARBALL" ] || die "$BASE_TARBALL missing: run kernel-patches/deps.sh"
	mkdir -p "$CACHE"
	key="$BASE_PKG_VERSION $(stat -c '%s %Y' "$BASE_TARBALL")"
	if [ -d "$SRC/.git" ] && [ "$(cat "$SRC/.git/kvmprof-base" 2>/dev/null)" = "$key" ]; then
		return
	fi
	log "unpacking $BASE_TARBALL into $SRC"
	rm -rf "$SRC" "$CACHE/linux-image" "$CACHE/linux-image.key"
	mkdir -p "$SRC"
	tar -xf "$BASE_TARBALL" -C "$SRC" --strip-components=1
	# --no-print-directory: make must print the version and nothing else.
	version=$(make -s --no-print-directory -C "$SRC" kernelversion 2>/dev/null)
	if [ "$version" != "$BASE_VERSION" ]; then
		rm -rf "$SRC"
		die "$BASE_TARBALL is Linux $version; the series is based on $BASE_VERSION (base-version): run kernel-patches/deps.sh"
	fi
	(
		cd "$SRC"
		git init -q -b linux
		git config user.name "kvmprof check"
		git config user.email check@kvmprof.invalid
		git config gc.auto 0
		# Debian's top-level .gitignore ignores everything: force.
		git add -f .
		git commit -q -m "Debian linux-source-6.12 $version"
		git tag -f base >/dev/null
	)
	echo "$key" >"$SRC/.git/kvmprof-base"
}

# Apply the whole series with git am in worktree $1, unless already there.
apply_series() {
	local wt=$1 key p
	key=$(series_key)
	if [ -d "$wt" ] && [ "$(cat "$wt.key" 2>/dev/null)" = "$key" ]; then
		return
	fi
	log "applying the series in $wt"
	rm -f "$wt.key"
	if [ ! -d "$wt" ]; then
		git -C "$SRC" worktree prune
		git -C "$SRC" worktree add -q -f --detach "$wt" base
	fi
	git -C "$wt" am --abort >/dev/null 2>&1 || true
	git -C "$wt" checkout -q -f --detach base
	for p in $(series_patches); do
		case $(basename "$p") in 0000-*) continue ;; esac
		git -C "$wt" am -q -3 --whitespace=error "$p" ||
			die "git am failed on $(basename "$p")"
	done
	echo "$key" >"$wt.key"
}

# configure <source tree> <build directory> [fragment...]: allnoconfig with
# the fragments (default: config/qemu.config; each one adds symbols to the
# ones before), unless done.
configure() {
	local src=$1 out=$2 key line frag
	shift 2
	[ $# -gt 0 ] || set -- "$CONFIG_FRAGMENT"
	mkdir -p "$out"
	frag=$out/.kp-fragment
	cat "$@" >"$frag"
	key=$( (cat "$frag"; git -C "$src" rev-parse HEAD^{tree}) | sha256sum | cut -d' ' -f1)
	if [ -f "$out/.config" ] && [ "$(cat "$out/.fragment-key" 2>/dev/null)" = "$key" ]; then
		return
	fi
	KCONFIG_ALLCONFIG=$frag kmake "$src" "$out" allnoconfig
	while read -r line; do
		case $line in CONFIG_*) ;; *) continue ;; esac
		grep -qx "$line" "$out/.config" && continue
		sym=${line%%=*}
		# Not a symbol of this tree (yet): a later patch adds it.
		grep -rqE "^[[:space:]]*(menu)?config[[:space:]]+${sym#CONFIG_}\$" \
			--include='Kconfig*' "$src/arch/arm64" "$src/drivers" \
			"$src/init" "$src/kernel" "$src/lib" "$src/mm" "$src/virt" || continue
		die "config fragment: $line did not stick (dependency missing?)"
	done <"$frag"
	echo "$key" >"$out/.fragment-key"
}

# build_image <source tree> <build directory> <log> [fragment...]: the
# trimmed Image with BTF and the UAPI headers (<build directory>/usr/include);
# fragments as for configure.
build_image() {
	local src=$1 out=$2 blog=$3 t sections
	configure "$src" "$out" "${@:4}"
	t=$(now)
	log "building Image (with BTF) in $out"
	kmake "$src" "$out" Image headers >"$blog" 2>&1 || {
		tail -40 "$blog" >&2
		die "Image build failed (log: $blog)"
	}
	grep -q '^CONFIG_DEBUG_INFO_BTF=y' "$out/.config" || die "BTF is not enabled"
	# (no "grep -q" in a pipeline: with pipefail, the writer's SIGPIPE fails it)
	sections=$(${CROSS}readelf -S "$out/vmlinux")
	grep -q '\.BTF' <<<"$sections" || die "vmlinux has no .BTF section"
	log "Image built in $(($(now) - t))s"
}

# A git worktree of the base tree without the series, at $1.
base_worktree() {
	local wt=$1
	[ -d "$wt" ] && [ "$(git -C "$wt" rev-parse HEAD)" = "$(git -C "$SRC" rev-parse base)" ] && return
	log "base tree worktree in $wt"
	rm -rf "$wt"
	git -C "$SRC" worktree prune
	git -C "$SRC" worktree add -q -f --detach "$wt" base
}

# build_patched_and_base: for the scripts that compare the series with the
# base tree (qemu-bench, qemu-exitcost): checks that QEMU 10 and busybox are
# there, then builds the series' Image (worktree linux-image/, build-image/)
# and the base tree's Image without the series, same configuration
# (linux-base/, build-base/). Sets BUILD and BASE_BUILD to the two build
# directories (BUILD/usr/include: the patched UAPI headers).
build_patched_and_base() {
	local wt=$CACHE/linux-image base_wt=$CACHE/linux-base
	BUILD=$CACHE/build-image
	BASE_BUILD=$CACHE/build-base
	[ -x "$QEMU" ] || die "QEMU 10 missing ($QEMU): run kernel-patches/deps.sh"
	[ -x "$BUSYBOX" ] || die "busybox-static:arm64 missing: run kernel-patches/deps.sh"
	prepare_base
	apply_series "$wt"
	build_image "$wt" "$BUILD" "$CACHE/build-image.log"
	base_worktree "$base_wt"
	build_image "$base_wt" "$BASE_BUILD" "$CACHE/build-base.log"
}

# build_static <output> <UAPI include directory> <sources...>: a static
# arm64 program, warnings as errors.
build_static() {
	local out=$1 inc=$2
	shift 2
	${CROSS}gcc -static -O2 -Wall -Wextra -Werror -I "$inc" -o "$out" "$@" ||
		die "$(basename "$out") build failed"
}

# build_kvmprof <build directory> <log>: kvmprofd and kvmprof for arm64
# (the project's own `make ARCH=arm64`, out of the clone's tree).
build_kvmprof() {
	local out=$1 blog=$2
	make -s --no-print-directory -C "$KP_DIR/.." ARCH=arm64 O="$out" -j"$JOBS" bins \
		>"$blog" 2>&1 || {
		tail -30 "$blog" >&2
		die "make ARCH=arm64 failed (log: $blog; kernel-patches/deps.sh installs the arm64 libraries)"
	}
}

# install_kvmprof <root> <build directory>: kvmprofd in /usr/sbin, kvmprof in
# /usr/bin and its API transport in /usr/lib/kvmprof (stripped; as `make
# install` puts them), the shared libraries they need (the closure of their
# DT_NEEDED entries, from Debian's arm64 multiarch packages) at the same
# paths as on Debian, the dynamic loader, and the user and group kvmprof that
# `make install` creates.
install_kvmprof() {
	local root=$1 build=$2 f lib p
	local -A seen=()
	local queue=("$build/kvmprofd" "$build/kvmprof" "$build/kvmprof-client.so")
	mkdir -p "$root/usr/sbin" "$root/usr/bin" "$root/usr/lib/kvmprof" \
		"$root/etc" "$root/lib"
	${CROSS}strip -o "$root/usr/sbin/kvmprofd" "$build/kvmprofd"
	${CROSS}strip -o "$root/usr/bin/kvmprof" "$build/kvmprof"
	${CROSS}strip -o "$root/usr/lib/kvmprof/kvmprof-client.so" \
		"$build/kvmprof-client.so"
	while [ ${#queue[@]} -gt 0 ]; do
		f=${queue[0]}
		queue=("${queue[@]:1}")
		for lib in $(${CROSS}readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			[ -n "${seen[$lib]:-}" ] && continue
			seen[$lib]=1
			p=
			for d in /lib/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu; do
				[ -e "$d/$lib" ] && p=$d/$lib && break
			done
			[ -n "$p" ] || die "$lib (needed by $(basename "$f")) not found: run kernel-patches/deps.sh"
			mkdir -p "$root$(dirname "$p")"
			cp -L "$p" "$root$p"
			queue+=("$p")
		done
	done
	p=$(readlink -f /lib/ld-linux-aarch64.so.1)
	[ -f "$p" ] || die "the arm64 dynamic loader is missing: run kernel-patches/deps.sh"
	mkdir -p "$root$(dirname "$p")"
	cp "$p" "$root$p"
	ln -sf "${p#/lib/}" "$root/lib/ld-linux-aarch64.so.1"
	printf 'root:x:0:0:root:/:/bin/sh\nkvmprof:x:990:990:kvmprof:/:/bin/false\n' >"$root/etc/passwd"
	printf 'root:x:0:\nkvmprof:x:990:\n' >"$root/etc/group"
}

# busybox_root <directory> <init script>: a minimal initramfs tree.
busybox_root() {
	local dir=$1 init=$2
	mkdir -p "$dir/bin" "$dir/proc" "$dir/sys" "$dir/dev"
	cp "$BUSYBOX" "$dir/bin/busybox"
	ln -sf busybox "$dir/bin/sh"
	install -m 755 "$init" "$dir/init"
}

# cpio_gz <directory> <output>: a gzipped newc archive of the directory.
cpio_gz() {
	(cd "$1" && find . | cpio -o -H newc --quiet | gzip -9) >"$2"
}

# qemu_boot <name> <Image> <initramfs> <output directory> <command line>
# Boots under QEMU 10 (KVM at EL2, FEAT_FGT) with the serial console in
# <output directory>/<name>.log, under a timeout (KP_QEMU_TIMEOUT, 600 s);
# fails unless the guest's /init printed "KP: END". KP_QEMU_SMP (default 2)
# and KP_QEMU_ARGS (extra QEMU options, split on spaces) adjust the machine.
qemu_boot() {
	local name=$1 image=$2 initrd=$3 dir=$4 append=$5 rc=0 t
	local slog=$dir/$name.log
	t=$(now)
	# shellcheck disable=SC2086 # KP_QEMU_ARGS: several options
	timeout "${KP_QEMU_TIMEOUT:-600}" "$QEMU" -L "$QEMU_DATA" \
		-M virt,virtualization=on,gic-version=3 -cpu max -smp "${KP_QEMU_SMP:-2}" -m 1024 \
		${KP_QEMU_ARGS:-} \
		-display none -monitor none -serial "file:$slog" -no-reboot \
		-audio none -nic none \
		-kernel "$image" -initrd "$initrd" \
		-append "console=ttyAMA0 rdinit=/init panic=-1 $append" \
		>"$dir/$name.qemu.log" 2>&1 || rc=$?
	if [ "$rc" = 124 ]; then
		tail -30 "$slog" >&2
		die "$name: QEMU timed out after ${KP_QEMU_TIMEOUT:-600}s"
	fi
	[ "$rc" = 0 ] || {
		cat "$dir/$name.qemu.log" >&2
		die "$name: QEMU exited with $rc"
	}
	grep -q '^KP: END' "$slog" || {
		tail -40 "$slog" >&2
		die "$name: the guest did not finish its run (log: $slog)"
	}
	log "$name: booted and ran in $(($(now) - t))s"
}
