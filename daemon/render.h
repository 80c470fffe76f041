/* SPDX-License-Identifier: GPL-2.0-only */
/* Registry and probe state as JSON (cJSON).  NULL on allocation failure. */
#ifndef KVMPROFD_RENDER_H
#define KVMPROFD_RENDER_H

#include <cjson/cJSON.h>

#include "registry.h"

struct daemon_state;

cJSON *render_vm_summary(const struct vm *vm, uint64_t now_ms);
struct spe_capture;
cJSON *render_vm(const struct vm *vm, int exit_layout, uint64_t now_ms,
		 struct spe_capture *spe);
cJSON *render_vms(const struct registry *r, uint64_t now_ms);

#endif
