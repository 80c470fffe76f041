/* SPDX-License-Identifier: GPL-2.0-only */
/* BPF probe lifecycle: open -> autoload per available tracepoint -> load ->
 * attach each -> report.  A missing tracepoint is "unavailable", never
 * fatal. */
#ifndef KVMPROFD_PROBES_H
#define KVMPROFD_PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kvmprof/abi.h>

enum probe_state {
	PROBE_PENDING,		/* not yet loaded */
	PROBE_DISABLED,		/* turned off by configuration */
	PROBE_UNAVAILABLE,	/* the tracepoint does not exist here */
	PROBE_FAILED,		/* exists, but load or attach failed */
	PROBE_ATTACHED,
};

struct probe {
	const char *name;	/* tracepoint name, e.g. "kvm_pio" */
	const char *prog;	/* BPF program name */
	const char *kind;	/* "raw_tp" or "tracepoint" */
	/* program attached instead where the kvm_exit layout is arm64's
	 * (its raw arguments have what the record has), or NULL */
	const char *arm64_prog;
	const char *arm64_kind;
	enum probe_state state;
	int err;		/* -errno of the failure, when FAILED */
	char reason[160];	/* why not attached, human readable */
	bool loaded;		/* program is in the kernel */
	struct bpf_link *link;
};

struct probe_opts {
	const char *tracefs;		/* where events/ lives */
	uint32_t max_counters;		/* kp_counts entries */
	const char *const *disabled;	/* tracepoint names, NULL-terminated */
	/* Load (not attach) programs whose tracepoint is missing, so that
	 * BPF_PROG_TEST_RUN can drive them (testing the patched-kernel
	 * probes on a stock kernel). */
	bool load_unavailable;
	/* Count in a per-thread cache flushed at sched-out (attaches a
	 * program to sched_switch). */
	bool count_cache;
	uint32_t spe_ring_bytes;	/* power of 2, >= page size */
	uint64_t spe_wakeup_bytes;
	/* irqfd_inject()'s address (probes_find_irqfd(), with CAP_SYSLOG
	 * before privileges are limited), or 0 with -errno in irqfd_err */
	uint64_t irqfd_inject;
	int irqfd_err;
};

/* Fill @o->irqfd_inject/irqfd_err from /proc/kallsyms. */
void probes_find_irqfd(struct probe_opts *o);

struct probes;

int probes_open_load_attach(const struct probe_opts *opts,
			    struct probes **ret_p);
uint64_t probes_tc_max_age_jiffies(unsigned int ms);
void probes_destroy(struct probes *p);

size_t probes_count(const struct probes *p);
/* "attached", "unavailable", "disabled", "failed" or "pending" */
const char *probe_state_name(enum probe_state s);
const struct probe *probes_get(const struct probes *p, size_t i);
int probes_exit_layout(const struct probes *p);
/* "on", "off" or "off: <why>" */
const char *probes_count_cache(const struct probes *p);
/* "on", or "off: why": vCPU run time, run delay and who ran instead */
const char *probes_sched(const struct probes *p);
/* "on", or "off: why": events of irqfd kworkers counted for their VM */
const char *probes_irqfd(const struct probes *p);

/* Kernel BPF stats of a probe's program (0 when stats are off). */
int probes_prog_stats(const struct probes *p, size_t i, uint64_t *ret_cnt,
		      uint64_t *ret_ns);

/* Lost events per enum kp_drop, summed over CPUs. */
int probes_drops(const struct probes *p, uint64_t ret_drops[KP_DROP_MAX]);

struct kp_count {
	struct kp_key key;
	uint64_t value;		/* summed over CPUs */
};

/*
 * Snapshot of kp_counts into a malloc'ed array (*ret_arr, *ret_n).  The
 * caller frees it.  Returns 0 or -errno.
 */
int probes_snapshot(const struct probes *p, struct kp_count **ret_arr,
		    size_t *ret_n);
int probes_delete_keys(const struct probes *p, const struct kp_count *c,
		       size_t n);
uint32_t probes_max_counters(const struct probes *p);
/* Ring buffer of struct kp_vm_event; and forgetting a VM that is gone. */
int probes_events_fd(const struct probes *p);
int probes_spe_fd(const struct probes *p);
int probes_forget_vm(const struct probes *p, uint32_t tgid, uint64_t start_ns);
int probes_counters_fd(const struct probes *p);

#endif
