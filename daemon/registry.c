// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kvmprof/procfs.h>
#include <kvmprof/util.h>
#include "registry.h"

static int cmp_count(const void *a, const void *b)
{
	const struct kp_key *x = &((const struct kp_count *)a)->key;
	const struct kp_key *y = &((const struct kp_count *)b)->key;

#define CMP(f) if (x->f != y->f) return x->f < y->f ? -1 : 1
	CMP(tgid);
	CMP(start_ns);
	CMP(vcpu);
	CMP(event);
	CMP(sub);
#undef CMP
	return 0;
}

void registry_init(struct registry *r, size_t max_vms, uint64_t grace_ms,
		   const struct registry_ops *ops)
{
	memset(r, 0, sizeof(*r));
	registry_set_limits(r, max_vms, grace_ms);
	r->ops = *ops;
}

void registry_set_limits(struct registry *r, size_t max_vms, uint64_t grace_ms)
{
	r->max_vms = max_vms;
	r->grace_ms = grace_ms;
}

static void vm_free(struct registry *r, struct vm *vm)
{
	if (vm) {
		if (r->on_vm_free)
			r->on_vm_free(r->on_vm_free_arg, vm);
		free(vm->counts);
	}
	free(vm);
}

void registry_fini(struct registry *r)
{
	for (size_t i = 0; i < r->nvms; i++)
		vm_free(r, r->vms[i]);
	free(r->vms);
	memset(r, 0, sizeof(*r));
}

static struct vm *lookup(const struct registry *r, uint32_t pid,
			 uint64_t start_ns)
{
	for (size_t i = 0; i < r->nvms; i++)
		if (r->vms[i]->pid == pid && r->vms[i]->start_ns == start_ns)
			return r->vms[i];
	return NULL;
}

static struct vm *add_vm(struct registry *r, uint32_t pid, uint64_t start_ns,
			 uint64_t now_ms, const struct kp_vm_ident *id)
{
	struct vm *vm, **nv;

	if (r->nvms >= r->max_vms) {
		r->vms_dropped++;
		return NULL;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return NULL;
	nv = realloc(r->vms, (r->nvms + 1) * sizeof(*nv));
	if (!nv) {
		free(vm);
		return NULL;
	}
	r->vms = nv;
	vm->pid = pid;
	vm->start_ns = start_ns;
	vm->first_seen_ms = now_ms;
	snprintf(vm->id, sizeof(vm->id), "%u-%llu", pid,
		 (unsigned long long)kp_ns_to_ticks(start_ns));
	if (id)
		vm->ident = *id;
	else
		r->ops.identify(pid, &vm->ident);
	r->vms[r->nvms++] = vm;
	return vm;
}

static int append(struct kp_count **arr, size_t *n, const struct kp_count *src,
		  size_t cnt)
{
	struct kp_count *na;

	if (!cnt)
		return 0;
	na = realloc(*arr, (*n + cnt) * sizeof(*na));
	if (!na)
		return -ENOMEM;
	memcpy(na + *n, src, cnt * sizeof(*na));
	*arr = na;
	*n += cnt;
	return 0;
}

static void note_totals(struct registry *r, const struct kp_count *snap,
			size_t n)
{
	uint64_t t[KP_EV_MAX] = { 0 };

	for (size_t i = 0; i < n; i++)
		if (snap[i].key.event < KP_EV_MAX)
			t[snap[i].key.event] += snap[i].value;
	for (uint32_t e = 0; e < KP_EV_MAX; e++)
		if (t[e] > r->seen_max[e])
			r->seen_max[e] = t[e];
}

bool registry_silent(const struct registry *r, uint32_t event)
{
	uint64_t flow = r->seen_max[KP_EV_USERSPACE_EXIT] +
			r->seen_max[KP_EV_PIO] + r->seen_max[KP_EV_MMIO];

	return event < KP_EV_MAX && !r->seen_max[event] &&
	       flow >= REGISTRY_SILENT_MIN;
}

int registry_update(struct registry *r, struct kp_count *snap, size_t n,
		    uint64_t now_ms, struct kp_count **ret_stale,
		    size_t *ret_nstale)
{
	struct kp_count *stale = NULL;
	size_t nstale = 0, i, w;
	int ret = 0, err;

	/*
	 * Liveness first: a VM found gone now was gone before @snap was taken
	 * (the caller snapshots after calling registry_mark_exited()), so the
	 * snapshot holds its final counts and its keys can go.
	 */
	if (n)
		qsort(snap, n, sizeof(*snap), cmp_count);
	note_totals(r, snap, n);
	i = 0;
	while (i < n) {
		uint32_t pid = snap[i].key.tgid;
		uint64_t start = snap[i].key.start_ns;
		size_t j = i;
		struct kp_count *copy;
		struct vm *vm;

		while (j < n && snap[j].key.tgid == pid &&
		       snap[j].key.start_ns == start)
			j++;
		if (pid == 0) {
			/* no VM to attribute these to (abi.h) */
			memset(r->unattributed, 0, sizeof(r->unattributed));
			for (size_t k = i; k < j; k++)
				if (snap[k].key.event < KP_EV_MAX)
					r->unattributed[snap[k].key.event] +=
						snap[k].value;
			i = j;
			continue;
		}
		vm = lookup(r, pid, start);
		if (!vm)
			vm = add_vm(r, pid, start, now_ms, NULL);
		if (!vm) {
			/* Not tracked (limit, ENOMEM): still free its keys
			 * once the process is gone. */
			if (r->ops.alive(pid, start) == 0) {
				err = append(&stale, &nstale, snap + i, j - i);
				ret = err ? err : ret;
			}
			i = j;
			continue;
		}
		copy = malloc((j - i) * sizeof(*copy));
		if (!copy) {
			ret = -ENOMEM;
		} else {
			memcpy(copy, snap + i, (j - i) * sizeof(*copy));
			free(vm->counts);
			vm->counts = copy;
			vm->ncounts = j - i;
		}
		if (vm->exited) {
			err = append(&stale, &nstale, snap + i, j - i);
			ret = err ? err : ret;
		}
		i = j;
	}
	/* Exited VMs leave the registry after the grace period. */
	for (i = 0, w = 0; i < r->nvms; i++) {
		struct vm *vm = r->vms[i];

		if (vm->exited && now_ms - vm->exited_ms >= r->grace_ms) {
			vm_free(r, vm);
			continue;
		}
		r->vms[w++] = vm;
	}
	r->nvms = w;
	*ret_stale = stale;
	*ret_nstale = nstale;
	return ret;
}

void registry_mark_exited(struct registry *r, uint64_t now_ms)
{
	for (size_t i = 0; i < r->nvms; i++) {
		struct vm *vm = r->vms[i];

		if (!vm->exited && r->ops.alive(vm->pid, vm->start_ns) == 0) {
			vm->exited = true;
			vm->exited_ms = now_ms;
		}
	}
}

struct vm *registry_get(const struct registry *r, uint32_t pid,
			uint64_t start_ns)
{
	return lookup(r, pid, start_ns);
}

int registry_note_vm(struct registry *r, uint32_t pid, uint64_t start_ns,
		     const struct kp_vm_ident *id, uint64_t now_ms)
{
	struct vm *vm = lookup(r, pid, start_ns);

	if (vm) {
		if (id)
			vm->ident = *id;
		return 0;
	}
	return add_vm(r, pid, start_ns, now_ms, id) ? 0 : -ENOSPC;
}

struct vm *registry_find(const struct registry *r, const char *ref)
{
	struct vm *best = NULL;
	uint64_t pid = 0;
	/* a pid is decimal digits only ("+1", " 1", "-1" are names) */
	bool is_pid = kp_parse_u64(ref, strlen(ref), &pid);

	for (size_t i = 0; i < r->nvms; i++) {
		struct vm *vm = r->vms[i];

		if (!strcmp(vm->id, ref))
			return vm;
		if ((is_pid && vm->pid == pid) ||
		    !strcmp(vm->ident.name, ref)) {
			if (!best || (best->exited && !vm->exited) ||
			    (best->exited == vm->exited &&
			     vm->first_seen_ms > best->first_seen_ms))
				best = vm;
		}
	}
	return best;
}

uint64_t vm_sum(const struct vm *vm, bool any_vcpu, int32_t vcpu,
		uint32_t event, bool any_sub, uint32_t sub)
{
	uint64_t s = 0;

	for (size_t i = 0; i < vm->ncounts; i++) {
		const struct kp_key *k = &vm->counts[i].key;

		if ((any_vcpu || k->vcpu == vcpu) && k->event == event &&
		    (any_sub || k->sub == sub))
			s += vm->counts[i].value;
	}
	return s;
}

uint64_t registry_total(const struct registry *r, uint32_t event)
{
	uint64_t t = 0;

	for (size_t i = 0; i < r->nvms; i++)
		t += vm_sum(r->vms[i], true, 0, event, true, 0);
	return t;
}

uint64_t registry_unattributed(const struct registry *r)
{
	uint64_t t = 0;

	for (uint32_t e = 0; e < KP_EV_MAX; e++)
		if (e != KP_EV_APF_UNATTRIBUTED && e != KP_EV_LAT_SUM)
			t += r->unattributed[e];
	return t;
}

size_t vm_vcpus(const struct vm *vm, int32_t *ret, size_t max)
{
	size_t n = 0;

	/* counts are sorted by vcpu first */
	for (size_t i = 0; i < vm->ncounts && n < max; i++) {
		int32_t v = vm->counts[i].key.vcpu;

		if (v >= 0 && (n == 0 || ret[n - 1] != v))
			ret[n++] = v;
	}
	return n;
}

static int proc_alive(uint32_t pid, uint64_t start_ns)
{
	return kp_proc_alive((pid_t)pid, start_ns);
}

static void proc_identify(uint32_t pid, struct kp_vm_ident *ret_id)
{
	static char buf[8192], cgroup[2048];
	char *argv[128], comm[32] = "";
	uint64_t ticks;
	ssize_t n;
	int argc = 0;

	kp_proc_stat((pid_t)pid, &ticks, comm, sizeof(comm));
	n = kp_proc_read((pid_t)pid, "cmdline", buf, sizeof(buf));
	if (n > 0)
		argc = kp_split_cmdline(buf, (size_t)n, argv, 128);
	if (kp_proc_read((pid_t)pid, "cgroup", cgroup, sizeof(cgroup)) < 0)
		cgroup[0] = '\0';
	kp_vm_identify(argc, argv, comm, cgroup, ret_id);
}

const struct registry_ops registry_proc_ops = {
	.alive = proc_alive,
	.identify = proc_identify,
};
