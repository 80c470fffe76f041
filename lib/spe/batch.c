// SPDX-License-Identifier: GPL-2.0-only
/*
 * SPE profiles in batches (include/kvmprof/spe_profile.h): counts by value
 * without a branch on what a record holds, folded into the profile's
 * fields at spe_profile_sync(), and the top-K adds in loops of their own
 * (one thread, or a helper's: pipe.c).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "profile.h"
#include "topk.h"

/*
 * The table counts of @n records: each field's count goes to the table
 * slot of its value (or, absent, to a slot that counts nothing), so there
 * is no branch on the record's kind, only on rare values (latencies from
 * LAT_DIRECT up, data sources from 16 up, events from bit 32 on); the
 * per-record scalars are summed in registers and stored once.  The top-K
 * keys go to @keys; with @pcs, each PC's hash to @hv, its probe started
 * (the counts hide its cache miss).
 */
static inline __attribute__((always_inline)) void
batch_counts(struct spe_profile *p, struct spe_profile_acc *a,
	     const struct spe_record *r, size_t n, struct spe_topk_keys *keys,
	     uint32_t *hv, const struct spe_topk *pcs)
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
			hv[i] = key_hash(key);
			topk_prefetch(pcs, hv[i]);
		}
		a->elns[has_pc ? spe_addr_el(pc) << 1 | spe_addr_ns(pc) : 8]++;
		a->op[f & SPE_REC_OP ? 1 + ((r->op_class & 3) << 8 | r->op) :
				       0]++;
		acc_events(a, ev);
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
	batch_sums_fold(p, n,
			&(struct batch_sums){ ev_recs, ds_recs, ts_recs, no_ctx,
					      ts_lo, ts_hi });
}

/* PCs a doorkeeper pass looks at (topk_add_pcs()). */
#define DOOR_PASS 64

/*
 * The first pass of topk_add_pcs(): notes the doorkeeper bit of each PC
 * of @keys[from..end) (with bit 0 of has) and lists in @idx (from @from)
 * those it admits (all while the doorkeeper is off), without a branch
 * (in a long tail, whether a PC is admitted cannot be predicted: 37 % of
 * the bench's real stream's samples were not); returns how many.  In
 * order, so a PC's second item in a pass is admitted.
 */
static inline size_t door_pass(struct spe_topk *t,
			       const struct spe_topk_keys *keys,
			       const uint32_t *hv, size_t from, size_t end,
			       uint8_t *idx)
{
	uint64_t *const door = t->door;
	const uint32_t shift = t->door_shift;
	const uint64_t off = !t->door_on;
	size_t m = 0;

	for (size_t i = from; i < end; i++) {
		const uint64_t has = keys[i].has & 1;
		const uint32_t b = hv[i] >> shift;
		const uint64_t w = door[b >> 6];

		door[b >> 6] = w | has << (b & 63);
		idx[m] = i - from;
		m += has & (off | (w >> (b & 63) & 1));
	}
	return m;
}

/*
 * The PCs of @keys[0..n) with bit 0 of has into @t, their hashes in @hv,
 * in order, as topk_add_at() would: in passes of DOOR_PASS PCs, first
 * the doorkeeper's (door_pass()), then the probes of the PCs it admitted,
 * with the table in registers.  A purge clears the doorkeeper: the pass
 * starts again after the PC that caused it.
 */
static inline void topk_add_pcs(struct spe_topk *t,
				const struct spe_topk_keys *keys,
				const uint32_t *hv, size_t n)
{
	struct spe_topk_slot *const h = t->hash;
	const uint32_t mask = t->hmask;
	uint32_t held = t->n;
	uint64_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += keys[i].has & 1;
	t->total += total;
	for (size_t from = 0; from < n;) {
		const size_t base = from;
		uint8_t idx[DOOR_PASS];
		size_t m;

		from = n - base < DOOR_PASS ? n : base + DOOR_PASS;
		m = door_pass(t, keys, hv, base, from, idx);
		for (size_t k = 0; k < m; k++) {
			const size_t i = base + idx[k];
			const uint64_t key = keys[i].pc;
			uint32_t s = hv[i] & mask;
			bool fresh;

			while (h[s].count && h[s].key != key)
				s = (s + 1) & mask;
			/* no branch on a new key */
			fresh = !h[s].count;
			if (__builtin_expect(held + fresh > t->max_n, 0)) {
				t->n = held;
				spe_topk_purge(t);
				held = t->n;
				s = find_slot_at(t, key, hv[i] & mask) - h;
				door_seen(t, hv[i]);
				/* the doorkeeper was cleared: after this PC,
				 * the pass again */
				from = i + 1;
				k = m;
			}
			h[s].key = key;
			h[s].count++;
			held += fresh;
		}
	}
	t->n = held;
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

void spe_profile_add_batch_keys(struct spe_profile *p,
				const struct spe_record *r, size_t n,
				struct spe_topk_keys *keys)
{
	acc_reserve(p, n);
	batch_counts(p, p->acc, r, n, keys, NULL, NULL);
}

void spe_profile_topk_adds(struct spe_profile *p,
			   const struct spe_topk_keys *keys, const uint32_t *hv,
			   size_t n)
{
	topk_add_pcs(&p->pcs, keys, hv, n);
	topk_add_ctxs(&p->ctx, keys, n);
}

void spe_profile_add_keys(struct spe_profile *p,
			  const struct spe_topk_keys *keys, size_t n)
{
	uint32_t hv[BATCH];

	while (n) {
		size_t k = n < BATCH ? n : BATCH;

		for (size_t i = 0; i < k; i++) {
			hv[i] = key_hash(keys[i].pc);
			topk_prefetch(&p->pcs, hv[i]);
		}
		topk_add_pcs(&p->pcs, keys, hv, k);
		topk_add_ctxs(&p->ctx, keys, k);
		keys += k;
		n -= k;
	}
}

void spe_profile_add_batch(struct spe_profile *p, const struct spe_record *r,
			   size_t n)
{
	struct spe_topk_keys keys[BATCH];
	uint32_t hv[BATCH];

	if (!p->acc) {
		for (size_t i = 0; i < n; i++)
			spe_profile_add(p, &r[i]);
		return;
	}
	acc_reserve(p, n);
	while (n) {
		size_t k = n < BATCH ? n : BATCH;

		/* the counts first: the top-K probes' misses overlap them */
		batch_counts(p, p->acc, r, k, keys, hv, &p->pcs);
		topk_add_pcs(&p->pcs, keys, hv, k);
		topk_add_ctxs(&p->ctx, keys, k);
		r += k;
		n -= k;
	}
}
