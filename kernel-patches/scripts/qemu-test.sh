#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make -C kernel-patches qemu-test
#
# Builds a trimmed arm64 Image with BTF from the patched tree, boots it under
# QEMU 10 (-M virt,virtualization=on,gic-version=3 -cpu max: EL2 with
# FEAT_FGT), and runs the test VMM (qemu/vmm*.c) in a KVM guest on the
# patched host, in VHE and in nVHE mode, with sysreg save elision on and
# off. Asserts the exact counts described in README.md from the serial log.
# Then boots a second Image with lockdep, DEBUG_ATOMIC_SLEEP, DEBUG_LIST and
# KASAN (config/debug.config) through the same workloads, and fails on
# anything they report, in L1 or in the Linux guest (L2).
#
#   qemu-test.sh [all|plain|debug|s1pie]
#	all (default): both; plain: the four boots of the plain Image; debug:
#	the debug boot only (make -C kernel-patches qemu-test-debug); s1pie:
#	two boots of the plain Image under QEMU 11, whose -cpu max has
#	FEAT_S1PIE, with the default elided set, PIR_EL1 and PIRE0_EL1
#	(make -C kernel-patches qemu-test-s1pie; QEMU 11 from
#	make -C kernel-patches deps QEMU11=1)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/debug-scan.sh"

START=$(now)
WHAT=${1:-all}
case $WHAT in all | plain | debug | s1pie) ;; *) die "usage: qemu-test.sh [all|plain|debug|s1pie]" ;; esac
# which Images: the plain one (BUILD), the debug one (BUILD_DEBUG)
case $WHAT in debug) PLAIN_IMAGE= ;; *) PLAIN_IMAGE=yes ;; esac
case $WHAT in all | debug) DEBUG_IMAGE=yes ;; *) DEBUG_IMAGE= ;; esac
if [ "$WHAT" = s1pie ]; then
	# QEMU 11 (deps.sh, KP_QEMU11=1): its wrapper runs it with trixie's
	# libraries
	QEMU=$CACHE/deps/qemu11/qemu-system-aarch64
	# shellcheck disable=SC2034 # qemu_boot (lib.sh) reads it
	QEMU_DATA=$CACHE/deps/qemu11/usr/share/qemu
	[[ $("$QEMU" --version 2>/dev/null) == *"version 11."* ]] ||
		die "QEMU 11 missing ($QEMU): run make -C kernel-patches deps QEMU11=1"
fi
WT=$CACHE/linux-image
BUILD=$CACHE/build-image
BUILD_DEBUG=$CACHE/build-image-debug
OUT=$CACHE/qemu
# what the guest's kvmprof printed, per boot: $KP_RESULTS/<boot>/kvmprof/
KP_RESULTS=$CACHE/qemu-test

# The set of registers elided in the "on" runs, and what the guest does.
ELIDE=mair_el1,amair_el1,vbar_el1,contextidr_el1,tcr_el1
NELIDE=5
NMAIR=5
NVBAR=3
NIDLE=10
# KVM_RUN calls: one per doorbell (MAIR, VBAR, idle, set-MAIR, MAIR-read)
# plus the final PSCI SYSTEM_OFF.
NRUNS=$((NMAIR + NVBAR + NIDLE + 3))
# The s1pie boots (kvmprof.s1pie=1): the guest also writes PIR_EL1 in NPIR
# rounds and PIRE0_EL1 in NPIRE0 rounds, twice per round, each round
# followed by a doorbell; then reads both back (two more doorbells).
NPIR=4
NPIRE0=2
NRUNS_S1PIE=$((NRUNS + NPIR + NPIRE0 + 2))

[ -x "$QEMU" ] || die "QEMU missing ($QEMU): run kernel-patches/deps.sh"
[ -x "$BUSYBOX" ] || die "busybox-static:arm64 missing: run kernel-patches/deps.sh"
need cpio gzip timeout dtc fdtget fdtput

prepare_base
apply_series "$WT"
# before a build: the debug boot's scan must know this tree's reports
[ -z "$DEBUG_IMAGE" ] || debug_selfcheck "$WT"
# HDR: the UAPI headers the VMM and the selftests build against
if [ -n "$PLAIN_IMAGE" ]; then
	build_image "$WT" "$BUILD" "$CACHE/build-image.log"
	HDR=$BUILD/usr/include
fi
if [ -n "$DEBUG_IMAGE" ]; then
	t=$(now)
	build_image "$WT" "$BUILD_DEBUG" "$CACHE/build-image-debug.log" \
		"$CONFIG_FRAGMENT" "$KP_DIR/config/debug.config"
	DEBUG_BUILD_TIME=$(($(now) - t))
	HDR=$BUILD_DEBUG/usr/include
fi

rm -rf "$OUT" "$KP_RESULTS"
mkdir -p "$OUT" "$KP_RESULTS"
busybox_root "$OUT/root" "$KP_DIR/qemu/init"
# kvmprof for arm64, started by /init in every boot (see qemu/init)
build_kvmprof "$CACHE/kvmprof-arm64" "$OUT/kvmprof-build.log"
install_kvmprof "$OUT/root" "$CACHE/kvmprof-arm64"
build_static "$OUT/root/vmm" "$HDR" "$KP_DIR"/qemu/vmm*.c "$KP_DIR/qemu/guest.S"
# The series' arm64 KVM selftests, static, against the patched UAPI headers.
SELFTESTS="aarch64/async_pf aarch64/hypercalls aarch64/spe"
for t in $SELFTESTS; do
	make -s --no-print-directory -C "$WT/tools/testing/selftests/kvm" ARCH=arm64 CROSS_COMPILE=$CROSS \
		OUTPUT="$CACHE/selftests-image" KHDR_INCLUDES="-isystem $HDR" \
		EXTRA_CFLAGS=-static "$CACHE/selftests-image/$t" >"$OUT/selftests.log" 2>&1 || {
		cat "$OUT/selftests.log" >&2
		die "selftest $t does not build"
	}
	cp "$CACHE/selftests-image/$t" "$OUT/root/$(basename "$t")"
done

# The Linux guest (L2) that "vmm linux" boots: the same Image as L1, with a
# busybox-only initramfs running the same /init (kvmprof.role=l2 branch).
# One initramfs per Image: initramfs.cpio.gz, initramfs-debug.cpio.gz.
mkdir -p "$OUT/root/l2"
busybox_root "$OUT/l2root" "$KP_DIR/qemu/init"
cpio_gz "$OUT/l2root" "$OUT/root/l2/initrd.cpio.gz"
dtc -q -I dts -O dtb -o "$OUT/root/l2/l2.dtb" "$KP_DIR/qemu/l2.dts" || die "dtc failed on qemu/l2.dts"
if [ -n "$PLAIN_IMAGE" ]; then
	cp "$BUILD/arch/arm64/boot/Image" "$OUT/root/l2/Image"
	# The kexec run's L2 initramfs (plain Image only): the same, with
	# what the guest kexecs into in /l2k/ (qemu/init, l2_kexec)
	cp -a "$OUT/l2root" "$OUT/l2kroot"
	mkdir -p "$OUT/l2kroot/l2k"
	build_static "$OUT/l2kroot/l2k/l2kexec" "$HDR" "$KP_DIR/qemu/l2kexec.c"
	cp "$BUILD/arch/arm64/boot/Image" "$OUT/root/l2/initrd.cpio.gz" "$OUT/l2kroot/l2k/"
	cpio_gz "$OUT/l2kroot" "$OUT/root/l2/initrd-kexec.cpio.gz"
	# arm64.nolva: 48-bit VAs, 4 levels. With -cpu max's LPA2 this Image
	# has 52-bit VAs and 5 levels, where kexec_file_load() oopses in
	# trans_pgd_create_copy(): 6.12's copy_p4d() takes p4d_offset() of a
	# temporary pgd entry it never allocated.
	cp "$OUT/root/l2/l2.dtb" "$OUT/root/l2/l2-kexec.dtb"
	fdtput -t s "$OUT/root/l2/l2-kexec.dtb" /chosen bootargs \
		"$(fdtget "$OUT/root/l2/l2.dtb" /chosen bootargs) arm64.nolva"
	cpio_gz "$OUT/root" "$OUT/initramfs.cpio.gz"
	rm -f "$OUT/root/l2/initrd-kexec.cpio.gz"
fi
if [ -n "$DEBUG_IMAGE" ]; then
	cp "$BUILD_DEBUG/arch/arm64/boot/Image" "$OUT/root/l2/Image"
	cpio_gz "$OUT/root" "$OUT/initramfs-debug.cpio.gz"
fi
rm -f "$OUT/root/l2/Image"

# run_qemu <name> <extra kernel command line>
# (kunit.enable=1: the guest SPE KUnit suite built into the Image runs at boot)
run_qemu() {
	qemu_boot "$1" "$BUILD/arch/arm64/boot/Image" "$OUT/initramfs.cpio.gz" "$OUT" \
		"kunit.enable=1 $2"
}

FAILS=0
# kv <log> <key>: value of the last "KP: <key> <value>" line
kv() { sed -n "s/^KP: $2 //p" "$1" | tr -d '\r' | tail -1; }
# vstat <log> <name>: a vcpu stat printed by the VMM
vstat() { sed -n "s/^vmm: stat $2 //p" "$1" | tr -d '\r' | tail -1; }
expect() {
	local name=$1 what=$2 got=$3 want=$4
	if [ "$got" = "$want" ]; then
		log "$name: $what = $got"
	else
		log "FAIL: $name: $what = '$got', expected '$want'"
		FAILS=$((FAILS + 1))
	fi
}
expect_true() {
	local name=$1 what=$2
	shift 2
	if "$@"; then
		log "$name: $what"
	else
		log "FAIL: $name: not true: $what"
		FAILS=$((FAILS + 1))
	fi
}

# Checks common to every boot.
check_boot() {
	local name=$1 mode=$2 log=$OUT/$1.log ev runs
	case $mode in
	vhe) expect_true "$name" "KVM in VHE mode" grep -q 'kvm \[1\]: VHE mode initialized successfully' "$log" ;;
	nvhe) expect_true "$name" "KVM in nVHE mode" grep -q 'kvm \[1\]: Hyp nVHE mode initialized successfully' "$log" ;;
	esac
	expect "$name" "/dev/kvm" "$(kv "$log" dev-kvm)" yes
	for ev in kvm_sysreg_dirty kvm_sysreg_save_elided; do
		expect "$name" "tracefs $ev" "$(kv "$log" "tracefs $ev")" yes
	done
	expect "$name" "BTF kvm_sysreg_dirty" \
		"$(sed -n 's/^btf: kvm_sysreg_dirty//p' "$log" | tr -d '\r')" \
		"(void *, struct kvm_vcpu *, u32, u64)"
	expect "$name" "BTF kvm_sysreg_save_elided" \
		"$(sed -n 's/^btf: kvm_sysreg_save_elided//p' "$log" | tr -d '\r')" \
		"(void *, struct kvm_vcpu *, u64, u32)"
	# Guest SPE: the tracepoints, and a VM without the opt-in on a host
	# without SPE (QEMU emulates none)
	for ev in kvm_spe_copy_out kvm_spe_inject_bme; do
		expect "$name" "tracefs $ev" "$(kv "$log" "tracefs $ev")" yes
	done
	expect_true "$name" "kvm_spe_copy_out print fmt decodes the reason" \
		grep -qF 'KP: fmt kvm_spe_copy_out "vcpu %u data %p len %llu guest_va 0x%llx reason %s ret %d", REC->vcpu_id, REC->data, REC->len, REC->guest_va, __print_symbolic(REC->reason, { 0, "BUF_FULL" }, { 1, "GUEST_STOP" }, { 2, "VCPU_PUT" }), REC->ret' "$log"
	expect_true "$name" "kvm_spe_inject_bme print fmt decodes EC and MSS" \
		grep -qF 'KP: fmt kvm_spe_inject_bme "vcpu %u pmbsr 0x%llx ec %s mss 0x%x pmbptr 0x%llx ipa 0x%llx", REC->vcpu_id, REC->pmbsr, __print_symbolic(REC->ec, { 0x0, "BUF" }, { 0x24, "FAULT_S1" }, { 0x25, "FAULT_S2" }, { 0x1e, "FAULT_GPC" }, { 0x1f, "IMP_DEF" }), REC->mss, REC->pmbptr, REC->ipa' "$log"
	expect "$name" "BTF kvm_spe_copy_out" \
		"$(sed -n 's/^btf: kvm_spe_copy_out//p' "$log" | tr -d '\r')" \
		"(void *, struct kvm_vcpu *, const void *, u64, u64, u8, int)"
	expect "$name" "BTF kvm_spe_inject_bme" \
		"$(sed -n 's/^btf: kvm_spe_inject_bme//p' "$log" | tr -d '\r')" \
		"(void *, struct kvm_vcpu *, u64, u64, u64)"
	expect "$name" "SPE opt-in refused (no SPE on this host)" \
		"$(sed -n 's/^vmm: spe opt-in //p' "$log" | tr -d '\r')" "has_attr ENXIO irq ENXIO init ENXIO"
	expect "$name" "no SPE without the opt-in: PMSVer" \
		"$(sed -n 's/^vmm: spe PMSVer //p' "$log" | tr -d '\r')" "0 (KVM_GET_ONE_REG) 0 (guest)"
	expect "$name" "no SPE without the opt-in: PMSCR_EL1 hidden from userspace" \
		"$(sed -n 's/^vmm: spe KVM_GET_ONE_REG PMSCR_EL1 //p' "$log" | tr -d '\r')" ENOENT
	expect "$name" "no SPE without the opt-in: guest accesses UNDEFINED" \
		"$(tr -d '\r' <"$log" | sed -n 's/^vmm: spe guest UNDEF \([0-9]*\) of 3 .*finished \([01]\)$/\1 \2/p')" "3 1"
	expect "$name" "spe VMM exit status" "$(kv "$log" spe-status)" 0
	# The guest SPE KUnit suite, built into this kernel, runs at boot
	expect "$name" "KUnit kvm-arm64-spe-buf at boot" \
		"$(tr -d '\r' <"$log" | sed -n 's/^.*# kvm-arm64-spe-buf: //p')" \
		"pass:15 fail:0 skip:0 total:15"
	expect "$name" "KUnit kvm-arm64-sysreg-elide at boot" \
		"$(tr -d '\r' <"$log" | sed -n 's/^.*# kvm-arm64-sysreg-elide: //p')" \
		"pass:9 fail:0 skip:0 total:9"
	expect "$name" "KUnit failures at boot" "$(tr -d '\r' <"$log" | grep -c 'not ok')" 0
	expect "$name" "VMM failures" "$(grep -c '^vmm: FAIL' "$log")" 0
	expect "$name" "VMM exit status" "$(kv "$log" vmm-status)" 0
	expect "$name" "guest writes seen by the VMM" \
		"$(sed -n 's/^vmm: guest wrote M/M/p' "$log" | tr -d '\r')" \
		"MAIR_EL1 $NMAIR times, VBAR_EL1 $NVBAR times, idle exits $NIDLE"
	case $name in
	*-s1pie) runs=$NRUNS_S1PIE ;;
	*) runs=$NRUNS ;;
	esac
	expect "$name" "KVM_RUN calls" "$(sed -n 's/^vmm: runs //p' "$log" | tr -d '\r')" "$runs"
	expect "$name" "lost trace events" "$(kv "$log" trace-lost)" 0
	if grep -Eq 'Internal error|Unable to handle|HYP panic|BUG:|WARNING:|Call trace:' "$log"; then
		grep -E -A5 'Internal error|Unable to handle|HYP panic|BUG:|WARNING:|Call trace:' "$log" >&2
		log "FAIL: $name: kernel splat"
		FAILS=$((FAILS + 1))
	fi
}

# Asynchronous page faults: 8 data pages behind a userfaultfd resolved after
# 20 ms each. With IRQs unmasked, each page is faulted in asynchronously
# exactly once while the vcpu halts; with IRQs masked, synchronously; with
# the guest opted in to notifications, asynchronously while the guest runs.
APF_EVENTS="kvm_try_async_get_page kvm_async_pf_not_present kvm_async_pf_ready kvm_async_pf_completed"
check_apf() {
	local name=$1 log=$OUT/$1.log ev
	expect "$name" "apf VMM exit status" "$(kv "$log" apf-status)" 0
	expect "$name" "apf pages faulted once each in userfaultfd" \
		"$(sed -n 's/^vmm: apf pages //p' "$log" | tr -d '\r')" "8 delay-ms 20 uffd-faults-ok 8"
	for ev in $APF_EVENTS; do
		expect "$name" "apf $ev" "$(kv "$log" "apf-$ev")" 8
	done
	expect "$name" "apf kvm_async_pf_repeated_fault" "$(kv "$log" apf-kvm_async_pf_repeated_fault)" 0
	expect "$name" "apf lost trace events" "$(kv "$log" apf-trace-lost)" 0

	expect "$name" "apf (IRQs masked) VMM exit status" "$(kv "$log" apf-masked-status)" 0
	expect "$name" "apf (IRQs masked) pages faulted once each in userfaultfd" \
		"$(sed -n 's/^vmm: apf (irqs masked) pages //p' "$log" | tr -d '\r')" \
		"8 delay-ms 20 uffd-faults-ok 8"
	for ev in $APF_EVENTS kvm_async_pf_repeated_fault; do
		expect "$name" "apf (IRQs masked) $ev" "$(kv "$log" "apf-masked-$ev")" 0
	done

	# The guest opts in to notifications and reads the pages from EL0.
	expect "$name" "apf (pv) VMM exit status" "$(kv "$log" apf-pv-status)" 0
	expect "$name" "apf (pv) pages faulted once each in userfaultfd" \
		"$(sed -n 's/^vmm: apf (pv) pages //p' "$log" | tr -d '\r')" "8 delay-ms 20 uffd-faults-ok 8"
	expect "$name" "apf (pv) guest notifications" \
		"$(sed -n 's/^vmm: apf-pv guest notified //p' "$log" | tr -d '\r')" \
		"not-present 8 ready 8, waited running"
	for ev in $APF_EVENTS; do
		expect "$name" "apf (pv) $ev" "$(kv "$log" "apf-pv-$ev")" 8
	done
	expect "$name" "apf (pv) kvm_async_pf_repeated_fault" "$(kv "$log" apf-pv-kvm_async_pf_repeated_fault)" 0
	expect "$name" "apf (pv) lost trace events" "$(kv "$log" apf-pv-trace-lost)" 0

	# KVM selftests and the Linux guest, in the VHE and nVHE boots with
	# elision on (and the s1pie boots)
	case $name in
	*-on | *-s1pie)
		expect "$name" "L2 Linux guest: VMM exit status" "$(kv "$log" l2-status)" 0
		expect "$name" "L2 Linux guest: pages faulted once each in userfaultfd" \
			"$(sed -n 's/^vmm: linux pages //p' "$log" | tr -d '\r')" "8 delay-ms 20 uffd-faults-ok 8"
		expect "$name" "L2 guest driver enabled" "$(sed -n 's/^vmm: l2 0x0 //p' "$log" | tr -d '\r')" 1
		# on the PPI that the VMM assigned and l2.dts describes
		expect_true "$name" "L2 guest driver: enabled on its CPU, on INTID 20 (from the DT)" \
			grep -Eq '^l2: .*kvm-async-pf: notifications enabled on 1 of 1 CPUs, INTID 20' "$log"
		expect "$name" "L2 guest driver: no CPU failed to enable" \
			"$(grep -Ec '^l2: .*kvm-async-pf: .*(cannot|not enabled)' "$log")" 0
		expect "$name" "L2 pages read correctly from userspace" "$(sed -n 's/^vmm: l2 0x8 //p' "$log" | tr -d '\r')" 8
		expect "$name" "L2 guest driver: not present notifications" "$(sed -n 's/^vmm: l2 0x10 //p' "$log" | tr -d '\r')" 8
		expect "$name" "L2 guest driver: ready notifications" "$(sed -n 's/^vmm: l2 0x18 //p' "$log" | tr -d '\r')" 8
		expect "$name" "L2 guest driver: fallbacks to a halt" "$(sed -n 's/^vmm: l2 0x20 //p' "$log" | tr -d '\r')" 0
		for ev in $APF_EVENTS; do
			expect "$name" "L2 $ev" "$(kv "$log" "l2-$ev")" 8
		done
		expect "$name" "L2 kvm_async_pf_repeated_fault" "$(kv "$log" l2-kvm_async_pf_repeated_fault)" 0
		expect "$name" "L2 lost trace events" "$(kv "$log" l2-trace-lost)" 0
		if grep -Eq '^l2: .*(Internal error|Unable to handle|BUG:|WARNING:|Call trace:|Kernel panic)' "$log"; then
			grep -E -A5 '^l2: .*(Internal error|Unable to handle|BUG:|WARNING:|Call trace:|Kernel panic)' "$log" >&2
			log "FAIL: $name: L2 kernel splat"
			FAILS=$((FAILS + 1))
		fi
		echo "$name L2 Linux guest with the driver: try_async/not_present/ready/completed = $(for ev in $APF_EVENTS; do printf '%s/' "$(kv "$log" "l2-$ev")"; done | sed 's|/$||'), repeated $(kv "$log" l2-kvm_async_pf_repeated_fault); guest driver notified $(sed -n 's/^vmm: l2 0x10 //p' "$log" | tr -d '\r') not present, $(sed -n 's/^vmm: l2 0x18 //p' "$log" | tr -d '\r') ready, $(sed -n 's/^vmm: l2 0x20 //p' "$log" | tr -d '\r') fallbacks" >>"$OUT/results"
		expect "$name" "selftest async_pf exit status" "$(kv "$log" selftest-async_pf-status)" 0
		expect "$name" "selftest async_pf abi" "$(grep -c '^abi: ok' "$log")" 1
		expect "$name" "selftest async_pf abi (hidden)" "$(grep -c '^abi (hidden): ok' "$log")" 1
		expect "$name" "selftest async_pf el0" "$(grep -c '^el0: 4 pages parked and resumed' "$log")" 1
		expect "$name" "selftest async_pf undeliverable" "$(grep -c '^undeliverable: [0-3] WFI wakeups' "$log")" 1
		expect "$name" "selftest async_pf reset" "$(grep -c '^reset: no stale token' "$log")" 1
		expect "$name" "selftest async_pf ppi" "$(grep -c "^ppi: PPI 23 assigned, 8 notifications on it, 4 reads parked and resumed; refused: KVM_IRQ_LINE of it before and after the run (EBUSY), the timer's and the PMU's PPIs, an SGI, an SPI, assigning after the run; a timer moved onto it fails KVM_RUN" "$log")" 1
		expect "$name" "selftest async_pf suspend" "$(grep -c '^suspend: woken up at the timer' "$log")" 1
		expect "$name" "selftest async_pf multi" "$(grep -c '^multi: 2 vcpus, 2 and 2 pages parked and resumed, 2 waiting at once' "$log")" 1
		expect "$name" "selftest async_pf migrate" "$(grep -c '^migrate: 4 tokens outstanding saved; restored: 1 wakeup of all, 4 parked reads resumed (none without the restore)' "$log")" 1
		irqs=$(sed -n 's/^halt: \([0-9]*\) timer interrupts while waiting for 4 pages.*/\1/p' "$log" | tr -d '\r')
		expect_true "$name" "selftest async_pf: guest took timer interrupts while waiting ($irqs > 8)" \
			test "${irqs:-0}" -gt 8
		expect "$name" "selftest hypercalls exit status" "$(kv "$log" selftest-hypercalls-status)" 0
		# No SPE under QEMU: the guest SPE selftest must skip (KSFT_SKIP)
		expect "$name" "selftest spe exit status (skip: no SPE)" "$(kv "$log" selftest-spe-status)" 4
		expect_true "$name" "selftest spe says why it skips" \
			grep -q 'guest SPE not available (KVM_ARM_VCPU_SPE_CTRL: ENXIO)' "$log"
		# ... after its ID register part, which runs without SPE too
		expect "$name" "selftest spe idreg (no SPE)" \
			"$(grep -c '^idreg: PMSVer 0 without the opt-in, PMSVer 1 and 15 refused (EINVAL): guest SPE not offered' "$log")" 1
		echo "$name selftests: async_pf ok (${irqs:-?} timer interrupts while waiting for 4 pages), hypercalls ok, spe idreg ok then skipped (no SPE)" >>"$OUT/results"
		sed -n "s/^migrate: /$name selftest async_pf migrate: /p" "$log" | tr -d '\r' >>"$OUT/results"
		sed -n "s/^ppi: /$name selftest async_pf ppi: /p" "$log" | tr -d '\r' >>"$OUT/results"
		;;
	esac
	echo "$name apf: try_async/not_present/ready/completed = $(for ev in $APF_EVENTS; do printf '%s/' "$(kv "$log" "apf-$ev")"; done | sed 's|/$||'), repeated $(kv "$log" apf-kvm_async_pf_repeated_fault); IRQs masked: 0 async; guest notified: $(for ev in $APF_EVENTS; do printf '%s/' "$(kv "$log" "apf-pv-$ev")"; done | sed 's|/$||'), repeated $(kv "$log" apf-pv-kvm_async_pf_repeated_fault), guest got $(sed -n 's/^vmm: apf-pv guest notified //p' "$log" | tr -d '\r')" >>"$OUT/results"
}

# The Linux guest's kexec with tasks parked (qemu/init: l2_kexec and
# l2_kexeced; "vmm linux --kexec"), in the plain *-on boots: 4 pages
# outstanding when the first kernel kexecs, whose completions KVM must
# drop (the guest driver's reboot notifier disables notifications) rather
# than post into the next kernel's memory; the next kernel enables
# notifications, parks and wakes 4 tasks of its own, reads every page, and
# then idles for 2 s. A vCPU that stayed runnable after the kexec
# (completions it can never consume) returns from every WFI at once: its
# thread then spends the whole window on the CPU (100 %) and exits on WFI
# as fast as it can re-enter the guest. An idle one only wakes for its tick
# (HZ_PERIODIC, 250 Hz: at most 250 WFI exits a second, fewer when TCG is
# slow) and for the process that writes the closing doorbell; each wakeup
# of the nested guest costs milliseconds of the L1 vCPU under TCG, more on
# a loaded host (41 % of the window was measured on a host with load 10 on
# 2 cores). KEXEC_IDLE_MAX_PCT bounds the CPU time of the vCPU thread as a
# share of the window, KEXEC_IDLE_MAX_WFI the WFI exits per second (twice
# the tick).
KEXEC_IDLE_MAX_PCT=${KP_KEXEC_IDLE_MAX_PCT:-80}
KEXEC_IDLE_MAX_WFI=500
# l2db <log> <doorbell>: what "vmm linux" printed for it ("vmm: l2 <doorbell> ...")
l2db() { sed -n "s/^vmm: l2 $2 //p" "$1" | tr -d '\r'; }
check_kexec() {
	local name=$1 log=$OUT/$1.log ev wall cpu wfi
	expect "$name" "L2 kexec: VMM exit status" "$(kv "$log" l2-kexec-status)" 0
	expect "$name" "L2 kexec: pages faulted once each in userfaultfd" \
		"$(sed -n 's/^vmm: linux-kexec pages //p' "$log" | tr -d '\r')" "8 delay-ms 1500 uffd-faults-ok 8"
	expect "$name" "L2 kexec: tasks parked when the first kernel kexecs" \
		"$(l2db "$log" kexec | sed 's/ uffd-copied.*//;s/^parked //')" 4
	expect "$name" "L2 kexec: pages the host had copied in at the kexec (all 4 still faulting)" \
		"$(l2db "$log" kexec | sed -n 's/.*uffd-copied //p')" 0
	expect_true "$name" "L2 kexec: the first kernel started the next one" \
		grep -q '^l2: .*kexec_core: Starting new kernel' "$log"
	expect "$name" "L2 kexec: next kernel's driver enabled notifications" "$(l2db "$log" 0x300)" 1
	expect "$name" "L2 kexec: next kernel read every page correctly" "$(l2db "$log" 0x308)" 8
	expect "$name" "L2 kexec: next kernel's not present notifications" "$(l2db "$log" 0x310)" 4
	expect "$name" "L2 kexec: next kernel's ready notifications" "$(l2db "$log" 0x318)" 4
	expect "$name" "L2 kexec: next kernel's fallbacks to a halt" "$(l2db "$log" 0x320)" 0
	for ev in kvm_try_async_get_page kvm_async_pf_not_present kvm_async_pf_completed; do
		expect "$name" "L2 kexec: $ev (both kernels)" "$(kv "$log" "l2-kexec-$ev")" 8
	done
	expect "$name" "L2 kexec: kvm_async_pf_ready (the next kernel's 4 only)" \
		"$(kv "$log" l2-kexec-kvm_async_pf_ready)" 4
	expect "$name" "L2 kexec: ready posted for the first kernel's tokens (stale control block)" \
		"$(kv "$log" l2-kexec-stale-ready)" 0
	expect "$name" "L2 kexec: kvm_async_pf_repeated_fault" "$(kv "$log" l2-kexec-kvm_async_pf_repeated_fault)" 0
	expect "$name" "L2 kexec: lost trace events" "$(kv "$log" l2-kexec-trace-lost)" 0
	wall=$(l2db "$log" idle | sed -n 's/^wall-ms \([0-9]*\) .*/\1/p')
	cpu=$(l2db "$log" idle | sed -n 's/.*vcpu-cpu-ms \([0-9]*\) .*/\1/p')
	wfi=$(l2db "$log" idle | sed -n 's/.*wfi-exits \([0-9]*\) .*/\1/p')
	expect_true "$name" "L2 kexec: idle window of the next kernel measured (${wall:-?} ms >= 2000)" \
		test "${wall:-0}" -ge 2000
	expect_true "$name" "L2 kexec: idle vCPU not spinning: ${cpu:-?} ms of CPU in ${wall:-?} ms <= $KEXEC_IDLE_MAX_PCT%" \
		test "$((${cpu:-999999} * 100))" -le "$((${wall:-0} * KEXEC_IDLE_MAX_PCT))"
	expect_true "$name" "L2 kexec: idle vCPU not spinning: ${wfi:-?} WFI exits in ${wall:-?} ms <= $KEXEC_IDLE_MAX_WFI/s" \
		test "$((${wfi:-999999} * 1000))" -le "$((${wall:-0} * KEXEC_IDLE_MAX_WFI))"
	echo "$name L2 kexec with 4 tasks parked: next kernel notified $(l2db "$log" 0x310) not present, $(l2db "$log" 0x318) ready, $(l2db "$log" 0x320) fallbacks; host try_async/not_present/ready/completed = $(for ev in $APF_EVENTS; do printf '%s/' "$(kv "$log" "l2-kexec-$ev")"; done | sed 's|/$||'), stale ready $(kv "$log" l2-kexec-stale-ready); idle vCPU: $cpu ms CPU in $wall ms, $wfi WFI exits" >>"$OUT/results"
}

# What kvmprofd, running in the guest, reported about the same runs:
# exact figures against the VMM's own accounting, the vCPU's binary stats
# and tracefs (scripts/kvmprof-check.py, one line per check in
# $OUT/<boot>.kvmprof.log).
check_kvmprof() {
	local name=$1 elide=$2
	if python3 "$KP_DIR/scripts/kvmprof-check.py" "$OUT/$name.log" \
		"$KP_RESULTS/$name/kvmprof" "$name" "$elide" >"$OUT/$name.kvmprof.log" 2>&1; then
		log "$name: $(tail -1 "$OUT/$name.kvmprof.log")"
	else
		grep -E '^FAIL|Traceback|Error' "$OUT/$name.kvmprof.log" >&2 || tail -20 "$OUT/$name.kvmprof.log" >&2
		log "FAIL: $name: kvmprof in the guest (above; $OUT/$name.kvmprof.log)"
		FAILS=$((FAILS + 1))
	fi
	grep "^$name kvmprofd: " "$OUT/$name.kvmprof.log" >>"$OUT/results" || true
}

# Elision on: every write traps once (each one is followed by an exit to the
# VMM, i.e. a vcpu_put and, on nVHE, a save), and every save elides the
# registers the guest did not write since the last one.
check_on() {
	local name=$1 mode=$2 log=$OUT/$1.log writes batches sum exits
	writes=$((NMAIR + NVBAR))
	expect_true "$name" "elided set announced" \
		grep -q "kvm \[1\]: Eliding saves of EL1 registers: MAIR_EL1 AMAIR_EL1 VBAR_EL1 CONTEXTIDR_EL1 TCR_EL1" "$log"
	expect "$name" "stat sysreg_write_traps" "$(vstat "$log" sysreg_write_traps)" "$writes"
	expect "$name" "kvm_sysreg_dirty events" "$(kv "$log" trace-dirty)" "$writes"
	expect "$name" "kvm_sysreg_dirty MAIR_EL1" "$(kv "$log" trace-dirty-MAIR_EL1)" "$NMAIR"
	expect "$name" "kvm_sysreg_dirty VBAR_EL1" "$(kv "$log" trace-dirty-VBAR_EL1)" "$NVBAR"
	batches=$(kv "$log" trace-elided-batches)
	sum=$(kv "$log" trace-elided-sum)
	exits=$(kv "$log" trace-exits)
	expect "$name" "stat sysreg_saves_elided = sum of kvm_sysreg_save_elided counts" \
		"$(vstat "$log" sysreg_saves_elided)" "$sum"
	expect "$name" "elided saves = $NELIDE x saves ($batches) - dirty saves ($writes)" \
		"$sum" "$((NELIDE * batches - writes))"
	case $mode in
	nvhe) expect "$name" "saves (one per exit, kvm_exit events)" "$batches" "$exits" ;;
	vhe) expect_true "$name" "saves ($batches) >= vcpu_put per KVM_RUN ($NRUNS)" \
		test "$batches" -ge "$NRUNS" ;;
	esac
	echo "$name saves=$batches elided=$sum dirty=$writes exits=$exits" >>"$OUT/results"
}

# vjstat <log> <VM name> <stat>: a vCPU stat of that VM, from its VMM's
# "vmm-json:" line
vjstat() {
	tr -d '\r' <"$1" | sed -n 's/^vmm-json: //p' | python3 -c '
import json, sys
for line in sys.stdin:
    j = json.loads(line)
    if j.get("name") == sys.argv[1]:
        print(j.get("stats", {}).get(sys.argv[2], ""))' "$2" "$3" | tail -1
}

# The default set (PIR_EL1, PIRE0_EL1) on a CPU with FEAT_S1PIE (QEMU 11):
# their write traps have negative polarity (nPIR_EL1, nPIRE0_EL1: armed
# while clear). Each round of the guest writes the register twice before
# its exit: the first write traps and disarms the trap, the second doesn't
# trap, unless an exit that saves and reloads the guest's EL1 context comes
# between the two (an interrupt; with VHE, followed by a vcpu_put()): then
# the reloaded register is clean again and the second write traps too.
# Such exits are found in the trace by their guest PC (the VMM prints the
# two PCs of each register's window: "vmm: split") and a save of the EL1
# context before the next entry. So, per register, the write traps are
# exactly the rounds plus those exits. KVM has each value at the exit (the
# VMM's check), the guest reads it back after the exit and at the end, so
# a save elided for a written register would show. MAIR_EL1 and VBAR_EL1
# are written too, not elided, never trapped. Then a Linux guest (L2),
# which writes PIRE0_EL1 and PIR_EL1 once each at boot (__cpu_setup) and
# runs with S1PIE enabled: 2 write traps, and it must boot and run its
# workload (check_apf).
# splits <log> <PC> <PC>: exits at either guest PC followed by a save
splits() {
	tr -d '\r' <"$1" | awk -v a="$2" -v b="$3" '
		$1 == "KP:" && $2 == "trace-exit-pc" && ($3 == a || $3 == b) && $4 == 1 { n += $5 }
		END { print n + 0 }'
}
check_s1pie() {
	local name=$1 mode=$2 log=$OUT/$1.log batches sum exits w npir npire0 traps
	expect_true "$name" "L1 CPU has FEAT_S1PIE" \
		grep -q 'CPU features: detected: Stage-1 Permission Indirection Extension (S1PIE)' "$log"
	expect_true "$name" "default elided set announced" \
		grep -q 'kvm \[1\]: Eliding saves of EL1 registers: PIR_EL1 PIRE0_EL1.\?$' "$log"
	expect "$name" "VM's ID_AA64MMFR3_EL1 S1PIE, TCRX" \
		"$(sed -n 's/^vmm: ID_AA64MMFR3_EL1 0x[0-9a-f]* //p' "$log" | tr -d '\r' | head -1)" "S1PIE 1 TCRX 1"
	expect "$name" "PIR_EL1/PIRE0_EL1 writes seen by the VMM" \
		"$(sed -n 's/^vmm: guest wrote P/P/p' "$log" | tr -d '\r')" \
		"PIR_EL1 $NPIR times, PIRE0_EL1 $NPIRE0 times (twice per exit), read back both"
	# vmm: split PIR_EL1 <PC> <PC> PIRE0_EL1 <PC> <PC>
	read -r -a w <<<"$(sed -n 's/^vmm: split //p' "$log" | tr -d '\r' | head -1)"
	expect "$name" "split windows printed" "${w[0]:-} ${w[3]:-}" "PIR_EL1 PIRE0_EL1"
	npir=$((NPIR + $(splits "$log" "${w[1]:-x}" "${w[2]:-x}")))
	npire0=$((NPIRE0 + $(splits "$log" "${w[4]:-x}" "${w[5]:-x}")))
	traps=$((npir + npire0))
	expect "$name" "stat sysreg_write_traps (rounds + split rounds)" \
		"$(vstat "$log" sysreg_write_traps)" "$traps"
	expect "$name" "kvm_sysreg_dirty events" "$(kv "$log" trace-dirty)" "$traps"
	expect "$name" "kvm_sysreg_dirty PIR_EL1 ($NPIR rounds, $((npir - NPIR)) split)" \
		"$(kv "$log" trace-dirty-PIR_EL1)" "$npir"
	expect "$name" "kvm_sysreg_dirty PIRE0_EL1 ($NPIRE0 rounds, $((npire0 - NPIRE0)) split)" \
		"$(kv "$log" trace-dirty-PIRE0_EL1)" "$npire0"
	# the Arm ARM's HFGWTR_EL2 bits: nPIR_EL1 58, nPIRE0_EL1 57
	expect "$name" "kvm_sysreg_dirty PIR_EL1 hfgwtr_bits (bit 58)" \
		"$(kv "$log" trace-dirty-bits-PIR_EL1)" 0x400000000000000
	expect "$name" "kvm_sysreg_dirty PIRE0_EL1 hfgwtr_bits (bit 57)" \
		"$(kv "$log" trace-dirty-bits-PIRE0_EL1)" 0x200000000000000
	expect "$name" "kvm_sysreg_dirty MAIR_EL1, VBAR_EL1 (not elided)" \
		"$(kv "$log" trace-dirty-MAIR_EL1)/$(kv "$log" trace-dirty-VBAR_EL1)" /
	batches=$(kv "$log" trace-elided-batches)
	sum=$(kv "$log" trace-elided-sum)
	exits=$(kv "$log" trace-exits)
	expect "$name" "stat sysreg_saves_elided = sum of kvm_sysreg_save_elided counts" \
		"$(vstat "$log" sysreg_saves_elided)" "$sum"
	expect "$name" "elided saves = 2 x saves ($batches) - dirty saves ($traps)" \
		"$sum" "$((2 * batches - traps))"
	case $mode in
	nvhe) expect "$name" "saves (one per exit, kvm_exit events)" "$batches" "$exits" ;;
	vhe) expect_true "$name" "saves ($batches) >= vcpu_put per KVM_RUN ($NRUNS_S1PIE)" \
		test "$batches" -ge "$NRUNS_S1PIE" ;;
	esac
	expect "$name" "L2 Linux guest: write traps (PIRE0_EL1, PIR_EL1 in __cpu_setup)" \
		"$(vjstat "$log" l2 sysreg_write_traps)" 2
	expect_true "$name" "L2 Linux guest has FEAT_S1PIE" \
		grep -q '^l2: .*CPU features: detected: Stage-1 Permission Indirection Extension (S1PIE)' "$log"
	echo "$name saves=$batches elided=$sum dirty=$traps (PIR_EL1 $npir in $NPIR rounds, PIRE0_EL1 $npire0 in $NPIRE0) exits=$exits; L2 Linux: write traps $(vjstat "$log" l2 sysreg_write_traps), saves elided $(vjstat "$log" l2 sysreg_saves_elided)" >>"$OUT/results"
}

# Elision off (or nothing to elide): no trap, no event, same guest behaviour.
check_off() {
	local name=$1 log=$OUT/$1.log
	expect "$name" "stat sysreg_write_traps" "$(vstat "$log" sysreg_write_traps)" 0
	expect "$name" "stat sysreg_saves_elided" "$(vstat "$log" sysreg_saves_elided)" 0
	expect "$name" "kvm_sysreg_dirty events" "$(kv "$log" trace-dirty)" 0
	expect "$name" "kvm_sysreg_save_elided events" "$(kv "$log" trace-elided-batches)" 0
	echo "$name saves_elided=0 dirty=0 exits=$(kv "$log" trace-exits)" >>"$OUT/results"
}

: >"$OUT/results"
if [ "$WHAT" = all ] || [ "$WHAT" = plain ]; then
	run_qemu vhe-on "kvm-arm.sysreg_elide=$ELIDE kvmprof.selftests=1 kvmprof.l2=1 kvmprof.l2kexec=1"
	check_boot vhe-on vhe
	check_apf vhe-on
	check_kexec vhe-on
	check_on vhe-on vhe
	check_kvmprof vhe-on on

	run_qemu nvhe-on "kvm-arm.mode=nvhe kvm-arm.sysreg_elide=$ELIDE kvmprof.selftests=1 kvmprof.l2=1 kvmprof.l2kexec=1"
	check_boot nvhe-on nvhe
	check_apf nvhe-on
	check_kexec nvhe-on
	check_on nvhe-on nvhe
	check_kvmprof nvhe-on on

	run_qemu vhe-off "kvm-arm.sysreg_elide=off"
	check_boot vhe-off vhe
	check_apf vhe-off
	check_off vhe-off
	check_kvmprof vhe-off off

	# Default set (PIR_EL1, PIRE0_EL1): QEMU 10 has no S1PIE, so nothing
	# to elide (the s1pie boots below elide them).
	run_qemu nvhe-default "kvm-arm.mode=nvhe"
	check_boot nvhe-default nvhe
	check_apf nvhe-default
	check_off nvhe-default
	check_kvmprof nvhe-default off
fi

# QEMU 11, FEAT_S1PIE: the default elided set, VHE and nVHE, with the
# KVM selftests and the Linux guest (check_s1pie)
if [ "$WHAT" = s1pie ]; then
	for mode in vhe nvhe; do
		case $mode in
		vhe) args= ;;
		nvhe) args="kvm-arm.mode=nvhe " ;;
		esac
		run_qemu "$mode-s1pie" "${args}kvmprof.s1pie=1 kvmprof.selftests=1 kvmprof.l2=1"
		check_boot "$mode-s1pie" "$mode"
		check_apf "$mode-s1pie"
		check_s1pie "$mode-s1pie" "$mode"
		check_kvmprof "$mode-s1pie" s1pie
	done
fi

# The debug Image (config/debug.config): the workloads of vhe-on (and of
# nvhe-on with KP_QEMU_DEBUG_MODES="vhe nvhe"), then scripts/debug-scan.sh's
# checks of both consoles (L1 and L2). VHE by default: its world switch and
# trap handling run in the kernel's context and are KASAN-instrumented,
# nVHE's EL2 code is not. Own timeout: KP_QEMU_DEBUG_TIMEOUT.
if [ -n "$DEBUG_IMAGE" ]; then
	for mode in ${KP_QEMU_DEBUG_MODES:-vhe}; do
		case $mode in
		vhe) args= ;;
		nvhe) args="kvm-arm.mode=nvhe " ;;
		*) die "KP_QEMU_DEBUG_MODES: $mode is neither vhe nor nvhe" ;;
		esac
		name=debug-$mode-on
		t=$(now)
		KP_QEMU_TIMEOUT=${KP_QEMU_DEBUG_TIMEOUT:-1800} qemu_boot "$name" \
			"$BUILD_DEBUG/arch/arm64/boot/Image" "$OUT/initramfs-debug.cpio.gz" "$OUT" \
			"kunit.enable=1 ${args}kvm-arm.sysreg_elide=$ELIDE kvmprof.selftests=1 kvmprof.l2=1"
		t=$(($(now) - t))
		check_boot "$name" "$mode"
		check_apf "$name"
		check_on "$name" "$mode"
		check_kvmprof "$name" on
		check_debug "$mode-on" "$OUT/$name.log" "$BUILD_DEBUG/.config"
		echo "$name: debug Image built in ${DEBUG_BUILD_TIME}s, booted and ran in ${t}s" >>"$OUT/results"
	done
fi

log "QEMU measurements (TCG, $("$QEMU" --version | head -1)):"
sed 's/^/    /' "$OUT/results" >&2
[ "$FAILS" = 0 ] || die "qemu-test: $FAILS failed assertion(s) (serial logs in $OUT)"
log "qemu-test PASSED in $(($(now) - START))s"
