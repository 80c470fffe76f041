# SPE decoder: library, generator, tests, bench, fuzz target.
# Included by the top-level Makefile (one make, one dependency graph).

# The library, linked by the daemon, the CLI, the tests and the bench:
# SPE_SRCS needs no other library; SPE_IO_SRCS (symbols from ELF files,
# compressed input) needs $(SPE_IO_LIBS).
SPE_SRCS := lib/spe/pkt.c lib/spe/fields.c lib/spe/desc.c lib/spe/decode.c \
	lib/spe/profile.c lib/spe/parallel.c lib/spe/text.c lib/spe/symtab.c
SPE_IO_SRCS := lib/spe/symbols.c lib/spe/input.c lib/spe/pprof.c \
	lib/spe/spefile.c lib/spe/perfdata.c
SPE_IO_LIBS := $(ELF_LIBS) $(ZLIB_LIBS)

# The synthetic stream generator (ground truth for tests and benches; the
# daemon's tests may link it too).
SPEGEN_SRCS := tools/spegen/spegen.c

SPE_TEST_NAMES := test_pkt test_decode test_corrupt test_profile test_perfdata

define spe_test_rule
$(O)/tests/spe/$(1): $(call sanobj,tests/spe/$(1).c tests/spe/util.c \
		$(SPE_SRCS) $(SPE_IO_SRCS) $(SPEGEN_SRCS))
	$$(call msg,LD,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(SAN_FLAGS) $$(LDFLAGS) -o $$@ $$^ $$(CMOCKA_LIBS) $$(ZLIB_LIBS) $$(ELF_LIBS) -lm
endef
$(foreach t,$(SPE_TEST_NAMES),$(eval $(call spe_test_rule,$(t))))

TEST_BINS += $(addprefix $(O)/tests/spe/,$(SPE_TEST_NAMES))

# The CLI part (cli/spe.c) with a stand-in for cli/kvmprof.c's dispatch.
$(O)/tests/spe/test_cli: $(call sanobj,tests/spe/test_cli.c tests/spe/util.c \
		tests/spe/cli_stub.c cli/spe.c $(SPE_SRCS) \
		$(SPE_IO_SRCS) $(SPEGEN_SRCS))
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(CJSON_LIBS) \
		$(ZLIB_LIBS) $(ELF_LIBS) -lm

TEST_BINS += $(O)/tests/spe/test_cli

# --pprof output read by go tool pprof (needs $(O)/kvmprof and spegen).
TEST_BINS += tests/spe/test_pprof.sh

# spegen: synthetic streams with ground truth.
$(O)/spegen: $(call obj,tools/spegen/main.c $(SPEGEN_SRCS) $(SPE_SRCS))
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(ZLIB_LIBS) -lm

BINS += $(O)/spegen

# Decode throughput (release objects).
$(O)/bench/spe_bench: $(call obj,bench/spe/spe_bench.c $(SPE_SRCS) $(SPEGEN_SRCS))
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

BENCH_BINS += $(O)/bench/spe_bench

# libFuzzer target over the packet and record layers (clang, ASan/UBSan).
# `make fuzz [FUZZ_TIME=seconds]`: new inputs go to $(O)/fuzz/corpus-spe,
# the seed corpus (fuzz/corpus/spe) is only read.
FUZZ_TIME ?= 300
SPE_FUZZ := $(O)/fuzz/spe_fuzz
SPE_FUZZ_CFLAGS := -std=gnu11 -g -O1 -Wall -Iinclude -Ilib -D_GNU_SOURCE \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer

$(SPE_FUZZ): fuzz/spe_fuzz.c $(SPE_SRCS) $(wildcard include/kvmprof/spe*.h \
		lib/spe/*.h)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(SPE_FUZZ_CFLAGS) -o $@ fuzz/spe_fuzz.c $(SPE_SRCS)

.PHONY: fuzz
fuzz: $(SPE_FUZZ)
	$(Q)mkdir -p $(O)/fuzz/corpus-spe
	$(Q)$(SPE_FUZZ) -max_total_time=$(FUZZ_TIME) -max_len=16384 \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		$(O)/fuzz/corpus-spe fuzz/corpus/spe

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
	lib/kvmnames.c $(SPE_SRCS) \
	$(SPE_IO_SRCS) $(SPEGEN_SRCS)
$(O)/bench/spe_e2e_bench: $(call obj,$(SPE_E2E_BENCH_SRCS)) \
		$(PERF_SPE_SRCS:.c=.o)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CJSON_LIBS) $(ELF_LIBS) $(ZLIB_LIBS) -lm

BENCH_BINS += $(O)/bench/spe_e2e_bench
