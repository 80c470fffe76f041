// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pieces of `kvmprof spe` (cli/spe*.c): the input (a raw SPE file or a
 * recording, split into streams) and the options the commands share.
 */
#ifndef KVMPROF_CLI_SPE_H
#define KVMPROF_CLI_SPE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <kvmprof/spe.h>
#include <kvmprof/spe_profile.h>
#include <kvmprof/spefile.h>
#include "cli.h"

/* One SPE byte stream: a raw file, or one vCPU of a recording. */
struct stream {
	int64_t vcpu; /* -1: raw file */
	uint8_t *buf; /* owned when recording */
	size_t len, cap;
};

struct input {
	struct spe_input file; /* the decompressed (or mapped) file */
	bool recording;	       /* streams per vCPU (KPSPE or perf.data) */
	bool perfdata;
	int fd;	       /* >= 0: a raw file decoded as it is read */
	uint64_t midr; /* from the recording's metadata, or 0 */
	char vm[128];  /* VM name from the metadata, or "" */
	struct stream *streams;
	size_t nstreams;
};

struct opts {
	const char *file;
	const char *symbols;
	const char *pprof; /* report --pprof OUT.pb.gz */
	uint64_t midr;
	bool have_midr;
	bool csv;
	bool json;
	size_t top;
};

/* cli/spe.c */
int parse_midr(const char *s, uint64_t *ret);
int begin(struct cli_ctx *ctx, int argc, char **argv, struct opts *o,
	  struct input *in, struct spe_dec_stats *st, bool fmt, bool report);

/* cli/spe_input.c: the input, read and checked whole */
void input_free(struct input *in);
int input_load(struct cli_ctx *ctx, const char *cmd, const char *file,
	       struct input *in, bool stream);
int profile_all(const struct input *in, struct spe_profile *p,
		struct spe_dec_stats *ret_st);
int check_stats(struct cli_ctx *ctx, const char *cmd, const char *file,
		const struct spe_dec_stats *st);
int input_check(struct cli_ctx *ctx, const char *cmd, const char *file,
		const struct input *in, struct spe_dec_stats *ret_st);
int out_done(struct cli_ctx *ctx, const char *cmd);
void print_stats_text(FILE *f, const struct spe_dec_stats *st);
void print_stats_json(FILE *f, const struct spe_dec_stats *st);

/* cli/spe_dump.c */
int cmd_dump(struct cli_ctx *ctx, int argc, char **argv);
int cmd_records(struct cli_ctx *ctx, int argc, char **argv);

/* cli/spe_report.c */
int cmd_report(struct cli_ctx *ctx, int argc, char **argv);

#endif
