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

#define D(f) false, offsetof(struct daemon_opts, f)
#define S(f) true, offsetof(struct service_opts, f)

/*
 * Every key: its type, where it goes, its range, whether SIGHUP applies
 * it, its default (as written in the file), and how the command line and
 * --help show it (options.c builds getopt's table and usage() from this).
 */
/* clang-format off */
const struct config_key config_key_table[] = {
	{ "socket", K_PATH, D(socket_path), 0, 0, false, KP_DEFAULT_SOCKET,
	  's', "PATH", NULL, "API socket" },
	{ "socket-mode", K_MODE, D(socket_mode), 0, 0, false, "0660",
	  0, "MODE", NULL, "socket permissions, octal" },
	{ "socket-group", K_STR, D(socket_group), 0, 0, false, "kvmprof",
	  0, "NAME", NULL, "socket group when it exists" },
	{ "metrics-listen", K_LISTEN, S(metrics_listen), 0, 0, true,
	  CONFIG_DEFAULT_METRICS, 0, "ADDR", NULL,
	  "Prometheus /metrics on IPV4:PORT, [IPV6]:PORT or off" },
	{ "metrics-max-kib", K_U32, S(metrics_max_kib), 64, 1u << 20, true,
	  "32768", 0, "N", NULL, "largest /metrics response" },
	{ "api-max-connections", K_U32, D(api_max_conns), 8, 65536, false,
	  "1024", 0, "N", NULL, "API connections open at most" },
	{ "api-max-connections-per-uid", K_U32, D(api_max_conns_per_uid), 1,
	  65536, false, "64", 0, "N", NULL,
	  "of which one client user id holds at most (more get 503)" },
	{ "api-idle-timeout-s", K_U32, D(api_idle_timeout_s), 1, 3600, false,
	  "2", 0, "N", NULL,
	  "close an API connection idle, or whose request is not whole, this "
	  "long" },
	{ "interval-ms", K_U32, D(interval_ms), 10, 3600000, true, "1000",
	  'i', "N", NULL, "harvest period" },
	{ "grace-ms", K_U64, D(grace_ms), 0, 86400000, true, "30000",
	  'g', "N", NULL, "keep exited VMs this long" },
	{ "max-vms", K_U32, D(max_vms), 1, 65536, true, "4096",
	  0, "N", NULL, "VMs tracked at most" },
	{ "max-counters", K_U32, D(max_counters), 16, 1u << 24, false, "262144",
	  0, "N", NULL, "BPF counter entries" },
	{ "disable-probe", K_PROBES, D(disabled), 0, 0, false, "",
	  0, "NAME", NULL, "do not load the probe on tracepoint NAME" },
	{ "guest-symbols", K_SYMBOLS, S(guest_symbols), 0, 0, true, "",
	  0, "VM:PATH", NULL, "symbol file of VM's guest kernel" },
	{ "tracefs", K_PATH_OPT, D(tracefs), 0, 0, false, "",
	  0, "DIR", NULL, "tracefs mount (default: found or mounted)" },
	{ "bpf-stats", K_BOOL, D(bpf_stats), 0, 0, false, "no",
	  0, NULL, "bpf-stats", "enable kernel BPF run-time stats (costs "
	  "about as much per event as a probe itself)" },
	{ "count-cache", K_BOOL, D(count_cache), 0, 0, false, "yes",
	  0, NULL, "no-count-cache", "count every event in the shared BPF "
	  "map, not in the per-thread cache (slower)" },
	{ "bpf", K_BOOL, D(bpf), 0, 0, false, "yes", 0, NULL, "no-bpf",
	  "load no BPF: serve KVM's own statistics only, VMs found in /proc" },
	{ "kvm-stats", K_BOOL, D(kvm_stats), 0, 0, false, "yes", 0, NULL,
	  "no-kvm-stats", "do not read KVM's binary statistics (and do not "
	  "keep CAP_SYS_PTRACE)" },
	{ "kvm-stats-metrics", K_BOOL, D(kvm_stats_metrics), 0, 0, true, "yes",
	  0, NULL, "no-kvm-stats-metrics", "KVM's statistics in the API "
	  "only, not in /metrics" },
	{ "drop-privileges", K_BOOL, D(drop_privileges), 0, 0, false, "yes",
	  0, NULL, "no-drop-privileges", "keep all capabilities after attach" },
	{ "user", K_STR, S(user), 0, 0, false, "",
	  0, "NAME", NULL, "run as NAME after attach when started as root, "
	  "e.g. kvmprof (default: stay uid 0, without capabilities)" },
	{ "spe-ring-kib", K_U32_POW2, D(spe_ring_kib), 64, 1u << 20, false,
	  "8192", 0, "N", NULL, "SPE capture ring buffer, power of 2 >= 64" },
	{ "spe-wakeup-kib", K_U32, D(spe_wakeup_kib), 1, 1u << 20, false,
	  "256", 0, "N", NULL, "wake kvmprofd past this much SPE data" },
	{ "spe-poll-ms", K_U32, D(spe_poll_ms), 1, 10000, true, "100",
	  0, "N", NULL, "and read SPE data at least this often" },
	{ "spe-raw-mib", K_U32, D(spe_raw_mib), 1, 4096, false, "64",
	  0, "N", NULL, "raw SPE recording window per VM" },
	{ "spe-midr", K_U64, D(spe_midr), 0, UINT32_MAX, false, "0",
	  0, "X", NULL, "MIDR_EL1 of the guests' CPU, for SPE data sources, "
	  "0: generic" },
	{ "spe-top-pcs", K_U32, D(spe_top_pcs), 0, 1u << 20, false, "4096",
	  0, "N", NULL, "top PCs tracked exactly per VM" },
	{ "verbose", K_INT, D(verbosity), 0, 2, true, "0",
	  'v', NULL, "verbose", "more logging (twice: libbpf debug)" },
};
/* clang-format on */
#define NKEYS (ARRAY_SIZE(config_key_table))
const size_t config_nkeys = NKEYS;
_Static_assert(NKEYS <= 64, "config: set_line[] too small");

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
	static const char *names[NKEYS + 1];

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
