// SPDX-License-Identifier: GPL-2.0-only
/* kvmprof top: the screen (sorted, filtered tables) and the keys. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "table.h"
#include "top.h"

/* qsort context: the view's columns and sort order */
static const struct col *s_cols;
static int s_col;
static bool s_asc;

static int cmp_rows(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	const struct col *c = &s_cols[s_col];
	int d = 0;

	if (c->text)
		d = strcmp(x->text[s_col], y->text[s_col]);
	else if (c->total >= 0 || c->steal)
		d = (x->rate[s_col] > y->rate[s_col]) -
		    (x->rate[s_col] < y->rate[s_col]);
	else
		d = (x->n[s_col] > y->n[s_col]) - (x->n[s_col] < y->n[s_col]);
	if (!s_asc)
		d = -d;
	return d ? d : strcmp(x->key, y->key);
}

/* Reasons: by rate, then total, most first. */
static int cmp_reasons(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->rate[2] != y->rate[2])
		return x->rate[2] < y->rate[2] ? 1 : -1;
	if (x->n[3] != y->n[3])
		return x->n[3] < y->n[3] ? 1 : -1;
	return strcmp(x->key, y->key);
}

static bool shown(const struct top *t, const struct row *r)
{
	return t->view != V_VMS || !t->filter[0] ||
	       strstr(r->text[0], t->filter);
}

/* The rows shown, in order (pointers into t->rows). */
static size_t ordered(struct top *t, const struct row **out)
{
	size_t n = 0;

	s_cols = top_views[t->view].cols;
	s_col = t->sort[t->view];
	s_asc = t->asc[t->view];
	qsort(t->rows, t->nrows, sizeof(*t->rows), cmp_rows);
	for (size_t i = 0; i < t->nrows; i++)
		if (shown(t, &t->rows[i]))
			out[n++] = &t->rows[i];
	return n;
}

static int sel_index(const struct top *t, const struct row **rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i]->key, t->sel))
			return (int)i;
	return 0;
}

static void cell(char *line, size_t len, const struct top *t,
		 const struct row *r, const struct col *c, int i)
{
	size_t l = strlen(line);

	if (i)
		l += (size_t)snprintf(line + l, len - l, "\t");
	if (c->text)
		snprintf(line + l, len - l, "%s", r->text[i]);
	else if (c->exits && t->silent)
		snprintf(line + l, len - l, "silent");
	else if (c->steal && r->rate[i] < 0)
		snprintf(line + l, len - l, "-");
	else if (c->total >= 0 || c->steal)
		snprintf(line + l, len - l, "%.0f", r->rate[i]);
	else
		snprintf(line + l, len - l, "%" PRIu64, r->n[i]);
}

static int screen_rows(const struct top *t)
{
	struct winsize ws;

	if (t->tty && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row > 8)
		return ws.ws_row;
	return t->tty ? 24 : 1 << 30;
}

static void draw_reasons(struct top *t, int room)
{
	static const char *const head[] = { "KIND", "REASON", "RATE/s>",
					    "TOTAL>" };
	struct table tb;

	printf("\nexit reasons (most frequent first)%s\n",
	       t->silent ? "; kvm_exit is attached but silent here: no "
			   "exit reasons, userspace ones only" :
			   "");
	qsort(t->reasons, t->nreasons, sizeof(*t->reasons), cmp_reasons);
	table_init(&tb, 4, head);
	for (size_t i = 0; i < t->nreasons && (int)i < room; i++)
		table_row(&tb, "%s\t%s\t%.0f\t%" PRIu64, t->reasons[i].text[0],
			  t->reasons[i].text[1], t->reasons[i].rate[2],
			  t->reasons[i].n[3]);
	table_print(&tb, stdout);
	if (!tb.nrows)
		printf("(none yet)\n");
	table_free(&tb);
}

void top_draw(struct top *t)
{
	const struct col *cols = top_views[t->view].cols;
	int ncols = top_views[t->view].n, room = screen_rows(t) - 6, sel;
	const char *head[NCOLS];
	const struct row **rows;
	char line[1024];
	struct table tb;
	size_t n;

	rows = calloc(t->nrows ? t->nrows : 1, sizeof(*rows));
	if (!rows)
		return;
	n = ordered(t, rows);
	sel = sel_index(t, rows, n);
	if (t->tty)
		fputs("\033[H\033[2J", stdout);
	printf("kvmprof top - %s - every %.1f s - sort: %s %s%s%s\n",
	       t->view == V_VMS ? "VMs" : t->vm_title, t->interval,
	       cols[t->sort[t->view]].name, t->asc[t->view] ? "asc" : "desc",
	       t->view == V_VMS && t->filter[0] ? " - filter: " : "",
	       t->view == V_VMS ? t->filter : "");
	if (t->tty)
		printf("keys: </> sort column  r reverse  %sq quit\n",
		       t->view == V_VMS ? "/ filter  up/down select  "
					  "Enter drill into VM  " :
					  "Esc back to VMs  ");
	if (t->note[0])
		printf("%s\n", t->note);
	printf("\n");
	for (int c = 0; c < ncols; c++)
		head[c] = cols[c].head;
	table_init(&tb, ncols, head);
	if (t->view == V_VCPUS)
		room = room / 2;
	for (size_t i = 0; i < n && (int)i < room; i++) {
		line[0] = '\0';
		if (t->tty && t->view == V_VMS)
			snprintf(line, sizeof(line), "%s",
				 (int)i == sel ? "> " : "  ");
		for (int c = 0; c < ncols; c++)
			cell(line, sizeof(line), t, rows[i], &cols[c], c);
		table_row(&tb, "%s", line);
	}
	table_print(&tb, stdout);
	if (!tb.nrows)
		printf(t->view == V_VMS && t->filter[0] ?
			       "(no VM name contains '%s')\n" :
			       "(no %s seen yet)\n",
		       t->view == V_VMS ? t->filter[0] ? t->filter : "VMs" :
					  "vCPUs");
	table_free(&tb);
	if (t->view == V_VCPUS)
		draw_reasons(t, room);
	if (t->editing)
		printf("\nfilter VMs by name: %s_\n", t->edit);
	fflush(stdout);
	free(rows);
}

static void move_sel(struct top *t, int d)
{
	const struct row **rows =
		calloc(t->nrows ? t->nrows : 1, sizeof(*rows));
	size_t n;
	int i;

	if (!rows)
		return;
	n = ordered(t, rows);
	i = sel_index(t, rows, n) + d;
	if (n) {
		i = i < 0 ? 0 : i >= (int)n ? (int)n - 1 : i;
		snprintf(t->sel, sizeof(t->sel), "%s", rows[i]->key);
	}
	free(rows);
}

/* One key (@k; arrows as 'A'..'D' with @esc).  Returns true to refetch. */
static bool key(struct top *t, int k, bool esc)
{
	int ncols = top_views[t->view].n;
	size_t l = strlen(t->edit);

	if (t->editing) {
		if (k == '\r' || k == '\n') {
			snprintf(t->filter, sizeof(t->filter), "%s", t->edit);
			t->editing = false;
		} else if (k == 27 && !esc) {
			t->editing = false;
		} else if ((k == 127 || k == 8) && l) {
			t->edit[l - 1] = '\0';
		} else if (k >= ' ' && k < 127 && !esc &&
			   l + 1 < sizeof(t->edit)) {
			t->edit[l] = (char)k;
			t->edit[l + 1] = '\0';
		}
		return false;
	}
	t->note[0] = '\0';
	if (esc && k == 'A')
		k = 'k';
	else if (esc && k == 'B')
		k = 'j';
	else if (esc && k == 'C')
		k = '>';
	else if (esc && k == 'D')
		k = '<';
	switch (k) {
	case 'q':
		top_stop = 1;
		break;
	case '<':
	case ',':
		t->sort[t->view] = (t->sort[t->view] + ncols - 1) % ncols;
		break;
	case '>':
	case '.':
		t->sort[t->view] = (t->sort[t->view] + 1) % ncols;
		break;
	case 'r':
		t->asc[t->view] = !t->asc[t->view];
		break;
	case 'j':
	case 'k':
		if (t->view == V_VMS)
			move_sel(t, k == 'j' ? 1 : -1);
		break;
	case '/':
		if (t->view == V_VMS) {
			t->editing = true;
			snprintf(t->edit, sizeof(t->edit), "%s", t->filter);
		}
		break;
	case '\r':
	case '\n':
	case 'd':
		if (t->view != V_VMS)
			break;
		move_sel(t, 0);
		if (!t->sel[0])
			break;
		snprintf(t->vm, sizeof(t->vm), "%s", t->sel);
		t->view = V_VCPUS;
		top_forget_prev(t);
		return true;
	case 27:
	case 'b':
	case 127:
	case 8:
		if (t->view == V_VCPUS) {
			t->view = V_VMS;
			top_forget_prev(t);
			return true;
		}
		break;
	}
	return false;
}

bool top_keys(struct top *t)
{
	unsigned char b[64];
	ssize_t n = read(STDIN_FILENO, b, sizeof(b));
	bool refetch = false;

	for (ssize_t i = 0; i < n; i++) {
		if (b[i] == 27 && i + 2 < n && b[i + 1] == '[') {
			refetch |= key(t, b[i + 2], true);
			i += 2;
		} else {
			refetch |= key(t, b[i], false);
		}
	}
	return refetch;
}
