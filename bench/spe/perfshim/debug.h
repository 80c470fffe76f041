/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stand-in for tools/perf/util/debug.h (bench only): messages are counted,
 * not printed (as `perf -q` would), so the decoder's time is decoding.
 */
#ifndef PERFSHIM_DEBUG_H
#define PERFSHIM_DEBUG_H
extern unsigned long perfshim_msgs;
#define perfshim_msg(...) ((void)perfshim_msgs++)
#define pr_err(...) perfshim_msg(__VA_ARGS__)
#define pr_warning(...) perfshim_msg(__VA_ARGS__)
#define pr_debug(...) ((void)0)
#endif
