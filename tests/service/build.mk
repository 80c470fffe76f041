# SPDX-License-Identifier: GPL-2.0-only
# Service checks (packaging, rules, docs) and unit-exec, which the
# privileges test runs kvmprofd through.

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
