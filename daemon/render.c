// SPDX-License-Identifier: GPL-2.0-only
#include <stdbool.h>
#include <stdio.h>

#include <kvmprof/abi.h>
#include <kvmprof/kvmnames.h>
#include "render.h"
#include "spe_capture.h"

/* cJSON numbers are doubles: exact up to 2^53, plenty for counters. */
static void add_u64(cJSON *o, const char *k, uint64_t v)
{
	cJSON_AddNumberToObject(o, k, (double)v);
}

static void inc(cJSON *o, const char *k, uint64_t v)
{
	cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);

	if (it)
		cJSON_SetNumberValue(it, it->valuedouble + (double)v);
	else
		add_u64(o, k, v);
}

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

static const char *spe_reason_name(uint32_t r, char *buf, size_t len)
{
	switch (r) {
	case KP_SPE_REASON_BUF_FULL:
		return "buf_full";
	case KP_SPE_REASON_GUEST_STOP:
		return "guest_stop";
	case KP_SPE_REASON_VCPU_PUT:
		return "vcpu_put";
	default:
		snprintf(buf, len, "reason_%u", r);
		return buf;
	}
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

/* All counters of @vm for @vcpu (KP_VCPU_NONE: VM-level events). */
static cJSON *render_counts(const struct vm *vm, int32_t vcpu, int layout)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *ue, *ue_by, *pio, *ports, *mmio, *wake, *wlat, *poll, *ex,
		*ex_by, *exlat, *irq, *irq_by, *apf, *apflat, *spe, *spe_copies,
		*spe_bytes, *spe_err, *spe_lost, *spe_bme, *sysreg, *sr_dirty,
		*sr_elided;
	uint64_t np = 0, rd = 0;
	char name[32];

	if (!o)
		return NULL;
	if (vcpu >= 0)
		cJSON_AddNumberToObject(o, "vcpu", vcpu);
	ue = cJSON_AddObjectToObject(o, "userspace_exits");
	add_u64(ue, "total", 0);
	ue_by = cJSON_AddObjectToObject(ue, "by_reason");
	pio = cJSON_AddObjectToObject(o, "pio");
	add_u64(pio, "out", 0);
	add_u64(pio, "in", 0);
	ports = cJSON_AddObjectToObject(pio, "ports");
	mmio = cJSON_AddObjectToObject(o, "mmio");
	add_u64(mmio, "write", 0);
	add_u64(mmio, "read", 0);
	add_u64(mmio, "read_unsatisfied", 0);
	wake = cJSON_AddObjectToObject(o, "halt_wakeups");
	add_u64(wake, "waited", 0);
	add_u64(wake, "polled", 0);
	add_u64(wake, "invalid", 0);
	wlat = cJSON_AddArrayToObject(o, "halt_ns_log2");
	poll = cJSON_AddObjectToObject(o, "halt_poll_ns_changes");
	add_u64(poll, "grow", 0);
	add_u64(poll, "shrink", 0);
	ex = cJSON_AddObjectToObject(o, "exits");
	add_u64(ex, "total", 0);
	add_u64(ex, "entries", 0);
	ex_by = cJSON_AddObjectToObject(ex, "by_reason");
	exlat = cJSON_AddArrayToObject(o, "exit_to_entry_ns_log2");
	irq = cJSON_AddObjectToObject(o, "irq");
	add_u64(irq, "set_irq", 0);
	add_u64(irq, "msi", 0);
	irq_by = cJSON_AddObjectToObject(irq, "set_irq_by_gsi");
	apf = cJSON_AddObjectToObject(o, "async_pf");
	add_u64(apf, "try", 0);
	add_u64(apf, "not_present", 0);
	add_u64(apf, "ready", 0);
	add_u64(apf, "completed", 0);
	add_u64(apf, "repeated_fault", 0);
	apflat = cJSON_AddArrayToObject(apf, "not_present_to_ready_ns_log2");
	spe = cJSON_AddObjectToObject(o, "spe_buffer");
	spe_copies = cJSON_AddObjectToObject(spe, "copy_outs_by_reason");
	spe_bytes = cJSON_AddObjectToObject(spe, "bytes_by_reason");
	spe_err = cJSON_AddObjectToObject(spe, "copy_errors_by_errno");
	spe_lost = cJSON_AddObjectToObject(spe, "lost_bytes_by_cause");
	spe_bme = cJSON_AddObjectToObject(spe, "bme_by_ec");
	sysreg = cJSON_AddObjectToObject(o, "sysreg");
	sr_dirty = cJSON_AddObjectToObject(sysreg, "write_traps_by_sysreg");
	sr_elided = cJSON_AddObjectToObject(sysreg, "saves_elided_by_bit");
	if (!ue_by || !ports || !mmio || !wake || !wlat || !poll || !ex_by ||
	    !exlat || !irq_by || !apflat || !spe_copies || !spe_bytes ||
	    !spe_err || !spe_lost || !spe_bme || !sr_dirty || !sr_elided) {
		cJSON_Delete(o);
		return NULL;
	}

	for (size_t i = 0; i < vm->ncounts; i++) {
		const struct kp_key *k = &vm->counts[i].key;
		uint64_t v = vm->counts[i].value;
		const char *n;

		if (k->vcpu != vcpu)
			continue;
		switch (k->event) {
		case KP_EV_USERSPACE_EXIT:
			inc(ue, "total", v);
			if (k->sub & KP_SUB_ERRNO) {
				snprintf(name, sizeof(name), "errno_%u",
					 k->sub & ~KP_SUB_ERRNO);
				n = name;
			} else {
				n = kp_userspace_exit_name(k->sub);
				if (!n) {
					snprintf(name, sizeof(name), "%u",
						 k->sub);
					n = name;
				}
			}
			inc(ue_by, n, v);
			break;
		case KP_EV_PIO: {
			const char *dir = KP_PIO_SUB_RW(k->sub) ? "out" : "in";
			cJSON *port;

			inc(pio, dir, v);
			snprintf(name, sizeof(name), "0x%x",
				 KP_PIO_SUB_PORT(k->sub));
			port = cJSON_GetObjectItemCaseSensitive(ports, name);
			if (!port) {
				port = cJSON_AddObjectToObject(ports, name);
				if (!port)
					break;
				add_u64(port, "out", 0);
				add_u64(port, "in", 0);
			}
			inc(port, dir, v);
			break;
		}
		case KP_EV_MMIO:
			n = kp_mmio_type_name(k->sub);
			if (!n) {
				snprintf(name, sizeof(name), "type_%u", k->sub);
				n = name;
			}
			inc(mmio, n, v);
			break;
		case KP_EV_VCPU_WAKEUP:
			if (!(k->sub & 2))
				inc(wake, "invalid", v);
			else
				inc(wake, (k->sub & 1) ? "waited" : "polled", v);
			break;
		case KP_EV_WAKEUP_LAT:
			hist_add(wlat, k->sub, v);
			break;
		case KP_EV_HALT_POLL_NS:
			inc(poll, k->sub ? "grow" : "shrink", v);
			break;
		case KP_EV_SET_IRQ:
			inc(irq, "set_irq", v);
			snprintf(name, sizeof(name), "%u", k->sub);
			inc(irq_by, name, v);
			break;
		case KP_EV_MSI_SET_IRQ:
			inc(irq, "msi", v);
			break;
		case KP_EV_EXIT:
			inc(ex, "total", v);
			n = kp_exit_reason_name(layout, k->sub);
			if (!n) {
				snprintf(name, sizeof(name), "%u", k->sub);
				n = name;
			}
			inc(ex_by, n, v);
			break;
		case KP_EV_ENTRY:
			inc(ex, "entries", v);
			break;
		case KP_EV_EXIT_LAT:
			hist_add(exlat, k->sub, v);
			break;
		case KP_EV_APF_TRY:
			inc(apf, "try", v);
			break;
		case KP_EV_APF_NOT_PRESENT:
			inc(apf, "not_present", v);
			np += v;
			break;
		case KP_EV_APF_READY:
			inc(apf, "ready", v);
			rd += v;
			break;
		case KP_EV_APF_COMPLETED:
			inc(apf, "completed", v);
			break;
		case KP_EV_APF_REPEATED:
			inc(apf, "repeated_fault", v);
			break;
		case KP_EV_APF_LAT:
			hist_add(apflat, k->sub, v);
			break;
		case KP_EV_LAT_SUM:
			/* the sum of a histogram's values, next to it */
			if (k->sub == KP_EV_APF_LAT)
				inc(apf, "not_present_to_ready_ns_sum", v);
			else if (k->sub == KP_EV_EXIT_LAT)
				inc(ex, "exit_to_entry_ns_sum", v);
			else if (k->sub == KP_EV_WAKEUP_LAT)
				inc(wake, "halt_ns_sum", v);
			break;
		case KP_EV_SPE_COPY:
			inc(spe_copies, spe_reason_name(k->sub, name,
							sizeof(name)), v);
			break;
		case KP_EV_SPE_BYTES:
			inc(spe_bytes, spe_reason_name(k->sub, name,
						       sizeof(name)), v);
			break;
		case KP_EV_SPE_COPY_ERR:
			snprintf(name, sizeof(name), "%u", k->sub);
			inc(spe_err, name, v);
			break;
		case KP_EV_SPE_LOST_BYTES:
			inc(spe_lost, k->sub == KP_SPE_LOST_RING_FULL ?
					      "ring_full" :
				      k->sub == KP_SPE_LOST_TOO_LONG ?
					      "too_long" : "read_fault", v);
			break;
		case KP_EV_SPE_BME:
			snprintf(name, sizeof(name), "0x%02x", k->sub);
			inc(spe_bme, name, v);
			break;
		case KP_EV_SYSREG_DIRTY:
			snprintf(name, sizeof(name), "0x%x", k->sub);
			inc(sr_dirty, name, v);
			break;
		case KP_EV_SYSREG_ELIDED:
			snprintf(name, sizeof(name), "%u", k->sub);
			inc(sr_elided, name, v);
			break;
		default:
			break;
		}
	}
	/* faults not yet ready (a fault is ready on the vCPU it hit) */
	add_u64(apf, "in_flight", np > rd ? np - rd : 0);
	if (!render_sysregs(vm, vcpu, sysreg)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static const char *state_of(const struct vm *vm)
{
	return vm->exited ? "exited" : "running";
}

cJSON *render_vm_summary(const struct vm *vm, uint64_t now_ms)
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
	add_u64(o, "exits", vm_sum(vm, true, 0, KP_EV_EXIT, true, 0));
	add_u64(o, "halt_wakeups",
		vm_sum(vm, true, 0, KP_EV_VCPU_WAKEUP, true, 0));
	add_u64(o, "irqs", vm_sum(vm, true, 0, KP_EV_SET_IRQ, true, 0) +
				   vm_sum(vm, true, 0, KP_EV_MSI_SET_IRQ, true, 0));
	return o;
}

cJSON *render_vm(const struct vm *vm, int exit_layout, uint64_t now_ms,
		 struct spe_capture *spe)
{
	cJSON *o = render_vm_summary(vm, now_ms), *arr, *c;
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
		cJSON *v = render_vm_summary(r->vms[i], now_ms);

		if (!v) {
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddItemToArray(arr, v);
	}
	return arr;
}
