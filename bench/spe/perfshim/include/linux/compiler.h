/* SPDX-License-Identifier: GPL-2.0-only */
/* Stand-in for tools/include/linux/compiler.h (bench only). */
#ifndef PERFSHIM_LINUX_COMPILER_H
#define PERFSHIM_LINUX_COMPILER_H
#define __maybe_unused __attribute__((unused))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif
