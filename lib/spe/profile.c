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

#include "profile.h"
#include "topk.h"

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

int spe_profile_decode(struct spe_profile *p, struct spe_dec *dec,
		       const void *buf, size_t len, bool finish)
{
	if (!buf && len)
		return -EINVAL;
	spe_profile_feed(p, NULL, dec, buf, len, NULL);
	if (finish)
		spe_dec_finish(dec);
	spe_profile_sync(p);
	return 0;
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
