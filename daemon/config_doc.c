// SPDX-License-Identifier: GPL-2.0-only
/*
 * Documentation generated from config_key_table[]: the annotated default
 * file (dist/kvmprofd.conf) and the KEYS entries of kvmprofd.conf(5).
 * `make update-docs` writes both; tests/service/check-docs.sh fails when
 * the committed ones differ.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"

#define DOC_MAX 4096

/*
 * @doc's markup (*bold*, <italic>, \c: c itself) as roff (@roff) or as
 * plain text, into @out.  Returns its length (truncated to fit).
 */
static size_t render(const char *doc, bool roff, char *out, size_t size)
{
	bool bold = false, italic = false;
	size_t n = 0;

	for (const char *p = doc; *p && n + 8 < size; p++) {
		const char *lit = NULL;
		char c = *p;

		if (c == '\\' && p[1]) {
			c = *++p;
		} else if (c == '*' || c == '<' || c == '>') {
			if (c == '*')
				bold = !bold;
			else
				italic = c == '<';
			if (roff)
				lit = (c == '*' ? bold : italic) ?
					      (c == '*' ? "\\fB" : "\\fI") :
					      "\\fR";
			else
				continue;
		}
		if (!lit && roff && c == '\\')
			lit = "\\e";
		else if (!lit && roff && c == '-' && (bold || italic))
			lit = "\\-";
		if (lit) {
			memcpy(out + n, lit, strlen(lit));
			n += strlen(lit);
		} else {
			out[n++] = c;
		}
	}
	out[n] = '\0';
	return n;
}

/* @text wrapped at @width columns, each line after @prefix; roff lines
 * that would start with a control character are guarded. */
void config_doc_wrap(FILE *f, const char *text, const char *prefix,
		     size_t width)
{
	const char *p = text;

	while (*p) {
		size_t n = strlen(p), len;

		if (n > width) {
			n = width;
			while (n && p[n] != ' ')
				n--;
			if (!n)
				n = strcspn(p, " ");
		}
		for (len = n; len && p[len - 1] == ' ';)
			len--;
		fprintf(f, "%s%s%.*s\n", prefix,
			(!*prefix && (*p == '.' || *p == '\'')) ? "\\&" : "",
			(int)len, p);
		p += n;
		while (*p == ' ')
			p++;
	}
}

/* A key's name in roff: dashes as minus signs. */
void config_doc_roff_name(FILE *f, const char *s)
{
	for (; *s; s++)
		fputs(*s == '-' ? "\\-" : (char[]){ *s, 0 }, f);
}

void config_print_default_file(FILE *f)
{
	char text[DOC_MAX];

	fputs("# kvmprofd configuration: kvmprofd.conf(5).\n"
	      "# One \"key = value\" per line; the lines below are the defaults\n"
	      "# (written by kvmprofd --print-config=default-file).  A long\n"
	      "# option of kvmprofd overrides the key of the same name.  SIGHUP\n"
	      "# (systemctl reload kvmprofd) applies the keys marked [reload];\n"
	      "# the others need a restart.\n",
	      f);
	for (size_t i = 0; i < config_nkeys; i++) {
		const struct config_key *k = &config_key_table[i];
		size_t n = render(k->doc, false, text, sizeof(text) - 10);

		if (k->reload)
			strcpy(text + n, "  [reload]");
		fputc('\n', f);
		config_doc_wrap(f, text, "# ", 74);
		fprintf(f, "#%s =%s%s\n", k->name, *k->def ? " " : "", k->def);
	}
}

void config_print_man_keys(FILE *f)
{
	char text[DOC_MAX];

	fputs(".\\\" Generated from daemon/config_keys.c by `make update-docs`:\n"
	      ".\\\" edit the table there, not these lines.\n",
	      f);
	for (size_t i = 0; i < config_nkeys; i++) {
		const struct config_key *k = &config_key_table[i];

		fputs(".TP\n.BR ", f);
		config_doc_roff_name(f, k->name);
		if (k->type == K_BOOL)
			fputs(" \" = \" yes | no\n", f);
		else if (k->type == K_PROBES)
			fprintf(f, " \" = \\fI%s\\fR[, \\fI%s\\fR...]\"\n",
				k->arg, k->arg);
		else
			fprintf(f, " \" = \\fI%s\\fR\"\n",
				k->arg ? k->arg : "N");
		render(k->doc, true, text, sizeof(text));
		config_doc_wrap(f, text, "", 72);
		if (k->reload)
			fputs("[reload]\n", f);
		if (*k->def)
			fprintf(f,
				k->type == K_PATH ?
					"Default: \\fI\\%%%s\\fR.\n" :
					"Default: %s.\n",
				k->def);
		else
			fprintf(f, "Default: %s.\n",
				k->type == K_PROBES || k->type == K_SYMBOLS ?
					"none" :
					"empty");
	}
	fputs(".\\\" End of the generated KEYS.\n", f);
}
