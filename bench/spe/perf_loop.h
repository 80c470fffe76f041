/* SPDX-License-Identifier: GPL-2.0-only */
/* perf's SPE record decoder loop (bench/spe/perf_loop.c), and the clocks. */
#ifndef KVMPROF_BENCH_PERF_LOOP_H
#define KVMPROF_BENCH_PERF_LOOP_H

#include <stddef.h>
#include <stdint.h>

double mono(void);
double cpu_self(void);

/*
 * Decodes @buf with perf's arm_spe_decode() until it runs out of data, as
 * perf's arm-spe.c does; returns the wall time (-1: no memory), the
 * records in *@ret_recs and the CPU time in *@ret_cpu.
 */
double run_perf(const uint8_t *buf, size_t len, uint64_t *ret_recs,
		double *ret_cpu);

#endif
