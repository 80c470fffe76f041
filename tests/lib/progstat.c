// SPDX-License-Identifier: GPL-2.0-only
/* Diagnostics of the loaded BPF programs: see progstat.h. */
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "progstat.h"

void progstat_print(const char *prefix, FILE *out)
{
	__u32 id = 0;

	while (!bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    !strncmp(info.name, prefix, strlen(prefix)))
			fprintf(out,
				"prog %u %s: run_cnt %llu recursion_misses "
				"%llu\n",
				id, info.name, (unsigned long long)info.run_cnt,
				(unsigned long long)info.recursion_misses);
		close(fd);
	}
}
