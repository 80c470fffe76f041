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

#include <kvmprof/spe_symspec.h>
#include "config.h"

enum ktype {
	K_STR,		/* any text (may be empty) */
	K_PATH,		/* absolute path */
	K_PATH_OPT,	/* absolute path, or empty: automatic */
	K_MODE,		/* octal permissions, not writable by others */
	K_U32,
	K_U32_POW2,	/* power of two */
	K_U64,
	K_INT,
	K_BOOL,		/* yes/no, true/false, on/off, 1/0 */
	K_PROBES,	/* list of tracepoint names, comma separated */
	K_LISTEN,	/* "ADDR:PORT", "[ADDR6]:PORT" or "off" */
	K_SYMBOLS,	/* "VMNAME:/absolute/path" */
};

struct key {
	const char *name;
	enum ktype type;
	bool svc;		/* field of service_opts, else daemon_opts */
	size_t off;
	uint64_t min, max;
	bool reload;		/* applied on SIGHUP */
};

#define D(f) false, offsetof(struct daemon_opts, f)
#define S(f) true, offsetof(struct service_opts, f)

static const struct key keys[] = {
	{ "socket", K_PATH, D(socket_path), 0, 0, false },
	{ "socket-mode", K_MODE, D(socket_mode), 0, 0, false },
	{ "socket-group", K_STR, D(socket_group), 0, 0, false },
	{ "metrics-listen", K_LISTEN, S(metrics_listen), 0, 0, true },
	{ "metrics-max-kib", K_U32, S(metrics_max_kib), 64, 1u << 20, true },
	{ "interval-ms", K_U32, D(interval_ms), 10, 3600000, true },
	{ "grace-ms", K_U64, D(grace_ms), 0, 86400000, true },
	{ "max-vms", K_U32, D(max_vms), 1, 65536, true },
	{ "max-counters", K_U32, D(max_counters), 16, 1u << 24, false },
	{ "disable-probe", K_PROBES, D(disabled), 0, 0, false },
	{ "guest-symbols", K_SYMBOLS, S(guest_symbols), 0, 0, true },
	{ "tracefs", K_PATH_OPT, D(tracefs), 0, 0, false },
	{ "bpf-stats", K_BOOL, D(bpf_stats), 0, 0, false },
	{ "count-cache", K_BOOL, D(count_cache), 0, 0, false },
	{ "drop-privileges", K_BOOL, D(drop_privileges), 0, 0, false },
	{ "user", K_STR, S(user), 0, 0, false },
	{ "spe-ring-kib", K_U32_POW2, D(spe_ring_kib), 64, 1u << 20, false },
	{ "spe-wakeup-kib", K_U32, D(spe_wakeup_kib), 1, 1u << 20, false },
	{ "spe-poll-ms", K_U32, D(spe_poll_ms), 1, 10000, true },
	{ "spe-raw-mib", K_U32, D(spe_raw_mib), 1, 4096, false },
	{ "spe-midr", K_U64, D(spe_midr), 0, UINT32_MAX, false },
	{ "spe-top-pcs", K_U32, D(spe_top_pcs), 0, 1u << 20, false },
	{ "verbose", K_INT, D(verbosity), 0, 2, true },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))
_Static_assert(NKEYS <= 64, "config: set_line[] too small");

struct config_str {
	struct config_str *next;
	char s[];
};

static void *field(const struct config *c, const struct key *k)
{
	return (char *)(k->svc ? (const void *)&c->s : (const void *)&c->d) +
	       k->off;
}

static const struct key *find_key(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

static void errf(struct config_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void errf(struct config_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

static const char *keep(struct config *c, const char *s, size_t len)
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

void config_init(struct config *c, const struct daemon_opts *d)
{
	memset(c, 0, sizeof(*c));
	c->d = *d;
	c->s.metrics_listen = CONFIG_DEFAULT_METRICS;
	c->s.metrics_max_kib = 32768;
	c->s.user = "";
	while (c->ndisabled < KP_MAX_LIST && c->d.disabled[c->ndisabled])
		c->ndisabled++;
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
			errf(err, "disable-probe: '%.*s' is not a tracepoint "
			     "name", (int)len, p);
			return -EINVAL;
		}
		if (c->ndisabled >= KP_MAX_LIST) {
			errf(err, "disable-probe: more than %d probes",
			     KP_MAX_LIST);
			return -E2BIG;
		}
		name = keep(c, p, len);
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
		errf(err, "guest-symbols: expected VMNAME:/absolute/path, "
		     "got '%s'", v);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->s.nguest_symbols; i++) {
		if (strlen(c->s.guest_symbols[i].vm) == (size_t)(sep - v) &&
		    !strncmp(c->s.guest_symbols[i].vm, v, (size_t)(sep - v))) {
			errf(err, "guest-symbols: VM '%.*s' given twice",
			     (int)(sep - v), v);
			return -EINVAL;
		}
	}
	if (c->s.nguest_symbols >= CONFIG_MAX_GUEST_SYMBOLS) {
		errf(err, "guest-symbols: more than %d VMs",
		     CONFIG_MAX_GUEST_SYMBOLS);
		return -E2BIG;
	}
	/* PATH[@OFFSET][,PATH[@OFFSET]...] */
	r = spe_symspec_check(sep + 1);
	if (r) {
		errf(err, "guest-symbols: %s: %s", sep + 1,
		     r == -EINVAL ? "expected PATH[@OFFSET][,...]" :
		     strerror(-r));
		return -EINVAL;
	}
	g = &c->s.guest_symbols[c->s.nguest_symbols];
	g->vm = keep(c, v, (size_t)(sep - v));
	g->path = keep(c, sep + 1, strlen(sep + 1));
	if (!g->vm || !g->path)
		return -ENOMEM;
	c->s.nguest_symbols++;
	return 0;
}

int config_set(struct config *c, const char *name, const char *v,
	       unsigned int line, struct config_error *err)
{
	const struct key *k = find_key(name);
	void *f;
	uint64_t u;
	bool b;

	if (!k) {
		errf(err, "unknown key '%s'", name);
		return -ENOENT;
	}
	f = field(c, k);
	switch (k->type) {
	case K_PROBES:
		return *v ? set_probes(c, v, err) : 0;
	case K_SYMBOLS:
		return *v ? set_symbols(c, v, err) : 0;
	default:
		break;
	}
	/* Scalars: once per file (line > 0); the command line overrides. */
	if (line && c->set_line[k - keys]) {
		errf(err, "%s: already set on line %u", name,
		     c->set_line[k - keys]);
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
			errf(err, "%s: '%s' is not an absolute path", name, v);
			return -EINVAL;
		}
		/* fallthrough */
	case K_STR:
	case K_LISTEN:
		if (k->type == K_LISTEN && config_parse_listen(v, NULL, NULL) < 0) {
			errf(err, "%s: '%s': expected IPV4:PORT, [IPV6]:PORT "
			     "or off", name, v);
			return -EINVAL;
		}
		if (!(*(const char **)f = keep(c, v, strlen(v))))
			return -ENOMEM;
		break;
	case K_MODE: {
		char *end;
		long m = strtol(v, &end, 8);

		if (!*v || *end || m < 0 || m > 0777 || (m & 0007)) {
			errf(err, "%s: '%s': octal, and not accessible by "
			     "others (e.g. 0660)", name, v);
			return -EINVAL;
		}
		*(mode_t *)f = (mode_t)m;
		break;
	}
	case K_BOOL:
		if (parse_bool(v, &b)) {
			errf(err, "%s: '%s': expected yes or no", name, v);
			return -EINVAL;
		}
		*(bool *)f = b;
		break;
	default:	/* numbers */
		if (parse_u64(v, &u) || u < k->min || u > k->max ||
		    (k->type == K_U32_POW2 && (u & (u - 1)))) {
			errf(err, "%s: '%s': expected %s from %llu to %llu",
			     name, v, k->type == K_U32_POW2 ?
			     "a power of two" : "a whole number",
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
		c->set_line[k - keys] = line;
	return 0;
}

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
		errf(err, "expected 'key = value'");
		return -EINVAL;
	}
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	if (!*key) {
		errf(err, "expected 'key = value'");
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
		errf(err, "%s", strerror(-r));
		return r;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_size > CONFIG_MAX_FILE) {
		errf(err, "not a regular file of at most %d bytes",
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
		errf(err, "%s", strerror(-r));
		free(buf);
		return r;
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len)) {
		errf(err, "binary file (NUL byte)");
		free(buf);
		return -EINVAL;
	}
	c->path = keep(c, path, strlen(path));
	memset(c->set_line, 0, sizeof(c->set_line));
	for (p = buf; *p || p == buf; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		lineno++;
		if (strlen(p) > CONFIG_MAX_LINE) {
			errf(err, "line longer than %d bytes", CONFIG_MAX_LINE);
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

static void print_value(const struct config *c, const struct key *k, FILE *f)
{
	const void *v = field(c, k);

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
		fprintf(f, "%s = %04o\n", k->name, (unsigned)*(const mode_t *)v);
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
	for (size_t i = 0; i < NKEYS; i++)
		print_value(c, &keys[i], f);
}

const char *const *config_keys(void)
{
	static const char *names[NKEYS + 1];

	for (size_t i = 0; i < NKEYS; i++)
		names[i] = keys[i].name;
	return names;
}

int config_key_reloadable(const char *name)
{
	const struct key *k = find_key(name);

	return k ? k->reload : -ENOENT;
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool same(const struct config *a, const struct config *b,
		 const struct key *k)
{
	const void *x = field(a, k), *y = field(b, k);

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

size_t config_keep_restart_only(const struct config *old, struct config *new,
				const char **ret_names, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];

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
				const char *s = keep(new, old->d.disabled[j],
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
			const char *s = *(const char *const *)field(old, k);

			*(const char **)field(new, k) =
				s ? keep(new, s, strlen(s)) : NULL;
			break;
		}
		default:
			memcpy(field(new, k), field(old, k),
			       k->type == K_U64 ? sizeof(uint64_t) :
			       k->type == K_BOOL ? sizeof(bool) :
			       k->type == K_MODE ? sizeof(mode_t) :
			       k->type == K_INT ? sizeof(int) :
			       sizeof(uint32_t));
			break;
		}
	}
	return n;
}

unsigned int config_key_line(const struct config *c, const char *name)
{
	const struct key *k = find_key(name);

	return k ? c->set_line[k - keys] : 0;
}

const char *config_guest_symbols(const struct config *c, const char *vm_name)
{
	for (size_t i = 0; i < c->s.nguest_symbols; i++)
		if (!strcmp(c->s.guest_symbols[i].vm, vm_name))
			return c->s.guest_symbols[i].path;
	return NULL;
}
