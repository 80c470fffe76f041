// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmprof's API transport, loaded at the first request: kvmprof-client.so
 * (lib/client_curl.c, which links libcurl) next to the kvmprof binary in a
 * build tree, or in ../lib/kvmprof/ from it once installed (`make
 * install`).  libcurl pulls in about 30 libraries (TLS, Kerberos, LDAP,
 * ...) whose loading every run paid, offline ones such as `spe report`
 * included; the plugin keeps libcurl a DT_NEEDED dependency of a file
 * the package ships, so packaging tools still see it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <kvmprof/client.h>

#define PLUGIN "kvmprof-client.so"

typedef int get_raw_fn(const char *, const char *, uint8_t **, size_t *, long *,
		       const char *const *, char (*)[KP_HDR_VAL_MAX], size_t);

static get_raw_fn *get_raw;
static char load_error[2 * PATH_MAX + 256];

const char *kp_api_load_error(void)
{
	return load_error;
}

/* The plugin's kp_api_get_raw(), loaded once; NULL (load_error says why). */
static get_raw_fn *plugin(void)
{
	static const char *const where[] = { "", "../lib/kvmprof/" };
	char exe[PATH_MAX], path[PATH_MAX + 32];
	void *h = NULL;
	ssize_t n;
	char *dir;

	if (get_raw)
		return get_raw;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		snprintf(load_error, sizeof(load_error),
			 "cannot find kvmprof's own path (/proc not mounted?)");
		return NULL;
	}
	exe[n] = '\0';
	dir = strrchr(exe, '/');
	*(dir ? dir + 1 : exe) = '\0';
	snprintf(load_error, sizeof(load_error),
		 "cannot load kvmprof's API client: " PLUGIN " is neither in "
		 "%s nor in %s%s (make install puts it there)",
		 exe, exe, where[1]);
	for (size_t i = 0; i < sizeof(where) / sizeof(*where) && !h; i++) {
		snprintf(path, sizeof(path), "%s%s" PLUGIN, exe, where[i]);
		if (access(path, F_OK))
			continue;
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (!h)
			snprintf(load_error, sizeof(load_error),
				 "cannot load kvmprof's API client: %s",
				 dlerror());
	}
	if (!h)
		return NULL;
	get_raw = (get_raw_fn *)dlsym(h, "kp_api_get_raw");
	if (!get_raw) {
		snprintf(load_error, sizeof(load_error),
			 "cannot load kvmprof's API client: %s", dlerror());
		dlclose(h);
	}
	return get_raw;
}

int kp_api_get_raw(const char *socket, const char *path, uint8_t **ret_buf,
		   size_t *ret_len, long *ret_status, const char *const *hdrs,
		   char (*ret_vals)[KP_HDR_VAL_MAX], size_t nhdrs)
{
	get_raw_fn *fn = plugin();

	if (!fn)
		return -ELIBACC;
	return fn(socket, path, ret_buf, ret_len, ret_status, hdrs, ret_vals,
		  nhdrs);
}
