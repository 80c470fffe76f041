// SPDX-License-Identifier: GPL-2.0-only
/*
 * Profile aggregation: histogram buckets, the space-saving sketch against
 * exact counts (its documented error bound), profile counters against
 * counts made straight from the generator's truth.  Symbols and input
 * formats: test_symbols.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <kvmprof/spe_profile.h>

#include "util.h"

static void test_hist_buckets(void **state)
{
	struct spe_hist h = { 0 };

	(void)state;
	/* 0..3 exact, then 4 buckets per power of two */
	assert_int_equal(spe_hist_bucket(0), 0);
	assert_int_equal(spe_hist_bucket(3), 3);
	assert_int_equal(spe_hist_bucket(4), 4);	/* [4,4] */
	assert_int_equal(spe_hist_bucket(5), 5);
	assert_int_equal(spe_hist_bucket(7), 7);
	assert_int_equal(spe_hist_bucket(8), 8);	/* [8,9] */
	assert_int_equal(spe_hist_bucket(9), 8);
	assert_int_equal(spe_hist_bucket(10), 9);	/* [10,11] */
	assert_int_equal(spe_hist_bucket(0xffff), SPE_HIST_BUCKETS - 1);
	assert_int_equal(spe_hist_bucket(1 << 20), SPE_HIST_BUCKETS - 1);
	/* every value lies in its bucket's range */
	for (uint64_t v = 0; v <= 0xffff; v++) {
		unsigned int b = spe_hist_bucket(v);

		if (v < spe_hist_lo(b) || v > spe_hist_hi(b))
			fail_msg("value %llu in bucket %u [%llu, %llu]",
				 (unsigned long long)v, b,
				 (unsigned long long)spe_hist_lo(b),
				 (unsigned long long)spe_hist_hi(b));
	}
	for (unsigned int v = 1; v <= 100; v++)
		spe_hist_add(&h, v);
	assert_int_equal(h.count, 100);
	assert_int_equal(h.sum, 5050);
	assert_int_equal(h.max, 100);
	/* quantiles are bucket upper bounds: within 25% above the truth */
	assert_true(spe_hist_quantile(&h, 0.5) >= 50);
	assert_true(spe_hist_quantile(&h, 0.5) <= 63);
	assert_true(spe_hist_quantile(&h, 0.99) >= 99);
	assert_int_equal(spe_hist_quantile(&h, 1.0), 100);
}

static void test_topk_exact_when_small(void **state)
{
	struct spe_topk t;
	struct spe_topk_entry e[8];

	(void)state;
	assert_int_equal(spe_topk_init(&t, 8), 0);
	for (uint64_t k = 1; k <= 5; k++)
		for (uint64_t i = 0; i < k * 10; i++)
			spe_topk_add(&t, k * 1000);
	assert_int_equal(spe_topk_sorted(&t, e, 8), 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(e[i].key, (5 - i) * 1000);
		assert_int_equal(e[i].count, (5 - i) * 10);
		assert_int_equal(e[i].err, 0);
	}
	spe_topk_clear(&t);
	assert_int_equal(spe_topk_sorted(&t, e, 8), 0);
	spe_topk_free(&t);
	assert_int_equal(spe_topk_init(&t, 0), -EINVAL);
}

/*
 * K = 2 (2K = 4 counters): A x5, B x4, C x3, D x2 fill it exactly; E
 * purges: the median is 4 (the 2nd smallest counter with 4 held, "more
 * than half below or at": 2, 3, 4), A keeps 1, the rest go, and the
 * error is 4 + 1 (the doorkeeper's item per key until the next purge).
 * E, the item that purged, is held.  F's first item is only noted (held
 * keys stay 2), its second enters.
 */
static void test_topk_doorkeeper(void **state)
{
	static const uint64_t want[][2] = { { 0xa, 6 },
					    { 0xe, 6 },
					    { 0xf, 6 } };
	struct spe_topk_entry e[4];
	struct spe_topk t;

	(void)state;
	assert_int_equal(spe_topk_init(&t, 2), 0);
	for (uint64_t k = 0xa; k <= 0xd; k++)
		for (uint64_t i = 0; i < 5 - (k - 0xa); i++)
			spe_topk_add(&t, k);
	assert_int_equal(t.n, 4);
	assert_int_equal(t.offset, 0);
	assert_false(t.door_on);
	spe_topk_add(&t, 0xe);
	assert_true(t.door_on);
	assert_int_equal(t.offset, 5);
	assert_int_equal(t.n, 2);
	spe_topk_add(&t, 0xf);
	assert_int_equal(t.n, 2);
	spe_topk_add(&t, 0xf);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.total, 5 + 4 + 3 + 2 + 1 + 2);
	/* every estimate 1 + 5, within 5 of A's 5, E's 1 and F's 2 */
	assert_int_equal(spe_topk_sorted(&t, e, 4), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(e[i].key, want[i][0]);
		assert_int_equal(e[i].count, want[i][1]);
		assert_int_equal(e[i].err, 5);
	}
	/* a clear starts exact again */
	spe_topk_clear(&t);
	assert_false(t.door_on);
	spe_topk_add(&t, 0xf);
	assert_int_equal(spe_topk_sorted(&t, e, 4), 1);
	assert_int_equal(e[0].count, 1);
	assert_int_equal(e[0].err, 0);
	spe_topk_free(&t);
}

/*
 * The first k entries (a heap of k while the table is scanned) are the
 * first k of all entries (the heap holds them all, then one sort), for k
 * from 1 to all of them but one; ties in count ordered by key.
 */
static void test_topk_sorted_prefix(void **state)
{
	enum { K = 64, N = 20000 };
	struct spe_topk_entry *all = malloc(2 * K * sizeof(*all));
	struct spe_topk_entry *e = malloc(2 * K * sizeof(*e));
	uint64_t rng = 11;
	struct spe_topk t;
	size_t n;

	(void)state;
	assert_true(all && e);
	assert_int_equal(spe_topk_init(&t, K), 0);
	for (int i = 0; i < N; i++)
		spe_topk_add(&t, spegen_below(&rng, 4 * K));
	n = spe_topk_sorted(&t, all, 2 * K);
	assert_int_equal(n, t.n);
	assert_true(n > 8);
	for (size_t i = 1; i < n; i++)
		assert_true(all[i - 1].count > all[i].count ||
			    (all[i - 1].count == all[i].count &&
			     all[i - 1].key < all[i].key));
	for (size_t k = 1; k < n; k += k < 8 ? 1 : 7) {
		assert_int_equal(spe_topk_sorted(&t, e, k), k);
		assert_memory_equal(e, all, k * sizeof(*e));
	}
	spe_topk_free(&t);
	free(all);
	free(e);
}

/* Zipf-ish keys, many more than K: the guarantees hold for every key. */
static void test_topk_bound(void **state)
{
	enum { NKEYS = 20000, N = 400000, K = 256 };
	uint64_t *exact = calloc(NKEYS, sizeof(*exact)), rng = 3;
	struct spe_topk_entry *e = malloc(K * sizeof(*e));
	struct spe_topk t;
	size_t n;

	(void)state;
	assert_true(exact && e);
	assert_int_equal(spe_topk_init(&t, K), 0);
	for (int i = 0; i < N; i++) {
		double u = (double)(spegen_rand(&rng) >> 11) / (1ull << 53);
		uint64_t k = (uint64_t)(u * u * u * u * NKEYS);

		exact[k]++;
		/* keys spread over the 64-bit space */
		spe_topk_add(&t, k * 0x9e3779b97f4a7c15ULL);
	}
	assert_int_equal(t.total, N);
	n = spe_topk_sorted(&t, e, K);
	assert_true(n > 0 && n <= K);
	assert_true(t.offset > 0); /* purged: estimates, not counts */
	{
		/* the lower bounds (what the counters hold) sum to at most N */
		uint64_t sum = 0;

		for (size_t i = 0; i < n; i++)
			sum += e[i].count - e[i].err;
		assert_true(sum <= N);
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t k = e[i].key * 0xf1de83e19937733dULL;	/* inverse */
		uint64_t truth;

		assert_true(k < NKEYS);
		truth = exact[k];
		assert_true(e[i].count - e[i].err <= truth);
		assert_true(truth <= e[i].count);
		assert_true(e[i].err <= 2 * N / K);
		if (i)
			assert_true(e[i - 1].count >= e[i].count);
	}
	/* every key above 2N/K is there */
	for (uint64_t k = 0; k < NKEYS; k++) {
		bool found = false;

		if (exact[k] <= 2 * N / K)
			continue;
		for (size_t i = 0; i < n && !found; i++)
			found = e[i].key == k * 0x9e3779b97f4a7c15ULL;
		assert_true(found);
	}
	spe_topk_free(&t);
	free(exact);
	free(e);
}

/*
 * One record at a time, batches (spe_profile_decode) and two threads over
 * several streams give the same profile; the top-K the same entries while
 * exact, and within its bound once purged (checked against exact counts).
 */
static void profile_equal(const struct spe_profile *a,
			  const struct spe_profile *b)
{
	assert_int_equal(a->samples, b->samples);
	assert_memory_equal(a->el_ns, b->el_ns, sizeof(a->el_ns));
	assert_memory_equal(a->op_sub, b->op_sub, sizeof(a->op_sub));
	assert_memory_equal(a->op_class, b->op_class, sizeof(a->op_class));
	assert_int_equal(a->loads, b->loads);
	assert_int_equal(a->stores, b->stores);
	assert_int_equal(a->br_cond, b->br_cond);
	assert_int_equal(a->br_ind, b->br_ind);
	assert_int_equal(a->br_call, b->br_call);
	assert_int_equal(a->br_ret, b->br_ret);
	assert_memory_equal(a->ev, b->ev, sizeof(a->ev));
	assert_memory_equal(a->lat, b->lat, sizeof(a->lat));
	assert_memory_equal(a->ds, b->ds, sizeof(a->ds));
	assert_memory_equal(a->ds_raw, b->ds_raw, sizeof(a->ds_raw));
	assert_int_equal(a->ts_first, b->ts_first);
	assert_int_equal(a->ts_last, b->ts_last);
	assert_int_equal(a->pcs.total, b->pcs.total);
	assert_int_equal(a->ctx.total, b->ctx.total);
	/* what fused records (lib/spe/fused.c) count by template */
	assert_int_equal(a->no_pc, b->no_pc);
	assert_int_equal(a->no_op, b->no_op);
	assert_int_equal(a->ev_records, b->ev_records);
	assert_int_equal(a->ds_records, b->ds_records);
	assert_int_equal(a->ds_raw_other, b->ds_raw_other);
	assert_int_equal(a->no_ctx, b->no_ctx);
	assert_int_equal(a->ts_records, b->ts_records);
}

/* The same top-K entries (sketches fed the same keys in the same order). */
static void topk_equal(const struct spe_topk *a, const struct spe_topk *b)
{
	struct spe_topk_entry *ea = calloc(a->max_n + 1, sizeof(*ea));
	struct spe_topk_entry *eb = calloc(b->max_n + 1, sizeof(*eb));
	size_t na, nb;

	assert_true(ea && eb);
	na = spe_topk_sorted(a, ea, a->max_n + 1);
	nb = spe_topk_sorted(b, eb, b->max_n + 1);
	assert_int_equal(na, nb);
	assert_memory_equal(ea, eb, na * sizeof(*ea));
	assert_int_equal(a->offset, b->offset);
	free(ea);
	free(eb);
}

static int add_cb(void *arg, const struct spe_record *r)
{
	spe_profile_add(arg, r);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* How often @key occurs in sorted @v[0..n). */
static uint64_t count_of(const uint64_t *v, size_t n, uint64_t key)
{
	size_t lo = 0, hi = n, i;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < n && v[i] == key; i++)
		;
	return i - lo;
}

/* Top PCs @e[0..n) against exact counts from the truth records (K 512). */
static void check_topk_truth(const struct spe_topk_entry *e, size_t n,
			     const struct spe_record *truth, size_t nrec)
{
	uint64_t *pcs = malloc(nrec * sizeof(*pcs)), total = 0;
	size_t npc = 0;

	assert_non_null(pcs);
	for (size_t i = 0; i < nrec; i++)
		if (truth[i].addr_mask & 1)
			pcs[npc++] = spe_addr_canon(truth[i].addr[0]);
	qsort(pcs, npc, sizeof(*pcs), cmp_u64);
	total = npc;
	assert_true(e[0].err > 0); /* purged */
	for (size_t i = 0; i < n; i++) {
		uint64_t c = count_of(pcs, npc, e[i].key);

		assert_true(e[i].count - e[i].err <= c);
		assert_true(c <= e[i].count);
		assert_true(e[i].err <= 2 * total / 512);
	}
	/* every PC above 2N/K is there */
	for (size_t i = 0; i < npc;) {
		uint64_t c = count_of(pcs, npc, pcs[i]);
		bool found = false;

		for (size_t k = 0; k < n && !found && c > 2 * total / 512; k++)
			found = e[k].key == pcs[i];
		assert_true(found || c <= 2 * total / 512);
		i += c;
	}
	free(pcs);
}

static void test_profile_threads(void **state)
{
	for (unsigned int npcs = 1000; npcs <= 100000; npcs *= 100) {
		/* N1 records only: at most npcs PCs, exact with 1000 */
		struct spegen_opts go = { .seed = 5,
					  .npcs = npcs,
					  .layout = npcs <= 1000 ?
							    SPEGEN_N1 :
							    SPEGEN_MIXED };
		struct spe_profile_opts po = { .midr = 0x410fd0c0,
					       .top_pcs = 512 };
		struct spe_profile one, two, batch;
		struct spe_stream_in in[3];
		struct spe_dec_stats st;
		struct spe_record *truth;
		struct spe_topk_entry *e1, *e2;
		struct spe_dec d;
		size_t len, n1, n2, nrec = 60000;
		uint8_t *buf;

		(void)state;
		assert_int_equal(spegen_stream(&go, nrec, &buf, &len, &truth),
				 0);
		/* three streams: cut at record starts */
		in[0] = (struct spe_stream_in){ buf, truth[20000].offset };
		in[1] = (struct spe_stream_in){
			buf + in[0].len, truth[20001].offset - in[0].len
		};
		in[2] = (struct spe_stream_in){ buf + truth[20001].offset,
						len - truth[20001].offset };
		assert_int_equal(spe_profile_init(&one, &po), 0);
		assert_int_equal(spe_profile_init(&two, &po), 0);
		assert_int_equal(spe_profile_init(&batch, &po), 0);
		for (int i = 0; i < 3; i++) {
			spe_dec_init(&d, NULL);
			assert_int_equal(feed_whole(&d, in[i].buf, in[i].len,
						    add_cb, &one),
					 0);
			spe_dec_init(&d, NULL);
			assert_int_equal(spe_profile_decode(&batch, &d,
							    in[i].buf,
							    in[i].len, true),
					 0);
		}
		assert_int_equal(
			spe_profile_decode_streams(&two, in, 3, 2, &st), 0);
		assert_int_equal(st.records, nrec);
		assert_int_equal(one.samples, nrec);
		profile_equal(&one, &batch);
		/* one thread, records in order: the very same sketches */
		topk_equal(&one.pcs, &batch.pcs);
		topk_equal(&one.ctx, &batch.ctx);
		profile_equal(&one, &two);
		e1 = calloc(2 * 512, sizeof(*e1));
		e2 = calloc(2 * 512, sizeof(*e2));
		assert_true(e1 && e2);
		n1 = spe_topk_sorted(&one.pcs, e1, 2 * 512);
		n2 = spe_topk_sorted(&two.pcs, e2, 2 * 512);
		if (npcs <= 1000) {
			/* exact: the same entries */
			assert_int_equal(n1, n2);
			assert_memory_equal(e1, e2, n1 * sizeof(*e1));
		} else {
			check_topk_truth(e2, n2, truth, nrec);
		}
		free(e1);
		free(e2);
		spe_profile_free(&one);
		spe_profile_free(&two);
		spe_profile_free(&batch);
		free(truth);
		free(buf);
	}
}

/* The profile's counters, against counts made from the truth records. */
static void test_profile_counts(void **state)
{
	struct spegen_opts go = { .seed = 9, .layout = SPEGEN_MIXED };
	struct spe_profile_opts po = { .midr = 0x410fd0c0 };	/* N1 */
	uint64_t el[4] = { 0 }, ld = 0, st = 0, br = 0, ev3 = 0, ev7 = 0;
	uint64_t tot_n = 0, tot_sum = 0, ds_l1 = 0, ctx100 = 0, nopc = 0;
	struct spe_record *truth;
	struct spe_profile p;
	struct spe_dec d;
	struct collect c = { 0 };
	uint8_t *buf;
	size_t len, nrec = 50000;

	(void)state;
	assert_int_equal(spegen_stream(&go, nrec, &buf, &len, &truth), 0);
	for (size_t i = 0; i < nrec; i++) {
		const struct spe_record *r = &truth[i];

		if (r->addr_mask & 1)
			el[(r->addr[0] >> 61) & 3]++;	/* EL: bits 62:61 */
		else
			nopc++;
		if ((r->flags & SPE_REC_OP) && r->op_class == 1) {
			/* load/store class: bit 0 is ST */
			if (r->op & 1)
				st++;
			else
				ld++;
		}
		br += (r->flags & SPE_REC_OP) && r->op_class == 2;
		ev3 += (r->flags & SPE_REC_EV) && (r->events & 8);
		ev7 += (r->flags & SPE_REC_EV) && (r->events & 0x80);
		if (r->cnt_mask & 1) {
			tot_n++;
			tot_sum += r->cnt[0];
		}
		ds_l1 += (r->flags & SPE_REC_DS) && r->ds == 0;
		ctx100 += (r->ctx_mask & 1) && r->ctx[0] == 100;
	}
	c.cap = nrec;
	c.recs = malloc(nrec * sizeof(*c.recs));
	assert_non_null(c.recs);
	spe_dec_init(&d, NULL);
	assert_int_equal(feed_whole(&d, buf, len, collect_cb, &c), 0);
	assert_int_equal(c.n, nrec);
	assert_int_equal(spe_profile_init(&p, &po), 0);
	for (size_t i = 0; i < c.n; i++)
		spe_profile_add(&p, &c.recs[i]);

	assert_int_equal(p.samples, nrec);
	assert_int_equal(p.no_pc, nopc);
	for (int i = 0; i < 4; i++)
		assert_int_equal(p.el[i], el[i]);
	assert_int_equal(p.op_class[2], br);
	assert_int_equal(p.loads, ld);
	assert_int_equal(p.stores, st);
	assert_int_equal(p.ev[3], ev3);
	assert_int_equal(p.ev[7], ev7);
	assert_int_equal(p.lat[0].count, tot_n);
	assert_int_equal(p.lat[0].sum, tot_sum);
	assert_int_equal(p.ds[SPE_DS_L1D], ds_l1);
	{
		struct spe_topk_entry e[1];

		assert_int_equal(spe_topk_sorted(&p.ctx, e, 1), 1);
		assert_int_equal(e[0].key, 100);	/* the hottest PID */
		assert_true(e[0].count >= ctx100);
		assert_true(e[0].count - e[0].err <= ctx100);
	}
	spe_profile_clear(&p);
	assert_int_equal(p.samples, 0);
	assert_int_equal(p.pcs.total, 0);
	spe_profile_free(&p);
	free(c.recs);
	free(buf);
	free(truth);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist_buckets),
		cmocka_unit_test(test_topk_exact_when_small),
		cmocka_unit_test(test_topk_doorkeeper),
		cmocka_unit_test(test_topk_sorted_prefix),
		cmocka_unit_test(test_topk_bound),
		cmocka_unit_test(test_profile_threads),
		cmocka_unit_test(test_profile_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
