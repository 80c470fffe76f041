/* SPDX-License-Identifier: GPL-2.0-only */
/* Stand-in for tools/include/linux/unaligned.h (bench only): little-endian
 * loads from any address, as on the arm64 and x86 hosts perf runs on. */
#ifndef PERFSHIM_LINUX_UNALIGNED_H
#define PERFSHIM_LINUX_UNALIGNED_H
#include <string.h>
#include <linux/types.h>

static inline u16 get_unaligned_le16(const void *p)
{
	u16 v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static inline u32 get_unaligned_le32(const void *p)
{
	u32 v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static inline u64 get_unaligned_le64(const void *p)
{
	u64 v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}
#endif
