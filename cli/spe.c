// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmprof spe dump|records|report FILE: offline SPE decoding.
 *
 * This file: the commands and their arguments; cli/spe.h lists the pieces.
 *
 * FILE is raw SPE data or a `kvmprof record` recording, either possibly
 * gzip- or zlib-compressed.  The input is read and checked whole before
 * anything is printed, so a bad file gives one error and no output.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "spe.h"

#define TOP_DEFAULT	20
#define TOP_MAX		10000

/* ---- arguments ------------------------------------------------------------ */

int parse_midr(const char *s, uint64_t *ret)
{
	char *end;

	for (unsigned int c = 1; c < SPE_CPU_NR; c++) {
		const char *name = spe_cpu_name(c);

		/* "neoverse-n1" or just "n1" */
		if (!strcmp(s, name) || (!strncmp(name, "neoverse-", 9) &&
					 !strcmp(s, name + 9))) {
			*ret = spe_cpu_midr(c);
			return 0;
		}
	}
	errno = 0;
	*ret = strtoull(s, &end, 0);
	return errno || end == s || *end || *ret > 0xffffffffull ? -EINVAL : 0;
}

static int parse_args(struct cli_ctx *ctx, int argc, char **argv,
		      struct opts *o, bool allow_fmt, bool allow_report)
{
	o->json = ctx->json;
	o->top = TOP_DEFAULT;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--midr") && i + 1 < argc) {
			if (parse_midr(argv[++i], &o->midr))
				return cli_err(ctx, -EINVAL, "spe %s: bad --midr "
					       "'%s' (hex MIDR_EL1 value or n1, "
					       "n2, v1, v2, ampereone)",
					       argv[0], argv[i]);
			o->have_midr = true;
		} else if (allow_fmt && !strcmp(a, "--csv")) {
			o->csv = true;
		} else if (!strcmp(a, "--json")) {
			o->json = true;
		} else if (allow_report && !strcmp(a, "--symbols") &&
			   i + 1 < argc) {
			o->symbols = argv[++i];
		} else if (allow_report && !strcmp(a, "--pprof") &&
			   i + 1 < argc) {
			o->pprof = argv[++i];
		} else if (allow_report && !strcmp(a, "--top") &&
			   i + 1 < argc) {
			char *end;

			o->top = strtoul(argv[++i], &end, 10);
			if (*end || !o->top || o->top > TOP_MAX)
				return cli_err(ctx, -EINVAL, "spe %s: --top takes "
					       "1..%d", argv[0], TOP_MAX);
		} else if (a[0] == '-' && a[1]) {
			return cli_err(ctx, -EINVAL, "spe %s: unknown or "
				       "incomplete option '%s'", argv[0], a);
		} else if (!o->file) {
			o->file = a;
		} else {
			return cli_err(ctx, -EINVAL, "spe %s: unexpected '%s'",
				       argv[0], a);
		}
	}
	if (o->csv && o->json)
		return cli_err(ctx, -EINVAL, "spe %s: --csv or --json, not both",
			       argv[0]);
	if (!o->file)
		return cli_err(ctx, -EINVAL, "spe %s: missing FILE", argv[0]);
	return 0;
}

/* Common start of the three commands. */
int begin(struct cli_ctx *ctx, int argc, char **argv, struct opts *o,
	  struct input *in, struct spe_dec_stats *st, bool fmt, bool report)
{
	int ret;

	memset(o, 0, sizeof(*o));
	ret = parse_args(ctx, argc, argv, o, fmt, report);
	if (ret)
		return ret;
	/* report without --pprof decodes a raw file as it reads it */
	ret = input_load(ctx, argv[0], o->file, in, report && !o->pprof);
	if (ret)
		return ret;
	if (!o->have_midr)
		o->midr = in->midr;
	/* report decodes once, and checks what that pass counted */
	if (report)
		return 0;
	ret = input_check(ctx, argv[0], o->file, in, st);
	if (ret)
		input_free(in);
	return ret;
}

const struct cli_cmd spe_cmds[] = {
	{ "dump", cmd_dump, "FILE [--midr X] [--json]",
	  "SPE packets, one line each, as `perf report -D` prints them" },
	{ "records", cmd_records, "FILE [--json|--csv] [--midr X]",
	  "decoded SPE records, every field" },
	{ "report", cmd_report,
	  "FILE [--midr X] [--symbols PATH[@OFFSET],...] [--top N] [--json] "
	  "[--pprof OUT.pb.gz]",
	  "profile: ELs, top PCs and guest PIDs, op mix, event rates, "
	  "latency histograms, data sources" },
	{ NULL, NULL, NULL, NULL },
};

int cmd_spe(struct cli_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "spe", spe_cmds, argc, argv);
}
