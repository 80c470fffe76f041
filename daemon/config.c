// SPDX-License-Identifier: GPL-2.0-only
/* kvmprofd configuration: see config.h and kvmprofd.conf(5). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kvmprof/client.h>
#include <kvmprof/spe_symspec.h>
#include <kvmprof/util.h>
#include "config.h"

#define NKEYS config_nkeys

struct config_str {
	struct config_str *next;
	char s[];
};

void *config_field(const struct config *c, const struct config_key *k)
{
	return (char *)(k->svc ? (const void *)&c->s : (const void *)&c->d) +
	       k->off;
}

static const struct config_key *find_key(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(config_key_table[i].name, name))
			return &config_key_table[i];
	return NULL;
}

void config_errf(struct config_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

const char *config_keep(struct config *c, const char *s, size_t len)
{
	struct config_str *n = malloc(sizeof(*n) + len + 1);

	if (!n)
		return NULL;
	memcpy(n->s, s, len);
	n->s[len] = '\0';
	n->next = c->strs;
	c->strs = n;
	return n->s;
}

int config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NKEYS; i++) {
		const struct config_key *k = &config_key_table[i];
		int r = config_set(c, k->name, k->def, 0, NULL);

		if (r < 0) {
			config_free(c);
			return r;
		}
	}
	return 0;
}

void config_free(struct config *c)
{
	struct config_str *s = c->strs, *n;

	for (; s; s = n) {
		n = s->next;
		free(s);
	}
	c->strs = NULL;
}

static int parse_u64(const char *s, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	/* decimal, or hexadecimal with 0x (MIDR values) */
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		v = strtoull(s += 2, &end, 16);
	else
		v = strtoull(s, &end, 10);
	if (errno || *end || end == s)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*ret = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* "127.0.0.1:19418", "[::1]:19418" (literal addresses only), or "off". */
int config_parse_listen(const char *s, struct sockaddr_storage *ret_ss,
			socklen_t *ret_len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	uint64_t port;
	size_t hl;

	if (!strcmp(s, "off"))
		return 0;
	colon = strrchr(s, ':');
	if (!colon || colon == s || parse_u64(colon + 1, &port) ||
	    port > 65535)
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hl < 3 || s[hl - 1] != ']' || hl - 2 >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hl - 2);
		host[hl - 2] = '\0';
	} else {
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hl);
		host[hl] = '\0';
	}
	if (ret_ss)
		memset(ret_ss, 0, sizeof(*ret_ss));
	if (s[0] != '[') {
		struct sockaddr_in sin = { .sin_family = AF_INET,
					   .sin_port = htons((uint16_t)port) };

		if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
			return -EINVAL;
		if (ret_ss) {
			memcpy(ret_ss, &sin, sizeof(sin));
			*ret_len = sizeof(sin);
		}
	} else {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
					     .sin6_port = htons((uint16_t)port) };

		if (inet_pton(AF_INET6, host, &sin6.sin6_addr) != 1)
			return -EINVAL;
		if (ret_ss) {
			memcpy(ret_ss, &sin6, sizeof(sin6));
			*ret_len = sizeof(sin6);
		}
	}
	return 1;
}

static bool valid_probe_name(const char *s, size_t len)
{
	if (!len || len > 63)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

static int set_probes(struct config *c, const char *v, struct config_error *err)
{
	const char *p = v;

	for (;;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		const char *name;

		while (len && isspace((unsigned char)*p)) {
			p++;
			len--;
		}
		while (len && isspace((unsigned char)p[len - 1]))
			len--;
		if (!valid_probe_name(p, len)) {
			config_errf(err,
				    "disable-probe: '%.*s' is not a tracepoint "
				    "name",
				    (int)len, p);
			return -EINVAL;
		}
		if (c->ndisabled >= KP_MAX_LIST) {
			config_errf(err, "disable-probe: more than %d probes",
				    KP_MAX_LIST);
			return -E2BIG;
		}
		name = config_keep(c, p, len);
		if (!name)
			return -ENOMEM;
		c->d.disabled[c->ndisabled++] = name;
		c->d.disabled[c->ndisabled] = NULL;
		if (!e)
			return 0;
		p = e + 1;
	}
}

static int set_symbols(struct config *c, const char *v,
		       struct config_error *err)
{
	const char *sep = strstr(v, ":/");
	struct guest_symbols *g;
	int r;

	if (!sep || sep == v) {
		config_errf(err,
			    "guest-symbols: expected VMNAME:/absolute/path, "
			    "got '%s'",
			    v);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->s.nguest_symbols; i++) {
		if (strlen(c->s.guest_symbols[i].vm) == (size_t)(sep - v) &&
		    !strncmp(c->s.guest_symbols[i].vm, v, (size_t)(sep - v))) {
			config_errf(err, "guest-symbols: VM '%.*s' given twice",
				    (int)(sep - v), v);
			return -EINVAL;
		}
	}
	if (c->s.nguest_symbols >= CONFIG_MAX_GUEST_SYMBOLS) {
		config_errf(err, "guest-symbols: more than %d VMs",
			    CONFIG_MAX_GUEST_SYMBOLS);
		return -E2BIG;
	}
	/* PATH[@OFFSET][,PATH[@OFFSET]...] */
	r = spe_symspec_check(sep + 1);
	if (r) {
		config_errf(err, "guest-symbols: %s: %s", sep + 1,
			    r == -EINVAL ? "expected PATH[@OFFSET][,...]" :
					   strerror(-r));
		return -EINVAL;
	}
	g = &c->s.guest_symbols[c->s.nguest_symbols];
	g->vm = config_keep(c, v, (size_t)(sep - v));
	g->path = config_keep(c, sep + 1, strlen(sep + 1));
	if (!g->vm || !g->path)
		return -ENOMEM;
	c->s.nguest_symbols++;
	return 0;
}

int config_set(struct config *c, const char *name, const char *v,
	       unsigned int line, struct config_error *err)
{
	const struct config_key *k = find_key(name);
	void *f;
	uint64_t u;
	bool b;

	if (!k) {
		config_errf(err, "unknown key '%s'", name);
		return -ENOENT;
	}
	f = config_field(c, k);
	switch (k->type) {
	case K_PROBES:
		return *v ? set_probes(c, v, err) : 0;
	case K_SYMBOLS:
		return *v ? set_symbols(c, v, err) : 0;
	default:
		break;
	}
	/* Scalars: once per file (line > 0); the command line overrides. */
	if (line && c->set_line[k - config_key_table]) {
		config_errf(err, "%s: already set on line %u", name,
			    c->set_line[k - config_key_table]);
		return -EINVAL;
	}
	switch (k->type) {
	case K_PATH_OPT:
		if (!*v) {
			*(const char **)f = NULL;
			break;
		}
		/* fallthrough */
	case K_PATH:
		if (v[0] != '/') {
			config_errf(err, "%s: '%s' is not an absolute path",
				    name, v);
			return -EINVAL;
		}
		/* fallthrough */
	case K_STR:
	case K_LISTEN:
		if (k->type == K_LISTEN && config_parse_listen(v, NULL, NULL) < 0) {
			config_errf(err,
				    "%s: '%s': expected IPV4:PORT, [IPV6]:PORT "
				    "or off",
				    name, v);
			return -EINVAL;
		}
		if (!(*(const char **)f = config_keep(c, v, strlen(v))))
			return -ENOMEM;
		break;
	case K_MODE: {
		char *end;
		long m = strtol(v, &end, 8);

		if (!*v || *end || m < 0 || m > 0777 || (m & 0007)) {
			config_errf(err,
				    "%s: '%s': octal, and not accessible by "
				    "others (e.g. 0660)",
				    name, v);
			return -EINVAL;
		}
		*(mode_t *)f = (mode_t)m;
		break;
	}
	case K_BOOL:
		if (parse_bool(v, &b)) {
			config_errf(err, "%s: '%s': expected yes or no", name,
				    v);
			return -EINVAL;
		}
		*(bool *)f = b;
		break;
	default:	/* numbers */
		if (parse_u64(v, &u) || u < k->min || u > k->max ||
		    (k->type == K_U32_POW2 && (u & (u - 1)))) {
			config_errf(err,
				    "%s: '%s': expected %s from %llu to %llu",
				    name, v,
				    k->type == K_U32_POW2 ? "a power of two" :
							    "a whole number",
				    (unsigned long long)k->min,
				    (unsigned long long)k->max);
			return -EINVAL;
		}
		if (k->type == K_U64)
			*(uint64_t *)f = u;
		else if (k->type == K_INT)
			*(int *)f = (int)u;
		else
			*(uint32_t *)f = (uint32_t)u;
		break;
	}
	if (line)
		c->set_line[k - config_key_table] = line;
	return 0;
}

const char *const *config_keys(void)
{
	static const char *names[CONFIG_MAX_KEYS + 1];

	for (size_t i = 0; i < NKEYS; i++)
		names[i] = config_key_table[i].name;
	return names;
}

int config_key_reloadable(const char *name)
{
	const struct config_key *k = find_key(name);

	return k ? k->reload : -ENOENT;
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool same(const struct config *a, const struct config *b,
		 const struct config_key *k)
{
	const void *x = config_field(a, k), *y = config_field(b, k);

	switch (k->type) {
	case K_STR:
	case K_PATH:
	case K_PATH_OPT:
	case K_LISTEN:
		return str_eq(*(const char *const *)x, *(const char *const *)y);
	case K_MODE:
		return *(const mode_t *)x == *(const mode_t *)y;
	case K_BOOL:
		return *(const bool *)x == *(const bool *)y;
	case K_U64:
		return *(const uint64_t *)x == *(const uint64_t *)y;
	case K_INT:
		return *(const int *)x == *(const int *)y;
	case K_U32:
	case K_U32_POW2:
		return *(const uint32_t *)x == *(const uint32_t *)y;
	case K_PROBES:
		for (size_t i = 0; i <= KP_MAX_LIST; i++) {
			if (!str_eq(a->d.disabled[i], b->d.disabled[i]))
				return false;
			if (!a->d.disabled[i])
				break;
		}
		return true;
	case K_SYMBOLS:
		if (a->s.nguest_symbols != b->s.nguest_symbols)
			return false;
		for (size_t i = 0; i < a->s.nguest_symbols; i++)
			if (!str_eq(a->s.guest_symbols[i].vm,
				    b->s.guest_symbols[i].vm) ||
			    !str_eq(a->s.guest_symbols[i].path,
				    b->s.guest_symbols[i].path))
				return false;
		return true;
	}
	return true;
}

/* Bytes of a scalar key's field */
static size_t scalar_size(enum config_ktype t)
{
	switch (t) {
	case K_U64:
		return sizeof(uint64_t);
	case K_BOOL:
		return sizeof(bool);
	case K_MODE:
		return sizeof(mode_t);
	case K_INT:
		return sizeof(int);
	default:
		return sizeof(uint32_t);
	}
}

size_t config_keep_restart_only(const struct config *old, struct config *new,
				const char **ret_names, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < NKEYS; i++) {
		const struct config_key *k = &config_key_table[i];

		if (k->reload || same(old, new, k))
			continue;
		if (n < max)
			ret_names[n] = k->name;
		n++;
		switch (k->type) {
		case K_PROBES:
			/* strings of @old outlive the swap: copy them */
			new->ndisabled = 0;
			new->d.disabled[0] = NULL;
			for (size_t j = 0; old->d.disabled[j]; j++) {
				const char *s =
					config_keep(new, old->d.disabled[j],
						    strlen(old->d.disabled[j]));

				new->d.disabled[j] = s;
				new->d.disabled[j + 1] = NULL;
				new->ndisabled = j + 1;
			}
			break;
		case K_STR:
		case K_PATH:
		case K_PATH_OPT:
		case K_LISTEN: {
			const char *s =
				*(const char *const *)config_field(old, k);

			*(const char **)config_field(new, k) =
				s ? config_keep(new, s, strlen(s)) : NULL;
			break;
		}
		default:
			memcpy(config_field(new, k), config_field(old, k),
			       scalar_size(k->type));
			break;
		}
	}
	return n;
}

unsigned int config_key_line(const struct config *c, const char *name)
{
	const struct config_key *k = find_key(name);

	return k ? c->set_line[k - config_key_table] : 0;
}

const char *config_guest_symbols(const struct config *c, const char *vm_name)
{
	for (size_t i = 0; i < c->s.nguest_symbols; i++)
		if (!strcmp(c->s.guest_symbols[i].vm, vm_name))
			return c->s.guest_symbols[i].path;
	return NULL;
}
