# SPDX-License-Identifier: GPL-2.0-only
# libFuzzer targets (clang, ASan/UBSan): the SPE packet and record layers,
# and the API's request path (query parameters, routing, VM references,
# rendering, the client's JSON parser).
# `make fuzz [FUZZ_TIME=seconds]` runs each for FUZZ_TIME: new inputs go to
# $(O)/fuzz/corpus-NAME, the seed corpus (fuzz/corpus/NAME) is only read.
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

API_FUZZ := $(O)/fuzz/api_fuzz
API_FUZZ_SRCS := fuzz/api_fuzz.c daemon/api_route.c daemon/registry.c \
	daemon/render.c daemon/steal.c daemon/spe_capture.c lib/json.c lib/procfs.c \
	lib/vmname.c lib/kvmnames.c lib/events.c $(SPE_SRCS) $(SPE_IO_SRCS)

$(API_FUZZ): $(API_FUZZ_SRCS) $(wildcard daemon/*.h include/kvmprof/*.h)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(SPE_FUZZ_CFLAGS) -Idaemon -o $@ $(API_FUZZ_SRCS) \
		$(CJSON_LIBS) $(ELF_LIBS) $(ZLIB_LIBS) -lm

.PHONY: fuzz
fuzz: $(SPE_FUZZ) $(API_FUZZ)
	$(Q)mkdir -p $(O)/fuzz/corpus-spe $(O)/fuzz/corpus-api
	$(Q)$(SPE_FUZZ) -max_total_time=$(FUZZ_TIME) -max_len=16384 \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		$(O)/fuzz/corpus-spe fuzz/corpus/spe
	$(Q)$(API_FUZZ) -max_total_time=$(FUZZ_TIME) -max_len=1024 \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		$(O)/fuzz/corpus-api fuzz/corpus/api
