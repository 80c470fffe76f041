/* SPDX-License-Identifier: GPL-2.0-only */
/* The kernel's own view of a thread's scheduling, for expectations. */
#ifndef KP_TEST_SCHEDSTAT_H
#define KP_TEST_SCHEDSTAT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Fields 1 and 2 of /proc/PID/task/PID/schedstat: time on a CPU and time
 * runnable waiting for one, ns.  0 or -errno. */
int schedstat(pid_t pid, uint64_t *ret_run, uint64_t *ret_delay);

/*
 * @pid sleeps and is off its run queue: its kernel run time is final (it
 * is brought up to date when the task is dequeued, while /proc shows "S"
 * as soon as the task starts to block).
 */
bool task_blocked(pid_t pid);

#endif
