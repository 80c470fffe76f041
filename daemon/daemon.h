/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMPROFD_DAEMON_H
#define KVMPROFD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "kvmstats.h"
#include "registry.h"
#include "spe_capture.h"

struct api;
struct config;
struct loop;
struct metrics;
struct probes;

#define KP_MAX_LIST 32

struct daemon_opts {
	const char *socket_path;
	mode_t socket_mode;
	const char *socket_group;	/* chgrp the socket when it exists */
	const char *tracefs;
	uint32_t api_max_conns;		/* API connections at most */
	uint32_t api_max_conns_per_uid; /* per client uid (SO_PEERCRED) */
	uint32_t api_idle_timeout_s;
	uint32_t interval_ms;
	uint64_t grace_ms;
	uint32_t max_vms;
	uint32_t max_counters;
	const char *disabled[KP_MAX_LIST + 1];
	bool drop_privileges;
	bool load_unavailable;
	uint32_t spe_ring_kib;		/* BPF ring buffer for SPE chunks */
	uint32_t spe_wakeup_kib;	/* wake the consumer past this */
	uint32_t spe_poll_ms;		/* and consume at least this often */
	uint32_t spe_raw_mib;		/* raw recording window per VM */
	uint64_t spe_midr;		/* guests' CPU (SPE data sources) */
	uint32_t spe_top_pcs;		/* K of the per-VM top-PC sketch */
	bool bpf_stats;
	bool count_cache;		/* per-thread BPF count cache */
	bool bpf;			/* no: serve KVM's statistics only */
	bool kvm_stats;			/* KVM's binary stats (kvmstats.h) */
	bool kvm_stats_metrics;		/* ... in /metrics too */
	int verbosity;
};

struct daemon {
	struct daemon_opts opts;
	struct probes *probes;
	struct registry reg;
	uint64_t started_ms;
	uint64_t harvests;
	uint64_t harvest_errors;
	uint64_t keys_deleted;
	int bpf_stats_fd;
	struct api *api;
	struct loop *loop;	/* modules add their fds here */
	struct spe_capture spe;
	struct kvmstats ks;
	/* service (config.c, metrics*.c): configuration in force, reloads */
	struct config *cfg;
	struct metrics *metrics;
	uint64_t reloads_ok, reloads_failed;
	bool last_reload_ok;
	double last_reload_ok_time;	/* Unix seconds */
};

#endif
