/* SPDX-License-Identifier: GPL-2.0-only */
/* Small helpers shared by every part of kvmprof (user space). */
#ifndef KVMPROF_UTIL_H
#define KVMPROF_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* @s[0..n): decimal digits only (no sign, no space), at most 2^64 - 1. */
static inline bool kp_parse_u64(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned int d = (unsigned int)(s[i] - '0');

		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*v = x;
	return true;
}

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
