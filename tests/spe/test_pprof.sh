#!/usr/bin/env bash
# kvmprof spe report --pprof, read by a real consumer: go tool pprof
# (Debian's golang-go). The profile's samples, per guest PC (the root
# frame), must be the report's top PCs and counts; every sample carries
# its labels; -top's total and cum columns must agree with -raw's stacks.
set -euo pipefail
O=${O:-build}
fail() { echo "test_pprof: $*" >&2; exit 1; }
command -v go >/dev/null || { echo "test_pprof: go missing (golang-go)" >&2; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp GOCACHE=$tmp/gocache PPROF_TMPDIR=$tmp

# 4000 distinct PCs (EL0 and EL1): the report's top-K is exact
"$O/spegen" -o "$tmp/s.raw" -n 40000 -p 4000 -s 11 -l n1
# guest kernel symbols: one per MiB over the generator's 64 MiB of text
for i in $(seq 0 63); do
	printf '%x T guest_kernel_text_%d\n' $((0xffff800008000000 + (i << 20))) "$i"
done >"$tmp/kallsyms"
"$O/kvmprof" spe report "$tmp/s.raw" --json --top 30 --midr n1 \
	--symbols "$tmp/kallsyms" --pprof "$tmp/p.pb.gz" >"$tmp/r.json"
[[ $(head -c2 "$tmp/p.pb.gz" | od -An -tx1 | tr -d ' ') == 1f8b ]] ||
	fail "output is not gzip"

go tool pprof -raw "$tmp/p.pb.gz" >"$tmp/raw.txt" 2>"$tmp/err.txt" ||
	fail "go tool pprof -raw: $(cat "$tmp/err.txt")"
grep -Eq '^samples/count(\[dflt\])? latency/cycles l1d_miss/count llc_miss/count$' \
	"$tmp/raw.txt" || fail "sample types"

# per root frame (the sample's PC): samples; per address on any frame:
# samples (pprof's cum)
awk '
/^Samples:/ { s = 1; next }
/^Locations/ { s = 0; l = 1; next }
/^Mappings/ { l = 0 }
s && /^ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+: / {
	split($0, a, ":"); n = split(a[2], ids, " ")
	v = $1; root[ids[n]] += v; total += v
	delete seen
	for (i = 1; i <= n; i++) if (!(ids[i] in seen)) { seen[ids[i]] = 1; cum[ids[i]] += v }
	nlab++; next
}
s && /el:\[/ { if ($0 ~ /op:\[/) labelled++ }
l && /^ +[0-9]+: 0x/ { id = $1; sub(":", "", id); addr[id] = $2; if ($0 ~ /guest_kernel_text/) named++ }
END {
	for (id in root) printf "root %s %d\n", addr[id], root[id]
	for (id in cum) printf "cum %s %d\n", addr[id], cum[id]
	printf "total %d\nsamples %d\nlabelled %d\nnamed %d\n", total, nlab, labelled, named
}' "$tmp/raw.txt" >"$tmp/sums.txt"

want_total=$(jq .samples "$tmp/r.json")
got_total=$(awk '$1 == "total" { print $2 }' "$tmp/sums.txt")
[[ "$got_total" == "$want_total" ]] ||
	fail "pprof total $got_total, report $want_total"
[[ $(awk '$1 == "samples" { print $2 }' "$tmp/sums.txt") == \
   $(awk '$1 == "labelled" { print $2 }' "$tmp/sums.txt") ]] ||
	fail "a sample without el/op labels"
[[ $(awk '$1 == "named" { print $2 }' "$tmp/sums.txt") -gt 0 ]] ||
	fail "no location carries the guest symbol"
[[ $(jq '.top_pcs.entries | map(.err) | max' "$tmp/r.json") == 0 ]] ||
	fail "report top-K not exact (test needs it)"
n=0
while read -r pc count; do
	got=$(awk -v a="$pc" '$1 == "root" && $2 == a { print $3 }' "$tmp/sums.txt")
	[[ "$got" == "$count" ]] || fail "PC $pc: pprof $got, report $count"
	n=$((n + 1))
done < <(jq -r '.top_pcs.entries[] | "\(.pc) \(.count)"' "$tmp/r.json")
[[ $n -eq 30 ]] || fail "compared $n PCs"

# -top by address: the total, and cum = samples with the address in
# their stack (-raw's), for every address shown
go tool pprof -top -addresses -sample_index=samples -nodecount=20 \
	"$tmp/p.pb.gz" >"$tmp/top.txt" 2>"$tmp/err.txt" ||
	fail "go tool pprof -top: $(cat "$tmp/err.txt")"
grep -q "of $want_total total" "$tmp/top.txt" || fail "-top total"
m=0
while read -r cum addr; do
	got=$(awk -v a="0x$addr" '$1 == "cum" && $2 == a { print $3 }' "$tmp/sums.txt")
	[[ "$got" == "$cum" ]] || fail "-top $addr: cum $cum, -raw $got"
	m=$((m + 1))
done < <(awk '$6 ~ /^[0-9a-f]+$/ && $1 ~ /^[0-9]+$/ {
	a = $6; sub(/^0+/, "", a); print $4, a }' "$tmp/top.txt")
[[ $m -ge 10 ]] || fail "-top showed $m addresses"
echo "test_pprof: $n top PCs and $m -top rows agree, $want_total samples"
