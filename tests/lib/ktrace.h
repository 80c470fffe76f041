/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kernel's own record of tracepoints, for expectations independent of
 * BPF and of kvmprofd: a tracefs instance of the test's own (not the
 * top-level buffer, which other tools may use) with some events enabled
 * and the task group id of each recorded (options/record-tgid).
 */
#ifndef KP_TEST_KTRACE_H
#define KP_TEST_KTRACE_H

#include <stdio.h>
#include <sys/types.h>

struct ktrace {
	char dir[128];
};

/* A new instance @name recording @events ("system/event", NULL-ended).
 * 0 or -errno (-ENOENT: no tracefs or no such event). */
int ktrace_start(struct ktrace *t, const char *name, const char *const *events);

/* How many @event ("event" alone) the tasks of process @tgid fired since
 * the start; -EOVERFLOW if the buffer lost any, -ESRCH if the task group
 * of any of them was not recorded, -errno. */
long ktrace_count(const struct ktrace *t, const char *event, pid_t tgid);

/* Writes the recorded lines of @event (all tasks) to @out, after the
 * buffer's entry counts: 0 or -errno. */
int ktrace_print(const struct ktrace *t, const char *event, FILE *out);

/* Disables and removes the instance. */
void ktrace_stop(struct ktrace *t);

#endif
