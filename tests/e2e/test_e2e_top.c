// SPDX-License-Identifier: GPL-2.0-only
/*
 * `kvmprof top` as a user sees it: on a terminal (a tmux pane, read back
 * with capture-pane) against a private kvmprofd whose VMs are made by
 * injection (BPF_PROG_TEST_RUN from child processes named alpha, beta and
 * gamma, which stay alive), and plainly through a pipe.  The expected rows
 * and their order come from what was injected.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "inject.h"
#include "probes_e2e.h"
#include "wait.h"

struct vm_spec {
	const char *name;
	int pio;	    /* VM level */
	int io[2], mmio[2]; /* userspace exits IO, MMIO on vCPUs 0, 1 */
	pid_t pid;
	int hold; /* write end: the child lives until closed */
};

/* userspace exits: alpha 34, beta 2, gamma 10; PIO: alpha 5, beta 50,
 * gamma 20 */
static struct vm_spec vms[] = {
	{ .name = "alpha", .pio = 5, .io = { 30, 0 }, .mmio = { 0, 4 } },
	{ .name = "beta", .pio = 50, .io = { 2, 0 } },
	{ .name = "gamma", .pio = 20, .io = { 10, 0 } },
};

struct vcpu_job {
	int vcpu, io, mmio;
	int ppoll, puexit;
	int bad;
};

/* A vCPU thread: kvm_halt_poll_ns names its vCPU, then its exits. */
static void *vcpu_thread(void *arg)
{
	struct vcpu_job *j = arg;
	uint64_t poll[2] = { 1, (uint64_t)j->vcpu };
	uint64_t io[2] = { 2, 0 }, mmio[2] = { 6, 0 };

	j->bad = run_raw_tp(j->ppoll, poll, 2) != 0;
	for (int i = 0; i < j->io; i++)
		j->bad |= run_raw_tp(j->puexit, io, 2) != 0;
	for (int i = 0; i < j->mmio; i++)
		j->bad |= run_raw_tp(j->puexit, mmio, 2) != 0;
	return NULL;
}

static void vm_child(const struct vm_spec *s, int done, int hold)
{
	int pp = find_prog("kp_pio", min_id);
	int ppoll = find_prog("kp_halt_poll_ns", min_id);
	int pu = find_prog("kp_userspace_exit", min_id);
	uint64_t pio[4] = { 1, 0x70, 1, 1 };
	int bad = pp < 0 || ppoll < 0 || pu < 0;
	char c;

	prctl(PR_SET_NAME, s->name, 0, 0, 0); /* the VM's name */
	for (int i = 0; !bad && i < s->pio; i++)
		bad |= run_raw_tp(pp, pio, 4) != 0;
	for (int v = 0; !bad && v < 2; v++) {
		struct vcpu_job j = { .vcpu = v,
				      .io = s->io[v],
				      .mmio = s->mmio[v],
				      .ppoll = ppoll,
				      .puexit = pu };
		pthread_t th;

		if (!j.io && !j.mmio)
			continue;
		bad |= pthread_create(&th, NULL, vcpu_thread, &j) ||
		       pthread_join(th, NULL) || j.bad;
	}
	c = bad ? 'x' : 'k';
	if (write(done, &c, 1) != 1)
		_exit(2);
	while (read(hold, &c, 1) > 0)
		;
	_exit(0);
}

static void start_vms(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(vms); i++) {
		int done[2], hold[2];
		char c = 0;

		assert_int_equal(pipe(done), 0);
		assert_int_equal(pipe(hold), 0);
		vms[i].pid = fork();
		assert_true(vms[i].pid >= 0);
		if (!vms[i].pid) {
			/* only the test holds the others alive */
			for (size_t k = 0; k < i; k++)
				close(vms[k].hold);
			close(hold[1]);
			vm_child(&vms[i], done[1], hold[0]);
		}
		close(hold[0]);
		close(done[1]);
		vms[i].hold = hold[1];
		assert_int_equal(read(done[0], &c, 1), 1);
		assert_int_equal(c, 'k');
		close(done[0]);
	}
}

static void stop_vms(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(vms); i++) {
		close(vms[i].hold);
		wait_exit(vms[i].pid);
	}
}

/* tmux on a private server */
static char tmux_sock[64];

/* tmux -L <ours> @a0 ... (NULL-ended): its exit status */
static int tmux(const char *a0, ...)
{
	char *argv[16] = { "tmux", "-L", tmux_sock, (char *)a0 }, *out = NULL;
	int n = 4, rc;
	va_list ap;
	char *a;

	va_start(ap, a0);
	while (n < 15 && (a = va_arg(ap, char *)))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	rc = run_capture(argv, &out);
	free(out);
	return rc;
}

static char *screen(void)
{
	char *argv[] = { "tmux", "-L", tmux_sock, "capture-pane",
			 "-p",	 "-t", "top",	  NULL };
	char *out = NULL;

	if (run_capture(argv, &out)) {
		free(out);
		return NULL;
	}
	return out;
}

struct want {
	const char *const *has; /* all of these on screen */
	const char *lacks;	/* and not this (or NULL) */
	char *last;
};

static bool screen_is(void *arg)
{
	struct want *w = arg;

	free(w->last);
	w->last = screen();
	if (!w->last)
		return false;
	for (const char *const *h = w->has; *h; h++)
		if (!strstr(w->last, *h))
			return false;
	return !w->lacks || !strstr(w->last, w->lacks);
}

/* Waits for a screen with every string of @has (NULL-ended) and without
 * @lacks; returns it (malloc'ed) or fails the test. */
static char *wait_screen(const char *const *has, const char *lacks)
{
	struct want w = { has, lacks, NULL };

	if (!wait_until(screen_is, &w, 10000)) {
		fprintf(stderr, "screen:\n%s\n", w.last ? w.last : "(none)");
		free(w.last);
		fail();
	}
	return w.last;
}

/* Line of @text where @name is the first word after an optional "> ". */
static const char *row_of(const char *text, const char *name)
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
static const char *row_words(const char *text, const char *w0, const char *w1)
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

/* The VM rows of @text are in the order @a, @b, @c. */
static void assert_order(const char *text, const char *a, const char *b,
			 const char *c)
{
	const char *ra = row_of(text, a), *rb = row_of(text, b),
		   *rc = row_of(text, c);

	if (!(ra && rb && rc && ra < rb && rb < rc)) {
		fprintf(stderr, "want %s, %s, %s in:\n%s\n", a, b, c, text);
		fail();
	}
}

/* Word @i (0-based) of the line at @l equals @want. */
static bool word_is(const char *l, int i, const char *want)
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

static void check_word(const char *text, const char *line, int i,
		       const char *want)
{
	if (!word_is(line, i, want)) {
		fprintf(stderr, "want word %d = %s in:\n%s\n", i, want, text);
		fail();
	}
}

static bool session_gone(void *arg)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "tmux -L %s has-session -t top 2>/dev/null",
		 tmux_sock);
	return system(cmd) != 0;
}

static void send(const char *keys, bool literal)
{
	if (literal)
		assert_int_equal(
			tmux("send-keys", "-t", "top", "-l", keys, NULL), 0);
	else
		assert_int_equal(tmux("send-keys", "-t", "top", keys, NULL), 0);
}

/* Presses > until the header says "sort: @what". */
static char *sort_by(const char *what)
{
	const char *has[] = { what, NULL };
	char *s = NULL;

	for (int i = 0; i < 12; i++) {
		free(s);
		s = screen();
		if (s && strstr(s, what))
			return s;
		send(">", true);
		free(wait_screen((const char *[]){ "sort: ", NULL }, NULL));
	}
	free(s);
	return wait_screen(has, NULL);
}

static void top_on_a_terminal(void **state)
{
	char bin[256], cmd[512], *s;

	if (system("command -v tmux >/dev/null 2>&1")) {
		/* scripts/deps.sh installs it (deps/tests.txt) */
		fprintf(stderr, "SKIP top_on_a_terminal: tmux missing\n");
		skip();
	}
	snprintf(tmux_sock, sizeof(tmux_sock), "kvmprof-test-%d", getpid());
	snprintf(cmd, sizeof(cmd), "%s --socket %s top --interval 0.2",
		 bin_path("kvmprof", bin, sizeof(bin)), kpd.sock);
	assert_int_equal(tmux("new-session", "-d", "-s", "top", "-x", "160",
			      "-y", "40", cmd, NULL),
			 0);
	s = wait_screen((const char *[]){ "alpha", "beta", "gamma",
					  "keys:", NULL },
			NULL);
	free(s);
	/* from UEXITS/s to UEXITS: alpha 34, gamma 10, beta 2 */
	s = sort_by("sort: uexits desc");
	assert_order(s, "alpha", "gamma", "beta");
	check_word(s, row_of(s, "alpha"), 8, "34");
	free(s);
	/* PIO: beta 50, gamma 20, alpha 5; reversed */
	s = sort_by("sort: pio desc");
	assert_order(s, "beta", "gamma", "alpha");
	free(s);
	send("r", true);
	s = wait_screen((const char *[]){ "sort: pio asc", NULL }, NULL);
	assert_order(s, "alpha", "gamma", "beta");
	free(s);
	/* filter by name: only gamma */
	send("/gam", true);
	send("Enter", false);
	s = wait_screen((const char *[]){ "filter: gam", "gamma", NULL },
			"alpha");
	assert_null(row_of(s, "beta"));
	free(s);
	send("/", true);
	send("BSpace", false);
	send("BSpace", false);
	send("BSpace", false);
	send("Enter", false);
	s = wait_screen((const char *[]){ "alpha", "beta", NULL }, "filter:");
	free(s);
	/* drill into the selected VM (the only one shown): its vCPUs, exit
	 * reasons; other tests' VMs may be in this daemon too */
	send("/alpha", true);
	send("Enter", false);
	s = wait_screen((const char *[]){ "> alpha", NULL }, "gamma");
	free(s);
	send("Enter", false);
	s = wait_screen((const char *[]){ "VM alpha (pid", "exit reasons",
					  "MMIO", "Esc back", NULL },
			NULL);
	check_word(s, row_of(s, "0"), 6, "30"); /* UEXITS */
	check_word(s, row_of(s, "1"), 6, "4");
	check_word(s, row_of(s, "vm"), 7, "5"); /* PIO */
	check_word(s, row_words(s, "userspace", "IO"), 3, "30");
	check_word(s, row_words(s, "userspace", "MMIO"), 3, "4");
	free(s);
	send("Escape", false);
	s = wait_screen((const char *[]){ "> alpha", "sort: pio asc",
					  "filter: alpha", NULL },
			"exit reasons");
	free(s);
	/* q ends kvmprof, and with it the pane and the session */
	send("q", true);
	assert_true(wait_until(session_gone, NULL, 10000));
}

/* `kvmprof ARGS...` through a pipe */
static char *plain(const char *a1, const char *a2, const char *a3,
		   const char *a4)
{
	char bin[256], *out = NULL;
	char *argv[] = { bin_path("kvmprof", bin, sizeof(bin)),
			 "--socket",
			 kpd.sock,
			 "top",
			 "--count",
			 "2",
			 "--interval",
			 "0.1",
			 (char *)a1,
			 (char *)a2,
			 (char *)a3,
			 (char *)a4,
			 NULL };

	assert_int_equal(run_capture(argv, &out), 0);
	return out;
}

static void top_through_a_pipe(void **state)
{
	char *s = plain("--sort", "pio", NULL, NULL);
	const char *second;

	assert_null(strchr(s, '\033')); /* no terminal control */
	assert_null(strstr(s, "keys:"));
	second = strstr(s + 1, "kvmprof top"); /* two refreshes */
	assert_non_null(second);
	assert_order(second, "beta", "gamma", "alpha");
	free(s);
	s = plain("--filter", "gam", NULL, NULL);
	assert_non_null(row_of(s, "gamma"));
	assert_null(row_of(s, "alpha"));
	free(s);
	s = plain("--vm", "alpha", "--sort", "uexits");
	assert_non_null(strstr(s, "VM alpha (pid"));
	check_word(s, row_of(s, "0"), 6, "30");
	check_word(s, row_words(s, "userspace", "IO"), 3, "30");
	free(s);
}

static int group_setup(void **state)
{
	start_vms();
	return 0;
}

static int group_teardown(void **state)
{
	if (tmux_sock[0]) {
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "tmux -L %s kill-server 2>/dev/null",
			 tmux_sock);
		if (system(cmd) < 0)
			return -1;
	}
	stop_vms();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(top_through_a_pipe, group_setup,
						NULL),
		cmocka_unit_test_teardown(top_on_a_terminal, group_teardown),
	};

	return probes_e2e_main("test_e2e_top", tests, ARRAY_SIZE(tests));
}
