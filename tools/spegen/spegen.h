/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Synthetic SPE streams with ground truth.  The generator picks field
 * values, writes the truth record from them and encodes the bytes with its
 * own encoder (it shares no code with the decoder), so decoding the bytes
 * must give back the truth exactly.
 */
#ifndef KVMPROF_SPEGEN_H
#define KVMPROF_SPEGEN_H

#include <stddef.h>
#include <stdint.h>

#include <kvmprof/spe.h>

enum spegen_layout {
	SPEGEN_N1 = 0,	/* Neoverse-N1-like: 64-byte records, PAD fill, TS
			 * last; one layout per op class */
	SPEGEN_VAR,	/* every packet kind, random order, sizes, indexes,
			 * extended headers, PAD; END or TS */
	SPEGEN_MIXED,	/* N1 records with 1 in 8 variable ones */
};

struct spegen_opts {
	uint64_t seed;
	enum spegen_layout layout;
	unsigned int npcs;	/* distinct PCs (0: 4096), at most 1 << 20 */
	unsigned int npids;	/* distinct CONTEXTIDR values (0: 32) */
};

#define SPEGEN_REC_MAX	512	/* bytes one record (and its gap) takes */

struct spegen {
	struct spegen_opts opts;
	uint64_t rng;
	uint64_t ts;
	uint64_t offset;	/* stream offset of the next byte */
	uint64_t *pcs;		/* PC payloads (EL, NS included) */
};

int spegen_init(struct spegen *g, const struct spegen_opts *opts);
void spegen_free(struct spegen *g);

/*
 * Appends one record (preceded by any PAD gap) to @buf, at most
 * SPEGEN_REC_MAX bytes.  Fills @ret_truth (offset is the stream offset).
 * Returns the bytes written or -ENOSPC.
 */
int spegen_record(struct spegen *g, uint8_t *buf, size_t cap,
		  struct spe_record *ret_truth);

/* A whole stream of @nrec records; the caller frees both arrays. */
int spegen_stream(const struct spegen_opts *opts, size_t nrec,
		  uint8_t **ret_buf, size_t *ret_len,
		  struct spe_record **ret_truth);

/* At least @min_len bytes of whole records, without the truth (for
 * benches); *ret_nrec (if not NULL) counts them.  The caller frees. */
int spegen_bytes(const struct spegen_opts *opts, size_t min_len,
		 uint8_t **ret_buf, size_t *ret_len, uint64_t *ret_nrec);

/* ---- damage --------------------------------------------------------------- */

enum spegen_damage_kind { SPEGEN_FLIP, SPEGEN_INSERT, SPEGEN_DELETE };

/* What became of one truth record after spegen_corrupt(). */
struct spegen_fate {
	uint64_t offset;	/* its offset in the damaged stream */
	uint8_t damaged;	/* one of its bytes changed, or bytes were
				 * inserted into or deleted from it */
	uint8_t exposed;	/* damaged, or damage since the start of the
				 * record before it: it may be lost */
};

/*
 * Applies @ndamage random flips, insertions (1..16 random bytes) and
 * deletions (1..16 bytes) to @in, at least @spacing bytes apart.  Returns
 * the new stream and the fate of each of the @nrec truth records.
 */
int spegen_corrupt(uint64_t seed, const uint8_t *in, size_t len,
		   const struct spe_record *truth, size_t nrec,
		   unsigned int ndamage, size_t spacing, uint8_t **ret_out,
		   size_t *ret_len, struct spegen_fate **ret_fate);

/* Deterministic PRNG (splitmix64) for tests. */
static inline uint64_t spegen_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static inline uint64_t spegen_below(uint64_t *s, uint64_t n)
{
	return n ? spegen_rand(s) % n : 0;
}

#endif
