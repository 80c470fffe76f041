/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit-test doubles for the VM registry: a scripted process table instead
 * of /proc, and a shorthand for BPF counter entries.  Header-only, one
 * copy per test program.
 */
#ifndef KP_TEST_FAKE_PROCS_H
#define KP_TEST_FAKE_PROCS_H

#include <stdio.h>
#include <string.h>

#include "registry.h"

/* pid -> (start_ns, alive); set by the tests */
static struct { uint32_t pid; uint64_t start; int alive; } procs[8];

static int fake_alive(uint32_t pid, uint64_t start_ns)
{
	for (int i = 0; i < 8; i++)
		if (procs[i].pid == pid)
			return procs[i].start == start_ns && procs[i].alive;
	return 0;
}

/* VM pid P is named "vmP", VMM "fake" */
static void fake_identify(uint32_t pid, struct kp_vm_ident *id)
{
	memset(id, 0, sizeof(*id));
	snprintf(id->vmm, sizeof(id->vmm), "fake");
	snprintf(id->name, sizeof(id->name), "vm%u", pid);
}

static const struct registry_ops ops = { fake_alive, fake_identify };

/* A counter entry as the BPF map holds it. */
static inline struct kp_count C(uint32_t pid, uint64_t start, int32_t vcpu,
				uint32_t ev, uint32_t sub, uint64_t v)
{
	struct kp_count c = { .key = { .tgid = pid, .vcpu = vcpu,
				       .start_ns = start, .event = ev,
				       .sub = sub },
			      .value = v };
	return c;
}

#endif
