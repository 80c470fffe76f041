// SPDX-License-Identifier: GPL-2.0-only
/* Rows and words of a CLI's text tables: see textrows.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "textrows.h"

/* Line of @text where @name is the first word after an optional "> ". */
const char *row_of(const char *text, const char *name)
{
	for (const char *l = text; l && *l;
	     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *p = l;

		if (!strncmp(p, "> ", 2) || !strncmp(p, "  ", 2))
			p += 2;
		if (!strncmp(p, name, strlen(name)) && p[strlen(name)] == ' ')
			return l;
	}
	return NULL;
}

/* Line of @text whose first two words are @w0 @w1. */
const char *row_words(const char *text, const char *w0, const char *w1)
{
	for (const char *l = text; l && *l;
	     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		char a[64], b[64];

		if (sscanf(l, "%63s %63s", a, b) == 2 && !strcmp(a, w0) &&
		    !strcmp(b, w1))
			return l;
	}
	return NULL;
}

/* Word @i (0-based) of the line at @l equals @want. */
bool word_is(const char *l, int i, const char *want)
{
	char buf[256], *save = NULL, *w;
	size_t n = l ? strcspn(l, "\n") : 0;

	if (!l)
		return false;
	snprintf(buf, sizeof(buf), "%.*s", (int)(n < 255 ? n : 255), l);
	w = strtok_r(buf, " ", &save);
	if (w && !strcmp(w, ">"))
		w = strtok_r(NULL, " ", &save);
	while (w && i-- > 0)
		w = strtok_r(NULL, " ", &save);
	return w && !strcmp(w, want);
}

void check_word(const char *text, const char *line, int i, const char *want)
{
	if (!word_is(line, i, want)) {
		fprintf(stderr, "want word %d = %s in:\n%s\n", i, want, text);
		fail();
	}
}

/* Appends what @fd has (one read) to *@buf; false at EOF. */
bool read_more(int fd, char **buf, size_t *len)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof(chunk));
	char *nb;

	if (n <= 0)
		return false;
	nb = realloc(*buf, *len + (size_t)n + 1);
	assert_non_null(nb);
	memcpy(nb + *len, chunk, (size_t)n);
	*len += (size_t)n;
	nb[*len] = '\0';
	*buf = nb;
	return true;
}
