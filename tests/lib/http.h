/* SPDX-License-Identifier: GPL-2.0-only */
/* HTTP over TCP for the tests (libcurl): metrics, Prometheus. */
#ifndef KP_TEST_HTTP_H
#define KP_TEST_HTTP_H

#include <stddef.h>

/* GET http://@hostport@path: body (malloc'ed) and status; 0 or -1. */
int http_get(const char *hostport, const char *path, char **ret_body,
	     long *ret_status);
/* @method on http://@hostport@path: status, and Content-Type into @ctype;
 * -1 if no answer. */
long http_req(const char *method, const char *hostport, const char *path,
	      char *ctype, size_t len, size_t *ret_body);
/* connect() to ADDR:PORT over TCP: 0 or -errno */
int tcp_connect(const char *addr, int port);
/* A TCP port of 127.0.0.1 free right now, or -errno. */
int free_port(void);

#endif
