// SPDX-License-Identifier: GPL-2.0-only
/* KVM's binary statistics: see kvmprof/kvmstats.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kvmprof/kvmstats.h>

/* Documentation/virt/kvm/api.rst, KVM_GET_STATS_FD: flags */
#define TYPE_MASK 0xfu
#define UNIT_SHIFT 4
#define UNIT_MASK (0xfu << UNIT_SHIFT)
#define BASE_SHIFT 8
#define BASE_MASK (0xfu << BASE_SHIFT)
#define LOG_HIST_MAX 65 /* bucket 64 starts at 2^63 */

int kp_ks_read_fd(void *ctx, void *buf, size_t len, uint64_t off)
{
	int fd = *(const int *)ctx;
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done,
				  (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -ENODATA;
		done += (size_t)n;
	}
	return 0;
}

int kp_ks_read_buf(void *ctx, void *buf, size_t len, uint64_t off)
{
	const struct kp_ks_buf *b = ctx;

	if (off > b->len || len > b->len - off)
		return -ENODATA;
	memcpy(buf, (const char *)b->p + off, len);
	return 0;
}

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4); /* CPU native, as KVM writes it */
	return v;
}

static uint16_t get16(const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* One descriptor at @p into @d; 1 if left out (unknown to us), 0, -EINVAL. */
static int parse_desc(const unsigned char *p, uint32_t name_size, uint32_t i,
		      struct kp_ks_desc *d, char *err, size_t errlen)
{
	uint32_t flags = get32(p), off = get32(p + 8);
	unsigned int type = flags & TYPE_MASK;
	unsigned int unit = (flags & UNIT_MASK) >> UNIT_SHIFT;
	unsigned int base = (flags & BASE_MASK) >> BASE_SHIFT;
	const char *name = (const char *)p + KP_KS_DESC_SIZE;

	if (!memchr(name, '\0', name_size))
		return fail(err, errlen, -EINVAL,
			    "descriptor %u: name not NUL-terminated in %u "
			    "bytes",
			    i, name_size);
	if (!*name)
		return fail(err, errlen, -EINVAL, "descriptor %u: empty name",
			    i);
	d->name = name;
	d->exponent = (int16_t)get16(p + 4);
	d->size = get16(p + 6);
	d->bucket_size = get32(p + 12);
	if (type >= KP_KS_NTYPES || unit >= KP_KS_NUNITS || base > 1 ||
	    !valid_name(name))
		return 1;
	d->type = (uint8_t)type;
	d->unit = (uint8_t)unit;
	d->base = base ? 2 : 10;
	if (off % 8)
		return fail(err, errlen, -EINVAL,
			    "%s: offset %u not a multiple of 8", name, off);
	d->index = off / 8;
	if (!d->size || d->size > KP_KS_MAX_SIZE)
		return fail(err, errlen, d->size ? -E2BIG : -EINVAL,
			    "%s: %u values (1 to %u)", name, d->size,
			    KP_KS_MAX_SIZE);
	if (type < KP_KS_LINEAR_HIST && d->size != 1)
		return fail(err, errlen, -EINVAL,
			    "%s: %s with %u values (1 documented)", name,
			    kp_ks_type_name(type), d->size);
	if (type == KP_KS_LINEAR_HIST && !d->bucket_size)
		return fail(err, errlen, -EINVAL,
			    "%s: linear histogram with bucket size 0", name);
	if (type == KP_KS_LOG_HIST && d->size > LOG_HIST_MAX)
		return fail(err, errlen, -EINVAL,
			    "%s: log histogram of %u buckets (at most %u)",
			    name, d->size, LOG_HIST_MAX);
	if (d->index + d->size > KP_KS_MAX_VALUES)
		return fail(err, errlen, -E2BIG, "%s: values end past %u", name,
			    KP_KS_MAX_VALUES);
	return 0;
}

/* Descriptors of @raw (ndesc of @dsz bytes) into @s. */
static int parse_descs(struct kp_ks_schema *s, const unsigned char *raw,
		       uint32_t ndesc, uint32_t name_size, char *err,
		       size_t errlen)
{
	size_t dsz = KP_KS_DESC_SIZE + name_size;

	for (uint32_t i = 0; i < ndesc; i++) {
		struct kp_ks_desc *d = &s->desc[s->ndesc];
		int r = parse_desc(raw + i * dsz, name_size, i, d, err, errlen);

		if (r < 0)
			return r;
		if (r) {
			s->skipped++;
			continue;
		}
		for (uint32_t j = 0; j < s->ndesc; j++)
			if (!strcmp(s->desc[j].name, d->name))
				return fail(err, errlen, -EINVAL,
					    "%s: two descriptors", d->name);
		if (d->index + d->size > s->nvalues)
			s->nvalues = d->index + d->size;
		s->ndesc++;
	}
	return 0;
}

int kp_ks_load(kp_ks_read_fn rd, void *ctx, struct kp_ks_schema *s, char *err,
	       size_t errlen)
{
	unsigned char h[KP_KS_HEADER_SIZE];
	uint32_t name_size, ndesc, id_off, desc_off, data_off;
	uint64_t desc_end, data_end;
	char id[KP_KS_MAX_NAME];
	size_t dsz;
	int r;

	memset(s, 0, sizeof(*s));
	r = rd(ctx, h, sizeof(h), 0);
	if (r)
		return fail(err, errlen, r, "header: %s",
			    r == -ENODATA ? "truncated" : strerror(-r));
	/* flags (h + 0) is reserved: ignored */
	name_size = get32(h + 4);
	ndesc = get32(h + 8);
	id_off = get32(h + 12);
	desc_off = get32(h + 16);
	data_off = get32(h + 20);
	if (!name_size || name_size > KP_KS_MAX_NAME)
		return fail(err, errlen, name_size ? -E2BIG : -EINVAL,
			    "header: name size %u (1 to %u)", name_size,
			    KP_KS_MAX_NAME);
	if (ndesc > KP_KS_MAX_DESC)
		return fail(err, errlen, -E2BIG,
			    "header: %u descriptors (at most %u)", ndesc,
			    KP_KS_MAX_DESC);
	if (id_off < sizeof(h) || desc_off < sizeof(h) ||
	    data_off < sizeof(h) || data_off % 8)
		return fail(err, errlen, -EINVAL,
			    "header: offsets id %u, descriptors %u, data %u "
			    "inside the header or data misaligned",
			    id_off, desc_off, data_off);
	r = rd(ctx, id, name_size, id_off);
	if (r)
		return fail(err, errlen, r, "id string: %s",
			    r == -ENODATA ? "truncated" : strerror(-r));
	if (!memchr(id, '\0', name_size))
		return fail(err, errlen, -EINVAL,
			    "id string not NUL-terminated in %u bytes",
			    name_size);
	/* kept up to KP_KS_ID_MAX - 1 bytes */
	memcpy(s->id, id, strnlen(id, sizeof(s->id) - 1));

	dsz = KP_KS_DESC_SIZE + name_size;
	s->names = malloc(ndesc * dsz + 1);
	s->desc = calloc(ndesc + 1, sizeof(*s->desc));
	if (!s->names || !s->desc) {
		kp_ks_free(s);
		return fail(err, errlen, -ENOMEM, "out of memory");
	}
	r = rd(ctx, s->names, ndesc * dsz, desc_off);
	if (r) {
		kp_ks_free(s);
		return fail(err, errlen, r, "descriptors: %s",
			    r == -ENODATA ? "truncated" : strerror(-r));
	}
	r = parse_descs(s, (const unsigned char *)s->names, ndesc, name_size,
			err, errlen);
	desc_end = desc_off + (uint64_t)ndesc * dsz;
	data_end = data_off + (uint64_t)s->nvalues * 8;
	if (!r && desc_off < data_end && data_off < desc_end)
		r = fail(err, errlen, -EINVAL,
			 "descriptors [%u, %llu) overlap the data [%u, %llu)",
			 desc_off, (unsigned long long)desc_end, data_off,
			 (unsigned long long)data_end);
	if (r) {
		kp_ks_free(s);
		return r;
	}
	s->data_offset = data_off;
	return 0;
}

void kp_ks_free(struct kp_ks_schema *s)
{
	free(s->desc);
	free(s->names);
	s->desc = NULL;
	s->names = NULL;
	s->ndesc = 0;
}

int kp_ks_values(kp_ks_read_fn rd, void *ctx, const struct kp_ks_schema *s,
		 uint64_t *vals)
{
	if (!s->nvalues)
		return 0;
	return rd(ctx, vals, (size_t)s->nvalues * 8, s->data_offset);
}

bool kp_ks_same(const struct kp_ks_schema *a, const struct kp_ks_schema *b)
{
	if (a->ndesc != b->ndesc || a->nvalues != b->nvalues)
		return false;
	for (uint32_t i = 0; i < a->ndesc; i++) {
		const struct kp_ks_desc *x = &a->desc[i], *y = &b->desc[i];

		if (strcmp(x->name, y->name) || x->type != y->type ||
		    x->unit != y->unit || x->base != y->base ||
		    x->exponent != y->exponent || x->size != y->size ||
		    x->index != y->index || x->bucket_size != y->bucket_size)
			return false;
	}
	return true;
}

const struct kp_ks_desc *kp_ks_find(const struct kp_ks_schema *s,
				    const char *name)
{
	for (uint32_t i = 0; i < s->ndesc; i++)
		if (!strcmp(s->desc[i].name, name))
			return &s->desc[i];
	return NULL;
}

double kp_ks_scale(const struct kp_ks_desc *d)
{
	double f = 1.0, b = d->base;
	int e = d->exponent < 0 ? -d->exponent : d->exponent;

	/* no libm: |exponent| is at most 32767, the loop short */
	for (int i = 0; i < e && f < 1e300; i++)
		f *= b;
	return d->exponent < 0 ? 1.0 / f : f;
}

const char *kp_ks_type_name(unsigned int type)
{
	static const char *const n[] = { "cumulative", "instant", "peak",
					 "linear_hist", "log_hist" };

	return type < KP_KS_NTYPES ? n[type] : "unknown";
}

const char *kp_ks_unit_name(unsigned int unit)
{
	static const char *const n[] = { "none", "bytes", "seconds", "cycles",
					 "boolean" };

	return unit < KP_KS_NUNITS ? n[unit] : "unknown";
}

bool kp_ks_bucket_le(const struct kp_ks_desc *d, uint32_t i, uint64_t *ret)
{
	uint64_t hi;

	if (i + 1 >= d->size)
		return false; /* the last bucket: up to +Inf */
	if (d->type == KP_KS_LOG_HIST) {
		/* [0, 1), then [2^(i-1), 2^i) */
		*ret = i ? (1ull << i) - 1 : 0;
		return true;
	}
	if (__builtin_mul_overflow((uint64_t)d->bucket_size, (uint64_t)i + 1,
				   &hi))
		return false;
	*ret = hi - 1;
	return true;
}
