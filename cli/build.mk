# kvmprof (CLI); cli/spe*.c are the offline SPE part (lib/spe): commands and
# arguments (spe.c), input (spe_input.c), dump|records (spe_dump.c), report
# and --pprof (spe_report.c).
CLI_SPE_SRCS := cli/spe.c cli/spe_input.c cli/spe_dump.c cli/spe_report.c
CLI_SRCS := cli/kvmprof.c cli/common.c cli/table.c cli/top.c cli/top_screen.c \
	cli/vmcmds.c \
	$(CLI_SPE_SRCS)
CLI_LIBS := $(CURL_LIBS) $(CJSON_LIBS) $(ZLIB_LIBS) $(ELF_LIBS)

$(call obj,cli/kvmprof.c): $(VERSION_H)

$(O)/kvmprof: $(call obj,$(CLI_SRCS) $(KP_LIB_SRCS) $(KP_CLIENT_SRCS) $(SPE_SRCS) $(SPE_IO_SRCS))
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CLI_LIBS)

BINS += $(O)/kvmprof
