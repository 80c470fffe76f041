// SPDX-License-Identifier: GPL-2.0-only
/*
 * Real asynchronous page faults on this host's KVM: the test guest's page
 * area is userfaultfd-backed and each fault is resolved after a delay, so
 * every page touched is exactly one async page fault (see
 * ../shared/notes/host-kvm.md).  Two faulting VMs with identical guest
 * layouts (same gva) run at the same time as a third that never faults:
 * the counts must be exact per VM although `completed` runs in kworkers.
 *
 * A fault on a page whose async fault is still pending is tried again
 * (kvm_try_async_get_page, then kvm_async_pf_repeated_fault): KVM does so
 * when something wakes the halted vCPU before the page is in (a signal,
 * an interrupt; under make test-nested 3 of 32 tries once), and for the
 * second VM on purpose (an MSI every 2 ms).  How many there were is the
 * kernel's to say: the expectation for those two events is what a tracefs
 * instance of the test's own recorded for each VMM.  So is the second
 * VM's `ready` (kvmprofd counted 16 of 17 once under test-nested, when
 * `ready` was not traced yet; the next run traced 17): perhaps a retry
 * during an interrupt's delivery, which faults the page in synchronously,
 * and the VM ending before KVM looked at that page's completion, which it
 * then drops without a ready; or a miscount.  The trace now decides.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "ktrace.h"
#include "progstat.h"

static struct kpd kpd;
static struct ktrace kt;

static pid_t start(const char *name, const char *const *args)
{
	char path[256];
	char *argv[24];
	int n = 0;

	argv[n++] = bin_path("tools/kvmguest", path, sizeof(path));
	argv[n++] = "--name";
	argv[n++] = (char *)name;
	for (; *args && n < 22; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	return spawn(argv);
}

static double apf_sum(const cJSON *vm, const char *field)
{
	const cJSON *c;
	double s = 0;
	char k[64];

	snprintf(k, sizeof(k), "async_pf.%s", field);
	cJSON_ArrayForEach(c, jget(vm, "per_vcpu"))
		s += jnum(c, k);
	return s;
}

/* Every not-present -> ready latency sample is in [lo_ns, hi_ns). */
static void check_latency(const cJSON *vm, double n, double lo_ns,
			  double hi_ns)
{
	const cJSON *c, *b;
	double total = 0;

	cJSON_ArrayForEach(c, jget(vm, "per_vcpu"))
		cJSON_ArrayForEach(b, jget(c, "async_pf.not_present_to_ready_ns_log2")) {
			double min = jnum(b, "min");

			total += jnum(b, "count");
			/* bucket [min, 2*min) must overlap [lo, hi) */
			assert_true(2 * min > lo_ns);
			assert_true(min < hi_ns);
		}
	assert_int_equal(total, n);
}

/* kvmprofd's async PF counts of @vm, per vCPU and at VM level */
static void print_vm(const char *name, const cJSON *vm)
{
	const cJSON *c;
	char *s;

	fprintf(stderr, "kvmprofd %s (pid %.0f):\n", name, jnum(vm, "pid"));
	cJSON_ArrayForEach(c, jget(vm, "per_vcpu")) {
		s = cJSON_PrintUnformatted(jget(c, "async_pf"));
		fprintf(stderr, "  vcpu %.0f: %s\n", jnum(c, "vcpu"),
			s ? s : "-");
		free(s);
	}
	s = cJSON_PrintUnformatted(jget(vm, "vm_level"));
	fprintf(stderr, "  vm level: %s\n", s ? s : "-");
	free(s);
}

/*
 * A count differs from the kernel's: what each side saw.  The kernel's
 * lines of the events (task, tgid, CPU, time), kvmprofd's counts per vCPU
 * and VM, its drops and its programs' recursion misses.
 */
static void explain(const char *const *events, const char *const *names,
		    const cJSON *const *vms, const pid_t *pids)
{
	int rc;
	cJSON *st;
	char *s;

	fprintf(stderr, "--- mismatch: VMMs a %d, b %d, c %d\n", pids[0],
		pids[1], pids[2]);
	for (; *events; events++) {
		fprintf(stderr, "tracefs %s:\n", *events);
		ktrace_print(&kt, strchr(*events, '/') + 1, stderr);
	}
	for (int i = 0; i < 3; i++)
		print_vm(names[i], vms[i]);
	st = cli_json(&kpd, &rc, "status", NULL);
	s = st ? cJSON_PrintUnformatted(st) : NULL;
	fprintf(stderr, "kvmprofd status: %s\n", s ? s : "-");
	free(s);
	cJSON_Delete(st);
	progstat_print("kp_", stderr);
	fprintf(stderr, "--- end of mismatch\n");
}

static void exact_per_vm_with_kworker_completion(void **state)
{
	static const char *const a_args[] = { "--irqchip", "--uffd",
		"--uffd-delay-ms", "20", "--touch-pages", "32",
		"--timeout", "120", NULL };
	/* B is interrupted every 2 ms while a fault is pending: retries */
	static const char *const b_args[] = { "--irqchip",
					      "--uffd",
					      "--uffd-delay-ms",
					      "5",
					      "--msi-interval-ms",
					      "2",
					      "--vcpus",
					      "2",
					      "--touch-pages",
					      "17",
					      "--timeout",
					      "120",
					      NULL };
	static const char *const c_args[] = { "--irqchip", "--pio", "3000",
		"--hlt", "20", "--timeout", "120", NULL };
	static const char *const events[] = { "kvm/kvm_try_async_get_page",
					      "kvm/kvm_async_pf_repeated_fault",
					      "kvm/kvm_async_pf_not_present",
					      "kvm/kvm_async_pf_ready", NULL };
	char na[64], nb[64], nc[64], inst[64];
	long want_try[2], want_rep[2], want_np[2], want_ready[2];
	const char *names[3] = { na, nb, nc };
	pid_t a, b, c;
	cJSON *va, *vb, *vc, *st;
	int rc;

	snprintf(na, sizeof(na), "apf-a-%d", getpid());
	snprintf(nb, sizeof(nb), "apf-b-%d", getpid());
	snprintf(nc, sizeof(nc), "apf-c-%d", getpid());
	snprintf(inst, sizeof(inst), "kvmprof-test-apf-%d", getpid());
	assert_int_equal(ktrace_start(&kt, inst, events), 0);
	a = start(na, a_args);
	b = start(nb, b_args);
	c = start(nc, c_args);
	assert_int_equal(wait_exit(a), 0);
	assert_int_equal(wait_exit(b), 0);
	assert_int_equal(wait_exit(c), 0);
	for (int i = 0; i < 2; i++) {
		want_try[i] =
			ktrace_count(&kt, "kvm_try_async_get_page", i ? b : a);
		want_rep[i] = ktrace_count(&kt, "kvm_async_pf_repeated_fault",
					   i ? b : a);
		want_np[i] = ktrace_count(&kt, "kvm_async_pf_not_present",
					  i ? b : a);
		want_ready[i] =
			ktrace_count(&kt, "kvm_async_pf_ready", i ? b : a);
	}
	fprintf(stderr,
		"tracefs: a %ld tries, %ld repeated, %ld not present, %ld ready; "
		"b %ld, %ld, %ld, %ld\n",
		want_try[0], want_rep[0], want_np[0], want_ready[0],
		want_try[1], want_rep[1], want_np[1], want_ready[1]);
	for (int i = 0; i < 2; i++) /* else -errno: not the kernel's count */
		assert_true(want_try[i] >= 0 && want_rep[i] >= 0 &&
			    want_np[i] >= 0 && want_ready[i] >= 0);

	va = cli_json(&kpd, &rc, "show", na);
	assert_int_equal(rc, 0);
	vb = cli_json(&kpd, &rc, "show", nb);
	assert_int_equal(rc, 0);
	vc = cli_json(&kpd, &rc, "show", nc);
	assert_int_equal(rc, 0);
	{
		const cJSON *vms[3] = { va, vb, vc };
		const pid_t pids[3] = { a, b, c };

		if (want_np[0] != 32 || want_np[1] != 17 ||
		    apf_sum(va, "not_present") != 32 ||
		    apf_sum(va, "completed") != 32 ||
		    apf_sum(vb, "completed") != 17 ||
		    apf_sum(va, "ready") != want_ready[0] ||
		    apf_sum(va, "try") != want_try[0] ||
		    apf_sum(va, "repeated_fault") != want_rep[0] ||
		    apf_sum(vb, "not_present") != want_np[1] ||
		    apf_sum(vb, "ready") != want_ready[1] ||
		    apf_sum(vb, "try") != want_try[1] ||
		    apf_sum(vb, "repeated_fault") != want_rep[1] ||
		    apf_sum(vc, "try") != 0)
			explain(events, names, vms, pids);
	}
	ktrace_stop(&kt);

	/* one async fault per page, as the kernel saw it too */
	assert_int_equal(want_np[0], 32);
	assert_int_equal(want_np[1], 17);
	assert_int_equal(apf_sum(va, "not_present"), 32);
	assert_int_equal(apf_sum(va, "ready"), 32);
	assert_int_equal(want_ready[0], 32);
	assert_int_equal(apf_sum(va, "completed"), 32);
	assert_int_equal(apf_sum(va, "try"), want_try[0]);
	assert_int_equal(apf_sum(va, "repeated_fault"), want_rep[0]);
	assert_int_equal(apf_sum(vb, "try"), want_try[1]);
	assert_int_equal(apf_sum(vb, "repeated_fault"), want_rep[1]);
	/* B's interrupts usually make some (20 for 17 pages once); under
	 * make test-nested's emulated CPUs a run had none: then the count
	 * was compared at 0 above, the path not exercised */
	if (!want_rep[1])
		fprintf(stderr, "note: no repeated faults in B this run: "
				"repeated_fault compared at 0 only\n");
	assert_int_equal(apf_sum(va, "in_flight"), 0);
	/* 20 ms resolution delay: every sample at least ~20 ms, under 2 s */
	check_latency(va, 32, 19e6, 2e9);
	/* and the exact sum of the latencies agrees: at least 32 x 19 ms */
	assert_true(apf_sum(va, "not_present_to_ready_ns_sum") >= 32 * 19e6);
	assert_true(apf_sum(va, "not_present_to_ready_ns_sum") <= 32 * 2e9);

	assert_int_equal(apf_sum(vb, "not_present"), 17);
	assert_int_equal(apf_sum(vb, "ready"), want_ready[1]);
	assert_int_equal(apf_sum(vb, "completed"), 17);
	check_latency(vb, want_ready[1], 4.5e6, 2e9);

	assert_int_equal(apf_sum(vc, "not_present"), 0);
	assert_int_equal(apf_sum(vc, "completed"), 0);
	assert_int_equal(apf_sum(vc, "try"), 0);

	/* the per-vCPU view through `kvmprof apf VM --json` */
	{
		cJSON *j = cli_json(&kpd, &rc, "apf", na);
		const cJSON *v;
		double np = 0;

		assert_int_equal(rc, 0);
		cJSON_ArrayForEach(v, jget(j, "per_vcpu"))
			np += jnum(v, "async_pf.not_present");
		assert_int_equal(np, 32);
		cJSON_Delete(j);
	}
	st = cli_json(&kpd, &rc, "status", NULL);
	assert_int_equal(jnum(st, "registry.async_pf_completed_unattributed"),
			 0);
	cJSON_Delete(st);
	cJSON_Delete(va);
	cJSON_Delete(vb);
	cJSON_Delete(vc);
}

static int setup(void **state)
{
	static const char *const extra[] = { "--interval-ms", "100", NULL };

	return kpd_start(&kpd, extra);
}

static int teardown(void **state)
{
	ktrace_stop(&kt); /* if a check failed */
	return kpd_stop(&kpd) != 0;
}

int main(void)
{
	const char *why = kvm_bpf_missing();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exact_per_vm_with_kworker_completion),
	};

	if (!why && access("/sys/kernel/tracing/events/kvm/kvm_async_pf_not_present",
			   F_OK))
		why = "kernel has no async page fault tracepoints";
	if (why) {
		fprintf(stderr, "SKIP test_e2e_apf: %s\n", why);
		return SKIP_EXIT;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
