/* SPDX-License-Identifier: GPL-2.0-only */
/* The daemon's one event loop: epoll over registered fds. */
#ifndef KVMPROFD_LOOP_H
#define KVMPROFD_LOOP_H

#include <stdint.h>

/* Called when @fd is readable. Return 0 to go on, 1 to stop the loop
 * cleanly, -errno to stop it with an error. */
typedef int (*loop_fn)(void *ctx);

struct loop;

int loop_new(struct loop **ret_loop);
int loop_add(struct loop *l, int fd, loop_fn fn, void *ctx);
/* Runs until a callback returns non-zero; returns 0 or -errno. */
int loop_run(struct loop *l);
void loop_free(struct loop *l);

#endif
