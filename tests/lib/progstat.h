/* SPDX-License-Identifier: GPL-2.0-only */
/* Diagnostics of the loaded BPF programs, for a test that failed. */
#ifndef KP_TEST_PROGSTAT_H
#define KP_TEST_PROGSTAT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/bpf.h>

/*
 * Calls @cb for every loaded BPF program with an id above @min_id, in
 * increasing id order, with a descriptor and its info; @cb returns true
 * when it keeps the descriptor (then it closes it), false to have it
 * closed.  @want (if set) first picks the ids to open.
 */
void for_each_prog(uint32_t min_id, bool (*want)(uint32_t id, void *arg),
		   bool (*cb)(uint32_t id, int fd,
			      const struct bpf_prog_info *info, void *arg),
		   void *arg);

/*
 * One line per loaded program whose name starts with @prefix: id, name,
 * runs and recursion misses (runs the kernel skipped because the program
 * was already running on that CPU: events it never saw).
 */
void progstat_print(const char *prefix, FILE *out);

#endif
