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

/*
 * Whether the doorkeeper bit of hash @h was set since the last purge;
 * sets it.  Every key in the table has its bit set: an item of a key
 * whose bit is clear is the key's first since the purge, and not held.
 */
static inline bool door_seen(struct spe_topk *t, uint32_t h)
{
	const uint32_t b = h >> t->door_shift;
	uint64_t *w = &t->door[b >> 6];
	const uint64_t bit = 1ull << (b & 63);
	const bool seen = *w & bit;

	*w |= bit;
	return seen;
}

/*
 * Adds @key, whose hash is @h (purges keep the table's size).  No
 * branch on whether the key is new (as likely as not with a long tail of
 * keys): a new key's slot is empty, so writing the key and adding 1 to
 * the count does both cases; only a full table (a purge first) branches.
 */
static inline void topk_add_at(struct spe_topk *t, uint64_t key, uint32_t h)
{
	struct spe_topk_slot *sl;
	bool fresh;

	t->total++;
	if (t->door_on && !door_seen(t, h))
		return;
	sl = find_slot_at(t, key, h & t->hmask);
	fresh = !sl->count;
	if (__builtin_expect(t->n + fresh > t->max_n, 0)) {
		spe_topk_purge(t);
		sl = find_slot_at(t, key, h & t->hmask);
		door_seen(t, h);
	}
	sl->key = key;
	sl->count++;
	t->n += fresh;
}

/* Starts loading what an add of hash @h reads: its table slot and its
 * doorkeeper word (a batch's counts hide the cache misses). */
static inline void topk_prefetch(const struct spe_topk *t, uint32_t h)
{
	__builtin_prefetch(&t->hash[h & t->hmask]);
	__builtin_prefetch(&t->door[(h >> t->door_shift) >> 6]);
}

static inline void topk_add(struct spe_topk *t, uint64_t key)
{
	topk_add_at(t, key, key_hash(key));
}

#endif
