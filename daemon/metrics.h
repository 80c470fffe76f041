/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Prometheus metrics: the text exposition format 0.0.4 rendered from the VM
 * registry and the daemon's own state (metrics.c), served over HTTP on a
 * TCP listener, loopback by default (metrics_http.c).
 */
#ifndef KVMPROFD_METRICS_H
#define KVMPROFD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kvmprof/abi.h>

struct registry;
struct daemon;
struct spe_capture_stats;
struct kvmstats;

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* One probe as the metrics see it. */
struct metrics_probe {
	const char *name;	/* tracepoint, e.g. "kvm_pio" */
	const char *kind;	/* "raw_tp", "tracepoint" */
	const char *state;	/* attached, unavailable, disabled, failed */
	const char *reason;	/* why not attached; "" when attached */
	bool have_stats;	/* run_cnt/run_time_ns read */
	uint64_t run_cnt;
	uint64_t run_time_ns;
	bool exit_probe; /* fires on every guest exit (kvm_exit, ...) */
	bool silent;	 /* ... but attached and silent (harvest.h) */
};

/* Everything the renderer reads: the daemon's status snapshot (status.c,
 * also behind /v1/status) or filled by hand (tests). */
struct metrics_view {
	const struct registry *reg;
	int exit_layout;			/* enum kp_exit_layout */
	const struct metrics_probe *probes;
	size_t nprobes;
	const uint64_t *drops;			/* [KP_DROP_MAX] or NULL */
	const struct spe_capture_stats *spe;	/* or NULL */
	struct kvmstats *ks;			/* KVM's statistics, or NULL */
	bool bpf;				/* BPF loaded (bpf = yes) */
	bool no_kvm_metrics;			/* kvm-stats-metrics = no */
	uint64_t harvests, harvest_errors, keys_deleted;
	uint32_t max_counters;
	bool bpf_stats;
	const char *version;
	const char *libbpf_version;
	double start_time;		/* process start, Unix seconds */
	double boot_time;		/* host boot, Unix seconds */
	uint64_t reloads_ok, reloads_failed;
	bool last_reload_ok;
	double last_reload_ok_time;	/* Unix seconds */
	/* /v1/status only */
	int pid;
	uint64_t uptime_ms;
	uint32_t interval_ms;
	uint64_t grace_ms;
	const char *count_cache;
	const char *sched; /* vCPU run time and delay: "on" / "off: why" */
	const char *irqfd; /* irqfd kworkers' events to their VM: the same */
	const char *metrics_listen;
	const char *config_path;
};

/*
 * Render @v into a malloc'ed buffer (*ret_buf, *ret_len, NUL-terminated).
 * -E2BIG if the text would exceed @max bytes, -ENOMEM.
 */
int metrics_render(const struct metrics_view *v, size_t max, char **ret_buf,
		   size_t *ret_len);

/* Names of all families (for docs and tests), NULL-terminated. */
const char *const *metrics_family_names(void);

/* --- HTTP listener (metrics_http.c) --- */
struct metrics;

/* Socket bound and listening on @listen ("ADDR:PORT"): before privileges
 * are dropped.  0 or -errno. */
int metrics_listen(const char *listen, int *ret_fd);
/* Serve /metrics on @fd (taken over) from @d's loop. */
int metrics_start(struct daemon *d, int fd, struct metrics **ret_m);
/* Swap the listening socket (@fd < 0: stop listening). */
int metrics_rebind(struct metrics *m, int fd);
/* The address actually bound ("127.0.0.1:19418"), "" when off. */
const char *metrics_address(const struct metrics *m);
void metrics_run(struct metrics *m);	/* timeouts; from the harvest timer */
void metrics_stop(struct metrics *m);

#endif
