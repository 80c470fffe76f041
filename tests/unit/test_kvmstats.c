// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM binary statistics parser against hand-assembled buffers laid out as
 * Documentation/virt/kvm/api.rst (KVM_GET_STATS_FD) documents: header, id
 * string, descriptors, data, at the offsets the header gives.  Every type,
 * unit and base; unknown ones left out; malformed and truncated input gets
 * an error saying what is wrong; the fd names KVM gives its files.  The
 * Prometheus families and the debugfs fallback: test_kvmstats_vm.c.
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
#include "kvmstats.h"
#include "ks_fixture.h"

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
		cmocka_unit_test(fd_links),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
