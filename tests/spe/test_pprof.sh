#!/usr/bin/env bash
# kvmprof spe report --pprof, read by a real consumer: go tool pprof
# (Debian's golang-go), compared with the report (pprof-compare.sh): per
# guest PC (the root frame) the report's top PCs and counts, labels on
# every sample, -top's total and cum columns against -raw's stacks.
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
out=$(tests/spe/pprof-compare.sh "$tmp/p.pb.gz" "$tmp/r.json" --named) ||
	fail "$out"
echo "test_pprof: ${out#pprof-compare: }"
