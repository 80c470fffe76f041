# kvmprof (CLI); cli/spe.c is the offline SPE part (lib/spe).
CLI_SRCS := cli/kvmprof.c cli/common.c cli/table.c cli/vmcmds.c cli/spe.c
CLI_LIBS := $(CURL_LIBS) $(CJSON_LIBS) $(ZLIB_LIBS) $(ELF_LIBS)

$(call obj,cli/kvmprof.c): $(VERSION_H)

$(O)/kvmprof: $(call obj,$(CLI_SRCS) $(KP_LIB_SRCS) $(KP_CLIENT_SRCS) $(SPE_SRCS) $(SPE_IO_SRCS))
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CLI_LIBS)

BINS += $(O)/kvmprof
