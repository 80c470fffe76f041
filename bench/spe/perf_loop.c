// SPDX-License-Identifier: GPL-2.0-only
/*
 * The baseline of spe_e2e_bench: perf 6.12's own SPE record decoder
 * (tools/perf/util/arm-spe-decoder/, extracted at bench time by
 * bench/spe/perf-src.sh, built with the stand-ins of bench/spe/perfshim)
 * driven as perf's arm-spe.c drives it.  Its own translation unit: perf's
 * headers and ours define different SPE_* macros.
 */
#include <stdbool.h>

#include "arm-spe-decoder/arm-spe-decoder.h"
#include "perf_loop.h"

unsigned long perfshim_msgs;

struct perf_src {
	const uint8_t *buf;
	size_t len;
	bool given;
};

/* perf's get_trace: the whole buffer once, then "no more data". */
static int perf_get_trace(struct arm_spe_buffer *b, void *data)
{
	struct perf_src *s = data;

	b->buf = s->given ? NULL : s->buf;
	b->len = s->given ? 0 : s->len;
	s->given = true;
	return 0;
}

double run_perf(const uint8_t *buf, size_t len, uint64_t *ret_recs,
		double *ret_cpu)
{
	struct perf_src src = { .buf = buf, .len = len };
	struct arm_spe_params params = { .get_trace = perf_get_trace,
					 .data = &src };
	struct arm_spe_decoder *d = arm_spe_decoder_new(&params);
	volatile uint64_t sink;
	uint64_t n = 0, sum = 0;
	double t, c;
	int ret;

	if (!d)
		return -1;
	t = mono();
	c = cpu_self();
	/* arm-spe.c: errors go on to the next record, 0 is the end */
	while ((ret = arm_spe_decode(d)) != 0) {
		if (ret < 0)
			continue;
		n++;
		sum += d->record.from_ip ^ d->record.timestamp ^
		       d->record.latency;
	}
	t = mono() - t;
	*ret_cpu = cpu_self() - c;
	sink = sum;
	(void)sink;
	arm_spe_decoder_free(d);
	*ret_recs = n;
	return t;
}
