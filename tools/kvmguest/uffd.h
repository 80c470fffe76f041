/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kvmguest --uffd: the page-touch area (memslot 1) is backed by anonymous
 * memory registered with userfaultfd in MISSING mode; a handler thread
 * resolves each fault with UFFDIO_COPY after --uffd-delay-ms.  Touching
 * a page whose fault is pending makes KVM's non-blocking fault-in fail,
 * so with an in-kernel irqchip and guest IF=1 each page becomes exactly
 * one async page fault.
 */
#ifndef KVMGUEST_UFFD_H
#define KVMGUEST_UFFD_H

#include <stdbool.h>
#include <stdint.h>

struct kg_vm;

/* Creates the userfaultfd and registers vm->touch (before the memslot). */
int kg_uffd_start(struct kg_vm *vm);
/* Starts the fault-handler thread (after the vCPUs started). */
int kg_uffd_run(struct kg_vm *vm);
/* Controller hook: periodic MSIs while pages are outstanding. */
int kg_uffd_poll(struct kg_vm *vm, bool *busy);
/* Stops the handler thread. */
void kg_uffd_stop(struct kg_vm *vm);
/* Releases everything. */
void kg_uffd_close(struct kg_vm *vm);
/* Fault messages read, pages copied, faults for already copied pages. */
void kg_uffd_stats(const struct kg_vm *vm, uint64_t *faults, uint64_t *copies,
		   uint64_t *eexist);

#endif
