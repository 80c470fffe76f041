# SPDX-License-Identifier: GPL-2.0-only
# Build and check steps shared by check.sh and matrix.sh. Sourced after
# lib.sh, not run.
#
# Every step prints exactly one line on stdout:
#   PASS <series> <config>
#   FAIL <series> <config> <why>
# where <series> is sysreg, apf, spe (one series) or all (the three
# together), and the details go to stderr and to $LOGDIR. The lines are also
# collected in $LOGDIR/results.

FAILED=0

# result PASS|FAIL <series> <config> [why...]
result() {
	local line="$*"
	[ "$1" = PASS ] || FAILED=1
	echo "$line"
	echo "$line" >>"$LOGDIR/results"
}

# step <series> <config> <command> [args...]: runs the command in a
# subshell (a die() there fails only the step) with errexit in force, and
# prints its PASS or FAIL line and how long it took.
step() {
	local series=$1 config=$2 t0 rc
	shift 2
	t0=$(now)
	set +e
	(
		set -e
		"$@"
	)
	rc=$?
	set -e
	log "$series $config: $(($(now) - t0))s"
	if [ "$rc" = 0 ]; then
		result PASS "$series" "$config"
	else
		result FAIL "$series" "$config" "(details above; logs in $LOGDIR)"
	fi
}

# norm_warnings <log> <source tree>: compiler or checker diagnostics as
# "file: warning: text", without the tree's path, line and column, sorted.
# ccache makes the compiler see paths relative to CCACHE_BASEDIR, so the
# tree shows up as ../<name>/ as well as absolutely.
norm_warnings() {
	local log=$1 tree=$2
	grep -E '(warning|error):' "$log" |
		sed -E -e "s|^$tree/||" -e "s|^\.\./$(basename "$tree")/||" \
			-e 's|^([^:]+):[0-9]+:([0-9]+:)?|\1:|' |
		sort -u || true
}

# new_warnings <baseline> <warnings>: those not in the baseline; fails
# (after printing them) if there are any.
new_warnings() {
	local new
	new=$(comm -13 "$1" "$2")
	[ -z "$new" ] && return 0
	printf '%s\n' "$new" >&2
	return 1
}

# kmake_llvm: kmake with LLVM=1 (clang, ld.lld, llvm-objcopy ...): the
# target comes from ARCH, no CROSS_COMPILE.
kmake_llvm() {
	local src=$1 out=$2
	shift 2
	make -s --no-print-directory -C "$src" O="$out" ARCH=arm64 LLVM=1 \
		CC="ccache clang" -j"$JOBS" "$@"
}

# image_clang <tree> <build dir>: the default configuration's Image built
# with clang, ld.lld and the LLVM tools (configure() and build_image() with
# kmake_llvm), and the .config saying so; no warning from what it compiled
# (the base tree's objects compile without one in this configuration).
image_clang() {
	local tree=$1 out=$2
	kmake() { kmake_llvm "$@"; }
	build_image "$tree" "$out" "$out.log"
	! grep 'warning:' "$out.log" >&2 ||
		die "the clang build warns (above; log: $out.log)"
	grep -q '^CONFIG_CC_IS_CLANG=y' "$out/.config" ||
		die "the clang build's .config does not say CONFIG_CC_IS_CLANG"
	grep -q '^CONFIG_LD_IS_LLD=y' "$out/.config" ||
		die "the clang build's .config does not say CONFIG_LD_IS_LLD"
}

# series_diff_files <tree> <base ref> [pathspec...]: files that the commits
# since the base add or modify.
series_diff_files() {
	local tree=$1 base=$2
	shift 2
	git -C "$tree" diff --name-only --diff-filter=AM "$base" HEAD -- "$@"
}

# variant_fragment <output> <drop symbols> <lines>: config/qemu.config
# without the CONFIG_ lines of the symbols to drop (space-separated,
# without CONFIG_, each an extended regular expression), plus the given
# lines (newline-separated): a variant of the default configuration for
# configure().
variant_fragment() {
	local out=$1 drop=$2 add=$3 sym re=
	local - # the symbols are extended regular expressions, not globs
	set -f
	for sym in $drop; do
		re="$re|$sym"
	done
	if [ -n "$re" ]; then
		grep -Ev "^(# )?CONFIG_(${re#|})(=| is not set)" "$KP_DIR/config/qemu.config" >"$out.tmp" || true
	else
		cp "$KP_DIR/config/qemu.config" "$out.tmp"
	fi
	printf '%s\n' "$add" >>"$out.tmp"
	mv "$out.tmp" "$out"
}

# image_variant <tree> <build dir> <fragment> <make targets...>: configure
# the build directory from the fragment (configure() fails if a "=y"/"=m"
# line does not stick) and build the targets; every "is not set" line of
# the fragment must hold too.
image_variant() {
	local tree=$1 out=$2 fragment=$3 blog sym
	shift 3
	blog=$out.log
	CONFIG_FRAGMENT=$fragment configure "$tree" "$out"
	while read -r sym; do
		if grep -q "^CONFIG_$sym=" "$out/.config"; then
			die "config: CONFIG_$sym is set although $fragment unsets it"
		fi
	done < <(sed -n 's/^# CONFIG_\([A-Za-z0-9_]*\) is not set$/\1/p' "$fragment")
	log "building $* in $out"
	kmake "$tree" "$out" "$@" >"$blog" 2>&1 || {
		tail -40 "$blog" >&2
		die "build of $* failed (log: $blog)"
	}
}
