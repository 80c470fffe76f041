# Service and monitoring tests (issue 8): configuration, metrics renderer,
# service end to end (metrics scraped by Prometheus, privileges, systemd
# notification), packaging and docs.  Included from dist/build.mk.
SVC_UNIT_TESTS := config metrics
UNIT_DEPS_config := daemon/config.c daemon/config_file.c
# the registry test's dependencies (tests/build.mk) follow the registry
UNIT_DEPS_metrics := daemon/metrics.c daemon/metrics_self.c $(UNIT_DEPS_registry) \
	$(filter-out $(UNIT_DEPS_registry),lib/kvmnames.c lib/events.c)
$(O)/san/tests/unit/test_metrics.o: $(BPF_SKELS)
$(foreach t,$(SVC_UNIT_TESTS),$(eval $(call unit_test_rule,$(t))))

# Script tests (run from the source tree; O tells them where the build is).
TEST_BINS += tests/service/check-docs.sh tests/service/check-rules.sh \
	tests/service/check-install.sh

# unit-exec: runs a command inside a unit's identity, capabilities and
# system call filter (for test_e2e_privileges).
SECCOMP_LIBS := $(shell $(PKG_CONFIG) --libs libseccomp 2>/dev/null || echo -lseccomp)
$(O)/tests/unit-exec: $(call obj,tests/service/unit-exec.c)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(SECCOMP_LIBS) $(CAPNG_LIBS)

# End-to-end service tests (real guests, real Prometheus), by concern.
SVC_E2E_TESTS := prometheus privileges systemd
$(foreach t,$(SVC_E2E_TESTS),$(eval E2E_EXTRA_$(t) := tests/lib/svc.c \
	tests/lib/http.c tests/lib/guest.c))
$(foreach t,$(SVC_E2E_TESTS),$(eval $(call e2e_test_rule,$(t))))
$(O)/tests/test_e2e_privileges: | $(O)/tests/unit-exec
