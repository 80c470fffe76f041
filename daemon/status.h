/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon at one instant: gathered once, shown as GET /v1/status (JSON)
 * and as /metrics (metrics_render()).
 */
#ifndef KVMPROFD_STATUS_H
#define KVMPROFD_STATUS_H

#include <cjson/cJSON.h>

#include <kvmprof/abi.h>
#include "metrics.h"

struct daemon;

struct status {
	struct metrics_view v;
	struct metrics_probe *probes;
	const struct probes *src;	/* the probes' other state */
	uint64_t drops[KP_DROP_MAX];
};

/* Fill @s from @d: 0 or -ENOMEM; status_release() after use. */
int status_snapshot(struct daemon *d, struct status *s);
void status_release(struct status *s);

/* The snapshot as GET /v1/status answers; NULL on allocation failure. */
cJSON *status_json(const struct status *s);

#endif
