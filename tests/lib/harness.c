// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <kvmprof/client.h>
#include "harness.h"
#include "wait.h"

char *bin_path(const char *rel, char *buf, size_t len)
{
	const char *o = getenv("O");

	snprintf(buf, len, "%s/%s", o && *o ? o : "build", rel);
	return buf;
}

const char *bpf_missing(void)
{
	if (geteuid() != 0)
		return "needs root (BPF load/attach)";
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return "no kernel BTF (/sys/kernel/btf/vmlinux)";
	return NULL;
}

const char *kvm_bpf_missing(void)
{
	const char *why = bpf_missing();
	int fd;

	if (why)
		return why;
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return "/dev/kvm not available";
	close(fd);
	return NULL;
}

pid_t spawn(char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

int wait_exit(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

int run_capture(char *const argv[], char **ret_out)
{
	int p[2];
	pid_t pid;
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;

	if (!buf || pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
	}
	close(p[0]);
	buf[len] = '\0';
	*ret_out = buf;
	return wait_exit(pid);
}

/* Daemons still running when the test program exits (a failed assertion
 * skips kpd_stop) are killed, so nothing outlives the test. */
static pid_t live[16];

static void kill_leftovers(void)
{
	for (size_t i = 0; i < 16; i++)
		if (live[i] > 0) {
			kill(live[i], SIGKILL);
			waitpid(live[i], NULL, 0);
		}
}

static void track(pid_t pid, bool add)
{
	static bool registered;

	if (!registered) {
		atexit(kill_leftovers);
		registered = true;
	}
	for (size_t i = 0; i < 16; i++)
		if (add ? live[i] <= 0 : live[i] == pid) {
			live[i] = add ? pid : 0;
			return;
		}
}

int kpd_start(struct kpd *d, const char *const *extra)
{
	char path[256];
	char *argv[32];
	int n = 0;
	bool metrics = false;

	snprintf(d->dir, sizeof(d->dir), "/tmp/kvmprof-test.XXXXXX");
	if (!mkdtemp(d->dir))
		return -errno;
	snprintf(d->sock, sizeof(d->sock), "%s/kvmprofd.sock", d->dir);
	argv[n++] = strdup(bin_path("kvmprofd", path, sizeof(path)));
	argv[n++] = "--socket";
	argv[n++] = d->sock;
	/* daemons of different tests must not fight over the metrics port */
	for (const char *const *e = extra; e && *e; e++)
		metrics |= !strcmp(*e, "--metrics-listen");
	if (!metrics) {
		argv[n++] = "--metrics-listen";
		argv[n++] = "off";
	}
	for (; extra && *extra && n < 30; extra++)
		argv[n++] = (char *)*extra;
	argv[n] = NULL;
	d->pid = spawn(argv);
	free(argv[0]);
	if (d->pid < 0)
		return -errno;
	track(d->pid, true);
	return kpd_wait_ready(d->sock, &d->pid);
}

struct ready_wait {
	const char *sock;
	pid_t *pid;
	int r;
};

/* The daemon answered (w->r: 0, or -EIO if not 200) or died (-ECHILD). */
static bool answered(void *ctx)
{
	struct ready_wait *w = ctx;
	cJSON *j = NULL;
	long status = 0;

	if (!kp_api_get(w->sock, "/v1/status", &j, &status)) {
		cJSON_Delete(j);
		w->r = status == 200 ? 0 : -EIO;
		return true;
	}
	if (waitpid(*w->pid, NULL, WNOHANG) == *w->pid) {
		*w->pid = -1;
		w->r = -ECHILD;
		return true;
	}
	return false;
}

int kpd_wait_ready(const char *sock, pid_t *pid)
{
	struct ready_wait w = { sock, pid, 0 };

	if (wait_until(answered, &w, 15000))
		return w.r;
	kill(*pid, SIGKILL);
	wait_exit(*pid);
	*pid = -1;
	return -ETIMEDOUT;
}

int kpd_stop(struct kpd *d)
{
	int st;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	st = wait_exit(d->pid);
	track(d->pid, false);
	d->pid = -1;
	rmdir(d->dir);	/* fails if the socket was left behind */
	return st;
}

cJSON *kpd_get(const struct kpd *d, const char *path)
{
	cJSON *j = NULL;
	long status = 0;

	if (kp_api_get(d->sock, path, &j, &status) || status != 200) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

struct json_wait {
	const struct kpd *d;
	const char *path;
	bool (*ok)(const cJSON *j, const void *arg);
	const void *arg;
	cJSON *j;
};

static bool json_ok(void *ctx)
{
	struct json_wait *w = ctx;

	cJSON_Delete(w->j);
	w->j = kpd_get(w->d, w->path);
	return w->j && w->ok(w->j, w->arg);
}

cJSON *kpd_wait(const struct kpd *d, const char *path,
		bool (*ok)(const cJSON *j, const void *arg), const void *arg,
		unsigned int timeout_ms)
{
	struct json_wait w = { d, path, ok, arg, NULL };

	wait_until(json_ok, &w, timeout_ms);
	return w.j;
}

cJSON *cli_json(const struct kpd *d, int *ret_rc, const char *a1,
		const char *a2)
{
	char path[256], *out = NULL;
	char *argv[] = { bin_path("kvmprof", path, sizeof(path)),
			 "--socket",
			 (char *)d->sock,
			 "--json",
			 (char *)a1,
			 (char *)a2,
			 NULL };
	cJSON *j;

	*ret_rc = run_capture(argv, &out);
	j = out ? cJSON_Parse(out) : NULL;
	free(out);
	return j;
}

cJSON *read_json_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long len;
	cJSON *j;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)len + 1);
	if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len)
		len = 0;
	fclose(f);
	j = buf ? cJSON_Parse(buf) : NULL;
	free(buf);
	return j;
}

const cJSON *jget(const cJSON *o, const char *path)
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && o;
	     tok = strtok_r(NULL, ".", &save))
		o = cJSON_GetObjectItemCaseSensitive(o, tok);
	return o;
}

double jnum(const cJSON *o, const char *path)
{
	const cJSON *v = jget(o, path);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

const cJSON *vcpu_of(const cJSON *vm, int id)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, jget(vm, "per_vcpu"))
		if (jnum(c, "vcpu") == id)
			return c;
	return NULL;
}
