/* SPDX-License-Identifier: GPL-2.0-only */
/* Stand-in for tools/include/linux/bitfield.h (bench only). */
#ifndef PERFSHIM_LINUX_BITFIELD_H
#define PERFSHIM_LINUX_BITFIELD_H
#include <linux/bitops.h>

#define FIELD_GET(mask, v) \
	(((v) & (mask)) >> __builtin_ctzll((unsigned long long)(mask)))
#define FIELD_PREP(mask, v)                                 \
	(((unsigned long long)(v)                           \
	  << __builtin_ctzll((unsigned long long)(mask))) & \
	 (mask))
#endif
