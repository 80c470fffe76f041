// SPDX-License-Identifier: GPL-2.0-only
#include "guest.h"
#include "harness.h"

pid_t guest_spawn(const char *const *args)
{
	char path[256];
	char *argv[48];
	size_t n = 0;

	argv[n++] = bin_path("tools/kvmguest", path, sizeof(path));
	for (; args && *args && n < 47; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	return spawn(argv);
}
