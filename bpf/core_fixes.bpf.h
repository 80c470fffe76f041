/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kernel differences, as named CO-RE helpers over ___flavor structs.
 * libbpf matches "struct foo___bar" against the kernel's "struct foo"; a field
 * that does not exist in the running kernel makes bpf_core_field_exists()
 * return 0, and the verifier drops the dead branch.  No version checks.
 */
#ifndef KP_CORE_FIXES_BPF_H
#define KP_CORE_FIXES_BPF_H

#include "kp_types.h"
#include <kvmprof/abi.h>
#include <bpf/bpf_core_read.h>

/* x86: arch/x86/kvm/trace.h, TRACE_EVENT_KVM_EXIT */
struct trace_event_raw_kvm_exit___x86 {
	unsigned int exit_reason;
	__u32 isa;
	unsigned int vcpu_id;
} __attribute__((preserve_access_index));

/* arm64: arch/arm64/kvm/trace_arm.h, kvm_exit(ret, esr_ec, vcpu_pc) */
struct trace_event_raw_kvm_exit___arm64 {
	int ret;
	unsigned int esr_ec;
	unsigned long vcpu_pc;
} __attribute__((preserve_access_index));

static __always_inline int kvm_exit_layout(void)
{
	if (bpf_core_field_exists(struct trace_event_raw_kvm_exit___x86,
				  exit_reason))
		return KP_EXIT_LAYOUT_X86;
	if (bpf_core_field_exists(struct trace_event_raw_kvm_exit___arm64,
				  esr_ec))
		return KP_EXIT_LAYOUT_ARM64;
	return KP_EXIT_LAYOUT_UNKNOWN;
}

/*
 * arm64: the exception class of a trap, else KP_ARM64_NOT_TRAP | the
 * exception code (an IRQ, SError or illegal exception return: @esr_ec is
 * left over from an earlier exit).  @ret may carry ARM_EXIT_WITH_SERROR_BIT
 * (bit 31).
 */
static __always_inline __u32 kvm_arm64_exit_reason(int ret, unsigned int esr_ec)
{
	__u32 code = (__u32)ret & ~(1u << 31);

	return code == KP_ARM64_EXCEPTION_TRAP ? esr_ec & 0x3f :
						 KP_ARM64_NOT_TRAP | (code & 0xff);
}

/*
 * Exit reason of a kvm_exit record: x86 exit_reason (VMX basic exit reason
 * in the low 16 bits, or KP_X86_SVM | the SVM exit code), arm64 kvm_arm64_exit_reason().
 * Returns -1 when the layout is not known.
 */
static __always_inline long kvm_exit_reason(void *ctx)
{
	if (bpf_core_field_exists(struct trace_event_raw_kvm_exit___x86,
				  exit_reason)) {
		struct trace_event_raw_kvm_exit___x86 *e = ctx;
		__u32 r = BPF_CORE_READ(e, exit_reason);

		/* AMD: an SVM exit code, not a VMX exit reason */
		if (bpf_core_field_exists(e->isa) &&
		    BPF_CORE_READ(e, isa) == KP_X86_ISA_SVM)
			return KP_X86_SVM | (r & 0xffff);
		return r;
	}
	if (bpf_core_field_exists(struct trace_event_raw_kvm_exit___arm64,
				  esr_ec)) {
		struct trace_event_raw_kvm_exit___arm64 *e = ctx;

		return kvm_arm64_exit_reason(BPF_CORE_READ(e, ret),
					     BPF_CORE_READ(e, esr_ec));
	}
	return -1;
}

/* vCPU id carried by the kvm_exit record itself (x86), or -1 (arm64). */
static __always_inline int kvm_exit_vcpu_id(void *ctx)
{
	if (bpf_core_field_exists(struct trace_event_raw_kvm_exit___x86,
				  vcpu_id)) {
		struct trace_event_raw_kvm_exit___x86 *e = ctx;

		return BPF_CORE_READ(e, vcpu_id);
	}
	return -1;
}

/*
 * The kvm_vcpu running on the current task, via the preempt notifier KVM
 * registers on the vCPU thread (see kp_types.h), or NULL outside a vCPU
 * thread (irq ioctls, kworkers) or on kernels without preempt notifiers.
 */
/* The struct kvm_vcpu whose preempt notifier is @first. */
static __always_inline struct kvm_vcpu *vcpu_of_notifier(struct hlist_node *first)
{
	return (void *)((char *)first -
			bpf_core_field_offset(struct kvm_vcpu, preempt_notifier) -
			bpf_core_field_offset(struct preempt_notifier, link));
}

static __always_inline struct kvm_vcpu *current_kvm_vcpu(void)
{
	/* BTF-typed task: plain loads, no probe-read helper calls */
	struct task_struct *task = bpf_get_current_task_btf();
	struct hlist_node *first;

	if (!bpf_core_field_exists(task->preempt_notifiers))
		return NULL;
	first = task->preempt_notifiers.first;
	if (!first)
		return NULL;
	return vcpu_of_notifier(first);
}

/* The current kthread's data: a struct worker in a workqueue worker; NULL
 * when there is none or this kernel lacks task->worker_private. */
static __always_inline struct worker *current_kthread_worker(void)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct kthread *kt;

	if (!bpf_core_field_exists(task->worker_private))
		return NULL;
	kt = BPF_CORE_READ(task, worker_private);
	return kt ? BPF_CORE_READ(kt, data) : NULL;
}

/*
 * The vCPU whose async page fault the current kworker is completing: the
 * worker's current work item is the work_struct embedded in a struct
 * kvm_async_pf.  NULL when not in a workqueue worker or when this kernel
 * lacks the fields (the caller then falls back to matching the gva).
 */
static __always_inline struct kvm_vcpu *current_apf_work_vcpu(void)
{
	struct work_struct *work;
	struct kvm_async_pf *apf;
	struct worker *w;

	if (!bpf_core_type_exists(struct kvm_async_pf))
		return NULL;
	w = current_kthread_worker();
	work = w ? BPF_CORE_READ(w, current_work) : NULL;
	if (!work)
		return NULL;
	apf = (void *)((char *)work -
		       bpf_core_field_offset(struct kvm_async_pf, work));
	return BPF_CORE_READ(apf, vcpu);
}

/* irqfd_inject (virt/kvm/eventfd.c), from /proc/kallsyms by the loader;
 * 0: unknown, irqfd kworkers' events stay unattributed */
const volatile __u64 kp_irqfd_inject_fn = 0;

/*
 * The VM whose irqfd the current kworker is injecting: a workqueue worker
 * (PF_WQ_WORKER) running irqfd_inject() (its current_func, checked, so the
 * current work item is surely the `inject` member of a struct
 * kvm_kernel_irqfd).  NULL otherwise, or when this kernel lacks a field.
 */
static __always_inline struct kvm *current_irqfd_kvm(void)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct kvm_kernel_irqfd *irqfd;
	struct work_struct *work;
	struct worker *w;

	if (!kp_irqfd_inject_fn ||
	    !bpf_core_field_exists(struct worker, current_func) ||
	    !bpf_core_type_exists(struct kvm_kernel_irqfd) ||
	    !(BPF_CORE_READ(task, flags) & PF_WQ_WORKER))
		return NULL;
	w = current_kthread_worker();
	if (!w || (__u64)BPF_CORE_READ(w, current_func) != kp_irqfd_inject_fn)
		return NULL;
	work = BPF_CORE_READ(w, current_work);
	if (!work)
		return NULL;
	irqfd = (void *)((char *)work -
			 bpf_core_field_offset(struct kvm_kernel_irqfd,
					       inject));
	return BPF_CORE_READ(irqfd, kvm);
}

/* The VMM (tgid, its leader's start) of @kvm: false if unknown here. */
static __always_inline bool kvm_vmm(struct kvm *kvm, __u32 *ret_tgid,
				    __u64 *ret_start_ns)
{
	struct task_struct *owner;

	if (!kvm || !bpf_core_field_exists(kvm->mm) ||
	    !bpf_core_field_exists(struct mm_struct, owner))
		return false;
	owner = BPF_CORE_READ(kvm, mm, owner);
	if (!owner)
		return false;
	*ret_tgid = (__u32)BPF_CORE_READ(owner, tgid);
	*ret_start_ns = BPF_CORE_READ(owner, group_leader, start_boottime);
	return true;
}

/*
 * The vCPU of the KVM_RUN ioctl the current thread is in, from the
 * syscall's own arguments: ioctl(fd, KVM_RUN) on a vCPU fd, whose file's
 * private data is the struct kvm_vcpu (KVM_RUN is traced only in
 * kvm_vcpu_ioctl, reached through vCPU fds only).  For events that fire
 * after vcpu_put (kvm_userspace_exit).  NULL outside such a syscall.
 */
#define KP_KVM_RUN 0xae80 /* _IO(KVMIO 0xAE, 0x80), linux/kvm.h */

static __always_inline struct kvm_vcpu *current_run_vcpu(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (void *)bpf_task_pt_regs(task);
	struct fdtable *fdt;
	struct file **fds, *f;
	__u64 nr, fd, cmd;

	/* a kernel without these fields: the caller's fallback (no load
	 * failure) */
	if (!bpf_core_field_exists(task->files) ||
	    !bpf_core_field_exists(struct file, private_data))
		return NULL;
#if defined(__TARGET_ARCH_x86)
	if (!bpf_core_field_exists(regs->orig_ax) ||
	    !bpf_core_field_exists(regs->di) || !bpf_core_field_exists(regs->si))
		return NULL;
	nr = BPF_CORE_READ(regs, orig_ax);
	fd = BPF_CORE_READ(regs, di);
	cmd = BPF_CORE_READ(regs, si);
	if (nr != 16) /* __NR_ioctl, x86_64 */
		return NULL;
#elif defined(__TARGET_ARCH_arm64)
	if (!bpf_core_field_exists(regs->syscallno) ||
	    !bpf_core_field_exists(regs->orig_x0) ||
	    !bpf_core_field_exists(regs->regs))
		return NULL;
	nr = (__u64)BPF_CORE_READ(regs, syscallno);
	fd = BPF_CORE_READ(regs, orig_x0);
	cmd = BPF_CORE_READ(regs, regs[1]);
	if (nr != 29) /* __NR_ioctl, asm-generic */
		return NULL;
#else
	return NULL;
#endif
	if ((__u32)cmd != KP_KVM_RUN)
		return NULL;
	fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || (__u32)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), fds + (__u32)fd) || !f)
		return NULL;
	return BPF_CORE_READ(f, private_data);
}

/* Start time of the current process' leader, ns since boot. */
static __always_inline __u64 current_leader_start_ns(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return task->group_leader->start_boottime;
}

/* Before 5.14 the task state was "long state" (-1 unrunnable, 0 runnable). */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

/* @t is runnable (TASK_RUNNING): switched out, it waits for a CPU. */
static __always_inline bool task_runnable(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state) == 0;
	return BPF_CORE_READ((struct task_struct___pre514 *)t, state) == 0;
}

#endif /* KP_CORE_FIXES_BPF_H */
