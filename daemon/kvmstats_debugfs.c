// SPDX-License-Identifier: GPL-2.0-only
/* KVM's statistics from debugfs: see kvmstats_debugfs.h. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kvmprof/json.h>
#include "kvmstats_debugfs.h"

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* "<pid>-<digits>" */
static bool is_vm_dir(const char *name, pid_t pid)
{
	char pfx[24];
	size_t l = (size_t)snprintf(pfx, sizeof(pfx), "%d-", (int)pid);

	if (strncmp(name, pfx, l) || !name[l])
		return false;
	for (const char *p = name + l; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return true;
}

/* The decimal value in file @name of @dirfd: 0 or -errno. */
static int read_val(int dirfd, const char *name, uint64_t *ret)
{
	char buf[32], *end;
	ssize_t n;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n ? -errno : -EINVAL;
	buf[n] = '\0';
	if (!isdigit((unsigned char)buf[0]))
		return -EINVAL;
	errno = 0;
	*ret = strtoull(buf, &end, 10);
	if (errno || (*end && *end != '\n'))
		return -EINVAL;
	return 0;
}

/* The statistics' names: the regular files holding a number. */
static int list_stats(struct ks_debugfs *d)
{
	DIR *dir = opendir(d->dir);
	struct dirent *de;

	if (!dir)
		return -errno;
	d->names = calloc(KS_DEBUGFS_MAX_STATS, sizeof(*d->names));
	d->vals = calloc(KS_DEBUGFS_MAX_STATS, sizeof(*d->vals));
	if (!d->names || !d->vals) {
		closedir(dir);
		return -ENOMEM;
	}
	while ((de = readdir(dir)) && d->n < KS_DEBUGFS_MAX_STATS) {
		struct stat st;
		uint64_t v;

		if (de->d_name[0] == '.' ||
		    strlen(de->d_name) >= KS_DEBUGFS_NAME_MAX ||
		    fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode) ||
		    read_val(dirfd(dir), de->d_name, &v))
			continue;
		strcpy(d->names[d->n++], de->d_name);
	}
	closedir(dir);
	qsort(d->names, d->n, sizeof(*d->names), cmp_names);
	return d->n ? 0 : -ENOENT;
}

int ks_debugfs_find(const char *root, pid_t pid, struct ks_debugfs **ret)
{
	char best[32] = "";
	struct ks_debugfs *d;
	struct dirent *de;
	DIR *dir = opendir(root);
	int r;

	if (!dir)
		return -errno;
	while ((de = readdir(dir)))
		if (is_vm_dir(de->d_name, pid) &&
		    strlen(de->d_name) < sizeof(best) &&
		    (!best[0] || strcmp(de->d_name, best) < 0))
			strcpy(best, de->d_name);
	closedir(dir);
	if (!best[0])
		return -ENOENT;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	snprintf(d->id, sizeof(d->id), "%s", best);
	snprintf(d->dir, sizeof(d->dir), "%s/%s", root, best);
	r = list_stats(d);
	if (r) {
		ks_debugfs_free(d);
		return r;
	}
	*ret = d;
	return 0;
}

int ks_debugfs_read(struct ks_debugfs *d)
{
	uint64_t *v = calloc(d->n ? d->n : 1, sizeof(*v));
	int dfd, r = 0;

	if (!v)
		return -ENOMEM;
	dfd = open(d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		r = -errno;
	for (size_t i = 0; !r && i < d->n; i++)
		r = read_val(dfd, d->names[i], &v[i]);
	if (dfd >= 0)
		close(dfd);
	if (!r) {
		memcpy(d->vals, v, d->n * sizeof(*v));
		d->have_vals = true;
	}
	free(v);
	return r;
}

void ks_debugfs_free(struct ks_debugfs *d)
{
	if (!d)
		return;
	free(d->names);
	free(d->vals);
	free(d);
}

cJSON *ks_debugfs_json(const struct ks_debugfs *d)
{
	cJSON *o = cJSON_CreateObject(), *a;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "id", d->id);
	cJSON_AddBoolToObject(o, "read", d->have_vals);
	cJSON_AddNumberToObject(o, "skipped", 0);
	a = cJSON_AddArrayToObject(o, "stats");
	for (size_t i = 0; a && d->have_vals && i < d->n; i++) {
		cJSON *s = cJSON_CreateObject();

		if (!s)
			break;
		cJSON_AddStringToObject(s, "name", d->names[i]);
		/* vCPU statistics summed over the VM's vCPUs */
		cJSON_AddStringToObject(s, "type", "vm-sum");
		cJSON_AddStringToObject(s, "unit", "none");
		cJSON_AddNumberToObject(s, "base", 10);
		cJSON_AddNumberToObject(s, "exponent", 0);
		kp_json_add_u64(s, "value", d->vals[i]);
		cJSON_AddItemToArray(a, s);
	}
	return o;
}
