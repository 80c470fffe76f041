// SPDX-License-Identifier: GPL-2.0-only
/*
 * Which VM and vCPU an event is counted under, driven through
 * BPF_PROG_TEST_RUN (no guest): events of KVM's kernel threads never make
 * a VM of their own.  The PIT worker thread is named "kvm-pit/<VMM pid>"
 * by KVM; a user thread named so in another process is as close as a test
 * gets to that kernel thread (PF_KTHREAD cannot be set from user space).
 * Expectations come from what was injected.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <kvmprof/abi.h>
#include "harness.h"
#include "inject.h"
#include "probes_e2e.h"

/* In a child process named @comm: @n kvm_set_irq(gsi @gsi) and one
 * kvm_msi_set_irq; returns the child's pid once it has exited cleanly. */
static pid_t inject_from_child(const char *comm, int pset, int pmsi,
			       uint32_t gsi, int n)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		uint64_t a[3] = { gsi, 1, 0 }, m[2] = { 0xfee00000, 0x4021 };
		int bad = prctl(PR_SET_NAME, comm, 0, 0, 0) != 0;

		for (int i = 0; i < n; i++)
			bad |= run_raw_tp(pset, a, 3) != 0;
		bad |= run_raw_tp(pmsi, m, 2) != 0;
		_exit(bad);
	}
	assert_int_equal(wait_exit(pid), 0);
	return pid;
}

static bool has_vm_pid(const cJSON *vms, pid_t pid)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, vms)
		if (jnum(v, "pid") == pid)
			return true;
	return false;
}

static void pit_worker_serves_its_vm(void **state)
{
	uint64_t a[3] = { 7, 1, 0 };
	char comm[16], path[64];
	pid_t served, stray;
	cJSON *vm, *vms, *st;
	int pset, pmsi;

	pset = find_prog("kp_set_irq", min_id);
	pmsi = find_prog("kp_msi_set_irq", min_id);
	assert_true(pset >= 0 && pmsi >= 0);
	/* the VMM (this process) is seen first, as KVM creates its PIT */
	assert_int_equal(run_raw_tp(pset, a, 3), 0);
	snprintf(comm, sizeof(comm), "kvm-pit/%d", getpid());
	served = inject_from_child(comm, pset, pmsi, 0, 5);
	/* a worker of a VM nobody knows: counted, but under no VM (pid_max
	 * is at most 4194304, so no process has this pid) */
	stray = inject_from_child("kvm-pit/4194305", pset, pmsi, 0, 3);
	/* a VMM's own thread with another name: its own VM, as before */
	snprintf(path, sizeof(path), "/v1/vms/%d?refresh=1", getpid());
	vm = kpd_get(&kpd, path);
	assert_non_null(vm);
	assert_int_equal(jnum(vm, "vm_level.irq.set_irq_by_gsi.0"), 5);
	assert_int_equal(jnum(vm, "vm_level.irq.set_irq_by_gsi.7"), 1);
	assert_int_equal(jnum(vm, "vm_level.irq.msi"), 1);
	cJSON_Delete(vm);
	vms = kpd_get(&kpd, "/v1/vms");
	assert_non_null(vms);
	assert_true(has_vm_pid(vms, getpid()));
	assert_false(has_vm_pid(vms, served));
	assert_false(has_vm_pid(vms, stray));
	cJSON_Delete(vms);
	st = kpd_get(&kpd, "/v1/status");
	assert_non_null(st);
	/* 3 kvm_set_irq + 1 kvm_msi_set_irq of the stray worker */
	assert_int_equal(jnum(st, "registry.events_unattributed"), 4);
	cJSON_Delete(st);
	close(pset);
	close(pmsi);
}

/*
 * A vCPU thread whose events carry no loaded vCPU (no preempt notifier:
 * here, BPF_PROG_TEST_RUN; on a host, kvm_userspace_exit after vcpu_put)
 * still counts them under its vCPU once any event named it.  On a real
 * host kvm_userspace_exit reads the vCPU from the KVM_RUN ioctl's fd
 * (test_e2e_qemu); BPF_PROG_TEST_RUN runs inside bpf(), so here the vCPU
 * comes from kvm_halt_poll_ns(grow, vcpu_id), the thread's first event.
 */
struct hlt_thread {
	int ppoll, puexit, n;
	int bad;
};

static void *hlt_vcpu_thread(void *arg)
{
	struct hlt_thread *h = arg;
	uint64_t poll[2] = { 1, 2 }, hlt[2] = { 5, 0 };

	h->bad = run_raw_tp(h->ppoll, poll, 2) != 0;
	for (int i = 0; i < h->n; i++)
		h->bad |= run_raw_tp(h->puexit, hlt, 2) != 0;
	return NULL;
}

static void userspace_exits_under_their_vcpu(void **state)
{
	struct hlt_thread h = { .n = 6 };
	char path[64];
	pthread_t th;
	cJSON *vm;

	h.ppoll = find_prog("kp_halt_poll_ns", min_id);
	h.puexit = find_prog("kp_userspace_exit", min_id);
	assert_true(h.ppoll >= 0 && h.puexit >= 0);
	/* a fresh thread: no state from earlier tests */
	assert_int_equal(pthread_create(&th, NULL, hlt_vcpu_thread, &h), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(h.bad, 0);
	snprintf(path, sizeof(path), "/v1/vms/%d?refresh=1", getpid());
	vm = kpd_get(&kpd, path);
	assert_non_null(vm);
	assert_int_equal(jnum(vcpu_of(vm, 2), "userspace_exits.by_reason.HLT"),
			 h.n);
	assert_int_equal(jnum(vcpu_of(vm, 2), "halt_poll_ns_changes.grow"), 1);
	assert_true(jnum(vm, "vm_level.userspace_exits.total") <= 0);
	cJSON_Delete(vm);
	close(h.ppoll);
	close(h.puexit);
}

static const cJSON *probe(const cJSON *st, const char *name)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, jget(st, "probes"))
		if (!strcmp(jget(p, "name")->valuestring, name))
			return p;
	return NULL;
}

/* `kvmprof ARGS` (human output) into a malloc'ed string */
static char *cli_text(const char *a1, const char *a2)
{
	char bin[256], *out = NULL;
	char *argv[] = { bin_path("kvmprof", bin, sizeof(bin)),
			 "--socket",
			 kpd.sock,
			 (char *)a1,
			 (char *)a2,
			 NULL };

	assert_int_equal(run_capture(argv, &out), 0);
	return out;
}

/*
 * kvm_exit attached (this host's x86 layout: the tracepoint) while other
 * KVM events show guest exits, and kvm_exit never counted: "silent" in
 * status, the VM's exits null, the CLI's EXITS "silent"; one counted exit
 * ends that.  Runs last: no test before it injects an exit.
 */
static void kvm_exit_attached_but_silent(void **state)
{
	char path[64], pid[16], *out;
	uint64_t pio[4] = { 1, 0x3f8, 1, 1 };
	uint64_t x[3] = { 2, 0x16, 0x1000 }, e[1] = { 0x1000 };
	const cJSON *p;
	cJSON *st, *vm;
	int pp, px, pe;

	pp = find_prog("kp_pio", min_id);
	px = find_prog("kp_exit_raw", min_id);
	pe = find_prog("kp_entry", min_id);
	assert_true(pp >= 0 && px >= 0 && pe >= 0);
	for (int i = 0; i < 12; i++)
		assert_int_equal(run_raw_tp(pp, pio, 4), 0);
	snprintf(path, sizeof(path), "/v1/vms/%d?refresh=1", getpid());
	snprintf(pid, sizeof(pid), "%d", getpid());
	vm = kpd_get(&kpd, path);
	assert_non_null(vm);
	assert_true(cJSON_IsNull(jget(vm, "exits")));
	assert_string_equal(jget(vm, "exits_state")->valuestring, "silent");
	cJSON_Delete(vm);
	st = kpd_get(&kpd, "/v1/status");
	assert_non_null(st);
	p = probe(st, "kvm_exit");
	assert_non_null(p);
	assert_string_equal(jget(p, "state")->valuestring, "attached");
	assert_true(cJSON_IsTrue(jget(p, "silent")));
	assert_non_null(jget(p, "silent_reason"));
	assert_true(cJSON_IsTrue(jget(probe(st, "kvm_entry"), "silent")));
	/* a probe that fires on no exit is not judged */
	assert_null(jget(probe(st, "kvm_pio"), "silent"));
	cJSON_Delete(st);
	out = cli_text("status", NULL);
	if (getenv("KP_TEST_VERBOSE"))
		fputs(out, stderr);
	assert_non_null(strstr(out, "silent"));
	free(out);
	out = cli_text("show", pid);
	assert_non_null(strstr(out, "silent"));
	free(out);
	/* an exit and an entry counted: no longer silent */
	assert_int_equal(run_raw_tp(px, x, 3), 0);
	assert_int_equal(run_raw_tp(pe, e, 1), 0);
	vm = kpd_get(&kpd, path);
	assert_non_null(vm);
	assert_int_equal(jnum(vm, "exits"), 1);
	assert_string_equal(jget(vm, "exits_state")->valuestring, "counted");
	cJSON_Delete(vm);
	st = kpd_get(&kpd, "/v1/status");
	assert_non_null(st);
	assert_true(cJSON_IsFalse(jget(probe(st, "kvm_exit"), "silent")));
	cJSON_Delete(st);
	out = cli_text("status", NULL);
	assert_null(strstr(out, "silent"));
	free(out);
	close(pp);
	close(px);
	close(pe);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pit_worker_serves_its_vm),
		cmocka_unit_test(userspace_exits_under_their_vcpu),
		cmocka_unit_test(kvm_exit_attached_but_silent),
	};

	return probes_e2e_main("test_e2e_attrib", tests,
			       sizeof(tests) / sizeof(tests[0]));
}
