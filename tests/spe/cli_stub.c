// SPDX-License-Identifier: GPL-2.0-only
/*
 * Stand-ins for cli/kvmprof.c's cli_err() and cli_dispatch(), so that the
 * SPE commands can be tested without the daemon client.  Same contract as
 * cli/cli.h: the error printer returns 1, JSON errors go to stdout.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../../cli/cli.h"

int cli_err(const struct cli_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (ctx->json) {
		printf("{\"error\":\"");
		vprintf(fmt, ap);
		printf("\",\"errno\":%d}\n", err < 0 ? -err : err);
	} else {
		fprintf(stderr, "%s: ", ctx->prog);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
	return 1;
}

int cli_dispatch(struct cli_ctx *ctx, const char *noun,
		 const struct cli_cmd *table, int argc, char **argv)
{
	if (argc < 1)
		return cli_err(ctx, -EINVAL, "missing command");
	for (; table->name; table++)
		if (!strcmp(table->name, argv[0]))
			return table->fn(ctx, argc, argv);
	return cli_err(ctx, -EINVAL, "unknown command '%s %s'", noun, argv[0]);
}
