// SPDX-License-Identifier: GPL-2.0-only
/*
 * Damage for spegen's streams (spegen_corrupt, spegen.h): random flips,
 * insertions and deletions, and the fate of each truth record.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spegen.h"

struct damage {
	uint64_t pos; /* in the input stream */
	uint8_t kind;
	uint8_t n;
};

static int cmp_damage(const void *a, const void *b)
{
	const struct damage *x = a, *y = b;

	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

int spegen_corrupt(uint64_t seed, const uint8_t *in, size_t len,
		   const struct spe_record *truth, size_t nrec,
		   unsigned int ndamage, size_t spacing, uint8_t **ret_out,
		   size_t *ret_len, struct spegen_fate **ret_fate)
{
	struct damage *dmg;
	struct spegen_fate *fate;
	uint8_t *out;
	size_t olen = 0, nd = 0, di = 0;
	uint64_t rng = seed;

	if (!len || ndamage > len / (spacing + 17))
		return -EINVAL;
	dmg = calloc(ndamage ? ndamage : 1, sizeof(*dmg));
	out = malloc(len + 16 * (size_t)ndamage + 1);
	fate = calloc(nrec ? nrec : 1, sizeof(*fate));
	if (!dmg || !out || !fate) {
		free(dmg);
		free(out);
		free(fate);
		return -ENOMEM;
	}
	/* positions at least @spacing apart: retry a few times */
	for (unsigned int tries = 0; nd < ndamage && tries < 16 * ndamage;
	     tries++) {
		uint64_t pos = spegen_below(&rng, len - 16);
		bool close = false;

		for (size_t i = 0; i < nd; i++)
			close |= (pos > dmg[i].pos ?
					  pos - dmg[i].pos :
					  dmg[i].pos - pos) < spacing + 16;
		if (close)
			continue;
		dmg[nd].pos = pos;
		dmg[nd].kind = spegen_below(&rng, 3);
		dmg[nd].n = 1 + spegen_below(&rng, 16);
		nd++;
	}
	qsort(dmg, nd, sizeof(*dmg), cmp_damage);

	/* rebuild the stream, mapping record offsets as we go */
	for (size_t pos = 0, r = 0;;) {
		const struct damage *d = NULL;

		if (di < nd && dmg[di].pos == pos)
			d = &dmg[di++];
		if (d && d->kind == SPEGEN_INSERT) {
			/* new bytes go before the byte at @pos */
			for (unsigned int k = 0; k < d->n; k++)
				out[olen++] = spegen_rand(&rng);
			d = NULL;
		}
		/* records starting here, or inside a deleted hole */
		while (r < nrec && truth[r].offset <= pos)
			fate[r++].offset = olen;
		if (pos == len)
			break;
		if (d && d->kind == SPEGEN_DELETE) {
			pos += d->n;
			continue;
		}
		out[olen++] = d ? in[pos] ^ (1 + spegen_below(&rng, 255)) :
				  in[pos];
		pos++;
	}

	/* which records the damage touched, and which follow it closely */
	for (size_t r = 0; r < nrec; r++) {
		uint64_t s = truth[r].offset, e = s + truth[r].len;
		uint64_t ps = r ? truth[r - 1].offset : 0;

		for (size_t i = 0; i < nd; i++) {
			uint64_t a = dmg[i].pos,
				 b = a + (dmg[i].kind == SPEGEN_DELETE ?
						  dmg[i].n :
						  1);

			/* an insertion at a record's first byte leaves it
			 * whole but exposes it */
			if (dmg[i].kind == SPEGEN_INSERT)
				fate[r].damaged |= a > s && a < e;
			else
				fate[r].damaged |= a < e && b > s;
			fate[r].exposed |= a < e && b > ps;
		}
		fate[r].exposed |= fate[r].damaged;
	}
	free(dmg);
	*ret_out = out;
	*ret_len = olen;
	*ret_fate = fate;
	return 0;
}
