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

/* enum kp_exit_layout as text */
const char *kp_exit_layout_name(int layout);

#endif
