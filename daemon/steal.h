/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Who a vCPU waited for: the KP_EV_STOLEN_BY counters (abi.h) of each vCPU,
 * bounded, with the host threads they name.
 *
 * Bounds: per vCPU at most STEAL_KEEP host threads are kept (in the BPF
 * map and the registry, plus those new since the last harvest); at each
 * harvest the smaller ones beyond that are deleted, their time staying in
 * the vCPU's delay as "other".  (8 for 8192 vCPUs: 64k of the 256k
 * entries of the BPF counter map at the defaults.)  The API
 * shows the STEAL_TOP largest and "other" (the delay not shown).  Thread
 * names come from /proc at the harvest that first sees them, kept in a
 * table of STEAL_NAMES entries (a reused thread id is named afresh after
 * STEAL_NAME_TTL_MS).
 */
#ifndef KVMPROFD_STEAL_H
#define KVMPROFD_STEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "registry.h"

#define STEAL_KEEP 8
#define STEAL_TOP 5
#define STEAL_NAMES 1024
#define STEAL_NAME_TTL_MS 10000

/*
 * After registry_update(): the KP_EV_STOLEN_BY counters of every vCPU
 * beyond its STEAL_KEEP largest leave vm->counts and are returned in
 * *ret (malloc'ed, *ret_n entries) for deletion from the BPF map; the
 * threads kept are named.  0 or -ENOMEM.
 */
int steal_prune(struct registry *r, uint64_t now_ms, struct kp_count **ret,
		size_t *ret_n);

/* Into @sched (a vCPU's "sched" object, with delay_ns): "stolen_by", the
 * top threads, and "stolen_other_ns".  false on ENOMEM. */
bool steal_render(const struct vm *vm, int32_t vcpu, cJSON *sched);

/* Forget every name (tests). */
void steal_reset(void);

#endif
