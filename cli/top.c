// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmprof top: a live view in the manner of kvm_stat.  Two views: the VMs,
 * and one VM's vCPUs with its exit reasons (named by the daemon from
 * lib/kvmnames.c: x86 VMX/SVM reasons, arm64 exception classes, KVM_EXIT_*).
 * Rates are the change between two refreshes over the time measured
 * between them.  On a terminal, keys (shown on screen) sort by any column,
 * filter VMs by name, select and drill into a VM; elsewhere the same tables
 * are printed plainly at each refresh (--sort, --asc, --filter, --vm).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include <kvmprof/abi.h>
#include <kvmprof/client.h>
#include <kvmprof/json.h>
#include <kvmprof/util.h>
#include "cli.h"

#include "top.h"

#define TXT(h, n)                                               \
	{                                                       \
		.head = h, .name = n, .total = -1, .text = true \
	}
#define NUM(h, n)                                 \
	{                                         \
		.head = h, .name = n, .total = -1 \
	}
#define RATE(h, n, t)                            \
	{                                        \
		.head = h, .name = n, .total = t \
	}
#define EXITS(h, n, t)                                          \
	{                                                       \
		.head = h, .name = n, .total = t, .exits = true \
	}
#define STEAL(h, n)                                              \
	{                                                        \
		.head = h, .name = n, .total = -1, .steal = true \
	}

static const struct col vm_cols[] = {
	TXT("NAME", "name"),
	NUM("PID>", "pid"),
	TXT("STATE", "state"),
	NUM("VCPUS>", "vcpus"),
	RATE("UEXITS/s>", "uexits/s", 8),
	RATE("PIO/s>", "pio/s", 9),
	RATE("MMIO/s>", "mmio/s", 10),
	EXITS("EXITS/s>", "exits/s", 11),
	NUM("UEXITS>", "uexits"),
	NUM("PIO>", "pio"),
	NUM("MMIO>", "mmio"),
	EXITS("EXITS>", "exits", -1),
	STEAL("STEAL%>", "steal%"),
};

static const struct col vcpu_cols[] = {
	TXT("VCPU", "vcpu"),
	RATE("UEXITS/s>", "uexits/s", 6),
	RATE("PIO/s>", "pio/s", 7),
	RATE("MMIO/s>", "mmio/s", 8),
	EXITS("EXITS/s>", "exits/s", 9),
	RATE("HALTS/s>", "halts/s", 10),
	NUM("UEXITS>", "uexits"),
	NUM("PIO>", "pio"),
	NUM("MMIO>", "mmio"),
	EXITS("EXITS>", "exits", -1),
	NUM("HALTS>", "halts"),
	STEAL("STEAL%>", "steal%"),
};

const struct top_view top_views[] = {
	[V_VMS] = { vm_cols, ARRAY_SIZE(vm_cols) },
	[V_VCPUS] = { vcpu_cols, ARRAY_SIZE(vcpu_cols) },
};

volatile sig_atomic_t top_stop;
static struct termios saved_tio;
static bool tio_raw;

static void on_sig(int s)
{
	(void)s;
	top_stop = 1;
}

static void on_winch(int s)
{
	(void)s; /* only interrupts poll(): the screen is redrawn */
}

static void tty_restore(void)
{
	if (!tio_raw)
		return;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	fputs("\033[?25h", stdout);
	fflush(stdout);
	tio_raw = false;
}

static int tty_raw(void)
{
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &saved_tio))
		return -errno;
	t = saved_tio;
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t))
		return -errno;
	tio_raw = true;
	atexit(tty_restore);
	fputs("\033[?25l", stdout);
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->key,
		      ((const struct row *)b)->key);
}

/* The run delay's share of @r's runnable time since @p, percent (-1: the
 * vCPUs were not runnable, or a total went back). */
static double steal_pct(const struct row *r, const struct row *p)
{
	uint64_t run, delay;

	if (r->run_ns < p->run_ns || r->delay_ns < p->delay_ns)
		return -1;
	run = r->run_ns - p->run_ns;
	delay = r->delay_ns - p->delay_ns;
	return run + delay ? 100.0 * (double)delay / (double)(run + delay) : -1;
}

/* Rates of @r from the previous refresh (t->prev, sorted by key). */
static void rates(const struct top *t, struct row *r, const struct col *cols,
		  int ncols, double dt)
{
	const struct row *p = NULL;

	if (t->nprev && dt > 0)
		p = bsearch(r, t->prev, t->nprev, sizeof(*r), cmp_key);
	for (int c = 0; c < ncols; c++) {
		int tc = cols[c].total;

		r->rate[c] = 0;
		if (tc >= 0 && p && r->n[tc] >= p->n[tc])
			r->rate[c] = (double)(r->n[tc] - p->n[tc]) / dt;
		if (cols[c].steal)
			r->rate[c] = p ? steal_pct(r, p) : -1;
	}
}

static struct row *add_row(struct row **arr, size_t *n, const char *key)
{
	struct row *na = realloc(*arr, (*n + 1) * sizeof(**arr));

	if (!na)
		return NULL;
	*arr = na;
	memset(&na[*n], 0, sizeof(na[*n]));
	snprintf(na[*n].key, KEYLEN, "%s", key);
	return &na[(*n)++];
}

static void set_text(struct row *r, int c, const char *s)
{
	snprintf(r->text[c], sizeof(r->text[c]), "%s", s);
	for (char *p = r->text[c]; *p; p++)
		if (*p == '\t' || (unsigned char)*p < ' ')
			*p = ' ';
}

static int fill_vms(struct top *t, const cJSON *vms)
{
	const cJSON *vm;

	cJSON_ArrayForEach(vm, vms) {
		struct row *r = add_row(&t->rows, &t->nrows, cli_str(vm, "id"));

		if (!r)
			return -ENOMEM;
		set_text(r, 0, cli_str(vm, "name"));
		r->n[1] = cli_num(vm, "pid");
		set_text(r, 2, cli_str(vm, "state"));
		r->n[3] = cli_num(vm, "vcpus");
		r->n[8] = cli_num(vm, "userspace_exits");
		r->n[9] = cli_num(vm, "pio");
		r->n[10] = cli_num(vm, "mmio_write") + cli_num(vm, "mmio_read");
		r->n[11] = cli_num(vm, "exits");
		r->run_ns = cli_num(vm, "run_ns");
		r->delay_ns = cli_num(vm, "delay_ns");
		t->silent |= !strcmp(cli_str(vm, "exits_state"), "silent");
	}
	return 0;
}

/* Adds every "name": count of @by to the reasons of @kind ('x', 'u'). */
static int add_reasons(struct top *t, char kind, const cJSON *by)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, by) {
		char key[KEYLEN];
		struct row *r = NULL;
		uint64_t v = 0;

		if (!kp_json_u64(it, &v) || !it->string)
			continue;
		snprintf(key, sizeof(key), "%c:%s", kind, it->string);
		for (size_t i = 0; i < t->nreasons && !r; i++)
			if (!strcmp(t->reasons[i].key, key))
				r = &t->reasons[i];
		if (!r) {
			if (t->nreasons >= MAX_REASONS)
				continue;
			r = add_row(&t->reasons, &t->nreasons, key);
			if (!r)
				return -ENOMEM;
			set_text(r, 0, kind == 'x' ? "exit" : "userspace");
			set_text(r, 1, it->string);
		}
		r->n[3] += v; /* column 2: its rate */
	}
	return 0;
}

static int fill_vcpu(struct top *t, const cJSON *c, const char *label)
{
	const cJSON *pio = cli_ev_section(c, KP_EV_PIO);
	const cJSON *mmio = cli_ev_section(c, KP_EV_MMIO);
	const cJSON *w = cli_ev_section(c, KP_EV_VCPU_WAKEUP);
	char key[KEYLEN];
	struct row *r;

	snprintf(key, sizeof(key), "c:%s", label);
	r = add_row(&t->rows, &t->nrows, key);
	if (!r)
		return -ENOMEM;
	set_text(r, 0, label);
	r->n[6] = cli_ev_total(c, KP_EV_USERSPACE_EXIT);
	r->n[7] = cli_num(pio, "out") + cli_num(pio, "in");
	r->n[8] = cli_num(mmio, "write") + cli_num(mmio, "read");
	r->n[9] = cli_ev_total(c, KP_EV_EXIT);
	r->n[10] = cli_num(w, "waited") + cli_num(w, "polled");
	r->run_ns = cli_ev_total(c, KP_EV_VCPU_RUN);
	r->delay_ns = cli_ev_total(c, KP_EV_VCPU_DELAY);
	if (add_reasons(t, 'x', cli_ev_by(c, KP_EV_EXIT)) ||
	    add_reasons(t, 'u', cli_ev_by(c, KP_EV_USERSPACE_EXIT)))
		return -ENOMEM;
	return 0;
}

static int fill_vm(struct top *t, const cJSON *vm)
{
	const cJSON *c;
	char label[24];
	int r = 0;

	snprintf(t->vm_title, sizeof(t->vm_title),
		 "VM %s (pid %" PRIu64 ", %s, %s)", cli_str(vm, "name"),
		 cli_num(vm, "pid"), cli_str(vm, "id"), cli_str(vm, "state"));
	t->silent = !strcmp(cli_str(vm, "exits_state"), "silent");
	cJSON_ArrayForEach(c, cli_obj(vm, "per_vcpu")) {
		snprintf(label, sizeof(label), "%" PRIu64, cli_num(c, "vcpu"));
		r = r ? r : fill_vcpu(t, c, label);
	}
	/* events outside the vCPUs (the VMM's irq ioctls, ...) */
	c = cli_obj(vm, "vm_level");
	if (!r && c)
		r = fill_vcpu(t, c, "vm");
	return r;
}

/* Move this refresh's rows to t->prev (sorted by key) for the next one. */
static int keep_prev(struct top *t, double now)
{
	size_t n = t->nrows + t->nreasons;
	struct row *p = malloc((n ? n : 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	memcpy(p, t->rows, t->nrows * sizeof(*p));
	memcpy(p + t->nrows, t->reasons, t->nreasons * sizeof(*p));
	qsort(p, n, sizeof(*p), cmp_key);
	free(t->prev);
	t->prev = p;
	t->nprev = n;
	t->prev_t = now;
	return 0;
}

void top_forget_prev(struct top *t)
{
	free(t->prev);
	t->prev = NULL;
	t->nprev = 0;
}

/* One refresh: 0, 1 when the view's VM is gone (back to the VMs), or -1
 * (error printed). */
static int fetch(struct top *t)
{
	/* reasons: KIND, REASON, rate, total */
	static const struct col reason_cols[] = { TXT("", ""), TXT("", ""),
						  RATE("", "", 3),
						  NUM("", "") };
	double now = kp_mono_s(), dt = now - t->prev_t;
	char path[512], esc[400];
	cJSON *j = NULL;
	long status = 0;
	int r;

	t->nrows = t->nreasons = 0;
	t->silent = false;
	if (t->view == V_VMS) {
		if (cli_api_get(t->ctx, "/v1/vms?refresh=1", &j))
			return -1;
		r = fill_vms(t, j);
	} else {
		if (kp_path_escape(t->vm, esc, sizeof(esc))) {
			cli_err(t->ctx, -ENAMETOOLONG, "VM reference too long");
			return -1;
		}
		snprintf(path, sizeof(path), "/v1/vms/%s?refresh=1", esc);
		r = kp_api_get(t->ctx->socket, path, &j, &status);
		if (!r && status == 404 && t->tty) {
			snprintf(t->note, sizeof(t->note), "VM %s is gone",
				 t->vm);
			cJSON_Delete(j);
			return 1;
		}
		if (r || status != 200) {
			/* the CLI's own error message */
			cJSON_Delete(j);
			j = NULL;
			if (cli_api_get(t->ctx, path, &j))
				return -1;
		}
		r = fill_vm(t, j);
	}
	if (t->ctx->json) {
		char *s = cJSON_PrintUnformatted(j);

		printf("%s\n", s ? s : "null");
		free(s);
	}
	cJSON_Delete(j);
	if (r) {
		cli_err(t->ctx, r, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < t->nrows; i++)
		rates(t, &t->rows[i], top_views[t->view].cols,
		      top_views[t->view].n, dt);
	for (size_t i = 0; i < t->nreasons; i++)
		rates(t, &t->reasons[i], reason_cols, 4, dt);
	return keep_prev(t, now) ? -1 : 0;
}

static int parse_sort(struct top *t, int view, const char *name)
{
	for (int c = 0; c < top_views[view].n; c++)
		if (!strcmp(top_views[view].cols[c].name, name)) {
			t->sort[view] = c;
			return 0;
		}
	return -EINVAL;
}

static int parse_args(struct top *t, int *count, int argc, char **argv)
{
	const char *sort = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;

		if (!strcmp(a, "--asc")) {
			t->asc[V_VMS] = t->asc[V_VCPUS] = true;
			continue;
		}
		if (!v)
			return cli_err(t->ctx, -EINVAL,
				       "top: unexpected "
				       "argument '%s'",
				       a);
		i++;
		if (!strcmp(a, "--interval")) {
			t->interval = strtod(v, &end);
			if (*end ||
			    !(t->interval >= 0.1 && t->interval <= 3600))
				return cli_err(t->ctx, -EINVAL,
					       "top: bad --interval");
		} else if (!strcmp(a, "--count")) {
			*count = (int)strtol(v, &end, 10);
			if (*end || *count < 1)
				return cli_err(t->ctx, -EINVAL,
					       "top: bad --count");
		} else if (!strcmp(a, "--sort")) {
			sort = v;
		} else if (!strcmp(a, "--filter")) {
			snprintf(t->filter, sizeof(t->filter), "%s", v);
		} else if (!strcmp(a, "--vm")) {
			snprintf(t->vm, sizeof(t->vm), "%s", v);
			t->view = V_VCPUS;
		} else {
			return cli_err(t->ctx, -EINVAL,
				       "top: unexpected "
				       "argument '%s'",
				       a);
		}
	}
	if (sort && parse_sort(t, t->view, sort))
		return cli_err(t->ctx, -EINVAL,
			       "top: no column '%s' to sort "
			       "by here",
			       sort);
	return 0;
}

int cmd_top(struct cli_ctx *ctx, int argc, char **argv)
{
	struct top t = { .ctx = ctx,
			 .interval = 1.0,
			 .sort = { 4, 1 } /* UEXITS/s */ };
	double next = 0;
	int count = -1, iter = 0, rc = 0;

	if (parse_args(&t, &count, argc, argv))
		return 1;
	t.tty = !ctx->json && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	if (t.tty) {
		struct sigaction sa = { .sa_handler = on_winch };

		sigaction(SIGWINCH, &sa, NULL);
		if (tty_raw())
			t.tty = false;
	}
	while (!top_stop && (count < 0 || iter < count)) {
		double now = kp_mono_s();
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		int r;

		if (now >= next) {
			r = fetch(&t);
			if (r < 0) {
				rc = 1;
				break;
			}
			if (r == 1) { /* the VM is gone: back to the VMs */
				t.view = V_VMS;
				top_forget_prev(&t);
				continue;
			}
			if (!ctx->json)
				top_draw(&t);
			next = now + t.interval;
			if (++iter == count)
				break;
			continue;
		}
		if (!t.tty) {
			struct timespec ts = {
				.tv_sec = (time_t)(next - now),
				.tv_nsec =
					(long)((next - now -
						(double)(time_t)(next - now)) *
					       1e9),
			};

			nanosleep(&ts, NULL);
			continue;
		}
		r = poll(&pfd, 1, (int)((next - now) * 1000) + 1);
		if (r > 0 && top_keys(&t))
			next = 0; /* another view: fetch now */
		if (!top_stop && next)
			top_draw(&t);
	}
	tty_restore();
	free(t.rows);
	free(t.reasons);
	free(t.prev);
	return rc;
}
