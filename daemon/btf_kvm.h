/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * KVM's types for CO-RE when KVM is a module (kvm.ko, as on x86
 * distribution kernels): its BTF is split off vmlinux's, in
 * /sys/kernel/btf/kvm, and libbpf finds module BTF only by walking the
 * kernel's BTF objects (BPF_BTF_GET_NEXT_ID, BPF_BTF_GET_FD_BY_ID), which
 * takes CAP_SYS_ADMIN: kvmprofd loads with CAP_BPF and CAP_PERFMON only.
 * The BTF files themselves are world-readable: btf_kvm_merged() reads
 * vmlinux's and kvm's and writes one standalone BTF, vmlinux's types then
 * kvm's (IDs as in the split BTF), for libbpf's btf_custom_path.
 */
#ifndef KVMPROF_BTF_KVM_H
#define KVMPROF_BTF_KVM_H

/*
 * In @dir (/sys/kernel/btf): when it has a "kvm" file, the merged BTF in a
 * memory file whose descriptor goes to *@ret_fd (its path:
 * /proc/self/fd/N), return 1; 0 when KVM is built in (no such file:
 * nothing to do); -errno on failure.
 */
int btf_kvm_merged(const char *dir, int *ret_fd);

#endif
