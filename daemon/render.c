// SPDX-License-Identifier: GPL-2.0-only
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <kvmprof/abi.h>
#include <kvmprof/events.h>
#include <kvmprof/json.h>
#include <kvmprof/kvmnames.h>
#include "metrics.h"
#include "render.h"
#include "spe_capture.h"
#include "steal.h"

/* Counters as exact integer text (kvmprof/json.h): past 2^53 in days. */
#define add_u64 kp_json_add_u64
#define inc kp_json_inc_u64

static void hist_add(cJSON *arr, uint32_t bucket, uint64_t v)
{
	cJSON *b = cJSON_CreateObject();

	if (!b)
		return;
	/* bucket 0: value 0; bucket b: [2^(b-1), 2^b) */
	add_u64(b, "bucket", bucket);
	add_u64(b, "min", bucket ? 1ull << (bucket - 1) : 0);
	add_u64(b, "count", v);
	cJSON_AddItemToArray(arr, b);
}

/*
 * Per register: write traps taken (kvm_sysreg_dirty, by encoding) joined
 * with saves elided (kvm_sysreg_save_elided, by HFGWTR_EL2 bit) — the
 * ratio the 2024 review of S1PIE save elision asked for.
 */
static bool render_sysregs(const struct vm *vm, int32_t vcpu, cJSON *sysreg)
{
	cJSON *arr = cJSON_AddArrayToObject(sysreg, "registers");

	if (!arr)
		return false;
	for (unsigned int i = 0; i < kp_elidable_sysregs_nr; i++) {
		const struct kp_elidable_sysreg *r = &kp_elidable_sysregs[i];
		uint64_t traps = vm_sum(vm, false, vcpu, KP_EV_SYSREG_DIRTY,
					false, r->enc);
		uint64_t elided = vm_sum(vm, false, vcpu, KP_EV_SYSREG_ELIDED,
					 false, r->hfgwtr_bit);
		cJSON *e;

		if (!traps && !elided)
			continue;
		e = cJSON_CreateObject();
		if (!e)
			return false;
		cJSON_AddStringToObject(e, "name", r->name);
		add_u64(e, "sysreg", r->enc);
		add_u64(e, "hfgwtr_bit", r->hfgwtr_bit);
		add_u64(e, "write_traps", traps);
		add_u64(e, "saves_elided", elided);
		if (traps)
			cJSON_AddNumberToObject(e, "elided_per_trap",
						(double)elided / (double)traps);
		else
			cJSON_AddNullToObject(e, "elided_per_trap");
		cJSON_AddItemToArray(arr, e);
	}
	return true;
}

/* Object @name of @o ("": @o itself), created on first use; NULL: ENOMEM. */
static cJSON *sub_obj(cJSON *o, const char *name)
{
	cJSON *it;

	if (!o || !*name)
		return o;
	it = cJSON_GetObjectItemCaseSensitive(o, name);
	return it ? it : cJSON_AddObjectToObject(o, name);
}

static cJSON *sub_arr(cJSON *o, const char *name)
{
	cJSON *it = o ? cJSON_GetObjectItemCaseSensitive(o, name) : NULL;

	return it ? it : o ? cJSON_AddArrayToObject(o, name) : NULL;
}

/* An object with @values at 0 (NULL: none); NULL on ENOMEM. */
static cJSON *seeded(cJSON *o, const char *name, const char *const *values)
{
	cJSON *it = sub_obj(o, name);
	bool fresh = it && !cJSON_GetArraySize(it);

	for (; fresh && values && *values; values++)
		add_u64(it, *values, 0);
	return it;
}

/* The sections of event row @e in @o, as before anything is counted. */
static bool seed(cJSON *o, const struct kp_event_desc *e)
{
	cJSON *sec = seeded(o, e->section, e->hist ? NULL : e->values);

	if (!sec)
		return false;
	if (e->hist)
		return sub_arr(sec, e->by) != NULL;
	if (e->total && !cJSON_GetObjectItemCaseSensitive(sec, e->total))
		add_u64(sec, e->total, 0);
	return !e->by || sub_obj(sec, e->by);
}

/* One counter (event, sub) += @v into @o, as its event row says. */
static bool add_count(cJSON *o, const struct kp_event_desc *e, uint32_t sub,
		      uint64_t v, int layout)
{
	cJSON *sec = sub_obj(o, e->section), *by;
	struct kp_ev_labels l;
	int n;

	if (e->hist) {
		hist_add(sub_arr(sec, e->by), sub, v);
		return true;
	}
	if (e->total)
		inc(sec, e->total, v);
	if (!e->by)
		return true;
	n = kp_event_labels(e, sub, layout, false, &l);
	by = sub_obj(sec, e->by);
	if (n == 2) {
		/* the section sums the second label; @by holds objects */
		inc(sec, l.v[1], v);
		by = seeded(by, l.v[0], e->values);
		n = 1;
		memmove(l.v[0], l.v[1], sizeof(l.v[0]));
	}
	if (n == 1 && by)
		inc(by, l.v[0], v);
	return by != NULL;
}

/* All counters of @vm for @vcpu (KP_VCPU_NONE: VM-level events). */
static cJSON *render_counts(const struct vm *vm, int32_t vcpu, int layout)
{
	const struct kp_event_desc *np_ev = kp_event(KP_EV_APF_NOT_PRESENT);
	cJSON *o = cJSON_CreateObject(), *sysreg;
	uint64_t np = 0, rd = 0;

	if (!o)
		return NULL;
	if (vcpu >= 0)
		cJSON_AddNumberToObject(o, "vcpu", vcpu);
	for (size_t i = 0; i < kp_events_nr; i++)
		if (kp_events[i].section && !seed(o, &kp_events[i]))
			goto fail;

	for (size_t i = 0; i < vm->ncounts; i++) {
		const struct kp_key *k = &vm->counts[i].key;
		uint64_t v = vm->counts[i].value;
		const struct kp_event_desc *e;

		if (k->vcpu != vcpu)
			continue;
		if (k->event == KP_EV_LAT_SUM) {
			/* the sum of a histogram's values, next to it */
			e = kp_event(k->sub);
			if (e && e->sum_key)
				inc(sub_obj(o, e->sum_section), e->sum_key, v);
			continue;
		}
		np += k->event == KP_EV_APF_NOT_PRESENT ? v : 0;
		rd += k->event == KP_EV_APF_READY ? v : 0;
		e = kp_event(k->event);
		if (e && e->section && !add_count(o, e, k->sub, v, layout))
			goto fail;
	}
	/* faults not yet ready (a fault is ready on the vCPU it hit) */
	add_u64(sub_obj(o, np_ev->section), "in_flight", np > rd ? np - rd : 0);
	sysreg = sub_obj(o, kp_event(KP_EV_SYSREG_DIRTY)->section);
	if (!sysreg || !render_sysregs(vm, vcpu, sysreg))
		goto fail;
	/* who ran while the vCPU waited (vCPU threads only) */
	if (vcpu >= 0 &&
	    !steal_render(vm, vcpu,
			  sub_obj(o, kp_event(KP_EV_VCPU_DELAY)->section)))
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

static const char *state_of(const struct vm *vm)
{
	return vm->exited ? "exited" : "running";
}

cJSON *render_vm_summary(const struct vm *vm, uint64_t now_ms,
			 bool exits_silent)
{
	cJSON *o = cJSON_CreateObject();
	int32_t ids[1024];

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "id", vm->id);
	cJSON_AddNumberToObject(o, "pid", vm->pid);
	cJSON_AddStringToObject(o, "name", vm->ident.name);
	cJSON_AddStringToObject(o, "vmm", vm->ident.vmm);
	if (vm->ident.uuid[0])
		cJSON_AddStringToObject(o, "uuid", vm->ident.uuid);
	if (vm->ident.scope_name[0])
		cJSON_AddStringToObject(o, "scope_name", vm->ident.scope_name);
	cJSON_AddStringToObject(o, "state", state_of(vm));
	add_u64(o, "start_ns", vm->start_ns);
	if (vm->exited)
		add_u64(o, "exited_ms_ago", now_ms - vm->exited_ms);
	cJSON_AddNumberToObject(o, "vcpus",
				(double)vm_vcpus(vm, ids, 1024));
	add_u64(o, "userspace_exits",
		vm_sum(vm, true, 0, KP_EV_USERSPACE_EXIT, true, 0));
	add_u64(o, "pio", vm_sum(vm, true, 0, KP_EV_PIO, true, 0));
	add_u64(o, "mmio_write", vm_sum(vm, true, 0, KP_EV_MMIO, false, 2));
	add_u64(o, "mmio_read", vm_sum(vm, true, 0, KP_EV_MMIO, false, 0));
	if (exits_silent)
		cJSON_AddNullToObject(o, "exits");
	else
		add_u64(o, "exits", vm_sum(vm, true, 0, KP_EV_EXIT, true, 0));
	cJSON_AddStringToObject(o, "exits_state",
				exits_silent ? "silent" : "counted");
	add_u64(o, "halt_wakeups",
		vm_sum(vm, true, 0, KP_EV_VCPU_WAKEUP, true, 0));
	add_u64(o, "irqs", vm_sum(vm, true, 0, KP_EV_SET_IRQ, true, 0) +
				   vm_sum(vm, true, 0, KP_EV_MSI_SET_IRQ, true, 0));
	/* over its vCPUs: time on a host CPU, and waiting for one (steal) */
	add_u64(o, "run_ns", vm_sum(vm, true, 0, KP_EV_VCPU_RUN, true, 0));
	add_u64(o, "delay_ns", vm_sum(vm, true, 0, KP_EV_VCPU_DELAY, true, 0));
	return o;
}

cJSON *render_vm(const struct vm *vm, int exit_layout, uint64_t now_ms,
		 struct spe_capture *spe, bool exits_silent)
{
	cJSON *o = render_vm_summary(vm, now_ms, exits_silent), *arr, *c;
	int32_t ids[1024];
	size_t n;

	if (!o)
		return NULL;
	arr = cJSON_AddArrayToObject(o, "per_vcpu");
	if (!arr)
		goto fail;
	n = vm_vcpus(vm, ids, 1024);
	for (size_t i = 0; i < n; i++) {
		c = render_counts(vm, ids[i], exit_layout);
		if (!c)
			goto fail;
		cJSON_AddItemToArray(arr, c);
	}
	/* Events outside vCPU threads (irq ioctls from the VMM) */
	c = render_counts(vm, KP_VCPU_NONE, exit_layout);
	if (!c)
		goto fail;
	cJSON_AddItemToObject(o, "vm_level", c);
	if (vm->spe && spe) {
		c = render_vm_spe(spe, (struct vm *)vm);
		if (!c)
			goto fail;
		cJSON_AddItemToObject(o, "spe", c);
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

cJSON *render_vms(const struct registry *r, uint64_t now_ms)
{
	cJSON *arr = cJSON_CreateArray();

	if (!arr)
		return NULL;
	for (size_t i = 0; i < r->nvms; i++) {
		cJSON *v =
			render_vm_summary(r->vms[i], now_ms, r->exits_silent);

		if (!v) {
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddItemToArray(arr, v);
	}
	return arr;
}

void render_probe_stats(cJSON *po, const struct metrics_probe *p,
			bool bpf_stats)
{
	if (!bpf_stats) {
		cJSON_AddNullToObject(po, "run_cnt");
		cJSON_AddNullToObject(po, "run_time_ns");
	} else if (p->have_stats) {
		add_u64(po, "run_cnt", p->run_cnt);
		add_u64(po, "run_time_ns", p->run_time_ns);
	}
}
