// SPDX-License-Identifier: GPL-2.0-only
/*
 * The profile on two threads (lib/spe/parallel.c) against one thread on
 * the same bytes: the input shared out in ranges cut at record boundaries
 * found by resynchronisation, each thread's ranges decoded into its own
 * profile, the two merged.  Every counter and the decoder's statistics
 * must be the same; the top-K the same entries while exact.  Streams: N1
 * records, random layouts (PAD between and inside records, END or TS),
 * damaged streams (a range after a cut that meets damage makes both
 * threads stop and one decode it all again), a cut that a resynchronising
 * decoder takes for a record boundary inside a record (hand-assembled
 * bytes: the same), in memory and read from a file; cut in several pieces before the threads start
 * (spe_par_set_tune(), so that the cuts do not depend on timing) and as
 * the threads go.  And the pipeline (the top-K adds on a helper thread):
 * exactly the one-thread profile.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <kvmprof/spe_profile.h>

#include "../../lib/spe/parallel.h"
#include "../../tools/spegen/spegen.h"

#define K 512

static void profile_equal(const struct spe_profile *a,
			  const struct spe_profile *b)
{
	/* every counter but the two sketches: one block of plain words */
	assert_memory_equal(&a->samples, &b->samples,
			    offsetof(struct spe_profile, no_ctx) -
				    offsetof(struct spe_profile, samples));
	assert_int_equal(a->no_ctx, b->no_ctx);
	assert_int_equal(a->ts_records, b->ts_records);
	assert_int_equal(a->ts_first, b->ts_first);
	assert_int_equal(a->ts_last, b->ts_last);
	assert_int_equal(a->pcs.total, b->pcs.total);
	assert_int_equal(a->ctx.total, b->ctx.total);
}

static void stats_equal(const struct spe_dec_stats *a,
			const struct spe_dec_stats *b)
{
	assert_int_equal(a->bytes, b->bytes);
	assert_int_equal(a->records, b->records);
	assert_int_equal(a->bad_bytes, b->bad_bytes);
	assert_int_equal(a->resyncs, b->resyncs);
	assert_int_equal(a->dropped, b->dropped);
	assert_int_equal(a->truncated, b->truncated);
	assert_int_equal(a->dups, b->dups);
}

/*
 * The top-K entries of @a and @b.  @exact: the same, purged or not (and
 * not empty); otherwise equal only when neither was purged.
 */
static void topk_compare(const struct spe_topk *a, const struct spe_topk *b,
			 bool exact)
{
	struct spe_topk_entry *ea = calloc(2 * K, sizeof(*ea));
	struct spe_topk_entry *eb = calloc(2 * K, sizeof(*eb));
	size_t na, nb;

	assert_true(ea && eb);
	na = spe_topk_sorted(a, ea, 2 * K);
	nb = spe_topk_sorted(b, eb, 2 * K);
	if (exact || (!a->offset && !b->offset)) {
		assert_int_equal(na, nb);
		if (exact)
			assert_true(na > 0);
		assert_memory_equal(ea, eb, na * sizeof(*ea));
	}
	if (exact)
		assert_int_equal(a->offset, b->offset);
	free(ea);
	free(eb);
}

/* Small claims and steals, and @pieces pieces to start with. */
static void tune_pieces(unsigned int pieces)
{
	const struct spe_par_tune t = { .chunk = 64 << 10,
					.steal_min = 256 << 10,
					.pieces = pieces };

	spe_par_set_tune(&t);
}

/*
 * One and two threads on @buf, in memory and from a file; returns the
 * fewer cuts of the two two-thread runs.
 */
static unsigned int check_stream(const uint8_t *buf, size_t len)
{
	struct spe_profile_opts po = { .midr = 0x410fd0c0, .top_pcs = K };
	struct spe_stream_in in = { buf, len };
	struct spe_profile one, two, f1, f2;
	struct spe_dec_stats s1, s2, sf1, sf2;
	char path[] = "/tmp/kvmprof-test-parallel-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(spe_profile_init(&one, &po), 0);
	assert_int_equal(spe_profile_init(&two, &po), 0);
	assert_int_equal(spe_profile_init(&f1, &po), 0);
	assert_int_equal(spe_profile_init(&f2, &po), 0);
	assert_int_equal(spe_profile_decode_streams(&one, &in, 1, 1, &s1), 0);
	assert_int_equal(spe_profile_decode_streams(&two, &in, 1, 2, &s2), 0);
	assert_int_equal(spe_profile_decode_fd(&f1, fd, len, 1, &sf1), 0);
	assert_int_equal(spe_profile_decode_fd(&f2, fd, len, 2, &sf2), 0);
	assert_int_equal(s1.cuts, 0);
	assert_int_equal(sf1.cuts, 0);
	assert_true(s1.records > 0);
	stats_equal(&s1, &s2);
	stats_equal(&s1, &sf1);
	stats_equal(&s1, &sf2);
	profile_equal(&one, &two);
	profile_equal(&one, &f1);
	profile_equal(&one, &f2);
	topk_compare(&one.pcs, &two.pcs, false);
	topk_compare(&one.ctx, &two.ctx, false);
	topk_compare(&one.pcs, &f2.pcs, false);
	spe_profile_free(&one);
	spe_profile_free(&two);
	spe_profile_free(&f1);
	spe_profile_free(&f2);
	close(fd);
	return s2.cuts < sf2.cuts ? s2.cuts : sf2.cuts;
}

static void test_parallel_layouts(void **state)
{
	static const enum spegen_layout layouts[] = { SPEGEN_N1, SPEGEN_VAR,
						      SPEGEN_MIXED };

	(void)state;
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		/* few PCs: the top-K stays exact, entries compared too */
		struct spegen_opts go = { .seed = 11 + i,
					  .layout = layouts[i],
					  .npcs = 500 };
		uint8_t *buf;
		size_t len;

		assert_int_equal(spegen_bytes(&go, 3u << 20, &buf, &len, NULL),
				 0);
		/* as the threads go: cut or not, the same profile */
		spe_par_set_tune(NULL);
		check_stream(buf, len);
		/* four pieces: three cuts at least (more if stolen) */
		tune_pieces(4);
		assert_true(check_stream(buf, len) >= 3);
		/* odd lengths: the cuts fall anywhere in a record */
		for (size_t cut = 1; cut < 4; cut++)
			assert_true(check_stream(buf, len - cut * 7) >= 3);
		free(buf);
	}
}

/*
 * Damage all over: when the second half meets some, its decoding is
 * thrown away (resynchronisation depends on what came before), so the
 * result is still the one thread's.
 */
static void test_parallel_damaged(void **state)
{
	struct spegen_opts go = { .seed = 3, .layout = SPEGEN_MIXED };
	struct spe_record *truth;
	struct spegen_fate *fate;
	uint8_t *buf, *bad;
	size_t len, blen, nrec = 50000;

	(void)state;
	tune_pieces(4);
	assert_int_equal(spegen_stream(&go, nrec, &buf, &len, &truth), 0);
	for (unsigned int ndamage = 1; ndamage <= 1000; ndamage *= 10) {
		assert_int_equal(spegen_corrupt(ndamage, buf, len, truth, nrec,
						ndamage, 256, &bad, &blen,
						&fate),
				 0);
		check_stream(bad, blen);
		free(bad);
		free(fate);
	}
	free(truth);
	free(buf);
	spe_par_set_tune(NULL);
}

/*
 * A clean stream, then damage: cut in two in the clean part, the second
 * range meets damage, so the two threads' work is thrown away and one
 * decodes it all again (no cut in the result), the same profile.
 */
static void test_parallel_damage_after_cut(void **state)
{
	struct spegen_opts go = { .seed = 5, .layout = SPEGEN_MIXED };
	struct spe_record *truth, *ctruth;
	struct spegen_fate *fate;
	uint8_t *clean, *dmg, *bad, *buf;
	size_t clen, dlen, blen, nrec = 20000;

	(void)state;
	assert_int_equal(spegen_stream(&go, 3 * nrec, &clean, &clen, &ctruth),
			 0);
	go.seed = 6;
	assert_int_equal(spegen_stream(&go, nrec, &dmg, &dlen, &truth), 0);
	assert_int_equal(spegen_corrupt(7, dmg, dlen, truth, nrec, 100, 256,
					&bad, &blen, &fate),
			 0);
	buf = malloc(clen + blen);
	assert_non_null(buf);
	memcpy(buf, clean, clen);
	memcpy(buf + clen, bad, blen);
	tune_pieces(2);
	/* the clean part alone: cut */
	assert_true(check_stream(buf, clen) >= 1);
	/* the middle is in the clean part (3/4 of it): cut there, then the
	 * damage after it: decoded again, no cut */
	assert_int_equal(check_stream(buf, clen + blen), 0);
	spe_par_set_tune(NULL);
	free(buf);
	free(bad);
	free(fate);
	free(truth);
	free(ctruth);
	free(dmg);
	free(clean);
}

/*
 * A cut that is not a record boundary: a PC whose payload bytes read as
 * END, an op type packet, END (a resynchronising decoder started at the
 * payload takes them for a record), then PADs, so the next packet of the
 * real record looks like the start of a second record; 64 good records
 * follow.  The middle of the stream is that payload, so the cut of two
 * pieces falls inside the record: the first thread is not between
 * records there, so all is decoded again on one thread.
 */
static void test_parallel_cut_not_boundary(void **state)
{
	static const uint8_t good[16] = {
		0xb0, 0x10, 0x32, 0x54, 0x76, 0x00, 0x00, 0x00, 0x20, /* PC */
		0x49, 0x01,					      /* op */
		0x98, 0x2a, 0x00,				      /* LAT */
		0x00,						      /* PAD */
		0x01,						      /* END */
	};
	static const uint8_t trap[16] = {
		0xb0, 0x01, 0x49, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, /* PC */
		0x98, 0x2a, 0x00,				      /* LAT */
		0x00, 0x00, 0x00,				      /* PAD */
		0x01,						      /* END */
	};
	const size_t before = 40000, after = 100;
	const size_t payload = before * sizeof(good) + 1, len = 2 * payload;
	uint8_t *buf = calloc(1, len), *p = buf; /* 0: PAD */

	(void)state;
	assert_non_null(buf);
	for (size_t i = 0; i < before; i++, p += sizeof(good))
		memcpy(p, good, sizeof(good));
	memcpy(p, trap, sizeof(trap));
	p += sizeof(trap);
	for (size_t i = 0; i < after; i++, p += sizeof(good))
		memcpy(p, good, sizeof(good));
	tune_pieces(2);
	assert_int_equal(check_stream(buf, len), 0);
	/* the same bytes with a good record there: cut */
	memcpy(buf + payload - 1, good, sizeof(good));
	assert_true(check_stream(buf, len) >= 1);
	spe_par_set_tune(NULL);
	free(buf);
}

/* Several streams: the cut may fall in any of them, or between two. */
static void test_parallel_streams(void **state)
{
	struct spegen_opts go = { .seed = 8, .layout = SPEGEN_VAR };
	struct spe_profile_opts po = { .top_pcs = K };
	struct spe_profile one, two;
	struct spe_dec_stats s1, s2;
	struct spe_stream_in in[4];
	uint8_t *buf;
	size_t len;

	(void)state;
	tune_pieces(3);
	assert_int_equal(spegen_bytes(&go, 4u << 20, &buf, &len, NULL), 0);
	for (size_t first = 1; first < len; first += len / 5) {
		/* streams cut at arbitrary bytes: each truncates a record */
		in[0] = (struct spe_stream_in){ buf, first };
		in[1] = (struct spe_stream_in){ buf + first, 0 };
		in[2] = (struct spe_stream_in){ buf + first,
						(len - first) / 2 };
		in[3] = (struct spe_stream_in){ in[2].buf + in[2].len,
						len - first - in[2].len };
		assert_int_equal(spe_profile_init(&one, &po), 0);
		assert_int_equal(spe_profile_init(&two, &po), 0);
		assert_int_equal(
			spe_profile_decode_streams(&one, in, 4, 1, &s1), 0);
		assert_int_equal(
			spe_profile_decode_streams(&two, in, 4, 2, &s2), 0);
		stats_equal(&s1, &s2);
		profile_equal(&one, &two);
		spe_profile_free(&one);
		spe_profile_free(&two);
	}
	spe_par_set_tune(NULL);
	free(buf);
}

/*
 * The pipeline (lib/spe/pipe.c): the top-K adds on a helper thread, two
 * profiles fed in turns as the daemon feeds VMs: each exactly the
 * one-thread profile, its sketch too (purged: many more PCs than K).
 */
static void test_pipe_same_profile(void **state)
{
	struct spe_profile_opts po = { .midr = 0x410fd0c0, .top_pcs = K };
	struct spegen_opts go = { .seed = 21,
				  .layout = SPEGEN_MIXED,
				  .npcs = 20000 };
	struct spe_profile one[2], two[2];
	struct spe_record *recs = malloc(64 * sizeof(*recs));
	struct spe_dec d[2];
	struct spe_pipe *q;
	uint8_t *buf;
	size_t len, pos[2] = { 0, 0 };

	(void)state;
	assert_non_null(recs);
	assert_int_equal(spegen_bytes(&go, 4u << 20, &buf, &len, NULL), 0);
	assert_int_equal(spe_pipe_new(&q), 0);
	for (int v = 0; v < 2; v++) {
		assert_int_equal(spe_profile_init(&one[v], &po), 0);
		assert_int_equal(spe_profile_init(&two[v], &po), 0);
		/* one thread: the whole stream (v 1: from its middle) */
		spe_dec_init(&d[v], NULL);
		assert_int_equal(spe_profile_decode(&one[v], &d[v],
						    buf + v * len / 2,
						    len - v * len / 2, true),
				 0);
		spe_dec_init(&d[v], NULL);
		pos[v] = v * len / 2;
	}
	/* the pipeline: 64 records at a time, the two in turns */
	while (pos[0] < len || pos[1] < len) {
		for (int v = 0; v < 2; v++) {
			size_t used = 0;
			int n;

			if (pos[v] >= len)
				continue;
			n = spe_dec_feed(&d[v], buf + pos[v], len - pos[v],
					 &used, recs, 64);
			assert_true(n >= 0);
			spe_pipe_add(q, &two[v], recs, n);
			pos[v] += used;
		}
	}
	spe_pipe_flush(q);
	for (int v = 0; v < 2; v++) {
		spe_profile_sync(&two[v]);
		profile_equal(&one[v], &two[v]);
		assert_true(two[v].pcs.offset > 0); /* purged */
		topk_compare(&one[v].pcs, &two[v].pcs, true);
		topk_compare(&one[v].ctx, &two[v].ctx, true);
		spe_profile_free(&one[v]);
		spe_profile_free(&two[v]);
	}
	spe_pipe_free(q);
	free(recs);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parallel_layouts),
		cmocka_unit_test(test_parallel_damaged),
		cmocka_unit_test(test_parallel_damage_after_cut),
		cmocka_unit_test(test_parallel_cut_not_boundary),
		cmocka_unit_test(test_parallel_streams),
		cmocka_unit_test(test_pipe_same_profile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
