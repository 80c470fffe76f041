/* SPDX-License-Identifier: GPL-2.0-only */
/* kvmprof CLI: shared context, dispatch tables and the one error printer. */
#ifndef KVMPROF_CLI_H
#define KVMPROF_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

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

/* "  kvmprof NOUN NAME ARGS\n      help" for each command of @t. */
void cli_print_cmds(FILE *f, const char *noun, const struct cli_cmd *t);

/* Talking to kvmprofd (cli/kvmprof.c): GET @path, JSON; on failure the
 * error is printed (cli_err) and 1 returned. */
struct cJSON;
int cli_api_get(struct cli_ctx *ctx, const char *path, struct cJSON **ret);
/* JSON accessors and printers (cli/common.c) */
void cli_print_json(const struct cJSON *o);
/* counters are exact 64-bit integers (kvmprof/json.h); 0 when absent */
uint64_t cli_num(const struct cJSON *o, const char *k);
const char *cli_str(const struct cJSON *o, const char *k);
const struct cJSON *cli_obj(const struct cJSON *o, const char *k);
void cli_print_kv(const char *label, const struct cJSON *o);
void cli_print_hist(const char *label, const struct cJSON *arr);
/* exactly @want arguments (argv[0] included), else an error (returns 1) */
int cli_no_more_args(struct cli_ctx *ctx, int argc, char **argv, int want);

/* Per-VM views of the patched-kernel data (cli/vmcmds.c). */
/*
 * What the event table (lib/events.c) says about a counted event in a
 * vCPU's (or vm_level's) object @c: its section, its total, its "by"
 * object or histogram array (NULL when it has none).  (cli/vmcmds.c)
 */
const struct cJSON *cli_ev_section(const struct cJSON *c, uint32_t event);
uint64_t cli_ev_total(const struct cJSON *c, uint32_t event);
const struct cJSON *cli_ev_by(const struct cJSON *c, uint32_t event);
/* A VM's guest exit count @n as shown: "silent" where the daemon says its
 * kvm_exit probe is attached but silent (exits_state), else the number. */
const char *cli_exits(const struct cJSON *vm, uint64_t n, char *buf,
		      size_t len);

int cmd_apf(struct cli_ctx *ctx, int argc, char **argv);
int cmd_top(struct cli_ctx *ctx, int argc, char **argv); /* cli/top.c */
int cmd_sysreg(struct cli_ctx *ctx, int argc, char **argv);
int cmd_kvm_stats(struct cli_ctx *ctx, int argc, char **argv);
int cmd_spe_vm(struct cli_ctx *ctx, int argc, char **argv);
int cmd_record(struct cli_ctx *ctx, int argc, char **argv);

/* Nouns implemented in their own files. */
int cmd_spe(struct cli_ctx *ctx, int argc, char **argv);	/* cli/spe.c */
extern const struct cli_cmd spe_cmds[];				/* for help */

#endif
