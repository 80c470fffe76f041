// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmprofd under systemd, end to end on real KVM: the notification
 * protocol (READY, STATUS, WATCHDOG, RELOADING, STOPPING) and
 * configuration reloads (SIGHUP: applied, or rejected naming FILE:LINE).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "http.h"
#include "svc.h"
#include "wait.h"

/* /v1/status counts one reload at *@arg ("service.reloads_ok", ...) */
static bool one_reload(const cJSON *st, const void *arg)
{
	return jnum(st, arg) == 1;
}

/* sd_notify: READY=1 once the probes are attached, WATCHDOG=1 at half the
 * period, RELOADING=1/READY=1 around SIGHUP, STOPPING=1 at exit. */
static int recv_msg(int fd, char *buf, size_t len, int timeout_ms)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(fd, buf, len - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int)n;
}

static void systemd_notify_protocol(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static struct kpd d;	/* outlives a failed test: stop_all() */
	char env_sock[128], buf[1024], want[64];
	int fd, wd = 0, attached = 0;
	cJSON *st;
	const cJSON *p;
	uint64_t t0;

	memset(&d, 0, sizeof(d));

	/* abstract: reachable whatever user kvmprofd becomes */
	snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1,
		 "kvmprof-test-notify-%d", getpid());
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(
		bind(fd, (struct sockaddr *)&sa,
		     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				 strlen(sa.sun_path + 1))),
		0);
	snprintf(env_sock, sizeof(env_sock), "NOTIFY_SOCKET=@%s",
		 sa.sun_path + 1);
	assert_int_equal(
		svc_start(&d, NULL,
			  (const char *const[]){ "--metrics-listen", "off",
						 NULL },
			  (const char *const[]){ env_sock,
						 "WATCHDOG_USEC=400000", NULL },
			  NULL),
		0);
	/* the first message is READY=1, with the probes attached by then */
	assert_true(recv_msg(fd, buf, sizeof(buf), 5000) > 0);
	assert_non_null(strstr(buf, "READY=1"));
	st = kpd_get(&d, "/v1/status");
	cJSON_ArrayForEach(p, jget(st, "probes"))
		attached += !strcmp(jget(p, "state")->valuestring, "attached");
	cJSON_Delete(st);
	assert_true(attached > 0);
	snprintf(want, sizeof(want), "STATUS=%d of ", attached);
	assert_non_null(strstr(buf, want));
	/* watchdog pings every 200 ms */
	t0 = kp_mono_ms();
	while (wd < 4 && kp_mono_ms() - t0 < 5000) {
		if (recv_msg(fd, buf, sizeof(buf), 1000) > 0 &&
		    !strcmp(buf, "WATCHDOG=1"))
			wd++;
	}
	assert_int_equal(wd, 4);
	/* reload */
	kill(d.pid, SIGHUP);
	for (int state_ = 0, i = 0; state_ < 2; i++) {
		assert_true(i < 50);
		assert_true(recv_msg(fd, buf, sizeof(buf), 2000) > 0);
		if (state_ == 0 && strstr(buf, "RELOADING=1"))
			state_ = 1;
		else if (state_ == 1 && strstr(buf, "READY=1"))
			state_ = 2;
	}
	/* stop */
	kill(d.pid, SIGTERM);
	for (int i = 0;; i++) {
		assert_true(i < 50);
		assert_true(recv_msg(fd, buf, sizeof(buf), 2000) > 0);
		if (strstr(buf, "STOPPING=1"))
			break;
	}
	assert_int_equal(wait_exit(d.pid), 0);
	d.pid = -1;
	close(fd);
	svc_stop(&d);
}

/* SIGHUP applies the file; keys that need a restart are kept (with a
 * warning); a bad file names FILE:LINE and leaves the old configuration. */
static void reload_applies_and_rejects(void **state)
{
	static struct kpd d;	/* outlives a failed test: stop_all() */
	char conf[128], log[128], text[512], *logtext, *m = NULL, addr[64];
	char want[256];
	int port = free_port();

	assert_true(port > 0);
	memset(&d, 0, sizeof(d));

	snprintf(d.dir, sizeof(d.dir), "/tmp/kvmprof-svc.XXXXXX");
	assert_non_null(mkdtemp(d.dir));
	chmod(d.dir, 0755);	/* kvmprofd reads it as user kvmprof */
	snprintf(conf, sizeof(conf), "%s/kvmprofd.conf", d.dir);
	snprintf(log, sizeof(log), "%s/log", d.dir);
	write_file(conf,
		   "# test\ngrace-ms = 1000\n"
		   "metrics-listen = 127.0.0.1:0\n",
		   0644);
	/* a bad file at start: exit status 2, FILE:LINE */
	{
		char bad[160], path[256], *out = NULL;
		char *argv[] = { "/bin/sh", "-c", NULL, NULL };
		char cmd[512];

		snprintf(bad, sizeof(bad), "%s/bad.conf", d.dir);
		write_file(bad, "grace-ms = 5\n\nmax-vms = lots\n", 0644);
		snprintf(cmd, sizeof(cmd), "%s --config %s 2>&1; echo rc=$?",
			 bin_path("kvmprofd", path, sizeof(path)), bad);
		argv[2] = cmd;
		run_capture(argv, &out);
		snprintf(want, sizeof(want), "%s:3: max-vms: 'lots'", bad);
		if (!strstr(out, want) || !strstr(out, "rc=2"))
			fail_msg("bad config at start: %s", out);
		free(out);
	}
	assert_int_equal(
		svc_start(&d, NULL,
			  (const char *const[]){ "--config", conf, NULL }, NULL,
			  log),
		0);
	assert_int_equal(status_num(&d, "grace_ms"), 1000);
	/* good change: reloadable keys apply, socket is kept */
	snprintf(text, sizeof(text),
		 "grace-ms = 2500\n"
		 "metrics-listen = 127.0.0.1:%d\nmax-counters = 1024\n",
		 port);
	write_file(conf, text, 0644);
	kill(d.pid, SIGHUP);
	cJSON_Delete(kpd_wait(&d, "/v1/status", one_reload,
			      "service.reloads_ok", 5000));
	assert_int_equal(status_num(&d, "service.reloads_ok"), 1);
	assert_int_equal(status_num(&d, "grace_ms"), 2500);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	m = scrape(addr);
	assert_non_null(m);
	assert_int_equal(sample(m, "kvmprof_config_last_reload_successful"), 1);
	assert_int_equal(sample(m, "kvmprof_config_reloads_total{result=\""
				   "success\"}"),
			 1);
	free(m);
	/* bad change: nothing applies, the file and line are named */
	write_file(conf, "grace-ms = 3000\ninterval-ms = 100\nbogus-key = 1\n",
		   0644);
	kill(d.pid, SIGHUP);
	cJSON_Delete(kpd_wait(&d, "/v1/status", one_reload,
			      "service.reloads_failed", 5000));
	assert_int_equal(status_num(&d, "service.reloads_failed"), 1);
	assert_int_equal(status_num(&d, "grace_ms"), 2500);
	assert_int_equal(status_num(&d, "harvest_interval_ms"), 1000);
	m = scrape(addr);
	assert_non_null(m);
	assert_int_equal(sample(m, "kvmprof_config_last_reload_successful"), 0);
	free(m);
	logtext = read_file(log);
	assert_non_null(logtext);
	snprintf(want, sizeof(want),
		 "%s:3: unknown key 'bogus-key'; keeping "
		 "the running configuration",
		 conf);
	if (!strstr(logtext, want) ||
	    !strstr(logtext, "max-counters: changed, takes effect at the "
			     "next start"))
		fail_msg("log:\n%s", logtext);
	free(logtext);
	svc_stop(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(systemd_notify_protocol),
		cmocka_unit_test(reload_applies_and_rejects),
	};
	int r = svc_begin();

	return r ? r :
		   svc_end(cmocka_run_group_tests_name("systemd", tests, NULL,
						       NULL));
}
