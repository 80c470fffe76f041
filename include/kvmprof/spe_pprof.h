/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SPE samples as gzipped pprof (profile.proto): `kvmprof spe report
 * --pprof` and the daemon's /v1/vms/{ref}/spe/pprof.  See lib/spe/pprof.c.
 */
#ifndef KVMPROF_SPE_PPROF_H
#define KVMPROF_SPE_PPROF_H

#include <stdio.h>

#include <kvmprof/spe_profile.h>

/* Sample values, in this order. */
enum {
	SPE_PPROF_SAMPLES,  /* samples/count */
	SPE_PPROF_LATENCY,  /* latency/cycles: total latency */
	SPE_PPROF_L1D_MISS, /* l1d_miss/count: L1D refill event */
	SPE_PPROF_LLC_MISS, /* llc_miss/count: LLC miss event */
	SPE_PPROF_NVALUES,
};

struct spe_pprof;

struct spe_pprof *spe_pprof_new(uint64_t midr);
void spe_pprof_free(struct spe_pprof *pp);
/* Adds a record of vCPU @vcpu (-1: unknown); -E2BIG beyond 16 Mi distinct
 * (PC, target, vCPU, EL, op, data source), -ENOMEM. */
int spe_pprof_add(struct spe_pprof *pp, int32_t vcpu,
		  const struct spe_record *r);
/* Writes the gzipped profile; functions from @syms (may be NULL), label
 * vm=@vm (may be NULL).  0, -ENOMEM or -EIO. */
int spe_pprof_write(const struct spe_pprof *pp, FILE *f,
		    const struct spe_symtab *syms, const char *vm,
		    uint64_t duration_ns);

#endif
