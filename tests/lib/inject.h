/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Driving the daemon's probes for the kvmprof patch tracepoints through
 * BPF_PROG_TEST_RUN, with pointer arguments into real kernel memory (map
 * values of the test helper object tests/bpf/kaddr.bpf.c).
 */
#ifndef KP_TEST_INJECT_H
#define KP_TEST_INJECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KT_DATA_SIZE (256 * 1024)
#define KT_VCPUS 4

struct inject {
	struct test_kaddr_bpf *skel;
	uint64_t data_addr;
	uint64_t vcpu_addr[KT_VCPUS];
	uint32_t vcpu_id_off;	/* offsetof(struct kvm_vcpu, vcpu_id), BTF */
};

/* Load the helper, learn the addresses, write vcpu_id i into vCPU i. */
int inject_open(struct inject *in);
void inject_close(struct inject *in);

/* fd of the newest loaded program named @name (first 15 chars) whose id
 * is above @min_id, or -ENOENT.  Only the programs of process
 * inject_owner when set: tests running at the same time start daemons of
 * their own, whose programs are newer. */
int find_prog(const char *name, uint32_t min_id);
extern pid_t inject_owner;
/* The same among the programs of process @owner (0: any). */
int find_prog_of(pid_t owner, const char *name, uint32_t min_id);
uint32_t max_prog_id(void);

/* Run @prog_fd with raw tracepoint args. 0 or -errno. */
int run_raw_tp(int prog_fd, const uint64_t *args, size_t nargs);

/* kvm_spe_copy_out(vcpu[v], data <- bytes, len, guest_va, reason, ret) */
int inject_copy_out(struct inject *in, int prog_fd, int v, const uint8_t *bytes,
		    size_t len, uint64_t guest_va, uint8_t reason, int ret);

#endif
