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
 * @pid sleeps, off its run queue and off its CPU: its kernel run time is
 * final (it is brought up to date when the task is dequeued, while /proc
 * shows "S" as soon as the task starts to block), and so is what the
 * sched_switch tracepoint saw of it (it fires after the dequeue).
 */
bool task_blocked(pid_t pid);

/*
 * Time tasks other than the idle task ran on @cpu since boot, ns:
 * rq_cpu_time in /proc/schedstat (exact, *@ret_exact true) or, on kernels
 * without it (CONFIG_SCHEDSTATS off), the busy ticks of /proc/stat
 * (sampled at each tick: *@ret_exact false).  0 or -errno.
 */
int cpu_busy_ns(int cpu, uint64_t *ret, bool *ret_exact);

struct tid_run {
	pid_t tid;
	uint64_t run; /* ns */
};

/* Run time of every thread on the machine, at most @max: how many. */
size_t all_threads_run(struct tid_run *s, size_t max);

#endif
