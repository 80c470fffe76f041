// SPDX-License-Identifier: GPL-2.0-only
/* kvmprofd.conf parser: values, errors with their line, reload rules. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <kvmprof/util.h>
#include "config.h"

static char path[64];

static const char *write_conf(const char *text)
{
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/kvmprofd-conf.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Load @text; returns the error's line (0 if none) and the result. */
static int load(struct config *c, const char *text, struct config_error *err)
{
	int r;

	config_init(c);
	r = config_load_file(c, write_conf(text), true, err);
	unlink(path);
	return r;
}

static void defaults_without_file(void **state)
{
	struct config c;
	struct config_error err;

	config_init(&c);
	assert_int_equal(config_load_file(&c, "/nonexistent/kvmprofd.conf",
					  false, &err), 0);
	assert_null(c.path);
	assert_string_equal(c.s.metrics_listen, "127.0.0.1:19418");
	assert_string_equal(c.s.user, "");
	assert_int_equal(c.d.grace_ms, 30000);
	/* a host of 4096 VMs (1-2 vCPUs, ~24 counters each) out of the box */
	assert_true(c.d.max_vms >= 4096);
	assert_true(c.d.max_counters >= 4096 * 2 * 24);
	/* and the API's connections are bounded, per user too */
	assert_true(c.d.api_max_conns_per_uid < c.d.api_max_conns);
	/* a file named explicitly must exist */
	assert_int_equal(config_load_file(&c, "/nonexistent/kvmprofd.conf",
					  true, &err), -ENOENT);
	assert_string_equal(err.file, "/nonexistent/kvmprofd.conf");
	config_free(&c);
}

static void every_kind_of_value(void **state)
{
	struct config c;
	struct config_error err;
	int r;

	r = load(&c,
		 "# comment\n"
		 "\n"
		 "   # indented comment\n"
		 "socket = /run/x/y.sock\r\n"
		 "socket-mode=0640\n"
		 "socket-group =  \n"
		 "metrics-listen = [::1]:9999\n"
		 "metrics-max-kib = 1024\n"
		 "interval-ms = 250\n"
		 "grace-ms = 0\n"
		 "max-vms = 12\n"
		 "max-counters = 4096\n"
		 "disable-probe = kvm_exit, kvm_entry\n"
		 "disable-probe = kvm_pio\n"
		 "guest-symbols = web 01:/dev/null\n"
		 "tracefs = /sys/kernel/tracing\n"
		 "bpf-stats = off\n"
		 "drop-privileges = yes\n"
		 "user = nobody\n"
		 "spe-ring-kib = 64\n"
		 "spe-wakeup-kib = 8\n"
		 "spe-poll-ms = 5\n"
		 "spe-raw-mib = 2\n"
		 "verbose = 1", &err);
	assert_int_equal(r, 0);
	assert_string_equal(c.d.socket_path, "/run/x/y.sock");
	assert_int_equal(c.d.socket_mode, 0640);
	assert_string_equal(c.d.socket_group, "");
	assert_string_equal(c.s.metrics_listen, "[::1]:9999");
	assert_int_equal(c.s.metrics_max_kib, 1024);
	assert_int_equal(c.d.interval_ms, 250);
	assert_int_equal(c.d.grace_ms, 0);
	assert_int_equal(c.d.max_vms, 12);
	assert_int_equal(c.d.max_counters, 4096);
	assert_string_equal(c.d.disabled[0], "kvm_exit");
	assert_string_equal(c.d.disabled[1], "kvm_entry");
	assert_string_equal(c.d.disabled[2], "kvm_pio");
	assert_null(c.d.disabled[3]);
	assert_string_equal(config_guest_symbols(&c, "web 01"), "/dev/null");
	assert_null(config_guest_symbols(&c, "web"));
	assert_string_equal(c.d.tracefs, "/sys/kernel/tracing");
	assert_false(c.d.bpf_stats);
	assert_true(c.d.drop_privileges);
	assert_string_equal(c.s.user, "nobody");
	assert_int_equal(c.d.spe_ring_kib, 64);
	assert_int_equal(c.d.spe_wakeup_kib, 8);
	assert_int_equal(c.d.spe_poll_ms, 5);
	assert_int_equal(c.d.spe_raw_mib, 2);
	assert_int_equal(c.d.verbosity, 1);
	config_free(&c);
}

struct bad {
	const char *text;
	unsigned int line;
	const char *msg;	/* substring of the message */
};

static void errors_name_the_line(void **state)
{
	static const struct bad bad[] = {
		{ "grace-ms = 1\nbogus = 2\n", 2, "unknown key 'bogus'" },
		{ "\n\njust words\n", 3, "key = value" },
		{ " = 3\n", 1, "key = value" },
		{ "interval-ms = 5\n", 1, "from 10 to 3600000" },
		{ "interval-ms = 10x\n", 1, "whole number" },
		{ "interval-ms = -10\n", 1, "whole number" },
		{ "max-vms = 99999999999999999999999\n", 1, "whole number" },
		{ "grace-ms = 1\n# x\ngrace-ms = 2\n", 3, "already set on line 1" },
		{ "socket-mode = 0666\n", 1, "not accessible by others" },
		{ "socket-mode = 0999\n", 1, "octal" },
		{ "socket = relative.sock\n", 1, "absolute path" },
		{ "metrics-listen = localhost:80\n", 1, "IPV4:PORT" },
		{ "metrics-listen = 127.0.0.1\n", 1, "IPV4:PORT" },
		{ "metrics-listen = 127.0.0.1:65536\n", 1, "IPV4:PORT" },
		{ "metrics-listen = ::1:80\n", 1, "IPV4:PORT" },
		{ "bpf-stats = maybe\n", 1, "yes or no" },
		{ "spe-ring-kib = 48\n", 1, "power of two" },
		{ "disable-probe = kvm_exit,,kvm_pio\n", 1, "not a tracepoint" },
		{ "disable-probe = ../x\n", 1, "not a tracepoint" },
		{ "guest-symbols = /no/name\n", 1, "VMNAME:/absolute/path" },
		{ "guest-symbols = vm:relative\n", 1, "VMNAME:/absolute/path" },
		{ "guest-symbols = vm:/nonexistent/vmlinux\n", 1,
		  "No such file" },
		{ "guest-symbols = a:/dev/null\nguest-symbols = a:/dev/zero\n",
		  2, "given twice" },
		{ "verbose = 3\n", 1, "from 0 to 2" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct config c;
		struct config_error err;
		int r = load(&c, bad[i].text, &err);

		if (r == 0 || err.line != bad[i].line ||
		    !strstr(err.msg, bad[i].msg))
			fail_msg("case %zu '%s': r=%d line %u '%s'", i,
				 bad[i].text, r, err.line, err.msg);
		assert_true(strstr(err.file, "/tmp/kvmprofd-conf.") != NULL);
		config_free(&c);
	}
}

static void bounded_input(void **state)
{
	struct config c;
	struct config_error err;
	char *text = malloc(CONFIG_MAX_LINE + 64), *p;

	/* a line longer than the limit */
	assert_non_null(text);
	p = text + sprintf(text, "user = ");
	memset(p, 'a', CONFIG_MAX_LINE);
	strcpy(p + CONFIG_MAX_LINE, "\n");
	assert_int_equal(load(&c, text, &err), -EINVAL);
	assert_int_equal(err.line, 1);
	assert_non_null(strstr(err.msg, "longer than"));
	config_free(&c);
	free(text);

	/* list lengths */
	text = malloc(64 * 40);
	assert_non_null(text);
	text[0] = '\0';
	for (int i = 0; i <= KP_MAX_LIST; i++)
		sprintf(text + strlen(text), "disable-probe = p%d\n", i);
	assert_int_equal(load(&c, text, &err), -E2BIG);
	assert_int_equal(err.line, KP_MAX_LIST + 1);
	config_free(&c);
	free(text);

	/* NUL bytes */
	config_init(&c);
	{
		FILE *f;
		int fd;

		snprintf(path, sizeof(path), "/tmp/kvmprofd-conf.XXXXXX");
		fd = mkstemp(path);
		f = fdopen(fd, "w");
		fwrite("user = a\0b\n", 1, 11, f);
		fclose(f);
	}
	assert_int_equal(config_load_file(&c, path, true, &err), -EINVAL);
	unlink(path);
	config_free(&c);
}

/* The command line (config_set with line 0) wins over the file. */
static void command_line_overrides(void **state)
{
	struct config c;
	struct config_error err;

	assert_int_equal(load(&c, "grace-ms = 5\ndisable-probe = kvm_exit\n",
			      &err), 0);
	assert_int_equal(config_set(&c, "grace-ms", "7", 0, &err), 0);
	assert_int_equal(config_set(&c, "disable-probe", "kvm_pio", 0, &err),
			 0);
	assert_int_equal(c.d.grace_ms, 7);
	assert_string_equal(c.d.disabled[0], "kvm_exit");
	assert_string_equal(c.d.disabled[1], "kvm_pio");
	assert_int_equal(config_set(&c, "nope", "1", 0, &err), -ENOENT);
	config_free(&c);
}

/* On reload, keys that need a restart keep their old value. */
static void reload_keeps_restart_only_keys(void **state)
{
	struct config old, new;
	struct config_error err;
	const char *names[8];
	size_t n;

	assert_int_equal(load(&old, "socket = /run/a.sock\ngrace-ms = 10\n"
			      "disable-probe = kvm_exit\n", &err), 0);
	assert_int_equal(load(&new, "socket = /run/b.sock\ngrace-ms = 20\n"
			      "max-counters = 1024\nmetrics-listen = off\n",
			      &err), 0);
	n = config_keep_restart_only(&old, &new, names, 8);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "socket");
	assert_string_equal(names[1], "max-counters");
	assert_string_equal(names[2], "disable-probe");
	config_free(&old);	/* new must not point into old */
	assert_string_equal(new.d.socket_path, "/run/a.sock");
	assert_int_equal(new.d.max_counters, 262144);
	assert_string_equal(new.d.disabled[0], "kvm_exit");
	assert_null(new.d.disabled[1]);
	assert_int_equal(new.d.grace_ms, 20);		/* reloadable */
	assert_string_equal(new.s.metrics_listen, "off");
	assert_int_equal(config_key_reloadable("grace-ms"), 1);
	assert_int_equal(config_key_reloadable("socket"), 0);
	assert_int_equal(config_key_reloadable("nope"), -ENOENT);
	config_free(&new);
}

static void listen_addresses(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;

	assert_int_equal(config_parse_listen("off", &ss, &len), 0);
	assert_int_equal(config_parse_listen("127.0.0.1:19418", &ss, &len), 1);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 19418);
	assert_int_equal(config_parse_listen("[::]:0", &ss, &len), 1);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(config_parse_listen("[::1]", &ss, &len), -EINVAL);
	assert_int_equal(config_parse_listen("1.2.3.4:", &ss, &len), -EINVAL);
	assert_int_equal(config_parse_listen(":80", &ss, &len), -EINVAL);
	assert_int_equal(config_parse_listen("[]:80", &ss, &len), -EINVAL);
}

/* --print-config output reads back to the same configuration. */
static void print_round_trips(void **state)
{
	struct config a, b;
	struct config_error err;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(load(&a, "grace-ms = 3\ndisable-probe = a, b\n"
			      "guest-symbols = vm:/dev/null\n"
			      "metrics-listen = off\nsocket-mode = 0600\n",
			      &err), 0);
	f = open_memstream(&text, &len);
	config_print(&a, f);
	fclose(f);
	assert_non_null(strstr(text, "grace-ms = 3\n"));
	assert_non_null(strstr(text, "disable-probe = a, b\n"));
	assert_non_null(strstr(text, "socket-mode = 0600\n"));
	/* every key is printed */
	for (const char *const *k = config_keys(); *k; k++) {
		char want[64];

		snprintf(want, sizeof(want), "\n%s =", *k);
		if (!strstr(text, want) && strncmp(text, want + 1,
						   strlen(want + 1)))
			fail_msg("key %s not printed", *k);
	}
	assert_int_equal(load(&b, text, &err), 0);
	assert_int_equal(b.d.grace_ms, 3);
	assert_string_equal(b.d.disabled[1], "b");
	assert_string_equal(config_guest_symbols(&b, "vm"), "/dev/null");
	assert_int_equal(b.d.socket_mode, 0600);
	free(text);
	config_free(&a);
	config_free(&b);
}

static char *print_to_string(void (*print)(FILE *f))
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	print(f);
	fclose(f);
	return text;
}

static char *print_config(const struct config *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	config_print(c, f);
	fclose(f);
	return text;
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	for (; (s = strstr(s, what)); s += strlen(what))
		n++;
	return n;
}

/*
 * The generated default file sets nothing as shipped; uncommented, it
 * sets every key once, to the daemon's defaults.  The man page entries
 * name every key and close every font change.
 */
static void generated_docs(void **state)
{
	char *file = print_to_string(config_print_default_file);
	char *man = print_to_string(config_print_man_keys);
	char *want, *got, *uncommented = strdup(file), *o = uncommented;
	struct config def, c;
	struct config_error err;

	assert_non_null(uncommented);
	for (const char *p = file; *p;) {
		size_t n = strcspn(p, "\n");

		/* "#key = value" lines lose their '#'; others are dropped */
		if (p[0] == '#' && p[1] >= 'a' && p[1] <= 'z') {
			memcpy(o, p + 1, n - 1);
			o += n - 1;
			*o++ = '\n';
		}
		p += n + (p[n] == '\n');
	}
	*o = '\0';
	assert_int_equal(load(&c, file, &err), 0);
	for (size_t i = 0; i < config_nkeys; i++)
		assert_int_equal(config_key_line(&c, config_key_table[i].name),
				 0);
	config_free(&c);
	assert_int_equal(load(&c, uncommented, &err), 0);
	assert_int_equal(config_init(&def), 0);
	for (size_t i = 0; i < config_nkeys; i++) {
		const struct config_key *k = &config_key_table[i];
		char tag[128], *t = tag + sprintf(tag, ".TP\n.BR ");

		if (k->type != K_PROBES && k->type != K_SYMBOLS &&
		    !config_key_line(&c, k->name))
			fail_msg("key %s not in the default file", k->name);
		for (const char *n = k->name; *n; n++)
			t += sprintf(t, *n == '-' ? "\\-" : "%c", *n);
		strcpy(t, " \"");
		if (!strstr(man, tag))
			fail_msg("key %s not in the man page", k->name);
	}
	want = print_config(&def);
	got = print_config(&c);
	assert_string_equal(got, want);
	assert_int_equal(count(man, "\\fB") + count(man, "\\fI"),
			 count(man, "\\fR"));
	assert_int_equal(count(man, ".TP\n"), config_nkeys);
	free(want);
	free(got);
	free(file);
	free(man);
	free(uncommented);
	config_free(&c);
	config_free(&def);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_without_file),
		cmocka_unit_test(every_kind_of_value),
		cmocka_unit_test(errors_name_the_line),
		cmocka_unit_test(bounded_input),
		cmocka_unit_test(command_line_overrides),
		cmocka_unit_test(reload_keeps_restart_only_keys),
		cmocka_unit_test(listen_addresses),
		cmocka_unit_test(print_round_trips),
		cmocka_unit_test(generated_docs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
