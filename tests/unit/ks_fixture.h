/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * KVM binary statistics as KVM lays them out (KVM_GET_STATS_FD, see
 * Documentation/virt/kvm/api.rst): a descriptor table and buffer
 * assembled by hand, for test_kvmstats.c and test_kvmstats_vm.c.
 * Header-only, one copy per test program.
 */
#ifndef KP_TEST_KS_FIXTURE_H
#define KP_TEST_KS_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <linux/kvm.h>

#include <kvmprof/kvmstats.h>

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

#endif
