# SPDX-License-Identifier: GPL-2.0-only
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
