// SPDX-License-Identifier: GPL-2.0-only
/* Diagnostics of the loaded BPF programs: see progstat.h. */
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "progstat.h"

void for_each_prog(uint32_t min_id, bool (*want)(uint32_t id, void *arg),
		   bool (*cb)(uint32_t id, int fd,
			      const struct bpf_prog_info *info, void *arg),
		   void *arg)
{
	__u32 id = min_id;

	while (!bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd;

		if (want && !want(id, arg))
			continue;
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
		    !cb(id, fd, &info, arg))
			close(fd);
	}
}

struct print_arg {
	const char *prefix;
	FILE *out;
};

static bool print_one(uint32_t id, int fd, const struct bpf_prog_info *info,
		      void *arg)
{
	const struct print_arg *a = arg;

	if (!strncmp(info->name, a->prefix, strlen(a->prefix)))
		fprintf(a->out,
			"prog %u %s: run_cnt %llu recursion_misses %llu\n", id,
			info->name, (unsigned long long)info->run_cnt,
			(unsigned long long)info->recursion_misses);
	return false;
}

void progstat_print(const char *prefix, FILE *out)
{
	for_each_prog(0, NULL, print_one,
		      &(struct print_arg){ .prefix = prefix, .out = out });
}
