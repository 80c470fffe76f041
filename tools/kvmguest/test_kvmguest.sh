#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Tests for kvmguest: runs known workloads and checks, against the numbers
# asked for on the command line, both the JSON report and the kernel's own
# view (KVM tracepoints counted by perf: totals with `perf stat`, per vCPU
# thread with `perf record` + `perf script`).
# Needs root, /dev/kvm, perf and jq; exits 77 (skip) with a reason if not.
# K_<event> variables are assigned indirectly by kstat (printf -v):
# shellcheck disable=SC2154
set -u

O=${O:-build}
KG=${KVMGUEST:-$O/tools/kvmguest}
me=test_kvmguest

skip() { printf '%s: SKIP: %s\n' "$me" "$*" >&2; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root (perf on kvm tracepoints)"
[ -c /dev/kvm ] || skip "/dev/kvm not available"
command -v perf >/dev/null || skip "perf not installed (linux-perf)"
command -v jq >/dev/null || skip "jq not installed"
perf list 2>/dev/null | grep -q 'kvm:kvm_pio' ||
	skip "kvm tracepoints not visible to perf (tracefs/debugfs?)"
[ -x "$KG" ] || { echo "$me: $KG missing (run make)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 checks=0

# check WHAT GOT WANT
check() {
	checks=$((checks + 1))
	if [ "$2" = "$3" ]; then
		printf '  ok   %s = %s\n' "$1" "$2"
	else
		printf '  FAIL %s = %s, want %s\n' "$1" "$2" "$3"
		fails=$((fails + 1))
	fi
}

# split TOTAL M I: vCPU I's share (documented rule).
split() { echo $(($1 / $2 + ($3 < $1 % $2 ? 1 : 0))); }

# Report field: r FILTER
r() { jq -r "$1" "$tmp/r.json"; }

# kstat EVENTS ARGS...: runs kvmguest under perf stat; K_<event> = count.
kstat() {
	local events=$1 ev n
	shift
	unset "${!K_@}"
	if ! perf stat -x, -o "$tmp/stat" -e "$events" -- \
		"$KG" --timeout 120 --report "$tmp/r.json" "$@"; then
		echo "  FAIL kvmguest $* exited non-zero"
		fails=$((fails + 1))
		return 1
	fi
	while IFS=, read -r n _ ev _; do
		case $ev in kvm*:*) printf -v "K_${ev#*:}" '%s' "$n" ;; esac
	done <"$tmp/stat"
}

# krec EVENTS ARGS...: runs kvmguest under perf record; then
# per_vcpu EVENT I prints the number of EVENT records in vCPU I's thread.
krec() {
	local events=$1
	shift
	if ! perf record -q -o "$tmp/perf.data" -e "$events" -- \
		"$KG" --timeout 120 --report "$tmp/r.json" "$@" \
		2>"$tmp/rec.err"; then
		cat "$tmp/rec.err"
		echo "  FAIL kvmguest $* exited non-zero"
		fails=$((fails + 1))
		return 1
	fi
	perf script -i "$tmp/perf.data" -F tid,event 2>/dev/null |
		awk '{ sub(":$", "", $2); n[$1 " " $2]++ }
		     END { for (k in n) print k, n[k] }' >"$tmp/per_tid"
}
per_vcpu() {
	local tid
	tid=$(r ".vcpus[$2].tid")
	awk -v t="$tid" -v e="$1" '$1 == t && $2 == e { print $3; f = 1 }
		END { if (!f) print 0 }' "$tmp/per_tid"
}

echo "== 1 vCPU, 1000 OUTs to a userspace port"
kstat kvm:kvm_pio,kvm:kvm_userspace_exit,kvm:kvm_mmio --pio 1000 && {
	check "kvm_pio" "$K_kvm_pio" 1000
	check "kvm_userspace_exit (+1 final kick)" "$K_kvm_userspace_exit" 1001
	check "kvm_mmio" "$K_kvm_mmio" 0
	check "report pio_out" "$(r '.vcpus[0].pio_out')" 1000
	check "report exits.IO" "$(r '.vcpus[0].exits.IO')" 1000
	check "report exits.INTR" "$(r '.vcpus[0].exits.INTR')" 1
	check "report kvm_run" "$(r '.vcpus[0].kvm_run')" 1001
	check "report pid > 0" "$(r '.pid > 0')" true
}

echo "== 3 vCPUs: OUT, IN, MMIO write/read split per vCPU"
P=1001 PI=301 MW=257 MR=130 M=3
krec kvm:kvm_pio,kvm:kvm_mmio,kvm:kvm_userspace_exit --name kgtest \
	--vcpus $M --pio $P --pio-in $PI --mmio-write $MW --mmio-read $MR && {
	check "report name" "$(r '.name')" kgtest
	check "report vcpus" "$(r '.vcpus | length')" $M
	for i in 0 1 2; do
		p=$(split $P $M $i) pi=$(split $PI $M $i)
		mw=$(split $MW $M $i) mr=$(split $MR $M $i)
		check "vCPU$i report pio_out" "$(r ".vcpus[$i].pio_out")" "$p"
		check "vCPU$i report pio_in" "$(r ".vcpus[$i].pio_in")" "$pi"
		check "vCPU$i report mmio_write" "$(r ".vcpus[$i].mmio_write")" "$mw"
		check "vCPU$i report mmio_read" "$(r ".vcpus[$i].mmio_read")" "$mr"
		check "vCPU$i report exits.IO" "$(r ".vcpus[$i].exits.IO")" $((p + pi))
		check "vCPU$i report exits.MMIO" "$(r ".vcpus[$i].exits.MMIO")" $((mw + mr))
		check "vCPU$i kvm_pio" "$(per_vcpu kvm:kvm_pio $i)" $((p + pi))
		# kvm_mmio: one event per write, two per read (exit + completion)
		check "vCPU$i kvm_mmio" "$(per_vcpu kvm:kvm_mmio $i)" $((mw + 2 * mr))
		check "vCPU$i kvm_userspace_exit" \
			"$(per_vcpu kvm:kvm_userspace_exit $i)" $((p + pi + mw + mr + 1))
	done
}

echo "== 2 vCPUs, 7 HLTs without irqchip: KVM_EXIT_HLT"
kstat kvm:kvm_userspace_exit,kvm:kvm_vcpu_wakeup --vcpus 2 --hlt 7 && {
	check "kvm_userspace_exit" "$K_kvm_userspace_exit" $((7 + 2))
	check "kvm_vcpu_wakeup" "$K_kvm_vcpu_wakeup" 0
	check "report exits.HLT vCPU0" "$(r '.vcpus[0].exits.HLT')" 4
	check "report exits.HLT vCPU1" "$(r '.vcpus[1].exits.HLT')" 3
	check "report hlt total" "$(r '[.vcpus[].hlt] | add')" 7
}

echo "== 3 vCPUs with irqchip: 10 in-kernel HLTs, 33 MSIs"
M=3 H=10 S=33
krec kvm:kvm_vcpu_wakeup,kvm:kvm_userspace_exit,kvm:kvm_msi_set_irq,kvm:kvm_mmio \
	--irqchip --vcpus $M --hlt $H --msi $S && {
	msi_events=$(awk '$2 == "kvm:kvm_msi_set_irq" { s += $3 } END { print s + 0 }' \
		"$tmp/per_tid")
	check "kvm_msi_set_irq (HLT wake-ups + --msi)" "$msi_events" $((H + S))
	check "report msi" "$(r '.msi')" $((H + S))
	check "report msi_requested" "$(r '.msi_requested')" $S
	for i in 0 1 2; do
		h=$(split $H $M $i) s=$(split $S $M $i)
		check "vCPU$i kvm_vcpu_wakeup" "$(per_vcpu kvm:kvm_vcpu_wakeup $i)" "$h"
		check "vCPU$i kvm_userspace_exit" "$(per_vcpu kvm:kvm_userspace_exit $i)" 1
		check "vCPU$i kvm_mmio (x2APIC: none)" "$(per_vcpu kvm:kvm_mmio $i)" 0
		check "vCPU$i report hlt" "$(r ".vcpus[$i].hlt")" "$h"
		check "vCPU$i report hlt_wakeups" "$(r ".vcpus[$i].hlt_wakeups")" "$h"
		check "vCPU$i report msi_received" "$(r ".vcpus[$i].msi_received")" "$s"
		check "vCPU$i report exits.HLT" "$(r ".vcpus[$i].exits.HLT")" 0
	done
}

echo "== irqchip, 20000 OUTs to the in-kernel PIC (port 0x21)"
kstat kvm:kvm_pio,kvm:kvm_userspace_exit --irqchip --pio-port 0x21 \
	--vcpus 2 --pio 20000 && {
	check "kvm_pio" "$K_kvm_pio" 20000
	check "kvm_userspace_exit (kicks only)" "$K_kvm_userspace_exit" 2
	check "report pio_out" "$(r '[.vcpus[].pio_out] | add')" 20000
	check "report exits.IO" "$(r '[.vcpus[].exits.IO] | add')" 0
}

echo "== page touches (shadow MMU: kvmmmu:kvm_mmu_set_dirty_bit)"
if perf list 2>/dev/null | grep -q 'kvmmmu:kvm_mmu_set_dirty_bit'; then
	T=3000
	kstat kvmmmu:kvm_mmu_set_dirty_bit --vcpus 2 --touch-pages 0 &&
		base=$K_kvm_mmu_set_dirty_bit &&
		kstat kvmmmu:kvm_mmu_set_dirty_bit --vcpus 2 --touch-pages $T && {
		check "report pages_touched" "$(r '[.vcpus[].pages_touched] | add')" $T
		check "vCPU1 pages_touched" "$(r '.vcpus[1].pages_touched')" $((T / 2))
		check "set_dirty_bit minus the T=0 baseline ($base)" \
			$((K_kvm_mmu_set_dirty_bit - base)) $T
	}
else
	echo "  (kvmmmu:kvm_mmu_set_dirty_bit not available: report only)"
	kstat kvm:kvm_userspace_exit --vcpus 2 --touch-pages 3000 &&
		check "report pages_touched" "$(r '[.vcpus[].pages_touched] | add')" 3000
fi

echo "== --uffd --irqchip: exactly one async page fault per page"
if perf list 2>/dev/null | grep -q 'kvm:kvm_async_pf_not_present'; then
	T=64 M=2
	# vCPU-context events, counted for this process only
	kstat kvm:kvm_try_async_get_page,kvm:kvm_async_pf_not_present,kvm:kvm_async_pf_ready,kvm:kvm_async_pf_repeated_fault \
		--uffd --irqchip --vcpus $M --touch-pages $T --uffd-delay-ms 1 && {
		check "kvm_try_async_get_page" "$K_kvm_try_async_get_page" $T
		check "kvm_async_pf_not_present" "$K_kvm_async_pf_not_present" $T
		check "kvm_async_pf_ready" "$K_kvm_async_pf_ready" $T
		check "kvm_async_pf_repeated_fault" "$K_kvm_async_pf_repeated_fault" 0
		check "report uffd faults" "$(r '.uffd_stats.faults')" $T
		check "report uffd copies" "$(r '.uffd_stats.copies')" $T
		check "report pages_touched" "$(r '[.vcpus[].pages_touched] | add')" $T
	}
	# kvm_async_pf_completed runs in a kworker: count system-wide
	if perf stat -a -x, -o "$tmp/stat" -e kvm:kvm_async_pf_completed -- \
		"$KG" --uffd --irqchip --touch-pages $T --uffd-delay-ms 1 \
		--timeout 120; then
		check "kvm_async_pf_completed (system-wide)" \
			"$(awk -F, '$3 == "kvm:kvm_async_pf_completed" { print $1 }' "$tmp/stat")" $T
	else
		check "kvmguest --uffd exit status" 1 0
	fi
	# periodic MSIs while the vCPUs wait: repeated faults, each one
	# more kvm_try_async_get_page, still one not_present per page
	T=20
	kstat kvm:kvm_try_async_get_page,kvm:kvm_async_pf_not_present,kvm:kvm_async_pf_repeated_fault,kvm:kvm_msi_set_irq \
		--uffd --irqchip --touch-pages $T --uffd-delay-ms 10 \
		--msi-interval-ms 2 && {
		check "kvm_async_pf_not_present" "$K_kvm_async_pf_not_present" $T
		check "repeated faults > 0" "$((K_kvm_async_pf_repeated_fault > 0))" 1
		check "try_async = pages + repeated" "$K_kvm_try_async_get_page" \
			$((T + K_kvm_async_pf_repeated_fault))
		check "kvm_msi_set_irq = report msi_periodic" "$K_kvm_msi_set_irq" \
			"$(r '.msi_periodic')"
	}
else
	echo "  (no async page fault tracepoints: skipped)"
fi

echo "== --duration 1: counts stay exact when time stops the loop"
kstat kvm:kvm_pio,kvm:kvm_userspace_exit --duration 1 --irqchip \
	--pio-port 0x21 --pio 100 --vcpus 2 && {
	total=$(r '[.vcpus[].pio_out] | add')
	check "kvm_pio = report pio_out" "$K_kvm_pio" "$total"
	check "kvm_userspace_exit" "$K_kvm_userspace_exit" 2
	check "mode" "$(r '.mode')" duration
	check "elapsed >= 1 s" "$(r '.elapsed_s >= 1')" true
	check "rounds > 0" "$(r '.vcpus[0].rounds > 0')" true
}

echo "== --repeat stopped by SIGTERM: exit 0, counts exact"
perf stat -x, -o "$tmp/stat" -e kvm:kvm_pio,kvm:kvm_mmio -- "$KG" --repeat \
	--pio 10 --mmio-write 1 --vcpus 2 --report "$tmp/r.json" &
perf_pid=$!
kg_pid=
for _ in $(seq 100); do
	kg_pid=$(pgrep -P "$perf_pid" -x kvmguest) && break
	sleep 0.05
done
sleep 1
[ -n "$kg_pid" ] && kill -TERM "$kg_pid"
wait "$perf_pid"
check "exit status after SIGTERM" $? 0
n_pio=$(awk -F, '$3 == "kvm:kvm_pio" { print $1 }' "$tmp/stat")
n_mmio=$(awk -F, '$3 == "kvm:kvm_mmio" { print $1 }' "$tmp/stat")
check "interrupted" "$(r '.interrupted')" true
check "kvm_pio = report pio_out" "$n_pio" "$(r '[.vcpus[].pio_out] | add')"
check "kvm_mmio = report mmio_write" "$n_mmio" "$(r '[.vcpus[].mmio_write] | add')"

echo "== thread names and --name in argv"
"$KG" --name kgnames --vcpus 2 --repeat --pio 1 --report "$tmp/r.json" &
kg_pid=$!
sleep 0.5
names=$(cat /proc/$kg_pid/task/*/comm | grep '^vcpu' | sort | tr '\n' ' ')
argv=$(tr '\0' ' ' </proc/$kg_pid/cmdline)
kill -INT $kg_pid
wait $kg_pid
check "exit status after SIGINT" $? 0
check "report pid" "$(r '.pid')" "$kg_pid"
check "vCPU thread names" "$names" "vcpu0 vcpu1 "
check "--name NAME in /proc/PID/cmdline" "$(echo "$argv" | grep -c -- '--name kgnames ')" 1

echo "== usage errors and missing /dev/kvm"
"$KG" --vcpus 0 2>/dev/null
check "exit status for --vcpus 0" $? 2
"$KG" --msi 1 2>/dev/null
check "exit status for --msi without --irqchip" $? 2
if command -v unshare >/dev/null; then
	# shellcheck disable=SC2016 # $0 is expanded by the inner sh
	msg=$(unshare -m sh -c 'mount -t tmpfs none /dev && exec "$0" --pio 1' \
		"$KG" 2>&1)
	check "exit status without /dev/kvm" $? 77
	check "message without /dev/kvm" "${msg%% (*}" "kvmguest: /dev/kvm not available"
fi

printf '%s: %d checks, %d failed\n' "$me" "$checks" "$fails"
[ "$fails" -eq 0 ]
