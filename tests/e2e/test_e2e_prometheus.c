// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmprofd's Prometheus metrics end to end on real KVM: promtool on a live
 * scrape, a real Prometheus server scraping it, PromQL giving exactly the
 * guest's counts, the Grafana dashboard's expressions, and a VM's series
 * leaving after the grace period.
 * Expectations come from the requested workload and the VMM's own report,
 * never from the daemon.
 */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <curl/curl.h>

#include "guest.h"
#include "harness.h"
#include "http.h"
#include "svc.h"
#include "wait.h"

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
	if (status != 200 || !j ||
	    strcmp(jget(j, "status")->valuestring, "success")) {
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
		v = atof(cJSON_GetArrayItem(
				 jget(cJSON_GetArrayItem(r, 0), "value"), 1)
				 ->valuestring);
	cJSON_Delete(j);
	return v;
}

struct prom_wait {
	const char *expr;
	double want;
};

/* The instant query's single value is @ctx->want */
static bool prom_value_is(void *ctx)
{
	const struct prom_wait *w = ctx;

	return prom_value(w->expr) == w->want;
}

/* A scrape of @addr (kept in @text) whose @series has the value @want,
 * or, with @absent, in which no series names @series (a label). */
struct scrape_wait {
	const char *addr, *series;
	double want;
	bool absent;
	char *text;
};

static bool scrape_shows(void *ctx)
{
	struct scrape_wait *w = ctx;

	free(w->text);
	w->text = scrape(w->addr);
	if (!w->text)
		return false;
	if (w->absent)
		return !strstr(w->text, w->series);
	return sample(w->text, w->series) == w->want;
}

/* Prometheus answers /-/ready, or is gone (*@ctx: its pid, -1 then) */
static bool prom_ready(void *ctx)
{
	pid_t *pid = ctx;
	char *body = NULL;
	long status = 0;
	bool ok = !http_get(prom_addr, "/-/ready", &body, &status) &&
		  status == 200;

	free(body);
	if (!ok && waitpid(*pid, NULL, WNOHANG) == *pid)
		*pid = -1;
	return ok || *pid < 0;
}

static int start_prometheus(void)
{
	char cfg[128], data[128], text[1024], listen[96];
	int port = free_port();
	char *argv[] = { "/usr/bin/prometheus",
			 NULL,
			 NULL,
			 NULL,
			 "--log.level=warn",
			 "--storage.tsdb.retention.time=1h",
			 NULL };

	if (port < 0)
		return port;
	snprintf(prom_dir, sizeof(prom_dir), "/tmp/kvmprof-prom.XXXXXX");
	if (!mkdtemp(prom_dir))
		return -errno;
	snprintf(prom_addr, sizeof(prom_addr), "127.0.0.1:%d", port);
	snprintf(cfg, sizeof(cfg), "%s/prometheus.yml", prom_dir);
	snprintf(text, sizeof(text),
		 "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
		 "scrape_configs:\n  - job_name: kvmprof\n"
		 "    static_configs:\n      - targets: ['%s']\n",
		 maddr);
	write_file(cfg, text, 0644);
	snprintf(data, sizeof(data), "--storage.tsdb.path=%s/data", prom_dir);
	snprintf(listen, sizeof(listen), "--web.listen-address=%s", prom_addr);
	argv[1] = (char[160]){ 0 };
	snprintf(argv[1], 160, "--config.file=%s", cfg);
	argv[2] = data;
	argv[3] = listen;
	prom_pid = spawn(argv);
	if (!wait_until(prom_ready, &prom_pid, 60000))
		return -ETIMEDOUT;
	return prom_pid < 0 ? -ECHILD : 0;
}

static int group_setup(void **state)
{
	static const char *const extra[] = { "--metrics-listen", "127.0.0.1:0",
					     "--grace-ms",	 "600000",
					     "--bpf-stats",	 NULL };
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
	if (!wait_until(prom_value_is,
			&(struct prom_wait){ "up{job=\"kvmprof\"}", 1 },
			30000)) {
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
	char running[128], file[160], *text, *doc, *out = NULL;
	char *argv[] = { "/bin/sh", "-c", NULL, NULL };
	char cmd[256];
	pid_t g = start_guest(guest_name, guest_report);
	struct scrape_wait w = { maddr, running, 1, false, NULL };

	snprintf(running, sizeof(running), "kvmprof_vm_running{vm=\"%s\"}",
		 guest_name);
	assert_true(wait_until(scrape_shows, &w, 10000));
	text = w.text;
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
	for (char *p = strstr(text, "# TYPE "); p;
	     p = strstr(p + 1, "# TYPE ")) {
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
					  sizeof(ct), &body),
				 200);
		assert_string_equal(ct, "text/plain; version=0.0.4; "
					"charset=utf-8");
		assert_true(body > 1000);
		assert_int_equal(http_req("HEAD", maddr, "/metrics", ct,
					  sizeof(ct), &body),
				 200);
		assert_int_equal(body, 0);
		assert_int_equal(http_req("POST", maddr, "/metrics", ct,
					  sizeof(ct), &body),
				 405);
		assert_int_equal(http_req("GET", maddr, "/v1/status", ct,
					  sizeof(ct), &body),
				 404);
	}
	assert_int_equal(wait_exit(g), 0);
	report = read_json_file(guest_report);
	assert_non_null(report);
}

/* A real Prometheus scraped kvmprofd during the run; PromQL returns exactly
 * the guest's counts. */
static void prometheus_query_gives_exact_counts(void **state)
{
	char expr[512], running[128];
	struct scrape_wait w = { maddr, running, 0, false, NULL };
	cJSON *j;
	const cJSON *res, *it;
	double seen[NVCPUS][3] = { { 0 } };	/* IO, MMIO, all */

	assert_non_null(report);
	/* kvmprofd has folded the final counts in: the VM is marked exited */
	snprintf(running, sizeof(running), "kvmprof_vm_running{vm=\"%s\"}",
		 guest_name);
	assert_true(wait_until(scrape_shows, &w, 10000));
	free(w.text);
	/* and Prometheus has scraped that */
	snprintf(expr, sizeof(expr), "kvmprof_vm_running{vm=\"%s\"}",
		 guest_name);
	assert_true(wait_until(prom_value_is, &(struct prom_wait){ expr, 0 },
			       20000));
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
		double v = atof(
			cJSON_GetArrayItem(jget(it, "value"), 1)->valuestring);

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
		assert_int_equal(seen[v][1],
				 split(MMIO_W, NVCPUS, (unsigned)v));
	}
	snprintf(expr, sizeof(expr),
		 "sum(kvmprof_pio_total{vm=\"%s\",port=\"0x3f8\","
		 "direction=\"out\"})",
		 guest_name);
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

/* A series of query result @j has the label vm="@name" */
static bool shows_vm(const cJSON *j, const char *name)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, jget(j, "data.result")) {
		const cJSON *vm = jget(r, "metric.vm");

		if (cJSON_IsString(vm) && !strcmp(vm->valuestring, name))
			return true;
	}
	return false;
}

/* A guest whose VMM keeps KVM stats fds (--irqchip --hlt), scraped twice
 * by Prometheus: KVM's own statistics (kvmprof_kvm_*) for the dashboard.
 * Its pid; its name in @name. */
static pid_t start_stats_guest(char *name, size_t len)
{
	/* the VM's stats fd too: the dashboard's per-VM KVM panels */
	const char *const args[] = { "--name", name,	    "--vcpus",
				     "2",      "--irqchip", "--hlt",
				     "20",     "--repeat",  "--vm-stats-fd",
				     NULL };
	char expr[160];
	pid_t g;

	snprintf(name, len, "kvmstats-%d", getpid());
	g = guest_spawn(args);
	assert_true(g > 0);
	snprintf(expr, sizeof(expr),
		 "count_over_time(kvmprof_kvm_vcpu_exits_total{vm=\"%s\"}[1m]) "
		 ">= bool 2",
		 name);
	assert_true(wait_until(prom_value_is, &(struct prom_wait){ expr, 1 },
			       30000));
	return g;
}

/* Every metric the dashboard refers to is exported by kvmprofd (declared
 * in a live scrape), and every expression is valid PromQL that Prometheus
 * runs; the per-VM panels show the guest, the panels of KVM's own
 * statistics the guest that keeps KVM stats fds. */
static void dashboard_uses_exported_metrics(void **state)
{
	cJSON *dash = read_json_file(DASHBOARD);
	char *exprs[256], *text, stats_vm[64];
	size_t n = 0, with_guest = 0, kvm_exprs = 0, with_stats_vm = 0;
	pid_t g = start_stats_guest(stats_vm, sizeof(stats_vm));

	text = scrape(maddr);
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
				p[l] == ':') &&
			       l < sizeof(id) - 1)
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
						fail_msg(
							"dashboard: %s (in %s) "
							"is not exported",
							id, e);
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
		if (strstr(q, "kvmprof_kvm_")) {
			kvm_exprs++;
			with_stats_vm += shows_vm(j, stats_vm);
		}
		if (strstr(q, "kvmprof_userspace_exits_total") ||
		    strstr(q, "kvmprof_pio_total"))
			with_guest += shows_vm(j, guest_name);
		cJSON_Delete(j);
		free(q);
	}
	assert_true(with_guest >= 2);
	assert_true(kvm_exprs >= 6);
	assert_int_equal(with_stats_vm, kvm_exprs);
	kill(g, SIGTERM);
	assert_int_equal(wait_exit(g), 0);
	free(text);
	cJSON_Delete(dash);
}

/* A VM's series stay with its final counts for the grace period after it
 * exits, then disappear from the scrape. */
static void vm_series_leave_after_grace(void **state)
{
	static struct kpd d;	/* outlives a failed test: stop_all() */
	char name[64], rep[160], series[160], grace[16], *addr, *t;
	struct scrape_wait w = { NULL, series, 0, false, NULL };
	uint64_t t0;

	memset(&d, 0, sizeof(d));
	snprintf(grace, sizeof(grace), "%u", 2000 * test_time_scale());
	assert_int_equal(svc_start(&d, NULL,
				   (const char *const[]){
					   "--metrics-listen", "127.0.0.1:0",
					   "--grace-ms", grace, "--interval-ms",
					   "100", NULL },
				   NULL, NULL),
			 0);
	addr = metrics_addr(&d);
	assert_non_null(addr);
	snprintf(name, sizeof(name), "svc-grace-%d", getpid());
	snprintf(rep, sizeof(rep), "%s/grace.json", d.dir);
	assert_int_equal(wait_exit(start_guest(name, rep)), 0);
	snprintf(series, sizeof(series), "kvmprof_vm_running{vm=\"%s\"}", name);
	w.addr = addr;
	assert_true(wait_until(scrape_shows, &w, 2500));
	t = w.text;
	t0 = kp_mono_ms();	/* found exited (within one harvest) */
	/* final counts, while in the grace period */
	snprintf(series, sizeof(series),
		 "kvmprof_pio_total{vm=\"%s\",vcpu="
		 "\"0\",port=\"0x3f8\",direction=\"out\"}",
		 name);
	assert_int_equal(sample(t, series), split(PIO, NVCPUS, 0));
	/* then gone: no series names the VM */
	snprintf(series, sizeof(series), "vm=\"%s\"", name);
	w.absent = true;
	assert_true(wait_until(scrape_shows, &w, 5000));
	/* not before the grace period (2000 ms, less one harvest) */
	assert_true(kp_mono_ms() - t0 >= 2000 * test_time_scale() - 200);
	free(w.text);
	free(addr);
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
		cmocka_unit_test(vm_series_leave_after_grace),
	};
	int r = svc_begin();

	if (r)
		return r;
	if (access("/usr/bin/prometheus", X_OK) ||
	    access("/usr/bin/promtool", X_OK)) {
		fprintf(stderr, "SKIP: prometheus/promtool missing (Debian "
				"package prometheus, see deps/service.txt)\n");
		return SKIP_EXIT;
	}
	if (access(DASHBOARD, R_OK)) {
		fprintf(stderr, "SKIP: run from the source tree (%s)\n",
			DASHBOARD);
		return SKIP_EXIT;
	}
	r = cmocka_run_group_tests_name("prometheus", with_prometheus,
					group_setup, group_teardown);
	r |= cmocka_run_group_tests_name("metrics", alone, NULL, NULL);
	return svc_end(r);
}
