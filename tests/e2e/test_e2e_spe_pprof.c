// SPDX-License-Identifier: GPL-2.0-only
/*
 * GET /v1/vms/{ref}/spe/pprof?seconds=N end to end: SPE data injected
 * through kvm_spe_copy_out (BPF_PROG_TEST_RUN, as in test_e2e_spe.c),
 * the daemon's gzipped pprof read by a real consumer, go tool pprof
 * (tests/spe/pprof-compare.sh), against `kvmprof spe report` of the same
 * bytes; and the parameter's bounds.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <kvmprof/client.h>
#include "harness.h"
#include "inject.h"
#include "probes_e2e.h"
#include "spestream.h"

static bool bytes_at_least(const cJSON *spe, const void *arg)
{
	return jnum(spe, "bytes") >= *(const double *)arg;
}

static void wait_bytes(double bytes)
{
	char path[96];
	cJSON *spe;

	snprintf(path, sizeof(path), "/v1/vms/%d/spe?refresh=1", (int)getpid());
	spe = kpd_wait(&kpd, path, bytes_at_least, &bytes, 10000);
	assert_non_null(spe);
	cJSON_Delete(spe);
}

/* GET @query on this VM's spe/pprof: the status, the body in @file. */
static long get_pprof(const char *query, const char *file, char *window)
{
	static const char *const hdrs[] = { "X-Kvmprof-Window-Ms" };
	char path[128], vals[1][KP_HDR_VAL_MAX] = { "" };
	uint8_t *buf = NULL;
	size_t len = 0;
	long status = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/v1/vms/%d/spe/pprof%s", (int)getpid(),
		 query);
	assert_int_equal(kp_api_get_raw(kpd.sock, path, &buf, &len, &status,
					hdrs, vals, 1),
			 0);
	if (file) {
		f = fopen(file, "w");
		assert_non_null(f);
		assert_int_equal(fwrite(buf, 1, len, f), len);
		assert_int_equal(fclose(f), 0);
	}
	if (window)
		snprintf(window, KP_HDR_VAL_MAX, "%s", vals[0]);
	free(buf);
	return status;
}

static void write_file(const char *file, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(file, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void bad_seconds(void **state)
{
	static const char *const bad[] = { "?seconds=0", "?seconds=3601",
					   "?seconds=x", "?seconds=-1",
					   "?seconds=",	 "?seconds" };
	char path[96];
	long status = 0;
	uint8_t *buf = NULL;
	size_t len = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(get_pprof(bad[i], NULL, NULL), 400);
	/* and not on another path */
	snprintf(path, sizeof(path), "/v1/vms/%d/spe?seconds=5", (int)getpid());
	assert_int_equal(kp_api_get_raw(kpd.sock, path, &buf, &len, &status,
					NULL, NULL, 0),
			 0);
	assert_int_equal(status, 400);
	free(buf);
}

/* The pprof of what was injected since recording began, against the
 * report of the same bytes. */
static void pprof_matches_report(void **state)
{
	char pb[160], raw[160], rj[160], env[200], path[256],
		win[KP_HDR_VAL_MAX];
	struct stream first, s;
	struct inject in;
	char *out = NULL;
	int prog;

	if (system("command -v go >/dev/null 2>&1"))
		skip(); /* golang-go missing */
	snprintf(pb, sizeof(pb), "%s/spe.pb.gz", kpd.dir);
	snprintf(raw, sizeof(raw), "%s/spe.raw", kpd.dir);
	snprintf(rj, sizeof(rj), "%s/report.json", kpd.dir);
	assert_int_equal(inject_open(&in), 0);
	prog = find_prog("kp_spe_copy_out", min_id);
	assert_true(prog >= 0);
	/* the VM becomes known with some data before recording starts */
	stream_make(&first, 31, 200);
	inject_pieces(&in, prog, &first, 4096);
	wait_bytes((double)first.len);
	/* the first request starts the window: an empty profile */
	assert_int_equal(get_pprof("?seconds=60", pb, win), 200);
	stream_make(&s, 32, 6000);
	inject_pieces(&in, prog, &s, 65536);
	wait_bytes((double)(first.len + s.len));
	assert_int_equal(get_pprof("?seconds=60", pb, win), 200);
	assert_true(atol(win) <= 60000);
	write_file(raw, s.buf, s.len);
	{
		char *argv[] = { bin_path("kvmprof", path, sizeof(path)),
				 "--json",
				 "spe",
				 "report",
				 raw,
				 "--top",
				 "30",
				 NULL };

		assert_int_equal(run_capture(argv, &out), 0);
		write_file(rj, (const uint8_t *)out, strlen(out));
		free(out);
	}
	/* go tool pprof wants a home and caches */
	snprintf(env, sizeof(env), "%s/go", kpd.dir);
	setenv("HOME", env, 1);
	setenv("GOCACHE", env, 1);
	setenv("PPROF_TMPDIR", env, 1);
	{
		char *argv[] = { "tests/spe/pprof-compare.sh",
				 pb,
				 rj,
				 "--label",
				 "vcpu",
				 "--label",
				 "vm",
				 NULL };

		out = NULL;
		assert_int_equal(run_capture(argv, &out), 0);
		print_message("%s", out);
		free(out);
	}
	stream_free(&first);
	stream_free(&s);
	close(prog);
	inject_close(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pprof_matches_report),
		cmocka_unit_test(bad_seconds),
	};

	return probes_e2e_main("test_e2e_spe_pprof", tests,
			       sizeof(tests) / sizeof(tests[0]));
}
