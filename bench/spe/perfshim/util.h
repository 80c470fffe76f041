/* SPDX-License-Identifier: GPL-2.0-only */
/* Stand-in for tools/perf/util/util.h (bench only). */
#ifndef PERFSHIM_UTIL_H
#define PERFSHIM_UTIL_H
#include <linux/types.h>
#endif
