// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test helper: exposes the kernel addresses of two map values, so that a
 * test can hand real kernel memory (bytes it wrote through the map) as the
 * pointer arguments of raw tracepoint programs under BPF_PROG_TEST_RUN:
 * kvm_spe_copy_out's `data` and any `struct kvm_vcpu *`.  Root only.
 */
#include "kp_types.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define KT_DATA_SIZE (256 * 1024)
#define KT_VCPUS 4
#define KT_VCPU_SIZE 16384

struct kt_data_val {
	__u8 b[KT_DATA_SIZE];
};

struct kt_vcpu_val {
	__u8 b[KT_VCPU_SIZE];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kt_data_val);
} kt_data SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KT_VCPUS);
	__type(key, __u32);
	__type(value, struct kt_vcpu_val);
} kt_vcpu SEC(".maps");

__u64 kt_data_addr;
__u64 kt_vcpu_addr[KT_VCPUS];

SEC("raw_tp")
int kt_addrs(void *ctx)
{
	__u32 k = 0;

	kt_data_addr = (__u64)bpf_map_lookup_elem(&kt_data, &k);
#pragma unroll
	for (int i = 0; i < KT_VCPUS; i++) {
		k = i;
		kt_vcpu_addr[i] = (__u64)bpf_map_lookup_elem(&kt_vcpu, &k);
	}
	return 0;
}
