/* SPDX-License-Identifier: GPL-2.0-only */
/* Small helpers shared by every part of kvmprof (user space). */
#ifndef KVMPROF_UTIL_H
#define KVMPROF_UTIL_H

#include <stdint.h>
#include <time.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Clock @id in nanoseconds (CLOCK_REALTIME: since the Unix epoch). */
static inline uint64_t kp_clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CLOCK_MONOTONIC in nanoseconds, milliseconds and seconds. */
static inline uint64_t kp_mono_ns(void)
{
	return kp_clock_ns(CLOCK_MONOTONIC);
}

static inline uint64_t kp_mono_ms(void)
{
	return kp_mono_ns() / 1000000;
}

static inline double kp_mono_s(void)
{
	return (double)kp_mono_ns() / 1e9;
}

/* Wall clock, Unix seconds. */
static inline double kp_unix_s(void)
{
	return (double)kp_clock_ns(CLOCK_REALTIME) / 1e9;
}

#endif
