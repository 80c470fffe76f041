// SPDX-License-Identifier: GPL-2.0-only
/*
 * A real VMM: Debian's QEMU (qemu-system-x86_64 -enable-kvm, default
 * machine, which has KVM's in-kernel PIT and its kernel thread
 * "kvm-pit/<pid>").  Skips (saying why) without /dev/kvm, BPF or QEMU.
 *  - the PIT worker's interrupts are the QEMU VM's: one VM, never a
 *    "kvm-pit/<pid>" phantom;
 *  - without an in-kernel irqchip (kernel_irqchip=off: HLT, PIO and MMIO
 *    all return to QEMU), every userspace exit is counted under its vCPU,
 *    none at VM level.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "wait.h"

#define QEMU "/usr/bin/qemu-system-x86_64"

static struct kpd kpd;

static pid_t qemu_start(const char *name, const char *machine)
{
	char guest[64];
	char *argv[] = { QEMU,		"-enable-kvm",
			 "-name",	guest,
			 "-machine",	(char *)machine,
			 "-m",		"128",
			 "-smp",	"2",
			 "-display",	"none",
			 "-nodefaults", "-no-user-config",
			 NULL };

	snprintf(guest, sizeof(guest), "guest=%s", name);
	return spawn(argv);
}

struct vm_wait {
	char path[96];
	const char *key;
	double min;
	cJSON *last;
};

static bool vm_has(void *arg)
{
	struct vm_wait *w = arg;

	cJSON_Delete(w->last);
	w->last = kpd_get(&kpd, w->path);
	return w->last && jnum(w->last, w->key) >= w->min;
}

/* The sum of "userspace_exits.total" over the VM's vCPUs. */
static double vcpu_exits(const cJSON *vm)
{
	const cJSON *c;
	double s = 0;

	cJSON_ArrayForEach(c, jget(vm, "per_vcpu"))
		s += jnum(c, "userspace_exits.total");
	return s;
}

static void pit_worker_is_no_vm(void **state)
{
	struct vm_wait w = { .key = "vm_level.irq.set_irq_by_gsi.0",
			     .min = 20 };
	pid_t q = qemu_start("kp-qemu-pit", "pc");
	const cJSON *v;
	cJSON *vms;
	int mine = 0;

	assert_true(q > 0);
	snprintf(w.path, sizeof(w.path), "/v1/vms/kp-qemu-pit?refresh=1");
	/* the firmware programs the PIT: IRQ0 from the kvm-pit thread */
	assert_true(wait_until(vm_has, &w, 60000));
	cJSON_Delete(w.last);
	vms = kpd_get(&kpd, "/v1/vms?refresh=1");
	assert_non_null(vms);
	cJSON_ArrayForEach(v, vms) {
		const char *name = jget(v, "name")->valuestring;

		assert_null(strstr(name, "kvm-pit"));
		mine += jnum(v, "pid") == q;
	}
	assert_int_equal(mine, 1);
	cJSON_Delete(vms);
	kill(q, SIGTERM);
	wait_exit(q);
}

static void hlt_exits_under_vcpus(void **state)
{
	/* SeaBIOS with QEMU's userspace irqchip: its PIO exits before it
	 * waits for a timer tick (about 830 on Debian's 6.1 under make
	 * test-nested, where it then waits for good) */
	struct vm_wait w = { .key = "userspace_exits", .min = 200 };
	pid_t q = qemu_start("kp-qemu-noirqchip", "pc,kernel_irqchip=off");
	double total;

	assert_true(q > 0);
	snprintf(w.path, sizeof(w.path), "/v1/vms/kp-qemu-noirqchip?refresh=1");
	if (!wait_until(vm_has, &w, 60000))
		fail_msg("%s: %.0f userspace exits, waited for %.0f",
			 w.path, jnum(w.last, w.key), w.min);
	total = jnum(w.last, "userspace_exits");
	assert_true(jnum(w.last, "vm_level.userspace_exits.total") <= 0);
	assert_true(vcpu_exits(w.last) == total);
	cJSON_Delete(w.last);
	kill(q, SIGTERM);
	wait_exit(q);
}

static int setup(void **state)
{
	static const char *const extra[] = { "--interval-ms", "100", NULL };

	return kpd_start(&kpd, extra);
}

static int teardown(void **state)
{
	return kpd_stop(&kpd) != 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pit_worker_is_no_vm),
		cmocka_unit_test(hlt_exits_under_vcpus),
	};
	int r = e2e_begin();

	if (r)
		return r;
	if (access(QEMU, X_OK)) {
		fprintf(stderr,
			"SKIP test_e2e_qemu: %s: %s (package "
			"qemu-system-x86)\n",
			QEMU, strerror(errno));
		return SKIP_EXIT;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
