// SPDX-License-Identifier: GPL-2.0-only
/* The kernel's own view of a thread's scheduling: see schedstat.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schedstat.h"

int schedstat(pid_t pid, uint64_t *ret_run, uint64_t *ret_delay)
{
	unsigned long long r = 0, d = 0;
	char path[64];
	FILE *f;
	int n;

	/* /proc/TID is there for any thread (not listed in /proc) */
	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", pid, pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	n = fscanf(f, "%llu %llu", &r, &d);
	fclose(f);
	if (n != 2)
		return -EIO;
	*ret_run = r;
	*ret_delay = d;
	return 0;
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] && p[2] ? p[2] : '?';
}

/* The first line of /proc/@pid/@file into @buf; false if unreadable. */
static bool proc_line(pid_t pid, const char *file, char *buf, size_t len)
{
	char path[64];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	f = fopen(path, "r");
	if (!f)
		return false;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	return ok;
}

/*
 * The kernel tells the wait channel of dequeued sleepers only, "0"
 * otherwise.  But a task is dequeued before its switch out (and the
 * sched_switch tracepoint, where kvmprofd accounts its run) is done, a
 * moment that a host may stretch into tens of ms under emulation; its
 * current system call is read (/proc/PID/syscall) only once it is off its
 * CPU (wait_task_inactive()), "running" before.
 */
bool task_blocked(pid_t pid)
{
	char buf[256] = "";

	if (proc_state(pid) != 'S')
		return false;
	if (!proc_line(pid, "wchan", buf, sizeof(buf)) || !buf[0] ||
	    !strcmp(buf, "0"))
		return false;
	if (!proc_line(pid, "syscall", buf, sizeof(buf)))
		return errno == ENOENT; /* a kernel without it */
	return strncmp(buf, "running", 7) != 0;
}

/*
 * The fields after "cpuN " of @path's line for @cpu (/proc/schedstat,
 * /proc/stat) into @v[0..n); -ENOENT without such a line.
 */
static int cpu_line(const char *path, int cpu, unsigned long long *v, int n)
{
	char want[16], line[512];
	FILE *f = fopen(path, "re");
	int r = -ENOENT;

	if (!f)
		return -errno;
	snprintf(want, sizeof(want), "cpu%d ", cpu);
	while (r && fgets(line, sizeof(line), f)) {
		char *p = line + strlen(want);
		int k = 0;

		if (strncmp(line, want, strlen(want)))
			continue;
		for (char *end; k < n; p = end, k++) {
			v[k] = strtoull(p, &end, 10);
			if (end == p)
				break;
		}
		r = k == n ? 0 : -EIO;
	}
	fclose(f);
	return r;
}

/* "cpuN a b c d e f rq_cpu_time ..." of /proc/schedstat (version 15) */
static int rq_cpu_time(int cpu, uint64_t *ret)
{
	unsigned long long v[7];
	int r = cpu_line("/proc/schedstat", cpu, v, 7);

	if (!r)
		*ret = v[6];
	return r;
}

/* "cpuN user nice system idle iowait irq softirq steal" of /proc/stat */
static int stat_busy(int cpu, uint64_t *ret)
{
	unsigned long long v[8];
	long hz = sysconf(_SC_CLK_TCK);
	int r = cpu_line("/proc/stat", cpu, v, 8);

	/* user + nice + system + irq + softirq */
	if (!r)
		*ret = (v[0] + v[1] + v[2] + v[5] + v[6]) * 1000000000ull /
		       (hz > 0 ? hz : 100);
	return r;
}

int cpu_busy_ns(int cpu, uint64_t *ret, bool *ret_exact)
{
	*ret_exact = !rq_cpu_time(cpu, ret);
	return *ret_exact ? 0 : stat_busy(cpu, ret);
}

size_t all_threads_run(struct tid_run *s, size_t max)
{
	DIR *proc = opendir("/proc");
	struct dirent *p, *t;
	size_t n = 0;

	while (proc && (p = readdir(proc)) && n < max) {
		char path[64];
		DIR *task;

		if (p->d_name[0] < '1' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task", atoi(p->d_name));
		task = opendir(path);
		while (task && (t = readdir(task)) && n < max) {
			uint64_t delay;

			if (t->d_name[0] < '1' || t->d_name[0] > '9')
				continue;
			s[n].tid = atoi(t->d_name);
			if (!schedstat(s[n].tid, &s[n].run, &delay))
				n++;
		}
		if (task)
			closedir(task);
	}
	if (proc)
		closedir(proc);
	return n;
}
