// SPDX-License-Identifier: GPL-2.0-only
/*
 * SPE profile aggregation: histograms, a space-saving top-K sketch, and the
 * per-profile counters `kvmprof spe report` prints and the daemon keeps.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <kvmprof/spe_profile.h>

/* ---- histograms --------------------------------------------------------- */

unsigned int spe_hist_bucket(uint64_t v)
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
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
	h->bucket[spe_hist_bucket(v)]++;
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

/* ---- space-saving top-K -------------------------------------------------- */

#define EMPTY	UINT32_MAX

static uint32_t key_hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return k;
}

static void buckets_reset(struct spe_topk *t)
{
	for (uint32_t b = 0; b < t->cap; b++) {
		t->buckets[b].first = EMPTY;
		t->buckets[b].next = b + 1 < t->cap ? b + 1 : EMPTY;
	}
	t->free_bucket = 0;
	t->min_bucket = EMPTY;
	t->summary = 0;
}

int spe_topk_init(struct spe_topk *t, uint32_t k)
{
	uint32_t hcap = 4;

	memset(t, 0, sizeof(*t));
	if (!k || k > SPE_TOPK_MAX)
		return -EINVAL;
	while (hcap < 2 * k)
		hcap <<= 1;
	t->heap = calloc(k, sizeof(*t->heap));
	t->hash = malloc(hcap * sizeof(*t->hash));
	t->buckets = malloc(k * sizeof(*t->buckets));
	t->order = malloc(k * sizeof(*t->order));
	if (!t->heap || !t->hash || !t->buckets || !t->order) {
		spe_topk_free(t);
		return -ENOMEM;
	}
	t->cap = k;
	t->hmask = hcap - 1;
	memset(t->hash, 0xff, hcap * sizeof(*t->hash));
	buckets_reset(t);
	return 0;
}

void spe_topk_free(struct spe_topk *t)
{
	free(t->heap);
	free(t->hash);
	free(t->buckets);
	free(t->order);
	memset(t, 0, sizeof(*t));
}

void spe_topk_clear(struct spe_topk *t)
{
	t->n = 0;
	t->total = 0;
	if (t->hash)
		memset(t->hash, 0xff, (t->hmask + 1) * sizeof(*t->hash));
	if (t->buckets)
		buckets_reset(t);
}

/* Linear probing: the slot holding @key, or the empty slot for it. */
static uint32_t find_slot(const struct spe_topk *t, uint64_t key)
{
	uint32_t s = key_hash(key) & t->hmask;

	while (t->hash[s].idx != EMPTY && t->hash[s].key != key)
		s = (s + 1) & t->hmask;
	return s;
}

/* Deletes slot @s, shifting back the entries of its probe run. */
static void hash_delete(struct spe_topk *t, uint32_t s)
{
	uint32_t j = s;

	for (;;) {
		uint32_t home;

		j = (j + 1) & t->hmask;
		if (t->hash[j].idx == EMPTY)
			break;
		home = key_hash(t->hash[j].key) & t->hmask;
		/* move j's entry into the hole if its home is not in (s, j] */
		if (((j - home) & t->hmask) >= ((j - s) & t->hmask)) {
			t->hash[s] = t->hash[j];
			t->heap[t->hash[s].idx].slot = s;
			s = j;
		}
	}
	t->hash[s].idx = EMPTY;
}

/* A new bucket of @count after bucket @after (EMPTY: at the head). */
static uint32_t bucket_new(struct spe_topk *t, uint64_t count, uint32_t after)
{
	uint32_t b = t->free_bucket;
	struct spe_topk_bucket *nb = &t->buckets[b];

	/* Never runs dry: a bucket is only made for an entry leaving a
	 * bucket that keeps others, or for a new entry, so there are never
	 * more buckets than entries (<= K). */
	t->free_bucket = nb->next;
	nb->count = count;
	nb->first = EMPTY;
	nb->prev = after;
	nb->next = after == EMPTY ? t->min_bucket : t->buckets[after].next;
	if (nb->next != EMPTY)
		t->buckets[nb->next].prev = b;
	if (after == EMPTY)
		t->min_bucket = b;
	else
		t->buckets[after].next = b;
	return b;
}

static void bucket_free(struct spe_topk *t, uint32_t b)
{
	struct spe_topk_bucket *ob = &t->buckets[b];

	if (ob->prev != EMPTY)
		t->buckets[ob->prev].next = ob->next;
	else
		t->min_bucket = ob->next;
	if (ob->next != EMPTY)
		t->buckets[ob->next].prev = ob->prev;
	ob->first = EMPTY;
	ob->next = t->free_bucket;
	t->free_bucket = b;
}

static void entry_unlink(struct spe_topk *t, uint32_t i)
{
	struct spe_topk_entry *e = &t->heap[i];

	if (e->prev != EMPTY)
		t->heap[e->prev].next = e->next;
	else
		t->buckets[e->bucket].first = e->next;
	if (e->next != EMPTY)
		t->heap[e->next].prev = e->prev;
}

static void entry_link(struct spe_topk *t, uint32_t i, uint32_t b)
{
	struct spe_topk_entry *e = &t->heap[i];

	e->bucket = b;
	e->prev = EMPTY;
	e->next = t->buckets[b].first;
	if (e->next != EMPTY)
		t->heap[e->next].prev = i;
	t->buckets[b].first = i;
}

/* count + 1 for counter @i: to the next bucket up, made if needed. */
static void entry_increment(struct spe_topk *t, uint32_t i)
{
	struct spe_topk_entry *e = &t->heap[i];
	uint32_t b, nb;

	e->count++;
	b = e->bucket;
	nb = t->buckets[b].next;
	entry_unlink(t, i);
	if (nb == EMPTY || t->buckets[nb].count != e->count) {
		if (t->buckets[b].first == EMPTY) {
			/* alone in its bucket: the bucket moves up with it */
			t->buckets[b].count = e->count;
			entry_link(t, i, b);
			return;
		}
		nb = bucket_new(t, e->count, b);
	}
	entry_link(t, i, nb);
	if (t->buckets[b].first == EMPTY)
		bucket_free(t, b);
}

static int cmp_by_count(const void *a, const void *b, void *arg)
{
	const struct spe_topk *t = arg;
	uint64_t x = t->heap[*(const uint32_t *)a].count;
	uint64_t y = t->heap[*(const uint32_t *)b].count;

	return x < y ? -1 : x > y;
}

/* The first eviction: group the (so far exact) counters into buckets. */
static void build_summary(struct spe_topk *t)
{
	uint32_t *idx = t->order, last = EMPTY;

	buckets_reset(t);
	t->summary = 1;
	for (uint32_t i = 0; i < t->n; i++) {
		t->heap[i].count = t->hash[t->heap[i].slot].count;
		idx[i] = i;
	}
	qsort_r(idx, t->n, sizeof(*idx), cmp_by_count, t);
	for (uint32_t k = 0; k < t->n; k++) {
		uint32_t i = idx[k];

		if (last == EMPTY || t->buckets[last].count != t->heap[i].count)
			last = bucket_new(t, t->heap[i].count, last);
		entry_link(t, i, last);
	}
}

void spe_topk_add(struct spe_topk *t, uint64_t key)
{
	uint32_t s = find_slot(t, key), i;

	t->total++;
	if (t->hash[s].idx != EMPTY) {
		/* exact phase: the count lives in the slot just probed */
		if (!t->summary)
			t->hash[s].count++;
		else
			entry_increment(t, t->hash[s].idx);
		return;
	}
	if (t->n < t->cap) {
		struct spe_topk_entry *e = &t->heap[t->n];
		uint32_t b = t->min_bucket;

		i = t->n++;
		e->key = key;
		e->count = 1;
		e->err = 0;
		e->slot = s;
		t->hash[s].key = key;
		t->hash[s].idx = i;
		t->hash[s].count = 1;
		if (!t->summary)
			return;
		if (b == EMPTY || t->buckets[b].count != 1)
			b = bucket_new(t, 1, EMPTY);
		entry_link(t, i, b);
		return;
	}
	/* replace a minimum counter: it inherits its count as error */
	if (!t->summary)
		build_summary(t);
	i = t->buckets[t->min_bucket].first;
	hash_delete(t, t->heap[i].slot);
	s = find_slot(t, key);
	t->heap[i].key = key;
	t->heap[i].err = t->heap[i].count;
	t->heap[i].slot = s;
	t->hash[s].key = key;
	t->hash[s].idx = i;
	entry_increment(t, i);
}

static int cmp_entry_desc(const void *a, const void *b)
{
	const struct spe_topk_entry *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->key < y->key ? -1 : x->key > y->key;
}

size_t spe_topk_sorted(const struct spe_topk *t,
		       struct spe_topk_entry *ret_entries, size_t max)
{
	struct spe_topk_entry *all = ret_entries;
	size_t n = t->n < max ? t->n : max;

	if (!n)
		return 0;
	/* sort in the caller's array when everything fits there */
	if (max < t->n) {
		all = malloc(t->n * sizeof(*all));
		if (!all)
			return 0;
	}
	memcpy(all, t->heap, t->n * sizeof(*all));
	if (!t->summary)	/* exact phase: counts are in the slots */
		for (uint32_t i = 0; i < t->n; i++)
			all[i].count = t->hash[all[i].slot].count;
	qsort(all, t->n, sizeof(*all), cmp_entry_desc);
	if (all != ret_entries) {
		memcpy(ret_entries, all, n * sizeof(*all));
		free(all);
	}
	return n;
}

/* ---- profile --------------------------------------------------------------- */

int spe_profile_init(struct spe_profile *p, const struct spe_profile_opts *o)
{
	struct spe_profile_opts def = { 0 };
	int ret;

	if (!o)
		o = &def;
	memset(p, 0, sizeof(*p));
	p->midr = o->midr;
	p->cpu = spe_cpu_from_midr(o->midr);
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
}

void spe_profile_clear(struct spe_profile *p)
{
	struct spe_topk pcs = p->pcs, ctx = p->ctx;
	uint64_t midr = p->midr;
	uint32_t cpu = p->cpu;

	memset(p, 0, sizeof(*p));
	p->pcs = pcs;
	p->ctx = ctx;
	p->midr = midr;
	p->cpu = cpu;
	spe_topk_clear(&p->pcs);
	spe_topk_clear(&p->ctx);
}

static void add_op(struct spe_profile *p, const struct spe_record *r)
{
	struct spe_op_info op;

	if (!(r->flags & SPE_REC_OP)) {
		p->no_op++;
		return;
	}
	spe_op_decode(r->op_class, r->op, &op);
	p->op_class[op.cls]++;
	p->op_sub[op.sub]++;
	if (op.cls == SPE_OPC_LDST) {
		if (op.flags & SPE_OPF_ST)
			p->stores++;
		else
			p->loads++;
	} else if (op.cls == SPE_OPC_BRANCH) {
		p->br_cond += !!(op.flags & SPE_OPF_COND);
		p->br_ind += !!(op.flags & SPE_OPF_IND);
		p->br_call += op.cr == SPE_BR_CR_BL;
		p->br_ret += op.cr == SPE_BR_CR_RET;
	}
}

void spe_profile_add(struct spe_profile *p, const struct spe_record *r)
{
	p->samples++;
	if (spe_rec_has_addr(r, SPE_ADDR_PC)) {
		uint64_t pc = r->addr[SPE_ADDR_PC];
		unsigned int el = spe_addr_el(pc);

		p->el[el]++;
		p->el_ns[el][spe_addr_ns(pc)]++;
		spe_topk_add(&p->pcs, spe_addr_canon(pc));
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
			spe_hist_add(&p->lat[i], r->cnt[i]);
	if (r->flags & SPE_REC_DS) {
		p->ds_records++;
		p->ds[spe_ds_decode(p->cpu, r->ds)]++;
		if (r->ds < 16)
			p->ds_raw[r->ds]++;
		else
			p->ds_raw_other++;
	}
	if (r->ctx_mask & (1u << SPE_CTX_EL1))
		spe_topk_add(&p->ctx, r->ctx[SPE_CTX_EL1]);
	else
		p->no_ctx++;
	if (r->flags & SPE_REC_TS) {
		if (!p->ts_records++ || r->ts < p->ts_first)
			p->ts_first = r->ts;
		if (r->ts > p->ts_last)
			p->ts_last = r->ts;
	}
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
