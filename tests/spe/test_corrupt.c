// SPDX-License-Identifier: GPL-2.0-only
/*
 * Damaged streams: flipped, inserted and deleted bytes.  The decoder must
 * not crash, must count bad bytes and dropped records, and every record
 * the damage did not reach decodes exactly.  A record is "exposed" when it
 * or the record before it was damaged (the damage can swallow the record
 * that follows it, see docs/spe.md); all others must come out intact (up
 * to a small documented residual), and nothing may come out of the bytes
 * of an unexposed record but itself.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"


struct verdict {
	size_t safe;		/* records that must decode */
	size_t lost;		/* ... and did not */
	size_t recovered;	/* exposed records that still decoded */
	size_t spurious;	/* outputs that are no truth record: */
	size_t altered;		/* ... starting where a damaged one does */
	size_t leaked;		/* ... starting in an unexposed one */
};

/*
 * Matches the decoder's output against the truth and the damage map.
 * Outputs and truth are both in stream order.
 */
static void judge(const struct spe_record *truth,
		  const struct spegen_fate *fate, size_t nrec,
		  const struct collect *out, struct verdict *v)
{
	size_t k = 0;

	memset(v, 0, sizeof(*v));
	for (size_t r = 0; r < nrec; r++)
		v->safe += !fate[r].exposed;
	for (size_t i = 0; i < out->n; i++) {
		const struct spe_record *o = &out->recs[i];
		struct spe_record want;

		/* the truth record whose bytes this output starts in */
		while (k + 1 < nrec && fate[k + 1].offset <= o->offset)
			k++;
		/* bytes after a record's end belong to the next one's gap */
		if (o->offset >= fate[k].offset + truth[k].len && k + 1 < nrec)
			k++;
		want = truth[k];
		want.offset = fate[k].offset;
		if (!fate[k].damaged && spe_record_equal(o, &want)) {
			v->recovered += fate[k].exposed;
			continue;
		}
		v->spurious++;
		v->altered += o->offset == fate[k].offset;
		if (!fate[k].exposed && v->leaked++ < 3) {
			rec_print(stderr, "spurious", o);
			rec_print(stderr, "in      ", &want);
		}
	}
	/* every unexposed record is in the output */
	for (size_t r = 0, i = 0; r < nrec; r++) {
		if (fate[r].exposed)
			continue;
		while (i < out->n && out->recs[i].offset < fate[r].offset)
			i++;
		if (i == out->n || out->recs[i].offset != fate[r].offset) {
			if (v->lost++ < 3)
				fprintf(stderr, "lost record %zu at %llu\n", r,
					(unsigned long long)fate[r].offset);
		}
	}
}

/* SPE_TEST_SEED=n explores other streams and damage (default 0). */
static uint64_t seed_base(void)
{
	const char *s = getenv("SPE_TEST_SEED");

	return s ? strtoull(s, NULL, 0) * 1000 : 0;
}

static void run_damaged(enum spegen_layout layout, uint64_t seed,
			size_t nrec, unsigned int ndamage, size_t spacing)
{
	struct spegen_opts go = { .seed = seed + seed_base(),
				  .layout = layout };
	struct spe_record *truth;
	struct spegen_fate *fate;
	uint8_t *clean, *bad;
	size_t clen, blen;
	struct collect whole = { .cap = nrec + ndamage * 4 };
	struct collect chunked = { .cap = nrec + ndamage * 4 };
	struct spe_dec *d = malloc(sizeof(*d)), *e = malloc(sizeof(*e));
	struct spe_dec_opts nofast = { .flags = SPE_DEC_NO_FAST };
	struct verdict v;
	size_t exposed = 0;

	assert_true(d && e);
	assert_int_equal(spegen_stream(&go, nrec, &clean, &clen, &truth), 0);
	assert_int_equal(spegen_corrupt(go.seed * 7 + 1, clean, clen, truth, nrec,
					ndamage, spacing, &bad, &blen, &fate),
			 0);
	whole.recs = malloc(whole.cap * sizeof(*whole.recs));
	chunked.recs = malloc(chunked.cap * sizeof(*chunked.recs));
	assert_true(whole.recs && chunked.recs);

	spe_dec_init(d, NULL);
	assert_int_equal(feed_whole(d, bad, blen, collect_cb, &whole), 0);
	judge(truth, fate, nrec, &whole, &v);
	for (size_t r = 0; r < nrec; r++)
		exposed += fate[r].exposed;
	fprintf(stderr,
		"layout %d: %zu records, %zu exposed, %zu lost, %zu recovered, "
		"%zu spurious (%zu altered in place, %zu leaked); decoder: "
		"%llu bad bytes, %llu resyncs, %llu dropped, %llu truncated\n",
		layout, nrec, exposed, v.lost, v.recovered, v.spurious,
		v.altered, v.leaked,
		(unsigned long long)d->stats.bad_bytes,
		(unsigned long long)d->stats.resyncs,
		(unsigned long long)d->stats.dropped,
		(unsigned long long)d->stats.truncated);
	/*
	 * Residual: inside damage, a stray terminator byte followed by bytes
	 * that happen to parse as packets can realign late and swallow the
	 * next record's terminator (docs/spe.md).  Seen at about 1 in 3000
	 * damage events with random payloads, never with N1-like ones on the
	 * seeds tried; allow 1 in 500.  Such a record comes out lost, or
	 * as a spurious record starting in its bytes ("leaked").
	 */
	assert_true(v.lost * 500 <= ndamage);
	assert_true(v.leaked <= v.lost);
	assert_int_equal(v.safe - v.lost + v.recovered + v.spurious, whole.n);
	assert_true(d->stats.bad_bytes > 0);
	assert_true(d->stats.resyncs > 0);
	assert_true(d->stats.dropped > 0);
	assert_true(exposed > 0);

	/* chunking changes nothing, damage or not */
	spe_dec_init(e, NULL);
	assert_int_equal(feed_chunked(e, bad, blen, seed, 4096, collect_cb,
				      &chunked), 0);
	assert_int_equal(chunked.n, whole.n);
	for (size_t i = 0; i < whole.n; i++)
		assert_true(spe_record_equal(&whole.recs[i], &chunked.recs[i]));
	e->stats.fast = d->stats.fast = 0;
	assert_memory_equal(&e->stats, &d->stats, sizeof(d->stats));

	/* and the general path alone agrees */
	spe_dec_init(e, &nofast);
	chunked.n = 0;
	assert_int_equal(feed_whole(e, bad, blen, collect_cb, &chunked), 0);
	assert_int_equal(chunked.n, whole.n);
	for (size_t i = 0; i < whole.n; i++)
		assert_true(spe_record_equal(&whole.recs[i], &chunked.recs[i]));
	assert_memory_equal(&e->stats, &d->stats, sizeof(d->stats));

	free(whole.recs);
	free(chunked.recs);
	free(clean);
	free(bad);
	free(truth);
	free(fate);
	free(d);
	free(e);
}

static void test_damage_n1(void **state)
{
	(void)state;
	run_damaged(SPEGEN_N1, 101, 100000, 1500, 200);
}

static void test_damage_var(void **state)
{
	(void)state;
	run_damaged(SPEGEN_VAR, 102, 100000, 1500, 200);
}

static void test_damage_mixed(void **state)
{
	(void)state;
	run_damaged(SPEGEN_MIXED, 103, 100000, 1500, 200);
}

/* Damage that is dense: no guarantee but no crash and sane counts. */
static void test_damage_dense(void **state)
{
	struct spegen_opts go = { .seed = 104, .layout = SPEGEN_MIXED };
	struct spe_record *truth;
	uint8_t *buf;
	size_t len;
	struct spe_dec d;
	struct collect c = { .cap = 30000 };
	uint64_t rng = 5;

	(void)state;
	assert_int_equal(spegen_stream(&go, 20000, &buf, &len, &truth), 0);
	for (size_t i = 0; i < len / 50; i++)
		buf[spegen_below(&rng, len)] = spegen_rand(&rng);
	c.recs = malloc(c.cap * sizeof(*c.recs));
	assert_non_null(c.recs);
	spe_dec_init(&d, NULL);
	assert_int_equal(feed_chunked(&d, buf, len, 9, 700, collect_cb, &c), 0);
	assert_int_equal(d.stats.bytes, len);
	assert_true(d.stats.records == c.n);
	assert_true(d.stats.bad_bytes > 0 && d.stats.dropped > 0);
	free(c.recs);
	free(buf);
	free(truth);
}

/* Pure garbage: everything is counted, nothing returned from bad bytes. */
static void test_garbage(void **state)
{
	static uint8_t buf[1 << 20];
	struct spe_dec d;
	struct collect c = { .cap = 1 << 16 };
	uint64_t rng = 77;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = spegen_rand(&rng);
	c.recs = malloc(c.cap * sizeof(*c.recs));
	assert_non_null(c.recs);
	spe_dec_init(&d, NULL);
	assert_int_equal(feed_chunked(&d, buf, sizeof(buf), 3, 1000,
				      collect_cb, &c), 0);
	assert_int_equal(d.stats.bytes, sizeof(buf));
	/* ~85% of byte values are not headers */
	assert_true(d.stats.bad_bytes > sizeof(buf) / 4);
	assert_true(d.stats.resyncs > 10);
	fprintf(stderr, "garbage: %zu records from 1 MiB of random bytes, "
		"%llu bad bytes, %llu dropped\n", c.n,
		(unsigned long long)d.stats.bad_bytes,
		(unsigned long long)d.stats.dropped);
	free(c.recs);
}

/*
 * Every single-byte flip, deletion and insertion inside the middle record
 * of five: the records two away from it always decode.
 */
static void test_every_position(void **state)
{
	static const enum spegen_layout layouts[] = { SPEGEN_N1, SPEGEN_VAR };

	(void)state;
	for (size_t li = 0; li < 2; li++) {
		struct spegen_opts go = { .seed = 200 + li,
					  .layout = layouts[li] };
		struct spe_record *truth;
		uint8_t *buf, *mut;
		size_t len;

		assert_int_equal(spegen_stream(&go, 5, &buf, &len, &truth), 0);
		mut = malloc(len + 1);
		assert_non_null(mut);
		for (size_t pos = truth[2].offset;
		     pos < truth[2].offset + truth[2].len; pos++) {
			for (unsigned int kind = 0; kind < 3 * 8; kind++) {
				struct spe_record out[8];
				struct spe_dec d;
				size_t mlen = len, n, used;
				int k;

				memcpy(mut, buf, len);
				if (kind < 8) {			/* flip bit */
					mut[pos] ^= 1u << kind;
				} else if (kind < 16) {		/* delete */
					if (kind > 8)
						continue;
					memmove(mut + pos, mut + pos + 1,
						len - pos - 1);
					mlen--;
				} else {			/* insert */
					memmove(mut + pos + 1, mut + pos,
						len - pos);
					mut[pos] = (kind - 16) * 37 + 1;
					mlen++;
				}
				spe_dec_init(&d, NULL);
				n = 0;
				for (size_t off = 0; off < mlen; off += used) {
					k = spe_dec_feed(&d, mut + off,
							 mlen - off, &used,
							 out + n, 8 - n);
					assert_true(k >= 0);
					n += k;
				}
				spe_dec_finish(&d);
				/* records 0, 1 and 4 come out exactly */
				assert_true(n >= 3);
				assert_true(spe_record_equal(&out[0],
							     &truth[0]));
				assert_true(spe_record_equal(&out[1],
							     &truth[1]));
				{
					struct spe_record last = truth[4];

					last.offset = last.offset + mlen - len;
					assert_true(spe_record_equal(
						&out[n - 1], &last));
				}
			}
		}
		free(mut);
		free(buf);
		free(truth);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_position),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_damage_dense),
		cmocka_unit_test(test_damage_n1),
		cmocka_unit_test(test_damage_var),
		cmocka_unit_test(test_damage_mixed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
