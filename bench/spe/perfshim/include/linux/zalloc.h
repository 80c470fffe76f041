/* SPDX-License-Identifier: GPL-2.0-only */
/* Stand-in for tools/include/linux/zalloc.h (bench only). */
#ifndef PERFSHIM_LINUX_ZALLOC_H
#define PERFSHIM_LINUX_ZALLOC_H
#include <stdlib.h>
static inline void *zalloc(size_t size)
{
	return calloc(1, size);
}
#endif
