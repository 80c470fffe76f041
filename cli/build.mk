# kvmprof (CLI); cli/spe*.c are the offline SPE part (lib/spe): commands and
# arguments (spe.c), input (spe_input.c), dump|records (spe_dump.c), report
# and --pprof (spe_report.c).
CLI_SPE_SRCS := cli/spe.c cli/spe_input.c cli/spe_dump.c cli/spe_report.c
CLI_SRCS := cli/kvmprof.c cli/common.c cli/table.c cli/top.c cli/top_screen.c \
	cli/vmcmds.c \
	$(CLI_SPE_SRCS)
CLI_LIBS := $(CJSON_LIBS) $(ZLIB_LIBS) $(ELF_LIBS)

$(call obj,cli/kvmprof.c): $(VERSION_H)

# No libcurl here: the API transport is loaded at the first request
# (cli/client_dl.c) from kvmprof-client.so, which links it.
$(O)/kvmprof: $(call obj,$(CLI_SRCS) $(KP_LIB_SRCS) lib/client.c \
		cli/client_dl.c $(SPE_SRCS) $(SPE_IO_SRCS))
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CLI_LIBS)

# It exports kp_api_get_raw() only (cli/kvmprof-client.map).
$(O)/kvmprof-client.so: $(O)/pic/lib/client_curl.o cli/kvmprof-client.map
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -shared -Wl,-soname,kvmprof-client.so \
		-Wl,--version-script=cli/kvmprof-client.map -o $@ $< $(CURL_LIBS)

BINS += $(O)/kvmprof $(O)/kvmprof-client.so
