/* SPDX-License-Identifier: GPL-2.0-only */
/* The test guest (tools/kvmguest, docs/kvmguest.md) in the background. */
#ifndef KP_TEST_GUEST_H
#define KP_TEST_GUEST_H

#include <sys/types.h>

/* Start kvmguest with @args (NULL-ended): its pid, or -1. */
pid_t guest_spawn(const char *const *args);

#endif
