// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmprofd's API under load and abuse, for a while (KP_SOAK_SECONDS,
 * default 10): concurrent clients (GET /v1/status, /v1/vms and one VM's
 * profile with a harvest, each on a new connection), a client sending
 * malformed requests (bad query values, unknown paths and methods, junk
 * bytes, an oversized header), and slow clients that send a request one
 * byte at a time (the idle timeout must close them).  The daemon is a real
 * one with one VM made by injection.  Reports latency percentiles,
 * request rates, answers by status, how slow clients ended and the
 * daemon's RSS over the run; the daemon must still answer at the end.
 * Prints `BENCH {json}`.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include <kvmprof/client.h>
#include <kvmprof/util.h>
#include "harness.h"
#include "inject.h"

#define FAST 16
#define SLOW 24
#define MAX_LAT (1u << 20)

static struct kpd d;
static double deadline;
static char vm_path[64];

struct fast {
	pthread_t th;
	double *lat; /* seconds */
	size_t n;
	unsigned long by_class[6]; /* 0: no answer, 1..5: NXX */
	unsigned long s503;
};

struct slow {
	pthread_t th;
	bool closed; /* by the server */
	double held; /* seconds until then */
};

struct bad {
	pthread_t th;
	unsigned long sent, answered_4xx, answered_5xx, dropped;
};

static int dial(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (strlen(d.sock) >= sizeof(a.sun_path)) {
		close(fd);
		return -1;
	}
	memcpy(a.sun_path, d.sock, strlen(d.sock) + 1);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One request on a new connection: the answer's status, or 0 if none. */
static int request(const char *req, size_t len)
{
	char buf[65536];
	size_t got = 0;
	ssize_t n;
	int fd = dial(), status = 0;

	if (fd < 0)
		return 0;
	for (size_t off = 0; off < len; off += (size_t)n) {
		n = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;
	}
	/* to the end of the answer (Connection: close) */
	while ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0) {
		got += (size_t)n;
		if (got > 16) /* keep the status line, drop the rest */
			got = 16;
	}
	buf[got] = '\0';
	close(fd);
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		status = 0;
	return status;
}

static void *fast_client(void *arg)
{
	struct fast *f = arg;
	const char *paths[] = { "/v1/status", "/v1/vms", vm_path };
	char req[256];

	for (unsigned i = 0; kp_mono_s() < deadline; i++) {
		int len = snprintf(req, sizeof(req),
				   "GET %s HTTP/1.1\r\nHost: x\r\n"
				   "Connection: close\r\n\r\n",
				   paths[i % 3]);
		double t0 = kp_mono_s();
		int s = request(req, (size_t)len);

		if (f->n < MAX_LAT)
			f->lat[f->n++] = kp_mono_s() - t0;
		f->by_class[s >= 100 && s < 600 ? s / 100 : 0]++;
		f->s503 += s == 503;
	}
	return NULL;
}

static void *bad_client(void *arg)
{
	static char big[40000 + 128], junk[256];
	struct bad *b = arg;
	const char *reqs[] = {
		"GET /v1/vms?refresh=abc HTTP/1.1\r\nConnection: close\r\n\r\n",
		"GET /v1/vms?cursor=-1 HTTP/1.1\r\nConnection: close\r\n\r\n",
		"GET /v1/vms?nope=1 HTTP/1.1\r\nConnection: close\r\n\r\n",
		"GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n",
		"GET /v1/vms/%zz HTTP/1.1\r\nConnection: close\r\n\r\n",
		"POST /v1/vms HTTP/1.1\r\nContent-Length: 5\r\n"
		"Connection: close\r\n\r\nhello",
		"BLAH\r\n\r\n",
		big,
		junk,
	};
	int len;

	len = snprintf(big, sizeof(big), "GET /v1/status HTTP/1.1\r\nX-Big: ");
	memset(big + len, 'a', 40000);
	strcpy(big + len + 40000, "\r\n\r\n");
	for (size_t i = 0; i < sizeof(junk) - 1; i++)
		junk[i] = (char)(1 + (i * 37 + 11) % 254);
	for (unsigned i = 0; kp_mono_s() < deadline; i++) {
		const char *r = reqs[i % ARRAY_SIZE(reqs)];
		int s = request(r, strlen(r));

		b->sent++;
		b->answered_4xx += s >= 400 && s < 500;
		b->answered_5xx += s >= 500;
		b->dropped += s == 0;
	}
	return NULL;
}

/* Sends a request a byte every 200 ms until the server closes. */
static void *slow_client(void *arg)
{
	static const char req[] = "GET /v1/status HTTP/1.1\r\nX-Slow: ";
	struct slow *s = arg;
	double t0 = kp_mono_s();
	int fd = dial();
	char c;

	if (fd < 0)
		return NULL;
	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) < 0)
		goto out;
	while (kp_mono_s() < deadline) {
		struct timeval tv = { .tv_usec = 200000 };

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (read(fd, &c, 1) >= 0 || errno != EAGAIN ||
		    send(fd, "a", 1, MSG_NOSIGNAL) != 1) {
			s->closed = true; /* EOF, an answer, or reset */
			break;
		}
	}
out:
	s->held = kp_mono_s() - t0;
	close(fd);
	return NULL;
}

static long rss_kb(pid_t pid)
{
	char path[64], line[128];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(void)
{
	static const char *const extra[] = { "--interval-ms", "100",
					     "--load-unavailable", NULL };
	static struct fast fast[FAST];
	static struct slow slow[SLOW];
	struct bad bad = { 0 };
	const char *why = bpf_missing();
	const char *env = getenv("KP_SOAK_SECONDS");
	double secs = env ? atof(env) : 10, t0, held = 0, *all;
	uint64_t pio[4] = { 1, 0x3f8, 1, 1 };
	unsigned long cls[6] = { 0 }, s503 = 0, closed = 0;
	long rss0, rss, rss_max;
	size_t n = 0;
	uint32_t min_id;
	int prog, alive;
	cJSON *st = NULL;
	long status = 0;

	if (why) {
		fprintf(stderr, "api_soak_bench: SKIPPED (%s)\n", why);
		return 0;
	}
	if (secs < 1 || secs > 3600)
		secs = 10;
	signal(SIGPIPE, SIG_IGN);
	min_id = max_prog_id();
	if (kpd_start(&d, extra))
		return 1;
	/* one VM (this process) with counters to render */
	prog = find_prog_of(d.pid, "kp_pio", min_id);
	for (int i = 0; prog >= 0 && i < 100; i++)
		run_raw_tp(prog, pio, 4);
	snprintf(vm_path, sizeof(vm_path), "/v1/vms/%d?refresh=1", getpid());
	rss0 = rss_max = rss_kb(d.pid);
	t0 = kp_mono_s();
	deadline = t0 + secs;
	for (int i = 0; i < FAST; i++) {
		fast[i].lat = malloc(MAX_LAT * sizeof(double));
		if (!fast[i].lat ||
		    pthread_create(&fast[i].th, NULL, fast_client, &fast[i]))
			return 1;
	}
	for (int i = 0; i < SLOW; i++)
		if (pthread_create(&slow[i].th, NULL, slow_client, &slow[i]))
			return 1;
	if (pthread_create(&bad.th, NULL, bad_client, &bad))
		return 1;
	while (kp_mono_s() < deadline) {
		rss = rss_kb(d.pid);
		rss_max = rss > rss_max ? rss : rss_max;
		usleep(100000);
	}
	for (int i = 0; i < FAST; i++)
		pthread_join(fast[i].th, NULL);
	for (int i = 0; i < SLOW; i++) {
		pthread_join(slow[i].th, NULL);
		closed += slow[i].closed;
		held = slow[i].held > held ? slow[i].held : held;
	}
	pthread_join(bad.th, NULL);
	for (int i = 0; i < FAST; i++)
		n += fast[i].n;
	all = malloc((n ? n : 1) * sizeof(*all));
	if (!all)
		return 1;
	n = 0;
	for (int i = 0; i < FAST; i++) {
		memcpy(all + n, fast[i].lat, fast[i].n * sizeof(*all));
		n += fast[i].n;
		for (int c = 0; c < 6; c++)
			cls[c] += fast[i].by_class[c];
		s503 += fast[i].s503;
		free(fast[i].lat);
	}
	qsort(all, n, sizeof(*all), cmp_double);
	rss = rss_kb(d.pid);
	alive = !kp_api_get(d.sock, "/v1/status", &st, &status) &&
		status == 200;
	cJSON_Delete(st);
	printf("BENCH {\"bench\":\"api_soak\",\"seconds\":%.1f,"
	       "\"clients\":%d,\"slow_clients\":%d,\"requests\":%zu,"
	       "\"requests_per_s\":%.0f,\"latency_p50_ms\":%.2f,"
	       "\"latency_p99_ms\":%.2f,\"latency_max_ms\":%.2f,"
	       "\"answers_2xx\":%lu,\"answers_4xx\":%lu,\"answers_503\":%lu,"
	       "\"answers_5xx_other\":%lu,\"no_answer\":%lu,"
	       "\"malformed_sent\":%lu,\"malformed_4xx\":%lu,"
	       "\"malformed_5xx\":%lu,\"malformed_dropped\":%lu,"
	       "\"slow_closed_by_server\":%lu,\"slow_held_max_s\":%.1f,"
	       "\"rss_start_kb\":%ld,\"rss_max_kb\":%ld,\"rss_end_kb\":%ld,"
	       "\"daemon_answers_after\":%s}\n",
	       secs, FAST, SLOW, n, (double)n / secs, n ? all[n / 2] * 1e3 : 0,
	       n ? all[n * 99 / 100] * 1e3 : 0, n ? all[n - 1] * 1e3 : 0,
	       cls[2], cls[4], s503, cls[5] - s503, cls[0], bad.sent,
	       bad.answered_4xx, bad.answered_5xx, bad.dropped, closed, held,
	       rss0, rss_max, rss, alive ? "true" : "false");
	free(all);
	kpd_stop(&d);
	return alive ? 0 : 1;
}
