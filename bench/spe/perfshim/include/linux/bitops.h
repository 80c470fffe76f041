/* SPDX-License-Identifier: GPL-2.0-only */
/* Stand-in for tools/include/linux/bitops.h (bench only). */
#ifndef PERFSHIM_LINUX_BITOPS_H
#define PERFSHIM_LINUX_BITOPS_H
#include <linux/types.h>

#define BIT(n) (1UL << (n))
#define BIT_ULL(n) (1ULL << (n))
#define GENMASK(h, l) ((~0UL << (l)) & (~0UL >> (63 - (h))))
#define GENMASK_ULL(h, l) ((~0ULL << (l)) & (~0ULL >> (63 - (h))))
#endif
