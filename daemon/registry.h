/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-VM registry: what the BPF counters say, grouped by VM (VMM process +
 * start time), with names resolved from the VMM.  VMs whose process is gone
 * are marked exited, their BPF keys handed back for deletion, and they are
 * dropped from the registry after the grace period.
 */
#ifndef KVMPROFD_REGISTRY_H
#define KVMPROFD_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kvmprof/vmname.h>
#include "probes.h"

struct vm_spe;
struct vm_ks;

struct vm {
	uint32_t pid;
	uint64_t start_ns;	/* leader start, ns since boot */
	char id[40];		/* "<pid>-<start ticks>": stable, unique */
	struct kp_vm_ident ident;
	bool exited;
	uint64_t first_seen_ms;
	uint64_t exited_ms;	/* monotonic ms when found gone */
	struct kp_count *counts;	/* sorted by (vcpu, event, sub) */
	size_t ncounts;
	struct vm_spe *spe;	/* guest SPE state (spe_capture.c), or NULL */
	struct vm_ks *ks;	/* KVM's statistics (kvmstats.c), or NULL */
};

/* Process access, injectable for tests. */
struct registry_ops {
	/* 1 alive, 0 gone, -errno unknown (treated as alive) */
	int (*alive)(uint32_t pid, uint64_t start_ns);
	void (*identify)(uint32_t pid, struct kp_vm_ident *ret_id);
};

struct registry {
	struct vm **vms;
	size_t nvms;
	size_t max_vms;
	uint64_t grace_ms;
	struct registry_ops ops;
	uint64_t vms_dropped;	/* VMs not tracked: max_vms reached */
	/* called for each VM as it leaves the registry (its other state, e.g.
	 * vm->spe, belongs to whoever set the hook); may be NULL */
	void (*on_vm_free)(void *arg, struct vm *vm);
	void *on_vm_free_arg;
	/* counters under tgid 0: events no VM could be found for */
	uint64_t unattributed[KP_EV_MAX];
	/* per event, the largest total a snapshot had (a VM's keys go when
	 * it exits): 0 means never counted since the daemon started */
	uint64_t seen_max[KP_EV_MAX];
	/* set by the daemon: kvm_exit is attached but silent
	 * (registry_silent), so a VM's 0 exits mean "not measured" */
	bool exits_silent;
};

/* Guest exits that made KVM events of other kinds (userspace exits, PIO,
 * MMIO) before a probe that fires on every exit counting none is called
 * silent rather than idle. */
#define REGISTRY_SILENT_MIN 10

/* @event was never counted while REGISTRY_SILENT_MIN or more guest exits
 * showed in other events. */
bool registry_silent(const struct registry *r, uint32_t event);

void registry_init(struct registry *r, size_t max_vms, uint64_t grace_ms,
		   const struct registry_ops *ops);
void registry_fini(struct registry *r);
/* VMs tracked at most, and how long exited ones stay (configuration). */
void registry_set_limits(struct registry *r, size_t max_vms, uint64_t grace_ms);

/*
 * Harvest protocol: registry_mark_exited(), then snapshot the BPF counters,
 * then registry_update() with that snapshot.  A VM found gone by the first
 * step was gone before the snapshot, so its counts are final.
 */
void registry_mark_exited(struct registry *r, uint64_t now_ms);

/*
 * Fold a counter snapshot (any order; sorted in place) into the registry at
 * time @now_ms.  Keys that belong to VMs found gone are copied to
 * *ret_stale (malloc'ed, *ret_nstale entries) for the caller to delete from
 * the BPF map.  Returns 0 or -errno.
 */
int registry_update(struct registry *r, struct kp_count *snap, size_t n,
		    uint64_t now_ms, struct kp_count **ret_stale,
		    size_t *ret_nstale);

/*
 * A VM announced by the BPF side (first event), identified from the argv
 * it carried (@id NULL: identify it through /proc now).  Creates the VM
 * when new; fills in its identity otherwise.
 */
int registry_note_vm(struct registry *r, uint32_t pid, uint64_t start_ns,
		     const struct kp_vm_ident *id, uint64_t now_ms);

/* The VM (pid, start) if tracked, else NULL. */
struct vm *registry_get(const struct registry *r, uint32_t pid,
			uint64_t start_ns);

/* Find a VM by id, pid (decimal) or name; NULL if none.  A running VM wins
 * over exited ones with the same name or pid. */
struct vm *registry_find(const struct registry *r, const char *ref);

/* Sum of a VM's counters matching (vcpu or any if @any_vcpu, event, sub or
 * any if @any_sub). */
uint64_t vm_sum(const struct vm *vm, bool any_vcpu, int32_t vcpu,
		uint32_t event, bool any_sub, uint32_t sub);

/* Events counted under tgid 0 (no VM: KVM's kernel threads whose VM is
 * not known), but for the async PF completions counted apart. */
uint64_t registry_unattributed(const struct registry *r);

/* Sum of @event over every tracked VM. */
uint64_t registry_total(const struct registry *r, uint32_t event);

/* Distinct vCPU ids (>= 0) of @vm, ascending, into @ret (up to @max);
 * returns how many. */
size_t vm_vcpus(const struct vm *vm, int32_t *ret, size_t max);

/* Default process access through /proc. */
extern const struct registry_ops registry_proc_ops;

#endif
