# SPE decoder: library, generator, tests, bench, fuzz target.
# Included by the top-level Makefile (one make, one dependency graph).

# The library: linked by the daemon, the CLI, the tests and the bench.
SPE_SRCS := lib/spe/pkt.c lib/spe/fields.c lib/spe/desc.c lib/spe/decode.c \
	lib/spe/profile.c lib/spe/symbols.c lib/spe/input.c lib/spe/text.c

# The synthetic stream generator (ground truth for tests and benches; the
# daemon's tests may link it too).
SPEGEN_SRCS := tools/spegen/spegen.c

SPE_TEST_NAMES := test_pkt test_decode test_corrupt

define spe_test_rule
$(O)/tests/spe/$(1): $(call sanobj,tests/spe/$(1).c tests/spe/util.c \
		$(SPE_SRCS) $(SPEGEN_SRCS))
	$$(call msg,LD,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(SAN_FLAGS) $$(LDFLAGS) -o $$@ $$^ $$(CMOCKA_LIBS) $$(ZLIB_LIBS) $$(ELF_LIBS) -lm
endef
$(foreach t,$(SPE_TEST_NAMES),$(eval $(call spe_test_rule,$(t))))

TEST_BINS += $(addprefix $(O)/tests/spe/,$(SPE_TEST_NAMES))

# Decode throughput (release objects).
$(O)/bench/spe_bench: $(call obj,bench/spe/spe_bench.c $(SPE_SRCS) $(SPEGEN_SRCS))
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

BENCH_BINS += $(O)/bench/spe_bench
