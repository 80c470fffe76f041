// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http.h"

struct mem {
	char *p;
	size_t len;
};

static size_t on_data(char *d, size_t sz, size_t n, void *ctx)
{
	struct mem *m = ctx;
	char *np = realloc(m->p, m->len + sz * n + 1);

	if (!np)
		return 0;
	m->p = np;
	memcpy(m->p + m->len, d, sz * n);
	m->len += sz * n;
	m->p[m->len] = '\0';
	return sz * n;
}

/* @method on http://@hostport@path: 0 with the status, body (*@m) and
 * Content-Type (@ctype, @len; may be NULL), or -1 if no answer. */
static int request(const char *method, const char *hostport, const char *path,
		   struct mem *m, long *ret_status, char *ctype, size_t len)
{
	CURL *c = curl_easy_init();
	char url[2048], *ct = NULL;
	CURLcode rc;

	snprintf(url, sizeof(url), "http://%s%s", hostport, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, m);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET"))
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, ret_status);
		curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
		if (ctype)
			snprintf(ctype, len, "%s", ct ? ct : "");
	}
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? 0 : -1;
}

int http_get(const char *hostport, const char *path, char **ret_body,
	     long *ret_status)
{
	struct mem m = { NULL, 0 };

	if (request("GET", hostport, path, &m, ret_status, NULL, 0)) {
		free(m.p);
		return -1;
	}
	*ret_body = m.p ? m.p : strdup("");
	return 0;
}

long http_req(const char *method, const char *hostport, const char *path,
	      char *ctype, size_t len, size_t *ret_body)
{
	struct mem m = { NULL, 0 };
	long status = -1;

	if (request(method, hostport, path, &m, &status, ctype, len))
		status = -1;
	*ret_body = m.len;
	free(m.p);
	return status;
}

int tcp_connect(const char *addr, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r = 0;

	inet_pton(AF_INET, addr, &sin.sin_addr);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		r = -errno;
	close(fd);
	return r;
}

int free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len)) {
		port = -errno;
		if (fd >= 0)
			close(fd);
		return port;
	}
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}
