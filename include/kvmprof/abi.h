/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * kvmprof kernel <-> user ABI: the keys and values of the BPF maps that
 * kvmprofd reads.  Included by the BPF objects (bpf/) and by user space
 * (daemon, tests).  Fixed-width types, explicit padding, sizes and offsets
 * asserted: the layout is the same on x86_64 and arm64 and in BPF.
 */
#ifndef KVMPROF_ABI_H
#define KVMPROF_ABI_H

#ifdef __bpf__
/* BPF side: the minimal type header provides __u32/__u64/__s32. */
#else
#include <linux/types.h>
#include <stddef.h>
#endif

#if defined(__cplusplus)
#define KP_STATIC_ASSERT static_assert
#else
#define KP_STATIC_ASSERT _Static_assert
#endif

/*
 * What a counter counts.  `sub` refines it; its meaning is given per event.
 * Values are part of the ABI: append only.
 */
enum kp_event {
	KP_EV_NONE = 0,
	/* kvm_userspace_exit(reason, errno): sub = KVM_EXIT_* reason, or
	 * KP_SUB_ERRNO | -errno when KVM_RUN failed. */
	KP_EV_USERSPACE_EXIT = 1,
	/* kvm_pio(rw, port, size, count, data): sub = KP_PIO_SUB(rw, port) */
	KP_EV_PIO = 2,
	/* kvm_mmio(type, len, gpa, val): sub = KVM_TRACE_MMIO_* type */
	KP_EV_MMIO = 3,
	/* kvm_vcpu_wakeup(ns, waited, valid): sub = waited | valid << 1 */
	KP_EV_VCPU_WAKEUP = 4,
	/* kvm_halt_poll_ns(grow, vcpu_id, new, old): sub = grow */
	KP_EV_HALT_POLL_NS = 5,
	/* kvm_set_irq(gsi, level, irq_source_id): sub = gsi */
	KP_EV_SET_IRQ = 6,
	/* kvm_msi_set_irq(address, data): sub = 0 */
	KP_EV_MSI_SET_IRQ = 7,
	/* kvm_exit: sub = x86 exit reason (VMX basic reason / SVM exit code)
	 * or arm64 ESR_EL2.EC */
	KP_EV_EXIT = 8,
	/* kvm_entry: sub = 0 */
	KP_EV_ENTRY = 9,
	/* exit -> next entry of the same vCPU thread: sub = log2 bucket of ns */
	KP_EV_EXIT_LAT = 10,
	/* kvm_vcpu_wakeup halt time: sub = log2 bucket of ns */
	KP_EV_WAKEUP_LAT = 11,
	/* kvm_sysreg_dirty(vcpu, sysreg, hfgwtr_bits): sub = sysreg encoding
	 * (sys_reg(op0, op1, CRn, CRm, op2) as in arm64 asm/sysreg.h) */
	KP_EV_SYSREG_DIRTY = 12,
	/* kvm_sysreg_save_elided(vcpu, clean_bits, count): count saves of
	 * the registers in clean_bits (HFGWTR_EL2 bits) were elided, each
	 * register as often: for each bit b set, sub = b,
	 * value += count / popcount(clean_bits) */
	KP_EV_SYSREG_ELIDED = 13,
	/* Generic async page fault events; sub = 0.  On arm64 (kvmprof
	 * patches) the field named gva carries the IPA. */
	KP_EV_APF_TRY = 14,	    /* kvm_try_async_get_page */
	KP_EV_APF_NOT_PRESENT = 15, /* kvm_async_pf_not_present */
	KP_EV_APF_READY = 16,	    /* kvm_async_pf_ready */
	KP_EV_APF_COMPLETED = 17,   /* kvm_async_pf_completed (kworker) */
	KP_EV_APF_REPEATED = 18,    /* kvm_async_pf_repeated_fault */
	/* not_present -> ready of the same (vCPU, token): sub = log2 ns */
	KP_EV_APF_LAT = 19,
	/* kvm_async_pf_completed whose VM could not be found: counted
	 * under tgid 0 */
	KP_EV_APF_UNATTRIBUTED = 20,
	/* kvm_spe_copy_out(vcpu, data, len, guest_va, reason, ret) */
	KP_EV_SPE_COPY = 21,	   /* sub = reason (KP_SPE_REASON_*) */
	KP_EV_SPE_BYTES = 22,	   /* sub = reason, value += len */
	KP_EV_SPE_COPY_ERR = 23,   /* sub = -ret of a failed copy */
	KP_EV_SPE_LOST_BYTES = 24, /* sub = KP_SPE_LOST_*, value += bytes */
	/* kvm_spe_inject_bme(vcpu, pmbsr, pmbptr, ipa): sub = PMBSR_EL1.EC */
	KP_EV_SPE_BME = 25,
	/* sum of the values (ns) a latency histogram counted: sub = that
	 * histogram's event (KP_EV_EXIT_LAT, KP_EV_WAKEUP_LAT, KP_EV_APF_LAT) */
	KP_EV_LAT_SUM = 26,
	/* Scheduler view of a vCPU thread (sched_switch, sched_wakeup),
	 * value += ns: time on a CPU (KP_EV_VCPU_RUN) and runnable but
	 * waiting for one (KP_EV_VCPU_DELAY, what the guest sees as steal);
	 * sub = 0 */
	KP_EV_VCPU_RUN = 27,
	KP_EV_VCPU_DELAY = 28,
	/* the part of KP_EV_VCPU_DELAY during which task sub (a host thread
	 * id, 0: the CPU was idle) ran on the CPU the vCPU then got; what
	 * the history of a CPU (KP_RQ_HIST switches) does not cover is
	 * counted in KP_EV_VCPU_DELAY only */
	KP_EV_STOLEN_BY = 29,
	KP_EV_MAX
};

#define KP_SUB_ERRNO 0x80000000u

/* The count cache (bpf/kvmprof.bpf.c) flushes at an event this long after
 * its last flush; the loader converts it to jiffies (kp_tc_max_age_jiffies). */
#define KP_TC_MAX_AGE_MS 50
#define KP_PIO_SUB(rw, port) ((((__u32)(rw) & 1u) << 16) | ((__u32)(port) & 0xffffu))
#define KP_PIO_SUB_RW(sub) (((sub) >> 16) & 1u)
#define KP_PIO_SUB_PORT(sub) ((sub) & 0xffffu)

/* Switches per CPU remembered for KP_EV_STOLEN_BY (a power of 2), and the
 * shortest slice counted there (ns). */
#define KP_RQ_HIST 64
#define KP_STOLEN_MIN_NS 10000

/* log2 histograms: bucket 0 holds 0, bucket b > 0 holds 2^(b-1) <= v < 2^b. */
#define KP_HIST_BUCKETS 64

/* vCPU of an event that did not run in a vCPU thread (irq ioctls).
 * Counters under tgid 0 belong to no VM: events of KVM's kernel threads
 * whose VM is not known (kp_nspid_vm), and KP_EV_APF_UNATTRIBUTED. */
#define KP_VCPU_NONE (-1)

/*
 * Key of the per-CPU counter hash (map "kp_counts", value __u64).
 * A VM is its VMM process: tgid plus the leader's start time (ns since boot,
 * task_struct::start_boottime), so a reused pid is a new VM.
 */
struct kp_key {
	__u32 tgid;
	__s32 vcpu;	/* kvm_vcpu::vcpu_id, or KP_VCPU_NONE */
	__u64 start_ns;	/* VMM leader start_boottime */
	__u32 event;	/* enum kp_event */
	__u32 sub;
};
KP_STATIC_ASSERT(sizeof(struct kp_key) == 24, "kp_key size");
KP_STATIC_ASSERT(offsetof(struct kp_key, start_ns) == 8, "kp_key layout");
KP_STATIC_ASSERT(offsetof(struct kp_key, sub) == 20, "kp_key layout");

/*
 * First event of a VM: the BPF side remembers (tgid, start_ns) in the hash
 * "kp_vms" (value __u8) and sends one kp_vm_event through the ring buffer
 * "kp_events", with the VMM's comm and the start of its argv read in the
 * VMM's own context, so even a VM that exits before the next harvest is
 * named.  User space deletes the kp_vms entry when the VM is gone.
 */
#define KP_ARGS_MAX 512
struct kp_vm_key {
	__u32 tgid;
	__u32 pad;
	__u64 start_ns;
};
KP_STATIC_ASSERT(sizeof(struct kp_vm_key) == 16, "kp_vm_key size");

struct kp_vm_event {
	__u32 tgid;
	__u32 args_len;		/* bytes valid in args (NUL-separated) */
	__u64 start_ns;
	char comm[16];
	char args[KP_ARGS_MAX];
};
KP_STATIC_ASSERT(sizeof(struct kp_vm_event) == 32 + KP_ARGS_MAX,
		 "kp_vm_event size");
KP_STATIC_ASSERT(offsetof(struct kp_vm_event, args) == 32,
		 "kp_vm_event layout");

/*
 * Async page faults: which VM a struct kvm_vcpu belongs to (map
 * "kp_vcpu_vm", key: the kernel address of the vCPU, learnt in the vCPU's
 * own context), so events in kworkers can be attributed; and when each
 * (vCPU, token) went not-present (map "kp_apf_ts", value ns).
 */
struct kp_vcpu_vm {
	__u32 tgid;
	__s32 vcpu;
	__u64 start_ns;
};
KP_STATIC_ASSERT(sizeof(struct kp_vcpu_vm) == 16, "kp_vcpu_vm size");

/*
 * KVM's kernel threads serve a VM without being part of it: the in-kernel
 * PIT's worker is named "kvm-pit/<pid>", <pid> being the VMM's pid as its
 * own pid namespace numbers it.  Map "kp_nspid_vm" (key __u32: that pid)
 * gives the VM it names, learnt at the VM's first event; @ambiguous when
 * two live VMs share that pid (different namespaces): the worker's events
 * are then counted under tgid 0, as those of every other kernel thread.
 */
struct kp_nspid_vm {
	__u32 tgid;
	__u32 ambiguous;
	__u64 start_ns;
};
KP_STATIC_ASSERT(sizeof(struct kp_nspid_vm) == 16, "kp_nspid_vm size");

struct kp_apf_key {
	__u64 vcpu_ptr;
	__u64 token;
};
KP_STATIC_ASSERT(sizeof(struct kp_apf_key) == 16, "kp_apf_key size");

/*
 * Guest SPE capture.  Each kvm_spe_copy_out is streamed through the ring
 * buffer "kp_spe_rb" in chunks of at most KP_SPE_CHUNK bytes, each a
 * struct kp_spe_hdr followed by hdr.len bytes of SPE data.  seq counts the
 * chunks of one vCPU: a gap means chunks were lost (ring full).
 */
#define KP_SPE_CHUNK 16384
#define KP_SPE_MAX_CHUNKS 16	/* bytes of one copy beyond 256 KiB: lost */

/* Why KVM copied records out (asm/kvm_spe.h of the kvmprof patches). */
enum kp_spe_reason {
	KP_SPE_REASON_BUF_FULL = 0,
	KP_SPE_REASON_GUEST_STOP = 1,
	KP_SPE_REASON_VCPU_PUT = 2,
};

enum kp_spe_lost {
	KP_SPE_LOST_RING_FULL = 0,	/* ring buffer had no room */
	KP_SPE_LOST_TOO_LONG = 1,	/* beyond KP_SPE_MAX_CHUNKS */
	KP_SPE_LOST_FAULT = 2,		/* reading the host buffer failed */
};

struct kp_spe_hdr {
	__u32 tgid;
	__s32 vcpu;
	__u64 start_ns;
	__u64 seq;		/* per-vCPU chunk number */
	__u64 guest_va;		/* destination of this chunk */
	__u64 copy_len;		/* length of the whole copy-out */
	__u32 off;		/* offset of this chunk in the copy-out */
	__u32 len;		/* SPE bytes following this header */
	__s32 ret;		/* the copy's result: 0 or -errno */
	__u8 reason;		/* enum kp_spe_reason */
	__u8 pad[3];
};
KP_STATIC_ASSERT(sizeof(struct kp_spe_hdr) == 56, "kp_spe_hdr size");
KP_STATIC_ASSERT(offsetof(struct kp_spe_hdr, off) == 40, "kp_spe_hdr layout");

/* Indexes of the per-CPU array "kp_drops" (value __u64): events lost. */
enum kp_drop {
	KP_DROP_COUNTS_FULL = 0,	/* kp_counts had no room for a new key */
	KP_DROP_EXIT_TS_FULL = 1,	/* no thread storage for an exit time */
	KP_DROP_VM_EVENT = 2,		/* kp_events full, or kp_vms full */
	KP_DROP_APF_TRACK = 3,		/* no room to track an async PF */
	KP_DROP_MAX = 8
};

/* Layout of the kvm_exit trace record, as CO-RE resolved it on this kernel
 * (reported by the program kp_detect into its .bss). */
enum kp_exit_layout {
	KP_EXIT_LAYOUT_UNKNOWN = 0,
	KP_EXIT_LAYOUT_X86 = 1,
	KP_EXIT_LAYOUT_ARM64 = 2,
};

/*
 * KP_EV_EXIT sub-key on arm64: ESR_EL2.EC of a trap (kvm_exit's ret is
 * ARM_EXCEPTION_TRAP, 2); for any other exit (ARM_EXCEPTION_IRQ 0,
 * ARM_EXCEPTION_EL1_SERROR 1, ARM_EXCEPTION_IL 3), whose esr_ec argument is
 * left over from an earlier exit, KP_ARM64_NOT_TRAP | that code.  The
 * kernel's own kvm_exit record reports EC 0 for those.
 */
#define KP_ARM64_EXCEPTION_TRAP 2u
#define KP_ARM64_NOT_TRAP 0x100u

/*
 * KP_EV_EXIT sub-key on x86: the record's exit_reason, which is a VMX exit
 * reason on Intel (KVM_ISA_VMX, 1) and an SVM exit code on AMD (KVM_ISA_SVM,
 * 2): those become KP_X86_SVM | code (bit 30 is reserved in VMX exit
 * reasons; VMEXIT_INVALID, -1, becomes KP_X86_SVM | 0xffff).
 */
#define KP_X86_ISA_SVM 2u
#define KP_X86_SVM 0x40000000u

#endif /* KVMPROF_ABI_H */
