/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the profile's one-record code (profile.c) and its batches
 * (batch.c) share: the op table's bits, histogram buckets, and the counts
 * by value a batch keeps until spe_profile_sync().
 */
#ifndef KVMPROF_LIB_SPE_PROFILE_H
#define KVMPROF_LIB_SPE_PROFILE_H

#include <kvmprof/spe_profile.h>

/* op_tab entries: the subclass, and what the operation mix counts */
#define OPT_SUB 0x00ff
#define OPT_LD 0x0100
#define OPT_ST 0x0200
#define OPT_COND 0x0400
#define OPT_IND 0x0800
#define OPT_CALL 0x1000
#define OPT_RET 0x2000

static inline unsigned int hist_bucket(uint64_t v)
{
	unsigned int msb;

	if (v < 4)
		return v;
	if (v > 0xffff)
		v = 0xffff;
	msb = 63 - __builtin_clzll(v);
	/* 4 buckets per power of two: the two bits below the top one */
	return 4 * (msb - 1) + ((v >> (msb - 2)) & 3);
}

static inline void hist_add(struct spe_hist *h, uint64_t v)
{
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
	h->bucket[hist_bucket(v)]++;
}

/* Latencies below LAT_DIRECT are counted by value (slot LAT_DIRECT: absent). */
#define LAT_DIRECT 1024
/* Events bytes counted by value: all 8. */
#define EV_BYTES 8
/* Records per block of a batch (top-K keys and hashes on the stack). */
#define BATCH 64
/* A sync before the 32-bit counts could overflow. */
#define ACC_MAX (1u << 31)

struct spe_profile_acc {
	uint64_t n;		    /* records since the last sync */
	uint32_t op[1 + 4 * 256];   /* 0: no op, else 1 + class.op */
	uint32_t ev[EV_BYTES][256]; /* events bytes by value */
	uint32_t lat[SPE_CNT_NR_KNOWN][LAT_DIRECT + 1];
	uint32_t ds[16 + 1];	  /* raw values 0..15; 16: none */
	uint32_t elns[4 * 2 + 1]; /* by EL and NS bit of the PC; 8: no PC */
};

/* The events bytes of a record by value (a zero byte counts nothing:
 * sync skips value 0; most events are in the low two bytes). */
static inline void acc_events(struct spe_profile_acc *a, uint64_t ev)
{
	a->ev[0][ev & 0xff]++;
	a->ev[1][(ev >> 8) & 0xff]++;
	if (ev >> 16) {
		a->ev[2][(ev >> 16) & 0xff]++;
		a->ev[3][(ev >> 24) & 0xff]++;
	}
	if (__builtin_expect(ev >> 32, 0)) {
		a->ev[4][(ev >> 32) & 0xff]++;
		a->ev[5][(ev >> 40) & 0xff]++;
		a->ev[6][(ev >> 48) & 0xff]++;
		a->ev[7][ev >> 56]++;
	}
}

/* What a batch sums in registers, and its fold into the profile. */
struct batch_sums {
	uint64_t ev_recs, ds_recs, ts_recs, no_ctx;
	uint64_t ts_lo, ts_hi; /* of the records with a Timestamp */
};

static inline void batch_sums_fold(struct spe_profile *p, size_t n,
				   const struct batch_sums *b)
{
	p->samples += n;
	p->ev_records += b->ev_recs;
	p->ds_records += b->ds_recs;
	p->no_ctx += b->no_ctx;
	if (b->ts_recs) {
		if (!p->ts_records || b->ts_lo < p->ts_first)
			p->ts_first = b->ts_lo;
		if (b->ts_hi > p->ts_last)
			p->ts_last = b->ts_hi;
		p->ts_records += b->ts_recs;
	}
}

/* Before @n more records: fold the counts if they could overflow. */
static inline void acc_reserve(struct spe_profile *p, size_t n)
{
	if (p->acc->n + n >= ACC_MAX)
		spe_profile_sync(p);
	p->acc->n += n;
}

/* The top-K adds of @keys[0..n), their PCs' hashes in @hv (batch.c). */
void spe_profile_topk_adds(struct spe_profile *p,
			   const struct spe_topk_keys *keys, const uint32_t *hv,
			   size_t n);
/* The same on the pipe's helper thread (pipe.c). */
void spe_pipe_add_keys(struct spe_pipe *q, struct spe_profile *p,
		       const struct spe_topk_keys *keys, size_t n);

#endif
