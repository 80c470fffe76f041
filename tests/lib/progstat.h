/* SPDX-License-Identifier: GPL-2.0-only */
/* Diagnostics of the loaded BPF programs, for a test that failed. */
#ifndef KP_TEST_PROGSTAT_H
#define KP_TEST_PROGSTAT_H

#include <stdio.h>

/*
 * One line per loaded program whose name starts with @prefix: id, name,
 * runs and recursion misses (runs the kernel skipped because the program
 * was already running on that CPU: events it never saw).
 */
void progstat_print(const char *prefix, FILE *out);

#endif
