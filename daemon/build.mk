# kvmprofd
KVMPROFD_SRCS := daemon/kvmprofd.c daemon/options.c daemon/service.c \
	daemon/harvest.c daemon/status.c daemon/api.c daemon/api_route.c \
	daemon/probes.c daemon/btf_kvm.c \
	daemon/registry.c daemon/render.c daemon/steal.c daemon/log.c daemon/loop.c daemon/spe_capture.c \
	daemon/config.c daemon/config_keys.c daemon/config_doc.c daemon/config_file.c daemon/metrics.c daemon/metrics_self.c daemon/metrics_http.c daemon/privs.c \
	daemon/kvmstats.c daemon/kvmstats_debugfs.c daemon/metrics_kvm.c
SYSTEMD_LIBS := $(shell $(PKG_CONFIG) --libs libsystemd 2>/dev/null || echo -lsystemd)
KVMPROFD_LIBS := $(ELF_LIBS) $(ZLIB_LIBS) $(LIBBPF_LIBS) $(CJSON_LIBS) $(MHD_LIBS) $(CAPNG_LIBS) \
	$(SYSTEMD_LIBS)

$(call obj,daemon/probes.c): $(BPF_SKELS)
$(call obj,daemon/options.c daemon/status.c): $(VERSION_H)

$(O)/kvmprofd: $(call obj,$(KVMPROFD_SRCS) $(KP_LIB_SRCS) $(SPE_SRCS) $(SPE_IO_SRCS))
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(KVMPROFD_LIBS)

BINS += $(O)/kvmprofd
