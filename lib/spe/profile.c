// SPDX-License-Identifier: GPL-2.0-only
/*
 * SPE profile aggregation: histograms, a frequent-items top-K sketch, and the
 * per-profile counters `kvmprof spe report` prints and the daemon keeps.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <kvmprof/spe_profile.h>

#include "topk.h"

/* op_tab entries: the subclass, and what the operation mix counts */
#define OPT_SUB 0x00ff
#define OPT_LD 0x0100
#define OPT_ST 0x0200
#define OPT_COND 0x0400
#define OPT_IND 0x0800
#define OPT_CALL 0x1000
#define OPT_RET 0x2000

/* ---- histograms --------------------------------------------------------- */

uint64_t spe_hist_lo(unsigned int b)
{
	unsigned int msb;

	if (b < 4)
		return b;
	msb = b / 4 + 1;
	return (1ull << msb) | (uint64_t)(b % 4) << (msb - 2);
}

uint64_t spe_hist_hi(unsigned int b)
{
	return b + 1 < SPE_HIST_BUCKETS ? spe_hist_lo(b + 1) - 1 : 0xffff;
}

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

void spe_hist_add(struct spe_hist *h, uint64_t v)
{
	hist_add(h, v);
}

unsigned int spe_hist_bucket(uint64_t v)
{
	return hist_bucket(v);
}

uint64_t spe_hist_quantile(const struct spe_hist *h, double q)
{
	uint64_t want, seen = 0;

	if (!h->count)
		return 0;
	want = (uint64_t)(q * (double)h->count);
	if (want >= h->count)
		want = h->count - 1;
	for (unsigned int b = 0; b < SPE_HIST_BUCKETS; b++) {
		seen += h->bucket[b];
		if (seen > want)
			return spe_hist_hi(b) < h->max ? spe_hist_hi(b) : h->max;
	}
	return h->max;
}

/* Latencies below LAT_DIRECT are counted by value (slot LAT_DIRECT: absent). */
#define LAT_DIRECT 1024
/* Events bytes counted by value: the low 4 (higher bits one by one). */
#define EV_BYTES 4
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

/* ---- profile --------------------------------------------------------------- */

/*
 * Per-profile lookup tables: what add_op() needs of each (class, payload)
 * (spe_op_decode() once per value instead of per record), and the data
 * source names of raw values 0..15 for the profile's CPU.
 */
static void tables_init(struct spe_profile *p)
{
	for (unsigned int cls = 0; cls < 4; cls++) {
		for (unsigned int v = 0; v < 256; v++) {
			struct spe_op_info op;
			uint16_t e;

			spe_op_decode(cls, v, &op);
			e = op.sub;
			if (op.cls == SPE_OPC_LDST)
				e |= op.flags & SPE_OPF_ST ? OPT_ST : OPT_LD;
			if (op.cls == SPE_OPC_BRANCH) {
				e |= op.flags & SPE_OPF_COND ? OPT_COND : 0;
				e |= op.flags & SPE_OPF_IND ? OPT_IND : 0;
				e |= op.cr == SPE_BR_CR_BL ? OPT_CALL : 0;
				e |= op.cr == SPE_BR_CR_RET ? OPT_RET : 0;
			}
			p->op_tab[cls][v] = e;
		}
	}
	for (unsigned int v = 0; v < 16; v++)
		p->ds_tab[v] = spe_ds_decode(p->cpu, v);
}

int spe_profile_init(struct spe_profile *p, const struct spe_profile_opts *o)
{
	struct spe_profile_opts def = { 0 };
	int ret;

	if (!o)
		o = &def;
	memset(p, 0, sizeof(*p));
	p->midr = o->midr;
	p->cpu = spe_cpu_from_midr(o->midr);
	tables_init(p);
	p->acc = calloc(1, sizeof(*p->acc));
	ret = p->acc ? 0 : -ENOMEM;
	if (!ret)
		ret = spe_topk_init(&p->pcs, o->top_pcs ? o->top_pcs : 4096);
	if (!ret)
		ret = spe_topk_init(&p->ctx, o->top_ctx ? o->top_ctx : 256);
	if (ret)
		spe_profile_free(p);
	return ret;
}

void spe_profile_free(struct spe_profile *p)
{
	spe_topk_free(&p->pcs);
	spe_topk_free(&p->ctx);
	free(p->acc);
	p->acc = NULL;
}

void spe_profile_clear(struct spe_profile *p)
{
	struct spe_topk pcs = p->pcs, ctx = p->ctx;
	struct spe_profile_acc *acc = p->acc;
	uint64_t midr = p->midr;
	uint32_t cpu = p->cpu;

	memset(p, 0, sizeof(*p));
	p->pcs = pcs;
	p->ctx = ctx;
	p->midr = midr;
	p->cpu = cpu;
	p->acc = acc;
	if (acc)
		memset(acc, 0, sizeof(*acc));
	tables_init(p);
	spe_topk_clear(&p->pcs);
	spe_topk_clear(&p->ctx);
}

static inline void add_op(struct spe_profile *p, const struct spe_record *r)
{
	unsigned int cls = r->op_class & 3;
	uint16_t e;

	if (!(r->flags & SPE_REC_OP)) {
		p->no_op++;
		return;
	}
	e = p->op_tab[cls][r->op];
	p->op_class[cls]++;
	p->op_sub[e & OPT_SUB]++;
	p->loads += !!(e & OPT_LD);
	p->stores += !!(e & OPT_ST);
	p->br_cond += !!(e & OPT_COND);
	p->br_ind += !!(e & OPT_IND);
	p->br_call += !!(e & OPT_CALL);
	p->br_ret += !!(e & OPT_RET);
}

static inline void profile_add(struct spe_profile *p,
			       const struct spe_record *r)
{
	p->samples++;
	if (spe_rec_has_addr(r, SPE_ADDR_PC)) {
		uint64_t pc = r->addr[SPE_ADDR_PC];
		unsigned int el = spe_addr_el(pc);

		p->el[el]++;
		p->el_ns[el][spe_addr_ns(pc)]++;
		topk_add(&p->pcs, spe_addr_canon(pc));
	} else {
		p->no_pc++;
	}
	add_op(p, r);
	if (r->flags & SPE_REC_EV) {
		uint64_t ev = r->events;

		p->ev_records++;
		while (ev) {
			p->ev[__builtin_ctzll(ev)]++;
			ev &= ev - 1;
		}
	}
	for (unsigned int i = 0; i < SPE_CNT_NR_KNOWN; i++)
		if (spe_rec_has_cnt(r, i))
			hist_add(&p->lat[i], r->cnt[i]);
	if (r->flags & SPE_REC_DS) {
		p->ds_records++;
		if (r->ds < 16) {
			p->ds[p->ds_tab[r->ds]]++;
			p->ds_raw[r->ds]++;
		} else {
			p->ds[spe_ds_decode(p->cpu, r->ds)]++;
			p->ds_raw_other++;
		}
	}
	if (r->ctx_mask & (1u << SPE_CTX_EL1))
		topk_add(&p->ctx, r->ctx[SPE_CTX_EL1]);
	else
		p->no_ctx++;
	if (r->flags & SPE_REC_TS) {
		if (!p->ts_records++ || r->ts < p->ts_first)
			p->ts_first = r->ts;
		if (r->ts > p->ts_last)
			p->ts_last = r->ts;
	}
}

void spe_profile_add(struct spe_profile *p, const struct spe_record *r)
{
	profile_add(p, r);
}

/* ---- batches: counts by value, folded at sync --------------------------- */

/*
 * The table counts of @n records: each field's count goes to the table
 * slot of its value (or, absent, to a slot that counts nothing), so there
 * is no branch on the record's kind, only on rare values (latencies from
 * LAT_DIRECT up, data sources from 16 up, events above bit 31); the
 * per-record scalars are summed in registers and stored once.  The top-K
 * keys go to @keys; with @pcs, each PC's hash slot to @slot, its probe
 * started (the counts hide its cache miss).
 */
static inline __attribute__((always_inline)) void
batch_counts(struct spe_profile *p, struct spe_profile_acc *a,
	     const struct spe_record *r, size_t n, struct spe_topk_keys *keys,
	     uint32_t *slot, const struct spe_topk *pcs)
{
	uint64_t ev_recs = 0, ds_recs = 0, ts_recs = 0, no_ctx = 0;
	uint64_t ts_lo = UINT64_MAX, ts_hi = 0;

	for (size_t i = 0; i < n; i++, r++) {
		const unsigned int f = r->flags, cm = r->cnt_mask;
		const bool has_pc = r->addr_mask & (1u << SPE_ADDR_PC);
		const bool has_ev = f & SPE_REC_EV, has_ds = f & SPE_REC_DS;
		const bool has_ts = f & SPE_REC_TS;
		const bool has_ctx = r->ctx_mask & (1u << SPE_CTX_EL1);
		const uint64_t pc = r->addr[SPE_ADDR_PC];
		const uint64_t ev = has_ev ? r->events : 0, ts = r->ts;
		const uint64_t key = spe_addr_canon(pc);

		keys[i].pc = key;
		keys[i].ctx = r->ctx[SPE_CTX_EL1];
		keys[i].has = has_pc | has_ctx << 1;
		if (pcs) {
			slot[i] = key_hash(key) & pcs->hmask;
			__builtin_prefetch(&pcs->hash[slot[i]]);
		}
		a->elns[has_pc ? spe_addr_el(pc) << 1 | spe_addr_ns(pc) : 8]++;
		a->op[f & SPE_REC_OP ? 1 + ((r->op_class & 3) << 8 | r->op) :
				       0]++;
		a->ev[0][ev & 0xff]++;
		a->ev[1][(ev >> 8) & 0xff]++;
		/* a zero byte counts nothing (sync skips value 0): most
		 * events are in the low two bytes */
		if (ev >> 16) {
			a->ev[2][(ev >> 16) & 0xff]++;
			a->ev[3][(ev >> 24) & 0xff]++;
		}
		if (__builtin_expect(ev >> 32, 0))
			for (uint64_t hi = ev >> 32; hi; hi &= hi - 1)
				p->ev[32 + __builtin_ctzll(hi)]++;
#define LAT(c)                                                   \
	do {                                                     \
		const bool has = cm & (1u << (c));               \
		const unsigned int v = r->cnt[c];                \
                                                                 \
		if (__builtin_expect(has && v >= LAT_DIRECT, 0)) \
			hist_add(&p->lat[c], v);                 \
		else                                             \
			a->lat[c][has ? v : LAT_DIRECT]++;       \
	} while (0)
		LAT(0);
		LAT(1);
		LAT(2);
#undef LAT
		if (__builtin_expect(has_ds && r->ds >= 16, 0)) {
			p->ds[spe_ds_decode(p->cpu, r->ds)]++;
			p->ds_raw_other++;
		}
		a->ds[has_ds && r->ds < 16 ? r->ds : 16]++;
		ev_recs += has_ev;
		ds_recs += has_ds;
		no_ctx += !has_ctx;
		ts_recs += has_ts;
		ts_lo = has_ts && ts < ts_lo ? ts : ts_lo;
		ts_hi = has_ts && ts > ts_hi ? ts : ts_hi;
	}
	p->samples += n;
	p->ev_records += ev_recs;
	p->ds_records += ds_recs;
	p->no_ctx += no_ctx;
	if (ts_recs) {
		if (!p->ts_records || ts_lo < p->ts_first)
			p->ts_first = ts_lo;
		if (ts_hi > p->ts_last)
			p->ts_last = ts_hi;
		p->ts_records += ts_recs;
	}
}

/*
 * The PCs of @keys[0..n) with bit 0 of has into @t, their hash slots in
 * @slot, in order: the probe loop with the table in registers, @t's
 * total stored once.
 */
static inline void topk_add_pcs(struct spe_topk *t,
				const struct spe_topk_keys *keys,
				const uint32_t *slot, size_t n)
{
	struct spe_topk_slot *h = t->hash;
	const uint32_t mask = t->hmask;
	uint64_t total = 0;

	uint32_t held = t->n;

	for (size_t i = 0; i < n; i++) {
		const uint64_t key = keys[i].pc;
		uint32_t s = slot[i];
		bool fresh;

		if (!(keys[i].has & 1))
			continue;
		total++;
		while (h[s].count && h[s].key != key)
			s = (s + 1) & mask;
		/* as topk_add_at(): no branch on a new key */
		fresh = !h[s].count;
		if (__builtin_expect(held + fresh > t->max_n, 0)) {
			t->n = held;
			spe_topk_purge(t);
			held = t->n;
			s = find_slot_at(t, key, slot[i]) - h;
		}
		h[s].key = key;
		h[s].count++;
		held += fresh;
	}
	t->n = held;
	t->total += total;
}

/* The CONTEXTIDR values of @keys[0..n) with bit 1 of has into @t. */
static inline void topk_add_ctxs(struct spe_topk *t,
				 const struct spe_topk_keys *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (keys[i].has & 2)
			topk_add(t, keys[i].ctx);
}

void spe_profile_sync(struct spe_profile *p)
{
	struct spe_profile_acc *a = p->acc;

	if (!a || !a->n)
		return;
	for (unsigned int el = 0; el < 4; el++) {
		for (unsigned int ns = 0; ns < 2; ns++) {
			p->el_ns[el][ns] += a->elns[el << 1 | ns];
			p->el[el] += a->elns[el << 1 | ns];
		}
	}
	p->no_pc += a->elns[8];
	p->no_op += a->op[0];
	for (unsigned int i = 1; i <= 4 * 256; i++) {
		uint64_t c = a->op[i];
		unsigned int cls = (i - 1) >> 8;
		uint16_t e = p->op_tab[cls][(i - 1) & 0xff];

		if (!c)
			continue;
		p->op_class[cls] += c;
		p->op_sub[e & OPT_SUB] += c;
		p->loads += e & OPT_LD ? c : 0;
		p->stores += e & OPT_ST ? c : 0;
		p->br_cond += e & OPT_COND ? c : 0;
		p->br_ind += e & OPT_IND ? c : 0;
		p->br_call += e & OPT_CALL ? c : 0;
		p->br_ret += e & OPT_RET ? c : 0;
	}
	for (unsigned int b = 0; b < EV_BYTES; b++)
		for (unsigned int v = 1; v < 256; v++)
			for (unsigned int k = 0; a->ev[b][v] && k < 8; k++)
				if (v & 1u << k)
					p->ev[8 * b + k] += a->ev[b][v];
	for (unsigned int i = 0; i < SPE_CNT_NR_KNOWN; i++) {
		struct spe_hist *h = &p->lat[i];

		for (unsigned int v = 0; v < LAT_DIRECT; v++) {
			uint64_t c = a->lat[i][v];

			if (!c)
				continue;
			h->count += c;
			h->sum += c * v;
			h->max = v > h->max ? v : h->max;
			h->bucket[hist_bucket(v)] += c;
		}
	}
	for (unsigned int v = 0; v < 16; v++) {
		p->ds[p->ds_tab[v]] += a->ds[v];
		p->ds_raw[v] += a->ds[v];
	}
	memset(a, 0, sizeof(*a));
}

/* Before @n more records: fold the counts if they could overflow. */
static inline void acc_reserve(struct spe_profile *p, size_t n)
{
	if (p->acc->n + n >= ACC_MAX)
		spe_profile_sync(p);
	p->acc->n += n;
}

void spe_profile_add_batch_keys(struct spe_profile *p,
				const struct spe_record *r, size_t n,
				struct spe_topk_keys *keys)
{
	acc_reserve(p, n);
	batch_counts(p, p->acc, r, n, keys, NULL, NULL);
}

void spe_profile_add_keys(struct spe_profile *p,
			  const struct spe_topk_keys *keys, size_t n)
{
	uint32_t slot[BATCH];

	while (n) {
		size_t k = n < BATCH ? n : BATCH;

		for (size_t i = 0; i < k; i++) {
			slot[i] = key_hash(keys[i].pc) & p->pcs.hmask;
			__builtin_prefetch(&p->pcs.hash[slot[i]]);
		}
		topk_add_pcs(&p->pcs, keys, slot, k);
		topk_add_ctxs(&p->ctx, keys, k);
		keys += k;
		n -= k;
	}
}

void spe_profile_add_batch(struct spe_profile *p, const struct spe_record *r,
			   size_t n)
{
	struct spe_topk_keys keys[BATCH];
	uint32_t slot[BATCH];

	if (!p->acc) {
		for (size_t i = 0; i < n; i++)
			profile_add(p, &r[i]);
		return;
	}
	acc_reserve(p, n);
	while (n) {
		size_t k = n < BATCH ? n : BATCH;

		/* the counts first: the top-K probes' misses overlap them */
		batch_counts(p, p->acc, r, k, keys, slot, &p->pcs);
		topk_add_pcs(&p->pcs, keys, slot, k);
		topk_add_ctxs(&p->ctx, keys, k);
		r += k;
		n -= k;
	}
}

static int add_batch_cb(void *arg, const struct spe_record *r, size_t n)
{
	spe_profile_add_batch(arg, r, n);
	return 0;
}

int spe_profile_decode(struct spe_profile *p, struct spe_dec *dec,
		       const void *buf, size_t len, bool finish)
{
	int ret = spe_dec_run_batches(dec, buf, len, finish, add_batch_cb, p);

	spe_profile_sync(p);
	return ret;
}

static void hist_merge(struct spe_hist *a, const struct spe_hist *b)
{
	a->count += b->count;
	a->sum += b->sum;
	if (b->max > a->max)
		a->max = b->max;
	for (unsigned int i = 0; i < SPE_HIST_BUCKETS; i++)
		a->bucket[i] += b->bucket[i];
}

static void add_u64s(uint64_t *a, const uint64_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		a[i] += b[i];
}

/* The profile's plain counters (and arrays of them): merged by adding. */
#define PROF_SUM(f)                                            \
	{                                                      \
		offsetof(struct spe_profile, f),               \
			sizeof(((struct spe_profile *)0)->f) / \
				sizeof(uint64_t)               \
	}
static const struct {
	size_t off, n;
} prof_sums[] = {
	PROF_SUM(samples),	PROF_SUM(no_pc),      PROF_SUM(el),
	PROF_SUM(el_ns),	PROF_SUM(no_op),      PROF_SUM(op_class),
	PROF_SUM(op_sub),	PROF_SUM(loads),      PROF_SUM(stores),
	PROF_SUM(br_cond),	PROF_SUM(br_ind),     PROF_SUM(br_call),
	PROF_SUM(br_ret),	PROF_SUM(ev_records), PROF_SUM(ev),
	PROF_SUM(ds_records),	PROF_SUM(ds),	      PROF_SUM(ds_raw),
	PROF_SUM(ds_raw_other), PROF_SUM(no_ctx),     PROF_SUM(ts_records),
};

int spe_profile_merge(struct spe_profile *a, const struct spe_profile *b)
{
	int ret;

	if (a->midr != b->midr)
		return -EINVAL;
	spe_profile_sync(a);
	ret = spe_topk_merge(&a->pcs, &b->pcs);
	if (!ret)
		ret = spe_topk_merge(&a->ctx, &b->ctx);
	if (ret)
		return ret;
	if (b->ts_records) {
		if (!a->ts_records || b->ts_first < a->ts_first)
			a->ts_first = b->ts_first;
		if (b->ts_last > a->ts_last)
			a->ts_last = b->ts_last;
	}
	for (size_t i = 0; i < sizeof(prof_sums) / sizeof(prof_sums[0]); i++)
		add_u64s((uint64_t *)((char *)a + prof_sums[i].off),
			 (const uint64_t *)((const char *)b + prof_sums[i].off),
			 prof_sums[i].n);
	for (unsigned int i = 0; i < SPE_CNT_NR_KNOWN; i++)
		hist_merge(&a->lat[i], &b->lat[i]);
	return 0;
}

void spe_dec_stats_add(struct spe_dec_stats *sum,
		       const struct spe_dec_stats *st)
{
	_Static_assert(sizeof(*st) % sizeof(uint64_t) == 0,
		       "spe_dec_stats: counters only");
	add_u64s((uint64_t *)sum, (const uint64_t *)st,
		 sizeof(*st) / sizeof(uint64_t));
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0;
}

void spe_profile_rates(const struct spe_profile *p,
		       struct spe_profile_rates *ret)
{
	ret->l1d_miss = ratio(p->ev[SPE_EV_L1D_REFILL], p->ev[SPE_EV_L1D_ACCESS]);
	ret->llc_miss = ratio(p->ev[SPE_EV_LLC_MISS], p->ev[SPE_EV_LLC_ACCESS]);
	ret->tlb_miss = ratio(p->ev[SPE_EV_TLB_WALK], p->ev[SPE_EV_TLB_ACCESS]);
	ret->mispredict = ratio(p->ev[SPE_EV_MISPRED],
				p->op_class[SPE_OPC_BRANCH]);
	ret->remote = ratio(p->ev[SPE_EV_REMOTE_ACCESS], p->loads + p->stores);
	ret->not_taken = ratio(p->ev[SPE_EV_NOT_TAKEN], p->br_cond);
}
