// SPDX-License-Identifier: GPL-2.0-only
/* kvmprofd as a service under test: see svc.h. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <curl/curl.h>

#include <kvmprof/client.h>
#include "guest.h"
#include "harness.h"
#include "http.h"
#include "svc.h"

uint64_t split(uint64_t total, unsigned n, unsigned i)
{
	return total / n + (i < total % n);
}

char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* Line "^name{...} value" or "^name value" of a scrape: value or -1. */
double sample(const char *text, const char *series)
{
	size_t l = strlen(series);

	for (const char *p = text; p && *p;
	     p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (!strncmp(p, series, l) && p[l] == ' ')
			return strtod(p + l + 1, NULL);
	return -1;
}

char *metrics_addr(const struct kpd *d)
{
	cJSON *st = kpd_get(d, "/v1/status");
	const cJSON *a = jget(st, "service.metrics_listen");
	char *r = cJSON_IsString(a) ? strdup(a->valuestring) : NULL;

	cJSON_Delete(st);
	return r;
}

char *scrape(const char *addr)
{
	char *body = NULL;
	long status = 0;

	if (http_get(addr, "/metrics", &body, &status) || status != 200) {
		free(body);
		return NULL;
	}
	return body;
}

/* Daemons started and not yet stopped: stopped at the end even when a
 * test failed half-way. */
static struct kpd *live_daemons[16];

static void track(struct kpd *d, bool on)
{
	for (size_t i = 0; i < 16; i++)
		if (on ? !live_daemons[i] : live_daemons[i] == d) {
			live_daemons[i] = on ? d : NULL;
			return;
		}
}

void stop_all(void)
{
	for (size_t i = 0; i < 16; i++)
		if (live_daemons[i])
			svc_stop(live_daemons[i]);
}

/*
 * Start kvmprofd (through @wrapper argv when given) on a private socket in
 * @d->dir with @extra arguments, environment additions @env ("K=V", NULL
 * ended), stderr to @log (or inherited); wait until /v1/status answers.
 * Unlike kpd_start(), the metrics listener is left as configured.
 */
int svc_start(struct kpd *d, const char *const *wrapper,
	      const char *const *extra, const char *const *env, const char *log)
{
	char path[256];
	const char *argv[48];
	int n = 0, r;

	if (!d->dir[0]) {
		snprintf(d->dir, sizeof(d->dir), "/tmp/kvmprof-svc.XXXXXX");
		if (!mkdtemp(d->dir))
			return -errno;
	}
	snprintf(d->sock, sizeof(d->sock), "%s/kvmprofd.sock", d->dir);
	for (; wrapper && *wrapper; wrapper++)
		argv[n++] = *wrapper;
	argv[n++] = bin_path("kvmprofd", path, sizeof(path));
	argv[n++] = "--socket";
	argv[n++] = d->sock;
	for (; extra && *extra && n < 46; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	d->pid = fork();
	if (d->pid < 0)
		return -errno;
	if (d->pid == 0) {
		for (; env && *env; env++)
			putenv((char *)*env);
		if (log) {
			int fd = open(log,
				      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
				      0644);

			if (fd >= 0)
				dup2(fd, 2);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	r = kpd_wait_ready(d->sock, &d->pid);
	if (!r || r == -EIO)
		track(d, true);
	return r;
}

void svc_stop(struct kpd *d)
{
	char cmd[128];

	track(d, false);
	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		wait_exit(d->pid);
		d->pid = -1;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
	if (d->dir[0] && system(cmd)) {
		/* best effort */
	}
	d->dir[0] = '\0';
}

pid_t start_guest(const char *name, const char *report)
{
	char pio[16], mmio[16], vcpus[8];
	const char *const args[] = { "--name",	  name,	 "--vcpus",	 vcpus,
				     "--pio",	  pio,	 "--mmio-write", mmio,
				     "--timeout", "120", "--report",	 report,
				     NULL };

	snprintf(pio, sizeof(pio), "%d", PIO);
	snprintf(mmio, sizeof(mmio), "%d", MMIO_W);
	snprintf(vcpus, sizeof(vcpus), "%d", NVCPUS);
	return guest_spawn(args);
}

/* "Key:\t<hex>" of /proc/PID/status */
long long status_field(pid_t pid, const char *key, int base)
{
	char path[64], *text, *p, want[64];
	long long v = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	text = read_file(path);
	snprintf(want, sizeof(want), "\n%s:", key);
	if (text && (p = strstr(text, want)))
		v = strtoll(p + strlen(want), NULL, base);
	free(text);
	return v;
}

uid_t kvmprof_uid(gid_t *ret_gid)
{
	struct passwd *pw = getpwnam("kvmprof");

	assert_non_null(pw);
	if (ret_gid)
		*ret_gid = pw->pw_gid;
	return pw->pw_uid;
}

/* Does this kernel refuse BPF map queries on an fd without CAP_BPF?  Found
 * out independently of the daemon: a map made here, queried by a child
 * without capabilities. */
bool kernel_wants_cap_bpf(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "kp_captest", 4, 4, 4, NULL);
	pid_t pid;
	int st;

	assert_true(fd >= 0);
	pid = fork();
	if (pid == 0) {
		uint32_t k;

		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(2);
		if (bpf_map_get_next_key(fd, NULL, &k) && errno == EPERM)
			_exit(1);
		_exit(0);
	}
	st = wait_exit(pid);
	close(fd);
	assert_true(st == 0 || st == 1);
	return st == 1;
}

void ensure_kvmprof_user(void)
{
	char path[PATH_MAX + 64], cwd[PATH_MAX];
	char *argv[9] = { "/usr/bin/systemd-sysusers", path, NULL };
	char *out = NULL;

	if (getpwnam("kvmprof") && getgrnam("kvmprof"))
		return;
	/* what `make install` does */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(path, sizeof(path), "%s/dist/sysusers/kvmprof.conf", cwd);
	if (access(argv[0], X_OK)) {
		argv[0] = "/usr/sbin/useradd";
		argv[1] = "--system";
		argv[2] = "--user-group";
		argv[3] = "--home-dir";
		argv[4] = "/";
		argv[5] = "--shell";
		argv[6] = "/usr/sbin/nologin";
		argv[7] = "kvmprof";
	}
	assert_int_equal(run_capture(argv, &out), 0);
	free(out);
	assert_non_null(getpwnam("kvmprof"));
}

double status_num(const struct kpd *d, const char *path)
{
	cJSON *st = kpd_get(d, "/v1/status");
	double v = jnum(st, path);

	cJSON_Delete(st);
	return v;
}

int svc_begin(void)
{
	int r = e2e_begin();

	if (!r)
		curl_global_init(CURL_GLOBAL_DEFAULT);
	return r;
}

int svc_end(int failed)
{
	stop_all();
	curl_global_cleanup();
	return failed ? 1 : 0;
}
