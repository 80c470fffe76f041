/* SPDX-License-Identifier: GPL-2.0-only */
/* Stand-in for tools/include/linux/kernel.h (bench only). */
#ifndef PERFSHIM_LINUX_KERNEL_H
#define PERFSHIM_LINUX_KERNEL_H
#include <linux/compiler.h>
#include <linux/types.h>
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif
