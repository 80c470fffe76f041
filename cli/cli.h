/* SPDX-License-Identifier: GPL-2.0-only */
/* kvmprof CLI: shared context, dispatch tables and the one error printer. */
#ifndef KVMPROF_CLI_H
#define KVMPROF_CLI_H

#include <stdbool.h>

struct cli_ctx {
	bool json;		/* --json: machine-readable output everywhere */
	const char *socket;	/* daemon API socket */
	const char *prog;	/* argv[0] basename, for messages */
};

typedef int (*cli_fn)(struct cli_ctx *ctx, int argc, char **argv);

/* One row of a per-noun dispatch table; the table ends with a NULL name. */
struct cli_cmd {
	const char *name;	/* matched exactly */
	cli_fn fn;
	const char *args;	/* synopsis of the arguments, for help */
	const char *help;	/* one line */
};

/*
 * The one error printer: "kvmprof: <msg>" on stderr, or with --json
 * {"error": "<msg>", "errno": <err>} on stdout.  Returns the exit code to
 * use (1), so callers write `return cli_err(ctx, -ENOENT, "...")`.
 */
int cli_err(const struct cli_ctx *ctx, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Exact-match dispatch of argv[0] in @table; unknown → cli_err + usage. */
int cli_dispatch(struct cli_ctx *ctx, const char *noun,
		 const struct cli_cmd *table, int argc, char **argv);

/* Nouns implemented in their own files. */
int cmd_spe(struct cli_ctx *ctx, int argc, char **argv);	/* cli/spe.c */
extern const struct cli_cmd spe_cmds[];				/* for help */

#endif
