# Unit tests (cmocka, ASan/UBSan) and end-to-end tests on real KVM.
UNIT_TESTS := vmname registry procfs config metrics render kvmnames kvmstats \
	kvmstats_vm
UNIT_DEPS_kvmstats = $(UNIT_DEPS_metrics)
UNIT_DEPS_kvmstats_vm = $(UNIT_DEPS_metrics)
UNIT_DEPS_kvmnames := lib/kvmnames.c
UNIT_DEPS_vmname := lib/vmname.c
UNIT_DEPS_registry := daemon/registry.c lib/procfs.c lib/vmname.c
UNIT_DEPS_procfs := lib/procfs.c
UNIT_DEPS_config := daemon/config.c daemon/config_keys.c daemon/config_doc.c \
	daemon/config_file.c
UNIT_DEPS_metrics := daemon/metrics.c daemon/metrics_self.c \
	daemon/metrics_kvm.c daemon/kvmstats.c daemon/kvmstats_debugfs.c \
	lib/kvmstats.c lib/json.c \
	$(UNIT_DEPS_registry) lib/kvmnames.c lib/events.c
# (render.c embeds a VM's SPE profile: spe_capture.c and the decoder)
UNIT_DEPS_render := daemon/render.c daemon/steal.c daemon/spe_capture.c $(SPE_SRCS) \
	$(SPE_IO_SRCS) $(UNIT_DEPS_metrics)

$(O)/san/tests/unit/%.o: SAN_CFLAGS += -Idaemon

define unit_test_rule
$(O)/tests/test_$(1): $(call sanobj,tests/unit/test_$(1).c $(UNIT_DEPS_$(1)))
	$$(call msg,LD,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(SAN_FLAGS) -o $$@ $$^ $$(CMOCKA_LIBS) $$(CJSON_LIBS) $$(ELF_LIBS) $$(ZLIB_LIBS)
TEST_BINS += $(O)/tests/test_$(1)
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_test_rule,$(t))))

# The loader's parts that need no kernel: the BPF object (skeleton) and
# what it is given before load.
$(call sanobj,tests/unit/test_probes.c daemon/probes.c daemon/btf_kvm.c lib/procfs.c): $(BPF_SKELS)
$(O)/tests/test_probes: $(call sanobj,tests/unit/test_probes.c daemon/probes.c daemon/btf_kvm.c lib/procfs.c)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LIBBPF_LIBS) $(ZLIB_LIBS)
TEST_BINS += $(O)/tests/test_probes

# End-to-end tests: release-built daemon/CLI/guest, sanitized test program,
# over the shared test code of tests/lib/ (also linked by the bench).
E2E_HARNESS := tests/lib/e2e.c tests/lib/harness.c tests/lib/wait.c lib/json.c \
	$(KP_CLIENT_SRCS)
E2E_TESTS := generic spe spe_pprof counters apf api kvmstats attrib qemu top steal
# BPF programs found and run by the tests (inject.c walks them with
# progstat.c's for_each_prog()).
TEST_INJECT_SRCS := tests/lib/inject.c tests/lib/progstat.c
# The probes driven through BPF_PROG_TEST_RUN (tests/lib/probes_e2e.c).
E2E_EXTRA_spe := tests/lib/probes_e2e.c $(TEST_INJECT_SRCS) \
	tests/lib/spestream.c $(SPEGEN_SRCS) lib/spe/spefile.c \
	lib/kvmnames.c $(SPE_SRCS)
E2E_EXTRA_spe_pprof := $(E2E_EXTRA_spe)
E2E_EXTRA_counters := tests/lib/probes_e2e.c $(TEST_INJECT_SRCS) lib/kvmnames.c
E2E_EXTRA_apf := tests/lib/ktrace.c tests/lib/progstat.c
E2E_EXTRA_steal := tests/lib/probes_e2e.c $(TEST_INJECT_SRCS) tests/lib/guest.c \
	tests/lib/schedstat.c
E2E_EXTRA_attrib := $(E2E_EXTRA_counters)
E2E_EXTRA_top := $(E2E_EXTRA_counters) tests/lib/schedstat.c \
	tests/lib/textrows.c
$(call sanobj,tests/lib/inject.c): $(O)/gen/test_kaddr.skel.h
$(O)/san/tests/e2e/%.o $(O)/san/tests/lib/%.o: SAN_CFLAGS += -Itests/lib \
	-Itools/spegen

define e2e_test_rule
$(O)/tests/test_e2e_$(1): $(call sanobj,tests/e2e/test_e2e_$(1).c $(E2E_HARNESS) $(E2E_EXTRA_$(1))) | $(BINS)
	$$(call msg,LD,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(SAN_FLAGS) -o $$@ $$^ $$(CMOCKA_LIBS) $$(CJSON_LIBS) $$(CURL_LIBS) $$(LIBBPF_LIBS) $$(ZLIB_LIBS)
TEST_BINS += $(O)/tests/test_e2e_$(1)
endef
$(foreach t,$(E2E_TESTS),$(eval $(call e2e_test_rule,$(t))))

# kvmprofd as a service (real guests, real Prometheus), by concern.
SVC_E2E_TESTS := prometheus privileges systemd
$(foreach t,$(SVC_E2E_TESTS),$(eval E2E_EXTRA_$(t) := tests/lib/svc.c \
	tests/lib/http.c tests/lib/guest.c))
$(foreach t,$(SVC_E2E_TESTS),$(eval $(call e2e_test_rule,$(t))))
$(O)/tests/test_e2e_privileges: | $(O)/tests/unit-exec

# Test-only BPF objects (kernel addresses for BPF_PROG_TEST_RUN injection).
$(O)/bpf/$(BPF_ARCH)/test_%.tmp.o: tests/bpf/%.bpf.c
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@
$(O)/gen/test_%.skel.h: $(O)/bpf/$(BPF_ARCH)/test_%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) gen skeleton $< name test_$*_bpf > $@.tmp && mv $@.tmp $@
