// SPDX-License-Identifier: GPL-2.0-only
/*
 * The daemon's own event sources in its loop: signals (SIGHUP reloads the
 * configuration, SIGINT/SIGTERM stop), the harvest and SPE poll timers,
 * the systemd watchdog and readiness notification.  See service.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <systemd/sd-daemon.h>

#include <kvmprof/util.h>
#include "api.h"
#include "config.h"
#include "daemon.h"
#include "harvest.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "options.h"
#include "probes.h"
#include "service.h"

static int arm_timer(int fd, uint32_t ms);

static int count_attached(const struct daemon *d);

static void notify_ready(struct daemon *d, int attached)
{
	sd_notifyf(0,
		   "READY=1\nSTATUS=%d of %zu probes attached; API on %s; "
		   "metrics %s",
		   attached, probes_count(d->probes), d->opts.socket_path,
		   d->metrics && *metrics_address(d->metrics) ?
			   metrics_address(d->metrics) :
			   "off");
}

static int count_attached(const struct daemon *d)
{
	int n = 0;

	for (size_t i = 0; i < probes_count(d->probes); i++)
		n += probes_get(d->probes, i)->state == PROBE_ATTACHED;
	return n;
}

void service_configure(struct daemon *d, struct config *c)
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
static void reload(struct service *s)
{
	struct daemon *d = s->d;
	struct config *old = d->cfg, *n = calloc(1, sizeof(*n));
	struct config_error err = {};
	const char *names[32];
	size_t nrev;
	int r, mfd = -1;

	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
		   (unsigned long long)kp_mono_ms() * 1000ull);
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
			unsigned int line =
				config_key_line(n, "metrics-listen");

			if (line)
				log_err("%s:%u: metrics-listen %s: %s; keeping "
					"the running configuration",
					n->path, line, n->s.metrics_listen,
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
	service_configure(d, n);
	arm_timer(s->tfd, n->d.interval_ms);
	arm_timer(s->pfd, n->d.spe_poll_ms);
	config_free(old);
	free(old);
	d->reloads_ok++;
	d->last_reload_ok = true;
	d->last_reload_ok_time = kp_unix_s();
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
	struct service *s = ctx;
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
	struct service *s = ctx;
	uint64_t ticks;

	if (read(s->wfd, &ticks, sizeof(ticks)) >= 0)
		sd_notify(0, "WATCHDOG=1");
	return 0;
}

static int on_timer(void *ctx)
{
	struct service *s = ctx;
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
	struct service *s = ctx;

	api_run(s->d->api);
	return 0;
}

static int on_ring(void *ctx)
{
	struct service *s = ctx;

	ring_buffer__consume(s->rb);
	return 0;
}

/* SPE chunks are submitted without wakeup below a size threshold. */
static int on_poll_timer(void *ctx)
{
	struct service *s = ctx;
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

static void signal_mask(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGHUP);
}

void service_block_signals(void)
{
	sigset_t mask;

	signal_mask(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int new_timer(int *ret_fd, uint32_t ms)
{
	*ret_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	return *ret_fd < 0 ? -errno : arm_timer(*ret_fd, ms);
}

int service_start(struct service *s)
{
	struct daemon *d = s->d;
	uint64_t wd_usec = 0;
	sigset_t mask;
	int r;

	s->tfd = s->pfd = s->wfd = -1;
	signal_mask(&mask);
	s->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sfd < 0)
		return -errno;
	r = new_timer(&s->tfd, d->opts.interval_ms);
	if (!r)
		r = new_timer(&s->pfd, d->opts.spe_poll_ms);
	if (!r)
		r = loop_add(d->loop, s->sfd, on_signal, s);
	if (!r)
		r = loop_add(d->loop, s->tfd, on_timer, s);
	if (!r)
		r = loop_add(d->loop, api_epoll_fd(d->api), on_api, s);
	/* bpf = no: no ring buffers */
	if (!r && s->rb)
		r = loop_add(d->loop, ring_buffer__epoll_fd(s->rb), on_ring, s);
	if (!r && s->rb)
		r = loop_add(d->loop, s->pfd, on_poll_timer, s);
	/* systemd watchdog (WatchdogSec=): ping at half the period */
	if (!r && sd_watchdog_enabled(0, &wd_usec) > 0) {
		uint64_t ms = wd_usec / 2000 ? wd_usec / 2000 : 1;

		r = new_timer(&s->wfd,
			      ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms);
		if (!r)
			r = loop_add(d->loop, s->wfd, on_watchdog, s);
	}
	return r;
}

void service_ready(struct daemon *d)
{
	notify_ready(d, count_attached(d));
}

void service_stop(struct service *s)
{
	int *fds[] = { &s->sfd, &s->tfd, &s->pfd, &s->wfd };

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}
