// SPDX-License-Identifier: GPL-2.0-only
/*
 * Record layer: generated streams decode to their ground truth exactly,
 * whole or fed in random chunks at random alignments, with and without the
 * fast path; plus hand-made edge cases.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

#define NREC_BIG	1000000

struct stream {
	struct spegen_opts opts;
	size_t nrec;
	uint8_t *buf;
	size_t len;
};

/* Generates a stream (bytes only: the truth is replayed by checkers). */
static void stream_make(struct stream *s, enum spegen_layout layout,
			uint64_t seed, size_t nrec)
{
	struct spegen g;
	size_t cap = nrec * 80 + SPEGEN_REC_MAX;

	s->opts = (struct spegen_opts){ .seed = seed, .layout = layout };
	s->nrec = nrec;
	s->len = 0;
	assert_int_equal(spegen_init(&g, &s->opts), 0);
	s->buf = malloc(cap);
	assert_non_null(s->buf);
	for (size_t i = 0; i < nrec; i++) {
		struct spe_record t;
		int n;

		if (cap - s->len < SPEGEN_REC_MAX) {
			cap *= 2;
			s->buf = realloc(s->buf, cap);
			assert_non_null(s->buf);
		}
		n = spegen_record(&g, s->buf + s->len, cap - s->len, &t);
		assert_true(n > 0);
		s->len += n;
	}
	spegen_free(&g);
}

/* Decodes @s (whole, or chunked with @seed) and checks every record. */
static void check_stream(const struct stream *s, uint32_t flags,
			 size_t max_chunk, uint64_t seed,
			 struct spe_dec_stats *ret_stats)
{
	struct spe_dec_opts o = { .flags = flags };
	struct spe_dec *d = malloc(sizeof(*d));
	struct checker c = { 0 };

	assert_non_null(d);
	spe_dec_init(d, &o);
	assert_int_equal(truth_iter_init(&c.it, &s->opts), 0);
	if (max_chunk)
		assert_int_equal(feed_chunked(d, s->buf, s->len, seed,
					      max_chunk, checker_cb, &c), 0);
	else
		assert_int_equal(feed_whole(d, s->buf, s->len, checker_cb, &c),
				 0);
	truth_iter_free(&c.it);
	if (c.mismatches || c.n != s->nrec)
		fail_msg("%zu of %zu records, %zu mismatches", c.n, s->nrec,
			 c.mismatches);
	assert_int_equal(d->stats.records, s->nrec);
	assert_int_equal(d->stats.bytes, s->len);
	assert_int_equal(d->stats.bad_bytes, 0);
	assert_int_equal(d->stats.dropped, 0);
	assert_int_equal(d->stats.truncated, 0);
	assert_int_equal(d->stats.resyncs, 0);
	if (ret_stats)
		*ret_stats = d->stats;
	free(d);
}

static void test_truth_n1(void **state)
{
	struct stream s;
	struct spe_dec_stats st;

	(void)state;
	stream_make(&s, SPEGEN_N1, 1, NREC_BIG);
	check_stream(&s, 0, 0, 0, &st);
	/* a fixed-layout stream goes through the fast path */
	assert_true(st.fast > s.nrec - 100);
	check_stream(&s, SPE_DEC_NO_FAST, 0, 0, &st);
	assert_int_equal(st.fast, 0);
	check_stream(&s, 0, 4096, 11, NULL);
	check_stream(&s, SPE_DEC_NO_FAST, 4096, 12, NULL);
	free(s.buf);
}

static void test_truth_mixed(void **state)
{
	struct stream s;

	(void)state;
	stream_make(&s, SPEGEN_MIXED, 2, NREC_BIG);
	check_stream(&s, 0, 0, 0, NULL);
	check_stream(&s, 0, 4096, 21, NULL);
	check_stream(&s, SPE_DEC_NO_FAST, 4096, 22, NULL);
	free(s.buf);
}

static void test_truth_var(void **state)
{
	struct stream s;

	(void)state;
	stream_make(&s, SPEGEN_VAR, 3, 300000);
	check_stream(&s, 0, 0, 0, NULL);
	check_stream(&s, SPE_DEC_NO_FAST, 0, 0, NULL);
	check_stream(&s, 0, 4096, 31, NULL);
	free(s.buf);
}

/* Tiny chunks: nearly every packet is split across feeds. */
static void test_tiny_chunks(void **state)
{
	static const enum spegen_layout layouts[] = {
		SPEGEN_N1, SPEGEN_VAR, SPEGEN_MIXED,
	};

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct stream s;

		stream_make(&s, layouts[i], 40 + i, 20000);
		for (size_t max = 1; max <= 17; max += 4)
			check_stream(&s, 0, max, 400 + max, NULL);
		free(s.buf);
	}
}

/* Fast and general paths give the same records and statistics. */
static void test_fast_equals_general(void **state)
{
	struct stream s;
	struct spe_dec *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct spe_dec_opts nofast = { .flags = SPE_DEC_NO_FAST };
	struct collect ca = { .cap = 200000 }, cb = { .cap = 200000 };

	(void)state;
	ca.recs = malloc(ca.cap * sizeof(*ca.recs));
	cb.recs = malloc(cb.cap * sizeof(*cb.recs));
	assert_true(a && b && ca.recs && cb.recs);
	stream_make(&s, SPEGEN_MIXED, 5, 100000);
	/* damage some bytes too: both paths must agree on everything */
	for (size_t i = 1000; i < s.len; i += 7919)
		s.buf[i] ^= 0x5a;
	spe_dec_init(a, NULL);
	spe_dec_init(b, &nofast);
	assert_int_equal(feed_chunked(a, s.buf, s.len, 7, 3000, collect_cb,
				      &ca), 0);
	assert_int_equal(feed_chunked(b, s.buf, s.len, 8, 5000, collect_cb,
				      &cb), 0);
	assert_int_equal(ca.n, cb.n);
	for (size_t i = 0; i < ca.n; i++)
		if (!spe_record_equal(&ca.recs[i], &cb.recs[i])) {
			rec_print(stderr, "fast", &ca.recs[i]);
			rec_print(stderr, "gen ", &cb.recs[i]);
			fail_msg("record %zu differs", i);
		}
	assert_true(a->stats.fast > 0);
	a->stats.fast = 0;
	assert_memory_equal(&a->stats, &b->stats, sizeof(a->stats));
	assert_true(a->stats.bad_bytes > 0);
	free(ca.recs);
	free(cb.recs);
	free(a);
	free(b);
	free(s.buf);
}

/* ---- hand-made streams ----------------------------------------------------- */

static const uint8_t rec_pc_ts[] = {
	0xb0, 0x10, 0x32, 0x54, 0x76, 0x00, 0x00, 0x00, 0x20,	/* PC el1 */
	0x98, 0x2a, 0x00,					/* LAT 42 TOT */
	0x00, 0x00,						/* PAD */
	0x71, 1, 2, 3, 4, 5, 6, 7, 8,				/* TS */
};

static size_t decode_bytes(struct spe_dec *d, const uint8_t *buf, size_t len,
			   struct spe_record *recs, size_t max)
{
	size_t used, n = 0;

	while (len) {
		int k = spe_dec_feed(d, buf, len, &used, recs + n, max - n);

		assert_true(k >= 0);
		n += k;
		buf += used;
		len -= used;
		if (n == max)
			break;
	}
	spe_dec_finish(d);
	return n;
}

static void test_simple_record(void **state)
{
	struct spe_dec d;
	struct spe_record r[4];

	(void)state;
	spe_dec_init(&d, NULL);
	assert_int_equal(decode_bytes(&d, rec_pc_ts, sizeof(rec_pc_ts), r, 4),
			 1);
	assert_int_equal(r[0].addr_mask, 1);
	assert_int_equal(r[0].addr[0], 0x2000000076543210ULL);
	assert_int_equal(r[0].cnt_mask, 1);
	assert_int_equal(r[0].cnt[0], 42);
	assert_int_equal(r[0].flags, SPE_REC_TS);
	assert_int_equal(r[0].ts, 0x0807060504030201ULL);
	assert_int_equal(r[0].offset, 0);
	assert_int_equal(r[0].len, sizeof(rec_pc_ts));
	assert_int_equal(d.stats.records, 1);
}

/* Each prefix of a record: returned only once complete, else truncated. */
static void test_truncated(void **state)
{
	uint8_t buf[2 * sizeof(rec_pc_ts)];

	(void)state;
	memcpy(buf, rec_pc_ts, sizeof(rec_pc_ts));
	memcpy(buf + sizeof(rec_pc_ts), rec_pc_ts, sizeof(rec_pc_ts));
	for (size_t cut = sizeof(rec_pc_ts) + 1; cut < sizeof(buf); cut++) {
		struct spe_dec d;
		struct spe_record r[4];

		spe_dec_init(&d, NULL);
		assert_int_equal(decode_bytes(&d, buf, cut, r, 4), 1);
		assert_int_equal(d.stats.truncated, 1);
		assert_int_equal(d.stats.bad_bytes, 0);
		assert_int_equal(d.stats.dropped, 0);
	}
}

static void test_pad_and_end(void **state)
{
	/* PAD, a record ended by END, PAD, a lone TS, PAD */
	static const uint8_t b[] = {
		0x00, 0x00, 0x00,
		0x49, 0x01, 0x65, 0x07, 0x00, 0x00, 0x00, 0x01,
		0x00,
		0x71, 0, 0, 0, 0, 0, 0, 0, 0,
		0x00, 0x00,
	};
	struct spe_dec d;
	struct spe_record r[4];

	(void)state;
	spe_dec_init(&d, NULL);
	assert_int_equal(decode_bytes(&d, b, sizeof(b), r, 4), 2);
	assert_int_equal(r[0].offset, 3);
	assert_int_equal(r[0].len, 8);
	assert_int_equal(r[0].flags, SPE_REC_END | SPE_REC_OP);
	assert_int_equal(r[0].op_class, 1);
	assert_int_equal(r[0].op, 1);
	assert_int_equal(r[0].ctx_mask, 2);
	assert_int_equal(r[0].ctx[1], 7);
	assert_int_equal(r[1].offset, 12);
	assert_int_equal(r[1].len, 9);
	assert_int_equal(r[1].flags, SPE_REC_TS);
	assert_int_equal(d.stats.bytes, sizeof(b));
}

static void test_dup(void **state)
{
	static const uint8_t b[] = {
		0xb0, 1, 0, 0, 0, 0, 0, 0, 0,
		0xb0, 2, 0, 0, 0, 0, 0, 0, 0,	/* PC again */
		0x01,
		0xb0, 3, 0, 0, 0, 0, 0, 0, 0,
		0x01,
	};
	struct spe_dec_opts keep = { .flags = SPE_DEC_KEEP_DUP };
	struct spe_dec d;
	struct spe_record r[4];

	(void)state;
	spe_dec_init(&d, NULL);
	assert_int_equal(decode_bytes(&d, b, sizeof(b), r, 4), 1);
	assert_int_equal(r[0].addr[0], 3);
	assert_int_equal(d.stats.dups, 1);
	assert_int_equal(d.stats.dropped, 1);

	spe_dec_init(&d, &keep);
	assert_int_equal(decode_bytes(&d, b, sizeof(b), r, 4), 2);
	assert_int_equal(r[0].addr[0], 2);
	assert_int_equal(r[0].flags, SPE_REC_END | SPE_REC_DUP);
	assert_int_equal(r[1].flags, SPE_REC_END);
}

static void test_too_long(void **state)
{
	size_t len = 9 + SPE_REC_MAX_LEN + 1;
	uint8_t *b = calloc(1, len + sizeof(rec_pc_ts));
	struct spe_dec d;
	struct spe_record r[4];

	(void)state;
	assert_non_null(b);
	b[0] = 0xb0;			/* PC, a long PAD run, END */
	b[len - 1] = 0x01;
	memcpy(b + len, rec_pc_ts, sizeof(rec_pc_ts));
	spe_dec_init(&d, NULL);
	assert_int_equal(decode_bytes(&d, b, len + sizeof(rec_pc_ts), r, 4), 1);
	assert_int_equal(r[0].offset, len);
	assert_int_equal(d.stats.dropped, 1);
	free(b);
}

static void test_discontinuity(void **state)
{
	struct spe_dec d;
	struct spe_record r[4];
	size_t used;

	(void)state;
	spe_dec_init(&d, NULL);
	/* half a record, a loss, the tail of another, a whole record */
	assert_int_equal(spe_dec_feed(&d, rec_pc_ts, 10, &used, r, 4), 0);
	spe_dec_discontinuity(&d);
	assert_int_equal(spe_dec_feed(&d, rec_pc_ts + 12, sizeof(rec_pc_ts) - 12,
				      &used, r, 4), 0);
	assert_int_equal(decode_bytes(&d, rec_pc_ts, sizeof(rec_pc_ts), r, 4),
			 1);
	assert_int_equal(d.stats.dropped, 1);
	assert_int_equal(d.stats.resyncs, 1);
}

static void test_bad_args(void **state)
{
	struct spe_dec d;
	struct spe_record r[1];
	size_t used;

	(void)state;
	spe_dec_init(&d, NULL);
	assert_int_equal(spe_dec_feed(&d, rec_pc_ts, 4, &used, r, 0), -EINVAL);
	assert_int_equal(spe_dec_feed(&d, rec_pc_ts, 4, &used, NULL, 1),
			 -EINVAL);
	assert_int_equal(spe_dec_feed(&d, NULL, 4, &used, r, 1), -EINVAL);
	assert_int_equal(spe_dec_feed(&d, NULL, 0, &used, r, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_record),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_pad_and_end),
		cmocka_unit_test(test_dup),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_discontinuity),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_tiny_chunks),
		cmocka_unit_test(test_fast_equals_general),
		cmocka_unit_test(test_truth_var),
		cmocka_unit_test(test_truth_mixed),
		cmocka_unit_test(test_truth_n1),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
