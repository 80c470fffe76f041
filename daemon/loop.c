// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop.h"

#define LOOP_MAX_SOURCES 32

struct source {
	loop_fn fn;
	void *ctx;
};

struct loop {
	int ep;
	unsigned int n;
	struct source src[LOOP_MAX_SOURCES];
};

int loop_new(struct loop **ret_loop)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->ep < 0) {
		int r = -errno;

		free(l);
		return r;
	}
	*ret_loop = l;
	return 0;
}

int loop_add(struct loop *l, int fd, loop_fn fn, void *ctx)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (fd < 0)
		return -EBADF;
	if (l->n >= LOOP_MAX_SOURCES)
		return -ENOSPC;
	ev.data.u32 = l->n;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	l->src[l->n].fn = fn;
	l->src[l->n].ctx = ctx;
	l->n++;
	return 0;
}

int loop_run(struct loop *l)
{
	for (;;) {
		struct epoll_event evs[8];
		int n = epoll_wait(l->ep, evs, 8, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			struct source *s = &l->src[evs[i].data.u32];
			int r = s->fn(s->ctx);

			if (r)
				return r < 0 ? r : 0;
		}
	}
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	close(l->ep);
	free(l);
}
