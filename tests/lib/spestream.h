/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Synthetic SPE streams with their ground truth (spegen), injected as the
 * kvm_spe_copy_out tracepoint would report them (inject.h).  cmocka
 * asserts: for test programs only.
 */
#ifndef KP_TEST_SPESTREAM_H
#define KP_TEST_SPESTREAM_H

#include <stddef.h>
#include <stdint.h>

#include <kvmprof/spe.h>
#include "inject.h"

struct stream {
	uint8_t *buf;
	size_t len, pos;
	struct spe_record *truth;
	size_t nrec;
	uint64_t by_el[4];
};

/* State of rnd(); a test may perturb it. */
extern uint64_t rng;

void stream_make(struct stream *s, uint64_t seed, size_t nrec);
void stream_free(struct stream *s);
uint64_t rnd(uint64_t n);
/* Inject @n streams, interleaved, each cut at arbitrary points. */
void inject_streams(struct inject *in, int prog, struct stream *s, int n,
		    uint64_t *copies, uint64_t *errs);
/* All of @s as vCPU 0's copy-outs of @piece bytes. */
void inject_pieces(struct inject *in, int prog, const struct stream *s,
		   size_t piece);

#endif
