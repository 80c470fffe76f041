// SPDX-License-Identifier: GPL-2.0-only
/*
 * SPE record-layer decode throughput, single core, best of several runs:
 * a naive packet-at-a-time loop (the way perf's decoder works), the
 * general path and the fast path, on a >= 64 MiB generated stream.
 * Prints "BENCH {json}" lines (bench/run-bench.sh collects them).
 *
 *   spe_bench [-m MIB] [-r RUNS] [-l n1|var|mixed]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kvmprof/spe.h>

#include "../../tools/spegen/spegen.h"

#define BATCH	32	/* records per feed: 12.5 KiB, stays in L1 */

static uint64_t last_fast;

/*
 * CPU time of this thread: the machine is shared, and time spent waiting
 * for a core is not decode time.  Best of several runs on top.
 */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Consumes a record the way a profiler would, so nothing is optimised out. */
static inline uint64_t consume(const struct spe_record *r)
{
	return r->ts ^ r->addr[SPE_ADDR_PC] ^ r->addr_mask ^ r->cnt_mask;
}

/* Reference: reading the bytes, 8 at a time. */
static uint64_t run_memread(const uint8_t *buf, size_t len, uint32_t flags,
			    uint64_t *ret_recs)
{
	uint64_t sum = 0;

	(void)flags;
	for (size_t i = 0; i + 8 <= len; i += 8) {
		uint64_t v;

		memcpy(&v, buf + i, 8);
		sum += v;
	}
	*ret_recs = 0;
	return sum;
}

/* The general or fast path through the public streaming API. */
static uint64_t run_decoder(const uint8_t *buf, size_t len, uint32_t flags,
			    uint64_t *ret_recs)
{
	static struct spe_record recs[BATCH];
	struct spe_dec_opts o = { .flags = flags };
	static struct spe_dec d;
	uint64_t sum = 0, n = 0;

	spe_dec_init(&d, &o);
	while (len) {
		size_t used;
		int k = spe_dec_feed(&d, buf, len, &used, recs, BATCH);

		for (int i = 0; i < k; i++)
			sum += consume(&recs[i]);
		n += k;
		buf += used;
		len -= used;
	}
	spe_dec_finish(&d);
	*ret_recs = n;
	last_fast = d.stats.fast;
	return sum;
}

/*
 * Baseline: one spe_pkt_parse() per packet and a switch into the record,
 * skipping a byte on errors, as perf's arm_spe_get_packet() loop does.
 */
static uint64_t run_naive(const uint8_t *buf, size_t len, uint32_t flags,
			  uint64_t *ret_recs)
{
	struct spe_record r;
	uint64_t sum = 0, n = 0;
	size_t pos = 0;

	(void)flags;
	memset(&r, 0, sizeof(r));
	while (pos < len) {
		struct spe_pkt pkt;
		int ret = spe_pkt_parse(buf + pos, len - pos, &pkt);

		if (ret <= 0) {
			pos++;
			continue;
		}
		pos += ret;
		switch (pkt.type) {
		case SPE_PKT_ADDRESS:
			r.addr_mask |= 1u << pkt.index;
			r.addr[pkt.index] = pkt.payload;
			break;
		case SPE_PKT_COUNTER:
			r.cnt_mask |= 1u << pkt.index;
			r.cnt[pkt.index] = pkt.payload;
			break;
		case SPE_PKT_CONTEXT:
			r.ctx_mask |= 1u << pkt.index;
			r.ctx[pkt.index] = pkt.payload;
			break;
		case SPE_PKT_EVENTS:
			r.events = pkt.payload;
			break;
		case SPE_PKT_DATA_SOURCE:
			r.ds = pkt.payload;
			break;
		case SPE_PKT_OP_TYPE:
			r.op_class = pkt.index;
			r.op = pkt.payload;
			break;
		case SPE_PKT_TIMESTAMP:
		case SPE_PKT_END:
			r.ts = pkt.payload;
			sum += consume(&r);
			n++;
			memset(&r, 0, 16);
			break;
		default:
			break;
		}
	}
	*ret_recs = n;
	return sum;
}

typedef uint64_t (*run_fn)(const uint8_t *, size_t, uint32_t, uint64_t *);

static void bench(const char *name, run_fn fn, uint32_t flags,
		  const uint8_t *buf, size_t len, unsigned int runs,
		  const char *layout)
{
	double best = 1e30;
	uint64_t recs = 0, sum = 0;

	for (unsigned int i = 0; i < runs; i++) {
		double t = now();

		sum += fn(buf, len, flags, &recs);
		t = now() - t;
		if (t < best)
			best = t;
	}
	printf("BENCH {\"name\":\"%s\",\"layout\":\"%s\",\"gbps\":%.3f,"
	       "\"records_per_s\":%.0f,\"bytes\":%zu,\"records\":%llu,"
	       "\"runs\":%u,\"best_s\":%.4f}\n",
	       name, layout, len / best / 1e9, recs / best, len,
	       (unsigned long long)recs, runs, best);
	fprintf(stderr, "%-20s %-5s %6.2f GB/s %7.1f M records/s (check %llx, fast %llu)\n",
		name, layout, len / best / 1e9, recs / best / 1e6,
		(unsigned long long)sum, (unsigned long long)last_fast);
}

int main(int argc, char **argv)
{
	struct spegen_opts go = { .seed = 42, .layout = SPEGEN_N1 };
	const char *layout = "n1";
	size_t mib = 64, len = 0, cap;
	unsigned int runs = 5;
	struct spegen g;
	uint8_t *buf;
	int c;

	while ((c = getopt(argc, argv, "m:r:l:")) != -1) {
		switch (c) {
		case 'm':
			mib = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			runs = strtoul(optarg, NULL, 0);
			break;
		case 'l':
			layout = optarg;
			if (!strcmp(optarg, "var"))
				go.layout = SPEGEN_VAR;
			else if (!strcmp(optarg, "mixed"))
				go.layout = SPEGEN_MIXED;
			else if (strcmp(optarg, "n1"))
				return fprintf(stderr, "bad layout\n"), 2;
			break;
		default:
			fprintf(stderr, "usage: %s [-m MIB] [-r RUNS] "
				"[-l n1|var|mixed]\n", argv[0]);
			return 2;
		}
	}
	if (!mib || mib > 4096 || !runs || runs > 100)
		return fprintf(stderr, "bad -m or -r\n"), 2;
	cap = (mib << 20) + SPEGEN_REC_MAX;
	buf = malloc(cap);
	if (!buf || spegen_init(&g, &go))
		return fprintf(stderr, "out of memory\n"), 1;
	while (len < mib << 20) {
		struct spe_record t;

		len += spegen_record(&g, buf + len, cap - len, &t);
	}
	spegen_free(&g);

	bench("memread", run_memread, 0, buf, len, runs, layout);
	bench("spe_decode_naive", run_naive, 0, buf, len, runs, layout);
	bench("spe_decode_general", run_decoder, SPE_DEC_NO_FAST, buf, len,
	      runs, layout);
	bench("spe_decode", run_decoder, 0, buf, len, runs, layout);
	free(buf);
	return 0;
}
