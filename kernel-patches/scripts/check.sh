#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make -C kernel-patches check
#
# The three series (kernel-patches/series: sysreg, apf, spe), one line per
# step on stdout, "PASS <series> <config>" or "FAIL <series> <config> ...":
#
#   <s> format          the folder holds git format-patch output and a real
#                       cover letter
#   <s> NNNN-W=1        the combination, in the documented order, one patch
#                       at a time (NNNN = the patch's number in series <s>):
#                       git am --whitespace=error, then arch/arm64/kvm/
#                       (with virt/kvm/ and the nVHE hypervisor) and the
#                       other C files the patch touches with W=1, no
#                       warning the base tree does not have
#   <s> NNNN-selftests  the arm64 KVM selftests the patch touches, built
#                       static against the tree's UAPI headers, no warning
#   <s> NNNN-checkpatch checkpatch.pl --strict, no finding outside
#                       checkpatch-exceptions
#   all sparse          sparse (C=2, i.e. C=1 without the need to rebuild)
#                       over arch/arm64/kvm/ and the other changed C files
#                       of the combination, no warning the base tree does
#                       not have
#   all kernel-doc      scripts/kernel-doc -none -Wall on the changed C
#                       files and headers that have kernel-doc comments, no
#                       warning the base versions do not have
#   all rst             the changed .rst files parsed with docutils
#                       (scripts/rst-check.py), no warning the base
#                       versions do not have; new ones in a toctree
#   <s> alone-W=1       each series alone on the base: applies (git am),
#                       arch/arm64/kvm/ builds with W=1 after its last
#                       patch, no new warning
#   all Image-default   the combination's full Image in the default
#                       configuration (config/qemu.config, with BTF), the
#                       build that qemu-test boots
#   all Image-clang     the same with LLVM=1 (Debian's clang, lld, llvm)
#
# The rest of the build matrix is `make -C kernel-patches matrix`.
# Fails (exit 1) if any step failed; a failed step does not stop the
# others unless they need it (a patch that does not apply ends the
# combination).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/steps.sh"

START=$(now)
BUILD=$CACHE/build-check
EXCEPTIONS=$KP_DIR/checkpatch-exceptions
LOGDIR=$CACHE/check-logs
# results of the base tree's checks that depend only on the base (sparse)
BASECACHE=$CACHE/check-base

need sparse clang ld.lld llvm-objcopy python3
python3 -c 'import docutils' 2>/dev/null || die "python3-docutils missing: run kernel-patches/deps.sh"
prepare_base
mkdir -p "$LOGDIR" "$BASECACHE"
rm -rf "${LOGDIR:?}"/*

mapfile -t NAMES < <(series_names)
[ ${#NAMES[@]} -gt 0 ] || die "kernel-patches/series lists no series"

# Patches must come straight from git format-patch.
check_format() {
	local name=$1 cover=$KP_DIR/$1/0000-cover-letter.patch p
	[ -f "$cover" ] || die "$name has no cover letter ($name/0000-cover-letter.patch)"
	if grep -q '\*\*\* \(SUBJECT\|BLURB\) HERE \*\*\*' "$cover"; then
		die "the cover letter of $name still has format-patch's placeholders"
	fi
	[ -n "$(series_patches "$name")" ] || die "$name has no patch"
	for p in "$cover" $(series_patches "$name"); do
		head -1 "$p" | grep -Eq '^From [0-9a-f]{40} Mon Sep 17 00:00:00 2001$' ||
			die "$name/$(basename "$p") does not look like git format-patch output"
	done
}
for name in "${NAMES[@]}"; do
	step "$name" format check_format "$name"
done

cd "$SRC"
git am --abort >/dev/null 2>&1 || true
git checkout -q -f --detach base
configure "$SRC" "$BUILD"

build_kvm() {
	local label=$1 log=$LOGDIR/$1.log t0
	t0=$(now)
	if ! kmake "$SRC" "$BUILD" W=1 arch/arm64/kvm/ >"$log" 2>&1; then
		tail -40 "$log" >&2
		die "build failed after $label (log: $log)"
	fi
	norm_warnings "$log" "$SRC" >"$LOGDIR/$label.warnings"
	log "built arch/arm64/kvm/ W=1 after $label in $(($(now) - t0))s"
}

# Baseline: every KVM object of the base tree, so that all of its warnings
# are known.
rm -rf "$BUILD/arch/arm64/kvm" "$BUILD/virt/kvm"
build_kvm base
BASELINE=$LOGDIR/base.warnings
log "base tree: $(wc -l <"$BASELINE") W=1 warning(s) in arch/arm64/kvm/"

# The C files the series change outside arch/arm64/kvm/, virt/kvm/ and
# tools/ (all of them, whatever series), from the patches themselves.
OTHER_C=$(series_patches | xargs sed -n 's|^+++ b/\(.*\.c\)$|\1|p' |
	grep -Ev '^(arch/arm64/kvm|virt/kvm|tools)/' | sort -u) || true

# sparse over arch/arm64/kvm/ and <objects>: normalised warnings on stdout
sparse_run() {
	local label=$1 log=$LOGDIR/sparse-$1.log
	shift
	# shellcheck disable=SC2046
	kmake "$SRC" "$BUILD" W=1 C=2 CHECK=sparse arch/arm64/kvm/ "$@" >"$log" 2>&1 || {
		tail -30 "$log" >&2
		die "sparse run on $label failed (log: $log)"
	}
	norm_warnings "$log" "$SRC"
}

# The base tree's sparse warnings, once per base, config and sparse.
base_objs=
for f in $OTHER_C; do
	[ -f "$SRC/$f" ] && base_objs="$base_objs ${f%.c}.o"
done
SPARSE_BASE=$BASECACHE/sparse-$( (cat "$SRC/.git/kvmprof-base" "$CONFIG_FRAGMENT"
	echo "$base_objs"; sparse --version) | sha256sum | cut -c1-16).warnings
if [ ! -f "$SPARSE_BASE" ]; then
	t0=$(now)
	# shellcheck disable=SC2086
	sparse_run base $base_objs >"$SPARSE_BASE.tmp"
	mv "$SPARSE_BASE.tmp" "$SPARSE_BASE"
	log "sparse on the base tree: $(wc -l <"$SPARSE_BASE") warning(s), $(($(now) - t0))s"
fi

# W=1 objects of the other C files that the last patch touches
build_others() {
	local label=$1 log=$LOGDIR/$1.others.log objs
	objs=$(git diff --name-only --diff-filter=AM HEAD~1 HEAD -- '*.c' |
		grep -Ev '^(arch/arm64/kvm|virt/kvm|tools)/' | sed 's/\.c$/.o/') || true
	[ -n "$objs" ] || return 0
	# shellcheck disable=SC2086
	if ! kmake "$SRC" "$BUILD" W=1 $objs >"$log" 2>&1; then
		tail -30 "$log" >&2
		die "build of $objs failed after $label (log: $log)"
	fi
	if grep -q 'warning:' "$log"; then
		grep -A3 'warning:' "$log" >&2
		die "$label: W=1 warnings in $objs (above)"
	fi
	log "built $objs W=1 after $label"
}

patch_build() {
	local label=$1
	if git diff --name-only HEAD~1 HEAD | grep -q 'Kconfig'; then
		configure "$SRC" "$BUILD"
	fi
	build_kvm "$label"
	build_others "$label"
	new_warnings "$BASELINE" "$LOGDIR/$label.warnings" ||
		die "$label adds W=1 warnings (above)"
}

# split_test_targets: aarch64/foo -> foo for a test that the selftests'
# Makefile builds from foo.c and aarch64/foo.c (SPLIT_TESTS, get-reg-list)
split_test_targets() {
	local t
	while read -r t; do
		if grep -qx "SPLIT_TESTS += ${t#aarch64/}" "$SRC/tools/testing/selftests/kvm/Makefile"; then
			echo "${t#aarch64/}"
		else
			echo "$t"
		fi
	done
}

# build_selftests <label> <test>...: arm64 KVM selftests, e.g. aarch64/foo
build_selftests() {
	local label=$1 log=$LOGDIR/$1.selftests.log t
	shift
	kmake "$SRC" "$BUILD" headers >"$log" 2>&1 || {
		cat "$log" >&2
		die "make headers failed after $label"
	}
	for t in "$@"; do
		rm -f "$CACHE/selftests/$t"
		make --no-print-directory -C "$SRC/tools/testing/selftests/kvm" ARCH=arm64 \
			CROSS_COMPILE=$CROSS OUTPUT="$CACHE/selftests" \
			KHDR_INCLUDES="-isystem $BUILD/usr/include" \
			EXTRA_CFLAGS=-static "$CACHE/selftests/$t" >>"$log" 2>&1 || {
			tail -30 "$log" >&2
			die "selftest $t does not build after $label"
		}
	done
	if grep -q 'warning:' "$log"; then
		grep -A3 'warning:' "$log" >&2
		die "selftests built after $label have warnings (above)"
	fi
	log "built selftests after $label: $*"
}

# (a) The combination, in order, one patch at a time.
COMBINED=1
for name in "${NAMES[@]}"; do
	for p in $(series_patches "$name"); do
		n=$(basename "$p" | cut -c1-4)
		label=$name-$(basename "$p" .patch)
		if ! git am -q -3 --whitespace=error "$p" >"$LOGDIR/$label.am.log" 2>&1; then
			cat "$LOGDIR/$label.am.log" >&2
			git am --abort >/dev/null 2>&1 || true
			result FAIL "$name" "$n-W=1" "git am -3 fails on $name/$(basename "$p") after the series before it"
			COMBINED=0
			break 2
		fi
		step "$name" "$n-W=1" patch_build "$label"
		tests=$(git diff --name-only HEAD~1 HEAD -- tools/testing/selftests/kvm |
			sed -n 's|^tools/testing/selftests/kvm/\(aarch64/[^/]*\)\.c$|\1|p' |
			split_test_targets)
		if [ -n "$tests" ]; then
			# shellcheck disable=SC2086
			step "$name" "$n-selftests" build_selftests "$label" $tests
		fi
	done
done

# checkpatch
checkpatch_one() {
	local p=$1 name out findings=0 excused=0 _kind type
	name=$(basename "$p")
	out=$LOGDIR/${name%.patch}.checkpatch
	# Debian's python3 (with python3-ply) for checkpatch's SPDX checker.
	PATH=/usr/bin:/bin:$PATH ./scripts/checkpatch.pl --strict --show-types \
		--no-summary "$p" >"$out" 2>&1 || true
	if grep -q 'Traceback' "$out"; then
		cat "$out" >&2
		die "checkpatch could not run all its checks on $name (python3-ply or python3-git missing?)"
	fi
	while read -r _kind type; do
		if grep -Eq "^${name}[[:space:]]+$type([[:space:]]|$)" "$EXCEPTIONS"; then
			excused=$((excused + 1))
			continue
		fi
		findings=$((findings + 1))
	done < <(sed -nE 's/^(ERROR|WARNING|CHECK):([A-Z0-9_]+):.*/\1 \2/p' "$out")
	if [ "$findings" -gt 0 ]; then
		cat "$out" >&2
		die "checkpatch --strict: $findings finding(s) in $name"
	fi
	log "checkpatch --strict: $name clean ($excused documented exception(s))"
}
touch "$EXCEPTIONS"
for name in "${NAMES[@]}"; do
	for p in $(series_patches "$name"); do
		step "$name" "$(basename "$p" | cut -c1-4)-checkpatch" checkpatch_one "$p"
	done
done

# (c) Checks of the combination's changed files, against the base's.
sparse_check() {
	local objs="" f
	for f in $OTHER_C; do
		objs="$objs ${f%.c}.o"
	done
	# shellcheck disable=SC2086
	sparse_run all $objs >"$LOGDIR/sparse-all.warnings"
	log "sparse: $(wc -l <"$SPARSE_BASE") warning(s) on the base, $(wc -l <"$LOGDIR/sparse-all.warnings") with the series"
	new_warnings "$SPARSE_BASE" "$LOGDIR/sparse-all.warnings" ||
		die "sparse: new warnings (above)"
}

kdoc_check() {
	local f files tmp=$LOGDIR/kdoc-base n=0
	files=$(series_diff_files "$SRC" base '*.c' '*.h' | grep -v '^tools/') || true
	rm -rf "$tmp"
	: >"$LOGDIR/kdoc-base.warnings"
	: >"$LOGDIR/kdoc-all.warnings"
	for f in $files; do
		grep -q '^/\*\*' "$f" || continue
		n=$((n + 1))
		./scripts/kernel-doc -none -Wall "$f" >>"$LOGDIR/kdoc-all.log" 2>&1 || true
		if git cat-file -e "base:$f" 2>/dev/null; then
			mkdir -p "$tmp/$(dirname "$f")"
			git show "base:$f" >"$tmp/$f"
			(cd "$tmp" && "$SRC/scripts/kernel-doc" -none -Wall "$f") \
				>>"$LOGDIR/kdoc-base.log" 2>&1 || true
		fi
	done
	touch "$LOGDIR/kdoc-all.log" "$LOGDIR/kdoc-base.log"
	norm_warnings "$LOGDIR/kdoc-base.log" "$SRC" >"$LOGDIR/kdoc-base.warnings"
	norm_warnings "$LOGDIR/kdoc-all.log" "$SRC" >"$LOGDIR/kdoc-all.warnings"
	log "kernel-doc -Wall: $n changed file(s) with kernel-doc comments, $(wc -l <"$LOGDIR/kdoc-base.warnings") warning(s) in their base versions, $(wc -l <"$LOGDIR/kdoc-all.warnings") now"
	new_warnings "$LOGDIR/kdoc-base.warnings" "$LOGDIR/kdoc-all.warnings" ||
		die "kernel-doc: new warnings (above)"
}

# docutils messages as "file: LEVEL: text" (no line numbers)
rst_norm() {
	sed -E 's|^([^:]+):[0-9]+: |\1: |' "$1" | sort -u
}

rst_check() {
	local f files new=() tmp=$LOGDIR/rst-base n=0
	files=$(series_diff_files "$SRC" base '*.rst') || true
	rm -rf "$tmp"
	: >"$LOGDIR/rst-base.log"
	: >"$LOGDIR/rst-all.log"
	for f in $files; do
		n=$((n + 1))
		if git cat-file -e "base:$f" 2>/dev/null; then
			mkdir -p "$tmp/$(dirname "$f")"
			git show "base:$f" >"$tmp/$f"
			(cd "$tmp" && python3 "$KP_DIR/scripts/rst-check.py" "$f") >>"$LOGDIR/rst-base.log" 2>&1 || true
		else
			new+=(--new "$f")
		fi
	done
	[ "$n" -gt 0 ] || return 0
	# shellcheck disable=SC2086
	python3 "$KP_DIR/scripts/rst-check.py" "${new[@]}" $files >"$LOGDIR/rst-all.log" 2>&1 || true
	if grep -q Traceback "$LOGDIR/rst-all.log" "$LOGDIR/rst-base.log"; then
		cat "$LOGDIR/rst-all.log" "$LOGDIR/rst-base.log" >&2
		die "rst-check.py failed"
	fi
	rst_norm "$LOGDIR/rst-base.log" >"$LOGDIR/rst-base.warnings"
	rst_norm "$LOGDIR/rst-all.log" >"$LOGDIR/rst-all.warnings"
	log "rst (docutils): $n changed file(s) ($((${#new[@]} / 2)) new): $(wc -l <"$LOGDIR/rst-base.warnings") warning(s) in the base versions, $(wc -l <"$LOGDIR/rst-all.warnings") now"
	new_warnings "$LOGDIR/rst-base.warnings" "$LOGDIR/rst-all.warnings" ||
		die "rst: new warnings (above)"
}

if [ "$COMBINED" = 1 ]; then
	step all sparse sparse_check
	step all kernel-doc kdoc_check
	step all rst rst_check
else
	for c in sparse kernel-doc rst; do
		result FAIL all "$c" "the combination does not apply"
	done
fi

# (b) Each series alone on the base, in its own worktree and build
# directory (the combination's stay as they are for the next run).
ALONE=$CACHE/linux-alone
ALONE_BUILD=$CACHE/build-alone
alone_build() {
	local name=$1 p log=$LOGDIR/alone-$1.log
	if [ ! -d "$ALONE" ]; then
		git -C "$SRC" worktree prune
		git -C "$SRC" worktree add -q -f --detach "$ALONE" base
	fi
	git -C "$ALONE" am --abort >/dev/null 2>&1 || true
	git -C "$ALONE" checkout -q -f --detach base
	for p in $(series_patches "$name"); do
		git -C "$ALONE" am -q -3 --whitespace=error "$p" >"$log" 2>&1 || {
			cat "$log" >&2
			git -C "$ALONE" am --abort >/dev/null 2>&1 || true
			die "$name alone: git am -3 fails on $(basename "$p")"
		}
	done
	configure "$ALONE" "$ALONE_BUILD"
	kmake "$ALONE" "$ALONE_BUILD" W=1 arch/arm64/kvm/ >"$log" 2>&1 || {
		tail -40 "$log" >&2
		die "$name alone: arch/arm64/kvm/ does not build (log: $log)"
	}
	norm_warnings "$log" "$ALONE" >"$LOGDIR/alone-$name.warnings"
	new_warnings "$BASELINE" "$LOGDIR/alone-$name.warnings" ||
		die "$name alone: new W=1 warnings (above)"
}
for name in "${NAMES[@]}"; do
	step "$name" alone-W=1 alone_build "$name"
done

# (c) Full Images of the combination: the default configuration (in the
# worktree and build directory that qemu-test boots), and with clang.
if [ "$COMBINED" = 1 ]; then
	apply_series "$CACHE/linux-image"
	step all Image-default build_image "$CACHE/linux-image" "$CACHE/build-image" "$CACHE/build-image.log"
	# KP_CLANG=0 leaves the clang Image out (a quick local check)
	if [ "${KP_CLANG:-1}" = 1 ]; then
		step all Image-clang image_clang "$CACHE/linux-image" "$CACHE/build-clang"
	else
		echo "SKIP all Image-clang (KP_CLANG=0)"
	fi
else
	for c in Image-default Image-clang; do
		result FAIL all "$c" "the combination does not apply"
	done
fi

npass=$(grep -c '^PASS' "$LOGDIR/results" || true)
if [ "$FAILED" != 0 ]; then
	grep '^FAIL' "$LOGDIR/results" >&2
	die "check FAILED: $(grep -c '^FAIL' "$LOGDIR/results") step(s), $npass passed (logs in $LOGDIR); $(($(now) - START))s"
fi
log "check PASSED: $npass steps; $(($(now) - START))s"
