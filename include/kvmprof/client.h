/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Client of kvmprofd's HTTP/JSON API on a Unix socket.  The transport,
 * kp_api_get_raw(), is libcurl's (lib/client_curl.c), linked directly or,
 * in kvmprof, loaded from kvmprof-client.so at the first request
 * (cli/client_dl.c).
 */
#ifndef KVMPROF_CLIENT_H
#define KVMPROF_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define KP_DEFAULT_SOCKET "/run/kvmprof/kvmprofd.sock"
#define KP_CLIENT_MAX_BODY (16u << 20)

/*
 * GET @path (e.g. "/v1/vms") from the daemon on @socket.  On success returns
 * 0 with the parsed body in *ret_json and the HTTP status in *ret_status
 * (the caller checks it; error bodies are JSON too).  On failure returns
 * -errno: -ENOENT/-ECONNREFUSED (no daemon), -EACCES (socket permissions),
 * -EBADMSG (not JSON), -EIO (transport), -EFBIG (body over the limit),
 * -ELIBACC (kvmprof: its transport could not be loaded).
 */
int kp_api_get(const char *socket, const char *path, cJSON **ret_json,
	       long *ret_status);

#define KP_HDR_VAL_MAX 64

/*
 * GET @path as bytes: body in *ret_buf (malloc'ed, *ret_len), HTTP status,
 * and the values of the @nhdrs response headers @hdrs into @ret_vals
 * ("" when absent).
 */
int kp_api_get_raw(const char *socket, const char *path, uint8_t **ret_buf,
		   size_t *ret_len, long *ret_status, const char *const *hdrs,
		   char (*ret_vals)[KP_HDR_VAL_MAX], size_t nhdrs);

/*
 * kvmprof only: why kvmprof-client.so could not be loaded, after a request
 * failed with -ELIBACC.
 */
const char *kp_api_load_error(void);

/* Percent-encode @s for a path segment into @buf; -ENAMETOOLONG if it does
 * not fit. */
int kp_path_escape(const char *s, char *buf, size_t len);

#endif
