// SPDX-License-Identifier: GPL-2.0-only
/*
 * End to end on real KVM: kvmprofd attaches its BPF probes, the test guest
 * (tools/kvmguest) does a known workload, and `kvmprof show X --json` must
 * report exactly that, per vCPU.  Expectations come from the requested
 * workload (split rule: vCPU i gets N/M + (i < N%M)) and from the VMM's own
 * count of KVM_RUN returns, never from the daemon.
 */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <bpf/bpf.h>

#include <kvmprof/abi.h>
#include "harness.h"
#include "wait.h"

#define PORT "0x3f8"
#define GRACE_MS 1500
#define INTERVAL_MS 100

static struct kpd kpd;

static uint64_t split(uint64_t total, unsigned n, unsigned i)
{
	return total / n + (i < total % n);
}

/* Start the test guest with a workload; returns its pid. */
static pid_t start_guest(const char *name, const char *vcpus, const char *pio,
			 const char *mmio_w, const char *report)
{
	char path[256];
	char *argv[] = { bin_path("tools/kvmguest", path, sizeof(path)),
			 "--name", (char *)name, "--vcpus", (char *)vcpus,
			 "--pio", (char *)pio, "--mmio-write", (char *)mmio_w,
			 "--timeout", "120", "--report", (char *)report, NULL };

	return spawn(argv);
}

/* `kvmprof show NAME` (which folds the BPF counters in first) exits with
 * @rc and, when 0, shows the VM in @state. */
struct show_wait {
	const char *name;
	int rc;
	const char *state;
};

static bool shown(void *ctx)
{
	const struct show_wait *w = ctx;
	cJSON *vm;
	bool r;
	int rc;

	vm = cli_json(&kpd, &rc, "show", w->name);
	r = rc == w->rc &&
	    (rc || (cJSON_IsString(jget(vm, "state")) &&
		    !strcmp(jget(vm, "state")->valuestring, w->state)));
	cJSON_Delete(vm);
	return r;
}

/* Run the guest to completion; returns its report. */
static cJSON *run_guest(const char *name, const char *vcpus, const char *pio,
			const char *mmio_w, const char *report)
{
	assert_int_equal(wait_exit(start_guest(name, vcpus, pio, mmio_w,
					       report)), 0);
	return read_json_file(report);
}

/* The daemon's view of @name must equal the workload and the VMM's view. */
static void check_vm(const char *name, unsigned nvcpus, uint64_t pio,
		     uint64_t mmio_w, const cJSON *report)
{
	cJSON *vm;
	int rc;

	vm = cli_json(&kpd, &rc, "show", name);
	assert_int_equal(rc, 0);
	assert_non_null(vm);
	assert_string_equal(jget(vm, "name")->valuestring, name);
	assert_string_equal(jget(vm, "vmm")->valuestring, "kvmguest");
	assert_int_equal(jnum(vm, "pid"), jnum(report, "pid"));
	assert_int_equal(jnum(vm, "vcpus"), nvcpus);
	for (unsigned i = 0; i < nvcpus; i++) {
		const cJSON *c = vcpu_of(vm, (int)i), *rv;

		assert_non_null(c);
		rv = cJSON_GetArrayItem(jget(report, "vcpus"), (int)i);
		assert_int_equal(jnum(rv, "id"), i);
		/* workload, from what was requested */
		assert_int_equal(jnum(c, "pio.ports." PORT ".out"),
				 split(pio, nvcpus, i));
		assert_int_equal(jnum(c, "mmio.write"), split(mmio_w, nvcpus, i));
		/* userspace exits, from the VMM's own KVM_RUN accounting */
		assert_int_equal(jnum(c, "userspace_exits.by_reason.IO"),
				 jnum(rv, "exits.IO"));
		assert_int_equal(jnum(c, "userspace_exits.by_reason.MMIO"),
				 jnum(rv, "exits.MMIO"));
		assert_int_equal(jnum(c, "userspace_exits.total"),
				 jnum(rv, "kvm_run"));
	}
	cJSON_Delete(vm);
}

static void exact_counts_per_vcpu(void **state)
{
	char name[64], rep[128];
	cJSON *r;

	snprintf(name, sizeof(name), "e2e-exact-%d", getpid());
	snprintf(rep, sizeof(rep), "%s/exact.json", kpd.dir);
	r = run_guest(name, "2", "1001", "333", rep);
	assert_non_null(r);
	check_vm(name, 2, 1001, 333, r);
	cJSON_Delete(r);
}

static void two_vms_never_mix(void **state)
{
	char na[64], nb[64], ra[128], rb[128];
	pid_t a, b;
	cJSON *ja, *jb;

	snprintf(na, sizeof(na), "e2e-a-%d", getpid());
	snprintf(nb, sizeof(nb), "e2e-b-%d", getpid());
	snprintf(ra, sizeof(ra), "%s/a.json", kpd.dir);
	snprintf(rb, sizeof(rb), "%s/b.json", kpd.dir);
	a = start_guest(na, "1", "20000", "700", ra);
	b = start_guest(nb, "2", "30001", "901", rb);
	assert_int_equal(wait_exit(a), 0);
	assert_int_equal(wait_exit(b), 0);
	ja = read_json_file(ra);
	jb = read_json_file(rb);
	assert_non_null(ja);
	assert_non_null(jb);
	check_vm(na, 1, 20000, 700, ja);
	check_vm(nb, 2, 30001, 901, jb);
	cJSON_Delete(ja);
	cJSON_Delete(jb);
}

/* Keys of @tgid in the kp_counts map of the daemon @d (found through the
 * map ids in its /proc fdinfo: other kvmprofd instances on the machine
 * have their own maps). */
static int map_keys_of(const struct kpd *d, uint32_t tgid)
{
	char dir[64], line[128];
	struct dirent *de;
	int found = 0, maps = 0;
	DIR *dp;

	snprintf(dir, sizeof(dir), "/proc/%d/fdinfo", (int)d->pid);
	dp = opendir(dir);
	assert_non_null(dp);
	while ((de = readdir(dp))) {
		char path[sizeof(dir) + sizeof(de->d_name)];
		unsigned int id = 0;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "map_id: %u", &id) == 1)
				break;
		fclose(f);
		if (id) {
			struct bpf_map_info info = {};
			__u32 len = sizeof(info);
			struct kp_key k, *prev = NULL, next;
			int fd = bpf_map_get_fd_by_id(id);

			if (fd < 0)
				continue;
			if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
			    strcmp(info.name, "kp_counts")) {
				close(fd);
				continue;
			}
			maps++;
			while (!bpf_map_get_next_key(fd, prev, &next)) {
				k = next;
				prev = &k;
				found += k.tgid == tgid;
			}
			close(fd);
		}
	}
	closedir(dp);
	assert_true(maps >= 1);	/* (the same map may have several fds) */
	return found;
}

static void exited_vm_pruned_after_grace(void **state)
{
	char name[64], rep[128];
	cJSON *r, *vm;
	uint32_t pid;
	int rc;

	snprintf(name, sizeof(name), "e2e-gone-%d", getpid());
	snprintf(rep, sizeof(rep), "%s/gone.json", kpd.dir);
	r = run_guest(name, "1", "10", "0", rep);
	assert_non_null(r);
	pid = (uint32_t)jnum(r, "pid");
	cJSON_Delete(r);
	/* right after exit: still shown, as exited, counts intact */
	vm = cli_json(&kpd, &rc, "show", name);
	assert_int_equal(rc, 0);
	assert_int_equal(jnum(vcpu_of(vm, 0), "pio.ports." PORT ".out"), 10);
	cJSON_Delete(vm);
	wait_until(shown, &(struct show_wait){ name, 0, "exited" },
		   10 * INTERVAL_MS);
	vm = cli_json(&kpd, &rc, "show", name);
	assert_string_equal(jget(vm, "state")->valuestring, "exited");
	cJSON_Delete(vm);
	/* the BPF map holds nothing for it any more */
	assert_int_equal(map_keys_of(&kpd, pid), 0);
	/* gone after the grace period */
	wait_until(shown, &(struct show_wait){ name, 1, NULL },
		   GRACE_MS + 10 * INTERVAL_MS); /* both scaled in wait_until */
	vm = cli_json(&kpd, &rc, "show", name);
	assert_int_equal(rc, 1);
	assert_non_null(vm);
	assert_non_null(strstr(jget(vm, "error")->valuestring, "unknown VM"));
	cJSON_Delete(vm);
}

/* The kvmprof patch tracepoints do not exist on a stock kernel. */
static void missing_tracepoint_is_unavailable(void **state)
{
	const cJSON *p;
	cJSON *st;
	int rc, seen = 0;

	st = cli_json(&kpd, &rc, "status", NULL);
	assert_int_equal(rc, 0);
	cJSON_ArrayForEach(p, jget(st, "probes")) {
		const char *n = jget(p, "name")->valuestring;
		const char *s = jget(p, "state")->valuestring;
		char path[256];

		snprintf(path, sizeof(path), "/sys/kernel/tracing/events/kvm/%s",
			 n);
		if (access(path, F_OK)) {
			assert_string_equal(s, "unavailable");
			assert_non_null(strstr(jget(p, "reason")->valuestring,
					       "not in this kernel"));
			seen++;
		} else {
			assert_string_equal(s, "attached");
		}
	}
	assert_true(seen >= 1);
	cJSON_Delete(st);
}

static void disabled_probe_counts_nothing(void **state)
{
	static const char *const extra[] = { "--interval-ms", "100",
					     "--disable-probe", "kvm_mmio",
					     NULL };
	struct kpd d2;
	char name[64], rep[128];
	cJSON *r, *vm;
	int rc;

	assert_int_equal(kpd_start(&d2, extra), 0);
	snprintf(name, sizeof(name), "e2e-dis-%d", getpid());
	snprintf(rep, sizeof(rep), "%s/dis.json", d2.dir);
	r = run_guest(name, "1", "5", "7", rep);
	vm = cli_json(&d2, &rc, "show", name);
	assert_int_equal(rc, 0);
	assert_int_equal(jnum(vcpu_of(vm, 0), "mmio.write"), 0);
	assert_int_equal(jnum(vcpu_of(vm, 0), "pio.ports." PORT ".out"), 5);
	cJSON_Delete(vm);
	cJSON_Delete(r);
	unlink(rep);
	assert_int_equal(kpd_stop(&d2), 0);
}

/*
 * Counts of exits the kernel handles itself (OUTs to the in-kernel PIC: no
 * return from KVM_RUN until the guest is done) go through the vCPU thread's
 * count cache; they must reach the API while the guest still runs (flush by
 * age or at sched-out), and be exact at the end.
 */
static void in_kernel_exits_published_while_running(void **state)
{
	const uint64_t n = 400000;
	char name[64], rep[128], path[256], nstr[32], tstr[16];
	uint64_t last = 0;
	int updates = 0;
	cJSON *r, *vm, *st;
	pid_t pid;
	int rc;

	st = cli_json(&kpd, &rc, "status", NULL);
	assert_int_equal(rc, 0);
	assert_string_equal(jget(st, "count_cache")->valuestring, "on");
	cJSON_Delete(st);

	snprintf(name, sizeof(name), "e2e-inkernel-%d", getpid());
	snprintf(rep, sizeof(rep), "%s/inkernel.json", kpd.dir);
	snprintf(nstr, sizeof(nstr), "%llu", (unsigned long long)n);
	/* the guest's own bound, scaled like every wait (400000 exits took
	 * more than 120 s under TCG on a loaded host) */
	snprintf(tstr, sizeof(tstr), "%u", 120 * test_time_scale());
	{
		char *argv[] = { bin_path("tools/kvmguest", path, sizeof(path)),
				 "--name",
				 name,
				 "--irqchip",
				 "--pio-port",
				 "0x21",
				 "--pio",
				 nstr,
				 "--timeout",
				 tstr,
				 "--report",
				 rep,
				 NULL };

		pid = spawn(argv);
	}
	/*
	 * Poll while the guest runs: its only KVM_RUN has not returned.  The
	 * first event publishes at once (1), so count the times the value
	 * grew past that before the guest is done (then it has returned to
	 * user space, which publishes everything: proves nothing).
	 */
	while (updates < 2) {
		uint64_t c;
		int ws;

		if (waitpid(pid, &ws, WNOHANG) == pid) {
			/* done without two updates seen: fails below */
			assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
			pid = -1;
			break;
		}

		vm = cli_json(&kpd, &rc, "show", name);
		c = rc == 0 && vm ? (uint64_t)jnum(vcpu_of(vm, 0),
						   "pio.ports.0x21.out") : 0;
		cJSON_Delete(vm);
		if (c > 1 && c < n && c > last) {
			updates++;
			last = c;
		}
		usleep(20000);
	}
	if (pid > 0)
		assert_int_equal(wait_exit(pid), 0);
	r = read_json_file(rep);
	assert_non_null(r);
	/* the one KVM_RUN that did all the OUTs, and the guest's exit */
	assert_true(jnum(cJSON_GetArrayItem(jget(r, "vcpus"), 0), "kvm_run") <=
		    2);
	assert_int_equal(updates, 2);
	/* the final counts, once the VM is found exited */
	wait_until(shown, &(struct show_wait){ name, 0, "exited" },
		   10 * INTERVAL_MS);
	vm = cli_json(&kpd, &rc, "show", name);
	assert_int_equal(rc, 0);
	assert_int_equal(jnum(vcpu_of(vm, 0), "pio.ports.0x21.out"), n);
	cJSON_Delete(vm);
	cJSON_Delete(r);
}

/* Without the count cache every event goes to the shared map: same counts. */
static void exact_counts_without_count_cache(void **state)
{
	static const char *const extra[] = { "--interval-ms", "100",
					     "--no-count-cache", NULL };
	char name[64], rep[128];
	struct kpd d2, saved = kpd;
	cJSON *r, *st;
	int rc;

	assert_int_equal(kpd_start(&d2, extra), 0);
	st = cli_json(&d2, &rc, "status", NULL);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(jget(st, "count_cache")->valuestring, "off"));
	cJSON_Delete(st);
	snprintf(name, sizeof(name), "e2e-nocache-%d", getpid());
	snprintf(rep, sizeof(rep), "%s/nocache.json", d2.dir);
	r = run_guest(name, "2", "777", "55", rep);
	assert_non_null(r);
	kpd = d2;	/* check_vm() asks the daemon in kpd */
	check_vm(name, 2, 777, 55, r);
	kpd = saved;
	cJSON_Delete(r);
	unlink(rep);
	assert_int_equal(kpd_stop(&d2), 0);
}

static void cli_errors(void **state)
{
	cJSON *j;
	int rc;
	struct kpd none = { .sock = "/tmp/kvmprof-test-no-such.sock" };

	j = cli_json(&kpd, &rc, "show", "no-such-vm-anywhere");
	assert_int_equal(rc, 1);
	assert_non_null(strstr(jget(j, "error")->valuestring, "unknown VM"));
	cJSON_Delete(j);
	j = cli_json(&none, &rc, "vms", NULL);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(jget(j, "error")->valuestring, "not running"));
	cJSON_Delete(j);
}

/* registry.events_unattributed of a refreshed status */
static double unattributed(void)
{
	cJSON *st = kpd_get(&kpd, "/v1/status?refresh=1");
	double v;

	assert_non_null(st);
	v = jnum(st, "registry.events_unattributed");
	cJSON_Delete(st);
	return v;
}

/*
 * KVM injects an irqfd's interrupt from a kworker (irqfd_inject): its
 * kvm_set_irq events (raising and lowering GSI 5 per run of the work) are
 * the VM's, at VM level: an even number from 2 to 2N for the guest's N
 * eventfd writes (writes while the work is pending coalesce), none
 * unattributed.
 */
static void irqfd_kworker_events_are_the_vms(void **state)
{
	char bin[256], name[64], rep[160], path[64];
	char *argv[] = { bin_path("tools/kvmguest", bin, sizeof(bin)),
			 "--name",
			 name,
			 "--irqchip",
			 "--pio",
			 "4",
			 "--irqfd",
			 "20",
			 "--timeout",
			 "120",
			 "--report",
			 rep,
			 NULL };
	cJSON *st = kpd_get(&kpd, "/v1/status"), *report, *vm;
	double before, n;

	assert_non_null(st);
	if (strcmp(jget(st, "irqfd_attribution")->valuestring, "on")) {
		fprintf(stderr, "SKIP irqfd: %s\n",
			jget(st, "irqfd_attribution")->valuestring);
		cJSON_Delete(st);
		skip();
	}
	cJSON_Delete(st);
	snprintf(name, sizeof(name), "irqfd-%d", getpid());
	snprintf(rep, sizeof(rep), "%s/irqfd.json", kpd.dir);
	before = unattributed();
	assert_int_equal(wait_exit(spawn(argv)), 0);
	report = read_json_file(rep);
	assert_non_null(report);
	snprintf(path, sizeof(path), "/v1/vms/%d?refresh=1",
		 (int)jnum(report, "pid"));
	vm = kpd_get(&kpd, path);
	assert_non_null(vm);
	n = jnum(vm, "vm_level.irq.set_irq_by_gsi.5");
	fprintf(stderr, "irqfd: 20 writes, %.0f kvm_set_irq on GSI 5\n", n);
	assert_true(n >= 2 && n <= 40 && (long)n % 2 == 0);
	assert_true(unattributed() == before);
	cJSON_Delete(vm);
	cJSON_Delete(report);
}

static int setup(void **state)
{
	static char grace[16];
	static const char *const extra[] = { "--interval-ms", "100",
					     "--grace-ms", grace, NULL };

	/* the grace period, like every wait, longer on a slow machine */
	snprintf(grace, sizeof(grace), "%u", GRACE_MS * test_time_scale());
	return kpd_start(&kpd, extra);
}

static int teardown(void **state)
{
	char cmd[160];

	/* reports written into the daemon's directory */
	snprintf(cmd, sizeof(cmd), "%s", kpd.dir);
	assert_int_equal(kpd_stop(&kpd), 0);	/* clean exit */
	/* the daemon removed its socket; only our reports remain */
	return access(kpd.sock, F_OK) == 0;
}

int main(void)
{
	const char *why = kvm_bpf_missing();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exact_counts_per_vcpu),
		cmocka_unit_test(two_vms_never_mix),
		cmocka_unit_test(exited_vm_pruned_after_grace),
		cmocka_unit_test(missing_tracepoint_is_unavailable),
		cmocka_unit_test(disabled_probe_counts_nothing),
		cmocka_unit_test(in_kernel_exits_published_while_running),
		cmocka_unit_test(exact_counts_without_count_cache),
		cmocka_unit_test(cli_errors),
		cmocka_unit_test(irqfd_kworker_events_are_the_vms),
	};

	if (why) {
		fprintf(stderr, "SKIP test_e2e_generic: %s\n", why);
		return SKIP_EXIT;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
