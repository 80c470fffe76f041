// SPDX-License-Identifier: GPL-2.0-only
/* The kernel's own view of a thread's scheduling: see schedstat.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "schedstat.h"

int schedstat(pid_t pid, uint64_t *ret_run, uint64_t *ret_delay)
{
	unsigned long long r = 0, d = 0;
	char path[64];
	FILE *f;
	int n;

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

/* The kernel tells the wait channel of dequeued sleepers only, "0"
 * otherwise. */
bool task_blocked(pid_t pid)
{
	char path[64], buf[128] = "";
	FILE *f;

	if (proc_state(pid) != 'S')
		return false;
	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return buf[0] && strcmp(buf, "0");
}
