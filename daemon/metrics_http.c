// SPDX-License-Identifier: GPL-2.0-only
/*
 * /metrics over HTTP: a libmicrohttpd server in external-epoll mode on a TCP
 * socket (127.0.0.1:19418 by default), driven from the daemon's loop through
 * an epoll fd of ours (so the listener can be swapped on reload).  GET and
 * HEAD of /metrics only; bounded connections, memory, time and output size.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "config.h"
#include "daemon.h"
#include "loop.h"
#include "metrics.h"
#include "status.h"

#define METRICS_CONN_LIMIT 16
#define METRICS_CONN_TIMEOUT_S 10
#define METRICS_CONN_MEMORY (16 * 1024)

#if MHD_VERSION < 0x00097002
typedef int MHD_Result_t;
#else
typedef enum MHD_Result MHD_Result_t;
#endif

struct metrics {
	struct daemon *d;
	struct MHD_Daemon *mhd;
	int ep;			/* ours: holds the MHD epoll fd */
	char addr[INET6_ADDRSTRLEN + 8];
};

int metrics_listen(const char *listen_addr, int *ret_fd)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	int fd, one = 1, r;

	*ret_fd = -1;
	r = config_parse_listen(listen_addr, &ss, &len);
	if (r <= 0)
		return r;	/* "off", or malformed */
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (ss.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) ||
	    bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 64)) {
		r = -errno;
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

/* The daemon at this instant, rendered. */
static int render_daemon(struct daemon *d, char **ret_buf, size_t *ret_len)
{
	struct status st;
	int r;

	r = status_snapshot(d, &st);
	if (r < 0)
		return r;
	r = metrics_render(&st.v, (size_t)d->cfg->s.metrics_max_kib * 1024,
			   ret_buf, ret_len);
	status_release(&st);
	return r;
}

static MHD_Result_t reply(struct MHD_Connection *c, unsigned int status,
			  const char *text)
{
	struct MHD_Response *resp;
	MHD_Result_t ret;

	resp = MHD_create_response_from_buffer(strlen(text), (void *)text,
					       MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
					"GET, HEAD");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static MHD_Result_t on_request(void *cls, struct MHD_Connection *c,
			       const char *url, const char *method,
			       const char *version, const char *upload_data,
			       size_t *upload_data_size, void **con_cls)
{
	struct metrics *m = cls;
	struct MHD_Response *resp;
	MHD_Result_t ret;
	size_t len;
	char *text;
	int r;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED,
			     "only GET and HEAD\n");
	if (strcmp(url, "/metrics"))
		return reply(c, MHD_HTTP_NOT_FOUND, "metrics are at /metrics\n");
	r = render_daemon(m->d, &text, &len);
	if (r == -E2BIG)
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
			     "metrics exceed metrics-max-kib\n");
	if (r < 0)
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
			     "out of memory\n");
	resp = MHD_create_response_from_buffer(len, text,
					       MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				METRICS_CONTENT_TYPE);
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static int mhd_epoll_fd(struct MHD_Daemon *mhd)
{
	const union MHD_DaemonInfo *i =
		MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_EPOLL_FD);

	return i ? i->epoll_fd : -1;
}

static void describe(struct metrics *m, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN];

	m->addr[0] = '\0';
	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len))
		return;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s->sin_addr, host, sizeof(host));
		snprintf(m->addr, sizeof(m->addr), "%s:%u", host,
			 ntohs(s->sin_port));
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof(host));
		snprintf(m->addr, sizeof(m->addr), "[%s]:%u", host,
			 ntohs(s->sin6_port));
	}
}

/* Stop serving (closes the listening socket). */
static void stop_mhd(struct metrics *m)
{
	if (!m->mhd)
		return;
	epoll_ctl(m->ep, EPOLL_CTL_DEL, mhd_epoll_fd(m->mhd), NULL);
	MHD_stop_daemon(m->mhd);
	m->mhd = NULL;
	m->addr[0] = '\0';
}

static int start_mhd(struct metrics *m, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct MHD_Daemon *mhd;

	mhd = MHD_start_daemon(
		MHD_USE_EPOLL, 0, NULL, NULL, on_request, m,
		MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_CONN_LIMIT,
		MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)METRICS_CONN_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_CONN_MEMORY,
		MHD_OPTION_END);
	if (!mhd) {
		close(fd);
		return -EIO;
	}
	if (epoll_ctl(m->ep, EPOLL_CTL_ADD, mhd_epoll_fd(mhd), &ev)) {
		int r = -errno;

		MHD_stop_daemon(mhd);
		return r;
	}
	m->mhd = mhd;
	describe(m, fd);
	return 0;
}

static int on_ready(void *ctx)
{
	struct metrics *m = ctx;
	struct epoll_event evs[4];

	/* drain our level-triggered epoll, then let MHD do the work */
	epoll_wait(m->ep, evs, 4, 0);
	metrics_run(m);
	return 0;
}

int metrics_start(struct daemon *d, int fd, struct metrics **ret_m)
{
	struct metrics *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	m->d = d;
	m->ep = epoll_create1(EPOLL_CLOEXEC);
	if (m->ep < 0) {
		r = -errno;
		free(m);
		return r;
	}
	if (fd >= 0) {
		r = start_mhd(m, fd);
		if (r < 0)
			goto fail;
	}
	r = loop_add(d->loop, m->ep, on_ready, m);
	if (r < 0)
		goto fail;
	*ret_m = m;
	return 0;
fail:
	stop_mhd(m);
	close(m->ep);
	free(m);
	return r;
}

int metrics_rebind(struct metrics *m, int fd)
{
	stop_mhd(m);
	return fd >= 0 ? start_mhd(m, fd) : 0;
}

const char *metrics_address(const struct metrics *m)
{
	return m ? m->addr : "";
}

void metrics_run(struct metrics *m)
{
	if (m && m->mhd)
		MHD_run(m->mhd);
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	stop_mhd(m);
	close(m->ep);
	free(m);
}
