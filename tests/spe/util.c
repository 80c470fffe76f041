// SPDX-License-Identifier: GPL-2.0-only
/* Helpers shared by the SPE tests. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int truth_iter_init(struct truth_iter *it, const struct spegen_opts *opts)
{
	return spegen_init(&it->g, opts);
}

const struct spe_record *truth_iter_next(struct truth_iter *it)
{
	if (spegen_record(&it->g, it->scratch, sizeof(it->scratch),
			  &it->rec) < 0)
		return NULL;
	return &it->rec;
}

void truth_iter_free(struct truth_iter *it)
{
	spegen_free(&it->g);
}

int checker_cb(void *arg, const struct spe_record *r)
{
	struct checker *c = arg;
	const struct spe_record *want = truth_iter_next(&c->it);

	c->n++;
	if (!want || !spe_record_equal(r, want)) {
		if (c->mismatches++ < 3) {
			fprintf(stderr, "record %zu differs:\n", c->n - 1);
			rec_print(stderr, "got ", r);
			if (want)
				rec_print(stderr, "want", want);
		}
	}
	return 0;
}

int collect_cb(void *arg, const struct spe_record *r)
{
	struct collect *c = arg;

	if (c->n == c->cap)
		return -ENOSPC;
	c->recs[c->n++] = *r;
	return 0;
}

void rec_print(FILE *f, const char *tag, const struct spe_record *r)
{
	fprintf(f, "%s off=%" PRIu64 " len=%u flags=%#x addr=%#x cnt=%#x ctx=%#x",
		tag, r->offset, r->len, r->flags, r->addr_mask, r->cnt_mask,
		r->ctx_mask);
	if (r->flags & SPE_REC_TS)
		fprintf(f, " ts=%#" PRIx64, r->ts);
	if (r->flags & SPE_REC_EV)
		fprintf(f, " ev=%#" PRIx64 "/%u", r->events, r->ev_len);
	if (r->flags & SPE_REC_DS)
		fprintf(f, " ds=%#" PRIx64 "/%u", r->ds, r->ds_len);
	if (r->flags & SPE_REC_OP)
		fprintf(f, " op=%u:%#x", r->op_class, r->op);
	for (unsigned int i = 0; i < SPE_ADDR_IDX_NR; i++)
		if (r->addr_mask & (1u << i))
			fprintf(f, " a%u=%#" PRIx64, i, r->addr[i]);
	for (unsigned int i = 0; i < SPE_CNT_IDX_NR; i++)
		if (r->cnt_mask & (1u << i))
			fprintf(f, " c%u=%u", i, r->cnt[i]);
	for (unsigned int i = 0; i < SPE_CTX_IDX_NR; i++)
		if (r->ctx_mask & (1u << i))
			fprintf(f, " x%u=%#x", i, r->ctx[i]);
	fputc('\n', f);
}

int feed_chunked(struct spe_dec *d, const uint8_t *buf, size_t len,
		 uint64_t seed, size_t max_chunk, spe_rec_fn fn, void *arg)
{
	uint64_t rng = seed;
	uint8_t *scratch = malloc(max_chunk + 64);
	struct spe_record recs[64];
	size_t pos = 0;
	int ret = 0;

	if (!scratch)
		return -ENOMEM;
	while (pos < len && !ret) {
		size_t n = 1 + spegen_below(&rng, max_chunk);
		size_t align = spegen_below(&rng, 64);
		uint8_t *p = scratch + align;

		if (n > len - pos)
			n = len - pos;
		memcpy(p, buf + pos, n);
		pos += n;
		while (n && !ret) {
			size_t used, max = 1 + spegen_below(&rng, 64);
			int k = spe_dec_feed(d, p, n, &used, recs, max);

			if (k < 0) {
				ret = k;
				break;
			}
			for (int i = 0; i < k && !ret; i++)
				ret = fn(arg, &recs[i]);
			p += used;
			n -= used;
		}
	}
	free(scratch);
	if (!ret)
		spe_dec_finish(d);
	return ret;
}

int feed_whole(struct spe_dec *d, const uint8_t *buf, size_t len,
	       spe_rec_fn fn, void *arg)
{
	return spe_dec_run(d, buf, len, true, fn, arg);
}
