# Unit tests (cmocka, ASan/UBSan) and end-to-end tests on real KVM.
UNIT_TESTS := vmname registry procfs
UNIT_DEPS_vmname := lib/vmname.c
UNIT_DEPS_registry := daemon/registry.c lib/procfs.c lib/vmname.c
UNIT_DEPS_procfs := lib/procfs.c

$(O)/san/tests/unit/%.o: SAN_CFLAGS += -Idaemon
$(O)/san/tests/unit/test_registry.o: $(BPF_SKELS)

define unit_test_rule
$(O)/tests/test_$(1): $(call sanobj,tests/unit/test_$(1).c $(UNIT_DEPS_$(1)))
	$$(call msg,LD,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(SAN_FLAGS) -o $$@ $$^ $$(CMOCKA_LIBS) $$(CJSON_LIBS) $$(ELF_LIBS) $$(ZLIB_LIBS)
TEST_BINS += $(O)/tests/test_$(1)
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_test_rule,$(t))))

# End-to-end tests: release-built daemon/CLI/guest, sanitized test program.
E2E_HARNESS := tests/e2e/harness.c lib/client.c
E2E_TESTS := generic spe apf
E2E_EXTRA_spe := tests/e2e/inject.c tools/spegen/spegen.c lib/spe/spefile.c \
	$(SPE_SRCS)
$(call sanobj,tests/e2e/inject.c): $(O)/gen/test_kaddr.skel.h
$(O)/san/tests/e2e/%.o: SAN_CFLAGS += -Itools/spegen

define e2e_test_rule
$(O)/tests/test_e2e_$(1): $(call sanobj,tests/e2e/test_e2e_$(1).c $(E2E_HARNESS) $(E2E_EXTRA_$(1))) | $(BINS)
	$$(call msg,LD,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(SAN_FLAGS) -o $$@ $$^ $$(CMOCKA_LIBS) $$(CJSON_LIBS) $$(CURL_LIBS) $$(LIBBPF_LIBS) $$(ZLIB_LIBS)
TEST_BINS += $(O)/tests/test_e2e_$(1)
endef
$(foreach t,$(E2E_TESTS),$(eval $(call e2e_test_rule,$(t))))

# Test-only BPF objects (kernel addresses for BPF_PROG_TEST_RUN injection).
$(O)/bpf/$(BPF_ARCH)/test_%.tmp.o: tests/bpf/%.bpf.c
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@
$(O)/gen/test_%.skel.h: $(O)/bpf/$(BPF_ARCH)/test_%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) gen skeleton $< name test_$*_bpf > $@.tmp && mv $@.tmp $@
