// SPDX-License-Identifier: GPL-2.0-only
/* The start of every end-to-end test program (see harness.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "harness.h"

static int begin(const char *why)
{
	if (why) {
		fprintf(stderr, "SKIP: %s\n", why);
		return SKIP_EXIT;
	}
	if (getenv("KP_TEST_FILTER"))
		cmocka_set_test_filter(getenv("KP_TEST_FILTER"));
	return 0;
}

int e2e_begin(void)
{
	return begin(kvm_bpf_missing());
}

int e2e_begin_bpf(void)
{
	return begin(bpf_missing());
}
