/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kvmguest: what the pieces of the VM layer share (vm.c: the VM, vcpu.c:
 * its vCPUs, workload.c: their parameter blocks, run.c: the run loops).
 */
#ifndef KVMGUEST_VM_PRIV_H
#define KVMGUEST_VM_PRIV_H

#include <linux/kvm.h>
#include <stdint.h>

#include "vm.h"

#define MSR_IA32_APICBASE 0x1b
#define APICBASE_BSP (1ULL << 8)
#define APICBASE_EXTD (1ULL << 10)
#define APICBASE_ENABLE (1ULL << 11)
#define APIC_DEFAULT_BASE 0xfee00000ULL
#define APIC_SPIV 0xf0 /* offset in kvm_lapic_state */
#define APIC_SPIV_ENABLE 0x100

/* vm.c */
/* Records the first failure's description in vm->err; returns @err. */
int __attribute__((format(printf, 3, 4)))
vm_fail(struct kg_vm *vm, int err, const char *fmt, ...);
uint64_t cpu_area(unsigned int i);

/* vcpu.c */
struct kvm_cpuid2 *get_supported_cpuid(struct kg_vm *vm);
int vcpu_blocking(const struct kg_vcpu *v);
int setup_vcpu(struct kg_vm *vm, struct kg_vcpu *v,
	       const struct kvm_cpuid2 *cpuid);

/* workload.c */
void pb_set(struct kg_vcpu *v, unsigned int off, uint64_t val);
void setup_pb(struct kg_vm *vm, struct kg_vcpu *v);

#endif
