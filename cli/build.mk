# kvmprof (CLI).  cli/spe.c comes with the SPE decoder (lib/spe).
CLI_SRCS := cli/kvmprof.c cli/table.c cli/vmcmds.c $(wildcard cli/spe.c)
CLI_LIBS := $(CURL_LIBS) $(CJSON_LIBS) $(ZLIB_LIBS) $(ELF_LIBS)

ifneq ($(wildcard cli/spe.c),)
$(call obj,cli/kvmprof.c): CFLAGS_ALL += -DHAVE_SPE_CLI
endif

$(O)/kvmprof: $(call obj,$(CLI_SRCS) $(KP_LIB_SRCS) $(KP_CLIENT_SRCS) $(SPE_SRCS))
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CLI_LIBS)

BINS += $(O)/kvmprof
