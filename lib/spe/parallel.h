/* SPDX-License-Identifier: GPL-2.0-only */
/* How parallel.c shares out its input (tests make the pieces small). */
#ifndef KVMPROF_SPE_PARALLEL_H
#define KVMPROF_SPE_PARALLEL_H

#include <stddef.h>

struct spe_par_tune {
	size_t chunk;	     /* bytes a thread claims (and reads) at a time */
	size_t steal_min;    /* bytes a range must have left to be halved */
	unsigned int pieces; /* ranges the input is cut in before starting */
};

/* The defaults (1 MiB, 4 MiB, 1 piece); NULL restores them. */
void spe_par_set_tune(const struct spe_par_tune *t);

#endif
