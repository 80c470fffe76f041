/* SPDX-License-Identifier: GPL-2.0-only */
/* Tests wait for conditions, never for fixed times. */
#ifndef KP_TEST_WAIT_H
#define KP_TEST_WAIT_H

#include <stdbool.h>

#include <kvmprof/util.h>	/* kp_mono_ms(): the clock */

/*
 * Call @pred(@ctx) until it returns true (true) or @timeout_ms have
 * passed (false; @pred is called once more at the deadline).  Polls
 * every 20 ms.
 */
bool wait_until(bool (*pred)(void *ctx), void *ctx, unsigned int timeout_ms);

#endif
