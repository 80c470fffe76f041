// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <time.h>

#include "wait.h"

#define WAIT_POLL_MS 20

bool wait_until(bool (*pred)(void *ctx), void *ctx, unsigned int timeout_ms)
{
	uint64_t deadline = kp_mono_ms() + timeout_ms;

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
