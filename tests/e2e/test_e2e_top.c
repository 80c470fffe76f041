// SPDX-License-Identifier: GPL-2.0-only
/*
 * `kvmprof top` as a user sees it: on a terminal (a tmux pane, read back
 * with capture-pane) against a private kvmprofd whose VMs are made by
 * injection (BPF_PROG_TEST_RUN from child processes named alpha, beta and
 * gamma, which stay alive), and plainly through a pipe.  The expected rows
 * and their order come from what was injected; STEAL% from the kernel's
 * /proc/PID/task/TID/schedstat of two busy vCPU threads sharing a CPU.
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
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "inject.h"
#include "probes_e2e.h"
#include "schedstat.h"
#include "textrows.h"
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

/* The header's "sort: COLUMN DIR" of screen @s, into @out */
static void sort_field(const char *s, char *out, size_t size)
{
	const char *p = s ? strstr(s, "sort: ") : NULL;
	size_t n = p ? strcspn(p, "-\n") : 0;

	snprintf(out, size, "%.*s", (int)n, p ? p : "");
}

/* Presses > until the header says "sort: @what", waiting after each press
 * until the header has changed, so that no press goes unseen. */
static char *sort_by(const char *what)
{
	char *s = screen(), cur[64];

	for (int i = 0; i < 2 * 16 && !(s && strstr(s, what)); i++) {
		sort_field(s, cur, sizeof(cur));
		free(s);
		send(">", true);
		s = wait_screen((const char *[]){ "sort: ", NULL },
				*cur ? cur : NULL);
	}
	if (s && strstr(s, what))
		return s;
	free(s);
	return wait_screen((const char *[]){ what, NULL }, NULL);
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
	/* STEAL%: alpha's vCPUs did not run between refreshes */
	s = sort_by("sort: steal%");
	assert_non_null(strstr(s, "STEAL%"));
	check_word(s, row_of(s, "alpha"), 12, "-");
	free(s);
	/* q ends kvmprof, and with it the pane and the session */
	send("q", true);
	assert_true(wait_until(session_gone, NULL, 10000));
}

/* argv[13] of `kvmprof top --count 2 --interval @iv ARGS...` (NULL-ended;
 * @bin: 256 bytes for its path) */
static void top_argv(char **argv, char *bin, const char *iv, const char *a1,
		     const char *a2, const char *a3, const char *a4)
{
	const char *a[] = { bin_path("kvmprof", bin, 256),
			    "--socket",
			    kpd.sock,
			    "top",
			    "--count",
			    "2",
			    "--interval",
			    iv,
			    a1,
			    a2,
			    a3,
			    a4,
			    NULL };

	memcpy(argv, a, sizeof(a));
}

/* `kvmprof top ARGS...` through a pipe */
static char *plain(const char *a1, const char *a2, const char *a3,
		   const char *a4)
{
	char bin[256], *out = NULL, *argv[13];

	top_argv(argv, bin, "0.1", a1, a2, a3, a4);
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

/* CPU time each of the two contended threads of steal_column spends busy */
#define BUSY_MS 200

struct busy {
	const char *name;
	pid_t pid;
	int go;	   /* write end: 'g' starts it, EOF ends it */
	int ready; /* read end: 'r' registered, 'd' done */
	uint64_t run0, delay0, run1, delay1;
};

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A VM @b->name whose one vCPU thread, on @cpu, is busy for BUSY_MS of CPU
 * time after 'g', then blocks until the test ends. */
static void start_busy(struct busy *b, int cpu, struct busy *others, int n)
{
	int go[2], ready[2];
	char c;

	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(ready), 0);
	b->pid = fork();
	assert_true(b->pid >= 0);
	if (!b->pid) {
		uint64_t poll[2] = { 1, 0 }; /* kvm_halt_poll_ns(grow, 0) */
		int prog = find_prog("kp_halt_poll_ns", min_id);
		cpu_set_t set;

		for (int i = 0; i < n; i++)
			close(others[i].go);
		close(go[1]);
		close(ready[0]);
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		prctl(PR_SET_NAME, b->name, 0, 0, 0);
		c = 'r';
		if (prog < 0 || sched_setaffinity(0, sizeof(set), &set) ||
		    run_raw_tp(prog, poll, 2) || write(ready[1], &c, 1) != 1 ||
		    read(go[0], &c, 1) != 1)
			_exit(2);
		while (thread_cpu_ns() < BUSY_MS * 1000000ull)
			;
		c = 'd';
		if (write(ready[1], &c, 1) != 1)
			_exit(3);
		while (read(go[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(go[0]);
	close(ready[1]);
	b->go = go[1];
	b->ready = ready[0];
	assert_int_equal(read(b->ready, &c, 1), 1);
	assert_int_equal(c, 'r');
}

static bool both_blocked(void *arg)
{
	struct busy *b = arg;

	return task_blocked(b[0].pid) && task_blocked(b[1].pid);
}

static bool vm_known(const cJSON *j, const void *arg)
{
	return j != NULL;
}

/*
 * STEAL% of a VM is its vCPUs' run delay over their run time plus run
 * delay between two refreshes.  Two VMs' vCPU threads share one CPU, busy
 * for BUSY_MS of CPU time each, entirely between the first and the second
 * refresh of `kvmprof top --count 2` (checked: the second had not come
 * when both were done): each one's STEAL% is what the kernel's schedstat
 * says of the same window, within 3 points (run time and delay agree
 * within 2 % + 5 ms, test_e2e_steal), and they wait for each other
 * (more than 20 %).  --sort steal% puts them above the VMs whose vCPUs
 * did not run, shown as "-".
 */
static void steal_column(void **state)
{
	struct busy b[2] = { { .name = "stealx" }, { .name = "stealy" } };
	char bin[256], *out = NULL, path[64], *argv[13];
	struct pollfd pfd = { .events = POLLIN };
	const char *second, *row;
	int cpu = -1, fd[2];
	size_t len = 0;
	cpu_set_t set;
	pid_t top;

	top_argv(argv, bin, "6", "--sort", "steal%", NULL, NULL);
	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			cpu = c;
	start_busy(&b[0], cpu, NULL, 0);
	start_busy(&b[1], cpu, b, 1);
	for (int i = 0; i < 2; i++) {
		cJSON *j;

		snprintf(path, sizeof(path), "/v1/vms/%d", b[i].pid);
		j = kpd_wait(&kpd, path, vm_known, NULL, 10000);
		assert_non_null(j);
		cJSON_Delete(j);
	}
	assert_true(wait_until(both_blocked, b, 10000));
	for (int i = 0; i < 2; i++)
		assert_int_equal(schedstat(b[i].pid, &b[i].run0, &b[i].delay0),
				 0);
	assert_int_equal(pipe(fd), 0);
	top = fork();
	assert_true(top >= 0);
	if (!top) {
		close(fd[0]);
		if (dup2(fd[1], STDOUT_FILENO) < 0)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fd[1]);
	/* the first refresh, then the busy phase */
	while (!(out && row_of(out, "stealx") && row_of(out, "stealy")))
		assert_true(read_more(fd[0], &out, &len));
	for (int i = 0; i < 2; i++)
		assert_int_equal(write(b[i].go, "g", 1), 1);
	for (int i = 0; i < 2; i++) {
		char c;

		assert_int_equal(read(b[i].ready, &c, 1), 1);
		assert_int_equal(c, 'd');
	}
	assert_true(wait_until(both_blocked, b, 10000));
	for (int i = 0; i < 2; i++)
		assert_int_equal(schedstat(b[i].pid, &b[i].run1, &b[i].delay1),
				 0);
	pfd.fd = fd[0];
	if (poll(&pfd, 1, 0) != 0)
		fail_msg("the busy phase outlasted top's interval: no window");
	while (read_more(fd[0], &out, &len))
		;
	close(fd[0]);
	assert_int_equal(wait_exit(top), 0);
	second = strstr(out + 1, "kvmprof top");
	assert_non_null(second);
	if (!strstr(second, "STEAL%"))
		fail_msg("no STEAL%% column in:\n%s", out);
	for (int i = 0; i < 2; i++) {
		double run = (double)(b[i].run1 - b[i].run0);
		double delay = (double)(b[i].delay1 - b[i].delay0);
		double want = 100 * delay / (run + delay), got = -1;
		char word[32];

		row = row_of(second, b[i].name);
		assert_non_null(row);
		/* NAME PID STATE VCPUS 4 rates 4 totals STEAL% */
		assert_int_equal(sscanf(row,
					"%*s %*s %*s %*s %*s %*s %*s %*s "
					"%*s %*s %*s %*s %31s",
					word),
				 1);
		got = atof(word);
		fprintf(stderr, "%s: STEAL%% %s, schedstat %.1f %%\n",
			b[i].name, word, want);
		assert_true(want > 20);
		assert_true(got >= want - 3 && got <= want + 3);
		assert_true(row < row_of(second, "alpha"));
	}
	check_word(second, row_of(second, "alpha"), 12, "-");
	free(out);
	for (int i = 0; i < 2; i++) {
		close(b[i].go);
		close(b[i].ready);
		assert_int_equal(wait_exit(b[i].pid), 0);
	}
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
		cmocka_unit_test(steal_column),
		cmocka_unit_test_teardown(top_on_a_terminal, group_teardown),
	};

	return probes_e2e_main("test_e2e_top", tests, ARRAY_SIZE(tests));
}
