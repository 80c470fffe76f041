/* SPDX-License-Identifier: GPL-2.0-only */
/* Names of KVM numbers: KVM_EXIT_* reasons, exit reasons per arch. */
#ifndef KVMPROF_KVMNAMES_H
#define KVMPROF_KVMNAMES_H

#include <stdint.h>

/* KVM_EXIT_* (include/uapi/linux/kvm.h) without the prefix, or NULL. */
const char *kp_userspace_exit_name(uint32_t reason);

/* kvm_exit reason for the kvm_exit layout (enum kp_exit_layout):
 * x86 VMX basic exit reason, arm64 ESR_ELx.EC.  NULL if unnamed. */
const char *kp_exit_reason_name(int layout, uint32_t reason);

/* kvm_mmio type: "read_unsatisfied", "read", "write", or NULL */
const char *kp_mmio_type_name(uint32_t type);

/*
 * arm64 EL1 registers whose saves the kvmprof patches can elide: the
 * sys_reg() encoding (op0 << 19 | op1 << 16 | CRn << 12 | CRm << 8 |
 * op2 << 5, as arch/arm64/include/asm/sysreg.h) and the register's write
 * trap bit in HFGWTR_EL2 (Arm ARM D24.x HFGWTR_EL2; kvm_sysreg_dirty's
 * sysreg and kvm_sysreg_save_elided's clean_bits use these).
 */
struct kp_elidable_sysreg {
	const char *name;
	uint32_t enc;
	unsigned int hfgwtr_bit;
};

extern const struct kp_elidable_sysreg kp_elidable_sysregs[];
extern const unsigned int kp_elidable_sysregs_nr;

/* enum kp_exit_layout as text */
const char *kp_exit_layout_name(int layout);

#endif
