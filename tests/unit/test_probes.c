// SPDX-License-Identifier: GPL-2.0-only
/*
 * The BPF object loads on kernels whose configuration libbpf cannot read
 * (no /proc/config.gz, no /boot/config-*, as on the qemu-test arm64
 * kernel): it has no __kconfig extern, and the count cache's age limit in
 * jiffies comes from the tick the loader measures, checked here against
 * this kernel's own CONFIG_HZ.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <cmocka.h>
#include <zlib.h>

#include <bpf/libbpf.h>

#include <kvmprof/abi.h>
#include "probes.h"
#include "kvmprof.skel.h"

/* CONFIG_HZ of the running kernel from its own configuration, or 0. */
static unsigned long kernel_hz(void)
{
	char path[300], line[256];
	struct utsname u;
	unsigned long hz = 0;
	gzFile f = NULL;

	if (!uname(&u)) {
		snprintf(path, sizeof(path), "/boot/config-%s", u.release);
		f = gzopen(path, "r");	/* reads plain files too */
	}
	if (!f)
		f = gzopen("/proc/config.gz", "r");
	if (!f)
		return 0;
	while (gzgets(f, line, sizeof(line)))
		if (!strncmp(line, "CONFIG_HZ=", 10))
			hz = strtoul(line + 10, NULL, 10);
	gzclose(f);
	return hz;
}

static void test_age_limit_matches_config_hz(void **state)
{
	unsigned long hz = kernel_hz(), want;

	if (!hz) {
		fprintf(stderr,
			"SKIP: this kernel's configuration is not readable\n");
		skip();
	}
	want = hz * KP_TC_MAX_AGE_MS / 1000;
	assert_int_equal(probes_tc_max_age_jiffies(KP_TC_MAX_AGE_MS),
			 want ? want : 1);
	assert_int_equal(probes_tc_max_age_jiffies(1000), hz);
}

static void test_no_kconfig_extern(void **state)
{
	struct kvmprof_bpf *skel = kvmprof_bpf__open();
	struct bpf_map *m;
	int maps = 0;

	assert_non_null(skel);
	bpf_object__for_each_map(m, skel->obj) {
		const char *n = bpf_map__name(m);
		size_t l = strlen(n);

		maps++;
		assert_false(l >= 8 && !strcmp(n + l - 8, ".kconfig"));
	}
	assert_true(maps > 0);
	kvmprof_bpf__destroy(skel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_age_limit_matches_config_hz),
		cmocka_unit_test(test_no_kconfig_extern),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
