// SPDX-License-Identifier: GPL-2.0-only
/* kvmprofd.conf(5) text, read and written: `key = value` lines (config.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int parse_line(struct config *c, char *line, unsigned int lineno,
		      struct config_error *err)
{
	char *eq, *key, *val;

	line = trim(line);
	if (!*line || *line == '#')
		return 0;
	eq = strchr(line, '=');
	if (!eq) {
		config_errf(err, "expected 'key = value'");
		return -EINVAL;
	}
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	if (!*key) {
		config_errf(err, "expected 'key = value'");
		return -EINVAL;
	}
	return config_set(c, key, val, lineno, err);
}

int config_load_file(struct config *c, const char *path, bool must_exist,
		     struct config_error *err)
{
	char *buf = NULL, *p, *nl;
	unsigned int lineno = 0;
	struct stat st;
	size_t len = 0;
	int fd, r = 0;

	if (err) {
		memset(err, 0, sizeof(*err));
		snprintf(err->file, sizeof(err->file), "%s", path);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT && !must_exist)
			return 0;
		config_errf(err, "%s", strerror(-r));
		return r;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_size > CONFIG_MAX_FILE) {
		config_errf(err, "not a regular file of at most %d bytes",
			    CONFIG_MAX_FILE);
		close(fd);
		return -EINVAL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	if (r < 0) {
		config_errf(err, "%s", strerror(-r));
		free(buf);
		return r;
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len)) {
		config_errf(err, "binary file (NUL byte)");
		free(buf);
		return -EINVAL;
	}
	c->path = config_keep(c, path, strlen(path));
	memset(c->set_line, 0, sizeof(c->set_line));
	for (p = buf; *p || p == buf; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		lineno++;
		if (strlen(p) > CONFIG_MAX_LINE) {
			config_errf(err, "line longer than %d bytes",
				    CONFIG_MAX_LINE);
			r = -EINVAL;
		} else {
			r = parse_line(c, p, lineno, err);
		}
		if (r < 0) {
			if (err)
				err->line = lineno;
			break;
		}
		if (!nl)
			break;
	}
	free(buf);
	return r;
}

static void print_value(const struct config *c, const struct config_key *k,
			FILE *f)
{
	const void *v = config_field(c, k);

	switch (k->type) {
	case K_STR:
	case K_PATH:
	case K_PATH_OPT:
	case K_LISTEN: {
		const char *s = *(const char *const *)v;

		fprintf(f, "%s = %s\n", k->name, s ? s : "");
		break;
	}
	case K_MODE:
		fprintf(f, "%s = %04o\n", k->name,
			(unsigned)*(const mode_t *)v);
		break;
	case K_BOOL:
		fprintf(f, "%s = %s\n", k->name,
			*(const bool *)v ? "yes" : "no");
		break;
	case K_U64:
		fprintf(f, "%s = %llu\n", k->name,
			(unsigned long long)*(const uint64_t *)v);
		break;
	case K_INT:
		fprintf(f, "%s = %d\n", k->name, *(const int *)v);
		break;
	case K_U32:
	case K_U32_POW2:
		fprintf(f, "%s = %u\n", k->name, *(const uint32_t *)v);
		break;
	case K_PROBES:
		fprintf(f, "%s =", k->name);
		for (size_t i = 0; c->d.disabled[i]; i++)
			fprintf(f, "%s%s", i ? ", " : " ", c->d.disabled[i]);
		fputc('\n', f);
		break;
	case K_SYMBOLS:
		if (!c->s.nguest_symbols)
			fprintf(f, "%s =\n", k->name);
		for (size_t i = 0; i < c->s.nguest_symbols; i++)
			fprintf(f, "%s = %s:%s\n", k->name,
				c->s.guest_symbols[i].vm,
				c->s.guest_symbols[i].path);
		break;
	}
}

void config_print(const struct config *c, FILE *f)
{
	for (size_t i = 0; i < config_nkeys; i++)
		print_value(c, &config_key_table[i], f);
}
