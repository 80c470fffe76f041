/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * KVM's binary statistics (KVM_GET_STATS_FD, Documentation/virt/kvm/api.rst):
 * a header, an id string, descriptors (type, unit, base and exponent,
 * number of values, offset, bucket size, name), and a block of u64 values.
 * The parser trusts nothing of it: the stats may come from a kernel of
 * another version, so every size is bounded and every offset checked.
 * No logging: errors come back as -errno with a message.
 */
#ifndef KVMPROF_KVMSTATS_H
#define KVMPROF_KVMSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KP_KS_HEADER_SIZE 24   /* struct kvm_stats_header */
#define KP_KS_DESC_SIZE 16     /* struct kvm_stats_desc without its name */
#define KP_KS_MAX_DESC 1024    /* descriptors per stats fd */
#define KP_KS_MAX_NAME 256     /* header's name_size, bytes with the NUL */
#define KP_KS_MAX_SIZE 1024    /* values of one statistic (buckets) */
#define KP_KS_MAX_VALUES 65536 /* u64 values of one stats fd */
#define KP_KS_ID_MAX 64	       /* id string kept (longer: truncated) */

enum kp_ks_type {
	KP_KS_CUMULATIVE,
	KP_KS_INSTANT,
	KP_KS_PEAK,
	KP_KS_LINEAR_HIST,
	KP_KS_LOG_HIST,
	KP_KS_NTYPES,
};

enum kp_ks_unit {
	KP_KS_NONE,
	KP_KS_BYTES,
	KP_KS_SECONDS,
	KP_KS_CYCLES,
	KP_KS_BOOLEAN,
	KP_KS_NUNITS,
};

struct kp_ks_desc {
	const char *name;     /* [a-zA-Z0-9_]+, inside the schema */
	uint8_t type;	      /* enum kp_ks_type */
	uint8_t unit;	      /* enum kp_ks_unit */
	uint8_t base;	      /* 10 or 2 */
	int16_t exponent;     /* value * base^exponent is in the unit */
	uint16_t size;	      /* values: 1, or buckets */
	uint32_t index;	      /* of the first value in the data block */
	uint32_t bucket_size; /* linear histograms */
};

/* What one stats fd describes (read once per fd). */
struct kp_ks_schema {
	char id[KP_KS_ID_MAX];
	uint32_t ndesc;
	struct kp_ks_desc *desc;
	char *names;
	uint32_t data_offset;
	uint32_t nvalues; /* u64 values the descriptors cover */
	uint32_t skipped; /* descriptors of an unknown type, unit or
				 * base or name (newer kernel): left out */
};

/* Read @len bytes at @off into @buf: 0, -ENODATA if fewer, or -errno. */
typedef int (*kp_ks_read_fn)(void *ctx, void *buf, size_t len, uint64_t off);

/* kp_ks_read_fn over a stats fd (@ctx: pointer to the int fd). */
int kp_ks_read_fd(void *ctx, void *buf, size_t len, uint64_t off);

/* kp_ks_read_fn over a buffer in memory (@ctx: struct kp_ks_buf). */
struct kp_ks_buf {
	const void *p;
	size_t len;
};
int kp_ks_read_buf(void *ctx, void *buf, size_t len, uint64_t off);

/*
 * Header, id and descriptors into @s: 0, or -EINVAL (malformed, with @err
 * saying where), -E2BIG (past a limit), -ENODATA (truncated), -ENOMEM, or
 * the reader's -errno.  kp_ks_free() it after success.
 */
int kp_ks_load(kp_ks_read_fn rd, void *ctx, struct kp_ks_schema *s, char *err,
	       size_t errlen);
void kp_ks_free(struct kp_ks_schema *s);

/* The data block, @s->nvalues u64 into @vals: 0 or the reader's -errno. */
int kp_ks_values(kp_ks_read_fn rd, void *ctx, const struct kp_ks_schema *s,
		 uint64_t *vals);

/* Same descriptors (names, types, units, sizes, offsets)? */
bool kp_ks_same(const struct kp_ks_schema *a, const struct kp_ks_schema *b);

/* The descriptor named @name, or NULL. */
const struct kp_ks_desc *kp_ks_find(const struct kp_ks_schema *s,
				    const char *name);

/* Factor from a raw value to the unit: base^exponent. */
double kp_ks_scale(const struct kp_ks_desc *d);

/* "cumulative", "instant", "peak", "linear_hist", "log_hist" */
const char *kp_ks_type_name(unsigned int type);
/* "none", "bytes", "seconds", "cycles", "boolean" */
const char *kp_ks_unit_name(unsigned int unit);

/*
 * Upper bound of bucket @i of histogram @d in raw units, inclusive (KVM's
 * ranges are half open on integers: [lo, hi) is [lo, hi - 1]); false for
 * the last bucket (+Inf).
 */
bool kp_ks_bucket_le(const struct kp_ks_desc *d, uint32_t i, uint64_t *ret);

#endif
