// SPDX-License-Identifier: GPL-2.0-only
/* The kernel's own record of tracepoints: see ktrace.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ktrace.h"

#define TRACEFS "/sys/kernel/tracing"

static int put(const char *dir, const char *file, const char *val)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? (int)n : 0;
}

int ktrace_start(struct ktrace *t, const char *name, const char *const *events)
{
	char file[160];
	int r;

	snprintf(t->dir, sizeof(t->dir), TRACEFS "/instances/%s", name);
	if (mkdir(t->dir, 0700) && errno != EEXIST)
		return -errno;
	r = put(t->dir, "options/record-tgid", "1");
	for (; !r && *events; events++) {
		snprintf(file, sizeof(file), "events/%s/enable", *events);
		r = put(t->dir, file, "1");
	}
	if (!r)
		r = put(t->dir, "tracing_on", "1");
	if (r)
		ktrace_stop(t);
	return r;
}

/* The instance's trace, and in @want (@size bytes) what marks @event's
 * lines; NULL with errno set. */
static FILE *trace_open(const struct ktrace *t, const char *event, char *want,
			size_t size)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/trace", t->dir);
	snprintf(want, size, ": %s: ", event);
	return fopen(path, "re");
}

/*
 * Lines are "COMM-TID (TGID) [CPU] FLAGS SECONDS: EVENT: ...", after a
 * header whose "entries-in-buffer/entries-written: N/M" tells of losses.
 */
long ktrace_count(const struct ktrace *t, const char *event, pid_t tgid)
{
	char *line = NULL, want[80];
	unsigned long in = 0, written = 0;
	size_t cap = 0;
	long n = 0, unknown = 0;
	FILE *f = trace_open(t, event, want, sizeof(want));

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char *p = strstr(line, "entries-in-buffer/entries-written: ");

		if (line[0] == '#') {
			if (p)
				sscanf(p + 35, "%lu/%lu", &in, &written);
			continue;
		}
		p = strstr(line, ") [");
		if (!p || !strstr(p, want))
			continue;
		while (p > line && p[-1] != '(')
			p--;
		while (*p == ' ')
			p++;
		if (*p == '-')
			unknown++; /* "(-------)": tgid not recorded */
		else if (atol(p) == tgid)
			n++;
	}
	free(line);
	fclose(f);
	if (in != written)
		return -EOVERFLOW;
	return unknown ? -ESRCH : n;
}

int ktrace_print(const struct ktrace *t, const char *event, FILE *out)
{
	char *line = NULL, want[80];
	size_t cap = 0;
	FILE *f = trace_open(t, event, want, sizeof(want));

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0)
		if (strstr(line, "entries-in-buffer") ||
		    (line[0] != '#' && strstr(line, want)))
			fputs(line, out);
	free(line);
	fclose(f);
	return 0;
}

void ktrace_stop(struct ktrace *t)
{
	if (!t->dir[0])
		return;
	put(t->dir, "tracing_on", "0");
	put(t->dir, "events/enable", "0");
	rmdir(t->dir);
	t->dir[0] = '\0';
}
