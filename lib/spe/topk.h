/* SPDX-License-Identifier: GPL-2.0-only */
/* The top-K sketch's hot path, inlined where profiles are built (topk.c). */
#ifndef KVMPROF_SPE_TOPK_H
#define KVMPROF_SPE_TOPK_H

#include <kvmprof/spe_profile.h>

/* All 2K counters in use: subtract the median, forget the zeros. */
void spe_topk_purge(struct spe_topk *t);

static inline uint32_t key_hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return k;
}

/* The slot holding @key, or the empty slot where it would go, from slot
 * @s (its hash's). */
static inline struct spe_topk_slot *find_slot_at(const struct spe_topk *t,
						 uint64_t key, uint32_t s)
{
	while (t->hash[s].count && t->hash[s].key != key)
		s = (s + 1) & t->hmask;
	return &t->hash[s];
}

static inline struct spe_topk_slot *find_slot(const struct spe_topk *t,
					      uint64_t key)
{
	return find_slot_at(t, key, key_hash(key) & t->hmask);
}

/*
 * Adds @key, whose hash slot is @s (purges keep the table's size).  No
 * branch on whether the key is new (as likely as not with a long tail of
 * keys): a new key's slot is empty, so writing the key and adding 1 to
 * the count does both cases; only a full table (a purge first) branches.
 */
static inline void topk_add_at(struct spe_topk *t, uint64_t key, uint32_t s)
{
	struct spe_topk_slot *sl = find_slot_at(t, key, s);
	const bool fresh = !sl->count;

	t->total++;
	if (__builtin_expect(t->n + fresh > t->max_n, 0)) {
		spe_topk_purge(t);
		sl = find_slot_at(t, key, s);
	}
	sl->key = key;
	sl->count++;
	t->n += fresh;
}

static inline void topk_add(struct spe_topk *t, uint64_t key)
{
	topk_add_at(t, key, key_hash(key) & t->hmask);
}

/* Starts loading the slot of @key (a batch hides the cache misses). */
static inline void topk_prefetch(const struct spe_topk *t, uint64_t key)
{
	__builtin_prefetch(&t->hash[key_hash(key) & t->hmask]);
}

#endif
