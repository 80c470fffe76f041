# SPDX-License-Identifier: GPL-2.0-only
# Shared by check.sh and qemu-test.sh. Sourced, not run.
#
# Layout of the cache (KP_CACHE, default /var/cache/kvmprof-kernel), reused
# from one run to the next and rebuilt piecewise when its inputs change:
#   linux/		git repository of the base tree (tag "base")
#   linux-image/	git worktree at the tip of the series, for qemu-test
#   build-check/	O= build directory of check (W=1, arch/arm64/kvm/)
#   build-image/	O= build directory of qemu-test (Image with BTF)
#   ccache/		compiler cache shared by both
#   deps/		QEMU 10 and busybox, filled by deps.sh

set -euo pipefail

KP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${KP_CACHE:-/var/cache/kvmprof-kernel}
JOBS=${KP_JOBS:-2}
BASE_TARBALL=${KP_BASE_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
BASE_VERSION=6.12.117
CROSS=aarch64-linux-gnu-
SERIES=$KP_DIR/series
CONFIG_FRAGMENT=$KP_DIR/config/qemu.config
SRC=$CACHE/linux

export CCACHE_DIR=$CACHE/ccache
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}

log() { printf '[kernel-patches] %s\n' "$*" >&2; }
die() { printf '[kernel-patches] ERROR: %s\n' "$*" >&2; exit 1; }

now() { date +%s; }

need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || die "$t not found: run kernel-patches/deps.sh"
	done
}

# Patches of the series, in order, as absolute paths.
series_patches() {
	local line
	[ -f "$SERIES" ] || die "no series file at $SERIES"
	while read -r line; do
		line=${line%%#*}
		line=$(echo "$line" | tr -d '[:space:]')
		[ -n "$line" ] || continue
		[ -f "$KP_DIR/$line" ] || die "series lists $line, which does not exist"
		echo "$KP_DIR/$line"
	done <"$SERIES"
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

# Unpack the base tree into a git repository, once per tarball.
prepare_base() {
	local key version
	need ${CROSS}gcc ccache git make flex bison bc pahole perl
	[ -f "$BASE_TARBALL" ] || die "$BASE_TARBALL missing: run kernel-patches/deps.sh"
	mkdir -p "$CACHE"
	key=$(stat -c '%s %Y' "$BASE_TARBALL")
	if [ -d "$SRC/.git" ] && [ "$(cat "$SRC/.git/kvmprof-base" 2>/dev/null)" = "$key" ]; then
		return
	fi
	log "unpacking $BASE_TARBALL into $SRC"
	rm -rf "$SRC" "$CACHE/linux-image" "$CACHE/linux-image.key"
	mkdir -p "$SRC"
	tar -xf "$BASE_TARBALL" -C "$SRC" --strip-components=1
	version=$(make -s -C "$SRC" kernelversion 2>/dev/null)
	if [ "$version" != "$BASE_VERSION" ]; then
		log "WARNING: base tree is $version, the series is based on $BASE_VERSION"
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
		git -C "$wt" am -q --whitespace=error "$p" ||
			die "git am failed on $(basename "$p")"
	done
	echo "$key" >"$wt.key"
}

# configure <source tree> <build directory>: from the fragment, unless done.
configure() {
	local src=$1 out=$2 key line
	key=$( (cat "$CONFIG_FRAGMENT"; git -C "$src" rev-parse HEAD^{tree}) | sha256sum | cut -d' ' -f1)
	if [ -f "$out/.config" ] && [ "$(cat "$out/.fragment-key" 2>/dev/null)" = "$key" ]; then
		return
	fi
	mkdir -p "$out"
	KCONFIG_ALLCONFIG=$CONFIG_FRAGMENT kmake "$src" "$out" allnoconfig
	while read -r line; do
		case $line in CONFIG_*) ;; *) continue ;; esac
		grep -qx "$line" "$out/.config" && continue
		sym=${line%%=*}
		# Not a symbol of this tree (yet): a later patch adds it.
		grep -rqE "^[[:space:]]*(menu)?config[[:space:]]+${sym#CONFIG_}\$" \
			--include='Kconfig*' "$src/arch/arm64" "$src/drivers" \
			"$src/init" "$src/kernel" "$src/lib" "$src/mm" "$src/virt" || continue
		die "config fragment: $line did not stick (dependency missing?)"
	done <"$CONFIG_FRAGMENT"
	echo "$key" >"$out/.fragment-key"
}
