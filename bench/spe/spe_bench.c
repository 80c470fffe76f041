// SPDX-License-Identifier: GPL-2.0-only
/*
 * SPE record-layer decode throughput, single core, best of several runs:
 * a naive packet-at-a-time loop (the way perf's decoder works), the
 * general path and the fast path, on a >= 64 MiB generated stream.
 * Prints "BENCH {json}" lines (bench/run-bench.sh collects them).
 *
 *   spe_bench [-m MIB] [-r RUNS] [-l n1|mixed|var]
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

/* Returns the best throughput in GB/s. */
static double bench(const char *name, run_fn fn, uint32_t flags,
		    const uint8_t *buf, size_t len, unsigned int runs,
		    const char *layout, double ref_gbps, double naive_gbps)
{
	double best = 1e30, gbps;
	uint64_t recs = 0, sum = 0;

	last_fast = 0;
	for (unsigned int i = 0; i < runs; i++) {
		double t = now();

		sum += fn(buf, len, flags, &recs);
		t = now() - t;
		if (t < best)
			best = t;
	}
	gbps = len / best / 1e9;
	printf("BENCH {\"name\":\"%s\",\"layout\":\"%s\",\"gbps\":%.3f,"
	       "\"records_per_s\":%.0f,\"bytes\":%zu,\"records\":%llu,"
	       "\"runs\":%u,\"best_s\":%.4f",
	       name, layout, gbps, recs / best, len,
	       (unsigned long long)recs, runs, best);
	if (ref_gbps > 0)
		printf(",\"of_memread\":%.3f", gbps / ref_gbps);
	if (naive_gbps > 0)
		printf(",\"vs_naive\":%.2f", gbps / naive_gbps);
	printf("}\n");
	fprintf(stderr, "%-20s %-5s %6.2f GB/s %7.1f M records/s", name, layout,
		gbps, recs / best / 1e6);
	if (ref_gbps > 0)
		fprintf(stderr, "  (%.0f%% of memory read, %.1fx naive)",
			100 * gbps / ref_gbps, naive_gbps > 0 ?
			gbps / naive_gbps : 1.0);
	fprintf(stderr, " [%llx, %llu fast]\n", (unsigned long long)sum,
		(unsigned long long)last_fast);
	return gbps;
}

static int run_layout(enum spegen_layout l, const char *layout, size_t mib,
		      unsigned int runs)
{
	struct spegen_opts go = { .seed = 42, .layout = l };
	double mem, naive;
	uint8_t *buf;
	size_t len;

	if (spegen_bytes(&go, mib << 20, &buf, &len, NULL)) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	mem = bench("memread", run_memread, 0, buf, len, runs, layout, 0, 0);
	naive = bench("spe_decode_naive", run_naive, 0, buf, len, runs, layout,
		      mem, 0);
	bench("spe_decode_general", run_decoder, SPE_DEC_NO_FAST, buf, len,
	      runs, layout, mem, naive);
	bench("spe_decode", run_decoder, 0, buf, len, runs, layout, mem,
	      naive);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		enum spegen_layout l;
	} layouts[] = {
		{ "n1", SPEGEN_N1 }, { "mixed", SPEGEN_MIXED },
		{ "var", SPEGEN_VAR },
	};
	const char *only = NULL;
	size_t mib = 64;
	unsigned int runs = 5;
	int c, ret = 0;

	while ((c = getopt(argc, argv, "m:r:l:")) != -1) {
		switch (c) {
		case 'm':
			mib = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			runs = strtoul(optarg, NULL, 0);
			break;
		case 'l':
			only = optarg;
			break;
		default:
			fprintf(stderr, "usage: %s [-m MIB] [-r RUNS] "
				"[-l n1|mixed|var]\n", argv[0]);
			return 2;
		}
	}
	if (!mib || mib > 4096 || !runs || runs > 100)
		return fprintf(stderr, "bad -m or -r\n"), 2;
	fprintf(stderr, "SPE decode, %zu MiB streams, best of %u runs, thread "
		"CPU time; n1: Neoverse-N1-like 64-byte records; mixed: n1 "
		"with 1 in 8 variable records\n", mib, runs);
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		/* by default: n1 (the figure) and mixed */
		if (only ? strcmp(only, layouts[i].name) :
			   layouts[i].l == SPEGEN_VAR)
			continue;
		ret |= run_layout(layouts[i].l, layouts[i].name, mib, runs);
	}
	return ret;
}
