// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmprofd: loads the kvmprof BPF probes, harvests their per-VM, per-vCPU
 * counters periodically into a VM registry, and serves them as JSON over
 * HTTP on a Unix socket.  One thread: epoll over signalfd, timerfd and the
 * HTTP server's epoll fd.  Only this file logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <systemd/sd-daemon.h>

#include <kvmprof/kvmnames.h>
#include <kvmprof/procfs.h>
#include <kvmprof/vmname.h>
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "options.h"
#include "privs.h"

#ifndef KVMPROF_VERSION
#define KVMPROF_VERSION "0.1"
#endif
uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int daemon_harvest(struct daemon *d)
{
	struct kp_count *snap = NULL, *stale = NULL;
	size_t n = 0, nstale = 0;
	uint64_t now = mono_ms();
	int r;

	registry_mark_exited(&d->reg, now);
	r = probes_snapshot(d->probes, &snap, &n);
	if (r < 0)
		goto out;
	r = registry_update(&d->reg, snap, n, now, &stale, &nstale);
	if (nstale) {
		int dr = probes_delete_keys(d->probes, stale, nstale);

		if (!dr)
			d->keys_deleted += nstale;
		r = r ? r : dr;
		/* stale is sorted by VM: forget each VM once */
		for (size_t i = 0; i < nstale; i++)
			if (i == 0 || stale[i].key.tgid != stale[i - 1].key.tgid ||
			    stale[i].key.start_ns != stale[i - 1].key.start_ns)
				probes_forget_vm(d->probes, stale[i].key.tgid,
						 stale[i].key.start_ns);
	}
out:
	free(snap);
	free(stale);
	d->harvests++;
	if (r < 0)
		d->harvest_errors++;
	return r;
}

/* The guest symbol file configured for a VM (config key guest-symbols). */
static const char *guest_symbols_for(void *ctx, const char *vm_name)
{
	struct daemon *d = ctx;

	return d->cfg ? config_guest_symbols(d->cfg, vm_name) : NULL;
}

/* A VM's first event, with its argv read in its own context. */
static int on_vm_event(void *ctx, void *data, size_t size)
{
	struct daemon *d = ctx;
	const struct kp_vm_event *e = data;
	char args[KP_ARGS_MAX + 1], comm[17], cgroup[2048], *argv[64];
	struct kp_vm_ident id;
	int argc;

	if (size < sizeof(*e))
		return 0;
	memcpy(args, e->args, e->args_len <= KP_ARGS_MAX ? e->args_len : 0);
	args[e->args_len <= KP_ARGS_MAX ? e->args_len : 0] = '\0';
	memcpy(comm, e->comm, 16);
	comm[16] = '\0';
	if (!e->args_len) {
		/* argv not readable in the VMM: try /proc, then comm only */
		ssize_t n = kp_proc_read((pid_t)e->tgid, "cmdline", args,
					 sizeof(args));

		argc = n > 0 ? kp_split_cmdline(args, (size_t)n, argv, 64) : 0;
	} else {
		argc = kp_split_cmdline(args, e->args_len, argv, 64);
	}
	if (kp_proc_read((pid_t)e->tgid, "cgroup", cgroup, sizeof(cgroup)) < 0)
		cgroup[0] = '\0';
	kp_vm_identify(argc, argv, comm, cgroup, &id);
	if (registry_note_vm(&d->reg, e->tgid, e->start_ns, &id, mono_ms()))
		d->reg.vms_dropped++;
	return 0;
}

cJSON *daemon_status(struct daemon *d)
{
	static const char *const drop_names[KP_DROP_MAX] = {
		[KP_DROP_COUNTS_FULL] = "counters_map_full",
		[KP_DROP_EXIT_TS_FULL] = "exit_timestamps_full",
		[KP_DROP_VM_EVENT] = "vm_announcements",
		[KP_DROP_APF_TRACK] = "async_pf_tracking",
	};
	cJSON *o = cJSON_CreateObject(), *probes, *lost, *reg, *spe, *service;
	uint64_t drops[KP_DROP_MAX], total = 0;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "version", KVMPROF_VERSION);
	cJSON_AddNumberToObject(o, "pid", getpid());
	cJSON_AddNumberToObject(o, "uptime_ms",
				(double)(mono_ms() - d->started_ms));
	cJSON_AddStringToObject(o, "kvm_exit_layout",
				kp_exit_layout_name(probes_exit_layout(d->probes)));
	cJSON_AddNumberToObject(o, "harvest_interval_ms", d->opts.interval_ms);
	cJSON_AddNumberToObject(o, "grace_ms", (double)d->opts.grace_ms);
	cJSON_AddNumberToObject(o, "harvests", (double)d->harvests);
	cJSON_AddNumberToObject(o, "harvest_errors", (double)d->harvest_errors);
	cJSON_AddBoolToObject(o, "bpf_stats", d->bpf_stats_fd >= 0);
	cJSON_AddStringToObject(o, "count_cache",
				probes_count_cache(d->probes));

	probes = cJSON_AddArrayToObject(o, "probes");
	for (size_t i = 0; probes && i < probes_count(d->probes); i++) {
		const struct probe *p = probes_get(d->probes, i);
		cJSON *po = cJSON_CreateObject();
		uint64_t cnt, ns;

		if (!po)
			break;
		cJSON_AddStringToObject(po, "name", p->name);
		cJSON_AddStringToObject(po, "tracepoint", p->name);
		cJSON_AddStringToObject(po, "kind", p->kind);
		cJSON_AddStringToObject(po, "state", probe_state_name(p->state));
		if (p->reason[0])
			cJSON_AddStringToObject(po, "reason", p->reason);
		cJSON_AddBoolToObject(po, "loaded", p->loaded);
		if (!probes_prog_stats(d->probes, i, &cnt, &ns)) {
			cJSON_AddNumberToObject(po, "run_cnt", (double)cnt);
			cJSON_AddNumberToObject(po, "run_time_ns", (double)ns);
		}
		cJSON_AddItemToArray(probes, po);
	}

	lost = cJSON_AddObjectToObject(o, "lost");
	if (lost && !probes_drops(d->probes, drops)) {
		for (int i = 0; i < KP_DROP_MAX; i++) {
			if (!drop_names[i])
				continue;
			cJSON_AddNumberToObject(lost, drop_names[i],
						(double)drops[i]);
			total += drops[i];
		}
		cJSON_AddNumberToObject(lost, "total", (double)total);
	}
	spe = cJSON_AddObjectToObject(o, "spe_capture");
	if (spe) {
		cJSON_AddNumberToObject(spe, "chunks", (double)d->spe.stats.chunks);
		cJSON_AddNumberToObject(spe, "bytes", (double)d->spe.stats.bytes);
		cJSON_AddNumberToObject(spe, "malformed",
					(double)d->spe.stats.malformed);
		cJSON_AddNumberToObject(spe, "unattributed",
					(double)d->spe.stats.unattributed);
		cJSON_AddNumberToObject(spe, "streams_dropped",
					(double)d->spe.stats.streams_dropped);
		cJSON_AddNumberToObject(spe, "lost_bytes",
			(double)registry_total(&d->reg, KP_EV_SPE_LOST_BYTES));
	}
	service = cJSON_AddObjectToObject(o, "service");
	if (service) {
		cJSON_AddStringToObject(service, "metrics_listen",
					d->metrics ? metrics_address(d->metrics)
						   : "");
		cJSON_AddStringToObject(service, "config",
					d->cfg && d->cfg->path ? d->cfg->path
							       : "");
		cJSON_AddNumberToObject(service, "reloads_ok",
					(double)d->reloads_ok);
		cJSON_AddNumberToObject(service, "reloads_failed",
					(double)d->reloads_failed);
		cJSON_AddBoolToObject(service, "last_reload_ok",
				      d->last_reload_ok);
	}
	reg = cJSON_AddObjectToObject(o, "registry");
	if (reg) {
		cJSON_AddNumberToObject(reg, "vms", (double)d->reg.nvms);
		cJSON_AddNumberToObject(reg, "max_vms", (double)d->reg.max_vms);
		cJSON_AddNumberToObject(reg, "vms_not_tracked",
					(double)d->reg.vms_dropped);
		cJSON_AddNumberToObject(reg, "max_counters",
					probes_max_counters(d->probes));
		cJSON_AddNumberToObject(reg, "keys_deleted",
					(double)d->keys_deleted);
		cJSON_AddNumberToObject(reg, "async_pf_completed_unattributed",
			(double)d->reg.unattributed[KP_EV_APF_UNATTRIBUTED]);
	}
	return o;
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

/* Bind the API socket; refuses to steal the socket of a live daemon. */
static int open_socket(const struct daemon_opts *o, int *ret_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)], *slash;
	mode_t old;
	int fd, r;

	if (strlen(o->socket_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, o->socket_path);
	strcpy(dir, o->socket_path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -EADDRINUSE;
	}
	unlink(o->socket_path);
	/* No window in which the socket is wider open than asked. */
	old = umask(0777 & ~o->socket_mode);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r || chmod(o->socket_path, o->socket_mode) ||
	    listen(fd, 64)) {
		r = -errno;
		close(fd);
		return r;
	}
	if (o->socket_group && *o->socket_group) {
		struct group *g = getgrnam(o->socket_group);

		if (g && chown(o->socket_path, (uid_t)-1, g->gr_gid))
			log_warn("chgrp %s %s: %s", o->socket_group,
				 o->socket_path, strerror(errno));
	}
	*ret_fd = fd;
	return 0;
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

	if (bpf_map_get_next_key(probes_counters_fd(d->probes), NULL, &k) &&
	    errno == EPERM)
		return -EPERM;
	for (size_t i = 0; i < probes_count(d->probes); i++)
		if (probes_get(d->probes, i)->state == PROBE_ATTACHED)
			return probes_prog_stats(d->probes, i, &cnt, &ns) ==
					       -EPERM ? -EPERM : 0;
	return 0;
}

/* Event sources of the loop owned by the top level. */
struct sources {
	struct daemon *d;
	int sfd, tfd, pfd, wfd;
	struct ring_buffer *rb;
	int argc;		/* the command line, applied again on reload */
	char **argv;
};

static int arm_timer(int fd, uint32_t ms);

static double unix_time(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void notify_ready(struct daemon *d, int attached)
{
	sd_notifyf(0, "READY=1\nSTATUS=%d of %zu probes attached; API on %s; "
		   "metrics %s", attached, probes_count(d->probes),
		   d->opts.socket_path, d->metrics && *metrics_address(d->metrics)
		   ? metrics_address(d->metrics) : "off");
}

static int count_attached(const struct daemon *d)
{
	int n = 0;

	for (size_t i = 0; i < probes_count(d->probes); i++)
		n += probes_get(d->probes, i)->state == PROBE_ATTACHED;
	return n;
}

/* Put configuration @c in force (at start and on reload). */
static void configure(struct daemon *d, struct config *c)
{
	d->cfg = c;
	d->opts = c->d;
	registry_set_limits(&d->reg, c->d.max_vms, c->d.grace_ms);
	log_max_level = c->d.verbosity > 0 ? LOG_DEBUG : LOG_INFO;
}

/*
 * SIGHUP: read the configuration again.  Keys that need a restart keep
 * their running value (with a warning); on any error the running
 * configuration stays in force whole.
 */
static void reload(struct sources *s)
{
	struct daemon *d = s->d;
	struct config *old = d->cfg, *n = calloc(1, sizeof(*n));
	struct config_error err = {};
	const char *names[32];
	size_t nrev;
	int r, mfd = -1;

	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
		   (unsigned long long)mono_ms() * 1000ull);
	if (!n) {
		log_err("reload: out of memory; keeping the running "
			"configuration");
		goto fail;
	}
	r = options_load(s->argc, s->argv, n, &err);
	if (r < 0) {
		if (err.file[0] && err.line)
			log_err("%s:%u: %s; keeping the running configuration",
				err.file, err.line, err.msg);
		else if (err.file[0])
			log_err("%s: %s; keeping the running configuration",
				err.file, err.msg);
		goto fail;
	}
	nrev = config_keep_restart_only(old, n, names, 32);
	for (size_t i = 0; i < nrev && i < 32; i++)
		log_warn("%s%s%s: changed, takes effect at the next start",
			 n->path ? n->path : "", n->path ? ": " : "", names[i]);
	if (strcmp(old->s.metrics_listen, n->s.metrics_listen)) {
		r = metrics_listen(n->s.metrics_listen, &mfd);
		if (r < 0) {
			unsigned int line = config_key_line(n, "metrics-listen");

			if (line)
				log_err("%s:%u: metrics-listen %s: %s; keeping "
					"the running configuration", n->path,
					line, n->s.metrics_listen,
					strerror(-r));
			else
				log_err("--metrics-listen %s: %s; keeping the "
					"running configuration",
					n->s.metrics_listen, strerror(-r));
			goto fail;
		}
		if (d->metrics)
			r = metrics_rebind(d->metrics, mfd);
		else if (mfd >= 0)
			r = metrics_start(d, mfd, &d->metrics);
		if (r < 0)
			log_err("metrics on %s: %s", n->s.metrics_listen,
				strerror(-r));
	}
	configure(d, n);
	arm_timer(s->tfd, n->d.interval_ms);
	arm_timer(s->pfd, n->d.spe_poll_ms);
	config_free(old);
	free(old);
	d->reloads_ok++;
	d->last_reload_ok = true;
	d->last_reload_ok_time = unix_time();
	log_info("configuration reloaded%s%s", n->path ? " from " : "",
		 n->path ? n->path : "");
	notify_ready(d, count_attached(d));
	return;
fail:
	if (n) {
		config_free(n);
		free(n);
	}
	d->reloads_failed++;
	d->last_reload_ok = false;
	notify_ready(d, count_attached(d));
}

static int on_signal(void *ctx)
{
	struct sources *s = ctx;
	struct signalfd_siginfo si;

	if (read(s->sfd, &si, sizeof(si)) != sizeof(si))
		return 0;
	if (si.ssi_signo == SIGHUP) {
		log_info("SIGHUP: reloading the configuration, harvesting");
		reload(s);
		daemon_harvest(s->d);
		return 0;
	}
	log_info("signal %d: exiting", si.ssi_signo);
	sd_notify(0, "STOPPING=1");
	return 1;
}

/* systemd watchdog: the loop is alive if it gets here. */
static int on_watchdog(void *ctx)
{
	struct sources *s = ctx;
	uint64_t ticks;

	if (read(s->wfd, &ticks, sizeof(ticks)) >= 0)
		sd_notify(0, "WATCHDOG=1");
	return 0;
}

static int on_timer(void *ctx)
{
	struct sources *s = ctx;
	uint64_t ticks;
	int r;

	if (read(s->tfd, &ticks, sizeof(ticks)) < 0)
		return 0;
	r = daemon_harvest(s->d);
	if (r < 0)
		log_warn("harvest: %s", strerror(-r));
	api_run(s->d->api);	/* connection timeouts */
	metrics_run(s->d->metrics);
	return 0;
}

static int on_api(void *ctx)
{
	struct sources *s = ctx;

	api_run(s->d->api);
	return 0;
}

static int on_ring(void *ctx)
{
	struct sources *s = ctx;

	ring_buffer__consume(s->rb);
	return 0;
}

/* SPE chunks are submitted without wakeup below a size threshold. */
static int on_poll_timer(void *ctx)
{
	struct sources *s = ctx;
	uint64_t ticks;

	if (read(s->pfd, &ticks, sizeof(ticks)) >= 0)
		ring_buffer__consume(s->rb);
	return 0;
}

static int arm_timer(int fd, uint32_t ms)
{
	struct itimerspec its = {};

	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
	its.it_interval = its.it_value;
	return timerfd_settime(fd, 0, &its, NULL) ? -errno : 0;
}

/* Close to the end of the start: no CAP_SYS_ADMIN past this point. */
static int limit_privileges(const struct daemon *d)
{
	int r;

	if (!d->opts.drop_privileges)
		return 0;
	r = privs_limit();
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
	r = privs_drop(d->cfg->s.user, bpf_access_probe, d, &pr);
	if (r < 0) {
		log_err("dropping privileges: %s", strerror(-r));
		return r;
	}
	if (pr.user_missing)
		log_warn("user %s does not exist: staying uid 0, without "
			 "capabilities", d->cfg->s.user);
	log_info("running as uid %u gid %u, capabilities: %s",
		 (unsigned)pr.uid, (unsigned)pr.gid,
		 pr.kept_bpf ? "cap_bpf (this kernel checks it on map access)"
			     : "none");
	return 0;
}

int main(int argc, char **argv)
{
	struct daemon d = { .bpf_stats_fd = -1 };
	struct probe_opts po = {};
	struct ring_buffer *rb = NULL;
	struct sources src = { .d = &d, .pfd = -1, .wfd = -1, .argc = argc,
			       .argv = argv };
	struct config_error err = {};
	int lfd = -1, mfd = -1, sfd = -1, tfd = -1, r, attached = 0;
	uint64_t wd_usec = 0;
	sigset_t mask;

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
	configure(&d, d.cfg);
	d.last_reload_ok = true;
	d.last_reload_ok_time = unix_time();
	libbpf_set_print(libbpf_log);
	d.started_ms = mono_ms();
	if (d.cfg->path)
		log_info("configuration from %s", d.cfg->path);

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	r = open_socket(&d.opts, &lfd);
	if (r < 0) {
		log_err("socket %s: %s%s", d.opts.socket_path, strerror(-r),
			r == -EADDRINUSE ? " (another kvmprofd serves it)" : "");
		return 1;
	}
	/* Bound before privileges go: a port below 1024 works too. */
	r = metrics_listen(d.cfg->s.metrics_listen, &mfd);
	if (r < 0) {
		log_err("metrics-listen %s: %s", d.cfg->s.metrics_listen,
			strerror(-r));
		goto out;
	}

	if (d.opts.bpf_stats) {
		d.bpf_stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (d.bpf_stats_fd < 0)
			log_warn("kernel BPF stats unavailable: %s",
				 strerror(errno));
	}
	po.tracefs = d.opts.tracefs ? d.opts.tracefs : find_tracefs();
	r = limit_privileges(&d);
	if (r < 0)
		goto out;
	po.max_counters = d.opts.max_counters;
	po.disabled = d.opts.disabled;
	po.load_unavailable = d.opts.load_unavailable;
	po.count_cache = d.opts.count_cache;
	po.spe_ring_bytes = d.opts.spe_ring_kib * 1024u;
	po.spe_wakeup_bytes = (uint64_t)d.opts.spe_wakeup_kib * 1024u;
	r = probes_open_load_attach(&po, &d.probes);
	if (r < 0) {
		log_err("loading BPF probes: %s", strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < probes_count(d.probes); i++) {
		const struct probe *p = probes_get(d.probes, i);

		if (p->state == PROBE_ATTACHED) {
			attached++;
			log_debug("probe %s: attached", p->name);
		} else {
			log_info("probe %s: %s", p->name, p->reason);
		}
	}
	log_info("%d of %zu probes attached; kvm_exit layout %s; count cache %s",
		 attached, probes_count(d.probes),
		 kp_exit_layout_name(probes_exit_layout(d.probes)),
		 probes_count_cache(d.probes));

	r = drop_privileges(&d);
	if (r < 0)
		goto out;

	r = loop_new(&d.loop);
	if (r < 0) {
		log_err("event loop: %s", strerror(-r));
		goto out;
	}
	spe_capture_init(&d.spe, &d.reg,
			 (uint64_t)d.opts.spe_raw_mib << 20);
	d.spe.midr = d.opts.spe_midr;
	d.spe.top_pcs = d.opts.spe_top_pcs;
	d.spe.symbols_for = guest_symbols_for;
	d.spe.symbols_ctx = &d;
	rb = ring_buffer__new(probes_events_fd(d.probes), on_vm_event, &d, NULL);
	if (!rb || ring_buffer__add(rb, probes_spe_fd(d.probes),
				    spe_capture_chunk, &d.spe)) {
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
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (sfd < 0 || tfd < 0) {
		r = -errno;
		log_err("signalfd/timerfd: %s", strerror(-r));
		goto out;
	}
	src.pfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (src.pfd < 0 || arm_timer(tfd, d.opts.interval_ms) ||
	    arm_timer(src.pfd, d.opts.spe_poll_ms)) {
		r = -errno;
		log_err("timers: %s", strerror(-r));
		goto out;
	}
	src.sfd = sfd;
	src.tfd = tfd;
	src.rb = rb;
	r = loop_add(d.loop, sfd, on_signal, &src);
	if (!r)
		r = loop_add(d.loop, tfd, on_timer, &src);
	if (!r)
		r = loop_add(d.loop, api_epoll_fd(d.api), on_api, &src);
	if (!r)
		r = loop_add(d.loop, ring_buffer__epoll_fd(rb), on_ring, &src);
	if (!r)
		r = loop_add(d.loop, src.pfd, on_poll_timer, &src);
	/* systemd watchdog (WatchdogSec=): ping at half the period */
	if (!r && sd_watchdog_enabled(0, &wd_usec) > 0) {
		uint64_t ms = wd_usec / 2000 ? wd_usec / 2000 : 1;

		src.wfd = timerfd_create(CLOCK_MONOTONIC,
					 TFD_CLOEXEC | TFD_NONBLOCK);
		r = src.wfd < 0 ? -errno :
		    arm_timer(src.wfd, ms > UINT32_MAX ? UINT32_MAX :
				       (uint32_t)ms);
		if (!r)
			r = loop_add(d.loop, src.wfd, on_watchdog, &src);
	}
	if (r < 0) {
		log_err("event loop: %s", strerror(-r));
		goto out;
	}
	log_info("serving on %s; metrics on %s", d.opts.socket_path,
		 d.metrics ? metrics_address(d.metrics) : "off");
	notify_ready(&d, attached);

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
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	if (src.pfd >= 0)
		close(src.pfd);
	if (src.wfd >= 0)
		close(src.wfd);
	ring_buffer__free(rb);
	loop_free(d.loop);
	registry_fini(&d.reg);
	probes_destroy(d.probes);
	if (d.bpf_stats_fd >= 0)
		close(d.bpf_stats_fd);
	config_free(d.cfg);
	free(d.cfg);
	return r < 0 ? 1 : 0;
}
