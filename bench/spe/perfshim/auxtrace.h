/* SPDX-License-Identifier: GPL-2.0-only */
/* Stand-in for tools/perf/util/auxtrace.h (bench only): nothing of it is
 * used by the SPE record decoder itself. */
#ifndef PERFSHIM_AUXTRACE_H
#define PERFSHIM_AUXTRACE_H
#include <linux/types.h>
#endif
