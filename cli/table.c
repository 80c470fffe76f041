// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

void table_init(struct table *t, int ncols, const char *const *spec)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols > TABLE_MAX_COLS ? TABLE_MAX_COLS : ncols;
	for (int i = 0; i < t->ncols; i++) {
		size_t l = strlen(spec[i]);

		t->right[i] = l && spec[i][l - 1] == '>';
		t->head[i] = spec[i];
	}
}

void table_row(struct table *t, const char *fmt, ...)
{
	char line[1024], *save = NULL, *tok, **row, ***rows;
	va_list ap;
	int c = 0;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	row = calloc((size_t)t->ncols, sizeof(*row));
	rows = realloc(t->rows, (size_t)(t->nrows + 1) * sizeof(*rows));
	if (!row || !rows) {
		free(row);
		if (rows)
			t->rows = rows;
		return;
	}
	t->rows = rows;
	for (tok = strtok_r(line, "\t", &save); tok && c < t->ncols;
	     tok = strtok_r(NULL, "\t", &save))
		row[c++] = strdup(tok);
	t->rows[t->nrows++] = row;
}

static int cell_width(const char *s)
{
	return s ? (int)strlen(s) : 0;
}

void table_print(struct table *t, FILE *f)
{
	int w[TABLE_MAX_COLS];

	for (int c = 0; c < t->ncols; c++) {
		w[c] = cell_width(t->head[c]) - t->right[c];
		for (int r = 0; r < t->nrows; r++)
			if (cell_width(t->rows[r][c]) > w[c])
				w[c] = cell_width(t->rows[r][c]);
	}
	for (int r = -1; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			const char *s = r < 0 ? t->head[c] : t->rows[r][c];
			int len = r < 0 ? cell_width(s) - t->right[c] :
					  cell_width(s);
			const char *sep = c + 1 < t->ncols ? "  " : "";

			if (!s)
				s = "";
			if (t->right[c])
				fprintf(f, "%*s%.*s%s", w[c] - len, "", len, s,
					sep);
			else if (c + 1 < t->ncols)
				fprintf(f, "%.*s%*s%s", len, s, w[c] - len, "",
					sep);
			else
				fprintf(f, "%.*s", len, s);
		}
		fputc('\n', f);
	}
}

void table_free(struct table *t)
{
	for (int r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++)
			free(t->rows[r][c]);
		free(t->rows[r]);
	}
	free(t->rows);
	memset(t, 0, sizeof(*t));
}
