# Benchmarks: each prints `BENCH {json}` lines.
BENCH_BINS += bench/kvm_overhead.sh
