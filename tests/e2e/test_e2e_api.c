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
#include <cmocka.h>

#include <kvmprof/client.h>
#include <kvmprof/util.h>
#include "harness.h"

static struct kpd kpd;

/* GET @path: the HTTP status, the body a JSON error with that status
 * unless it is 200. */
static long get_status(const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	long status = 0;
	cJSON *j;

	assert_int_equal(kp_api_get_raw(kpd.sock, path, &buf, &len, &status,
					NULL, NULL, 0),
			 0);
	j = cJSON_ParseWithLength((const char *)buf, len);
	if (!j)
		fail_msg("%s: %ld, not JSON: %.*s", path, status, (int)len,
			 buf ? (char *)buf : "");
	if (status != 200) {
		const cJSON *e = cJSON_GetObjectItem(j, "error");
		const cJSON *s = cJSON_GetObjectItem(j, "status");

		if (!cJSON_IsString(e) || !*e->valuestring ||
		    !cJSON_IsNumber(s) || s->valuedouble != status)
			fail_msg("%s: %ld, error body %.*s", path, status,
				 (int)len, (char *)buf);
	}
	cJSON_Delete(j);
	free(buf);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(malformed_query_is_400),
	};
	int r = e2e_begin_bpf();

	return r ? r : cmocka_run_group_tests(tests, NULL, NULL);
}
