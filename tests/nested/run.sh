#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make test-nested [NESTED_TESTS="test_e2e_qemu ..."]
#
# The tests that need /dev/kvm, on a machine that has none: in an x86_64
# guest of Debian's QEMU without acceleration (TCG, -cpu max, which emulates
# AMD SVM with nested paging), running Debian's own kernel
# (linux-image-amd64, downloaded into the cache, not installed) with KVM
# (kvm-amd). Its /init (tests/nested/init) loads the modules, mounts this
# machine's root file system read-only over 9p, with fresh /proc, /sys,
# /dev, /tmp and /run, and runs this tree's test programs there as root
# (tests/run-tests.sh): real KVM under them, on SVM, so kvm_exit and
# kvm_entry fire as on an AMD host. What they print comes back through a
# second, writable 9p share; the last line is run-tests.sh's summary.
#
# Wait times in the tests are multiplied by KP_TEST_TIME_SCALE (default 20
# here): every instruction of the guest is emulated.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${KP_NESTED_CACHE:-/var/cache/kvmprof-nested}
O=${O:-build}
# The test programs that need /dev/kvm (make test skips them where there
# is none), all of them.
TESTS=${NESTED_TESTS:-test_e2e_generic test_e2e_kvmstats test_e2e_qemu \
test_e2e_privileges test_e2e_prometheus test_e2e_apf test_e2e_steal \
test_e2e_systemd}
SCALE=${KP_TEST_TIME_SCALE:-20}
# Bounds: the whole run (all of it, whatever happens in the guest) and
# each test program (killed then, and counted as failed). The default list
# took 8 minutes here (2 shared cores at load 10-13), its longest program
# about 3.
TIMEOUT=${NESTED_TIMEOUT:-2400}
TEST_TIMEOUT=${NESTED_TEST_TIMEOUT:-900}

log() { printf '[nested] %s\n' "$*"; }
die() { printf '[nested] FAIL: %s\n' "$*" >&2; exit 1; }

command -v qemu-system-x86_64 >/dev/null ||
	die "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
command -v strings >/dev/null || die "strings missing (binutils)"
[[ $(uname -m) == x86_64 ]] || die "x86_64 only"
mkdir -p "$CACHE"
O=$(cd "$here" && mkdir -p "$O" && cd "$O" && pwd)
for t in $TESTS; do	# a name under $O/tests/, or an absolute path
	[[ $t == /* ]] || t=$O/tests/$t
	[[ -x $t ]] || die "$t not built (make first)"
done

# Debian's kernel and busybox, unpacked into the cache (once per version)
fetch() { # <package> <dir>
	local deb
	if [[ ! -d $2 ]]; then
		(cd "$CACHE" && apt-get download "$1" >/dev/null 2>&1) ||
			die "apt-get download $1 (apt-get update first?)"
		deb=$(ls "$CACHE/${1%%=*}"_*.deb | head -1)
		mkdir -p "$2.tmp" && dpkg-deb -x "$deb" "$2.tmp" && mv "$2.tmp" "$2"
		rm -f "$deb"
	fi
}
KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -1)
[[ -n $KPKG ]] || die "no linux-image-amd64 in apt's lists (apt-get update)"
KDIR=$CACHE/$KPKG
fetch "$KPKG" "$KDIR"
fetch busybox-static "$CACHE/busybox"
KVER=${KPKG#linux-image-}
MODS=$KDIR/lib/modules/$KVER/kernel
log "kernel $KVER (Debian's $KPKG)"

# The modules /init loads, each after those it depends on
declare -A seen=()
order=()
modpath() { find "$MODS" -name "$1.ko" -print -quit; }
need() {
	local m=${1//-/_} f d
	[[ -n ${seen[$m]:-} ]] && return
	seen[$m]=1
	f=$(modpath "$m")
	[[ -n $f ]] || f=$(modpath "${m//_/-}")
	[[ -n $f ]] || die "module $1 not in $KPKG"
	for d in $(strings -a "$f" | sed -n 's/^depends=//p' | tr ',' ' '); do
		need "$d"
	done
	order+=("$f")
}
for m in kvm-amd virtio_pci 9pnet_virtio 9p veth; do
	need "$m"
done

# The initramfs: busybox, the modules, /init
root=$CACHE/initramfs
rm -rf "$root" && mkdir -p "$root/bin" "$root/m"
cp "$CACHE/busybox/bin/busybox" "$root/bin/"
for f in "${order[@]}"; do
	cp "$f" "$root/m/"
	basename "$f" >>"$root/m/order"
done
cp "$here/tests/nested/init" "$root/init"
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$CACHE/initramfs.cpio.gz"

# The run: the tree's path is the same inside; results in $CACHE/out
out=$CACHE/out
rm -rf "$out" && mkdir -p "$out"
printf '%s\n' "$here" "$O" "$SCALE" "$TEST_TIMEOUT" $TESTS >"$out/job"
log "running $(echo $TESTS | wc -w) test programs under TCG (log: $out/console.log)"

# A known hang, not kvmprofd's: with a thread per emulated CPU (MTTCG,
# QEMU 7.2), a CPU sometimes goes on executing its stale translation of
# kernel code that the other CPU has just patched (a jump label: the
# text_poke int3 that is there for a moment), and the kernel's int3
# handler, finding the new instruction in memory, restarts it forever.
# Seen in test_e2e_prometheus: both CPUs at finish_task_switch+0x9f (most
# likely KVM's preempt_notifier_key, enabled as the first VM is created);
# the soft lockup in kvmprofd's exit of a CI run (no traces then) looks
# the same.
# So one host thread runs both emulated CPUs (NESTED_TCG_THREAD=single,
# the default; multi for one each): the seven programs before
# test_e2e_systemd joined took 246-301 s
# that way on an idle host.
#
# The guest's kernel gives up by itself: an RCU stall of 60 s, a CPU stuck
# for 2 x 60 s (soft lockup) or an oops panics it after backtraces of
# every CPU (loglevel 5 shows them), and QEMU ends (-no-reboot). What it
# cannot see (every CPU stuck, a test that never ends) the watch below
# bounds: after $TIMEOUT s, the magic SysRq keys through QEMU's monitor (a
# pipe: $out/mon.in, .out) dump every CPU and blocked task, then QEMU is
# stopped.
mkfifo "$out/mon.in" "$out/mon.out"
qemu-system-x86_64 -accel tcg,thread=${NESTED_TCG_THREAD:-single} -cpu max \
	-smp 2 -m 4096 -nographic -no-reboot \
	-kernel "$KDIR/boot/vmlinuz-$KVER" -initrd "$CACHE/initramfs.cpio.gz" \
	-append "console=ttyS0 panic=-1 quiet loglevel=5 oops=panic \
rcupdate.rcu_cpu_stall_timeout=60 sysctl.kernel.panic_on_rcu_stall=1 \
watchdog_thresh=60 softlockup_panic=1 softlockup_all_cpu_backtrace=1 \
sysrq_always_enabled ${NESTED_APPEND:-}" \
	-monitor pipe:"$out/mon" ${NESTED_QEMU:-} \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs local,path="$out",mount_tag=out,security_model=none \
	>"$out/console.log" 2>&1 </dev/null &
qpid=$!
exec 3<>"$out/mon.in"	# never blocks, even once QEMU is gone
cat "$out/mon.out" >"$out/monitor.log" &
monpid=$!
trap 'kill $qpid $monpid 2>/dev/null || true' EXIT
# @1 s, or less if QEMU ends
tick() { timeout "$1" tail --pid="$qpid" -f /dev/null || true; }
t0=$(date +%s)
why=
while kill -0 "$qpid" 2>/dev/null; do
	if (($(date +%s) - t0 >= TIMEOUT)); then
		why="timed out after $TIMEOUT s (NESTED_TIMEOUT)"
		for k in l w; do
			echo "sendkey alt-sysrq-$k" >&3
		done
		# until the dumps are written (the console stops growing)
		size=-1 n=0
		while ((n++ < 30)) && [[ $(stat -c %s "$out/console.log") != "$size" ]]; do
			size=$(stat -c %s "$out/console.log")
			tick 2
		done
		echo quit >&3
		tick 5
		kill "$qpid" 2>/dev/null || true
		break
	fi
	tick 5
done
rc=0
wait "$qpid" 2>/dev/null || rc=$?
kill "$monpid" 2>/dev/null || true
log "guest ran $(($(date +%s) - t0)) s (QEMU exit $rc)"
# the kernel's own verdict, if it gave up: from the first report to the panic
pat='rcu: INFO: .*\|BUG: .*\|Oops.*\|Kernel panic.*'
report=$(sed -n "/$pat/,\$p" "$out/console.log" | head -150 || true)
[[ -n $report ]] && [[ -z $why ]] &&
	why="the guest's kernel: $(grep -m1 -o "$pat" <<<"$report" | tr -d '\r')"
last=$({ grep '^=== ' "$out/tests.log" 2>/dev/null || true; } | tail -1 | sed 's/^=== //')
if [[ -n $why ]]; then
	[[ -f $out/tests.log ]] && tail -40 "$out/tests.log"
	printf '%s\n' "$report"
	[[ -z $report ]] && tail -60 "$out/console.log"
	die "$why, in ${last:-the boot} (see $out/console.log)"
fi
[[ -f $out/tests.log ]] || { tail -30 "$out/console.log"; die "no test log"; }
cat "$out/tests.log"
summary=$(grep '^tests: ' "$out/tests.log" | tail -1)
[[ -n $summary ]] || die "the tests did not finish, last ${last:-none} (see $out/console.log)"
grep -q 'NESTED: kvm yes' "$out/console.log" || die "no /dev/kvm in the guest"
[[ $(cat "$out/rc" 2>/dev/null) == 0 ]] || die "$summary"
log "PASS: $summary"
