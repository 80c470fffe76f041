// SPDX-License-Identifier: GPL-2.0-only
/* kvmprofd's command line, from the configuration keys: see options.h. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kvmprof/util.h>
#include "options.h"
#include "version.h"

/* Options that are not configuration keys. */
enum { O_CONFIG = 'c', O_HELP = 'h', O_PRINT = 512, O_LOADALL, O_VERSION };

static const struct extra_opt {
	const char *name;
	int val;
	char shortopt;
	const char *arg;
	const char *help;
	bool last; /* shown after the keys in --help */
} extra[] = {
	{ "config", O_CONFIG, 'c', "FILE",
	  "configuration file (default " CONFIG_DEFAULT_PATH ")", false },
	{ "print-config", O_PRINT, 0, "[=FORMAT]",
	  "print the effective configuration and exit; FORMAT default-file: "
	  "the annotated defaults (dist/kvmprofd.conf), man-keys: the KEYS of "
	  "kvmprofd.conf(5)",
	  false },
	{ "load-unavailable", O_LOADALL, 0, NULL,
	  "load (not attach) probes whose tracepoint is missing, for "
	  "BPF_PROG_TEST_RUN (testing)",
	  true },
	{ "help", O_HELP, 'h', NULL, "this text", true },
	{ "version", O_VERSION, 0, NULL, "print the version", true },
};
#define NEXTRA (ARRAY_SIZE(extra))
#define O_KEY 256 /* + index in config_key_table[] */

/* "  -s, --socket PATH          help text (default X)", wrapped */
static void usage_line(FILE *f, char shortopt, const char *name,
		       const char *arg, const char *help, const char *def)
{
	char text[512], opt[64];
	const char *p = text;
	size_t col = 29, width = 78 - col;

	snprintf(opt, sizeof(opt), "%c%c%c --%s%s%s", shortopt ? '-' : ' ',
		 shortopt ? shortopt : ' ', shortopt ? ',' : ' ', name,
		 arg && arg[0] != '[' ? " " : "", arg ? arg : "");
	snprintf(text, sizeof(text), "%s%s%s%s", help,
		 def && *def ? " (default " : "", def && *def ? def : "",
		 def && *def ? ")" : "");
	fprintf(f, "  %-*s", (int)col - 3, opt);
	if (strlen(opt) > col - 3)
		fprintf(f, "\n%*s", (int)col - 1, "");
	fputc(' ', f);
	while (*p) {
		size_t n = strlen(p);

		if (n > width) {
			n = width;
			while (n && p[n] != ' ')
				n--;
			if (!n)
				n = width;
		}
		fprintf(f, "%.*s\n", (int)n, p);
		p += n;
		while (*p == ' ')
			p++;
		if (*p)
			fprintf(f, "%*s", (int)col, "");
	}
}

static void usage_extra(FILE *f, bool last)
{
	for (size_t i = 0; i < NEXTRA; i++)
		if (extra[i].last == last)
			usage_line(f, extra[i].shortopt, extra[i].name,
				   extra[i].arg, extra[i].help, NULL);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: kvmprofd [OPTIONS]\n"
		"Host-side KVM profiler daemon: BPF counters per VM and vCPU, served as\n"
		"JSON over HTTP on a Unix socket and as Prometheus metrics over TCP.\n"
		"Options override the configuration file (kvmprofd.conf(5)); each long\n"
		"option that takes a value is the file's key of the same name.\n"
		"\n");
	usage_extra(f, false);
	for (size_t i = 0; i < config_nkeys; i++) {
		const struct config_key *k = &config_key_table[i];

		usage_line(f, k->shortopt, k->arg ? k->name : k->flag, k->arg,
			   k->help, k->arg ? k->def : NULL);
	}
	usage_extra(f, true);
	fprintf(f, "\nSIGHUP reloads the configuration file.\n");
}

/* The configuration file named on the command line, or NULL. */
static const char *config_arg(int argc, char **argv)
{
	const char *path = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) &&
		    i + 1 < argc)
			path = argv[++i];
		else if (!strncmp(argv[i], "--config=", 9))
			path = argv[i] + 9;
		else if (!strncmp(argv[i], "-c", 2) && argv[i][2])
			path = argv[i] + 2;
	}
	return path;
}

/* getopt_long's tables from the keys and extra[]. */
static void build_options(struct option *lo, char *so)
{
	size_t n = 0, ns = 0;

	for (size_t i = 0; i < config_nkeys; i++) {
		const struct config_key *k = &config_key_table[i];

		lo[n++] = (struct option){ k->arg ? k->name : k->flag,
					   k->arg ? required_argument :
						    no_argument,
					   NULL, O_KEY + (int)i };
		if (k->shortopt) {
			so[ns++] = k->shortopt;
			if (k->arg)
				so[ns++] = ':';
		}
	}
	for (size_t i = 0; i < NEXTRA; i++) {
		const char *arg = extra[i].arg;

		lo[n++] = (struct option){ extra[i].name,
					   !arg		 ? no_argument :
					   arg[0] == '[' ? optional_argument :
							   required_argument,
					   NULL, extra[i].val };
		if (extra[i].shortopt) {
			so[ns++] = extra[i].shortopt;
			if (extra[i].arg)
				so[ns++] = ':';
		}
	}
	lo[n] = (struct option){};
	so[ns] = '\0';
}

/* The key of option character @ch (a long option's or a short one's). */
static const struct config_key *key_of(int ch)
{
	if (ch >= O_KEY && ch < O_KEY + (int)config_nkeys)
		return &config_key_table[ch - O_KEY];
	for (size_t i = 0; i < config_nkeys; i++)
		if (config_key_table[i].shortopt &&
		    config_key_table[i].shortopt == ch)
			return &config_key_table[i];
	return NULL;
}

/*
 * Apply the command line to @c (over the file).  Returns 0, 1 for
 * --print-config, or -EINVAL with the message printed.
 */
static int parse_args(int argc, char **argv, struct config *c)
{
	struct option lo[64 + NEXTRA + 1];
	char so[2 * (64 + NEXTRA) + 1];
	struct config_error err = {};
	bool print = false;
	int ch;

	build_options(lo, so);
	optind = 0; /* parsed again on every reload */
	while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		const struct config_key *k = key_of(ch);
		const char *val = optarg;
		char num[16];

		if (k && k->type == K_BOOL && !k->arg) {
			/* the flag sets the opposite of the default */
			val = !strcmp(k->def, "yes") ? "no" : "yes";
		} else if (k && k->type == K_INT && !k->arg) {
			/* -v -v: one more each time, up to the key's maximum */
			snprintf(num, sizeof(num), "%d",
				 c->d.verbosity < (int)k->max ?
					 c->d.verbosity + 1 :
					 (int)k->max);
			val = num;
		}
		if (k) {
			if (config_set(c, k->name, val, 0, &err)) {
				fprintf(stderr, "kvmprofd: --%s: %s\n", k->name,
					err.msg);
				return -EINVAL;
			}
			continue;
		}
		switch (ch) {
		case O_CONFIG:
			break; /* read before the other options */
		case O_PRINT:
			if (!optarg || !strcmp(optarg, "values")) {
				print = true;
				break;
			}
			if (!strcmp(optarg, "default-file"))
				config_print_default_file(stdout);
			else if (!strcmp(optarg, "man-keys"))
				config_print_man_keys(stdout);
			else {
				fprintf(stderr,
					"kvmprofd: --print-config=%s: expected "
					"values, default-file or man-keys\n",
					optarg);
				return -EINVAL;
			}
			exit(0);
		case O_LOADALL:
			c->d.load_unavailable = true;
			break;
		case O_HELP:
			usage(stdout);
			exit(0);
		case O_VERSION:
			printf("kvmprofd %s\n", KVMPROF_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kvmprofd: unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	return print ? 1 : 0;
}

int options_load(int argc, char **argv, struct config *c,
		 struct config_error *err)
{
	const char *path = config_arg(argc, argv);
	int r;

	r = config_init(c);
	if (r < 0)
		return r;
	r = config_load_file(c, path ? path : CONFIG_DEFAULT_PATH, path != NULL,
			     err);
	if (r < 0)
		return r;
	r = parse_args(argc, argv, c);
	if (r < 0)
		err->file[0] = '\0'; /* already reported */
	return r;
}
