#!/usr/bin/env bash
# Guest exit throughput: untraced vs. kvmprofd attached (default, and with
# --no-count-cache: every event into the shared map) vs. `perf stat -e
# kvm:kvm_pio`, on the same guest (kvmguest: OUTs to the in-kernel PIC, no
# userspace exit), interleaved rounds, medians; plus kvmprofd's per-program
# cost from the kernel's BPF stats.  Prints one `BENCH {json}` line.
set -euo pipefail
O=${O:-build}
ROUNDS=${ROUNDS:-11}
SECS=${SECS:-2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [[ $(id -u) -ne 0 || ! -e /dev/kvm ]]; then
	echo "kvm_overhead: SKIPPED (needs root and /dev/kvm)" >&2
	exit 0
fi
guest=("$O/tools/kvmguest" --irqchip --pio-port 0x21 --pio 100000
       --duration "$SECS" --report -)
# The guest runs SCHED_FIFO when it can: other jobs on the machine then
# take no CPU time from it, which the rates would otherwise measure.
rt=false
if chrt -f 10 true 2>/dev/null; then
	guest=(chrt -f 10 "${guest[@]}")
	rt=true
fi
rate() { jq -r '.pio_out_per_s'; }

run_untraced() { "${guest[@]}" | rate; }
run_perf() {
	perf stat -e kvm:kvm_pio -a -o "$tmp/perf.txt" -- "${guest[@]}" | rate
}
run_kvmprofd() {
	local sock=$tmp/kp.sock pid r
	"$O/kvmprofd" --socket "$sock" --interval-ms 1000 --metrics-listen off \
		"$@" 2>"$tmp/kpd.log" &
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
: >"$tmp/nostats"; : >"$tmp/added_k"; : >"$tmp/added_p"; : >"$tmp/added_n"
: >"$tmp/nocache"; : >"$tmp/added_c"
# Interleaved rounds; each round's slowdowns are paired with its own
# untraced run (the machine is noisy), and the medians of those are kept.
ns_added() { awk -v a="$1" -v b="$2" 'BEGIN {print 1e9/a - 1e9/b}'; }
for ((i = 1; i <= ROUNDS; i++)); do
	# the order rotates from round to round: no configuration always
	# runs first or last
	for ((j = 0; j < 5; j++)); do
		case $(((i + j) % 5)) in
		0) u=$(run_untraced) ;;
		1) k=$(run_kvmprofd) ;;
		2) n=$(run_kvmprofd --bpf-stats) ;;
		3) c=$(run_kvmprofd --no-count-cache) ;;
		4) p=$(run_perf) ;;
		esac
	done
	echo "$u" >>"$tmp/untraced"; echo "$k" >>"$tmp/kvmprofd"
	echo "$p" >>"$tmp/perf"; echo "$n" >>"$tmp/nostats"
	echo "$c" >>"$tmp/nocache"
	ns_added "$k" "$u" >>"$tmp/added_k"
	ns_added "$p" "$u" >>"$tmp/added_p"
	ns_added "$n" "$u" >>"$tmp/added_n"
	ns_added "$c" "$u" >>"$tmp/added_c"
	echo "round $i: exits/s untraced $u kvmprofd $k (with BPF stats $n," \
		"without count cache $c) perf-stat $p" >&2
done
read -r cnt ns < <(awk '{c+=$1; n+=$2} END {print c+0, n+0}' "$tmp/bpfstats")
jq -cn --argjson u "$(median <"$tmp/untraced")" \
	--argjson k "$(median <"$tmp/kvmprofd")" \
	--argjson p "$(median <"$tmp/perf")" \
	--argjson ak "$(median <"$tmp/added_k")" \
	--argjson ap "$(median <"$tmp/added_p")" \
	--argjson an "$(median <"$tmp/added_n")" \
	--argjson ac "$(median <"$tmp/added_c")" \
	--argjson c "$(median <"$tmp/nocache")" \
	--argjson cnt "$cnt" --argjson ns "$ns" --argjson rounds "$ROUNDS" \
	--argjson rt "$rt" '{
	name: "kvm_exit_overhead", rounds: $rounds, unit: "exits/s",
	guest_sched_fifo: $rt,
	untraced_exits_per_s: $u, kvmprofd_exits_per_s: $k,
	perf_stat_exits_per_s: $p,
	kvmprofd_added_ns_per_exit: $ak,
	kvmprofd_bpf_stats_added_ns_per_exit: $an,
	kvmprofd_no_count_cache_exits_per_s: $c,
	kvmprofd_no_count_cache_added_ns_per_exit: $ac,
	perf_stat_added_ns_per_exit: $ap,
	bpf_kvm_pio_ns_per_run: (if $cnt > 0 then $ns/$cnt else null end),
	meets_target: ($ak <= $ap)}' |
	sed 's/^/BENCH /'
