/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest symbol lists, "PATH[@OFFSET][,PATH[@OFFSET]...]" (kvmprof spe
 * report --symbols, kvmprofd guest-symbols): parsing and checking, header
 * only so the daemon's configuration checks them without the SPE library.
 * Loading: spe_symtab_load_spec() in <kvmprof/spe_profile.h>.
 */
#ifndef KVMPROF_SPE_SYMSPEC_H
#define KVMPROF_SPE_SYMSPEC_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * The item of @len bytes at @item: its path into @path and its offset
 * (*@ret_has_off false: none).  0, or -EINVAL for a bad item.
 */
static inline int spe_symspec_item(const char *item, size_t len, char *path,
				   size_t path_size, bool *ret_has_off,
				   uint64_t *ret_off)
{
	const char *at = memchr(item, '@', len);
	size_t plen = at ? (size_t)(at - item) : len;
	char num[32], *end;

	if (!plen || plen >= path_size)
		return -EINVAL;
	memcpy(path, item, plen);
	path[plen] = '\0';
	*ret_has_off = at != NULL;
	*ret_off = 0;
	if (!at)
		return 0;
	len -= plen + 1;
	if (!len || len >= sizeof(num))
		return -EINVAL;
	memcpy(num, at + 1, len);
	num[len] = '\0';
	errno = 0;
	*ret_off = strtoull(num, &end, 0);
	return errno || *end ? -EINVAL : 0;
}

/* Checks a list's syntax and that its files are readable (-errno). */
static inline int spe_symspec_check(const char *spec)
{
	char path[4096];

	for (const char *p = spec; *p;) {
		size_t len = strcspn(p, ",");
		uint64_t off;
		bool has_off;

		if (spe_symspec_item(p, len, path, sizeof(path), &has_off,
				     &off))
			return -EINVAL;
		if (access(path, R_OK))
			return -errno;
		p += len + (p[len] == ',');
	}
	return *spec ? 0 : -EINVAL;
}

#endif
