/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One row per counted event (enum kp_event, abi.h): how its counters are
 * shown in the JSON API, in the Prometheus metrics and by the CLI.  The
 * daemon's JSON renderer (daemon/render.c), its metrics (daemon/metrics.c)
 * and the CLI's views read this table; adding a counted event is one row
 * in lib/events.c plus its BPF program (docs/probes.md, "Adding an event").
 */
#ifndef KVMPROF_EVENTS_H
#define KVMPROF_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KP_EV_LABEL_MAX 32

/* Label values of one counter: one per label name of its row. */
struct kp_ev_labels {
	char v[2][KP_EV_LABEL_MAX];
};

/* sub-key -> label values; @layout: enum kp_exit_layout.  -1: skip it. */
typedef int (*kp_ev_decode_fn)(uint32_t sub, int layout,
			       struct kp_ev_labels *ret);

struct kp_event_desc {
	uint32_t event;		/* enum kp_event */
	bool vm_scope;		/* counted outside vCPU threads (per VM) */
	bool hist;		/* log2-of-ns histogram, sub = bucket */
	bool ns;		/* value in ns (Prometheus: in seconds) */
	/*
	 * JSON: in the vCPU's object (vm_level's for VM events), object
	 * .section ("" for the vCPU object itself).  Counters: .total
	 * (if set) sums every sub; .by (if set, "" for the section itself)
	 * is an object keyed by the first label; with two labels it holds
	 * objects keyed by the second, and the section sums the second.
	 * .values are shown as 0 before anything is counted.  Histograms:
	 * .by is the array; their sums (KP_EV_LAT_SUM) go to
	 * .sum_section.sum_key.
	 */
	const char *section;
	const char *total;
	const char *by;
	const char *const *values;
	const char *sum_section, *sum_key;
	kp_ev_decode_fn decode;
	/*
	 * Prometheus: the family (rows naming the same family share it), its
	 * help, the label names, the label of the series past the per-VM
	 * limit.  Without a decoder the one label's value is .value, else
	 * .total.  .prom_decode: only where Prometheus names the value
	 * differently (sysreg: S3_0_C1_C0_0 for the encoding 0x...).
	 */
	const char *family, *help;
	const char *labels[2];
	const char *value;
	const char *overflow;
	kp_ev_decode_fn prom_decode;
};

extern const struct kp_event_desc kp_events[];
extern const size_t kp_events_nr;

/* The row of @event, or NULL. */
const struct kp_event_desc *kp_event(uint32_t event);

/* The label values of a counter of @d's event: how many, or -1 to skip. */
int kp_event_labels(const struct kp_event_desc *d, uint32_t sub, int layout,
		    bool prom, struct kp_ev_labels *ret);

/* enum kp_drop (abi.h) as the API and the metrics name the cause. */
extern const char *const kp_drop_names[];

#endif
