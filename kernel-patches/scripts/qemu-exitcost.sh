#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make -C kernel-patches qemu-exitcost
#
# What an exit costs, with and without sysreg save elision, measured under
# QEMU 10 TCG (not hardware) as instruction counts: QEMU runs with
# "-icount shift=0 -smp 1", where the guest's clock advances one nanosecond
# per instruction the CPU retires, so CLOCK_MONOTONIC deltas in L1 are
# instruction counts of everything that CPU ran (L1 kernel, KVM, the test
# VMM and its guest). In each boot, qemu/exitcost-init runs "vmm exitcost"
# ROUNDS times: HVC exits that KVM answers itself, then MMIO exits to the
# VMM (a KVM_RUN return each: vcpu_put/vcpu_load). Configurations, booted
# in turn BOOTS times:
#   base-{vhe,nvhe}          the base tree without the series, same config
#   patched-{vhe,nvhe}-off   the series, kvm-arm.sysreg_elide=off
#   patched-{vhe,nvhe}-on    the series, eliding the five registers that
#                            qemu-test elides (the guest writes none)
# Output: a table and one "BENCH {json}" line per configuration and exit
# kind (median over boots x rounds) in $CACHE/qemu-exitcost/.
#
# Environment (make variables of the same name without KP_EXITCOST_):
#   KP_EXITCOST_BOOTS   boots per configuration, default 1
#   KP_EXITCOST_ROUNDS  vmm runs per boot, default 3
#   KP_EXITCOST_HVC     HVC exits per run, default 20000
#   KP_EXITCOST_MMIO    MMIO exits per run, default 5000
. "$(dirname "$0")/lib.sh"

START=$(now)
OUT=$CACHE/qemu-exitcost
ELIDE=mair_el1,amair_el1,vbar_el1,contextidr_el1,tcr_el1

BOOTS=${KP_EXITCOST_BOOTS:-1}
ROUNDS=${KP_EXITCOST_ROUNDS:-3}
HVC=${KP_EXITCOST_HVC:-20000}
MMIO=${KP_EXITCOST_MMIO:-5000}

need cpio gzip timeout python3

build_patched_and_base

rm -rf "$OUT"
mkdir -p "$OUT"
busybox_root "$OUT/root" "$KP_DIR/qemu/exitcost-init"
printf 'ROUNDS=%s\nHVC=%s\nMMIO=%s\n' "$ROUNDS" "$HVC" "$MMIO" >"$OUT/root/exitcost.conf"
build_static "$OUT/root/vmm" "$BUILD/usr/include" "$KP_DIR"/qemu/vmm*.c "$KP_DIR/qemu/guest.S"
cpio_gz "$OUT/root" "$OUT/initramfs.cpio.gz"

LOGS=()
for b in $(seq 1 "$BOOTS"); do
	for cfg in base-vhe patched-vhe-off patched-vhe-on base-nvhe patched-nvhe-off patched-nvhe-on; do
		image=$BUILD/arch/arm64/boot/Image
		args=
		case $cfg in
		base-*) image=$BASE_BUILD/arch/arm64/boot/Image ;;
		*-off) args="kvm-arm.sysreg_elide=off" ;;
		*-on) args="kvm-arm.sysreg_elide=$ELIDE" ;;
		esac
		case $cfg in
		*-nvhe*) args="kvm-arm.mode=nvhe $args" ;;
		esac
		KP_QEMU_SMP=1 KP_QEMU_ARGS="-icount shift=0" \
			qemu_boot "$cfg-$b" "$image" "$OUT/initramfs.cpio.gz" "$OUT" "$args"
		LOGS+=("$cfg=$OUT/$cfg-$b.log")
	done
done

python3 "$KP_DIR/scripts/exitcost-summary.py" \
	--label "QEMU 10 TCG -icount shift=0 -smp 1, not hardware ($("$QEMU" --version | head -1))" \
	--elide "$ELIDE" --json "$OUT/bench.json" "${LOGS[@]}" | tee "$OUT/summary.txt"
[ "${PIPESTATUS[0]}" = 0 ] || die "qemu-exitcost: the runs did not all check out (logs in $OUT)"
log "qemu-exitcost done in $(($(now) - START))s (BENCH lines: $OUT/bench.json, table: $OUT/summary.txt)"
