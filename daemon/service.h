/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon's own event sources (service.c): signals, timers, the systemd
 * watchdog; configuration reloads and readiness notification.
 */
#ifndef KVMPROFD_SERVICE_H
#define KVMPROFD_SERVICE_H

struct config;
struct daemon;
struct ring_buffer;

struct service {
	struct daemon *d;
	int sfd, tfd, pfd, wfd;	/* signalfd, harvest, SPE poll, watchdog */
	struct ring_buffer *rb;	/* the BPF ring buffers */
	int argc;		/* the command line, applied again on reload */
	char **argv;
};

/* Block the signals the loop reads (before any thread or fd exists). */
void service_block_signals(void);
/* Put configuration @c in force (at start and on reload). */
void service_configure(struct daemon *d, struct config *c);
/* Add the sources to @s->d's loop: 0 or -errno (service_stop() anyway). */
int service_start(struct service *s);
void service_stop(struct service *s);
/* Tell systemd we are ready (again, after a reload). */
void service_ready(struct daemon *d);

#endif
