# Benchmarks: each prints `BENCH {json}` lines.
BENCH_BINS += bench/kvm_overhead.sh

# SPE capture path end to end (release build: the bench measures speed).
SPE_CAPTURE_BENCH_SRCS := bench/spe_capture_bench.c tests/lib/harness.c \
	tests/lib/wait.c tests/lib/inject.c lib/client.c tools/spegen/spegen.c \
	$(SPE_SRCS)
$(call obj,bench/spe_capture_bench.c tests/lib/harness.c tests/lib/inject.c): \
	CFLAGS_ALL += -Itests/lib -Itools/spegen
$(call obj,tests/lib/inject.c): $(O)/gen/test_kaddr.skel.h
$(O)/bench/spe_capture_bench: $(call obj,$(SPE_CAPTURE_BENCH_SRCS)) | $(BINS)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -o $@ $^ $(CJSON_LIBS) $(CURL_LIBS) $(LIBBPF_LIBS)
BENCH_BINS += $(O)/bench/spe_capture_bench

# Decode throughput (release objects).
$(O)/bench/spe_bench: $(call obj,bench/spe/spe_bench.c $(SPE_SRCS) $(SPEGEN_SRCS))
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

BENCH_BINS += $(O)/bench/spe_bench
