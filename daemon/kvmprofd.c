// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmprofd: loads the kvmprof BPF probes, harvests their per-VM, per-vCPU
 * counters periodically into a VM registry, and serves them as JSON over
 * HTTP on a Unix socket.  One thread: epoll over signalfd, timerfd and the
 * HTTP server's epoll fd.  Only this file logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
#include <cap-ng.h>

#include <kvmprof/kvmnames.h>
#include <kvmprof/procfs.h>
#include <kvmprof/vmname.h>
#include "daemon.h"
#include "log.h"
#include "loop.h"

#ifndef KVMPROF_VERSION
#define KVMPROF_VERSION "0.1"
#endif
#define DEFAULT_SOCKET "/run/kvmprof/kvmprofd.sock"

static const struct daemon_opts default_opts = {
	.socket_path = DEFAULT_SOCKET,
	.socket_mode = 0660,
	.socket_group = "kvmprof",
	.tracefs = NULL,
	.interval_ms = 1000,
	.grace_ms = 30000,
	.max_vms = 256,
	.max_counters = 65536,
	.drop_privileges = true,
	.bpf_stats = true,
	.spe_ring_kib = 8192,
	.spe_wakeup_kib = 256,
	.spe_poll_ms = 100,
	.spe_raw_mib = 64,
};

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

static const char *state_name(enum probe_state s)
{
	switch (s) {
	case PROBE_ATTACHED:
		return "attached";
	case PROBE_UNAVAILABLE:
		return "unavailable";
	case PROBE_DISABLED:
		return "disabled";
	case PROBE_FAILED:
		return "failed";
	default:
		return "pending";
	}
}

cJSON *daemon_status(struct daemon *d)
{
	static const char *const drop_names[KP_DROP_MAX] = {
		[KP_DROP_COUNTS_FULL] = "counters_map_full",
		[KP_DROP_EXIT_TS_FULL] = "exit_timestamps_full",
		[KP_DROP_VM_EVENT] = "vm_announcements",
		[KP_DROP_APF_TRACK] = "async_pf_tracking",
	};
	cJSON *o = cJSON_CreateObject(), *probes, *lost, *reg, *spe;
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
		cJSON_AddStringToObject(po, "state", state_name(p->state));
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
		if (!access(p, F_OK))
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
 * After load and attach, nothing needs more than CAP_BPF (map reads and
 * deletes on kernels that still check it on fd-based map ops).  Drop the
 * rest, the bounding set, and forbid regaining privileges.
 */
static int drop_privileges(void)
{
	capng_clear(CAPNG_SELECT_BOTH);
#ifdef CAP_BPF
	capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_BPF);
#else
	capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, 39);
#endif
	if (capng_apply(CAPNG_SELECT_BOTH))
		return -EPERM;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: kvmprofd [OPTIONS]\n"
"Host-side KVM profiler daemon: BPF counters per VM and vCPU, served as\n"
"JSON over HTTP on a Unix socket.\n"
"\n"
"  -s, --socket PATH          API socket (default " DEFAULT_SOCKET ")\n"
"      --socket-mode MODE     socket permissions, octal (default 0660)\n"
"      --socket-group NAME    socket group when it exists (default kvmprof)\n"
"  -i, --interval-ms N        harvest period (default 1000)\n"
"  -g, --grace-ms N           keep exited VMs this long (default 30000)\n"
"      --max-vms N            VMs tracked at most (default 256)\n"
"      --max-counters N       BPF counter entries (default 65536)\n"
"      --disable-probe NAME   do not load the probe on tracepoint NAME\n"
"      --tracefs DIR          tracefs mount (default: found or mounted)\n"
"      --no-drop-privileges   keep all capabilities after attach\n"
"      --no-bpf-stats         do not enable kernel BPF run-time stats\n"
"      --load-unavailable     load (not attach) probes whose tracepoint is\n"
"                             missing, for BPF_PROG_TEST_RUN (testing)\n"
"      --spe-ring-kib N       SPE capture ring buffer, power of 2 >= 4\n"
"                             (default 8192)\n"
"      --spe-wakeup-kib N     wake kvmprofd past this much SPE data\n"
"                             (default 256)\n"
"      --spe-poll-ms N        and read SPE data at least this often\n"
"                             (default 100)\n"
"      --spe-raw-mib N        raw SPE recording window per VM (default 64)\n"
"  -v, --verbose              more logging (twice: libbpf debug)\n"
"  -h, --help                 this text\n"
"      --version              print the version\n");
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || !*s || *end || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct daemon_opts *o)
{
	enum { O_MODE = 256, O_GROUP, O_MAXVMS, O_MAXCNT, O_DISABLE, O_TRACEFS,
	       O_NODROP, O_NOSTATS, O_VERSION, O_LOADALL, O_SPERING,
	       O_SPEWAKE, O_SPEPOLL, O_SPERAW };
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "socket-mode", required_argument, NULL, O_MODE },
		{ "socket-group", required_argument, NULL, O_GROUP },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "grace-ms", required_argument, NULL, 'g' },
		{ "max-vms", required_argument, NULL, O_MAXVMS },
		{ "max-counters", required_argument, NULL, O_MAXCNT },
		{ "disable-probe", required_argument, NULL, O_DISABLE },
		{ "tracefs", required_argument, NULL, O_TRACEFS },
		{ "no-drop-privileges", no_argument, NULL, O_NODROP },
		{ "no-bpf-stats", no_argument, NULL, O_NOSTATS },
		{ "load-unavailable", no_argument, NULL, O_LOADALL },
		{ "spe-ring-kib", required_argument, NULL, O_SPERING },
		{ "spe-wakeup-kib", required_argument, NULL, O_SPEWAKE },
		{ "spe-poll-ms", required_argument, NULL, O_SPEPOLL },
		{ "spe-raw-mib", required_argument, NULL, O_SPERAW },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{}
	};
	size_t ndis = 0;
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, "s:i:g:vh", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket_path = optarg;
			break;
		case O_MODE: {
			char *end;
			long m = strtol(optarg, &end, 8);

			if (*end || m < 0 || m > 0777 || (m & 0007)) {
				fprintf(stderr, "kvmprofd: --socket-mode %s: "
					"octal, and not writable by others\n",
					optarg);
				return -EINVAL;
			}
			o->socket_mode = (mode_t)m;
			break;
		}
		case O_GROUP:
			o->socket_group = optarg;
			break;
		case 'i':
			if (parse_u64(optarg, 10, 3600000, &v))
				goto bad;
			o->interval_ms = (uint32_t)v;
			break;
		case 'g':
			if (parse_u64(optarg, 0, 86400000, &v))
				goto bad;
			o->grace_ms = v;
			break;
		case O_MAXVMS:
			if (parse_u64(optarg, 1, 65536, &v))
				goto bad;
			o->max_vms = (uint32_t)v;
			break;
		case O_MAXCNT:
			if (parse_u64(optarg, 16, 1u << 24, &v))
				goto bad;
			o->max_counters = (uint32_t)v;
			break;
		case O_DISABLE:
			if (ndis >= KP_MAX_LIST) {
				fprintf(stderr, "kvmprofd: too many "
					"--disable-probe\n");
				return -EINVAL;
			}
			o->disabled[ndis++] = optarg;
			break;
		case O_TRACEFS:
			o->tracefs = optarg;
			break;
		case O_NODROP:
			o->drop_privileges = false;
			break;
		case O_NOSTATS:
			o->bpf_stats = false;
			break;
		case O_LOADALL:
			o->load_unavailable = true;
			break;
		case O_SPERING:
			/* a power of two of pages, as BPF ring buffers need */
			if (parse_u64(optarg, 4, 1u << 20, &v) || (v & (v - 1)))
				goto bad;
			o->spe_ring_kib = (uint32_t)v;
			break;
		case O_SPEWAKE:
			if (parse_u64(optarg, 1, 1u << 20, &v))
				goto bad;
			o->spe_wakeup_kib = (uint32_t)v;
			break;
		case O_SPEPOLL:
			if (parse_u64(optarg, 1, 10000, &v))
				goto bad;
			o->spe_poll_ms = (uint32_t)v;
			break;
		case O_SPERAW:
			if (parse_u64(optarg, 1, 4096, &v))
				goto bad;
			o->spe_raw_mib = (uint32_t)v;
			break;
		case 'v':
			o->verbosity++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case O_VERSION:
			printf("kvmprofd %s\n", KVMPROF_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
		continue;
bad:
		fprintf(stderr, "kvmprofd: bad value '%s' for an option "
			"(see --help for ranges)\n", optarg);
		return -EINVAL;
	}
	if (optind < argc) {
		fprintf(stderr, "kvmprofd: unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* Event sources of the loop owned by the top level. */
struct sources {
	struct daemon *d;
	int sfd, tfd, pfd;
	struct ring_buffer *rb;
};

static int on_signal(void *ctx)
{
	struct sources *s = ctx;
	struct signalfd_siginfo si;

	if (read(s->sfd, &si, sizeof(si)) != sizeof(si))
		return 0;
	if (si.ssi_signo == SIGHUP) {
		log_info("SIGHUP: harvesting now");
		daemon_harvest(s->d);
		return 0;
	}
	log_info("signal %d: exiting", si.ssi_signo);
	return 1;
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

int main(int argc, char **argv)
{
	struct daemon d = { .opts = default_opts, .bpf_stats_fd = -1 };
	struct probe_opts po = {};
	struct ring_buffer *rb = NULL;
	struct sources src = { .d = &d, .pfd = -1 };
	int lfd = -1, sfd = -1, tfd = -1, r, attached = 0;
	sigset_t mask;

	if (parse_args(argc, argv, &d.opts))
		return 2;
	log_max_level = d.opts.verbosity > 0 ? LOG_DEBUG : LOG_INFO;
	libbpf_set_print(libbpf_log);
	d.started_ms = mono_ms();

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

	if (d.opts.bpf_stats) {
		d.bpf_stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (d.bpf_stats_fd < 0)
			log_warn("kernel BPF stats unavailable: %s",
				 strerror(errno));
	}
	po.tracefs = d.opts.tracefs ? d.opts.tracefs : find_tracefs();
	po.max_counters = d.opts.max_counters;
	po.disabled = d.opts.disabled;
	po.load_unavailable = d.opts.load_unavailable;
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
	log_info("%d of %zu probes attached; kvm_exit layout %s", attached,
		 probes_count(d.probes),
		 kp_exit_layout_name(probes_exit_layout(d.probes)));

	if (d.opts.drop_privileges) {
		r = drop_privileges();
		if (r < 0) {
			log_err("dropping privileges: %s", strerror(-r));
			goto out;
		}
	}

	registry_init(&d.reg, d.opts.max_vms, d.opts.grace_ms,
		      &registry_proc_ops);
	r = loop_new(&d.loop);
	if (r < 0) {
		log_err("event loop: %s", strerror(-r));
		goto out;
	}
	spe_capture_init(&d.spe, &d.reg,
			 (uint64_t)d.opts.spe_raw_mib << 20);
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
	if (r < 0) {
		log_err("event loop: %s", strerror(-r));
		goto out;
	}
	log_info("serving on %s", d.opts.socket_path);

	r = loop_run(d.loop);
	if (r < 0)
		log_err("event loop: %s", strerror(-r));
out:
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
	ring_buffer__free(rb);
	loop_free(d.loop);
	registry_fini(&d.reg);
	probes_destroy(d.probes);
	if (d.bpf_stats_fd >= 0)
		close(d.bpf_stats_fd);
	return r < 0 ? 1 : 0;
}
