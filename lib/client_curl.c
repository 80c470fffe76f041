// SPDX-License-Identifier: GPL-2.0-only
/*
 * kp_api_get_raw() with libcurl.  Linked into kvmprofd's tests and benches
 * directly, and into kvmprof-client.so, which kvmprof loads at its first
 * API request (cli/client_dl.c): libcurl and its ~30 libraries (TLS,
 * Kerberos, LDAP, ...) are not loaded by kvmprof's offline commands.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>

#include <kvmprof/client.h>

struct body {
	char *buf;
	size_t len;
	bool too_big;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	struct body *b = ud;
	size_t add = size * n;
	char *nb;

	if (b->len + add > KP_CLIENT_MAX_BODY) {
		b->too_big = true;
		return 0;
	}
	nb = realloc(b->buf, b->len + add + 1);
	if (!nb)
		return 0;
	memcpy(nb + b->len, p, add);
	b->buf = nb;
	b->len += add;
	b->buf[b->len] = '\0';
	return add;
}

/* libcurl folds connect errors together: ask the socket first. */
static int probe_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		r = -errno;
	close(fd);
	return r;
}

struct hdr_want {
	const char *const *names;
	char (*vals)[KP_HDR_VAL_MAX];
	size_t n;
};

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct hdr_want *h = ud;
	size_t l = size * n;

	for (size_t i = 0; i < h->n; i++) {
		size_t nl = strlen(h->names[i]), s = nl + 1, e = l;

		if (l <= nl + 1 || strncasecmp(p, h->names[i], nl) ||
		    p[nl] != ':')
			continue;
		while (s < e && (p[s] == ' ' || p[s] == '\t'))
			s++;
		while (e > s && (p[e - 1] == '\r' || p[e - 1] == '\n'))
			e--;
		if (e - s < KP_HDR_VAL_MAX) {
			memcpy(h->vals[i], p + s, e - s);
			h->vals[i][e - s] = '\0';
		}
	}
	return l;
}

int kp_api_get_raw(const char *socket, const char *path, uint8_t **ret_buf,
		   size_t *ret_len, long *ret_status, const char *const *hdrs,
		   char (*ret_vals)[KP_HDR_VAL_MAX], size_t nhdrs)
{
	struct hdr_want hw = { hdrs, ret_vals, nhdrs };
	struct body b = {};
	char url[512];
	CURLcode cc;
	CURL *c;
	int r;

	r = probe_socket(socket);
	if (r < 0)
		return r;
	if (snprintf(url, sizeof(url), "http://kvmprofd%s", path) >=
	    (int)sizeof(url))
		return -ENAMETOOLONG;
	for (size_t i = 0; i < nhdrs; i++)
		ret_vals[i][0] = '\0';
	c = curl_easy_init();
	if (!c)
		return -ENOMEM;
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (nhdrs) {
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, &hw);
	}
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, ret_status);
		*ret_buf = (uint8_t *)b.buf;
		*ret_len = b.len;
		b.buf = NULL;
		r = 0;
	} else {
		r = b.too_big			? -EFBIG :
		    cc == CURLE_COULDNT_CONNECT ? -ECONNREFUSED :
						  -EIO;
	}
	curl_easy_cleanup(c);
	free(b.buf);
	return r;
}
