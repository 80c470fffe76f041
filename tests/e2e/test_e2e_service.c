// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmprofd as a service, end to end on real KVM: Prometheus metrics
 * (promtool on a live scrape, a real Prometheus server scraping it, PromQL
 * giving exactly the guest's counts, the Grafana dashboard's expressions),
 * access to the socket and the metrics port, privileges after the drop,
 * the systemd notification protocol, configuration reloads, and the daemon
 * inside its unit's sandbox.  Expectations come from the requested
 * workload and the VMM's own report, never from the daemon.
 * Addresses: loopback, and one the test creates in a private network
 * namespace.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <curl/curl.h>

#include <kvmprof/client.h>
#include "harness.h"

#define UNIT "dist/systemd/kvmprofd.service.in"
#define DASHBOARD "dist/grafana/kvmprof-dashboard.json"
#define SERVICE_DOC "docs/service.md"
#define PIO 60000
#define MMIO_W 12000
#define NVCPUS 2

/* --- small helpers ------------------------------------------------------ */

static uint64_t split(uint64_t total, unsigned n, unsigned i)
{
	return total / n + (i < total % n);
}

static char *read_file(const char *path)
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

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

struct mem {
	char *p;
	size_t len;
};

static size_t on_data(char *d, size_t sz, size_t n, void *ctx)
{
	struct mem *m = ctx;
	char *np = realloc(m->p, m->len + sz * n + 1);

	if (!np)
		return 0;
	m->p = np;
	memcpy(m->p + m->len, d, sz * n);
	m->len += sz * n;
	m->p[m->len] = '\0';
	return sz * n;
}

/* GET http://@hostport@path: body (malloc'ed) and status; 0 or -1. */
static int http_get(const char *hostport, const char *path, char **ret_body,
		    long *ret_status)
{
	CURL *c = curl_easy_init();
	struct mem m = { NULL, 0 };
	char url[2048];
	CURLcode rc;

	snprintf(url, sizeof(url), "http://%s%s", hostport, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &m);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, ret_status);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		free(m.p);
		return -1;
	}
	*ret_body = m.p ? m.p : strdup("");
	return 0;
}

/* @method on http://@hostport@path: status, and Content-Type into @ctype;
 * -1 if no answer. */
static long http_req(const char *method, const char *hostport,
		     const char *path, char *ctype, size_t len, size_t *ret_body)
{
	CURL *c = curl_easy_init();
	struct mem m = { NULL, 0 };
	char url[2048], *ct = NULL;
	long status = -1;

	snprintf(url, sizeof(url), "http://%s%s", hostport, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &m);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET"))
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (curl_easy_perform(c) == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
		snprintf(ctype, len, "%s", ct ? ct : "");
	}
	*ret_body = m.len;
	free(m.p);
	curl_easy_cleanup(c);
	return status;
}

/* connect() to ADDR:PORT over TCP: 0 or -errno */
static int tcp_connect(const char *addr, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r = 0;

	inet_pton(AF_INET, addr, &sin.sin_addr);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		r = -errno;
	close(fd);
	return r;
}

static int free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* Line "^name{...} value" or "^name value" of a scrape: value or -1. */
static double sample(const char *text, const char *series)
{
	size_t l = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (!strncmp(p, series, l) && p[l] == ' ')
			return strtod(p + l + 1, NULL);
	return -1;
}

static cJSON *api(const struct kpd *d, const char *path)
{
	cJSON *j = NULL;
	long status = 0;

	if (kp_api_get(d->sock, path, &j, &status) || status != 200) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

static char *metrics_addr(const struct kpd *d)
{
	cJSON *st = api(d, "/v1/status");
	const cJSON *a = jget(st, "service.metrics_listen");
	char *r = cJSON_IsString(a) ? strdup(a->valuestring) : NULL;

	cJSON_Delete(st);
	return r;
}

static char *scrape(const char *addr)
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

static void svc_stop(struct kpd *d);

static void stop_all(void)
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
static int svc_start(struct kpd *d, const char *const *wrapper,
		     const char *const *extra, const char *const *env,
		     const char *log)
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
			int fd = open(log, O_WRONLY | O_CREAT | O_APPEND |
				      O_CLOEXEC, 0644);

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

static void svc_stop(struct kpd *d)
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

static pid_t start_guest(const char *name, const char *report)
{
	char path[256], pio[16], mmio[16], vcpus[8];
	char *argv[] = { bin_path("tools/kvmguest", path, sizeof(path)),
			 "--name", (char *)name, "--vcpus", vcpus,
			 "--pio", pio, "--mmio-write", mmio, "--timeout", "120",
			 "--report", (char *)report, NULL };

	snprintf(pio, sizeof(pio), "%d", PIO);
	snprintf(mmio, sizeof(mmio), "%d", MMIO_W);
	snprintf(vcpus, sizeof(vcpus), "%d", NVCPUS);
	return spawn(argv);
}

/* "Key:\t<hex>" of /proc/PID/status */
static long long status_field(pid_t pid, const char *key, int base)
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

static uid_t kvmprof_uid(gid_t *ret_gid)
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
static bool kernel_wants_cap_bpf(void)
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

/* --- shared state: one daemon + Prometheus + guest for the first tests - */
static struct kpd main_d;
static char *maddr;			/* kvmprofd metrics address */
static pid_t prom_pid = -1;
static char prom_addr[64], prom_dir[64];
static char guest_name[64], guest_report[128];
static cJSON *report;

static cJSON *prom_query(const char *expr)
{
	CURL *c = curl_easy_init();
	char *q = curl_easy_escape(c, expr, 0), path[4096], *body = NULL;
	long status = 0;
	cJSON *j;

	snprintf(path, sizeof(path), "/api/v1/query?query=%s", q);
	curl_free(q);
	curl_easy_cleanup(c);
	if (http_get(prom_addr, path, &body, &status))
		return NULL;
	j = cJSON_Parse(body);
	free(body);
	if (status != 200 || !j || strcmp(jget(j, "status")->valuestring,
					  "success")) {
		print_error("query %s: HTTP %ld\n", expr, status);
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

/* value of the single result of an instant query, or -1 */
static double prom_value(const char *expr)
{
	cJSON *j = prom_query(expr);
	const cJSON *r = jget(j, "data.result");
	double v = -1;

	if (cJSON_GetArraySize(r) == 1)
		v = atof(cJSON_GetArrayItem(jget(cJSON_GetArrayItem(r, 0),
						 "value"), 1)->valuestring);
	cJSON_Delete(j);
	return v;
}

static int start_prometheus(void)
{
	char cfg[128], data[128], text[1024], listen[96];
	int port = free_port();
	char *argv[] = { "/usr/bin/prometheus", NULL, NULL, NULL,
			 "--log.level=warn", "--storage.tsdb.retention.time=1h",
			 NULL };

	snprintf(prom_dir, sizeof(prom_dir), "/tmp/kvmprof-prom.XXXXXX");
	if (!mkdtemp(prom_dir))
		return -errno;
	snprintf(prom_addr, sizeof(prom_addr), "127.0.0.1:%d", port);
	snprintf(cfg, sizeof(cfg), "%s/prometheus.yml", prom_dir);
	snprintf(text, sizeof(text),
		 "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
		 "scrape_configs:\n  - job_name: kvmprof\n"
		 "    static_configs:\n      - targets: ['%s']\n", maddr);
	write_file(cfg, text, 0644);
	snprintf(data, sizeof(data), "--storage.tsdb.path=%s/data", prom_dir);
	snprintf(listen, sizeof(listen), "--web.listen-address=%s", prom_addr);
	argv[1] = (char[160]){ 0 };
	snprintf(argv[1], 160, "--config.file=%s", cfg);
	argv[2] = data;
	argv[3] = listen;
	prom_pid = spawn(argv);
	for (int i = 0; i < 600; i++) {
		char *body = NULL;
		long status = 0;

		if (!http_get(prom_addr, "/-/ready", &body, &status) &&
		    status == 200) {
			free(body);
			return 0;
		}
		free(body);
		if (waitpid(prom_pid, NULL, WNOHANG) == prom_pid) {
			prom_pid = -1;
			return -ECHILD;
		}
		msleep(100);
	}
	return -ETIMEDOUT;
}

static int group_setup(void **state)
{
	static const char *const extra[] = { "--metrics-listen", "127.0.0.1:0",
					      "--grace-ms", "600000",
					      "--bpf-stats", NULL };
	int r;

	r = svc_start(&main_d, NULL, extra, NULL, NULL);
	if (r) {
		print_error("kvmprofd: %s\n", strerror(-r));
		return -1;
	}
	maddr = metrics_addr(&main_d);
	if (!maddr || !*maddr)
		return -1;
	r = start_prometheus();
	if (r) {
		print_error("prometheus: %s\n", strerror(-r));
		return -1;
	}
	/* targets reach the scrape loop after a few seconds: wait for the
	 * first scrape of kvmprofd */
	for (r = 0; r < 300 && prom_value("up{job=\"kvmprof\"}") != 1; r++)
		msleep(100);
	if (r == 300) {
		print_error("prometheus never scraped kvmprofd\n");
		return -1;
	}
	snprintf(guest_name, sizeof(guest_name), "svc-guest-%d", getpid());
	snprintf(guest_report, sizeof(guest_report), "%s/guest.json",
		 main_d.dir);
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	if (prom_pid > 0) {
		kill(prom_pid, SIGTERM);
		wait_exit(prom_pid);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", prom_dir);
	if (prom_dir[0] && system(cmd)) {
		/* best effort */
	}
	svc_stop(&main_d);
	free(maddr);
	cJSON_Delete(report);
	return 0;
}

/* --- tests --------------------------------------------------------------- */

/* A scrape taken while the guest runs passes `promtool check metrics`;
 * every family is documented. */
static void live_scrape_passes_promtool(void **state)
{
	char running[128], file[160], *text = NULL, *doc, *out = NULL;
	char *argv[] = { "/bin/sh", "-c", NULL, NULL };
	char cmd[256];
	pid_t g = start_guest(guest_name, guest_report);
	int i;

	snprintf(running, sizeof(running), "kvmprof_vm_running{vm=\"%s\"}",
		 guest_name);
	for (i = 0; i < 100; i++) {
		free(text);
		text = scrape(maddr);
		assert_non_null(text);
		if (sample(text, running) == 1)
			break;
		msleep(100);
	}
	assert_true(i < 100);
	snprintf(file, sizeof(file), "%s/scrape.txt", main_d.dir);
	write_file(file, text, 0644);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s' 2>&1", file);
	argv[2] = cmd;
	if (run_capture(argv, &out) != 0)
		fail_msg("promtool check metrics: %s", out);
	free(out);

	/* every family of the scrape is in the docs' table */
	doc = read_file(SERVICE_DOC);
	assert_non_null(doc);
	for (char *p = strstr(text, "# TYPE "); p; p = strstr(p + 1, "# TYPE ")) {
		char name[128], want[140];

		sscanf(p + 7, "%127s", name);
		snprintf(want, sizeof(want), "`%s`", name);
		if (!strstr(doc, want))
			fail_msg("family %s not documented in %s", name,
				 SERVICE_DOC);
	}
	free(doc);
	free(text);
	/* HTTP: GET/HEAD of /metrics only, the 0.0.4 content type */
	{
		char ct[128];
		size_t body;

		assert_int_equal(http_req("GET", maddr, "/metrics", ct,
					  sizeof(ct), &body), 200);
		assert_string_equal(ct, "text/plain; version=0.0.4; "
				    "charset=utf-8");
		assert_true(body > 1000);
		assert_int_equal(http_req("HEAD", maddr, "/metrics", ct,
					  sizeof(ct), &body), 200);
		assert_int_equal(body, 0);
		assert_int_equal(http_req("POST", maddr, "/metrics", ct,
					  sizeof(ct), &body), 405);
		assert_int_equal(http_req("GET", maddr, "/v1/status", ct,
					  sizeof(ct), &body), 404);
	}
	assert_int_equal(wait_exit(g), 0);
	report = read_json_file(guest_report);
	assert_non_null(report);
}

/* A real Prometheus scraped kvmprofd during the run; PromQL returns exactly
 * the guest's counts. */
static void prometheus_query_gives_exact_counts(void **state)
{
	char expr[512], running[128], *text = NULL;
	cJSON *j;
	const cJSON *res, *it;
	double seen[NVCPUS][3] = { { 0 } };	/* IO, MMIO, all */
	int i;

	assert_non_null(report);
	/* kvmprofd has folded the final counts in: the VM is marked exited */
	snprintf(running, sizeof(running), "kvmprof_vm_running{vm=\"%s\"}",
		 guest_name);
	for (i = 0; i < 100; i++) {
		free(text);
		text = scrape(maddr);
		if (text && sample(text, running) == 0)
			break;
		msleep(100);
	}
	free(text);
	assert_true(i < 100);
	/* and Prometheus has scraped that */
	snprintf(expr, sizeof(expr), "kvmprof_vm_running{vm=\"%s\"}",
		 guest_name);
	for (i = 0; i < 200 && prom_value(expr) != 0; i++)
		msleep(100);
	assert_true(i < 200);
	/* it also scraped while the guest ran */
	snprintf(expr, sizeof(expr),
		 "max_over_time(kvmprof_vm_running{vm=\"%s\"}[10m])",
		 guest_name);
	assert_int_equal(prom_value(expr), 1);

	snprintf(expr, sizeof(expr), "kvmprof_userspace_exits_total{vm=\"%s\"}",
		 guest_name);
	j = prom_query(expr);
	assert_non_null(j);
	res = jget(j, "data.result");
	assert_true(cJSON_GetArraySize(res) > 0);
	cJSON_ArrayForEach(it, res) {
		int vcpu = atoi(jget(it, "metric.vcpu")->valuestring);
		const char *reason = jget(it, "metric.reason")->valuestring;
		double v = atof(cJSON_GetArrayItem(jget(it, "value"), 1)
					->valuestring);

		assert_true(vcpu >= 0 && vcpu < NVCPUS);
		assert_string_equal(jget(it, "metric.job")->valuestring,
				    "kvmprof");
		if (!strcmp(reason, "IO"))
			seen[vcpu][0] = v;
		else if (!strcmp(reason, "MMIO"))
			seen[vcpu][1] = v;
		seen[vcpu][2] += v;
	}
	cJSON_Delete(j);
	for (int v = 0; v < NVCPUS; v++) {
		const cJSON *rv = cJSON_GetArrayItem(jget(report, "vcpus"), v);

		assert_int_equal(jnum(rv, "id"), v);
		/* the VMM's own KVM_RUN accounting */
		assert_int_equal(seen[v][0], jnum(rv, "exits.IO"));
		assert_int_equal(seen[v][1], jnum(rv, "exits.MMIO"));
		assert_int_equal(seen[v][2], jnum(rv, "kvm_run"));
		/* and the requested workload */
		assert_int_equal(seen[v][0], split(PIO, NVCPUS, (unsigned)v));
		assert_int_equal(seen[v][1], split(MMIO_W, NVCPUS, (unsigned)v));
	}
	snprintf(expr, sizeof(expr),
		 "sum(kvmprof_pio_total{vm=\"%s\",port=\"0x3f8\","
		 "direction=\"out\"})", guest_name);
	assert_int_equal(prom_value(expr), PIO);
	snprintf(expr, sizeof(expr),
		 "sum(kvmprof_mmio_total{vm=\"%s\",type=\"write\"})",
		 guest_name);
	assert_int_equal(prom_value(expr), MMIO_W);
	snprintf(expr, sizeof(expr), "kvmprof_vm_info{vm=\"%s\"}", guest_name);
	j = prom_query(expr);
	assert_int_equal(cJSON_GetArraySize(jget(j, "data.result")), 1);
	it = cJSON_GetArrayItem(jget(j, "data.result"), 0);
	assert_int_equal(atoi(jget(it, "metric.pid")->valuestring),
			 jnum(report, "pid"));
	assert_string_equal(jget(it, "metric.vmm")->valuestring, "kvmguest");
	cJSON_Delete(j);
}

/* Collect the strings under "expr" and the templating queries. */
static void collect_exprs(const cJSON *o, char **out, size_t *n, size_t max)
{
	const cJSON *c;

	if (cJSON_IsObject(o) || cJSON_IsArray(o)) {
		cJSON_ArrayForEach(c, o) {
			if (c->string && cJSON_IsString(c) && *n < max &&
			    (!strcmp(c->string, "expr") ||
			     !strcmp(c->string, "definition")))
				out[(*n)++] = c->valuestring;
			else
				collect_exprs(c, out, n, max);
		}
	}
}

static char *subst(const char *e)
{
	static const char *const from[] = { "$__rate_interval", "$instance",
					    "$vm" };
	static const char *const to[] = { "1m", ".*", ".*" };
	char *s = strdup(e);

	for (size_t k = 0; k < 3; k++) {
		char *p;

		while ((p = strstr(s, from[k]))) {
			char *n = malloc(strlen(s) + 8);

			sprintf(n, "%.*s%s%s", (int)(p - s), s, to[k],
				p + strlen(from[k]));
			free(s);
			s = n;
		}
	}
	/* label_values(SELECTOR, label) -> SELECTOR */
	if (!strncmp(s, "label_values(", 13)) {
		char *comma = strrchr(s, ',');

		if (comma) {
			*comma = '\0';
			memmove(s, s + 13, strlen(s + 13) + 1);
		}
	}
	return s;
}

/* Every metric the dashboard refers to is exported by kvmprofd (declared
 * in a live scrape), and every expression is valid PromQL that Prometheus
 * runs; the per-VM panels show the guest. */
static void dashboard_uses_exported_metrics(void **state)
{
	cJSON *dash = read_json_file(DASHBOARD);
	char *exprs[256], *text = scrape(maddr);
	size_t n = 0, with_guest = 0;

	assert_non_null(dash);
	assert_non_null(text);
	collect_exprs(dash, exprs, &n, 256);
	assert_true(n >= 20);
	for (size_t i = 0; i < n; i++) {
		const char *e = exprs[i];
		char *q;
		cJSON *j;

		/* identifiers that select series: followed by { or [, or
		 * starting with our prefixes */
		for (const char *p = e; *p;) {
			char id[128], want[160];
			size_t l = 0;
			const char *after;
			bool metric;

			if (!(p == e || !(isalnum((unsigned char)p[-1]) ||
					  p[-1] == '_' || p[-1] == '$')) ||
			    !(isalpha((unsigned char)*p) || *p == '_')) {
				p++;
				continue;
			}
			while ((isalnum((unsigned char)p[l]) || p[l] == '_' ||
				p[l] == ':') && l < sizeof(id) - 1)
				l++;
			snprintf(id, sizeof(id), "%.*s", (int)l, p);
			after = p + l;
			while (*after == ' ')
				after++;
			metric = *after == '{' || *after == '[' ||
				 !strncmp(id, "kvmprof_", 8) ||
				 !strncmp(id, "process_", 8);
			/* label names inside {} are followed by = ! ~ */
			if (metric && !strchr("=!~", *after)) {
				char base[128];
				size_t bl = strlen(id);

				snprintf(base, sizeof(base), "%s", id);
				snprintf(want, sizeof(want), "# TYPE %s ", id);
				if (!strstr(text, want)) {
					/* histogram series: _bucket, _count */
					char *s = strrchr(base, '_');

					if (s && (!strcmp(s, "_bucket") ||
						  !strcmp(s, "_count")))
						*s = '\0';
					snprintf(want, sizeof(want),
						 "# TYPE %s histogram", base);
					if (!strstr(text, want))
						fail_msg("dashboard: %s (in %s) "
							 "is not exported", id,
							 e);
				}
				(void)bl;
			}
			p += l ? l : 1;
		}
		/* valid PromQL that Prometheus evaluates */
		q = subst(e);
		j = prom_query(q);
		if (!j)
			fail_msg("dashboard expression rejected: %s", q);
		if (strstr(q, "kvmprof_userspace_exits_total") ||
		    strstr(q, "kvmprof_pio_total")) {
			const cJSON *r;

			cJSON_ArrayForEach(r, jget(j, "data.result")) {
				const cJSON *vm = jget(r, "metric.vm");

				if (cJSON_IsString(vm) &&
				    !strcmp(vm->valuestring, guest_name)) {
					with_guest++;
					break;
				}
			}
		}
		cJSON_Delete(j);
		free(q);
	}
	assert_true(with_guest >= 2);
	free(text);
	cJSON_Delete(dash);
}

static void ensure_kvmprof_user(void)
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

/* As nobody (65534), with @groups supplementary groups: GET /v1/status
 * status code, or -errno of connect(). */
static int connect_as(const char *sock, const gid_t *groups, size_t ngroups)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		cJSON *j = NULL;
		long status = 0;
		int fd;

		if (setgroups(ngroups, groups) ||
		    setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(100);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			_exit(errno == EACCES ? 101 : 102);
		close(fd);
		if (kp_api_get(sock, "/v1/status", &j, &status))
			_exit(103);
		_exit(status == 200 ? 0 : 104);
	}
	return wait_exit(pid);
}

/* The socket: 0660, group kvmprof; outsiders get EACCES, members in. */
static void socket_only_for_group_kvmprof(void **state)
{
	static struct kpd d;	/* outlives a failed test: stop_all() */
	struct stat st;
	gid_t kg, none[1];

	memset(&d, 0, sizeof(d));

	ensure_kvmprof_user();
	kvmprof_uid(&kg);
	kg = getgrnam("kvmprof")->gr_gid;
	snprintf(d.dir, sizeof(d.dir), "/tmp/kvmprof-svc.XXXXXX");
	assert_non_null(mkdtemp(d.dir));
	chmod(d.dir, 0755);	/* only the socket's own mode decides */
	assert_int_equal(svc_start(&d, NULL, (const char *const[]){
		"--metrics-listen", "off", NULL }, NULL, NULL), 0);
	assert_int_equal(stat(d.sock, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_int_equal(st.st_gid, kg);
	/* neither root nor in kvmprof: refused at connect() */
	assert_int_equal(connect_as(d.sock, none, 0), 101);
	/* in kvmprof: served */
	assert_int_equal(connect_as(d.sock, &kg, 1), 0);
	svc_stop(&d);
}

/*
 * In a private network namespace with a second address (a veth end,
 * 198.18.0.1), kvmprofd with the default configuration answers /metrics
 * on 127.0.0.1:19418 and not on 198.18.0.1:19418; told to listen on
 * 0.0.0.0 it answers there (the check can fail).
 */
static void metrics_port_loopback_only(void **state)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct kpd d = {};
		char *body = NULL;
		long status = 0;
		int code = 0;

		if (unshare(CLONE_NEWNET) ||
		    system("ip link set lo up && ip link add kp0 type veth peer "
			   "name kp1 && ip addr add 198.18.0.1/24 dev kp0 && "
			   "ip link set kp0 up && ip link set kp1 up"))
			_exit(10);
		/* the defaults: no --metrics-listen, no configuration file */
		if (svc_start(&d, NULL, (const char *const[]){ "--config",
			"/dev/null/none", NULL }, NULL, NULL) == 0)
			_exit(11);	/* a missing named file must fail */
		d.dir[0] = '\0';
		if (svc_start(&d, NULL, NULL, NULL, NULL))
			_exit(12);
		if (http_get("127.0.0.1:19418", "/metrics", &body, &status) ||
		    status != 200 || !strstr(body, "# TYPE kvmprof_vm_info"))
			code = 13;
		free(body);
		if (!code && tcp_connect("198.18.0.1", 19418) != -ECONNREFUSED)
			code = 14;
		svc_stop(&d);
		if (code)
			_exit(code);
		if (svc_start(&d, NULL, (const char *const[]){
			"--metrics-listen", "0.0.0.0:19418", NULL }, NULL, NULL))
			_exit(15);
		if (tcp_connect("198.18.0.1", 19418))
			code = 16;
		svc_stop(&d);
		_exit(code);
	}
	assert_int_equal(wait_exit(pid), 0);
}

/* After the drop: no capability this kernel does not need for the BPF fds,
 * nothing in the other sets, NO_NEW_PRIVS; with --user, that user and no
 * supplementary groups; still exact counts. */
static void privileges_after_drop(void **state)
{
	static struct kpd d;	/* outlives a failed test: stop_all() */
	long long want = kernel_wants_cap_bpf() ? 1ll << 39 : 0;
	gid_t gid;
	uid_t uid;
	char name[64], rep[160];
	cJSON *vm, *r;
	int rc;

	memset(&d, 0, sizeof(d));

	ensure_kvmprof_user();
	uid = kvmprof_uid(&gid);
	/* by default: uid 0, no capabilities */
	assert_int_equal(svc_start(&d, NULL, (const char *const[]){
		"--metrics-listen", "off", NULL }, NULL, NULL), 0);
	assert_int_equal(status_field(d.pid, "Uid", 10), 0);
	assert_int_equal(status_field(d.pid, "CapEff", 16), want);
	assert_int_equal(status_field(d.pid, "CapPrm", 16), want);
	assert_int_equal(status_field(d.pid, "CapBnd", 16), 0);
	assert_int_equal(status_field(d.pid, "NoNewPrivs", 10), 1);
	svc_stop(&d);
	/* --user kvmprof: that user too */
	memset(&d, 0, sizeof(d));
	assert_int_equal(svc_start(&d, NULL, (const char *const[]){
		"--metrics-listen", "off", "--user", "kvmprof", NULL }, NULL,
		NULL), 0);
	assert_int_equal(status_field(d.pid, "Uid", 10), uid);
	assert_int_equal(status_field(d.pid, "Gid", 10), gid);
	assert_int_equal(status_field(d.pid, "CapEff", 16), want);
	assert_int_equal(status_field(d.pid, "CapPrm", 16), want);
	assert_int_equal(status_field(d.pid, "CapInh", 16), 0);
	assert_int_equal(status_field(d.pid, "CapAmb", 16), 0);
	assert_int_equal(status_field(d.pid, "CapBnd", 16), 0);
	assert_int_equal(status_field(d.pid, "NoNewPrivs", 10), 1);
	/* no supplementary groups */
	{
		char path[64], *t, *p;

		snprintf(path, sizeof(path), "/proc/%d/status", (int)d.pid);
		t = read_file(path);
		p = strstr(t, "\nGroups:");
		assert_non_null(p);
		p += 8;
		while (*p == ' ' || *p == '\t')
			p++;
		assert_true(*p == '\n');
		free(t);
	}
	/* and it still counts */
	snprintf(name, sizeof(name), "svc-priv-%d", getpid());
	snprintf(rep, sizeof(rep), "%s/priv.json", d.dir);
	assert_int_equal(wait_exit(start_guest(name, rep)), 0);
	r = read_json_file(rep);
	assert_non_null(r);
	msleep(1500);
	vm = cli_json(&d, &rc, "show", name);
	assert_int_equal(rc, 0);
	assert_int_equal(jnum(vm, "pio"), PIO);
	assert_int_equal(jnum(vm, "userspace_exits"),
			 jnum(cJSON_GetArrayItem(jget(r, "vcpus"), 0), "kvm_run") +
			 jnum(cJSON_GetArrayItem(jget(r, "vcpus"), 1), "kvm_run"));
	cJSON_Delete(vm);
	cJSON_Delete(r);
	svc_stop(&d);
}

/* A VM's series stay with its final counts for the grace period after it
 * exits, then disappear from the scrape. */
static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void vm_series_leave_after_grace(void **state)
{
	static struct kpd d;	/* outlives a failed test: stop_all() */
	char name[64], rep[160], series[160], *addr, *t = NULL;
	uint64_t t0;
	int i;

	memset(&d, 0, sizeof(d));
	assert_int_equal(svc_start(&d, NULL, (const char *const[]){
		"--metrics-listen", "127.0.0.1:0", "--grace-ms", "2000",
		"--interval-ms", "100", NULL }, NULL, NULL), 0);
	addr = metrics_addr(&d);
	assert_non_null(addr);
	snprintf(name, sizeof(name), "svc-grace-%d", getpid());
	snprintf(rep, sizeof(rep), "%s/grace.json", d.dir);
	assert_int_equal(wait_exit(start_guest(name, rep)), 0);
	snprintf(series, sizeof(series), "kvmprof_vm_running{vm=\"%s\"}", name);
	for (i = 0; i < 50; i++) {
		free(t);
		t = scrape(addr);
		if (sample(t, series) == 0)
			break;
		msleep(50);
	}
	assert_true(i < 50);
	t0 = now_ms();		/* found exited (within one harvest) */
	/* final counts, while in the grace period */
	snprintf(series, sizeof(series), "kvmprof_pio_total{vm=\"%s\",vcpu="
		 "\"0\",port=\"0x3f8\",direction=\"out\"}", name);
	assert_int_equal(sample(t, series), split(PIO, NVCPUS, 0));
	/* then gone: no series names the VM */
	snprintf(series, sizeof(series), "vm=\"%s\"", name);
	for (i = 0; i < 100; i++) {
		free(t);
		t = scrape(addr);
		if (!strstr(t, series))
			break;
		msleep(50);
	}
	assert_true(i < 100);
	/* not before the grace period (2000 ms, less one harvest) */
	assert_true(now_ms() - t0 >= 1800);
	free(t);
	free(addr);
	svc_stop(&d);
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
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
			      (socklen_t)(offsetof(struct sockaddr_un,
						   sun_path) + 1 +
					  strlen(sa.sun_path + 1))), 0);
	snprintf(env_sock, sizeof(env_sock), "NOTIFY_SOCKET=@%s",
		 sa.sun_path + 1);
	assert_int_equal(svc_start(&d, NULL, (const char *const[]){
		"--metrics-listen", "off", NULL }, (const char *const[]){
		env_sock, "WATCHDOG_USEC=400000", NULL }, NULL), 0);
	/* the first message is READY=1, with the probes attached by then */
	assert_true(recv_msg(fd, buf, sizeof(buf), 5000) > 0);
	assert_non_null(strstr(buf, "READY=1"));
	st = api(&d, "/v1/status");
	cJSON_ArrayForEach(p, jget(st, "probes"))
		attached += !strcmp(jget(p, "state")->valuestring, "attached");
	cJSON_Delete(st);
	assert_true(attached > 0);
	snprintf(want, sizeof(want), "STATUS=%d of ", attached);
	assert_non_null(strstr(buf, want));
	/* watchdog pings every 200 ms */
	t0 = (uint64_t)time(NULL);
	while (wd < 4 && (uint64_t)time(NULL) - t0 < 5) {
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

static double status_num(const struct kpd *d, const char *path)
{
	cJSON *st = api(d, "/v1/status");
	double v = jnum(st, path);

	cJSON_Delete(st);
	return v;
}

/* SIGHUP applies the file; keys that need a restart are kept (with a
 * warning); a bad file names FILE:LINE and leaves the old configuration. */
static void reload_applies_and_rejects(void **state)
{
	static struct kpd d;	/* outlives a failed test: stop_all() */
	char conf[128], log[128], text[512], *logtext, *m = NULL, addr[64];
	char want[256];
	int port = free_port(), i;

	memset(&d, 0, sizeof(d));

	snprintf(d.dir, sizeof(d.dir), "/tmp/kvmprof-svc.XXXXXX");
	assert_non_null(mkdtemp(d.dir));
	chmod(d.dir, 0755);	/* kvmprofd reads it as user kvmprof */
	snprintf(conf, sizeof(conf), "%s/kvmprofd.conf", d.dir);
	snprintf(log, sizeof(log), "%s/log", d.dir);
	write_file(conf, "# test\ngrace-ms = 1000\n"
		   "metrics-listen = 127.0.0.1:0\n", 0644);
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
	assert_int_equal(svc_start(&d, NULL, (const char *const[]){
		"--config", conf, NULL }, NULL, log), 0);
	assert_int_equal(status_num(&d, "grace_ms"), 1000);
	/* good change: reloadable keys apply, socket is kept */
	snprintf(text, sizeof(text), "grace-ms = 2500\n"
		 "metrics-listen = 127.0.0.1:%d\nmax-counters = 1024\n", port);
	write_file(conf, text, 0644);
	kill(d.pid, SIGHUP);
	for (i = 0; i < 100 && status_num(&d, "service.reloads_ok") != 1; i++)
		msleep(50);
	assert_true(i < 100);
	assert_int_equal(status_num(&d, "grace_ms"), 2500);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	m = scrape(addr);
	assert_non_null(m);
	assert_int_equal(sample(m, "kvmprof_config_last_reload_successful"), 1);
	assert_int_equal(sample(m, "kvmprof_config_reloads_total{result=\""
				   "success\"}"), 1);
	free(m);
	/* bad change: nothing applies, the file and line are named */
	write_file(conf, "grace-ms = 3000\ninterval-ms = 100\nbogus-key = 1\n",
		   0644);
	kill(d.pid, SIGHUP);
	for (i = 0; i < 100 && status_num(&d, "service.reloads_failed") != 1;
	     i++)
		msleep(50);
	assert_true(i < 100);
	assert_int_equal(status_num(&d, "grace_ms"), 2500);
	assert_int_equal(status_num(&d, "harvest_interval_ms"), 1000);
	m = scrape(addr);
	assert_non_null(m);
	assert_int_equal(sample(m, "kvmprof_config_last_reload_successful"), 0);
	free(m);
	logtext = read_file(log);
	assert_non_null(logtext);
	snprintf(want, sizeof(want), "%s:3: unknown key 'bogus-key'; keeping "
		 "the running configuration", conf);
	if (!strstr(logtext, want) ||
	    !strstr(logtext, "max-counters: changed, takes effect at the "
		    "next start"))
		fail_msg("log:\n%s", logtext);
	free(logtext);
	svc_stop(&d);
}

/*
 * The daemon inside its unit's identity, capabilities and system call
 * filter (tests/service/unit-exec.c applies them like systemd): every
 * probe whose tracepoint exists attaches, BPF stats are on, counts are
 * exact, and the drop leaves nothing.
 */
static void runs_inside_the_unit_sandbox(void **state)
{
	static struct kpd d;	/* outlives a failed test: stop_all() */
	char wrapper[256], name[64], rep[160];
	const char *const wr[] = { bin_path("tests/unit-exec", wrapper,
					    sizeof(wrapper)), UNIT, "--", NULL };
	uid_t uid;
	gid_t gid;
	cJSON *st, *vm, *r;
	const cJSON *p;
	int rc;

	memset(&d, 0, sizeof(d));

	ensure_kvmprof_user();
	uid = kvmprof_uid(&gid);
	/* like RuntimeDirectory=kvmprof: owned by the service user, 0750 */
	snprintf(d.dir, sizeof(d.dir), "/tmp/kvmprof-svc.XXXXXX");
	assert_non_null(mkdtemp(d.dir));
	assert_int_equal(chown(d.dir, uid, gid), 0);
	chmod(d.dir, 0750);
	assert_int_equal(svc_start(&d, wr, (const char *const[]){
		"--metrics-listen", "127.0.0.1:0", NULL }, NULL, NULL), 0);
	assert_int_equal(status_field(d.pid, "Uid", 10), uid);
	assert_int_equal(status_field(d.pid, "Seccomp", 10), 2);
	assert_int_equal(status_field(d.pid, "NoNewPrivs", 10), 1);
	assert_int_equal(status_field(d.pid, "CapEff", 16),
			 kernel_wants_cap_bpf() ? 1ll << 39 : 0);
	assert_int_equal(status_field(d.pid, "CapAmb", 16), 0);
	st = api(&d, "/v1/status");
	assert_non_null(st);
	/* the unit grants no CAP_SYS_ADMIN: no BPF run-time stats */
	assert_false(cJSON_IsTrue(jget(st, "bpf_stats")));
	cJSON_ArrayForEach(p, jget(st, "probes")) {
		char tp[256];
		const char *n = jget(p, "name")->valuestring;

		snprintf(tp, sizeof(tp), "/sys/kernel/tracing/events/kvm/%s", n);
		if (!access(tp, F_OK) &&
		    strcmp(jget(p, "state")->valuestring, "attached"))
			fail_msg("probe %s not attached in the sandbox: %s", n,
				 cJSON_IsString(jget(p, "reason")) ?
				 jget(p, "reason")->valuestring : "");
	}
	cJSON_Delete(st);
	snprintf(name, sizeof(name), "svc-unit-%d", getpid());
	snprintf(rep, sizeof(rep), "/tmp/kvmprof-svc-unit-%d.json", getpid());
	assert_int_equal(wait_exit(start_guest(name, rep)), 0);
	r = read_json_file(rep);
	unlink(rep);
	assert_non_null(r);
	msleep(1500);
	vm = cli_json(&d, &rc, "show", name);
	assert_int_equal(rc, 0);
	assert_int_equal(jnum(vm, "pio"), PIO);
	assert_int_equal(jnum(vm, "mmio_write"), MMIO_W);
	cJSON_Delete(vm);
	cJSON_Delete(r);
	svc_stop(&d);
}

int main(void)
{
	const struct CMUnitTest with_prometheus[] = {
		cmocka_unit_test(live_scrape_passes_promtool),
		cmocka_unit_test(prometheus_query_gives_exact_counts),
		cmocka_unit_test(dashboard_uses_exported_metrics),
	};
	const struct CMUnitTest alone[] = {
		cmocka_unit_test(socket_only_for_group_kvmprof),
		cmocka_unit_test(metrics_port_loopback_only),
		cmocka_unit_test(privileges_after_drop),
		cmocka_unit_test(vm_series_leave_after_grace),
		cmocka_unit_test(systemd_notify_protocol),
		cmocka_unit_test(reload_applies_and_rejects),
		cmocka_unit_test(runs_inside_the_unit_sandbox),
	};
	const char *why = kvm_bpf_missing();
	int r;

	if (why) {
		fprintf(stderr, "SKIP: %s\n", why);
		return SKIP_EXIT;
	}
	if (access("/usr/bin/prometheus", X_OK) || access("/usr/bin/promtool",
							  X_OK)) {
		fprintf(stderr, "SKIP: prometheus/promtool missing (Debian "
			"package prometheus, see deps/service.txt)\n");
		return SKIP_EXIT;
	}
	if (access(UNIT, R_OK)) {
		fprintf(stderr, "SKIP: run from the source tree (%s)\n", UNIT);
		return SKIP_EXIT;
	}
	if (getenv("KP_TEST_FILTER"))	/* e.g. KP_TEST_FILTER='reload*' */
		cmocka_set_test_filter(getenv("KP_TEST_FILTER"));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmocka_run_group_tests_name("prometheus", with_prometheus,
					group_setup, group_teardown);
	r |= cmocka_run_group_tests_name("service", alone, NULL, NULL);
	stop_all();
	curl_global_cleanup();
	return r ? 1 : 0;
}
