// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP/1.1 + JSON API (libmicrohttpd, external epoll, one thread) on a
 * Unix socket; the endpoints are route()'s (README.md, "API").
 * `?refresh=1` harvests the BPF counters before answering.
 * Every error is a JSON body {"error": "...", "status": N}.
 * Connections are bounded in number (api-max-connections), per client
 * user id (api-max-connections-per-uid: 503 past it) and in time: idle, or
 * sending a request that is not whole api-idle-timeout-s after the
 * connection opened or its last answer (a client trickling bytes keeps
 * libmicrohttpd's idle timer from firing): closed.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <microhttpd.h>

#include <kvmprof/util.h>
#include "api.h"
#include "api_route.h"
#include "daemon.h"
#include "harvest.h"
#include "probes.h"
#include "render.h"
#include "spe_capture.h"
#include "status.h"

#define API_CONN_MEMORY (32 * 1024)

#if MHD_VERSION < 0x00097002
typedef int MHD_Result_t;
#else
typedef enum MHD_Result MHD_Result_t;
#endif

/* Open connections of one client user id. */
struct uid_conns {
	uid_t uid;
	uint32_t n;
};

struct conn;

struct api {
	struct daemon *d;
	struct MHD_Daemon *mhd;
	uint32_t per_uid_max;
	uint64_t request_ms;	/* a request arrives whole within this */
	struct conn *conns;	/* open connections, for the deadline */
	struct uid_conns *uids; /* one per connection at most */
	size_t nuids, maxuids;
};

/* Per-connection state: the client's uid, and whether it has more
 * connections open than it may (each of its requests then gets 503). */
struct conn {
	uid_t uid;
	bool over;
	bool counted;
	bool busy; /* a request is being answered */
	bool cut;  /* shut down for missing its deadline */
	int fd;
	uint64_t since_ms; /* opened, or its last answer sent */
	struct conn *prev, *next;
};

/* Shut down connections whose request has not arrived whole in time: the
 * server's side then sees EOF and closes them. */
static void cut_slow(struct api *a)
{
	uint64_t now = kp_mono_ms();

	for (struct conn *cn = a->conns; cn; cn = cn->next)
		if (!cn->busy && !cn->cut && cn->fd >= 0 &&
		    now - cn->since_ms >= a->request_ms) {
			shutdown(cn->fd, SHUT_RDWR);
			cn->cut = true;
		}
}

static void conn_unlink(struct api *a, struct conn *cn)
{
	if (cn->prev)
		cn->prev->next = cn->next;
	else if (a->conns == cn)
		a->conns = cn->next;
	if (cn->next)
		cn->next->prev = cn->prev;
}

/* Per-request state: set when the client sent a body (we take none). */
struct req {
	bool had_body;
};

static MHD_Result_t send_json(struct MHD_Connection *c, unsigned int status,
			      cJSON *body)
{
	struct MHD_Response *resp;
	MHD_Result_t ret;
	char *text;

	text = body ? cJSON_PrintUnformatted(body) : NULL;
	cJSON_Delete(body);
	if (!text) {
		static const char oom[] =
			"{\"error\":\"out of memory\",\"status\":500}";

		resp = MHD_create_response_from_buffer(sizeof(oom) - 1,
						       (void *)oom,
						       MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	} else {
		resp = MHD_create_response_from_buffer(strlen(text), text,
						       MHD_RESPMEM_MUST_FREE);
	}
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/json");
	/* a client over its connection limit: do not keep this one either */
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
					"close");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static MHD_Result_t send_error(struct MHD_Connection *c, unsigned int status,
			       const char *msg)
{
	cJSON *o = cJSON_CreateObject();

	if (o) {
		cJSON_AddStringToObject(o, "error", msg);
		cJSON_AddNumberToObject(o, "status", status);
	}
	return send_json(c, status, o);
}

/*
 * Raw SPE recording: GET /v1/vms/{ref}/spe/raw?cursor=N returns the blocks
 * captured since N (application/octet-stream; {u32 vcpu, u32 len, bytes}
 * little-endian) with the next cursor and the blocks lost in headers.  The
 * first call starts recording.
 */
#define API_RAW_MAX (4u << 20)

static MHD_Result_t send_raw(struct api *a, struct MHD_Connection *c,
			     struct vm *vm, uint64_t cursor)
{
	struct MHD_Response *resp;
	uint64_t next, lost;
	MHD_Result_t ret;
	uint8_t *buf = NULL;
	size_t len = 0;
	char hdr[32];
	int r;

	r = spe_raw_read(&a->d->spe, vm, cursor, API_RAW_MAX, &buf, &len,
			 &next, &lost);
	if (r < 0)
		return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "out of memory");
	resp = MHD_create_response_from_buffer(len, buf ? buf : (void *)"",
					       buf ? MHD_RESPMEM_MUST_FREE :
						     MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/octet-stream");
	snprintf(hdr, sizeof(hdr), "%llu", (unsigned long long)next);
	MHD_add_response_header(resp, "X-Kvmprof-Cursor", hdr);
	snprintf(hdr, sizeof(hdr), "%llu", (unsigned long long)lost);
	MHD_add_response_header(resp, "X-Kvmprof-Lost-Blocks", hdr);
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/*
 * GET /v1/vms/{ref}/spe/pprof?seconds=N: the VM's SPE samples of the last
 * N seconds as gzipped pprof, from the raw recording window (the first
 * call starts it); X-Kvmprof-Window-Ms: the time the profile covers.
 */
static MHD_Result_t send_pprof(struct api *a, struct MHD_Connection *c,
			       struct vm *vm, unsigned int seconds)
{
	struct MHD_Response *resp;
	uint64_t span = 0;
	MHD_Result_t ret;
	uint8_t *buf = NULL;
	size_t len = 0;
	char hdr[32];
	int r;

	r = spe_pprof_window(&a->d->spe, vm, seconds, &buf, &len, &span);
	if (r == -E2BIG)
		return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "too many distinct samples for pprof");
	if (r < 0)
		return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "out of memory");
	resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/octet-stream");
	MHD_add_response_header(resp, "Content-Disposition",
				"attachment; filename=\"spe.pb.gz\"");
	snprintf(hdr, sizeof(hdr), "%llu", (unsigned long long)span);
	MHD_add_response_header(resp, "X-Kvmprof-Window-Ms", hdr);
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static MHD_Result_t send_status(struct MHD_Connection *c, struct daemon *d)
{
	struct status st;
	cJSON *o = NULL;

	if (!status_snapshot(d, &st)) {
		o = status_json(&st);
		status_release(&st);
	}
	return send_json(c, MHD_HTTP_OK, o);
}

/* Every query parameter into the api_query of @cls; stop at a bad one. */
static MHD_Result_t on_arg(void *cls, enum MHD_ValueKind kind, const char *key,
			   const char *value)
{
	(void)kind;
	return api_query_arg(cls, key, value) ? MHD_NO : MHD_YES;
}

static MHD_Result_t route(struct api *a, struct MHD_Connection *c,
			  const char *url)
{
	struct daemon *d = a->d;
	struct api_query q = {};
	struct api_route r;
	struct vm *vm;
	uint64_t now;
	int err;

	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, on_arg, &q);
	if (q.error)
		return send_error(c, MHD_HTTP_BAD_REQUEST, q.error);
	err = api_route_parse(url, &q, &r);
	if (err)
		return send_error(c,
				  err == -ENOENT ? MHD_HTTP_NOT_FOUND :
						   MHD_HTTP_BAD_REQUEST,
				  r.error);
	if (q.refresh)
		daemon_harvest(d);	/* failures show in /v1/status */
	now = kp_mono_ms();

	if (r.target == API_STATUS)
		return send_status(c, d);
	if (r.target == API_VMS)
		return send_json(c, MHD_HTTP_OK, render_vms(&d->reg, now));
	vm = registry_find(&d->reg, r.ref);
	if (!vm)
		return send_error(c, MHD_HTTP_NOT_FOUND, "unknown VM");
	if (r.target == API_VM_SPE)
		return send_json(c, MHD_HTTP_OK, render_vm_spe(&d->spe, vm));
	if (r.target == API_VM_SPE_RAW)
		return send_raw(a, c, vm, q.cursor);
	if (r.target == API_VM_KVM_STATS)
		return send_json(c, MHD_HTTP_OK, kvmstats_json(&d->ks, vm));
	if (r.target == API_VM_SPE_PPROF)
		return send_pprof(a, c, vm,
				  q.has_seconds ? q.seconds :
						  API_PPROF_DEFAULT_S);
	return send_json(c, MHD_HTTP_OK,
			 render_vm(vm, probes_exit_layout(d->probes), now,
				   &d->spe, d->reg.exits_silent));
}

static struct uid_conns *uid_slot(struct api *a, uid_t uid)
{
	for (size_t i = 0; i < a->nuids; i++)
		if (a->uids[i].uid == uid)
			return &a->uids[i];
	if (a->nuids == a->maxuids)
		return NULL;
	a->uids[a->nuids] = (struct uid_conns){ .uid = uid };
	return &a->uids[a->nuids++];
}

/* Count each connection against its peer's uid (SO_PEERCRED). */
static void on_connection(void *cls, struct MHD_Connection *c, void **sctx,
			  enum MHD_ConnectionNotificationCode code)
{
	struct api *a = cls;
	struct conn *cn = *sctx;
	const union MHD_ConnectionInfo *ci;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct uid_conns *u;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (cn && cn->counted) {
			u = uid_slot(a, cn->uid);
			if (u && !--u->n)
				*u = a->uids[--a->nuids];
		}
		if (cn)
			conn_unlink(a, cn);
		free(cn);
		*sctx = NULL;
		return;
	}
	cn = calloc(1, sizeof(*cn));
	*sctx = cn;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (cn) {
		cn->fd = ci ? ci->connect_fd : -1;
		cn->since_ms = kp_mono_ms();
		cn->next = a->conns;
		if (a->conns)
			a->conns->prev = cn;
		a->conns = cn;
	}
	if (!cn || !ci ||
	    getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
		/* unknown peer: served as one over its limit */
		if (cn)
			cn->over = true;
		return;
	}
	cn->uid = cred.uid;
	u = uid_slot(a, cred.uid);
	cn->counted = u != NULL;
	cn->over = !u || ++u->n > a->per_uid_max;
}

static MHD_Result_t on_request(void *cls, struct MHD_Connection *c,
			       const char *url, const char *method,
			       const char *version, const char *upload_data,
			       size_t *upload_data_size, void **con_cls)
{
	struct api *a = cls;
	struct req *rq = *con_cls;
	const union MHD_ConnectionInfo *ci;
	const struct conn *cn;

	(void)version;
	(void)upload_data;
	if (!rq) {
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		*con_cls = rq;
		/* its headers are in: no deadline while it is answered */
		ci = MHD_get_connection_info(
			c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		if (ci && ci->socket_context)
			((struct conn *)ci->socket_context)->busy = true;
		return MHD_YES;
	}
	if (*upload_data_size) {
		/* Discard: bounded by the connection memory limit anyway. */
		rq->had_body = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD))
		return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "only GET is supported");
	if (rq->had_body)
		return send_error(c, MHD_HTTP_BAD_REQUEST,
				  "requests take no body");
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	cn = ci ? ci->socket_context : NULL;
	if (!cn || cn->over)
		return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "too many connections from this user: "
				  "close idle ones");
	return route(a, c, url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	const union MHD_ConnectionInfo *ci;
	struct conn *cn;

	(void)cls;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
	/* the next request's deadline starts now */
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	cn = ci ? ci->socket_context : NULL;
	if (cn) {
		cn->busy = false;
		cn->since_ms = kp_mono_ms();
	}
}

int api_listen(const char *path, mode_t mode, const char *group, int *ret_fd,
	       int *ret_chgrp_err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)], *slash;
	mode_t old;
	int fd, r;

	*ret_chgrp_err = 0;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -EADDRINUSE;
	}
	unlink(path);
	/* No window in which the socket is wider open than asked. */
	old = umask(0777 & ~mode);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r || chmod(path, mode) || listen(fd, 64)) {
		r = -errno;
		close(fd);
		return r;
	}
	if (group && *group) {
		struct group *g = getgrnam(group);

		*ret_chgrp_err =
			g && chown(path, (uid_t)-1, g->gr_gid) ? -errno : 0;
	}
	*ret_fd = fd;
	return 0;
}

int api_start(struct daemon *d, int listen_fd, struct api **ret_api)
{
	const struct daemon_opts *o = &d->opts;
	struct api *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	a->d = d;
	a->per_uid_max = o->api_max_conns_per_uid;
	a->request_ms = (uint64_t)o->api_idle_timeout_s * 1000;
	a->maxuids = o->api_max_conns + 1;
	a->uids = calloc(a->maxuids, sizeof(*a->uids));
	if (!a->uids) {
		free(a);
		return -ENOMEM;
	}
	a->mhd = MHD_start_daemon(
		MHD_USE_EPOLL, 0, NULL, NULL, on_request, a,
		MHD_OPTION_LISTEN_SOCKET, listen_fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)o->api_max_conns,
		MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)o->api_idle_timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)API_CONN_MEMORY,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, a,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, a, MHD_OPTION_END);
	if (!a->mhd) {
		free(a->uids);
		free(a);
		return -EIO;
	}
	*ret_api = a;
	return 0;
}

int api_epoll_fd(const struct api *a)
{
	const union MHD_DaemonInfo *i =
		MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_EPOLL_FD);

	return i ? i->epoll_fd : -1;
}

void api_run(struct api *a)
{
	cut_slow(a);
	MHD_run(a->mhd);
}

void api_stop(struct api *a)
{
	if (!a)
		return;
	MHD_stop_daemon(a->mhd);
	free(a->uids);
	free(a);
}
