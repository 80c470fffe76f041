// SPDX-License-Identifier: GPL-2.0-only
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int log_max_level = LOG_INFO;

void log_vmsg(int level, const char *fmt, va_list ap)
{
	static int journal = -1;

	if (level > log_max_level)
		return;
	if (journal < 0)
		journal = getenv("JOURNAL_STREAM") != NULL;
	/* Under systemd, "<N>" prefixes carry the priority to the journal. */
	if (journal)
		fprintf(stderr, "<%d>", level);
	else
		fputs("kvmprofd: ", stderr);
	char buf[1024];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')	/* libbpf ends its own lines */
		buf[--n] = '\0';
	fprintf(stderr, "%s\n", buf);
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}
