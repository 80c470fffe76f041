// SPDX-License-Identifier: GPL-2.0-only
/*
 * The CLI's shared pieces: the one error printer (also JSON), dispatch
 * tables, JSON accessors and printers.  Linked by the kvmprof binary and
 * by the tests of its commands (no daemon client here).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <kvmprof/json.h>

#include "cli.h"

int cli_err(const struct cli_ctx *ctx, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ctx->json) {
		cJSON *o = cJSON_CreateObject();
		char *s;

		cJSON_AddStringToObject(o, "error", msg);
		cJSON_AddNumberToObject(o, "errno", err < 0 ? -err : err);
		s = cJSON_PrintUnformatted(o);
		if (s)
			printf("%s\n", s);
		free(s);
		cJSON_Delete(o);
	} else {
		fprintf(stderr, "%s: %s\n", ctx->prog, msg);
	}
	return 1;
}

void cli_print_cmds(FILE *f, const char *noun, const struct cli_cmd *t)
{
	for (; t->name; t++)
		fprintf(f, "  kvmprof %s%s%s%s%s\n      %s\n", noun ? noun : "",
			noun ? " " : "", t->name, *t->args ? " " : "", t->args,
			t->help);
}

int cli_dispatch(struct cli_ctx *ctx, const char *noun,
		 const struct cli_cmd *table, int argc, char **argv)
{
	const struct cli_cmd *t;

	if (argc < 1)
		goto usage;
	for (t = table; t->name; t++)
		if (!strcmp(t->name, argv[0]))
			return t->fn(ctx, argc, argv);
	cli_err(ctx, -EINVAL, "unknown command '%s%s%s'", noun ? noun : "",
		noun ? " " : "", argv[0]);
usage:
	if (!ctx->json) {
		fprintf(stderr, "Commands:\n");
		cli_print_cmds(stderr, noun, table);
	}
	return argc < 1 ? cli_err(ctx, -EINVAL, "missing command") : 1;
}

void cli_print_json(const cJSON *o)
{
	char *s = cJSON_Print(o);

	if (s)
		printf("%s\n", s);
	free(s);
}

uint64_t cli_num(const cJSON *o, const char *k)
{
	uint64_t v = 0;

	kp_json_u64(cJSON_GetObjectItemCaseSensitive(o, k), &v);
	return v;
}

const char *cli_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : "-";
}

const cJSON *cli_obj(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* Commands take no options beyond the global ones: reject strays. */
int cli_no_more_args(struct cli_ctx *ctx, int argc, char **argv, int want)
{
	if (argc > want)
		return cli_err(ctx, -EINVAL, "%s: unexpected argument '%s'",
			       argv[0], argv[want]);
	if (argc < want)
		return cli_err(ctx, -EINVAL, "%s: missing argument", argv[0]);
	return 0;
}

/* "  @label@suffix" before the items of @o; false (nothing printed) if it
 * has none. */
static bool heading(const char *label, const char *suffix, const cJSON *o)
{
	if (!o || !o->child)
		return false;
	printf("  %s%s", label, suffix);
	return true;
}

/* "by_reason"-style object as "A=1 B=2" */
void cli_print_kv(const char *label, const cJSON *o)
{
	const cJSON *it;

	if (!heading(label, ":", o))
		return;
	cJSON_ArrayForEach(it, o)
		printf(" %s=%" PRIu64, it->string, cli_num(o, it->string));
	printf("\n");
}

void cli_print_hist(const char *label, const cJSON *arr)
{
	const cJSON *b;

	if (!heading(label, " (log2 buckets, ns >= min):\n", arr))
		return;
	cJSON_ArrayForEach(b, arr)
		printf("    >= %-12" PRIu64 " %" PRIu64 "\n", cli_num(b, "min"),
		       cli_num(b, "count"));
}

const char *cli_exits(const struct cJSON *vm, uint64_t n, char *buf, size_t len)
{
	if (!strcmp(cli_str(vm, "exits_state"), "silent"))
		return "silent";
	snprintf(buf, len, "%" PRIu64, n);
	return buf;
}
