// SPDX-License-Identifier: GPL-2.0-only
/*
 * What kvmprofd's scheduler programs cost per host context switch: a pipe
 * ping-pong between two processes (as `perf bench sched pipe`) with
 * kvmprofd attached and kernel BPF stats on, first before any vCPU thread
 * was seen (kp_sched_switch only flushes the count cache), then with both
 * processes followed as vCPUs (made so through BPF_PROG_TEST_RUN of
 * kp_halt_poll_ns in their own context): every switch then accounts run
 * time, run delay and who ran instead.  The figures are the kernel's run
 * count and time of kp_sched_switch and kp_sched_wakeup over each phase,
 * and the ping-pong's own time per round trip.  Prints `BENCH {json}`.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "harness.h"
#include "inject.h"

#define ROUND_TRIPS 100000

struct stats {
	uint64_t cnt, ns;
};

static struct stats prog_stats(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct stats s = { 0, 0 };

	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		s.cnt = info.run_cnt;
		s.ns = info.run_time_ns;
	}
	return s;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* One side: registered as vCPU 0 of its process if @prog >= 0, then
 * @n round trips (read @in, write @out; the first side starts). */
static void side(int prog, int in, int out, bool first, int n)
{
	uint64_t args[2] = { 1, 0 };	/* kvm_halt_poll_ns(grow, vcpu 0) */
	char c = 'x';

	if (prog >= 0 && run_raw_tp(prog, args, 2))
		_exit(2);
	for (int i = 0; i < n; i++) {
		if (first && write(out, &c, 1) != 1)
			_exit(3);
		if (read(in, &c, 1) != 1)
			_exit(4);
		if (!first && write(out, &c, 1) != 1)
			_exit(3);
	}
	_exit(0);
}

/* µs per round trip of a ping-pong between two processes */
static double ping_pong(int prog)
{
	int ab[2], ba[2];
	pid_t a, b;
	double t0;
	int ra, rb;

	if (pipe(ab) || pipe(ba))
		return -1;
	t0 = now_us();
	a = fork();
	if (!a)
		side(prog, ba[0], ab[1], true, ROUND_TRIPS);
	b = fork();
	if (!b)
		side(prog, ab[0], ba[1], false, ROUND_TRIPS);
	close(ab[0]);
	close(ab[1]);
	close(ba[0]);
	close(ba[1]);
	ra = wait_exit(a);
	rb = wait_exit(b);
	if (ra || rb)
		return -1;
	return (now_us() - t0) / ROUND_TRIPS;
}

static double per_run(struct stats a, struct stats b)
{
	return b.cnt > a.cnt ? (double)(b.ns - a.ns) / (double)(b.cnt - a.cnt) :
			       0;
}

int main(void)
{
	static const char *const extra[] = { "--bpf-stats", NULL };
	struct stats s0, w0, s1, w1, s2, w2;
	int sw, wk, hp;
	double idle_us, vcpu_us;
	struct kpd kpd;

	if (bpf_missing()) {
		fprintf(stderr, "sched_bench: SKIPPED (%s)\n", bpf_missing());
		return 0;
	}
	if (kpd_start(&kpd, extra)) {
		fprintf(stderr, "sched_bench: kvmprofd did not start\n");
		return 1;
	}
	sw = find_prog_of(kpd.pid, "kp_sched_switch", 0);
	wk = find_prog_of(kpd.pid, "kp_sched_wakeup", 0);
	hp = find_prog_of(kpd.pid, "kp_halt_poll_ns", 0);
	if (sw < 0 || wk < 0 || hp < 0) {
		fprintf(stderr, "sched_bench: programs not found\n");
		kpd_stop(&kpd);
		return 1;
	}
	s0 = prog_stats(sw);
	w0 = prog_stats(wk);
	idle_us = ping_pong(-1);
	s1 = prog_stats(sw);
	w1 = prog_stats(wk);
	vcpu_us = ping_pong(hp);
	s2 = prog_stats(sw);
	w2 = prog_stats(wk);
	kpd_stop(&kpd);
	if (idle_us < 0 || vcpu_us < 0) {
		fprintf(stderr, "sched_bench: ping-pong failed\n");
		return 1;
	}
	printf("BENCH {\"name\":\"sched_switch_overhead\",\"round_trips\":%d,"
	       "\"bpf_stats\":true,"
	       "\"no_vcpu_seen\":{\"switch_ns_per_run\":%.0f,"
	       "\"wakeup_ns_per_run\":%.0f,\"round_trip_us\":%.2f},"
	       "\"vcpu_threads\":{\"switch_ns_per_run\":%.0f,"
	       "\"wakeup_ns_per_run\":%.0f,\"round_trip_us\":%.2f}}\n",
	       ROUND_TRIPS, per_run(s0, s1), per_run(w0, w1), idle_us,
	       per_run(s1, s2), per_run(w1, w2), vcpu_us);
	return 0;
}
