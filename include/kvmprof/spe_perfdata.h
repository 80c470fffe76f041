/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Arm SPE trace inside a perf.data file (perf record -e arm_spe//): the
 * AUXTRACE records of each AUX buffer, in file order.  lib/spe/perfdata.c.
 */
#ifndef KVMPROF_SPE_PERFDATA_H
#define KVMPROF_SPE_PERFDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One AUXTRACE record's data: AUX buffer @idx, @cpu (UINT32_MAX: per
 * thread). */
typedef int (*spe_perfdata_fn)(void *arg, uint32_t idx, uint32_t cpu,
			       const uint8_t *data, size_t len);

/* Starts with perf's "PERFILE2" magic? */
bool spe_perfdata_is(const uint8_t *buf, size_t len);

/*
 * Calls @fn for each AUXTRACE record of a (decompressed, whole) perf.data
 * file.  Returns 0, @fn's first non-zero return, -EBADMSG (malformed),
 * -EPROTONOSUPPORT (pipe-mode file), -ENOTSUP (another trace, e.g. Intel
 * PT) or -ENODATA (no Arm SPE trace).
 */
int spe_perfdata_walk(const uint8_t *buf, size_t len, spe_perfdata_fn fn,
		      void *arg);

/*
 * Writing a perf.data that perf report -D and perf script decode as Arm
 * SPE (on any host): a temporary file next to @path, renamed on commit.
 */
#define SPE_PERFDATA_MAX_CPUS 4096

struct spe_perfdata_writer {
	FILE *f;
	uint64_t data_off, data_len;
	uint64_t *offs; /* per CPU: bytes written so far */
	int err;
	char path[4096];
	char tmp[4096];
};

int spe_perfdata_create(struct spe_perfdata_writer *w, const char *path);
/* The next @len bytes of @cpu's SPE stream (one AUXTRACE record). */
int spe_perfdata_aux(struct spe_perfdata_writer *w, uint32_t cpu,
		     const void *data, size_t len);
int spe_perfdata_commit(struct spe_perfdata_writer *w);
void spe_perfdata_abort(struct spe_perfdata_writer *w);

#endif
