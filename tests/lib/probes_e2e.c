// SPDX-License-Identifier: GPL-2.0-only
/* The daemon of the probe-injection end-to-end tests (probes_e2e.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "inject.h"
#include "probes_e2e.h"

struct kpd kpd;
uint32_t min_id;

static int setup(void **state)
{
	static const char *const extra[] = { "--interval-ms", "100",
					     "--load-unavailable", NULL };

	min_id = max_prog_id();
	if (kpd_start(&kpd, extra))
		return -1;
	inject_owner = kpd.pid; /* its programs, not another test's */
	return 0;
}

static int teardown(void **state)
{
	return kpd_stop(&kpd) != 0;
}

/* Every event is injected through BPF_PROG_TEST_RUN: no guest, no /dev/kvm */
/* Every event is injected through BPF_PROG_TEST_RUN: no guest, no /dev/kvm */
int probes_e2e_main(const char *name, const struct CMUnitTest *tests, size_t n)
{
	const char *why = bpf_missing();

	if (why) {
		fprintf(stderr, "SKIP %s: %s\n", name, why);
		return SKIP_EXIT;
	}
	return _cmocka_run_group_tests("tests", tests, n, setup, teardown);
}
