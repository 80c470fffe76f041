# Packaging: `make install` (PREFIX, DESTDIR), the systemd unit, sysusers,
# configuration, man pages, bash completion, Grafana dashboard, Prometheus
# rules.  Also pulls in the service tests' fragment.
-include tests/service/build.mk
