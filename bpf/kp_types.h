/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Minimal kernel types for kvmprof's BPF programs.
 *
 * Why not a generated vmlinux.h: the programs touch a handful of fields, and
 * one source must build for x86_64 and arm64 without shipping two multi-MB
 * generated headers whose provenance (config, version) would then pin us.
 * Every struct here is marked preserve_access_index, so field offsets are
 * relocated by libbpf against the running kernel's BTF (CO-RE); only the
 * fields we name must exist, and optional ones are guarded with
 * bpf_core_field_exists().  Layout differences between kernels/arches are
 * expressed as ___flavor structs in core_fixes.bpf.h.
 */
#ifndef KP_TYPES_H
#define KP_TYPES_H

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
#define true 1
#define false 0
#ifndef NULL
#define NULL ((void *)0)
#endif
#ifndef offsetof
#define offsetof(t, m) __builtin_offsetof(t, m)
#endif

/* Map types, flags and helper ids used here (UAPI, stable numbers). */
enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_HASH = 5,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_RINGBUF = 27,
	BPF_MAP_TYPE_TASK_STORAGE = 29,
};

#define BPF_F_NO_PREALLOC (1U << 0)
#define BPF_LOCAL_STORAGE_GET_F_CREATE (1ULL << 0)

enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
	BPF_EXIST = 2,
};

#define EEXIST 17

/* bpf_ringbuf_output / bpf_ringbuf_query flags */
enum {
	BPF_RB_NO_WAKEUP = 1,
	BPF_RB_FORCE_WAKEUP = 2,
};

enum {
	BPF_RB_AVAIL_DATA = 0,
	BPF_RB_RING_SIZE = 1,
	BPF_RB_CONS_POS = 2,
	BPF_RB_PROD_POS = 3,
};

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct hlist_node {
	struct hlist_node *next;
	struct hlist_node **pprev;
};

struct hlist_head {
	struct hlist_node *first;
};

struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
	struct task_struct *owner; /* CONFIG_MEMCG: a thread of the process */
};

/* include/linux/pid.h: a pid's number in each namespace, up to its own */
struct upid {
	int nr;
	void *ns;
};

struct pid {
	unsigned int level;
	struct upid numbers[1];
};

#define PF_KTHREAD 0x00200000 /* include/linux/sched.h */
#define PF_WQ_WORKER 0x00000020 /* a workqueue worker */

/* A task's user registers at syscall entry (bpf_task_pt_regs), per arch. */
#if defined(__TARGET_ARCH_x86)
struct pt_regs {
	unsigned long si;
	unsigned long di;
	unsigned long orig_ax; /* the syscall number */
};
#elif defined(__TARGET_ARCH_arm64)
struct pt_regs {
	__u64 regs[31];
	__u64 orig_x0; /* x0 at entry: the first argument */
	__s32 syscallno;
};
#endif

struct file {
	void *private_data; /* a vCPU fd's: its struct kvm_vcpu */
};

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
};

struct files_struct {
	struct fdtable *fdt;
};

/* kernel/sched/sched.h: a CPU's run queue; clock is the scheduler's time
 * (ns) at its last update, what the kernel measures run delay in */
struct rq {
	u64 clock;
};

/* the task's fair-class queue on its CPU; rq: CONFIG_FAIR_GROUP_SCHED */
struct cfs_rq {
	struct rq *rq;
};

struct sched_entity {
	struct cfs_rq *cfs_rq; /* CONFIG_FAIR_GROUP_SCHED */
};

struct task_struct {
	unsigned int __state; /* 0: TASK_RUNNING (5.14+) */
	unsigned int flags;
	struct files_struct *files;
	struct mm_struct *mm;
	int pid;
	int tgid;
	struct task_struct *group_leader;
	char comm[16];
	u64 start_boottime;
	struct pid *thread_pid;
	struct hlist_head preempt_notifiers;	/* CONFIG_PREEMPT_NOTIFIERS */
	void *worker_private;			/* kthreads: struct kthread */
	struct sched_entity se;
};

/* kernel/kthread.c */
struct kthread {
	void *data;	/* workqueue workers: struct worker */
};

/* only offsets of and into it are used */
struct work_struct {
	unsigned long data;
};

/* kernel/workqueue_internal.h */
struct worker {
	struct work_struct *current_work;
	void *current_func; /* work_func_t */
};

/* include/linux/kvm_host.h, CONFIG_KVM_ASYNC_PF */
struct list_head {
	struct list_head *next, *prev;
};

struct kvm_async_pf {
	struct work_struct work;
	struct list_head queue; /* in vcpu->async_pf.queue until done */
	struct kvm_vcpu *vcpu;
	u64 cr2_or_gpa; /* gpa_t (5.6+; "gva" before) */
	unsigned long addr; /* the host address being faulted in */
};

struct preempt_notifier {
	struct hlist_node link;
};

/* include/linux/kvm_host.h */
struct kvm {
	struct mm_struct *mm; /* the VMM's */
	int userspace_pid; /* pid_t: the thread that created it (global pid) */
};

/* include/linux/kvm_irqfd.h: an irqfd; its inject work runs in a kworker */
struct kvm_kernel_irqfd {
	struct kvm *kvm;
	struct work_struct inject;
};

/*
 * KVM keeps the vCPU's preempt notifier registered on the vCPU thread while
 * the vCPU is loaded (kvm_arch_vcpu_load .. put), and KVM is the only user
 * of preempt notifiers: current->preempt_notifiers.first points into the
 * running struct kvm_vcpu.
 */
struct kvm_vcpu {
	struct kvm *kvm;
	int vcpu_id;
	int vcpu_idx;
	struct preempt_notifier preempt_notifier;
	struct {
		struct list_head queue; /* struct kvm_async_pf, newest last */
	} async_pf; /* CONFIG_KVM_ASYNC_PF */
};

#pragma clang attribute pop

#endif /* KP_TYPES_H */
