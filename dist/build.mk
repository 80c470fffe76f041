# Packaging: `make install` (PREFIX, DESTDIR): binaries, the systemd unit,
# sysusers (user and group kvmprof), configuration, man pages, bash
# completion, Grafana dashboard, Prometheus rules.  With an empty DESTDIR,
# as root, it also creates the user/group and reloads systemd.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
# kvmprof looks for kvmprof-client.so in ../lib/kvmprof from its own binary
PKGLIBDIR ?= $(PREFIX)/lib/kvmprof
SYSCONFDIR ?= /etc
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
KVMPROF_DATADIR ?= $(DATADIR)/kvmprof
INSTALL ?= install

DIST_UNIT := $(O)/dist/kvmprofd.service
DIST_MAN := docs/man/kvmprof.1 docs/man/kvmprofd.8 docs/man/kvmprofd.conf.5
DIST_SHARE := dist/grafana/kvmprof-dashboard.json \
	dist/prometheus/kvmprof-rules.yml dist/prometheus/prometheus-scrape.yml

$(DIST_UNIT): dist/systemd/kvmprofd.service.in
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		$< > $@.tmp && mv $@.tmp $@

# The unit depends on where things go: regenerate it every time.
.PHONY: $(DIST_UNIT)

# What is generated from kvmprofd's configuration keys (daemon/config_keys.c):
# dist/kvmprofd.conf and the KEYS of docs/man/kvmprofd.conf.5, rewritten
# from the built kvmprofd (tests/service/check-docs.sh fails when stale).
.PHONY: update-docs
update-docs: $(O)/kvmprofd
	$(Q)O=$(O) scripts/update-docs.sh

.PHONY: install uninstall
install: $(O)/kvmprofd $(O)/kvmprof $(O)/kvmprof-client.so $(DIST_UNIT)
	$(Q)$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
		$(DESTDIR)$(PKGLIBDIR) \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(SYSCONFDIR)/kvmprof $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(KVMPROF_DATADIR)/grafana \
		$(DESTDIR)$(KVMPROF_DATADIR)/prometheus
	$(Q)$(INSTALL) -m 0755 $(O)/kvmprof $(DESTDIR)$(BINDIR)/kvmprof
	$(Q)$(INSTALL) -m 0644 $(O)/kvmprof-client.so \
		$(DESTDIR)$(PKGLIBDIR)/kvmprof-client.so
	$(Q)$(INSTALL) -m 0755 $(O)/kvmprofd $(DESTDIR)$(SBINDIR)/kvmprofd
	$(Q)$(INSTALL) -m 0644 $(DIST_UNIT) $(DESTDIR)$(UNITDIR)/kvmprofd.service
	$(Q)$(INSTALL) -m 0644 dist/sysusers/kvmprof.conf \
		$(DESTDIR)$(SYSUSERSDIR)/kvmprof.conf
	$(Q)if [ -e $(DESTDIR)$(SYSCONFDIR)/kvmprof/kvmprofd.conf ]; then \
		echo "  kept     $(DESTDIR)$(SYSCONFDIR)/kvmprof/kvmprofd.conf (new one: kvmprofd.conf.dist)"; \
		$(INSTALL) -m 0644 dist/kvmprofd.conf \
			$(DESTDIR)$(SYSCONFDIR)/kvmprof/kvmprofd.conf.dist; \
	else \
		$(INSTALL) -m 0644 dist/kvmprofd.conf \
			$(DESTDIR)$(SYSCONFDIR)/kvmprof/kvmprofd.conf; \
	fi
	$(Q)$(INSTALL) -m 0644 docs/man/kvmprof.1 $(DESTDIR)$(MANDIR)/man1/
	$(Q)$(INSTALL) -m 0644 docs/man/kvmprofd.conf.5 $(DESTDIR)$(MANDIR)/man5/
	$(Q)$(INSTALL) -m 0644 docs/man/kvmprofd.8 $(DESTDIR)$(MANDIR)/man8/
	$(Q)$(INSTALL) -m 0644 dist/bash-completion/kvmprof \
		dist/bash-completion/kvmprofd $(DESTDIR)$(BASHCOMPDIR)/
	$(Q)$(INSTALL) -m 0644 dist/grafana/kvmprof-dashboard.json \
		$(DESTDIR)$(KVMPROF_DATADIR)/grafana/
	$(Q)$(INSTALL) -m 0644 dist/prometheus/kvmprof-rules.yml \
		dist/prometheus/prometheus-scrape.yml \
		$(DESTDIR)$(KVMPROF_DATADIR)/prometheus/
	$(Q)if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
		if command -v systemd-sysusers >/dev/null; then \
			systemd-sysusers $(SYSUSERSDIR)/kvmprof.conf; \
		elif ! getent passwd kvmprof >/dev/null; then \
			useradd --system --user-group --home-dir / \
				--shell /usr/sbin/nologin kvmprof; \
		fi; \
		if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
		echo "  installed; start with: systemctl enable --now kvmprofd"; \
	fi

uninstall:
	$(Q)rm -f $(DESTDIR)$(BINDIR)/kvmprof $(DESTDIR)$(SBINDIR)/kvmprofd \
		$(DESTDIR)$(PKGLIBDIR)/kvmprof-client.so \
		$(DESTDIR)$(UNITDIR)/kvmprofd.service \
		$(DESTDIR)$(SYSUSERSDIR)/kvmprof.conf \
		$(DESTDIR)$(MANDIR)/man1/kvmprof.1 \
		$(DESTDIR)$(MANDIR)/man5/kvmprofd.conf.5 \
		$(DESTDIR)$(MANDIR)/man8/kvmprofd.8 \
		$(DESTDIR)$(BASHCOMPDIR)/kvmprof $(DESTDIR)$(BASHCOMPDIR)/kvmprofd \
		$(DESTDIR)$(KVMPROF_DATADIR)/grafana/kvmprof-dashboard.json \
		$(DESTDIR)$(KVMPROF_DATADIR)/prometheus/kvmprof-rules.yml \
		$(DESTDIR)$(KVMPROF_DATADIR)/prometheus/prometheus-scrape.yml
	$(Q)echo "  kept $(DESTDIR)$(SYSCONFDIR)/kvmprof and the user kvmprof"
