/* SPDX-License-Identifier: GPL-2.0-only */
/* Rows and words of a CLI's text tables (kvmprof top, show), for tests. */
#ifndef KP_TEST_TEXTROWS_H
#define KP_TEST_TEXTROWS_H

#include <stdbool.h>
#include <stddef.h>

/* Line of @text where @name is the first word after an optional "> ". */
const char *row_of(const char *text, const char *name);
/* Line of @text whose first two words are @w0 @w1. */
const char *row_words(const char *text, const char *w0, const char *w1);
/* Word @i (0-based, after an optional ">") of the line at @l is @want. */
bool word_is(const char *l, int i, const char *want);
/* The same, or the test fails showing @text. */
void check_word(const char *text, const char *line, int i, const char *want);
/* Appends what @fd has (one read) to *@buf (malloc'ed, NUL-terminated,
 * *@len bytes); false at EOF or error. */
bool read_more(int fd, char **buf, size_t *len);

#endif
