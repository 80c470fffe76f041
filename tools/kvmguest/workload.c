// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmguest: the vCPUs' parameter blocks, their share of the workload
 * (guest_abi.h).
 */

#include <stdint.h>
#include <string.h>

#include "vm_priv.h"

static inline uint64_t *pb_field(const struct kg_vcpu *v, unsigned int off)
{
	return (uint64_t *)(v->pb + off);
}

uint64_t kg_pb_get(const struct kg_vcpu *v, unsigned int off)
{
	return __atomic_load_n(pb_field(v, off), __ATOMIC_ACQUIRE);
}

void pb_set(struct kg_vcpu *v, unsigned int off, uint64_t val)
{
	__atomic_store_n(pb_field(v, off), val, __ATOMIC_RELEASE);
}

/* Fills vCPU @i's parameter block with its share of the work. */
void setup_pb(struct kg_vm *vm, struct kg_vcpu *v)
{
	const struct kg_config *c = vm->cfg;
	unsigned int n = vm->nvcpus, i = v->id;
	uint64_t first_page = 0;

	for (unsigned int j = 0; j < i; j++)
		first_page += kg_split(c->touch_pages, n, j);
	memset(v->pb, 0, PB_SIZE);
	pb_set(v, PB_PIO_OUT, kg_split(c->pio_out, n, i));
	pb_set(v, PB_PIO_IN, kg_split(c->pio_in, n, i));
	pb_set(v, PB_MMIO_WRITE, kg_split(c->mmio_write, n, i));
	pb_set(v, PB_MMIO_READ, kg_split(c->mmio_read, n, i));
	pb_set(v, PB_TOUCH_PAGES, kg_split(c->touch_pages, n, i));
	pb_set(v, PB_TOUCH_BASE, TOUCH_GPA + first_page * PAGE_SIZE_4K);
	pb_set(v, PB_HLT, kg_split(c->hlt, n, i));
	pb_set(v, PB_MSI, kg_split(c->msi, n, i));
	pb_set(v, PB_PIO_PORT, c->pio_port);
	pb_set(v, PB_MMIO_ADDR, MMIO_GPA);
	pb_set(v, PB_FLAGS, c->loop ? PBF_LOOP : 0);
}
