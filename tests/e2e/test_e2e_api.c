// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HTTP API's handling of what clients send, against a private
 * kvmprofd on its Unix socket (BPF, no guest: runs without /dev/kvm).
 * Expected statuses come from the API's documented contract (README.md,
 * "API"), not from the daemon.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <kvmprof/client.h>
#include <kvmprof/util.h>
#include "harness.h"
#include "wait.h"

static struct kpd kpd;

/* GET @path: the HTTP status if the body is JSON and, unless the status
 * is 200, an error object with that status; else -1 (-errno: no answer). */
static long try_status(const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	long status = 0;
	cJSON *j;
	int r;

	r = kp_api_get_raw(kpd.sock, path, &buf, &len, &status, NULL, NULL, 0);
	if (r < 0)
		return r;
	j = cJSON_ParseWithLength((const char *)buf, len);
	if (!j || (status != 200 &&
		   (!cJSON_IsString(cJSON_GetObjectItem(j, "error")) ||
		    cJSON_GetNumberValue(cJSON_GetObjectItem(j, "status")) !=
			    status))) {
		fprintf(stderr, "%s: %ld, body %.*s\n", path, status, (int)len,
			buf ? (char *)buf : "");
		status = -1;
	}
	cJSON_Delete(j);
	free(buf);
	return status;
}

static long get_status(const char *path)
{
	long status = try_status(path);

	if (status < 0)
		fail_msg("%s: no JSON answer (%ld)", path, status);
	return status;
}

/* A private daemon with @args (NULL-ended) after the tests' own. */
static void start(const char *const *args)
{
	const char *all[16] = { "--interval-ms", "100" };
	size_t n = 2;

	for (; args && *args && n < ARRAY_SIZE(all) - 1; args++)
		all[n++] = *args;
	all[n] = NULL;
	assert_int_equal(kpd_start(&kpd, all), 0);
}

static void malformed_query_is_400(void **state)
{
	static const struct {
		const char *path;
		long want;
	} cases[] = {
		{ "/v1/status?refresh=1", 200 },
		{ "/v1/vms?refresh=0", 200 },
		{ "/v1/vms?refresh=1", 200 },
		{ "/v1/status?refresh=abc", 400 },
		{ "/v1/vms?refresh=2", 400 },
		{ "/v1/vms?refresh=", 400 },
		{ "/v1/vms?refresh", 400 },
		{ "/v1/vms?refresh=-1", 400 },
		{ "/v1/vms?refresh=1&refresh=x", 400 },
		{ "/v1/vms?refesh=1", 400 }, /* unknown parameter */
		{ "/v1/vms?cursor=0", 400 }, /* not for this path */
		{ "/v1/vms/nosuch?cursor=0", 400 },
		{ "/v1/vms/nosuch/spe/raw?cursor=abc", 400 },
		{ "/v1/vms/nosuch/spe/raw?cursor=-1", 400 },
		{ "/v1/vms/nosuch/spe/raw?cursor=+1", 400 },
		{ "/v1/vms/nosuch/spe/raw?cursor=%201", 400 },
		{ "/v1/vms/nosuch/spe/raw?cursor=1x", 400 },
		{ "/v1/vms/nosuch/spe/raw?cursor=", 400 },
		{ "/v1/vms/nosuch/spe/raw?cursor=18446744073709551616", 400 },
		/* well-formed: the VM is what is missing */
		{ "/v1/vms/nosuch/spe/raw?cursor=18446744073709551615", 404 },
		{ "/v1/vms/nosuch/spe/raw?cursor=0&refresh=1", 404 },
		{ "/v1/vms/nosuch/kvm-stats?cursor=0", 400 },
		{ "/v1/vms/nosuch/kvm-stats?refresh=1", 404 },
		{ "/v1/vms/nosuch/kvm-stats/x", 404 },
		{ "/v1/nosuch?refresh=1", 404 },
	};

	start(NULL);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		long got = get_status(cases[i].path);

		if (got != cases[i].want)
			fail_msg("%s: %ld, not %ld", cases[i].path, got,
				 cases[i].want);
	}
	assert_int_equal(kpd_stop(&kpd), 0);
}

/* A connection to the API that sends nothing: its fd, or -errno. */
static int idle_connection(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (strlen(kpd.sock) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, kpd.sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int r = -errno;

		if (fd >= 0)
			close(fd);
		return r;
	}
	return fd;
}

/* Sockets the daemon has open (listening and accepted). */
static int daemon_sockets(void)
{
	char dir[64], path[sizeof(dir) + 256], target[64];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)kpd.pid);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		ssize_t l;

		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		l = readlink(path, target, sizeof(target) - 1);
		n += l > 0 && !strncmp(target, "socket:", 7);
	}
	closedir(d);
	return n;
}

static bool accepted_at_least(void *arg)
{
	return daemon_sockets() >= *(int *)arg;
}

#define HELD 100 /* more than the old fixed limit of 64 */

/*
 * As user nobody: hold HELD idle connections (more than the per-uid
 * limit), then GET /v1/status on one more; that status (-1: not a JSON
 * error) goes to @out, and the connections stay until @in closes.
 */
static void nobody_holds(gid_t gid, int out, int in)
{
	long st;
	char c;

	if (setgroups(1, &gid) || setgid(gid) || setuid(65534))
		_exit(2);
	for (int i = 0; i < HELD; i++)
		if (idle_connection() < 0)
			_exit(3);
	st = try_status("/v1/status");
	if (write(out, &st, sizeof(st)) != sizeof(st))
		_exit(4);
	while (read(in, &c, 1) > 0)
		;
	_exit(0);
}

/*
 * Idle connections held open by one user neither lock out the others nor
 * that user: each new client gets an answer at once, 200 (another user)
 * or a 503 JSON error (the user over its per-uid limit).
 */
static void idle_connections_do_not_lock_out(void **state)
{
	static const char *const args[] = { "--socket-group", "nogroup",
					    "--api-idle-timeout-s", "60",
					    NULL };
	const struct group *g = getgrnam("nogroup");
	int to_child[2], from_child[2], want;
	long st = 0;
	uint64_t t0;
	pid_t pid;

	if (!g)
		skip();
	start(args);
	/* let nobody reach the socket (mode 0660, group nogroup) */
	assert_int_equal(chmod(kpd.dir, 0755), 0);
	want = 1 + HELD; /* the listening socket and the held ones */
	assert_int_equal(pipe(to_child), 0);
	assert_int_equal(pipe(from_child), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		close(to_child[1]);
		close(from_child[0]);
		nobody_holds(g->gr_gid, from_child[1], to_child[0]);
	}
	close(to_child[0]);
	close(from_child[1]);
	/* its own request beyond its limit: 503, a JSON error */
	assert_int_equal(read(from_child[0], &st, sizeof(st)), sizeof(st));
	assert_int_equal(st, 503);
	/* all HELD accepted and still open (idle timeout 60 s) */
	assert_true(wait_until(accepted_at_least, &want, 5000));
	/* another user is served, well before any idle connection closes */
	t0 = kp_mono_ms();
	assert_int_equal(get_status("/v1/status"), 200);
	assert_true(kp_mono_ms() - t0 < 5000);
	assert_true(daemon_sockets() >= want);
	close(to_child[1]);
	close(from_child[0]);
	assert_int_equal(wait_exit(pid), 0);
	assert_int_equal(kpd_stop(&kpd), 0);
}

/* Until the daemon closes @fd (true), sending a byte of an unfinished
 * header every 100 ms: never idle for libmicrohttpd. */
struct trickle {
	int fd;
	unsigned int sent;
};

static bool closed_while_trickling(void *arg)
{
	struct trickle *t = arg;
	char c;

	if (recv(t->fd, &c, 1, MSG_DONTWAIT) == 0)
		return true; /* EOF: the daemon closed it */
	if (send(t->fd, "a", 1, MSG_NOSIGNAL) != 1)
		return true;
	t->sent++;
	usleep(100000);
	return false;
}

static void trickled_request_is_cut_off(void **state)
{
	static const char *const args[] = { "--api-idle-timeout-s", "1", NULL };
	static const char head[] = "GET /v1/status HTTP/1.1\r\nX-Slow: ";
	struct trickle t;
	double t0;

	start(args);
	t.fd = idle_connection();
	t.sent = 0;
	assert_true(t.fd >= 0);
	t0 = kp_mono_s();
	assert_int_equal(send(t.fd, head, sizeof(head) - 1, MSG_NOSIGNAL),
			 (ssize_t)sizeof(head) - 1);
	/* closed although never idle for 1 s, not before the 1 s deadline
	 * (the daemon looks at each byte's arrival: 1 s plus one byte) */
	assert_true(wait_until(closed_while_trickling, &t, 10000));
	assert_true(kp_mono_s() - t0 >= 1.0);
	assert_true(t.sent >= 5);
	close(t.fd);
	/* and the daemon serves on */
	assert_int_equal(get_status("/v1/status"), 200);
	assert_int_equal(kpd_stop(&kpd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(malformed_query_is_400),
		cmocka_unit_test(idle_connections_do_not_lock_out),
		cmocka_unit_test(trickled_request_is_cut_off),
	};
	int r = e2e_begin_bpf();

	return r ? r : cmocka_run_group_tests(tests, NULL, NULL);
}
