/* SPDX-License-Identifier: GPL-2.0-only */
/* SPE library internals shared by the packet and record layers. */
#ifndef KVMPROF_SPE_INTERNAL_H
#define KVMPROF_SPE_INTERNAL_H

#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <kvmprof/spe.h>

/* Internal header kind for the first byte of a 2-byte extended header. */
#define SPE_HK_EXT	SPE_PKT_NR_TYPES

/*
 * What one header byte means when it starts a packet: type (SPE_PKT_BAD
 * for reserved encodings), payload length and index.  Indexed by the byte;
 * the table is derived from the header encodings in <kvmprof/spe.h>.
 */
struct spe_hdr_info {
	uint8_t type;
	uint8_t plen;
	uint8_t index;
	uint8_t pad;
};

extern const struct spe_hdr_info spe_hdr_tab[256];

/* Fast-path layout templates (lib/spe/decode.c). */
#define SPE_TPL_NR 8
#define SPE_TPL_LEN 64
#define SPE_TPL_OPS 10
#define SPE_TPL_CAND 4

struct spe_tpl_op {
	uint16_t dst; /* byte offset in struct spe_record */
	uint16_t src; /* payload offset in the record */
};

/*
 * What a profile needs of a record matching a template (lib/spe/fused.c):
 * where its payloads are, and which are there.  An absent field's offset
 * is 0 and its mask 0.
 */
#define SPE_TP_PC 1u  /* PC (addr[0]) */
#define SPE_TP_CTX 2u /* CONTEXTIDR_EL1 (ctx[0]) */
#define SPE_TP_TS 4u
#define SPE_TP_EV 8u
#define SPE_TP_DS 16u
#define SPE_TP_CNT0 32u /* counters 0..2: << c */
/* The profile's table slots for an absent counter, data source. */
#define SPE_TP_LAT_NONE 1024
#define SPE_TP_DS_NONE 16

struct spe_tpl_prof {
	uint16_t pc_src, ctx_src, ts_src, op_src;
	uint16_t cnt_src[SPE_CNT_NR_KNOWN];
	uint16_t cnt_mask[SPE_CNT_NR_KNOWN];
	uint16_t cnt_none[SPE_CNT_NR_KNOWN]; /* 0, or SPE_TP_LAT_NONE */
	uint16_t op_base; /* 1 + class << 8, or 0: no Operation Type */
	uint8_t op_mask;  /* 0xff, or 0: none */
	uint8_t has;	  /* SPE_TP_* */
	uint8_t ds_none;  /* 0, or SPE_TP_DS_NONE */
	uint8_t idx;	  /* in spe_fast.tpl[] */
};

struct spe_tpl {
	uint8_t mask[SPE_TPL_LEN] __attribute__((aligned(16)));
	uint8_t want[SPE_TPL_LEN] __attribute__((aligned(16)));
	uint8_t head[16]; /* first 16 bytes of the record */
	uint64_t ev_mask; /* events / data source payload masks */
	uint64_t ds_mask;
	uint16_t ev_src; /* and offsets */
	uint16_t ds_src;
	uint32_t len;
	uint32_t nops;
	uint64_t is_ts; /* 1: ends with a Timestamp, 0: with End */
	struct spe_tpl_op ops[SPE_TPL_OPS];
	struct spe_tpl_prof prof;
};

/*
 * The fast path's state inside struct spe_dec (its opaque fast[] bytes):
 * learned templates and how to find them.
 */
struct __attribute__((may_alias)) spe_fast {
	uint32_t ntpl;
	uint32_t tpl_next; /* replacement cursor */
	uint16_t key_pos[2];
	uint16_t key_tpl[256]; /* key → template byte offset in tpl[]; the
				 * last template never matches */
	uint32_t tpl_miss;
	uint32_t tpl_len;     /* length of every template */
	uint64_t win_records; /* template usefulness window */
	uint64_t win_fast;
	uint8_t tpl_learning;
	uint8_t tpl_backoff;
	uint32_t cand_next;
	uint64_t cand[SPE_TPL_CAND];	    /* layouts seen once (hashes) */
	struct spe_tpl tpl[SPE_TPL_NR + 1]; /* + one that never matches */
};

_Static_assert(sizeof(struct spe_fast) <= SPE_DEC_FAST_SIZE,
	       "SPE_DEC_FAST_SIZE too small for struct spe_fast");

static inline struct spe_fast *spe_fast_of(const struct spe_dec *d)
{
	return (struct spe_fast *)d->fast;
}

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FAST_PATH 1
#else
#define FAST_PATH 0 /* the templates store little-endian words */
#endif

/* Bytes the fast path may read from a record start. */
#define FAST_AVAIL (SPE_TPL_LEN + 8)

/* Where spe_dec_feed() puts records (decode.c, template.c). */
struct spe_out {
	struct spe_record *recs;
	size_t n;
	size_t max;
	const uint8_t *base; /* current buffer and its stream offset, */
	uint64_t base_off;   /* for learning templates */
	size_t base_len;
};

/* A profile that records matching templates go to without being
 * materialised (lib/spe/fused.c). */
struct spe_sink;

/*
 * spe_dec_feed() with a @sink (or NULL): records that match templates are
 * counted into it in order, the others returned in @recs; it returns
 * before a record a template matches when @recs holds records, so that
 * the caller adds them first.
 */
int spe_dec_feed_sink(struct spe_dec *d, const void *buf, size_t len,
		      size_t *ret_used, struct spe_record *recs, size_t max,
		      struct spe_sink *sink);
/* The fast path into @sink from @p, a record boundary in the clean state
 * (returns where it stopped; NULL: records in @o must go first). */
const uint8_t *spe_fast_sink(struct spe_dec *d, struct spe_out *o,
			     const uint8_t *p, const uint8_t *end,
			     struct spe_sink *sink);

/* The fast path (template.c): no template yet, in a new decoder; */
void spe_tpl_init(struct spe_dec *d);
/* records through the templates from @p, a record boundary in the clean
 * state, for as long as they match (returns where it stopped); */
const uint8_t *spe_fast_run(struct spe_dec *d, struct spe_out *o,
			    const uint8_t *p, const uint8_t *end);
/* the layout of record @r, just decoded by the general path, learned, */
void spe_tpl_learn(struct spe_dec *d, const struct spe_record *r,
		   const struct spe_out *o);

#if FAST_PATH
/* Template lookup key from the bytes at the two key positions. */
static inline unsigned int tpl_key(uint8_t a, uint8_t b)
{
	return (a ^ (uint8_t)(b << 3 | b >> 5)) & 0xff;
}

static inline const struct spe_tpl *tpl_lookup(const struct spe_fast *f,
					       const uint8_t *p)
{
	return (const struct spe_tpl *)((const uint8_t *)f->tpl +
					f->key_tpl[tpl_key(p[f->key_pos[0]],
							   p[f->key_pos[1]])]);
}

typedef uint8_t v16u __attribute__((vector_size(16), aligned(1)));
typedef uint8_t v16a __attribute__((vector_size(16)));

/* Whether the header and PAD bytes at @p are the template's. */
static inline bool tpl_match(const struct spe_tpl *t, const uint8_t *p)
{
	const v16u *in = (const v16u *)p;
	const v16a *m = (const v16a *)t->mask, *w = (const v16a *)t->want;
	v16a x = ((in[0] & m[0]) ^ w[0]) | ((in[1] & m[1]) ^ w[1]) |
		 ((in[2] & m[2]) ^ w[2]) | ((in[3] & m[3]) ^ w[3]);
#ifdef __SSE2__
	return _mm_movemask_epi8(_mm_cmpeq_epi8((__m128i)x,
						_mm_setzero_si128())) == 0xffff;
#else
	uint64_t lo, hi;

	memcpy(&lo, &x, 8);
	memcpy(&hi, (const uint8_t *)&x + 8, 8);
	return !(lo | hi);
#endif
}
#endif

/* when this says so: 1 record in 8 once there are templates (streams with
 * no fixed layout then pay little for trying). */
static inline bool spe_tpl_look(struct spe_dec *d)
{
	struct spe_fast *f = spe_fast_of(d);

	return !f->ntpl || !(++f->tpl_miss & 7);
}

/*
 * Files written whole or not at all (lib/spe/spefile.c): a temporary file
 * next to @path (its fd, or -errno; its name in @ret_tmp), then renamed
 * over @path when @ret is 0, removed otherwise; returns @ret or -errno.
 */
int spe_tmp_create(const char *path, char *ret_tmp, size_t size);
/* The same as a stdio stream in *@ret_f; 0 or -errno. */
int spe_tmp_fopen(const char *path, char *ret_tmp, size_t size, FILE **ret_f);
int spe_tmp_finish(const char *tmp, const char *path, int ret);

/* Payload of @n (0..8) bytes at @p, little-endian. */
static inline uint64_t spe_load_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* 8 bytes at @p, little-endian, any alignment. */
static inline uint64_t spe_load_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* Mask of the low @n bytes, n in 0..8. */
static inline uint64_t spe_bytes_mask(unsigned int n)
{
	return n >= 8 ? ~0ULL : (1ULL << (8 * n)) - 1;
}

#endif
