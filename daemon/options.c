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
	  "kvmprofd.conf(5), man-options: the OPTIONS of kvmprofd(8), "
	  "completion: the bash completion's option lists",
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

/* One option as --help, the man page and the completion show it. */
struct opt_view {
	char shortopt;
	const char *name, *arg, *help;
	const char *def; /* NULL: none shown */
};

/* @fn on every option, in --help's order: extra[] (not last), the keys,
 * extra[] (last). */
static void for_each_option(void (*fn)(const struct opt_view *, void *),
			    void *ctx)
{
	for (int pass = 0; pass < 3; pass++) {
		if (pass == 1) {
			for (size_t i = 0; i < config_nkeys; i++) {
				const struct config_key *k =
					&config_key_table[i];
				struct opt_view v = {
					k->shortopt,
					k->arg ? k->name : k->flag,
					k->arg,
					k->help,
					k->arg ? k->def : NULL,
				};

				fn(&v, ctx);
			}
			continue;
		}
		for (size_t i = 0; i < NEXTRA; i++) {
			struct opt_view v = { extra[i].shortopt, extra[i].name,
					      extra[i].arg, extra[i].help,
					      NULL };

			if (extra[i].last == (pass == 2))
				fn(&v, ctx);
		}
	}
}

static void usage_opt(const struct opt_view *v, void *f)
{
	usage_line(f, v->shortopt, v->name, v->arg, v->help, v->def);
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
	for_each_option(usage_opt, f);
	fprintf(f, "\nSIGHUP reloads the configuration file.\n");
}

/* kvmprofd(8)'s OPTIONS entries: the --help text in roff */
static void man_opt(const struct opt_view *v, void *ctx)
{
	FILE *f = ctx;
	char text[1024];
	bool opt_arg = v->arg && v->arg[0] == '[';

	fputs(".TP\n.BR ", f);
	if (v->shortopt)
		fprintf(f, "\\-%c \", \" ", v->shortopt);
	fputs("\\-\\-", f);
	config_doc_roff_name(f, v->name);
	if (opt_arg)
		fprintf(f, " [=\\fI%.*s\\fR]", (int)strcspn(v->arg + 2, "]"),
			v->arg + 2);
	else if (v->arg)
		fprintf(f, " \" \\fI%s\\fR\"", v->arg);
	fputc('\n', f);
	snprintf(text, sizeof(text), "%c%s%s%s%s.", v->help[0] & ~0x20,
		 v->help + 1, v->def && *v->def ? " (default " : "",
		 v->def && *v->def ? v->def : "", v->def && *v->def ? ")" : "");
	config_doc_wrap(f, text, "", 72);
}

static void print_man_options(FILE *f)
{
	fputs(".\\\" Generated from daemon/config_keys.c and daemon/options.c by\n"
	      ".\\\" `make update-docs`: edit them, not these lines.\n",
	      f);
	for_each_option(man_opt, f);
	fputs(".\\\" End of the generated OPTIONS.\n", f);
}

/* The bash completion's lists: every option, and those taking a value */
struct comp_lists {
	char all[2048], valued[2048];
};

static void comp_add(char *list, size_t size, char shortopt, const char *name)
{
	size_t n = strlen(list);

	if (shortopt)
		n += snprintf(list + n, n < size ? size - n : 0, "%s-%c",
			      n ? " " : "", shortopt);
	if (n < size)
		snprintf(list + n, size - n, "%s--%s", n ? " " : "", name);
}

static void comp_opt(const struct opt_view *v, void *ctx)
{
	struct comp_lists *l = ctx;

	comp_add(l->all, sizeof(l->all), v->shortopt, v->name);
	if (v->arg && v->arg[0] != '[')
		comp_add(l->valued, sizeof(l->valued), v->shortopt, v->name);
}

/* "\tlocal NAME="WORDS"", wrapped, continuation lines indented */
static void comp_list(FILE *f, const char *name, const char *words)
{
	size_t col = 8 + strlen(name) + 8;

	fprintf(f, "\tlocal %s=\"", name);
	while (*words) {
		size_t n = strcspn(words, " ");

		if (col + n > 72) {
			fputs("\n\t\t", f);
			col = 16;
		}
		fprintf(f, "%.*s", (int)n, words);
		col += n;
		words += n;
		if (*words == ' ') {
			words++;
			if (*words && col + 1 + strcspn(words, " ") <= 72) {
				fputc(' ', f);
				col++;
			}
		}
	}
	fputs("\"\n", f);
}

static void print_completion(FILE *f)
{
	struct comp_lists l = {};

	for_each_option(comp_opt, &l);
	fputs("\t# Generated from kvmprofd's options by `make update-docs`.\n",
	      f);
	comp_list(f, "opts", l.all);
	comp_list(f, "valued", l.valued);
	fputs("\t# End of the generated options.\n", f);
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
			else if (!strcmp(optarg, "man-options"))
				print_man_options(stdout);
			else if (!strcmp(optarg, "completion"))
				print_completion(stdout);
			else {
				fprintf(stderr,
					"kvmprofd: --print-config=%s: expected "
					"values, default-file, man-keys, "
					"man-options or completion\n",
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
