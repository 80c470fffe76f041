/* SPDX-License-Identifier: GPL-2.0-only */
/* HTTP API on a Unix socket (api.c), driven from the daemon's epoll loop. */
#ifndef KVMPROFD_API_H
#define KVMPROFD_API_H

#include <sys/types.h>

struct api;
struct daemon;

/*
 * Bind and listen on the API socket @path, mode @mode (no window in which
 * it is wider open), group @group when it exists (failing that:
 * *@ret_chgrp_err = -errno).  Refuses to steal the socket of a live
 * daemon (-EADDRINUSE).  0 or -errno.
 */
int api_listen(const char *path, mode_t mode, const char *group, int *ret_fd,
	       int *ret_chgrp_err);
/* Serve @d's API on @listen_fd. */
int api_start(struct daemon *d, int listen_fd, struct api **ret_api);
int api_epoll_fd(const struct api *a);
void api_run(struct api *a);
void api_stop(struct api *a);

#endif
