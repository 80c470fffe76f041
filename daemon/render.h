/* SPDX-License-Identifier: GPL-2.0-only */
/* Registry and probe state as JSON (cJSON).  NULL on allocation failure. */
#ifndef KVMPROFD_RENDER_H
#define KVMPROFD_RENDER_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "registry.h"

struct daemon_state;

/* @exits_silent: kvm_exit is attached but silent (registry.h): "exits" is
 * null with "exits_state" "silent", not 0. */
cJSON *render_vm_summary(const struct vm *vm, uint64_t now_ms,
			 bool exits_silent);
struct spe_capture;
cJSON *render_vm(const struct vm *vm, int exit_layout, uint64_t now_ms,
		 struct spe_capture *spe, bool exits_silent);
cJSON *render_vms(const struct registry *r, uint64_t now_ms);

/* Why a probe's run_cnt/run_time_ns are null in GET /v1/status. */
#define RENDER_BPF_STATS_OFF \
	"off (kernel.bpf_stats_enabled=0; --bpf-stats turns it on)"
/* Why a probe is "silent" in GET /v1/status. */
#define RENDER_PROBE_SILENT                                                 \
	"attached, but fires on no guest exit while other KVM events show " \
	"them (this KVM does not emit it, e.g. PVM)"
struct metrics_probe;
/* A probe's BPF run count and time into @po: numbers when kernel BPF stats
 * are on (@bpf_stats), JSON null when off (0 would read as "no events"),
 * absent when they could not be read. */
void render_probe_stats(cJSON *po, const struct metrics_probe *p,
			bool bpf_stats);

#endif
