// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmprofd: loads the kvmprof BPF probes, harvests their per-VM, per-vCPU
 * counters periodically into a VM registry (harvest.c), and serves them as
 * JSON over HTTP on a Unix socket (api.c) and as Prometheus metrics
 * (metrics*.c).  One thread: epoll over signalfd, timerfds, the BPF ring
 * buffers and the HTTP servers' epoll fds (service.c).  This file starts
 * and stops it all; it and the loop's handlers (service.c) log, nothing
 * else does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <systemd/sd-daemon.h>

#include <kvmprof/kvmnames.h>
#include <kvmprof/spe_profile.h>
#include <kvmprof/util.h>
#include "api.h"
#include "config.h"
#include "daemon.h"
#include "harvest.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "options.h"
#include "privs.h"
#include "probes.h"
#include "service.h"

/* The guest symbol file configured for a VM (config key guest-symbols). */
static const char *guest_symbols_for(void *ctx, const char *vm_name)
{
	struct daemon *d = ctx;

	return d->cfg ? config_guest_symbols(d->cfg, vm_name) : NULL;
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	if (level == LIBBPF_DEBUG && log_max_level < LOG_DEBUG)
		return 0;
	log_vmsg(level == LIBBPF_WARN ? LOG_WARNING : LOG_DEBUG, fmt, ap);
	return 0;
}

static const char *find_tracefs(void)
{
	static const char *const cands[] = { "/sys/kernel/tracing",
					     "/sys/kernel/debug/tracing" };

	for (size_t i = 0; i < 2; i++) {
		char p[64];

		snprintf(p, sizeof(p), "%s/events", cands[i]);
		/* with our capabilities (tracefs is 0700 root) */
		if (!faccessat(AT_FDCWD, p, F_OK, AT_EACCESS))
			return cands[i];
	}
	/* Not mounted: mount it where the kernel documents it. */
	if (!mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL)) {
		log_info("mounted tracefs on /sys/kernel/tracing");
		return cands[0];
	}
	log_warn("tracefs not found and not mountable (%s): every probe will "
		 "be reported unavailable", strerror(errno));
	return cands[0];
}

/*
 * Privileges after attach (privs.c): does this kernel refuse BPF map and
 * program queries on fds we hold without CAP_BPF?  -EPERM if so.
 */
static int bpf_access_probe(void *ctx)
{
	struct daemon *d = ctx;
	struct kp_key k;
	uint64_t cnt, ns;

	if (!d->probes)
		return 0;
	if (bpf_map_get_next_key(probes_counters_fd(d->probes), NULL, &k) &&
	    errno == EPERM)
		return -EPERM;
	for (size_t i = 0; i < probes_count(d->probes); i++)
		if (probes_get(d->probes, i)->state == PROBE_ATTACHED)
			return probes_prog_stats(d->probes, i, &cnt, &ns) ==
					       -EPERM ? -EPERM : 0;
	return 0;
}

/* Close to the end of the start: no CAP_SYS_ADMIN past this point. */
static int limit_privileges(const struct daemon *d)
{
	int r;

	if (!d->opts.drop_privileges)
		return 0;
	r = privs_limit(d->opts.kvm_stats);
	if (r < 0)
		log_err("limiting capabilities: %s", strerror(-r));
	return r;
}

static int drop_privileges(struct daemon *d)
{
	struct privs_result pr;
	int r;

	if (!d->opts.drop_privileges) {
		log_info("keeping all privileges (drop-privileges = no)");
		return 0;
	}
	r = privs_drop(d->cfg->s.user, bpf_access_probe, d, d->opts.kvm_stats,
		       &pr);
	if (r < 0) {
		log_err("dropping privileges: %s", strerror(-r));
		return r;
	}
	if (pr.user_missing)
		log_warn("user %s does not exist: staying uid 0, without "
			 "capabilities", d->cfg->s.user);
	log_info("running as uid %u gid %u, capabilities: %s%s",
		 (unsigned)pr.uid, (unsigned)pr.gid,
		 pr.kept_bpf ? "cap_bpf (this kernel checks it on map access)" :
			       "none",
		 pr.kept_ptrace ? "; cap_sys_ptrace permitted, raised around "
				  "pidfd_getfd (kvm-stats)" :
				  "");
	if (pr.kept_ptrace)
		d->ks.ptrace_cap = privs_ptrace;
	else if (d->opts.kvm_stats)
		log_info("kvm-stats: without CAP_SYS_PTRACE, only VMMs that "
			 "allow ptrace by uid %u are read",
			 (unsigned)pr.uid);
	return 0;
}

int main(int argc, char **argv)
{
	struct daemon d = { .bpf_stats_fd = -1 };
	struct probe_opts po = {};
	struct ring_buffer *rb = NULL;
	struct service svc = { .d = &d,
			       .sfd = -1,
			       .tfd = -1,
			       .pfd = -1,
			       .wfd = -1,
			       .argc = argc,
			       .argv = argv };
	struct config_error err = {};
	int lfd = -1, mfd = -1, r, attached = 0, chgrp_err = 0;

	d.cfg = calloc(1, sizeof(*d.cfg));
	if (!d.cfg)
		return 1;
	r = options_load(argc, argv, d.cfg, &err);
	if (r < 0) {
		if (err.file[0] && err.line)
			fprintf(stderr, "kvmprofd: %s:%u: %s\n", err.file,
				err.line, err.msg);
		else if (err.file[0])
			fprintf(stderr, "kvmprofd: %s: %s\n", err.file,
				err.msg);
		return 2;
	}
	if (r == 1) {
		config_print(d.cfg, stdout);
		return 0;
	}
	registry_init(&d.reg, d.cfg->d.max_vms, d.cfg->d.grace_ms,
		      &registry_proc_ops);
	service_configure(&d, d.cfg);
	d.last_reload_ok = true;
	d.last_reload_ok_time = kp_unix_s();
	libbpf_set_print(libbpf_log);
	d.started_ms = kp_mono_ms();
	if (d.cfg->path)
		log_info("configuration from %s", d.cfg->path);

	service_block_signals();

	r = api_listen(d.opts.socket_path, d.opts.socket_mode,
		       d.opts.socket_group, &lfd, &chgrp_err);
	if (r < 0) {
		log_err("socket %s: %s%s", d.opts.socket_path, strerror(-r),
			r == -EADDRINUSE ? " (another kvmprofd serves it)" : "");
		return 1;
	}
	if (chgrp_err)
		log_warn("chgrp %s %s: %s", d.opts.socket_group,
			 d.opts.socket_path, strerror(-chgrp_err));
	/* Bound before privileges go: a port below 1024 works too. */
	r = metrics_listen(d.cfg->s.metrics_listen, &mfd);
	if (r < 0) {
		log_err("metrics-listen %s: %s", d.cfg->s.metrics_listen,
			strerror(-r));
		goto out;
	}

	if (d.opts.bpf_stats && d.opts.bpf) {
		d.bpf_stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (d.bpf_stats_fd < 0)
			log_warn("kernel BPF stats unavailable: %s",
				 strerror(errno));
	}
	po.tracefs = d.opts.tracefs ? d.opts.tracefs : find_tracefs();
	probes_find_irqfd(&po); /* kallsyms: while CAP_SYSLOG is ours */
	po.max_counters = d.opts.max_counters;
	po.disabled = d.opts.disabled;
	po.load_unavailable = d.opts.load_unavailable;
	po.count_cache = d.opts.count_cache;
	po.spe_ring_bytes = d.opts.spe_ring_kib * 1024u;
	po.spe_wakeup_bytes = (uint64_t)d.opts.spe_wakeup_kib * 1024u;
	r = d.opts.bpf ? probes_open_load_attach(&po, &d.probes) : 0;
	if (r < 0) {
		log_err("loading BPF probes: %s", strerror(-r));
		goto out;
	}
	/* attach, then limit: perf tracepoints (kvm_exit on x86) need
	 * CAP_SYS_ADMIN where perf_event_paranoid is 3 (Debian's kernels) */
	r = limit_privileges(&d);
	if (r < 0)
		goto out;
	if (!d.opts.bpf)
		log_info("bpf = no: no BPF loaded; KVM statistics only, VMMs "
			 "found through /proc");
	for (size_t i = 0; i < probes_count(d.probes); i++) {
		const struct probe *p = probes_get(d.probes, i);

		if (p->state == PROBE_ATTACHED) {
			attached++;
			log_debug("probe %s: attached", p->name);
		} else {
			log_info("probe %s: %s", p->name, p->reason);
		}
	}
	if (d.probes)
		log_info("%d of %zu probes attached; kvm_exit layout %s; count "
			 "cache %s; vCPU run delay %s",
			 attached, probes_count(d.probes),
			 kp_exit_layout_name(probes_exit_layout(d.probes)),
			 probes_count_cache(d.probes), probes_sched(d.probes));

	spe_capture_init(&d.spe, &d.reg, (uint64_t)d.opts.spe_raw_mib << 20);
	d.spe.midr = d.opts.spe_midr;
	d.spe.top_pcs = d.opts.spe_top_pcs;
	d.spe.symbols_for = guest_symbols_for;
	d.spe.symbols_ctx = &d;
	kvmstats_init(&d.ks, &d.reg, d.opts.kvm_stats);
	if (d.opts.kvm_stats) {
		/* a stats fd per VM and vCPU held: the hard limit, not 1024 */
		struct rlimit rl;

		if (!getrlimit(RLIMIT_NOFILE, &rl) &&
		    rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	/* after kvmstats_init(): it gets the CAP_SYS_PTRACE hook */
	r = drop_privileges(&d);
	if (r < 0)
		goto out;

	r = loop_new(&d.loop);
	if (r < 0) {
		log_err("event loop: %s", strerror(-r));
		goto out;
	}
	/* the top-K adds on a second core (the same profiles); after the
	 * privileges are dropped: capabilities are per thread */
	if (spe_profile_threads() > 1 && spe_capture_threads(&d.spe))
		log_info("SPE profiles on one thread: no helper thread");
	if (d.probes)
		rb = ring_buffer__new(probes_events_fd(d.probes),
				      daemon_on_vm_event, &d, NULL);
	if (d.probes && (!rb || ring_buffer__add(rb, probes_spe_fd(d.probes),
						 spe_capture_chunk, &d.spe))) {
		r = -errno;
		log_err("BPF ring buffers: %s", strerror(-r));
		goto out;
	}
	r = api_start(&d, lfd, &d.api);
	if (r < 0) {
		log_err("starting the HTTP API: %s", strerror(-r));
		goto out;
	}
	if (mfd >= 0) {
		r = metrics_start(&d, mfd, &d.metrics);
		mfd = -1;	/* the metrics server owns it, even on error */
		if (r < 0) {
			log_err("starting the metrics server: %s",
				strerror(-r));
			goto out;
		}
	}
	svc.rb = rb;
	r = service_start(&svc);
	if (r < 0) {
		log_err("event loop: %s", strerror(-r));
		goto out;
	}
	log_info("serving on %s; metrics on %s", d.opts.socket_path,
		 d.metrics ? metrics_address(d.metrics) : "off");
	service_ready(&d);

	r = loop_run(d.loop);
	if (r < 0)
		log_err("event loop: %s", strerror(-r));
out:
	sd_notify(0, "STOPPING=1");
	metrics_stop(d.metrics);
	if (mfd >= 0)
		close(mfd);
	api_stop(d.api);
	if (lfd >= 0) {
		close(lfd);
		unlink(d.opts.socket_path);
	}
	service_stop(&svc);
	ring_buffer__free(rb);
	loop_free(d.loop);
	registry_fini(&d.reg);
	kvmstats_fini(&d.ks, NULL);
	spe_capture_fini(&d.spe);
	probes_destroy(d.probes);
	if (d.bpf_stats_fd >= 0)
		close(d.bpf_stats_fd);
	config_free(d.cfg);
	free(d.cfg);
	return r < 0 ? 1 : 0;
}
