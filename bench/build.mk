# Benchmarks: each prints `BENCH {json}` lines.
BENCH_BINS += bench/kvm_overhead.sh

# SPE capture path end to end (release build: the bench measures speed).
SPE_CAPTURE_BENCH_SRCS := bench/spe_capture_bench.c tests/e2e/harness.c \
	tests/e2e/inject.c lib/client.c tools/spegen/spegen.c $(SPE_SRCS)
$(call obj,bench/spe_capture_bench.c tests/e2e/harness.c tests/e2e/inject.c): \
	CFLAGS_ALL += -Itests/e2e -Itools/spegen
$(call obj,tests/e2e/inject.c): $(O)/gen/test_kaddr.skel.h
$(O)/bench/spe_capture_bench: $(call obj,$(SPE_CAPTURE_BENCH_SRCS)) | $(BINS)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -o $@ $^ $(CJSON_LIBS) $(CURL_LIBS) $(LIBBPF_LIBS)
BENCH_BINS += $(O)/bench/spe_capture_bench
