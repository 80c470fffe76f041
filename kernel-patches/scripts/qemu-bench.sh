#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make -C kernel-patches qemu-bench
#
# Performance numbers for the asynchronous page fault patches, measured under
# QEMU 10 TCG with nested KVM (not hardware). Boots, alternately, the patched
# Image and an Image of the base tree without the series (same config), and
# in each runs Linux guests (L2, the patched Image with the guest driver,
# one vCPU) with "vmm linux" and qemu/apfbench.c:
#   postcopy  a compute task and a "migrating" task that reads pages the VMM
#             provides through userfaultfd after DELAY_MS each
#   touch     first touch of anonymous guest memory: stage-2 faults that the
#             host resolves at once (none is asynchronous)
# and, last in each boot, bare-metal guests (vmm apf --touch) that touch
# fresh memory with IRQs unmasked and masked, alternately: on the patched
# host, the fault path that may go asynchronous against the one that may not.
# in three configurations: "apf" (patched host, guest driver notified),
# "hidden" (patched host, VMM hides the service: KVM halts the vCPU until the
# page is there, interrupts still end the halt) and "sync" (base host: the
# vCPU thread blocks in the fault handler). See README.md.
#
# Environment (make variables of the same name without KP_BENCH_):
#   KP_BENCH_BOOTS     pairs of host boots (patched, base), default 2
#   KP_BENCH_VMS       L2 guests per configuration and host boot, default 2
#   KP_BENCH_ROUNDS    measurements of each kind per L2 guest, default 3
#   KP_BENCH_PAGES     pages the migrating task reads per round, default 16
#   KP_BENCH_DELAY_MS  userfaultfd delay per page, default 20
#   KP_BENCH_TOUCH_MB  MiB touched per touch pass, default 16
#   KP_BENCH_BARE_ROUNDS  pairs (IRQs unmasked, masked) of bare-metal touch
#                      runs per host boot, default 8
#   KP_BENCH_BARE_PAGES   pages each bare-metal run touches, default 4096
. "$(dirname "$0")/lib.sh"

START=$(now)
OUT=$CACHE/qemu-bench

BOOTS=${KP_BENCH_BOOTS:-2}
VMS=${KP_BENCH_VMS:-2}
ROUNDS=${KP_BENCH_ROUNDS:-3}
PAGES=${KP_BENCH_PAGES:-16}
DELAY_MS=${KP_BENCH_DELAY_MS:-20}
TOUCH_MB=${KP_BENCH_TOUCH_MB:-16}
BARE_ROUNDS=${KP_BENCH_BARE_ROUNDS:-8}
BARE_PAGES=${KP_BENCH_BARE_PAGES:-4096}

need cpio gzip timeout dtc python3
[ $((ROUNDS * PAGES)) -le 256 ] || die "ROUNDS x PAGES must be at most 256 (vmm linux --pages)"
[ $(((ROUNDS + 1) * TOUCH_MB)) -le 160 ] || die "(ROUNDS + 1) x TOUCH_MB must be at most 160 (the L2 guest has 256 MiB)"

build_patched_and_base

rm -rf "$OUT"
mkdir -p "$OUT"
cat >"$OUT/bench.conf" <<EOF
VMS=$VMS
ROUNDS=$ROUNDS
PAGES=$PAGES
DELAY_MS=$DELAY_MS
TOUCH_MB=$TOUCH_MB
BARE_ROUNDS=$BARE_ROUNDS
BARE_PAGES=$BARE_PAGES
EOF

# L2: the patched Image (with the guest driver) on every host, its workload,
# and the device tree of qemu-test's L2 guest.
busybox_root "$OUT/l2root" "$KP_DIR/qemu/bench-init"
cp "$OUT/bench.conf" "$OUT/l2root/bench.conf"
build_static "$OUT/l2root/apfbench" "$BUILD/usr/include" "$KP_DIR/qemu/apfbench.c"

# L1: the test VMM (built against the patched UAPI headers; it uses nothing
# the base kernel lacks unless --hide-apf is given).
busybox_root "$OUT/root" "$KP_DIR/qemu/bench-init"
cp "$OUT/bench.conf" "$OUT/root/bench.conf"
build_static "$OUT/root/vmm" "$BUILD/usr/include" "$KP_DIR"/qemu/vmm*.c "$KP_DIR/qemu/guest.S"
mkdir -p "$OUT/root/l2"
cpio_gz "$OUT/l2root" "$OUT/root/l2/initrd.cpio.gz"
dtc -q -I dts -O dtb -o "$OUT/root/l2/l2.dtb" "$KP_DIR/qemu/l2.dts" || die "dtc failed on qemu/l2.dts"
cp "$BUILD/arch/arm64/boot/Image" "$OUT/root/l2/Image"
cpio_gz "$OUT/root" "$OUT/initramfs.cpio.gz"

# Alternate the two host kernels, so that slow phases of a shared machine
# hit both. Sysreg save elision is off on the patched host (nothing would be
# elided without S1PIE anyway), so that only the async PF patches differ.
LOGS=()
for b in $(seq 1 "$BOOTS"); do
	qemu_boot "patched-$b" "$BUILD/arch/arm64/boot/Image" "$OUT/initramfs.cpio.gz" "$OUT" \
		"kvm-arm.sysreg_elide=off kvmprof.bench=apf,hidden"
	LOGS+=("patched=$OUT/patched-$b.log")
	qemu_boot "base-$b" "$BASE_BUILD/arch/arm64/boot/Image" "$OUT/initramfs.cpio.gz" "$OUT" \
		"kvmprof.bench=sync"
	LOGS+=("base=$OUT/base-$b.log")
done

python3 "$KP_DIR/scripts/bench-summary.py" \
	--label "QEMU 10 TCG, nested KVM, not hardware ($("$QEMU" --version | head -1))" \
	--pages "$PAGES" --delay-ms "$DELAY_MS" --json "$OUT/bench.json" "${LOGS[@]}" |
	tee "$OUT/summary.txt"
[ "${PIPESTATUS[0]}" = 0 ] || die "qemu-bench: the runs did not all check out (logs in $OUT)"
log "qemu-bench done in $(($(now) - START))s (BENCH lines: $OUT/bench.json, table: $OUT/summary.txt)"
