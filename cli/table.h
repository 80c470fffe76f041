/* SPDX-License-Identifier: GPL-2.0-only */
/* Aligned text tables for the CLI's human output. */
#ifndef KVMPROF_CLI_TABLE_H
#define KVMPROF_CLI_TABLE_H

#include <stdio.h>

#define TABLE_MAX_COLS 16

struct table {
	int ncols;
	const char *head[TABLE_MAX_COLS];
	char right[TABLE_MAX_COLS];	/* right-align (numbers) */
	char ***rows;
	int nrows;
};

/* @spec: header names; a trailing '>' right-aligns that column. */
void table_init(struct table *t, int ncols, const char *const *spec);
/* Adds a row of ncols printf'ed cells: fmt is a "%s\t%d\t..." string whose
 * tab-separated fields become the cells. */
void table_row(struct table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void table_print(struct table *t, FILE *f);
void table_free(struct table *t);

#endif
