#!/usr/bin/env bash
# Guest exit throughput: untraced vs. kvmprofd attached vs. `perf stat -e
# kvm:kvm_pio`, on the same guest (kvmguest: OUTs to the in-kernel PIC, no
# userspace exit), interleaved rounds, medians; plus kvmprofd's per-program
# cost from the kernel's BPF stats.  Prints one `BENCH {json}` line.
set -euo pipefail
O=${O:-build}
ROUNDS=${ROUNDS:-7}
SECS=${SECS:-2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [[ $(id -u) -ne 0 || ! -e /dev/kvm ]]; then
	echo "kvm_overhead: SKIPPED (needs root and /dev/kvm)" >&2
	exit 0
fi
guest=("$O/tools/kvmguest" --irqchip --pio-port 0x21 --pio 100000
       --duration "$SECS" --report -)
rate() { jq -r '.pio_out_per_s'; }

run_untraced() { "${guest[@]}" | rate; }
run_perf() {
	perf stat -e kvm:kvm_pio -a -o "$tmp/perf.txt" -- "${guest[@]}" | rate
}
run_kvmprofd() {
	local sock=$tmp/kp.sock pid r
	"$O/kvmprofd" --socket "$sock" --interval-ms 1000 2>"$tmp/kpd.log" &
	pid=$!
	for _ in $(seq 100); do
		"$O/kvmprof" -s "$sock" status >/dev/null 2>&1 && break
		sleep 0.05
	done
	r=$("${guest[@]}" | rate)
	"$O/kvmprof" -s "$sock" --json status >"$tmp/status.json"
	kill -TERM "$pid"; wait "$pid" || true
	# accumulate BPF stats of the kvm_pio program over the rounds
	jq -r '.probes[] | select(.name=="kvm_pio") | "\(.run_cnt) \(.run_time_ns)"' \
		"$tmp/status.json" >>"$tmp/bpfstats"
	echo "$r"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

: >"$tmp/untraced"; : >"$tmp/kvmprofd"; : >"$tmp/perf"; : >"$tmp/bpfstats"
for ((i = 1; i <= ROUNDS; i++)); do
	run_untraced >>"$tmp/untraced"
	run_kvmprofd >>"$tmp/kvmprofd"
	run_perf >>"$tmp/perf"
	echo "round $i: untraced $(tail -1 "$tmp/untraced") kvmprofd $(tail -1 "$tmp/kvmprofd") perf $(tail -1 "$tmp/perf") exits/s" >&2
done
u=$(median <"$tmp/untraced"); k=$(median <"$tmp/kvmprofd"); p=$(median <"$tmp/perf")
read -r cnt ns < <(awk '{c+=$1; n+=$2} END {print c+0, n+0}' "$tmp/bpfstats")
jq -cn --argjson u "$u" --argjson k "$k" --argjson p "$p" \
	--argjson cnt "$cnt" --argjson ns "$ns" --argjson rounds "$ROUNDS" '{
	name: "kvm_exit_overhead", rounds: $rounds, unit: "exits/s",
	untraced_exits_per_s: $u, kvmprofd_exits_per_s: $k, perf_stat_exits_per_s: $p,
	kvmprofd_added_ns_per_exit: ((1e9/$k) - (1e9/$u)),
	perf_stat_added_ns_per_exit: ((1e9/$p) - (1e9/$u)),
	bpf_kvm_pio_ns_per_run: (if $cnt > 0 then $ns/$cnt else null end),
	meets_target: (((1e9/$k) - (1e9/$u)) <= ((1e9/$p) - (1e9/$u)))}' |
	sed 's/^/BENCH /'
