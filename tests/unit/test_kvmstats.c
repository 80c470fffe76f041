// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM binary statistics parser against hand-assembled buffers laid out as
 * Documentation/virt/kvm/api.rst (KVM_GET_STATS_FD) documents: header, id
 * string, descriptors, data, at the offsets the header gives.  Every type,
 * unit and base; unknown ones left out; malformed and truncated input gets
 * an error saying what is wrong.  And the Prometheus families named and
 * typed from those descriptors (metrics_kvm.c), checked line by line and
 * by promtool when installed.
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

/* KVM_STATS_NAME_SIZE, kernel-internal: the name size KVM uses */
#define KVM_NAME_SIZE 48

/* The documented layout is the kernel's uapi: check ours against it. */
_Static_assert(sizeof(struct kvm_stats_header) == KP_KS_HEADER_SIZE, "hdr");
_Static_assert(sizeof(struct kvm_stats_desc) == KP_KS_DESC_SIZE, "desc");

#define F(type, unit, base) \
	(KVM_STATS_TYPE_##type | KVM_STATS_UNIT_##unit | KVM_STATS_BASE_##base)

struct tdesc {
	uint32_t flags;
	int16_t exp;
	uint16_t size;
	uint32_t off;
	uint32_t bucket;
	const char *name;
};

/* Every type, unit and base. */
static const struct tdesc all[] = {
	{ F(CUMULATIVE, NONE, POW10), 0, 1, 0, 0, "exits" },
	{ F(INSTANT, BOOLEAN, POW10), 0, 1, 8, 0, "blocking" },
	{ F(PEAK, NONE, POW10), 0, 1, 16, 0, "max_collisions" },
	{ F(CUMULATIVE, SECONDS, POW10), -9, 1, 24, 0, "halt_wait_ns" },
	{ F(INSTANT, BYTES, POW2), 10, 1, 32, 0, "pages_kib" },
	{ F(LINEAR_HIST, CYCLES, POW10), 0, 4, 40, 10, "lin_hist" },
	{ F(LOG_HIST, SECONDS, POW10), -9, 6, 72, 0, "halt_wait_hist" },
	{ F(LINEAR_HIST, BOOLEAN, POW10), 0, 2, 120, 1, "flag_hist" },
};
#define NVALS 17
static const uint64_t vals[NVALS] = {
	(1ull << 60) + 3,
	1,
	7,
	123456789,
	4, /* scalars */
	1,
	2,
	3,
	4, /* lin_hist */
	10,
	11,
	12,
	13,
	14,
	15, /* halt_wait_hist */
	5,
	6, /* flag_hist */
};

static unsigned char buf[65536];

/*
 * Assemble: header, then (id, descriptors, data) or, with @data_first,
 * (data, id, descriptors).  Returns the length.
 */
static size_t build(uint32_t name_size, const struct tdesc *d, uint32_t n,
		    const uint64_t *v, uint32_t nv, bool data_first)
{
	struct kvm_stats_header h = { .name_size = name_size, .num_desc = n };
	size_t dsz = sizeof(struct kvm_stats_desc) + name_size, pos;

	memset(buf, 0, sizeof(buf));
	pos = sizeof(h);
	if (data_first) {
		h.data_offset = (uint32_t)pos;
		pos += nv * 8;
	}
	h.id_offset = (uint32_t)pos;
	snprintf((char *)buf + pos, name_size, "kvm-4242/vcpu-0");
	pos += name_size;
	h.desc_offset = (uint32_t)pos;
	for (uint32_t i = 0; i < n; i++) {
		struct kvm_stats_desc kd = { .flags = d[i].flags,
					     .exponent = d[i].exp,
					     .size = d[i].size,
					     .offset = d[i].off,
					     .bucket_size = d[i].bucket };

		memcpy(buf + pos, &kd, sizeof(kd));
		strncpy((char *)buf + pos + sizeof(kd), d[i].name, name_size);
		pos += dsz;
	}
	if (!data_first) {
		pos = (pos + 7) & ~7ul;
		h.data_offset = (uint32_t)pos;
		pos += nv * 8;
	}
	memcpy(buf + h.data_offset, v, nv * 8);
	memcpy(buf, &h, sizeof(h));
	return pos;
}

static int load(size_t len, struct kp_ks_schema *s, char *err)
{
	struct kp_ks_buf b = { buf, len };

	return kp_ks_load(kp_ks_read_buf, &b, s, err, 160);
}

static void check_all(struct kp_ks_schema *s, size_t len)
{
	struct kp_ks_buf b = { buf, len };
	const struct kp_ks_desc *d;
	uint64_t v[NVALS], le;

	assert_string_equal(s->id, "kvm-4242/vcpu-0");
	assert_int_equal(s->ndesc, 8);
	assert_int_equal(s->nvalues, NVALS);
	assert_int_equal(s->skipped, 0);
	assert_int_equal(kp_ks_values(kp_ks_read_buf, &b, s, v), 0);
	assert_memory_equal(v, vals, sizeof(v));

	d = kp_ks_find(s, "exits");
	assert_non_null(d);
	assert_int_equal(d->type, KP_KS_CUMULATIVE);
	assert_int_equal(d->unit, KP_KS_NONE);
	assert_true(kp_ks_scale(d) == 1.0);
	assert_int_equal(v[d->index], (1ull << 60) + 3);
	d = kp_ks_find(s, "blocking");
	assert_int_equal(d->type, KP_KS_INSTANT);
	assert_int_equal(d->unit, KP_KS_BOOLEAN);
	d = kp_ks_find(s, "max_collisions");
	assert_int_equal(d->type, KP_KS_PEAK);
	assert_int_equal(v[d->index], 7);
	d = kp_ks_find(s, "halt_wait_ns");
	assert_int_equal(d->unit, KP_KS_SECONDS);
	assert_int_equal(d->base, 10);
	assert_int_equal(d->exponent, -9);
	assert_true(kp_ks_scale(d) > 0.999999e-9 &&
		    kp_ks_scale(d) < 1.000001e-9);
	d = kp_ks_find(s, "pages_kib");
	assert_int_equal(d->unit, KP_KS_BYTES);
	assert_int_equal(d->base, 2);
	assert_true(kp_ks_scale(d) == 1024.0);

	/* linear: [0,10) [10,20) [20,30) [30,+Inf) */
	d = kp_ks_find(s, "lin_hist");
	assert_int_equal(d->type, KP_KS_LINEAR_HIST);
	assert_int_equal(d->unit, KP_KS_CYCLES);
	assert_int_equal(d->size, 4);
	assert_int_equal(d->index, 5);
	assert_true(kp_ks_bucket_le(d, 0, &le));
	assert_int_equal(le, 9);
	assert_true(kp_ks_bucket_le(d, 2, &le));
	assert_int_equal(le, 29);
	assert_false(kp_ks_bucket_le(d, 3, &le));
	/* log: [0,1) [1,2) [2,4) [4,8) [8,16) [16,+Inf) */
	d = kp_ks_find(s, "halt_wait_hist");
	assert_int_equal(d->type, KP_KS_LOG_HIST);
	assert_int_equal(d->index, 9);
	assert_true(kp_ks_bucket_le(d, 0, &le));
	assert_int_equal(le, 0);
	assert_true(kp_ks_bucket_le(d, 1, &le));
	assert_int_equal(le, 1);
	assert_true(kp_ks_bucket_le(d, 4, &le));
	assert_int_equal(le, 15);
	assert_false(kp_ks_bucket_le(d, 5, &le));
	assert_int_equal(v[d->index + 5], 15);
	d = kp_ks_find(s, "flag_hist");
	assert_int_equal(d->unit, KP_KS_BOOLEAN);
	assert_int_equal(d->bucket_size, 1);
	assert_null(kp_ks_find(s, "nope"));
}

static void every_type_unit_base(void **state)
{
	struct kp_ks_schema s, s2;
	char err[160] = "";
	size_t len;

	(void)state;
	/* KVM's own name size */
	len = build(KVM_NAME_SIZE, all, 8, vals, NVALS, false);
	assert_int_equal(load(len, &s, err), 0);
	check_all(&s, len);
	/* another name size, data before the descriptors: same schema */
	len = build(40, all, 8, vals, NVALS, true);
	assert_int_equal(load(len, &s2, err), 0);
	check_all(&s2, len);
	assert_true(kp_ks_same(&s, &s2));
	kp_ks_free(&s2);
	/* a different unit is a different schema */
	{
		struct tdesc d2[8];

		memcpy(d2, all, sizeof(d2));
		d2[3].exp = -6;
		len = build(48, d2, 8, vals, NVALS, false);
		assert_int_equal(load(len, &s2, err), 0);
		assert_false(kp_ks_same(&s, &s2));
		kp_ks_free(&s2);
	}
	kp_ks_free(&s);
}

/* Through a real file descriptor (pread), as from a stats fd. */
static void from_fd(void **state)
{
	struct kp_ks_schema s;
	char err[160];
	size_t len = build(KVM_NAME_SIZE, all, 8, vals, NVALS, false);
	uint64_t v[NVALS];
	int fd = memfd_create("stats", MFD_CLOEXEC);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(kp_ks_load(kp_ks_read_fd, &fd, &s, err, sizeof(err)),
			 0);
	assert_int_equal(kp_ks_values(kp_ks_read_fd, &fd, &s, v), 0);
	assert_memory_equal(v, vals, sizeof(v));
	kp_ks_free(&s);
	/* cut inside the data: the values read fails, the schema did not */
	assert_int_equal(ftruncate(fd, (off_t)len - 4), 0);
	assert_int_equal(kp_ks_load(kp_ks_read_fd, &fd, &s, err, sizeof(err)),
			 0);
	assert_int_equal(kp_ks_values(kp_ks_read_fd, &fd, &s, v), -ENODATA);
	kp_ks_free(&s);
	close(fd);
}

/* A newer kernel's type, unit or base, or a name we cannot export: left
 * out and counted, the rest served. */
static void unknown_left_out(void **state)
{
	static const struct tdesc d[] = {
		{ F(CUMULATIVE, NONE, POW10), 0, 1, 0, 0, "exits" },
		{ 5, 0, 1, 8, 0, "new_type" },
		{ 5 << 4, 0, 1, 16, 0, "new_unit" },
		{ 2 << 8, 0, 1, 24, 0, "new_base" },
		{ F(CUMULATIVE, NONE, POW10), 0, 1, 32, 0, "has-dash" },
		{ F(INSTANT, NONE, POW10), 0, 1, 40, 0, "last" },
	};
	static const uint64_t v[6] = { 1, 2, 3, 4, 5, 6 };
	struct kp_ks_schema s;
	char err[160];

	(void)state;
	assert_int_equal(load(build(48, d, 6, v, 6, false), &s, err), 0);
	assert_int_equal(s.ndesc, 2);
	assert_int_equal(s.skipped, 4);
	assert_string_equal(s.desc[1].name, "last");
	assert_int_equal(s.desc[1].index, 5);
	kp_ks_free(&s);
}

struct bad {
	const char *what;
	int err;
	const char *msg;
};

static void expect(size_t len, const struct bad *b)
{
	struct kp_ks_schema s;
	char err[160] = "";
	int r = load(len, &s, err);

	if (r != b->err || !strstr(err, b->msg))
		fail_msg("%s: got %d \"%s\", want %d \"%s\"", b->what, r, err,
			 b->err, b->msg);
}

/* Poke header field @i (u32 index) of the last build. */
static void hdr(int i, uint32_t v)
{
	memcpy(buf + 4 * i, &v, 4);
}

static void malformed(void **state)
{
	struct tdesc d[8];
	size_t len;
	uint32_t v;

	(void)state;
	len = build(48, all, 8, vals, NVALS, false);
	expect(10,
	       &(struct bad){ "short header", -ENODATA, "header: truncated" });
	expect(100, &(struct bad){ "cut in the descriptors", -ENODATA,
				   "descriptors: truncated" });
	expect(30, &(struct bad){ "cut in the id", -ENODATA,
				  "id string: truncated" });
	hdr(1, 0);
	expect(len, &(struct bad){ "name size 0", -EINVAL, "name size 0" });
	hdr(1, 100000);
	expect(len,
	       &(struct bad){ "name size huge", -E2BIG, "name size 100000" });
	len = build(48, all, 8, vals, NVALS, false);
	hdr(2, 5000);
	expect(len, &(struct bad){ "too many", -E2BIG, "5000 descriptors" });
	len = build(48, all, 8, vals, NVALS, false);
	hdr(2, 9); /* one more than there is */
	expect(len, &(struct bad){ "count past the end", -EINVAL,
				   "overlap the data" });
	len = build(48, all, 8, vals, NVALS, false);
	hdr(5, 12);
	expect(len, &(struct bad){ "data in header", -EINVAL, "offsets" });
	len = build(48, all, 8, vals, NVALS, false);
	memcpy(&v, buf + 16, 4); /* data over the descriptors */
	hdr(5, (v + 7) & ~7u);
	expect(len, &(struct bad){ "overlap", -EINVAL, "overlap the data" });
	len = build(48, all, 8, vals, NVALS, false);
	memset(buf + 24, 'x', 48);
	expect(len, &(struct bad){ "id unterminated", -EINVAL,
				   "id string not NUL-terminated" });

	memcpy(d, all, sizeof(d));
	d[2].name = "0123456789012345678901234567890123456789012345678";
	expect(build(48, d, 8, vals, NVALS, false),
	       &(struct bad){ "name unterminated", -EINVAL,
			      "descriptor 2: name not NUL-terminated" });
	memcpy(d, all, sizeof(d));
	d[1].off = 12;
	expect(build(48, d, 8, vals, NVALS, false),
	       &(struct bad){ "misaligned", -EINVAL,
			      "blocking: offset 12 not a multiple of 8" });
	memcpy(d, all, sizeof(d));
	d[0].size = 0;
	expect(build(48, d, 8, vals, NVALS, false),
	       &(struct bad){ "size 0", -EINVAL, "exits: 0 values" });
	d[0].size = 2;
	expect(build(48, d, 8, vals, NVALS, false),
	       &(struct bad){ "counter of 2", -EINVAL,
			      "exits: cumulative with 2 values" });
	memcpy(d, all, sizeof(d));
	d[5].size = 5000;
	expect(build(48, d, 8, vals, NVALS, false),
	       &(struct bad){ "huge histogram", -E2BIG,
			      "lin_hist: 5000 values" });
	memcpy(d, all, sizeof(d));
	d[5].bucket = 0;
	expect(build(48, d, 8, vals, NVALS, false),
	       &(struct bad){ "bucket 0", -EINVAL, "bucket size 0" });
	memcpy(d, all, sizeof(d));
	d[6].size = 70;
	expect(build(48, d, 8, vals, NVALS, false),
	       &(struct bad){ "log of 70", -EINVAL, "log histogram of 70" });
	memcpy(d, all, sizeof(d));
	d[4].off = 8u * 65536;
	expect(build(48, d, 8, vals, NVALS, false),
	       &(struct bad){ "far offset", -E2BIG,
			      "pages_kib: values end past 65536" });
	memcpy(d, all, sizeof(d));
	d[7].name = "exits";
	expect(build(48, d, 8, vals, NVALS, false),
	       &(struct bad){ "twice", -EINVAL, "exits: two descriptors" });
}

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

/* /proc/PID/fd link targets, as KVM names its anonymous inodes
 * (virt/kvm/kvm_main.c: "kvm-vm", "kvm-vcpu:%d", "kvm-vm-stats",
 * "kvm-vcpu-stats:%d"). */
static void fd_links(void **state)
{
	static const struct {
		const char *t;
		int want;
		int32_t vcpu;
	} c[] = {
		{ "anon_inode:kvm-vm-stats", 1, -1 },
		{ "anon_inode:kvm-vcpu-stats:0", 2, 0 },
		{ "anon_inode:kvm-vcpu-stats:4095", 2, 4095 },
		{ "anon_inode:kvm-vm", 3, 0 },
		{ "anon_inode:kvm-vcpu:7", 4, 7 },
		{ "anon_inode:kvm-vcpu-stats:", 0, 0 },
		{ "anon_inode:kvm-vcpu-stats:-1", 0, 0 },
		{ "anon_inode:kvm-vcpu-stats:1x", 0, 0 },
		{ "anon_inode:kvm-vcpu-stats:99999999999", 0, 0 },
		{ "anon_inode:kvm-vm-statsx", 0, 0 },
		{ "anon_inode:kvm-vmx", 0, 0 },
		{ "/dev/kvm", 0, 0 },
		{ "anon_inode:[eventfd]", 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int32_t vcpu = 0;
		int got = kvmstats_classify(c[i].t, &vcpu);

		if (got != c[i].want || (got && got != 3 && vcpu != c[i].vcpu))
			fail_msg("%s: %d vcpu %d, want %d vcpu %d", c[i].t, got,
				 vcpu, c[i].want, c[i].vcpu);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_type_unit_base),
		cmocka_unit_test(from_fd),
		cmocka_unit_test(unknown_left_out),
		cmocka_unit_test(malformed),
		cmocka_unit_test(metrics_families),
		cmocka_unit_test(fd_links),
		cmocka_unit_test(debugfs_fallback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
