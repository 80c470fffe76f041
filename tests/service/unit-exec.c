// SPDX-License-Identifier: GPL-2.0-only
/*
 * unit-exec UNIT -- COMMAND...: run COMMAND with the identity and sandbox
 * settings of a systemd unit file, the way systemd's executor would, so
 * that a test can check the daemon works inside its unit's limits without
 * a running systemd.  Applied (in systemd's order): Group=, User=
 * (supplementary groups of the user), CapabilityBoundingSet=,
 * AmbientCapabilities= (also inheritable and permitted),
 * NoNewPrivileges=, SystemCallFilter= (allow list with @groups expanded by
 * `systemd-analyze syscall-filter`, then ~deny lists) with
 * SystemCallErrorNumber=.  The mount namespace settings are not emulated.
 * Exit 77 when a needed tool or the user is missing.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cap-ng.h>
#include <seccomp.h>

#define MAX_NAMES 2048

struct set {
	char *name[MAX_NAMES];
	size_t n;
};

static void add(struct set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name))
			return;
	if (s->n < MAX_NAMES)
		s->name[s->n++] = strdup(name);
}

static void del(struct set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name)) {
			free(s->name[i]);
			s->name[i] = s->name[--s->n];
			return;
		}
}

/* systemd-analyze syscall-filter: "@group" lines, indented members */
static char *groups_text;

static void load_groups(void)
{
	FILE *p = popen("systemd-analyze syscall-filter 2>/dev/null", "r");
	size_t len = 0, cap = 1 << 16;
	size_t n;

	groups_text = calloc(1, cap);
	if (!p || !groups_text)
		exit(77);
	while ((n = fread(groups_text + len, 1, cap - len - 1, p)) > 0) {
		len += n;
		if (cap - len < 4096) {
			cap *= 2;
			groups_text = realloc(groups_text, cap);
		}
	}
	groups_text[len] = '\0';
	if (pclose(p) != 0 || !strstr(groups_text, "@system-service")) {
		fprintf(stderr, "unit-exec: SKIP: systemd-analyze "
			"syscall-filter unavailable\n");
		exit(77);
	}
}

/* Members of @group (recursively) or the name itself into @s. */
static void expand(const char *item, void (*fn)(struct set *, const char *),
		   struct set *s, int depth)
{
	char *copy, *line, *save = NULL;
	bool in = false, found = false;

	if (item[0] != '@') {
		fn(s, item);
		return;
	}
	if (depth > 8)
		return;
	copy = strdup(groups_text);
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *t = line;

		if (line[0] != ' ' && line[0] != '\t') {
			in = !strcmp(line, item);
			found |= in;
			continue;
		}
		if (!in)
			continue;
		while (*t == ' ' || *t == '\t')
			t++;
		if (!*t || *t == '#')
			continue;
		expand(t, fn, s, depth + 1);
	}
	free(copy);
	if (!found) {
		fprintf(stderr, "unit-exec: unknown syscall group %s\n", item);
		exit(1);
	}
}

static int cap_of(const char *name)
{
	int c = capng_name_to_capability(name + (strncasecmp(name, "CAP_", 4) ?
							0 : 4));

	if (c < 0) {
		fprintf(stderr, "unit-exec: unknown capability %s\n", name);
		exit(1);
	}
	return c;
}

int main(int argc, char **argv)
{
	char line[4096], user[64] = "", group[64] = "", errname[32] = "";
	char bounding[1024] = "", ambient[1024] = "";
	char filters[8][1024];
	int nfilters = 0, cmd = 0;
	bool nnp = false;
	struct set allow = { .n = 0 };
	scmp_filter_ctx sc;
	FILE *f;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			cmd = i + 1;
			break;
		}
	if (argc < 4 || !cmd || cmd >= argc) {
		fprintf(stderr, "usage: unit-exec UNIT -- COMMAND...\n");
		return 2;
	}
	f = fopen(argv[1], "r");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *v = strchr(line, '=');

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || !v)
			continue;
		*v++ = '\0';
		if (!strcmp(line, "User"))
			snprintf(user, sizeof(user), "%s", v);
		else if (!strcmp(line, "Group"))
			snprintf(group, sizeof(group), "%s", v);
		else if (!strcmp(line, "CapabilityBoundingSet"))
			snprintf(bounding, sizeof(bounding), "%s", v);
		else if (!strcmp(line, "AmbientCapabilities"))
			snprintf(ambient, sizeof(ambient), "%s", v);
		else if (!strcmp(line, "NoNewPrivileges"))
			nnp = !strcmp(v, "yes") || !strcmp(v, "true");
		else if (!strcmp(line, "SystemCallErrorNumber"))
			snprintf(errname, sizeof(errname), "%s", v);
		else if (!strcmp(line, "SystemCallFilter") && nfilters < 8)
			snprintf(filters[nfilters++], sizeof(filters[0]), "%s",
				 v);
	}
	fclose(f);

	/* system calls: first list allows, "~" lists deny (systemd order) */
	load_groups();
	for (int i = 0; i < nfilters; i++) {
		char *s = filters[i], *tok, *save = NULL;
		bool deny = *s == '~';

		if (deny)
			s++;
		if (i == 0 && deny) {
			fprintf(stderr, "unit-exec: deny-only filters not "
				"emulated\n");
			return 1;
		}
		for (tok = strtok_r(s, " ", &save); tok;
		     tok = strtok_r(NULL, " ", &save))
			expand(tok, deny ? del : add, &allow, 0);
	}

	/* identity: group, then user with its supplementary groups */
	if (*user) {
		struct passwd *pw = getpwnam(user);
		struct group *gr = *group ? getgrnam(group) : NULL;
		gid_t gid;

		if (!pw || (*group && !gr)) {
			fprintf(stderr, "unit-exec: SKIP: user %s or group %s "
				"missing\n", user, group);
			return 77;
		}
		gid = gr ? gr->gr_gid : pw->pw_gid;
		if (initgroups(user, gid) || setresgid(gid, gid, gid)) {
			perror("unit-exec: groups");
			return 1;
		}
		/* keep the ambient set across the uid change */
		capng_get_caps_process();
		capng_clear(CAPNG_SELECT_BOTH);
		for (char *t = strtok(ambient, " "); t; t = strtok(NULL, " "))
			capng_update(CAPNG_ADD, CAPNG_EFFECTIVE |
				     CAPNG_PERMITTED | CAPNG_INHERITABLE,
				     cap_of(t));
		for (char *t = strtok(bounding, " "); t; t = strtok(NULL, " "))
			capng_update(CAPNG_ADD, CAPNG_BOUNDING_SET, cap_of(t));
		/* the bounding set while still root */
		if (capng_apply(CAPNG_SELECT_BOUNDS)) {
			fprintf(stderr, "unit-exec: bounding set failed\n");
			return 1;
		}
		if (capng_change_id((int)pw->pw_uid, (int)gid,
				    CAPNG_NO_FLAG)) {
			fprintf(stderr, "unit-exec: changing to %s failed\n",
				user);
			return 1;
		}
		/* ambient: survive execve as a non-root user */
		for (size_t c = 0; c <= CAP_LAST_CAP; c++)
			if (capng_have_capability(CAPNG_INHERITABLE, (int)c) &&
			    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0)) {
				perror("unit-exec: ambient");
				return 1;
			}
	}
	if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		perror("unit-exec: no_new_privs");
		return 1;
	}
	if (nfilters) {
		int err = EPERM;

		if (*errname && strcmp(errname, "EPERM")) {
			fprintf(stderr, "unit-exec: only EPERM emulated\n");
			return 1;
		}
		sc = seccomp_init(*errname ? SCMP_ACT_ERRNO(err) :
				  SCMP_ACT_KILL_PROCESS);
		if (!sc)
			return 1;
		for (size_t i = 0; i < allow.n; i++) {
			int nr = seccomp_syscall_resolve_name(allow.name[i]);

			if (nr == __NR_SCMP_ERROR)
				continue;	/* not on this architecture */
			if (seccomp_rule_add(sc, SCMP_ACT_ALLOW, nr, 0) < 0) {
				fprintf(stderr, "unit-exec: rule %s\n",
					allow.name[i]);
				return 1;
			}
		}
		if (seccomp_load(sc) < 0) {
			fprintf(stderr, "unit-exec: seccomp_load failed\n");
			return 1;
		}
	}
	execv(argv[cmd], argv + cmd);
	perror(argv[cmd]);
	return 127;
}
