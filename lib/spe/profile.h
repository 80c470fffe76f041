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
/* Records per block of a batch (top-K keys and slots on the stack). */
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

/* Before @n more records: fold the counts if they could overflow. */
static inline void acc_reserve(struct spe_profile *p, size_t n)
{
	if (p->acc->n + n >= ACC_MAX)
		spe_profile_sync(p);
	p->acc->n += n;
}

/* The top-K adds of @keys[0..n), their PCs' hash slots in @slot (batch.c). */
void spe_profile_topk_adds(struct spe_profile *p,
			   const struct spe_topk_keys *keys,
			   const uint32_t *slot, size_t n);
/* The same on the pipe's helper thread (pipe.c). */
void spe_pipe_add_keys(struct spe_pipe *q, struct spe_profile *p,
		       const struct spe_topk_keys *keys, size_t n);

#endif
