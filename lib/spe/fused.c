// SPDX-License-Identifier: GPL-2.0-only
/*
 * Decoding into a profile in one pass (spe_profile_feed()): a record that
 * matches a template (template.c) is counted straight from its bytes, at
 * the offsets the template gives, without being materialised as a
 * struct spe_record first; the others are decoded as usual and added with
 * spe_profile_add_batch() (batch.c).  A template match implies the general
 * path would have decoded exactly the record the template describes, and
 * the counts here are batch_counts()'s, field for field, on that record;
 * records reach the profile (and its top-K sketches) in stream order: the
 * same profile.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kvmprof/spe_profile.h>

#include "internal.h"
#include "profile.h"
#include "topk.h"

struct spe_sink {
	struct spe_profile *p;
	struct spe_pipe *q; /* top-K adds on its helper, or NULL */
	uint64_t *by_el;    /* records by EL of their PC, or NULL */
	uint64_t recs;	    /* records counted here */
};

_Static_assert(SPE_TP_LAT_NONE == LAT_DIRECT && SPE_TP_DS_NONE == 16,
	       "struct spe_tpl_prof: the profile's slots for absent fields");

#if FAST_PATH
static inline uint32_t load_le16(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8;
}

/*
 * Up to @n records from @p (FAST_AVAIL bytes readable at each), for as
 * long as templates match: the table counts into @a (rare values into
 * @pr), the top-K keys into @keys; with @pcs (the top-K adds on this
 * thread), the PC hashes into @hv, their probes started; how many
 * of them end with a Timestamp into *@ret_nts.  Returns how many matched.
 */
static inline __attribute__((always_inline)) size_t
fused_block(const struct spe_fast *f, const uint8_t *p, size_t len, size_t n,
	    struct spe_profile *pr, struct spe_profile_acc *a,
	    struct spe_topk_keys *keys, uint32_t *hv,
	    const struct spe_topk *pcs, uint64_t *ret_nts)
{
	uint64_t ev_recs = 0, ds_recs = 0, ts_recs = 0, no_ctx = 0;
	uint64_t ts_lo = UINT64_MAX, ts_hi = 0;
	uint32_t per_tpl[SPE_TPL_NR] = { 0 };
	const struct spe_tpl *t = tpl_lookup(f, p);
	size_t i;

	for (i = 0; i < n; i++, p += len) {
		/* the next record's template first (as fast_loop()) */
		const struct spe_tpl *tn =
			tpl_lookup(f, i + 1 < n ? p + len : p);
		const struct spe_tpl_prof *pl = &t->prof;
		uint64_t pc, key, ev, ds, ts;

		__builtin_prefetch(p + 2048);
		if (!tpl_match(t, p))
			break;
		pc = spe_load_le64(p + pl->pc_src);
		key = spe_addr_canon(pc);
		ev = spe_load_le64(p + t->ev_src) & t->ev_mask;
		ds = spe_load_le64(p + t->ds_src) & t->ds_mask;
		ts = spe_load_le64(p + pl->ts_src);
		per_tpl[pl->idx]++;
		keys[i].pc = key;
		keys[i].ctx = (uint32_t)spe_load_le64(p + pl->ctx_src);
		keys[i].has = pl->has & (SPE_TP_PC | SPE_TP_CTX);
		if (pcs) {
			hv[i] = key_hash(key);
			topk_prefetch(pcs, hv[i]);
		}
		a->elns[pl->has & SPE_TP_PC ?
				spe_addr_el(pc) << 1 | spe_addr_ns(pc) :
				8]++;
		a->op[pl->op_base + (p[pl->op_src] & pl->op_mask)]++;
		acc_events(a, ev);
#pragma GCC unroll 3
		for (unsigned int c = 0; c < SPE_CNT_NR_KNOWN; c++) {
			/* absent: 0 (mask 0), counted in slot LAT_DIRECT */
			const unsigned int v = load_le16(p + pl->cnt_src[c]) &
					       pl->cnt_mask[c];

			if (__builtin_expect(v >= LAT_DIRECT, 0))
				hist_add(&pr->lat[c], v);
			else
				a->lat[c][v | pl->cnt_none[c]]++;
		}
		if (__builtin_expect(ds >= 16, 0)) {
			pr->ds[spe_ds_decode(pr->cpu, ds)]++;
			pr->ds_raw_other++;
			a->ds[16]++;
		} else {
			/* absent: 0 (mask 0), counted in slot 16 */
			a->ds[ds | pl->ds_none]++;
		}
		ts_lo = pl->has & SPE_TP_TS && ts < ts_lo ? ts : ts_lo;
		ts_hi = pl->has & SPE_TP_TS && ts > ts_hi ? ts : ts_hi;
		t = tn;
	}
	/* what depends on the template alone, by template */
	for (unsigned int k = 0; k < f->ntpl; k++) {
		const unsigned int has = f->tpl[k].prof.has;
		const uint64_t c = per_tpl[k];

		ev_recs += has & SPE_TP_EV ? c : 0;
		ds_recs += has & SPE_TP_DS ? c : 0;
		no_ctx += has & SPE_TP_CTX ? 0 : c;
		ts_recs += has & SPE_TP_TS ? c : 0;
	}
	batch_sums_fold(pr, i,
			&(struct batch_sums){ ev_recs, ds_recs, ts_recs, no_ctx,
					      ts_lo, ts_hi });
	/* a record ends with a Timestamp exactly when it has one */
	*ret_nts = ts_recs;
	return i;
}

const uint8_t *spe_fast_sink(struct spe_dec *d, struct spe_out *o,
			     const uint8_t *p, const uint8_t *end,
			     struct spe_sink *s)
{
	const struct spe_fast *f = spe_fast_of(d);
	const size_t len = f->tpl_len;
	struct spe_profile *pr = s->p;
	struct spe_topk_keys keys[BATCH];
	uint32_t hv[BATCH];

	if (end - p < FAST_AVAIL || !tpl_match(tpl_lookup(f, p), p))
		return p;
	if (o->n)
		return NULL;
	for (;;) {
		const size_t avail = end - p;
		size_t fit =
			avail < FAST_AVAIL ? 0 : (avail - FAST_AVAIL) / len + 1;
		size_t k = fit < BATCH ? fit : BATCH, n;
		uint32_t elns[4 * 2 + 1];
		uint64_t nts;

		if (!k)
			break;
		acc_reserve(pr, k);
		if (s->by_el)
			memcpy(elns, pr->acc->elns, sizeof(elns));
		if (s->q)
			n = fused_block(f, p, len, k, pr, pr->acc, keys, hv,
					NULL, &nts);
		else
			n = fused_block(f, p, len, k, pr, pr->acc, keys, hv,
					&pr->pcs, &nts);
		pr->acc->n -= k - n;
		if (s->by_el)
			for (unsigned int i = 0; i < 8; i++)
				s->by_el[i >> 1] += pr->acc->elns[i] - elns[i];
		d->stats.records += n;
		d->stats.fast += n;
		d->terms[1] += nts;
		d->terms[0] += n - nts;
		s->recs += n;
		if (s->q)
			spe_pipe_add_keys(s->q, pr, keys, n);
		else
			spe_profile_topk_adds(pr, keys, hv, n);
		p += n * len;
		if (n < k)
			break;
	}
	return p;
}
#endif

uint64_t spe_profile_feed(struct spe_profile *p, struct spe_pipe *q,
			  struct spe_dec *dec, const void *buf, size_t len,
			  uint64_t *by_el)
{
	struct spe_sink s = { .p = p, .q = q, .by_el = by_el };
	struct spe_record recs[32];
	const uint8_t *b = buf;
	uint64_t added = 0;

	while (len) {
		size_t used = 0;
		int n = spe_dec_feed_sink(dec, b, len, &used, recs, 32,
					  p->acc ? &s : NULL);

		if (n < 0)
			break;
		if (q && n)
			spe_pipe_add(q, p, recs, n);
		else if (n)
			spe_profile_add_batch(p, recs, n);
		for (int i = 0; by_el && i < n; i++)
			if (spe_rec_has_addr(&recs[i], SPE_ADDR_PC))
				by_el[spe_addr_el(recs[i].addr[SPE_ADDR_PC])]++;
		added += n;
		b += used;
		len -= used;
		if (!used && !n)
			break;
	}
	return added + s.recs;
}
