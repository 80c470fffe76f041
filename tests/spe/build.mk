# SPDX-License-Identifier: GPL-2.0-only
# Tests of the SPE decoder (lib/spe) and of the CLI's SPE commands.
SPE_TEST_NAMES := test_pkt test_decode test_corrupt test_profile test_symbols \
	test_perfdata test_parallel

define spe_test_rule
$(O)/tests/spe/$(1): $(call sanobj,tests/spe/$(1).c tests/spe/util.c \
		$(SPE_SRCS) $(SPE_IO_SRCS) $(SPEGEN_SRCS))
	$$(call msg,LD,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(SAN_FLAGS) $$(LDFLAGS) -o $$@ $$^ $$(CMOCKA_LIBS) $$(ZLIB_LIBS) $$(ELF_LIBS) -lm
endef
$(foreach t,$(SPE_TEST_NAMES),$(eval $(call spe_test_rule,$(t))))

TEST_BINS += $(addprefix $(O)/tests/spe/,$(SPE_TEST_NAMES))

# The CLI part (cli/spe*.c) with the CLI's shared pieces (cli/common.c).
$(O)/tests/spe/test_cli: $(call sanobj,tests/spe/test_cli.c tests/spe/util.c \
		cli/common.c $(CLI_SPE_SRCS) lib/json.c $(SPE_SRCS) \
		$(SPE_IO_SRCS) $(SPEGEN_SRCS))
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(CJSON_LIBS) \
		$(ZLIB_LIBS) $(ELF_LIBS) -lm

TEST_BINS += $(O)/tests/spe/test_cli

# --pprof output read by go tool pprof (needs $(O)/kvmprof and spegen).
TEST_BINS += tests/spe/test_pprof.sh
