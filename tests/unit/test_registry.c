// SPDX-License-Identifier: GPL-2.0-only
/* The VM registry against a scripted process table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "registry.h"
#include "fake_procs.h"


static size_t harvest(struct registry *r, struct kp_count *snap, size_t n,
		      uint64_t now, struct kp_count **stale)
{
	size_t ns = 0;

	registry_mark_exited(r, now);
	assert_int_equal(registry_update(r, snap, n, now, stale, &ns), 0);
	return ns;
}

static void groups_by_vm_and_vcpu(void **state)
{
	struct registry r;
	struct kp_count *stale = NULL;
	/* deliberately unsorted, two VMs, two vCPUs */
	struct kp_count snap[] = {
		C(200, 5, 1, KP_EV_PIO, KP_PIO_SUB(1, 0x3f8), 7),
		C(100, 9, 0, KP_EV_PIO, KP_PIO_SUB(1, 0x3f8), 10),
		C(100, 9, 1, KP_EV_PIO, KP_PIO_SUB(1, 0x3f8), 11),
		C(100, 9, 1, KP_EV_PIO, KP_PIO_SUB(0, 0x60), 3),
		C(100, 9, -1, KP_EV_MSI_SET_IRQ, 0, 4),
	};
	int32_t ids[4];
	struct vm *a, *b;

	procs[0].pid = 100, procs[0].start = 9, procs[0].alive = 1;
	procs[1].pid = 200, procs[1].start = 5, procs[1].alive = 1;
	registry_init(&r, 16, 1000, &ops);
	assert_int_equal(harvest(&r, snap, 5, 0, &stale), 0);
	assert_int_equal(r.nvms, 2);
	a = registry_find(&r, "vm100");
	b = registry_find(&r, "200");
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(vm_sum(a, false, 0, KP_EV_PIO, true, 0), 10);
	assert_int_equal(vm_sum(a, false, 1, KP_EV_PIO, true, 0), 14);
	assert_int_equal(vm_sum(a, true, 0, KP_EV_PIO, false,
				KP_PIO_SUB(1, 0x3f8)), 21);
	assert_int_equal(vm_sum(a, true, 0, KP_EV_MSI_SET_IRQ, true, 0), 4);
	assert_int_equal(vm_vcpus(a, ids, 4), 2);
	assert_int_equal(ids[0], 0);
	assert_int_equal(ids[1], 1);
	assert_int_equal(vm_sum(b, true, 0, KP_EV_PIO, true, 0), 7);
	assert_ptr_equal(registry_find(&r, a->id), a);
	assert_null(registry_find(&r, "nope"));
	/* a pid is decimal digits only (found by fuzz/api_fuzz.c) */
	assert_null(registry_find(&r, "+200"));
	assert_null(registry_find(&r, " 200"));
	assert_null(registry_find(&r, "18446744073709551816")); /* 2^64+200 */
	free(stale);
	registry_fini(&r);
}

/*
 * kvm_exit "silent": never counted while other events showed
 * REGISTRY_SILENT_MIN guest exits; the largest totals seen count, not the
 * last (a VM's keys go when it exits).  Events under tgid 0 belong to no VM.
 */
static void silence_and_unattributed(void **state)
{
	struct registry r;
	struct kp_count *stale = NULL;
	struct kp_count few[] = { C(100, 9, 0, KP_EV_PIO, 1, 9) };
	struct kp_count flow[] = {
		C(100, 9, 0, KP_EV_PIO, 1, 9),
		C(100, 9, 0, KP_EV_USERSPACE_EXIT, 2, 1),
		C(0, 0, -1, KP_EV_SET_IRQ, 0, 3),
		C(0, 0, -1, KP_EV_MSI_SET_IRQ, 0, 2),
		C(0, 0, -1, KP_EV_APF_UNATTRIBUTED, 0, 7),
	};
	struct kp_count exit[] = { C(100, 9, 0, KP_EV_EXIT, 12, 1) };

	memset(procs, 0, sizeof(procs));
	procs[0].pid = 100, procs[0].start = 9, procs[0].alive = 1;
	registry_init(&r, 16, 1000, &ops);
	assert_false(registry_silent(&r, KP_EV_EXIT));
	harvest(&r, few, 1, 0, &stale);
	free(stale);
	assert_false(registry_silent(&r, KP_EV_EXIT)); /* 9 < 10 */
	harvest(&r, flow, 5, 1, &stale);
	free(stale);
	assert_true(registry_silent(&r, KP_EV_EXIT));
	assert_true(registry_silent(&r, KP_EV_ENTRY));
	assert_false(registry_silent(&r, KP_EV_PIO));
	assert_int_equal(registry_unattributed(&r), 5);
	assert_int_equal(r.unattributed[KP_EV_APF_UNATTRIBUTED], 7);
	/* the VM's keys gone (empty snapshot): still silent */
	harvest(&r, NULL, 0, 2, &stale);
	free(stale);
	assert_true(registry_silent(&r, KP_EV_EXIT));
	harvest(&r, exit, 1, 3, &stale);
	free(stale);
	assert_false(registry_silent(&r, KP_EV_EXIT));
	assert_true(registry_silent(&r, KP_EV_ENTRY));
	registry_fini(&r);
}

static void exit_hands_back_keys_then_grace(void **state)
{
	struct registry r;
	struct kp_count *stale = NULL;
	struct kp_count s1[] = { C(100, 9, 0, KP_EV_PIO, 1, 5) };
	struct kp_count s2[] = { C(100, 9, 0, KP_EV_PIO, 1, 8) };
	struct vm *vm;

	memset(procs, 0, sizeof(procs));
	procs[0].pid = 100, procs[0].start = 9, procs[0].alive = 1;
	registry_init(&r, 16, 1000, &ops);
	assert_int_equal(harvest(&r, s1, 1, 0, &stale), 0);
	free(stale);
	/* process dies; the next snapshot holds its final count */
	procs[0].alive = 0;
	assert_int_equal(harvest(&r, s2, 1, 100, &stale), 1);
	assert_int_equal(stale[0].key.tgid, 100);
	free(stale);
	vm = registry_find(&r, "vm100");
	assert_non_null(vm);
	assert_true(vm->exited);
	assert_int_equal(vm_sum(vm, true, 0, KP_EV_PIO, true, 0), 8);
	/* keys are gone from the map: empty snapshots; kept until grace */
	assert_int_equal(harvest(&r, NULL, 0, 1099, &stale), 0);
	free(stale);
	assert_int_equal(r.nvms, 1);
	assert_int_equal(harvest(&r, NULL, 0, 1100, &stale), 0);
	free(stale);
	assert_int_equal(r.nvms, 0);
	registry_fini(&r);
}

static void pid_reuse_is_a_new_vm(void **state)
{
	struct registry r;
	struct kp_count *stale = NULL;
	struct kp_count s1[] = { C(100, 9, 0, KP_EV_PIO, 1, 5) };
	struct kp_count s2[] = { C(100, 77, 0, KP_EV_PIO, 1, 2) };
	struct vm *vm;

	memset(procs, 0, sizeof(procs));
	procs[0].pid = 100, procs[0].start = 9, procs[0].alive = 1;
	registry_init(&r, 16, 5000, &ops);
	harvest(&r, s1, 1, 0, &stale);
	free(stale);
	procs[0].start = 77;	/* same pid, new process */
	harvest(&r, s2, 1, 10, &stale);
	free(stale);
	assert_int_equal(r.nvms, 2);
	vm = registry_find(&r, "100");	/* the running one wins */
	assert_int_equal(vm->start_ns, 77);
	assert_false(vm->exited);
	assert_int_equal(vm_sum(vm, true, 0, KP_EV_PIO, true, 0), 2);
	registry_fini(&r);
}

static void max_vms_bounds_memory(void **state)
{
	struct registry r;
	struct kp_count *stale = NULL;
	struct kp_count s[] = { C(1, 1, 0, KP_EV_PIO, 1, 1),
				C(2, 1, 0, KP_EV_PIO, 1, 1),
				C(3, 1, 0, KP_EV_PIO, 1, 1) };
	size_t ns;

	memset(procs, 0, sizeof(procs));	/* all dead */
	registry_init(&r, 2, 0, &ops);
	registry_mark_exited(&r, 0);
	assert_int_equal(registry_update(&r, s, 3, 0, &stale, &ns), 0);
	/* third VM not tracked, but its keys still go once it is gone */
	assert_int_equal(r.vms_dropped, 1);
	assert_int_equal(ns, 1);
	assert_int_equal(stale[0].key.tgid, 3);
	free(stale);
	registry_fini(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(groups_by_vm_and_vcpu),
		cmocka_unit_test(silence_and_unattributed),
		cmocka_unit_test(exit_hands_back_keys_then_grace),
		cmocka_unit_test(pid_reuse_is_a_new_vm),
		cmocka_unit_test(max_vms_bounds_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
