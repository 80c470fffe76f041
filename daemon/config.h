/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kvmprofd configuration: defaults, then the file (kvmprofd.conf(5)), then
 * the command line.  One table of keys (config_keys.c) serves the file
 * parser, the command line (a long option is the key of the same name),
 * SIGHUP reloads, --print-config and the generated documentation.
 *
 * File syntax: `key = value` per line; blank lines and lines whose first
 * non-blank character is '#' are ignored; no quoting, no trailing comments.
 * List keys (disable-probe, guest-symbols) may repeat and accumulate;
 * setting any other key twice is an error.  Errors name FILE:LINE.
 *
 * Adding a key: a row in config_key_table[] (config_keys.c: type, range,
 * default, reload, short option, help, doc), a field in struct daemon_opts
 * or struct service_opts, then `make update-docs` (rewrites
 * dist/kvmprofd.conf and the KEYS of docs/man/kvmprofd.conf.5;
 * tests/service/check-docs.sh fails while they are stale).
 */
#ifndef KVMPROFD_CONFIG_H
#define KVMPROFD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "daemon.h"

#define CONFIG_DEFAULT_PATH "/etc/kvmprof/kvmprofd.conf"
#define CONFIG_MAX_FILE (1024 * 1024)	/* bytes */
#define CONFIG_MAX_LINE 4096		/* bytes per line */
#define CONFIG_MAX_GUEST_SYMBOLS 64
#define CONFIG_DEFAULT_METRICS "127.0.0.1:19418"
#define CONFIG_MAX_KEYS 64

struct guest_symbols {
	const char *vm;		/* VM name as kvmprof shows it */
	const char *path;	/* absolute path of its symbol file */
};

/* Settings of the service side (systemd, metrics, privileges). */
struct service_opts {
	const char *metrics_listen;	/* "ADDR:PORT", "[ADDR6]:PORT" or "off" */
	uint32_t metrics_max_kib;	/* largest /metrics response */
	const char *user;		/* run as this user after attach
					 * (when root; "": stay uid 0) */
	struct guest_symbols guest_symbols[CONFIG_MAX_GUEST_SYMBOLS];
	size_t nguest_symbols;
};

struct config_str;

struct config {
	struct daemon_opts d;
	struct service_opts s;
	const char *path;		/* file read, or NULL */
	/* internal: strings owned, and which scalar keys were set where */
	struct config_str *strs;
	unsigned int set_line[CONFIG_MAX_KEYS];
	size_t ndisabled;
};

struct config_error {
	char file[256];
	unsigned int line;	/* 0: not about one line */
	char msg[320];
};

enum config_ktype {
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

/* One configuration key (config_keys.c: config_key_table[]). */
struct config_key {
	const char *name;	/* in the file, and the long option */
	enum config_ktype type;
	bool svc;		/* field of service_opts, else daemon_opts */
	size_t off;
	uint64_t min, max;
	bool reload;		/* applied on SIGHUP */
	const char *def;	/* default, as the file writes it */
	char shortopt;		/* or 0 */
	const char *arg;	/* --help's name of the value; NULL: a flag */
	/* flags: the option setting the opposite of the default (K_BOOL);
	 * K_INT: the option adding one per use */
	const char *flag;
	const char *help;	/* --help text */
	/* kvmprofd.conf(5) and dist/kvmprofd.conf text (config_doc.c);
	 * markup: *bold*, <italic>, backslash quotes the next character */
	const char *doc;
};

extern const struct config_key config_key_table[];
extern const size_t config_nkeys;

/* The defaults of every key: 0 or -ENOMEM. */
int config_init(struct config *c);
void config_free(struct config *c);

/*
 * Read @path into @c.  A missing file is not an error when !@must_exist.
 * On error @c may be partly updated: load into a fresh config and keep the
 * old one (reload).  Returns 0 or -errno, with @err filled.
 */
int config_load_file(struct config *c, const char *path, bool must_exist,
		     struct config_error *err);

/* Set one key from text (command line or file): 0 or -EINVAL/-ENOENT
 * (unknown key)/-E2BIG (list full) with @err->msg filled. */
int config_set(struct config *c, const char *key, const char *value,
	       unsigned int line, struct config_error *err);

/* Every key with its effective value, in the file format. */
void config_print(const struct config *c, FILE *f);
/* Generated documentation (config_doc.c): the annotated default file
 * (dist/kvmprofd.conf), and the KEYS entries of kvmprofd.conf(5). */
void config_print_default_file(FILE *f);
void config_print_man_keys(FILE *f);
/* config_doc.c's writers: @text wrapped at @width columns after @prefix
 * (roff-guarded when @prefix is empty); a name with roff minus signs. */
void config_doc_wrap(FILE *f, const char *text, const char *prefix,
		     size_t width);
void config_doc_roff_name(FILE *f, const char *s);

/* Names of all keys, in table order (NULL-terminated). */
const char *const *config_keys(void);
/* Whether a key takes effect on SIGHUP (1), needs a restart (0), or is
 * unknown (-ENOENT). */
int config_key_reloadable(const char *key);

/*
 * For a reload: every key that needs a restart and differs between @old
 * and @new is put back to its @old value in @new, and its name stored in
 * @ret_names (up to @max).  Returns how many keys were reverted.
 */
size_t config_keep_restart_only(const struct config *old, struct config *new,
				const char **ret_names, size_t max);

/* For config*.c: where key @k's value is in @c; a copy of @s owned by @c
 * (NULL: ENOMEM); an error message. */
void *config_field(const struct config *c, const struct config_key *k);
const char *config_keep(struct config *c, const char *s, size_t len);
void config_errf(struct config_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Line of the file where @key was set, 0 if not set there. */
unsigned int config_key_line(const struct config *c, const char *key);

/* Parse a metrics-listen value: 1 with the address in *@ret_ss (either may
 * be NULL), 0 for "off", -EINVAL if malformed. */
int config_parse_listen(const char *s, struct sockaddr_storage *ret_ss,
			socklen_t *ret_len);

/* The symbol file configured for VM @vm_name, or NULL. */
const char *config_guest_symbols(const struct config *c, const char *vm_name);

#endif
