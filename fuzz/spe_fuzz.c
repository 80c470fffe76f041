// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the SPE packet and record layers (built with
 * ASan/UBSan, `make fuzz`).  Besides not crashing, it checks properties:
 *  - every packet the parser accepts has a length within 1..10 and a
 *    description; its prefixes are "need more", never "bad";
 *  - the record layer gives the same records and counters whole or fed in
 *    chunks (cut points taken from the input), and with or without the
 *    fast path;
 *  - every record fits in the input and the profile and text writers
 *    accept it;
 *  - a profile built in one pass (spe_profile_decode(): records that
 *    match templates counted from their bytes) is the one built a record
 *    at a time (the same JSON).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kvmprof/spe.h>
#include <kvmprof/spe_profile.h>

#define MAX_RECS	4096

struct run {
	struct spe_dec dec;
	struct spe_record recs[MAX_RECS];
	size_t n;
};

static struct run runs[3];
static FILE *devnull;
static struct spe_profile prof, fused;
static struct spe_dec fused_dec;

#define CHECK(c)	do { if (!(c)) __builtin_trap(); } while (0)

static void packets(const uint8_t *data, size_t size)
{
	size_t pos = 0;

	while (pos < size) {
		char desc[SPE_DESC_MAX], line[SPE_DUMP_LINE_MAX];
		struct spe_pkt pkt;
		int ret = spe_pkt_parse(data + pos, size - pos, &pkt);

		/* text is slow: the first positions only */
		if (pos < 256)
			CHECK(spe_dump_line(data + pos, size - pos, pos,
					    0x410fd0c0, line, sizeof(line)) >= 1);
		if (ret == -EBADMSG || ret == -EAGAIN) {
			pos++;
			continue;
		}
		CHECK(ret >= 1 && ret <= SPE_PKT_MAX_LEN);
		CHECK((size_t)ret <= size - pos);
		if (pos < 256)
			CHECK(spe_pkt_desc(&pkt, 0x410fd0c0, desc,
					   sizeof(desc)) >= 0);
		for (int k = 0; k < ret; k++) {
			struct spe_pkt p2;

			CHECK(spe_pkt_parse(data + pos, k, &p2) == -EAGAIN);
		}
		pos += ret;
	}
}

/* Decodes @data, in chunks whose sizes come from @cuts when given. */
static void decode(struct run *r, const uint8_t *data, size_t size,
		   uint32_t flags, const uint8_t *cuts, size_t ncuts)
{
	struct spe_dec_opts o = { .flags = flags };
	size_t pos = 0, ci = 0;

	spe_dec_init(&r->dec, &o);
	r->n = 0;
	while (pos < size && r->n < MAX_RECS) {
		size_t chunk = size - pos, off = 0;

		if (ncuts)
			chunk = 1 + cuts[ci++ % ncuts] % 64;
		if (chunk > size - pos)
			chunk = size - pos;
		while (off < chunk && r->n < MAX_RECS) {
			size_t used, max = MAX_RECS - r->n;
			int k;

			if (ncuts && max > 1 + cuts[ci % ncuts] % 8)
				max = 1 + cuts[ci % ncuts] % 8;
			k = spe_dec_feed(&r->dec, data + pos + off, chunk - off,
					 &used, r->recs + r->n, max);
			CHECK(k >= 0 && (size_t)k <= max);
			r->n += k;
			off += used;
		}
		pos += off;
	}
	spe_dec_finish(&r->dec);
}

/* The profile's JSON, in a string to free. */
static char *profile_text(const struct spe_profile *p)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		abort();
	spe_profile_json(f, p, NULL, &runs[0].dec.stats, 64);
	if (fclose(f))
		abort();
	return text;
}

/* spe_profile_decode() of the whole input gives the profile of runs[0]. */
static void fused_equal(const uint8_t *data, size_t size)
{
	char *a, *b;

	spe_profile_clear(&fused);
	spe_dec_init(&fused_dec, NULL);
	CHECK(!spe_profile_decode(&fused, &fused_dec, data, size, true));
	fused_dec.stats.fast = runs[0].dec.stats.fast;
	CHECK(!memcmp(&fused_dec.stats, &runs[0].dec.stats,
		      sizeof(fused_dec.stats)));
	a = profile_text(&prof);
	b = profile_text(&fused);
	CHECK(!strcmp(a, b));
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t ncuts = size < 16 ? size : 16;

	if (!devnull) {
		struct spe_profile_opts po = { .top_pcs = 64, .top_ctx = 16 };

		devnull = fopen("/dev/null", "w");
		if (!devnull || spe_profile_init(&prof, &po) ||
		    spe_profile_init(&fused, &po))
			abort();
	}
	packets(data, size);

	decode(&runs[0], data, size, 0, NULL, 0);
	decode(&runs[1], data, size, SPE_DEC_NO_FAST, NULL, 0);
	decode(&runs[2], data, size, 0, data, ncuts);
	if (runs[0].n == MAX_RECS)
		return 0;	/* capped: the runs stop at different places */
	for (int i = 1; i < 3; i++) {
		CHECK(runs[i].n == runs[0].n);
		for (size_t k = 0; k < runs[0].n; k++)
			CHECK(spe_record_equal(&runs[0].recs[k],
					       &runs[i].recs[k]));
		runs[i].dec.stats.fast = runs[0].dec.stats.fast;
		CHECK(!memcmp(&runs[i].dec.stats, &runs[0].dec.stats,
			      sizeof(runs[0].dec.stats)));
	}
	CHECK(runs[0].dec.stats.bytes == size);
	CHECK(runs[0].dec.stats.records == runs[0].n);

	spe_profile_clear(&prof);
	for (size_t k = 0; k < runs[0].n; k++) {
		const struct spe_record *r = &runs[0].recs[k];

		CHECK(r->offset + r->len <= size && r->len >= 1);
		spe_profile_add(&prof, r);
		if (k < 8) {
			spe_record_csv(devnull, r, 0x410fd0c0);
			spe_record_json(devnull, r, 0xc00fac40);
		}
	}
	CHECK(prof.samples == runs[0].n);
	spe_profile_json(devnull, &prof, NULL, &runs[0].dec.stats, 10);
	fused_equal(data, size);
	return 0;
}
