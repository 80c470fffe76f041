// SPDX-License-Identifier: GPL-2.0-only
/*
 * apfbench: the workload that `make qemu-bench` runs in its Linux guest (L2).
 * Static arm64 binary; prints one "BENCH {json}" line per measurement.
 *
 *   apfbench postcopy --base IPA --first K --pages N --delay-ms D --round R
 *	Post-copy-like: two tasks on the guest's single CPU. A compute task
 *	does fixed units of work (1000 steps of an LCG each) and counts them
 *	in shared memory. After measuring the compute task's rate alone, the
 *	"migrating" task reads pages K..K+N-1 of the userfaultfd-backed
 *	region at IPA (through /dev/mem, from EL0, as qemu-test's L2 does),
 *	each of which the VMM provides only after D ms, while the compute
 *	task does twice the work it can do alone in N * D ms. Reports the
 *	compute rate while the reads are outstanding relative to its rate
 *	alone (the mean of its rates alone before the reads and after it
 *	finished its work), how long the reads took, and when both tasks
 *	were done; and the CPU time (as the guest accounts it) of each task
 *	while the reads were outstanding: a vCPU that the host stops on a
 *	fault is time charged to the task that faulted.
 *
 *   apfbench touch --mb M --rounds R
 *	Faults that never wait: R "fresh" passes, each writing one byte to
 *	every page of a new anonymous mapping of M MiB that it keeps (first
 *	touch of guest memory that the host has not provided yet: each page
 *	is a stage-2 fault that the host resolves at once), then R
 *	"resident" passes that do the same and unmap (the guest reuses pages
 *	the host already provided: no stage-2 fault). Reports ns per page
 *	for each pass. Around each pass it writes to the VMM's doorbell
 *	(DOORBELL + 0x100), at which the VMM prints the vCPU's exit count:
 *	the number of stage-2 faults a pass took is that difference, less
 *	the few exits (timer) of a resident pass.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE		4096UL
#define PATTERN		0x5a5a0000ULL
#define DOORBELL	0x0a000000UL
#define DB_MARK		0x100

struct shared {
	volatile uint64_t count;	/* units of work done */
	volatile uint64_t target;	/* stop at this count (phase 2) */
	volatile int64_t t_done;	/* ns, when target was reached */
	volatile int phase;		/* 0 wait, 1 run, 2 run to target, 3 stop */
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void die(const char *what)
{
	printf("apfbench: %s: %s\n", what, strerror(errno));
	exit(2);
}

static uint64_t parse(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	if (!*s || *end) {
		printf("apfbench: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static void compute(struct shared *sh)
{
	uint64_t x = 1, c;
	int i;

	while (sh->phase == 0)
		;
	for (;;) {
		for (i = 0; i < 1000; i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			asm volatile("" : "+r"(x));
		}
		c = sh->count + 1;
		sh->count = c;
		if (sh->phase == 2 && c >= sh->target && !sh->t_done)
			sh->t_done = now_ns();
		if (sh->phase == 3)
			break;
	}
	_exit(x == 0);
}

static int64_t cpu_ns(clockid_t clock)
{
	struct timespec ts;

	if (clock_gettime(clock, &ts))
		die("clock_gettime");
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The compute task's units of work per ns while this task sleeps @ms */
static double solo_rate(struct shared *sh, int ms)
{
	int64_t t1 = now_ns();
	uint64_t c1 = sh->count;

	sleep_ms(ms);
	return (double)(sh->count - c1) / (double)(now_ns() - t1);
}

/* Page-aligned window of /dev/mem at physical address @pa */
static volatile void *map_phys(uint64_t pa, size_t len)
{
	void *p;
	int fd;

	fd = open("/dev/mem", O_RDWR | O_SYNC);
	if (fd < 0)
		die("open /dev/mem");
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, pa);
	if (p == MAP_FAILED)
		die("mmap /dev/mem");
	close(fd);
	return p;
}

static int cmd_postcopy(int argc, char **argv)
{
	uint64_t base = 0x100000000ULL, first = 0, npages = 8, delay_ms = 20;
	uint64_t round = 0, c0, cr, bad = 0, i;
	int64_t t0, tr, tdone, max_page = 0, tp;
	int64_t cpu_self0, cpu_child0, cpu_self, cpu_child;
	clockid_t child_clock;
	volatile uint64_t *pages;
	struct shared *sh;
	double rate, rate_before, rate_after, window;
	int status, calib_ms = 300;
	pid_t pid;

	for (i = 2; i + 1 < (uint64_t)argc; i += 2) {
		if (!strcmp(argv[i], "--base"))
			base = parse(argv[i + 1]);
		else if (!strcmp(argv[i], "--first"))
			first = parse(argv[i + 1]);
		else if (!strcmp(argv[i], "--pages"))
			npages = parse(argv[i + 1]);
		else if (!strcmp(argv[i], "--delay-ms"))
			delay_ms = parse(argv[i + 1]);
		else if (!strcmp(argv[i], "--round"))
			round = parse(argv[i + 1]);
		else
			break;
	}
	if (i != (uint64_t)argc || !npages) {
		printf("usage: apfbench postcopy --base IPA --first K --pages N --delay-ms D --round R\n");
		return 2;
	}

	pages = map_phys(base + first * PAGE, npages * PAGE);
	sh = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap shared");
	memset(sh, 0, sizeof(*sh));
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		compute(sh);

	/* The compute task's rate alone, before the reads */
	sh->phase = 1;
	sleep_ms(20);
	rate_before = solo_rate(sh, calib_ms);
	rate = rate_before;

	/* Twice the work it can do alone while the reads are expected to take */
	window = (double)npages * delay_ms * 1e6;
	t0 = now_ns();
	c0 = sh->count;
	sh->target = c0 + (uint64_t)(2 * rate * window);
	sh->phase = 2;
	if (clock_getcpuclockid(pid, &child_clock))
		die("clock_getcpuclockid");
	cpu_self0 = cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
	cpu_child0 = cpu_ns(child_clock);
	tp = t0;
	for (i = 0; i < npages; i++) {
		uint64_t v = pages[(i * PAGE) / sizeof(uint64_t)];
		int64_t t = now_ns();

		if (v != PATTERN + first + i)
			bad++;
		if (t - tp > max_page)
			max_page = t - tp;
		tp = t;
	}
	tr = now_ns();
	cr = sh->count;
	cpu_self = cpu_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu_self0;
	cpu_child = cpu_ns(child_clock) - cpu_child0;
	while (!sh->t_done)
		sleep_ms(5);
	tdone = sh->t_done;

	/*
	 * Its rate alone again, after: the reference for the rate during the
	 * reads is the mean of both, which follows slow drifts of the host.
	 */
	rate_after = solo_rate(sh, calib_ms);
	sh->phase = 3;
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	rate = (rate_before + rate_after) / 2;

	printf("BENCH {\"test\":\"postcopy\",\"round\":%" PRIu64 ",\"pages\":%" PRIu64
	       ",\"delay_ms\":%" PRIu64 ",\"bad_pages\":%" PRIu64
	       ",\"solo_units_per_ms\":%.1f,\"solo_before_after\":%.3f"
	       ",\"reads_ms\":%.2f,\"max_page_ms\":%.2f"
	       ",\"reader_cpu_ms\":%.2f,\"compute_cpu_ms\":%.2f"
	       ",\"compute_during_reads\":%.4f,\"compute_ms\":%.2f,\"makespan_ms\":%.2f"
	       ",\"ideal_makespan_ms\":%.2f}\n",
	       round, npages, delay_ms, bad, rate * 1e6, rate_after / rate_before,
	       (tr - t0) / 1e6, max_page / 1e6, cpu_self / 1e6, cpu_child / 1e6,
	       ((double)(cr - c0) / (double)(tr - t0)) / rate, (tdone - t0) / 1e6, ((tr > tdone ? tr : tdone) - t0) / 1e6,
	       2 * window / 1e6);
	return bad || !WIFEXITED(status) || WEXITSTATUS(status);
}

/*
 * Write one byte to each page of a new anonymous mapping of @len bytes,
 * between two doorbell writes (at which the VMM prints the exit count), and
 * report ns per page. The mapping stays unless @unmap.
 */
static void touch(volatile uint32_t *db, size_t len, int unmap, const char *pass,
		  int round)
{
	int64_t t0, t1;
	size_t off;
	char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap anonymous");
	db[DB_MARK / 4] = 1;
	t0 = now_ns();
	for (off = 0; off < len; off += PAGE)
		((volatile char *)p)[off] = 1;
	t1 = now_ns();
	db[DB_MARK / 4] = 2;
	if (unmap)
		munmap(p, len);
	if (round >= 0)
		printf("BENCH {\"test\":\"touch\",\"pass\":\"%s\",\"round\":%d"
		       ",\"pages\":%zu,\"ns_per_page\":%.0f}\n",
		       pass, round, len / PAGE, (double)(t1 - t0) / (double)(len / PAGE));
}

static int cmd_touch(int argc, char **argv)
{
	uint64_t mb = 16, rounds = 3;
	volatile uint32_t *db;
	int i;

	for (i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--mb"))
			mb = parse(argv[i + 1]);
		else if (!strcmp(argv[i], "--rounds"))
			rounds = parse(argv[i + 1]);
		else
			break;
	}
	if (i != argc || !mb || !rounds) {
		printf("usage: apfbench touch --mb M --rounds R\n");
		return 2;
	}
	db = map_phys(DOORBELL, PAGE);

	/*
	 * Fresh passes first, each keeping its pages, so that each takes
	 * pages the guest never used: the host has not provided them yet.
	 * Then resident passes that free their pages, which the next pass
	 * reuses: the host provided them already (the first one, a warm-up,
	 * makes sure of it).
	 */
	for (i = 0; i < (int)rounds; i++)
		touch(db, mb << 20, 0, "fresh", i);
	touch(db, mb << 20, 1, "warm-up", -1);
	for (i = 0; i < (int)rounds; i++)
		touch(db, mb << 20, 1, "resident", i);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "postcopy"))
		return cmd_postcopy(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "touch"))
		return cmd_touch(argc, argv);
	printf("usage: apfbench postcopy|touch ...\n");
	return 2;
}
