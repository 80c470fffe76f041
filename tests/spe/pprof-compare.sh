#!/usr/bin/env bash
# pprof-compare.sh PPROF REPORT_JSON [--named] [--label KEY]...
# A gzipped pprof profile read by a real consumer, go tool pprof (Debian's
# golang-go), against `kvmprof --json spe report` of the same samples
# (its top-K exact): per guest PC (the sample's root frame) the report's
# counts, the same total, labels el and op (and each KEY) on every
# sample; -top's total and cum columns agree with -raw's stacks.
# --named: some location carries a guest symbol "guest_kernel_text_*".
# Needs HOME, GOCACHE and PPROF_TMPDIR pointing somewhere writable.
set -euo pipefail
pb=$1 rj=$2
shift 2
named=0 labels=()
while (($#)); do
	case $1 in
	--named) named=1 ;;
	--label) labels+=("$2"); shift ;;
	*) echo "pprof-compare: bad argument $1" >&2; exit 2 ;;
	esac
	shift
done
fail() { echo "pprof-compare: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

[[ $(head -c2 "$pb" | od -An -tx1 | tr -d ' ') == 1f8b ]] ||
	fail "output is not gzip"
go tool pprof -raw "$pb" >"$tmp/raw.txt" 2>"$tmp/err.txt" ||
	fail "go tool pprof -raw: $(cat "$tmp/err.txt")"
grep -Eq '^samples/count(\[dflt\])? latency/cycles l1d_miss/count llc_miss/count$' \
	"$tmp/raw.txt" || fail "sample types"

# per root frame (the sample's PC): samples; per address on any frame:
# samples (pprof's cum); samples carrying every wanted label
awk -v want="el op ${labels[*]:-}" '
BEGIN { nw = split(want, w, " ") }
# the labels of a sample: the lines after it (string, numeric apart)
function done_sample() {
	if (!insample) return
	ok = 1
	for (i = 1; i <= nw; i++) if (index(lab, w[i] ":[") == 0) ok = 0
	labelled += ok; insample = 0
}
/^Samples:/ { s = 1; next }
/^Locations/ { done_sample(); s = 0; l = 1; next }
/^Mappings/ { l = 0 }
s && /^ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+: / {
	done_sample()
	split($0, a, ":"); n = split(a[2], ids, " ")
	v = $1; root[ids[n]] += v; total += v
	delete seen
	for (i = 1; i <= n; i++) if (!(ids[i] in seen)) { seen[ids[i]] = 1; cum[ids[i]] += v }
	nlab++; insample = 1; lab = ""; next
}
s && insample { lab = lab " " $0 }
l && /^ +[0-9]+: 0x/ { id = $1; sub(":", "", id); addr[id] = $2; if ($0 ~ /guest_kernel_text/) named++ }
END {
	done_sample()
	for (id in root) printf "root %s %d\n", addr[id], root[id]
	for (id in cum) printf "cum %s %d\n", addr[id], cum[id]
	printf "total %d\nsamples %d\nlabelled %d\nnamed %d\n", total, nlab, labelled, named
}' "$tmp/raw.txt" >"$tmp/sums.txt"

want_total=$(jq .samples "$rj")
got_total=$(awk '$1 == "total" { print $2 }' "$tmp/sums.txt")
[[ "$got_total" == "$want_total" ]] ||
	fail "pprof total $got_total, report $want_total"
[[ $(awk '$1 == "samples" { print $2 }' "$tmp/sums.txt") == \
   $(awk '$1 == "labelled" { print $2 }' "$tmp/sums.txt") ]] ||
	fail "a sample without the labels el op ${labels[*]:-}"
if ((named)); then
	[[ $(awk '$1 == "named" { print $2 }' "$tmp/sums.txt") -gt 0 ]] ||
		fail "no location carries the guest symbol"
fi
[[ $(jq '.top_pcs.entries | map(.err) | max' "$rj") == 0 ]] ||
	fail "report top-K not exact (the comparison needs it)"
n=0
while read -r pc count; do
	got=$(awk -v a="$pc" '$1 == "root" && $2 "" == a "" { print $3 }' "$tmp/sums.txt")
	[[ "$got" == "$count" ]] || fail "PC $pc: pprof $got, report $count"
	n=$((n + 1))
done < <(jq -r '.top_pcs.entries[] | "\(.pc) \(.count)"' "$rj")
[[ $n -ge 10 ]] || fail "compared $n PCs"

# -top by address: the total, and cum = samples with the address in
# their stack (-raw's), for every address shown
go tool pprof -top -addresses -sample_index=samples -nodecount=20 \
	"$pb" >"$tmp/top.txt" 2>"$tmp/err.txt" ||
	fail "go tool pprof -top: $(cat "$tmp/err.txt")"
grep -q "of $want_total total" "$tmp/top.txt" || fail "-top total"
m=0
while read -r cum addr; do
	got=$(awk -v a="0x$addr" '$1 == "cum" && $2 "" == a "" { print $3 }' "$tmp/sums.txt")
	[[ "$got" == "$cum" ]] || fail "-top $addr: cum $cum, -raw $got"
	m=$((m + 1))
done < <(awk '$6 ~ /^[0-9a-f]+$/ && $1 ~ /^[0-9]+$/ {
	a = $6; sub(/^0+/, "", a); print $4, a }' "$tmp/top.txt")
[[ $m -ge 10 ]] || fail "-top showed $m addresses"
echo "pprof-compare: $n top PCs and $m -top rows agree, $want_total samples"
