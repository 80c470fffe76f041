# Benchmarks: each prints `BENCH {json}` lines.
BENCH_BINS += bench/kvm_overhead.sh

# SPE capture path end to end (release build: the bench measures speed).
SPE_CAPTURE_BENCH_SRCS := bench/spe_capture_bench.c tests/lib/harness.c \
	tests/lib/wait.c $(TEST_INJECT_SRCS) $(KP_CLIENT_SRCS) lib/json.c \
	$(SPEGEN_SRCS) \
	$(SPE_SRCS)
$(call obj,bench/spe_capture_bench.c tests/lib/harness.c tests/lib/inject.c): \
	CFLAGS_ALL += -Itests/lib -Itools/spegen
$(call obj,tests/lib/inject.c): $(O)/gen/test_kaddr.skel.h
$(O)/bench/spe_capture_bench: $(call obj,$(SPE_CAPTURE_BENCH_SRCS)) | $(BINS)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -o $@ $^ $(CJSON_LIBS) $(CURL_LIBS) $(LIBBPF_LIBS)
BENCH_BINS += $(O)/bench/spe_capture_bench

# kvmprofd's scheduler programs per host context switch (sched_bench.c).
SCHED_BENCH_SRCS := bench/sched_bench.c tests/lib/harness.c tests/lib/wait.c \
	$(TEST_INJECT_SRCS) $(KP_CLIENT_SRCS) lib/json.c
$(call obj,bench/sched_bench.c): CFLAGS_ALL += -Itests/lib
$(O)/bench/sched_bench: $(call obj,$(SCHED_BENCH_SRCS)) | $(BINS)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -o $@ $^ $(CJSON_LIBS) $(CURL_LIBS) $(LIBBPF_LIBS)
BENCH_BINS += $(O)/bench/sched_bench

# Decode throughput (release objects).
$(O)/bench/spe_bench: $(call obj,bench/spe/spe_bench.c $(SPE_SRCS) $(SPEGEN_SRCS))
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

BENCH_BINS += $(O)/bench/spe_bench

# End to end against perf's own decoder (bench/spe/spe_e2e_bench.c): perf's
# tools/perf/util/arm-spe-decoder/ from Debian's linux-source-6.12,
# extracted at bench time (never committed), built with our stand-in
# headers (bench/spe/perfshim).
PERF_SPE_DIR := $(O)/bench/perf-spe
PERF_SPE_SRCS := $(addprefix $(PERF_SPE_DIR)/arm-spe-decoder/, \
	arm-spe-decoder.c arm-spe-pkt-decoder.c)
PERF_SPE_CFLAGS := -std=gnu11 -O2 -g -D_GNU_SOURCE \
	-Ibench/spe/perfshim/include -I$(PERF_SPE_DIR)

$(PERF_SPE_DIR)/.stamp: bench/spe/perf-src.sh
	$(call msg,PERF-SRC,$(PERF_SPE_DIR))
	$(Q)bench/spe/perf-src.sh $(PERF_SPE_DIR)
	$(Q)touch $@
$(PERF_SPE_SRCS): $(PERF_SPE_DIR)/.stamp

$(PERF_SPE_DIR)/%.o: $(PERF_SPE_DIR)/%.c $(wildcard bench/spe/perfshim/*.h \
		bench/spe/perfshim/include/linux/*.h)
	$(call msg,CC,$@)
	$(Q)$(CC) $(PERF_SPE_CFLAGS) -c $< -o $@

$(call obj,bench/spe/perf_loop.c): $(PERF_SPE_DIR)/.stamp
$(call obj,bench/spe/perf_loop.c): CFLAGS_ALL += -Ibench/spe/perfshim/include \
	-I$(PERF_SPE_DIR)
$(call obj,bench/spe/spe_e2e_bench.c): CFLAGS_ALL += -Idaemon -Itools/spegen

SPE_E2E_BENCH_SRCS := bench/spe/spe_e2e_bench.c bench/spe/perf_loop.c \
	daemon/spe_capture.c daemon/registry.c lib/procfs.c lib/vmname.c \
	lib/kvmnames.c lib/json.c $(SPE_SRCS) \
	$(SPE_IO_SRCS) $(SPEGEN_SRCS)
# perf's objects and its loop first: their code then sits at the same
# addresses whatever the size of ours, so a change of ours cannot move
# the baseline's alignment (nm: the same addresses in two builds that
# differ in lib/spe).
$(O)/bench/spe_e2e_bench: $(PERF_SPE_SRCS:.c=.o) \
		$(call obj,bench/spe/perf_loop.c \
			$(filter-out bench/spe/perf_loop.c,$(SPE_E2E_BENCH_SRCS)))
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CJSON_LIBS) $(ELF_LIBS) $(ZLIB_LIBS) -lm

BENCH_BINS += $(O)/bench/spe_e2e_bench

# kvmprofd's registry, routing and rendering at 256 to 4096 simulated VMs.
VMS_SCALE_BENCH_SRCS := bench/vms_scale_bench.c daemon/registry.c \
	daemon/render.c daemon/steal.c daemon/spe_capture.c daemon/api_route.c lib/json.c \
	lib/procfs.c lib/vmname.c lib/kvmnames.c lib/events.c $(SPE_SRCS) \
	$(SPE_IO_SRCS)
$(call obj,bench/vms_scale_bench.c): CFLAGS_ALL += -Idaemon
$(O)/bench/vms_scale_bench: $(call obj,$(VMS_SCALE_BENCH_SRCS))
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CJSON_LIBS) $(ELF_LIBS) $(ZLIB_LIBS) -lm
BENCH_BINS += $(O)/bench/vms_scale_bench

# The API under load and abuse for a while (a real kvmprofd).
API_SOAK_BENCH_SRCS := bench/api_soak_bench.c tests/lib/harness.c \
	tests/lib/wait.c $(TEST_INJECT_SRCS) $(KP_CLIENT_SRCS) lib/json.c
$(call obj,bench/api_soak_bench.c): CFLAGS_ALL += -Itests/lib
$(O)/bench/api_soak_bench: $(call obj,$(API_SOAK_BENCH_SRCS)) | $(BINS)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -o $@ $^ $(CJSON_LIBS) $(CURL_LIBS) $(LIBBPF_LIBS)
BENCH_BINS += $(O)/bench/api_soak_bench
