// SPDX-License-Identifier: GPL-2.0-only
/* The API client's parts that do not depend on its transport
 * (kp_api_get_raw(): lib/client_curl.c, or cli/client_dl.c in kvmprof). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <kvmprof/client.h>
#include <kvmprof/json.h>

int kp_api_get(const char *socket, const char *path, cJSON **ret_json,
	       long *ret_status)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	r = kp_api_get_raw(socket, path, &buf, &len, ret_status, NULL, NULL, 0);
	if (r < 0)
		return r;
	*ret_json = buf ? kp_json_parse((const char *)buf, len) : NULL;
	free(buf);
	return *ret_json ? 0 : -EBADMSG;
}

int kp_path_escape(const char *s, char *buf, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		bool plain = (ch >= 'a' && ch <= 'z') ||
			     (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9') || strchr("-._~", ch);

		if (o + (plain ? 1 : 3) >= len)
			return -ENAMETOOLONG;
		if (plain) {
			buf[o++] = (char)ch;
		} else {
			buf[o++] = '%';
			buf[o++] = hex[ch >> 4];
			buf[o++] = hex[ch & 15];
		}
	}
	buf[o] = '\0';
	return 0;
}
