// SPDX-License-Identifier: GPL-2.0-only
/*
 * The top-K sketch (Misra-Gries with purges) of SPE profiles: top PCs and
 * CONTEXTIDR values (include/kvmprof/spe_profile.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "topk.h"

/* ---- top-K: Misra-Gries with purges ---------------------------------------- */

int spe_topk_init(struct spe_topk *t, uint32_t k)
{
	uint32_t hcap = 4, dbits = 64;

	memset(t, 0, sizeof(*t));
	if (!k || k > SPE_TOPK_MAX)
		return -EINVAL;
	/* 2K counters in 4K..8K slots: probes stay short */
	while (hcap < 4 * k)
		hcap <<= 1;
	/* 8 doorkeeper bits a slot: with up to 2K keys held and a purge's
	 * worth of first items noted, a tenth or so of the bits are set */
	while (dbits < 8 * hcap)
		dbits <<= 1;
	t->hash = calloc(hcap, sizeof(*t->hash));
	/* 2 spare words: purges store a pair before deciding to keep it */
	t->scratch = malloc((2 * (size_t)k + 2) * sizeof(*t->scratch));
	t->door = calloc(dbits / 64, sizeof(*t->door));
	if (!t->hash || !t->scratch || !t->door) {
		spe_topk_free(t);
		return -ENOMEM;
	}
	t->cap = k;
	t->max_n = 2 * k;
	t->hmask = hcap - 1;
	t->door_shift = 32 - __builtin_ctz(dbits);
	return 0;
}

void spe_topk_free(struct spe_topk *t)
{
	free(t->hash);
	free(t->scratch);
	free(t->door);
	memset(t, 0, sizeof(*t));
}

static size_t door_bytes(const struct spe_topk *t)
{
	return (((size_t)1 << (32 - t->door_shift)) / 64) * sizeof(*t->door);
}

void spe_topk_clear(struct spe_topk *t)
{
	t->n = 0;
	t->total = 0;
	t->offset = 0;
	t->door_on = false;
	if (t->hash)
		memset(t->hash, 0, (t->hmask + 1) * sizeof(*t->hash));
	if (t->door)
		memset(t->door, 0, door_bytes(t));
}

static void swap_u64(uint64_t *a, uint64_t *b)
{
	uint64_t x = *a;

	*a = *b;
	*b = x;
}

/* The @k-th smallest of @v[0..n) (Wirth's selection; reorders @v). */
static uint64_t select_nth(uint64_t *v, long n, long k)
{
	long l = 0, m = n - 1;

	while (l < m) {
		uint64_t x = v[k];
		long i = l, j = m;

		do {
			while (v[i] < x)
				i++;
			while (x < v[j])
				j--;
			if (i <= j)
				swap_u64(&v[i++], &v[j--]);
		} while (i <= j);
		if (j < k)
			l = i;
		if (k < i)
			m = j;
	}
	return v[k];
}

/*
 * All 2K counters in use: subtract their median m from every counter and
 * forget those left at zero (at least half of them).  At least K counters
 * held m or more, so a purge cancels at least m * K of the N items seen;
 * the sum of the purges is therefore at most N / K.  Each purge clears
 * the doorkeeper, which may then hold back one item of any key until the
 * next: t->offset adds m + 1, at most 2N / K in all.
 */
#define PURGE_SMALL 8

void spe_topk_purge(struct spe_topk *t)
{
	uint32_t nslots = t->hmask + 1, n = 0, small[PURGE_SMALL + 1] = { 0 };
	const struct spe_topk_slot *h = t->hash;
	uint64_t m = 0;

	/* the median is usually a small count (a long tail of keys seen
	 * once or twice): count those (slot 0: empty, PURGE_SMALL: larger),
	 * without a branch on what each slot holds; select only otherwise */
	for (uint32_t s = 0; s < nslots; s++) {
		uint64_t c = h[s].count;

		small[c < PURGE_SMALL ? c : PURGE_SMALL]++;
	}
	n = nslots - small[0];
	for (uint32_t c = 1, below = 0; c < PURGE_SMALL && !m; c++) {
		below += small[c];
		if (below > n / 2) /* the (n / 2)-th smallest is c */
			m = c;
	}
	if (!m) {
		n = 0;
		for (uint32_t s = 0; s < nslots; s++)
			if (h[s].count)
				t->scratch[n++] = h[s].count;
		m = select_nth(t->scratch, n, n / 2);
	}
	t->offset += m + 1;
	/* survivors (count > m, fewer than half) go to scratch as pairs,
	 * each slot's stored and kept only if it survives */
	n = 0;
	for (uint32_t s = 0; s < nslots; s++) {
		const uint64_t c = t->hash[s].count;

		t->scratch[n] = t->hash[s].key;
		t->scratch[n + 1] = c - m;
		n += c > m ? 2 : 0;
		/* emptied as it is read: no second pass to clear the table */
		t->hash[s].count = 0;
	}
	memset(t->door, 0, door_bytes(t));
	t->door_on = true;
	for (uint32_t i = 0; i < n; i += 2) {
		const uint32_t hv = key_hash(t->scratch[i]);
		struct spe_topk_slot *sl =
			find_slot_at(t, t->scratch[i], hv & t->hmask);

		sl->key = t->scratch[i];
		sl->count = t->scratch[i + 1];
		door_seen(t, hv);
	}
	t->n = n / 2;
}

void spe_topk_add(struct spe_topk *t, uint64_t key)
{
	topk_add(t, key);
}

/*
 * @w items of @key at once (a purge's argument holds for weights too), all
 * counted: the doorkeeper holds back single items, not another sketch's
 * counters.
 */
static void topk_add_n(struct spe_topk *t, uint64_t key, uint64_t w)
{
	const uint32_t hv = key_hash(key);
	struct spe_topk_slot *sl = find_slot_at(t, key, hv & t->hmask);

	if (!w)
		return;
	t->total += w;
	if (sl->count) {
		sl->count += w;
		return;
	}
	if (t->n == t->max_n) {
		spe_topk_purge(t);
		sl = find_slot_at(t, key, hv & t->hmask);
	}
	sl->key = key;
	sl->count = w;
	t->n++;
	door_seen(t, hv);
}

/*
 * Adds @b's counters to @a.  Every purge, here or before, cancels at
 * least K times its amount of the items the two saw, so the sum of both
 * offsets stays within N / K (Agarwal et al., "Mergeable summaries").
 */
int spe_topk_merge(struct spe_topk *a, const struct spe_topk *b)
{
	uint64_t total = a->total + b->total;

	if (a->cap != b->cap)
		return -EINVAL;
	for (uint32_t s = 0; s <= b->hmask; s++)
		if (b->hash[s].count)
			topk_add_n(a, b->hash[s].key, b->hash[s].count);
	a->offset += b->offset;
	a->total = total;
	return 0;
}

static int cmp_entry_desc(const void *a, const void *b)
{
	const struct spe_topk_entry *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->key < y->key ? -1 : x->key > y->key;
}

/* Sifts @h[i] down the heap @h[0..n) whose root comes last in
 * cmp_entry_desc() order. */
static void heap_down(struct spe_topk_entry *h, size_t n, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1;
		struct spe_topk_entry x;

		if (c >= n)
			return;
		if (c + 1 < n && cmp_entry_desc(&h[c + 1], &h[c]) > 0)
			c++;
		if (cmp_entry_desc(&h[c], &h[i]) <= 0)
			return;
		x = h[i];
		h[i] = h[c];
		h[c] = x;
		i = c;
	}
}

/*
 * The first @max entries in order, kept in @ret_entries as a heap whose
 * root is the last of them while the table is scanned (no copy of the
 * whole table, no allocation), then sorted.
 */
size_t spe_topk_sorted(const struct spe_topk *t,
		       struct spe_topk_entry *ret_entries, size_t max)
{
	struct spe_topk_entry *h = ret_entries;
	size_t n = 0;

	if (!max)
		return 0;
	for (uint32_t s = 0; s <= t->hmask; s++) {
		const struct spe_topk_entry e = {
			.key = t->hash[s].key,
			.count = t->hash[s].count + t->offset,
			.err = t->offset,
		};

		if (!t->hash[s].count)
			continue;
		if (n < max) {
			/* sift up */
			size_t i = n++;

			h[i] = e;
			while (i &&
			       cmp_entry_desc(&h[(i - 1) / 2], &h[i]) < 0) {
				const struct spe_topk_entry x = h[i];

				h[i] = h[(i - 1) / 2];
				h[(i - 1) / 2] = x;
				i = (i - 1) / 2;
			}
		} else if (cmp_entry_desc(&e, &h[0]) < 0) {
			h[0] = e;
			heap_down(h, n, 0);
		}
	}
	qsort(h, n, sizeof(*h), cmp_entry_desc);
	return n;
}
