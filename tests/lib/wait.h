/* SPDX-License-Identifier: GPL-2.0-only */
/* Tests wait for conditions, never for fixed times. */
#ifndef KP_TEST_WAIT_H
#define KP_TEST_WAIT_H

#include <stdbool.h>

#include <kvmprof/util.h>	/* kp_mono_ms(): the clock */

/*
 * Call @pred(@ctx) until it returns true (true) or @timeout_ms (times
 * test_time_scale()) have passed (false; @pred is called once more at the
 * deadline).  Polls every 20 ms.
 */
/* KP_TEST_TIME_SCALE=N (1..1000, default 1): every wait may last N times
 * as long, on a slow machine (make test-nested: an emulated CPU).  A bound,
 * never a delay: waits still end as soon as their condition holds. */
unsigned int test_time_scale(void);

bool wait_until(bool (*pred)(void *ctx), void *ctx, unsigned int timeout_ms);

#endif
