# kvmprofd
KVMPROFD_SRCS := daemon/kvmprofd.c daemon/api.c daemon/probes.c \
	daemon/registry.c daemon/render.c daemon/log.c daemon/loop.c daemon/spe_capture.c
KVMPROFD_LIBS := $(LIBBPF_LIBS) $(CJSON_LIBS) $(MHD_LIBS) $(CAPNG_LIBS)

$(call obj,daemon/probes.c): $(BPF_SKELS)

$(O)/kvmprofd: $(call obj,$(KVMPROFD_SRCS) $(KP_LIB_SRCS) $(SPE_SRCS))
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(KVMPROFD_LIBS)

BINS += $(O)/kvmprofd
