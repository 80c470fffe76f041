// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "wait.h"

#define WAIT_POLL_MS 20

unsigned int test_time_scale(void)
{
	static unsigned int scale;
	const char *e;

	if (!scale) {
		e = getenv("KP_TEST_TIME_SCALE");
		scale = e ? (unsigned int)strtoul(e, NULL, 10) : 1;
		if (scale < 1 || scale > 1000)
			scale = 1;
	}
	return scale;
}

bool wait_until(bool (*pred)(void *ctx), void *ctx, unsigned int timeout_ms)
{
	uint64_t deadline =
		kp_mono_ms() + (uint64_t)timeout_ms * test_time_scale();

	for (;;) {
		struct timespec ts = { 0, WAIT_POLL_MS * 1000000L };

		if (pred(ctx))
			return true;
		if (kp_mono_ms() >= deadline)
			return pred(ctx);
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
}
