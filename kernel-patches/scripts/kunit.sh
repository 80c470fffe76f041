#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make -C kernel-patches kunit
#
# Runs the series' KUnit suites (arch/arm64/kvm/.kunitconfig of the spe
# series, arch/arm64/kvm/sysreg-elide.kunitconfig of the sysreg series) with
# tools/testing/kunit/kunit.py under QEMU 10 from the cache, in the tree
# that qemu-test also uses (the series applied). Fails on any failed,
# skipped or crashed test, and when a suite did not run at all.
. "$(dirname "$0")/lib.sh"

START=$(now)
QEMU=$CACHE/deps/qemu10/usr/bin/qemu-system-aarch64
QEMU_DATA=$CACHE/deps/qemu10/usr/share/qemu
WT=$CACHE/linux-image
BUILD=$CACHE/build-kunit
BIN=$CACHE/kunit-bin
LOG=$CACHE/kunit.log
KUNITCONFIGS="arch/arm64/kvm/.kunitconfig arch/arm64/kvm/sysreg-elide.kunitconfig"
# suite name and number of test cases expected
SUITES="kvm-arm64-spe-buf:15 kvm-arm64-sysreg-elide:9"

[ -x "$QEMU" ] || die "QEMU 10 missing ($QEMU): run kernel-patches/deps.sh"
need python3 timeout

prepare_base
apply_series "$WT"
KUNIT_ARGS=()
for k in $KUNITCONFIGS; do
	[ -f "$WT/$k" ] || die "the series has no $k"
	KUNIT_ARGS+=("--kunitconfig=$k")
done

# kunit.py runs "qemu-system-aarch64" from PATH: QEMU 10 with its data.
mkdir -p "$BIN"
cat >"$BIN/qemu-system-aarch64" <<WRAP
#!/bin/sh
exec "$QEMU" -L "$QEMU_DATA" -audio none "\$@"
WRAP
chmod +x "$BIN/qemu-system-aarch64"

log "kunit.py run --arch=arm64 ${KUNIT_ARGS[*]} (build dir $BUILD)"
rc=0
(
	cd "$WT"
	PATH=$BIN:$PATH timeout 3000 python3 tools/testing/kunit/kunit.py run \
		--arch=arm64 --cross_compile="$CROSS" --build_dir="$BUILD" \
		"${KUNIT_ARGS[@]}" --jobs="$JOBS" --timeout=600 \
		--qemu_args="-smp 2" \
		--make_options "CC=ccache ${CROSS}gcc"
) >"$LOG" 2>&1 || rc=$?
sed -n '/=* .* (.* subtest[s]*) =*/,$p' "$LOG" >&2
[ "$rc" = 0 ] || {
	tail -40 "$LOG" >&2
	die "kunit.py failed with status $rc (log: $LOG)"
}

FAILS=0
for s in $SUITES; do
	name=${s%%:*} n=${s##*:}
	if ! grep -q "=* $name ($n subtests) =*" "$LOG"; then
		log "FAIL: suite $name did not run with $n test cases"
		FAILS=$((FAILS + 1))
	elif ! grep -q "\[PASSED\] $name" "$LOG"; then
		log "FAIL: suite $name did not pass"
		FAILS=$((FAILS + 1))
	fi
done
summary=$(grep -E 'Testing complete\. Ran [0-9]+ tests' "$LOG" | tail -1 | sed 's/^.*Testing/Testing/')
grep -Eq 'failed: [1-9]|crashed: [1-9]|skipped: [1-9]|errors: [1-9]' <<<"$summary" && {
	log "FAIL: $summary"
	FAILS=$((FAILS + 1))
}
[ "$FAILS" = 0 ] || die "kunit: $FAILS failure(s) (log: $LOG)"
log "kunit PASSED ($summary) in $(($(now) - START))s"
