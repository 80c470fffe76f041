/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * From the BPF side into the registry: the periodic harvest of the
 * counters, and the VM announcements of the events ring buffer.
 */
#ifndef KVMPROFD_HARVEST_H
#define KVMPROFD_HARVEST_H

#include <stddef.h>
#include <stdint.h>

struct daemon;

/*
 * Whether probe @i fires on every guest exit (kvm_exit, kvm_entry), and
 * if so whether it is attached but silent: it never counted while other
 * KVM events showed guest exits (registry_silent; e.g. PVM's KVM, which
 * emits neither).  -1: not such a probe, else 0 or 1.
 */
int daemon_probe_silent(const struct daemon *d, size_t i);

/* Fold the BPF counters into the registry now. 0 or -errno. */
int daemon_harvest(struct daemon *d);

/* Ring buffer callback (@ctx: the daemon): a VM's first event, with its
 * argv read in its own context. */
int daemon_on_vm_event(void *ctx, void *data, size_t size);

#endif
