# Service and monitoring tests (issue 8): configuration, metrics renderer,
# service end to end (metrics scraped by Prometheus, privileges, systemd
# notification), packaging and docs.  Included from dist/build.mk.
SVC_UNIT_TESTS := config metrics
UNIT_DEPS_config := daemon/config.c
UNIT_DEPS_metrics := daemon/metrics.c daemon/registry.c daemon/spe_capture.c \
	lib/procfs.c lib/vmname.c lib/kvmnames.c $(SPE_SRCS)
$(O)/san/tests/unit/test_metrics.o: $(BPF_SKELS)
$(foreach t,$(SVC_UNIT_TESTS),$(eval $(call unit_test_rule,$(t))))

# Script tests (run from the source tree; O tells them where the build is).
TEST_BINS += tests/service/check-docs.sh tests/service/check-rules.sh \
	tests/service/check-install.sh
