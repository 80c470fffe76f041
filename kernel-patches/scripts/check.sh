#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make -C kernel-patches check
#
# Applies the series to the base tree with git am, one patch at a time, and
# after each patch builds arch/arm64/kvm/ (which includes virt/kvm/ and the
# nVHE hypervisor) with W=1, failing on any warning the base tree does not
# have. A patch that touches arm64 KVM selftests also gets those selftests
# built (static, against the tree's UAPI headers), failing on any warning.
# Then runs checkpatch.pl --strict on every patch, failing on any finding not
# listed in checkpatch-exceptions.
. "$(dirname "$0")/lib.sh"

START=$(now)
BUILD=$CACHE/build-check
EXCEPTIONS=$KP_DIR/checkpatch-exceptions
LOGDIR=$CACHE/check-logs

prepare_base
mkdir -p "$LOGDIR"
rm -f "$LOGDIR"/*

mapfile -t PATCHES < <(series_patches)
[ ${#PATCHES[@]} -gt 0 ] || die "the series is empty"

# Patches must come straight from git format-patch.
for name in $(series_names); do
	COVER=$KP_DIR/$name/0000-cover-letter.patch
	[ -f "$COVER" ] || die "$name has no cover letter ($name/0000-cover-letter.patch)"
	if grep -q '\*\*\* \(SUBJECT\|BLURB\) HERE \*\*\*' "$COVER"; then
		die "the cover letter of $name still has format-patch's placeholders"
	fi
	for p in "$COVER" $(series_patches "$name"); do
		head -1 "$p" | grep -Eq '^From [0-9a-f]{40} Mon Sep 17 00:00:00 2001$' ||
			die "$name/$(basename "$p") does not look like git format-patch output"
	done
done

cd "$SRC"
git am --abort >/dev/null 2>&1 || true
git checkout -q -f --detach base
configure "$SRC" "$BUILD"

# Normalised warnings: "file: warning: text", without line and column.
warnings() {
	grep -E '(warning|error):' "$1" |
		sed -E -e "s|^$SRC/||" -e 's|^([^:]+):[0-9]+:([0-9]+:)?|\1:|' |
		sort -u || true
}

build_kvm() {
	local label=$1 log=$LOGDIR/$1.log t0
	t0=$(now)
	if ! kmake "$SRC" "$BUILD" W=1 arch/arm64/kvm/ >"$log" 2>&1; then
		tail -40 "$log" >&2
		die "build failed after $label (log: $log)"
	fi
	warnings "$log" >"$LOGDIR/$label.warnings"
	log "built arch/arm64/kvm/ W=1 after $label in $(($(now) - t0))s"
}

# Baseline: every KVM object of the base tree, so that all of its warnings
# are known.
rm -rf "$BUILD/arch/arm64/kvm" "$BUILD/virt/kvm"
build_kvm base
BASELINE=$LOGDIR/base.warnings
log "base tree: $(wc -l <"$BASELINE") W=1 warning(s) in arch/arm64/kvm/"

# The objects of the other C files that the last patch touches (outside
# arch/arm64/kvm/, virt/kvm/ and tools/), with W=1.
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
		log "FAIL: $label: W=1 warnings in $objs (above)"
		FAILED=1
	fi
	log "built $objs W=1 after $label"
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
		log "FAIL: selftests built after $label have warnings (above)"
		FAILED=1
	fi
	log "built selftests after $label: $*"
}

FAILED=0
for p in "${PATCHES[@]}"; do
	name=$(basename "$p" .patch)
	git am -q -3 --whitespace=error "$p" || die "git am failed on $name"
	if git diff --name-only HEAD~1 HEAD | grep -q 'Kconfig'; then
		configure "$SRC" "$BUILD"
	fi
	build_kvm "$name"
	build_others "$name"
	new=$(comm -13 "$BASELINE" "$LOGDIR/$name.warnings")
	if [ -n "$new" ]; then
		printf '%s\n' "$new" >&2
		log "FAIL: $name adds W=1 warnings (above)"
		FAILED=1
	fi
	tests=$(git diff --name-only HEAD~1 HEAD -- tools/testing/selftests/kvm |
		sed -n 's|^tools/testing/selftests/kvm/\(aarch64/[^/]*\)\.c$|\1|p')
	if [ -n "$tests" ]; then
		# shellcheck disable=SC2086
		build_selftests "$name" $tests
	fi
done

# checkpatch
touch "$EXCEPTIONS"
for p in "${PATCHES[@]}"; do
	name=$(basename "$p")
	out=$LOGDIR/${name%.patch}.checkpatch
	# Debian's python3 (with python3-ply) for checkpatch's SPDX checker.
	PATH=/usr/bin:/bin:$PATH ./scripts/checkpatch.pl --strict --show-types \
		--no-summary "$p" >"$out" 2>&1 || true
	if grep -q 'Traceback' "$out"; then
		cat "$out" >&2
		die "checkpatch could not run all its checks on $name (python3-ply or python3-git missing?)"
	fi
	findings=0
	excused=0
	while read -r kind type; do
		if grep -Eq "^$name[[:space:]]+$type([[:space:]]|$)" "$EXCEPTIONS"; then
			excused=$((excused + 1))
			continue
		fi
		findings=$((findings + 1))
	done < <(sed -nE 's/^(ERROR|WARNING|CHECK):([A-Z0-9_]+):.*/\1 \2/p' "$out")
	if [ "$findings" -gt 0 ]; then
		cat "$out" >&2
		log "FAIL: checkpatch --strict: $findings finding(s) in $name"
		FAILED=1
	else
		log "checkpatch --strict: $name clean ($excused documented exception(s))"
	fi
done

[ "$FAILED" = 0 ] || die "check failed (logs in $LOGDIR)"
log "check PASSED: ${#PATCHES[@]} patches applied, built with W=1 one by one, checkpatch clean; $(($(now) - START))s"
