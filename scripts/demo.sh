#!/usr/bin/env bash
# kvmprof's main job, as the README's quick start runs it: start kvmprofd
# with its default configuration, start two demo guests, and show their
# per-VM statistics live.  Ctrl-C stops everything and leaves nothing
# behind (no processes, no socket).
set -u
O=${O:-build}
SOCK=${KVMPROF_SOCKET:-/run/kvmprof/kvmprofd.sock}

die() { echo "demo: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "needs root (BPF, /dev/kvm): sudo make demo"
[[ -e /dev/kvm ]] || die "/dev/kvm not available"
for b in kvmprofd kvmprof tools/kvmguest; do
	[[ -x $O/$b ]] || die "$O/$b not built (make)"
done

pids=()
cleanup() {
	trap - INT TERM EXIT
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	[[ -S $SOCK ]] && echo "demo: warning: $SOCK left behind" >&2
	echo "demo: stopped"
}
trap cleanup INT TERM EXIT

if "$O/kvmprof" --socket "$SOCK" status >/dev/null 2>&1; then
	echo "demo: using the kvmprofd already serving $SOCK"
else
	"$O/kvmprofd" --socket "$SOCK" 2>/tmp/kvmprofd-demo.log &
	pids+=($!)
	for _ in $(seq 100); do
		"$O/kvmprof" --socket "$SOCK" status >/dev/null 2>&1 && break
		sleep 0.1
	done
	"$O/kvmprof" --socket "$SOCK" status >/dev/null 2>&1 ||
		die "kvmprofd did not start: $(cat /tmp/kvmprofd-demo.log)"
fi

# Two guests with different mixes: port I/O + MMIO on 2 vCPUs, and an
# interrupt-driven guest (in-kernel irqchip, HLTs woken by MSIs).
"$O/tools/kvmguest" --name demo-io --vcpus 2 --pio 2000 --mmio-write 500 \
	--mmio-read 200 --repeat >/dev/null &
pids+=($!)
"$O/tools/kvmguest" --name demo-irq --irqchip --hlt 100 --msi 50 \
	--pio 1000 --repeat >/dev/null &
pids+=($!)

"$O/kvmprof" --socket "$SOCK" top --interval 1
