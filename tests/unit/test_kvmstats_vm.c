// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM's binary statistics of a VM as kvmprofd serves them: the Prometheus
 * families named and typed from the descriptors (metrics_kvm.c), checked
 * line by line and by promtool when installed, and the per-VM sums read
 * from KVM's debugfs for a VMM that keeps no stats fds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/kvm.h>

#include <kvmprof/json.h>
#include <kvmprof/kvmstats.h>
#include "fake_procs.h"
#include "kvmstats.h"
#include "metrics.h"
#include "ks_fixture.h"

static void load_into(struct kp_ks_schema *s, size_t len)
{
	char err[160];

	assert_int_equal(load(len, s, err), 0);
}

static void add_fd(struct vm_ks *k, const struct kp_ks_schema *s, int32_t vcpu,
		   const uint64_t *v)
{
	struct ks_fd *f = &k->fds[k->nfds++];

	f->fd = -1;
	f->vcpu = vcpu;
	f->schema = s;
	f->vals = calloc(s->nvalues, 8);
	memcpy(f->vals, v, s->nvalues * 8);
	f->have_vals = true;
}

/* promtool's verdict on @text, or 77 when it is not installed. */
static int promtool(const char *text)
{
	char path[] = "/tmp/kp-kvmstats-XXXXXX", cmd[128];
	int fd = mkstemp(path), r;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	if (system("command -v promtool >/dev/null 2>&1")) {
		unlink(path);
		return 77;
	}
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
	r = system(cmd);
	unlink(path);
	return r;
}

/* The VM of a live (fake) pid 100 in @r, with an empty vm->ks */
static struct vm *vm100(struct registry *r)
{
	struct vm *vm;

	procs[0].pid = 100;
	procs[0].start = 5;
	procs[0].alive = 1;
	assert_int_equal(registry_note_vm(r, 100, 5, NULL, 0), 0);
	vm = registry_get(r, 100, 5);
	assert_non_null(vm);
	vm->ks = calloc(1, sizeof(*vm->ks));
	assert_non_null(vm->ks);
	return vm;
}

/* Two vCPUs with every type, unit and base, and the VM's own counter:
 * one family per descriptor, summed over the vCPUs (peak: max). */
static void metrics_families(void **state)
{
	static const struct tdesc vmd[] = {
		{ F(CUMULATIVE, NONE, POW10), 0, 1, 0, 0, "remote_tlb_flush" },
	};
	static const uint64_t vmv[1] = { 5 };
	static const char *const want[] = {
		"# TYPE kvmprof_kvm_vcpu_exits_total counter\n"
		"kvmprof_kvm_vcpu_exits_total{vm=\"vm100\"} 2305843009213693958\n",
		"# TYPE kvmprof_kvm_vcpu_blocking gauge\n"
		"kvmprof_kvm_vcpu_blocking{vm=\"vm100\"} 2\n",
		"kvmprof_kvm_vcpu_max_collisions{vm=\"vm100\"} 7\n",
		"kvmprof_kvm_vcpu_halt_wait_seconds_total{vm=\"vm100\"} "
		"0.246913578\n",
		"kvmprof_kvm_vcpu_pages_kib_bytes{vm=\"vm100\"} 8192\n",
		"# TYPE kvmprof_kvm_vcpu_lin_cycles histogram\n"
		"kvmprof_kvm_vcpu_lin_cycles_bucket{vm=\"vm100\",le=\"9\"} 2\n"
		"kvmprof_kvm_vcpu_lin_cycles_bucket{vm=\"vm100\",le=\"19\"} 6\n"
		"kvmprof_kvm_vcpu_lin_cycles_bucket{vm=\"vm100\",le=\"29\"} 12\n"
		"kvmprof_kvm_vcpu_lin_cycles_bucket{vm=\"vm100\",le=\"+Inf\"} 20\n"
		"kvmprof_kvm_vcpu_lin_cycles_count{vm=\"vm100\"} 20\n",
		"# TYPE kvmprof_kvm_vcpu_halt_wait_seconds histogram\n"
		"kvmprof_kvm_vcpu_halt_wait_seconds_bucket{vm=\"vm100\",le=\"0.0\"} 20\n"
		"kvmprof_kvm_vcpu_halt_wait_seconds_bucket{vm=\"vm100\",le=\"0.000000001\"} 42\n"
		"kvmprof_kvm_vcpu_halt_wait_seconds_bucket{vm=\"vm100\",le=\"0.000000003\"} 66\n"
		"kvmprof_kvm_vcpu_halt_wait_seconds_bucket{vm=\"vm100\",le=\"0.000000007\"} 92\n"
		"kvmprof_kvm_vcpu_halt_wait_seconds_bucket{vm=\"vm100\",le=\"0.000000015\"} 120\n"
		"kvmprof_kvm_vcpu_halt_wait_seconds_bucket{vm=\"vm100\",le=\"+Inf\"} 150\n"
		"kvmprof_kvm_vcpu_halt_wait_seconds_count{vm=\"vm100\"} 150\n",
		"kvmprof_kvm_vcpu_flag_bucket{vm=\"vm100\",le=\"0\"} 10\n"
		"kvmprof_kvm_vcpu_flag_bucket{vm=\"vm100\",le=\"+Inf\"} 22\n",
		"# TYPE kvmprof_kvm_vm_remote_tlb_flush_total counter\n"
		"kvmprof_kvm_vm_remote_tlb_flush_total{vm=\"vm100\"} 5\n",
	};
	struct metrics_view v = {};
	struct kvmstats ks;
	struct registry r;
	struct vm *vm;
	char *text = NULL;
	size_t len;
	int pr;

	(void)state;
	registry_init(&r, 8, 1000, &ops);
	kvmstats_init(&ks, &r, true);
	load_into(&ks.schemas[0], build(48, all, 8, vals, NVALS, false));
	load_into(&ks.schemas[1], build(48, vmd, 1, vmv, 1, false));
	ks.nschemas = 2;
	vm = vm100(&r);
	vm->ks->fds = calloc(3, sizeof(*vm->ks->fds));
	vm->ks->final = true;
	add_fd(vm->ks, &ks.schemas[1], -1, vmv);
	add_fd(vm->ks, &ks.schemas[0], 0, vals);
	add_fd(vm->ks, &ks.schemas[0], 1, vals);

	v.reg = &r;
	v.ks = &ks;
	assert_int_equal(metrics_render(&v, 1 << 20, &text, &len), 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(text, want[i]))
			fail_msg("missing:\n%s\nin:\n%s", want[i], text);
	/* histograms: no _sum (KVM keeps none), one family each */
	assert_null(strstr(text, "kvmprof_kvm_vcpu_lin_cycles_sum"));
	pr = promtool(text);
	if (pr == 77)
		fprintf(stderr, "note: promtool not installed, format not "
				"checked by it\n");
	else
		assert_int_equal(pr, 0);
	free(text);
	/* kvm-stats-metrics = no: API only */
	v.no_kvm_metrics = true;
	assert_int_equal(metrics_render(&v, 1 << 20, &text, &len), 0);
	assert_null(strstr(text, "kvmprof_kvm_"));
	free(text);
	registry_fini(&r);
	kvmstats_fini(&ks, NULL);
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* "name": value of the kvm-stats answer's vm_stats, or -1 */
static double vm_stat(const cJSON *o, const char *name)
{
	const cJSON *s;

	cJSON_ArrayForEach(
		s, cJSON_GetObjectItem(cJSON_GetObjectItem(o, "vm_stats"),
				       "stats"))
		if (!strcmp(cJSON_GetObjectItem(s, "name")->valuestring,
			    name)) {
			uint64_t v = 0;

			assert_true(kp_json_u64(cJSON_GetObjectItem(s, "value"),
						&v));
			return (double)v;
		}
	return -1;
}

/*
 * A VMM that keeps no stats fds: KVM's debugfs directory of its VM
 * (<root>/<pid>-<fd>, one number per file) gives per-VM sums, source
 * shown; directories of other pids, subdirectories and files that hold
 * no number are left out; values are read again on each request, and
 * the last ones stay once the directory is gone with the VM.
 */
static void debugfs_fallback(void **state)
{
	char root[] = "/tmp/kvmprof-debugfs.XXXXXX", dir[64], other[160];
	struct ks_debugfs *d = NULL;
	struct kvmstats ks;
	struct registry r;
	struct vm *vm;
	cJSON *o;

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/100-12", root);
	snprintf(other, sizeof(other), "%s/1000-3", root);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(mkdir(other, 0700), 0);
	put(dir, "exits", "1234\n");
	put(dir, "halt_wakeup", "7\n");
	put(dir, "not_a_number", "x\n");
	put(other, "exits", "99\n");
	snprintf(other, sizeof(other), "%s/100-12/vcpu0", root);
	assert_int_equal(mkdir(other, 0700), 0);
	assert_int_equal(ks_debugfs_find(root, 101, &d), -ENOENT);
	assert_int_equal(ks_debugfs_find(root, 100, &d), 0);
	assert_int_equal(d->n, 2);

	registry_init(&r, 8, 1000, &ops);
	kvmstats_init(&ks, &r, true);
	vm = vm100(&r);
	vm->ks->dbg = d;
	o = kvmstats_json(&ks, vm);
	assert_string_equal(cJSON_GetObjectItem(o, "state")->valuestring,
			    "read");
	assert_non_null(strstr(cJSON_GetObjectItem(o, "source")->valuestring,
			       "debugfs"));
	assert_true(vm_stat(o, "exits") == 1234);
	assert_true(vm_stat(o, "halt_wakeup") == 7);
	assert_true(vm_stat(o, "not_a_number") == -1);
	assert_true(vm_stat(o, "vcpu0") == -1);
	cJSON_Delete(o);
	put(dir, "exits", "1300\n");
	o = kvmstats_json(&ks, vm);
	assert_true(vm_stat(o, "exits") == 1300);
	cJSON_Delete(o);
	/* the VM destroyed: its directory goes, the last values stay */
	snprintf(other, sizeof(other), "rm -rf '%s'", dir);
	assert_int_equal(system(other), 0);
	o = kvmstats_json(&ks, vm);
	assert_true(vm_stat(o, "exits") == 1300);
	cJSON_Delete(o);
	registry_fini(&r);
	kvmstats_fini(&ks, NULL);
	snprintf(other, sizeof(other), "rm -rf '%s'", root);
	assert_int_equal(system(other), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(metrics_families),
		cmocka_unit_test(debugfs_fallback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
