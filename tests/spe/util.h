/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers shared by the SPE tests. */
#ifndef KVMPROF_TESTS_SPE_UTIL_H
#define KVMPROF_TESTS_SPE_UTIL_H

#include <stdio.h>

#include <kvmprof/spe.h>

#include "../../tools/spegen/spegen.h"

/* Replays a generator's truth records one by one (same seed, same
 * sequence), so that long streams need no truth array. */
struct truth_iter {
	struct spegen g;
	uint8_t scratch[SPEGEN_REC_MAX];
	struct spe_record rec;
};

int truth_iter_init(struct truth_iter *it, const struct spegen_opts *opts);
const struct spe_record *truth_iter_next(struct truth_iter *it);
void truth_iter_free(struct truth_iter *it);

/* Checks decoded records against a truth iterator. */
struct checker {
	struct truth_iter it;
	size_t n;
	size_t mismatches;
};

int checker_cb(void *arg, const struct spe_record *r);

/* Keeps decoded records in an array of @cap (-ENOSPC beyond). */
struct collect {
	struct spe_record *recs;
	size_t n, cap;
};

int collect_cb(void *arg, const struct spe_record *r);

void rec_print(FILE *f, const char *tag, const struct spe_record *r);

/*
 * Feeds @buf in random chunks of 1..@max_chunk bytes, each copied to a
 * random alignment, with random output array sizes, then finishes.
 */
int feed_chunked(struct spe_dec *d, const uint8_t *buf, size_t len,
		 uint64_t seed, size_t max_chunk, spe_rec_fn fn, void *arg);

/* The whole buffer at once with a large output array, then finishes. */
int feed_whole(struct spe_dec *d, const uint8_t *buf, size_t len,
	       spe_rec_fn fn, void *arg);

#endif
