// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * kvmprof: in-kernel per-VM, per-vCPU counters on the generic KVM
 * tracepoints.  No record per event leaves the kernel: user space harvests
 * the per-CPU hash periodically.  Every program is independent; the loader
 * turns off autoload for those whose tracepoint the running kernel lacks.
 */
#include "kp_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "core_fixes.bpf.h"
#include <kvmprof/abi.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Sizes are set by the loader before load (bpf_map__set_max_entries). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct kp_key);
	__type(value, __u64);
} kp_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KP_DROP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} kp_drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct kp_vm_key);
	__type(value, __u8);
} kp_vms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} kp_events SEC(".maps");

/* VMs by the pid their own namespace gives them (struct kp_nspid_vm) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct kp_nspid_vm);
} kp_nspid_vm SEC(".maps");

/* VMs by their VMM's tgid (value: its leader's start time), for
 * kvm_creator_vm() */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} kp_tgid_vm SEC(".maps");

/*
 * Per-thread state: who the thread is (its VM: tgid and leader start time,
 * fixed for the thread's life; the vCPU last loaded on it), which spares
 * every event the reads through the task and keeps the vCPU for events
 * that fire after vcpu_put (kvm_userspace_exit); and a small cache of
 * counts.  Freed with the thread.
 *
 * Count cache: while a vCPU is loaded on the thread, an event adds to a
 * slot of the thread's own storage (direct-mapped by event and sub, tagged
 * with the vCPU) instead of looking up kp_counts, which costs most of a
 * probe's run time.  The slots are added to kp_counts ("flushed") when the
 * thread returns from KVM_RUN (kvm_userspace_exit), when it leaves the CPU
 * (sched_switch: blocking, preemption, exit), at an event
 * KP_TC_MAX_AGE_MS or more after the last flush, and slot by slot
 * when another key needs the slot.  So counts reach user space at most one
 * harvest later than before, except for a thread that keeps running
 * without events.  Only the thread itself writes its slots; tc_busy keeps
 * a flush at sched_switch out of an update that was preempted, and an
 * event in an interrupt handler on the thread out of the slots.
 */
#define KP_TC_SLOTS		16
#define kp_barrier()		asm volatile("" ::: "memory")

struct kp_tc_slot {
	__u32 event;
	__u32 sub;
	__s32 vcpu;
	__u32 pad;
	__u64 n;
};

struct kp_thread {
	__u64 notifier;		/* preempt_notifiers.first seen with vcpu */
	__u64 start_ns;
	__u32 tgid;
	__s32 vcpu;		/* last vCPU loaded here, or KP_VCPU_NONE */
	__u16 tc_busy;		/* an update is in progress */
	__u16 served;		/* named as KVM's PIT worker: kp_served_who() */
	__u32 tc_dirty;		/* bit i: tc[i] holds a count */
	__u64 tc_flushed;	/* jiffies at the last flush */
	__u64 exit_ns;		/* time of the last kvm_exit, 0 after entry */
	/* scheduler view (kp_sched_switch), of threads that ran a vCPU */
	__s32 sched_vcpu; /* the vCPU, or KP_VCPU_NONE: not followed */
	__u32 pad;
	__u64 run_since;  /* on a CPU since (ns), 0: not running */
	__u64 wait_since; /* runnable, waiting since (ns), or 0 */
	struct kp_tc_slot tc[KP_TC_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct kp_thread);
} kp_thread SEC(".maps");

/* Set by the loader once kp_sched_switch is attached: without the flush
 * at sched-out, counts stay out of the cache. */
__u32 kp_tc_on;
/* Set by the loader once kp_sched_switch and kp_sched_wakeup are attached:
 * vCPU run time, run delay and who ran instead (KP_EV_VCPU_*). */
__u32 kp_sched_on;

/* Threads ever followed (below): until the first, a context switch costs
 * only the count cache's flush. */
__u64 kp_sched_threads;

/*
 * Per CPU: the last KP_RQ_HIST tasks switched in and when, so that the run
 * delay of a vCPU thread can be split among the tasks that ran on the CPU
 * while it waited (KP_EV_STOLEN_BY).
 */
struct kp_rq_slice {
	__u32 pid; /* task (thread) id, 0: idle */
	__u32 pad;
	__u64 t_in; /* switched in at (ns), 0: empty */
};

struct kp_rq_hist {
	__u64 head; /* slices recorded so far */
	struct kp_rq_slice s[KP_RQ_HIST];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kp_rq_hist);
} kp_rq_hist SEC(".maps");

/* Async PF tracking, see struct kp_vcpu_vm in abi.h. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct kp_vcpu_vm);
} kp_vcpu_vm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct kp_apf_key);
	__type(value, __u64);
} kp_apf_ts SEC(".maps");

/*
 * Attribution of kvm_async_pf_completed, which runs in a kworker: by the
 * host address and guest address of the fault (the tracepoint's two
 * arguments), learnt when the fault was queued (kvm_async_pf_not_present,
 * in the vCPU's context).  Not by the kworker's work item: KVM clears its
 * vcpu before the tracepoint, and the vCPU may free it meanwhile (then a
 * new fault, maybe another VM's, may have it).  Nor by the guest address
 * alone: two VMs with the same guest layout fault the same addresses.
 */
struct kp_apf_hva_key {
	__u64 hva;
	__u64 gva;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct kp_apf_hva_key);
	__type(value, struct kp_vcpu_vm);
} kp_apf_hva SEC(".maps");

/* Fallback attribution of kvm_async_pf_completed by gva (kernels where
 * the queued fault's host address cannot be read). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct kp_vcpu_vm);
} kp_apf_gva SEC(".maps");

/* Guest SPE capture (see struct kp_spe_hdr). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);	/* set by the loader */
} kp_spe_rb SEC(".maps");

struct kp_spe_chunk {
	struct kp_spe_hdr hdr;
	__u8 data[KP_SPE_CHUNK];
};

/*
 * Per-CPU scratch: the chunk being sent, and the state of the chunk loop.
 * The loop state lives here rather than on the stack so that the verifier
 * need not track it precisely across bpf_loop iterations.
 */
struct kp_spe_scratch {
	__u64 seq;
	__u64 lost_ring;
	__u64 lost_fault;
	struct kp_spe_chunk c;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kp_spe_scratch);
} kp_spe_scratch SEC(".maps");

/* next chunk number per vCPU (key: kernel address of the vCPU) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} kp_spe_seq SEC(".maps");

/* Wake the consumer only past this much queued data (it also polls). */
const volatile __u64 kp_spe_wakeup_bytes = 256 << 10;

/* Filled by kp_detect (run once by the loader through BPF_PROG_TEST_RUN). */
__u32 kp_exit_layout = KP_EXIT_LAYOUT_UNKNOWN;

static __always_inline void kp_drop(__u32 why)
{
	__u64 *v = bpf_map_lookup_elem(&kp_drops, &why);

	if (v)
		*v += 1;
}

static __always_inline __u32 log2_bucket(__u64 v)
{
	__u32 b = 0;

	/* bucket = number of significant bits: 0 -> 0, 1 -> 1, 2..3 -> 2 ... */
#pragma unroll
	for (int i = 32; i > 0; i >>= 1) {
		if (v >> i) {
			v >>= i;
			b += i;
		}
	}
	return v ? b + 1 : b;
}

static __always_inline int vcpu_id_of(struct kvm_vcpu *vcpu)
{
	return vcpu ? BPF_CORE_READ(vcpu, vcpu_id) : KP_VCPU_NONE;
}

struct kp_who {
	__u32 tgid;
	__s32 vcpu;
	__u64 start_ns;
	bool cache;	/* counts may go through the thread's count cache */
	bool own; /* the thread is the VM's own: a new VM may be announced */
};

/* From now on the scheduler view follows thread @t as vCPU @vcpu. */
static __always_inline void kp_sched_follow(struct kp_thread *t, int vcpu)
{
	if (vcpu >= 0 && t->sched_vcpu < 0)
		__sync_fetch_and_add(&kp_sched_threads, 1);
	t->sched_vcpu = vcpu;
}

/* The VM (@tgid, @start_ns), if it is still tracked (kp_vms: the daemon
 * forgets a VM there when it is gone). */
static __always_inline bool kp_vm_known(__u32 tgid, __u64 start_ns)
{
	struct kp_vm_key vk = { .tgid = tgid, .start_ns = start_ns };

	return bpf_map_lookup_elem(&kp_vms, &vk) != NULL;
}

/* The current thread is named "kvm-pit/<pid>": KVM's in-kernel PIT worker
 * (arch/x86/kvm/i8254.c), <pid> as the VMM's own pid namespace numbers it. */
static __always_inline bool kp_pit_pid(__u32 *ret)
{
	const char pfx[8] = { 'k', 'v', 'm', '-', 'p', 'i', 't', '/' };
	char comm[16] = {};
	__u32 pid = 0, i;

	bpf_get_current_comm(comm, sizeof(comm));
	for (i = 0; i < 8; i++)
		if (comm[i] != pfx[i])
			return false;
	for (i = 8; i < 16 && comm[i]; i++) {
		if (comm[i] < '0' || comm[i] > '9')
			return false;
		pid = pid * 10 + (__u32)(comm[i] - '0');
	}
	*ret = pid;
	return i > 8;
}

/*
 * The known VM of @kvm by the thread that created it (kvm->userspace_pid,
 * a global pid), when that thread is a known VMM's leader: for kernels
 * whose mm_struct has no owner (CONFIG_MEMCG=n), where kvm_vmm() cannot
 * tell.  A VMM that created its VM from another thread stays unknown here.
 */
static __always_inline bool kvm_creator_vm(struct kvm *kvm, __u32 *ret_tgid,
					   __u64 *ret_start_ns)
{
	__u64 *start;
	__u32 pid;

	if (!kvm || !bpf_core_field_exists(kvm->userspace_pid))
		return false;
	pid = (__u32)BPF_CORE_READ(kvm, userspace_pid);
	start = bpf_map_lookup_elem(&kp_tgid_vm, &pid);
	if (!start)
		return false;
	*ret_tgid = pid;
	*ret_start_ns = *start;
	return true;
}

/*
 * A kernel thread (or one named as KVM's PIT worker) serves a VM without
 * being part of it: its events go to the VM it names (the PIT worker), or
 * whose irqfd it injects (a kworker in irqfd_inject), when that VM is
 * known and unambiguous, else under tgid 0 (counted as unattributed); it
 * never announces a VM of its own.
 */
static __always_inline struct kp_thread *kp_served_who(struct kp_who *w)
{
	struct kp_nspid_vm *vm, v;
	__u64 start_ns;
	__u32 pid;

	w->tgid = 0;
	w->start_ns = 0;
	w->vcpu = KP_VCPU_NONE;
	w->cache = false;
	w->own = false;
	if (!kp_pit_pid(&pid)) {
		struct kvm *kvm = current_irqfd_kvm();

		if ((kvm_vmm(kvm, &pid, &start_ns) ||
		     kvm_creator_vm(kvm, &pid, &start_ns)) &&
		    kp_vm_known(pid, start_ns)) {
			w->tgid = pid;
			w->start_ns = start_ns;
		}
		return NULL;
	}
	vm = bpf_map_lookup_elem(&kp_nspid_vm, &pid);
	if (!vm)
		return NULL;
	v = *vm;
	if (!v.ambiguous && kp_vm_known(v.tgid, v.start_ns)) {
		w->tgid = v.tgid;
		w->start_ns = v.start_ns;
	}
	return NULL;
}

/*
 * The current thread's VM and vCPU.  @last: when no vCPU is loaded now,
 * the vCPU this thread ran last (else KP_VCPU_NONE).  Returns the thread's
 * state (NULL if it could not be had); its count cache may take the counts
 * (w->cache) while a vCPU is loaded on the thread.
 */
static __always_inline struct kp_thread *who_current(struct kp_who *w,
						     bool last)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct hlist_node *first = NULL;
	struct kp_thread *t;

	if (task->flags & PF_KTHREAD)
		return kp_served_who(w);
	if (bpf_core_field_exists(task->preempt_notifiers))
		first = task->preempt_notifiers.first;
	w->own = true;
	t = bpf_task_storage_get(&kp_thread, task, 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t) {
		w->tgid = bpf_get_current_pid_tgid() >> 32;
		w->start_ns = task->group_leader->start_boottime;
		w->vcpu = first ? vcpu_id_of(vcpu_of_notifier(first)) :
				  KP_VCPU_NONE;
		w->cache = false;
		return NULL;
	}
	if (!t->tgid) {
		__u32 pid;

		t->tgid = bpf_get_current_pid_tgid() >> 32;
		t->start_ns = task->group_leader->start_boottime;
		t->vcpu = KP_VCPU_NONE;
		t->sched_vcpu = KP_VCPU_NONE;
		/* a user thread named so serves like the worker itself
		 * (and is how tests drive this path) */
		t->served = kp_pit_pid(&pid);
	}
	if (t->served)
		return kp_served_who(w);
	if (first && (__u64)first != t->notifier) {
		t->notifier = (__u64)first;
		t->vcpu = vcpu_id_of(vcpu_of_notifier(first));
		kp_sched_follow(t, t->vcpu);
	}
	w->tgid = t->tgid;
	w->start_ns = t->start_ns;
	w->vcpu = first || last ? t->vcpu : KP_VCPU_NONE;
	w->cache = first != NULL;
	return t;
}

/* The current process' pid in its own pid namespace (0 if unknown). */
static __always_inline __u32 current_ns_tgid(void)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct pid *p;
	unsigned int level;
	int nr = 0;

	if (!bpf_core_field_exists(task->thread_pid) ||
	    !bpf_core_field_exists(struct pid, numbers))
		return 0;
	p = BPF_CORE_READ(task, group_leader, thread_pid);
	if (!p)
		return 0;
	level = BPF_CORE_READ(p, level);
	if (bpf_probe_read_kernel(
		    &nr, sizeof(nr),
		    (char *)p + bpf_core_field_offset(struct pid, numbers) +
			    (__u64)level * bpf_core_type_size(struct upid) +
			    bpf_core_field_offset(struct upid, nr)))
		return 0;
	return (__u32)nr;
}

/* Remember the new VM (@tgid, @start_ns) under its namespace pid, for its
 * PIT worker; ambiguous if another tracked VM has that pid too. */
static __always_inline void kp_note_nspid(__u32 tgid, __u64 start_ns)
{
	struct kp_nspid_vm nv = { .tgid = tgid, .start_ns = start_ns }, *old;
	__u32 nspid = current_ns_tgid();

	if (!nspid)
		return;
	old = bpf_map_lookup_elem(&kp_nspid_vm, &nspid);
	if (old && (old->tgid != tgid || old->start_ns != start_ns) &&
	    kp_vm_known(old->tgid, old->start_ns))
		nv.ambiguous = 1;
	bpf_map_update_elem(&kp_nspid_vm, &nspid, &nv, BPF_ANY);
}

/* First sight of a VM: tell user space who it is while it surely exists. */
static __noinline void kp_new_vm(__u32 tgid, __u64 start_ns)
{
	struct kp_vm_key vk = { .tgid = tgid, .start_ns = start_ns };
	struct task_struct *task;
	struct kp_vm_event *e;
	unsigned long a0, a1;
	__u8 one = 1;
	__u64 len;

	if (bpf_map_update_elem(&kp_vms, &vk, &one, BPF_NOEXIST))
		return;	/* known already (or full: the daemon reads /proc) */
	kp_note_nspid(tgid, start_ns);
	bpf_map_update_elem(&kp_tgid_vm, &tgid, &start_ns, BPF_ANY);
	e = bpf_ringbuf_reserve(&kp_events, sizeof(*e), 0);
	if (!e) {
		kp_drop(KP_DROP_VM_EVENT);
		return;
	}
	e->tgid = tgid;
	e->start_ns = start_ns;
	task = (void *)bpf_get_current_task();
	/* the process' name, not the vCPU thread's */
	BPF_CORE_READ_STR_INTO(&e->comm, task, group_leader, comm);
	a0 = BPF_CORE_READ(task, mm, arg_start);
	a1 = BPF_CORE_READ(task, mm, arg_end);
	len = a1 > a0 ? a1 - a0 : 0;
	if (len > KP_ARGS_MAX)
		len = KP_ARGS_MAX;
	e->args_len = 0;
	if (len && !bpf_probe_read_user(e->args, (__u32)len, (void *)a0))
		e->args_len = (__u32)len;
	bpf_ringbuf_submit(e, 0);
}

/* Add @n to the counter @key; @own: the event runs in the VM's context. */
static __always_inline void kp_add_key(struct kp_key *k, __u64 n, bool own)
{
	struct kp_key key = *k;
	__u64 *v;

	v = bpf_map_lookup_elem(&kp_counts, &key);
	if (v) {
		*v += n;	/* per-CPU value: no atomics needed */
		return;
	}
	if (!bpf_map_update_elem(&kp_counts, &key, &n, BPF_NOEXIST)) {
		if (own)
			kp_new_vm(key.tgid, key.start_ns);
		return;
	}
	/* Raced with another CPU creating the key: count on ours. */
	v = bpf_map_lookup_elem(&kp_counts, &key);
	if (v)
		*v += n;
	else
		kp_drop(KP_DROP_COUNTS_FULL);
}

/* Add @n to the counter (@w's VM and vCPU, @event, @sub). */
static __always_inline void kp_add_who(const struct kp_who *w, __u32 event,
				       __u32 sub, __u64 n)
{
	struct kp_key key = {
		.tgid = w->tgid,
		.vcpu = w->vcpu,
		.start_ns = w->start_ns,
		.event = event,
		.sub = sub,
	};

	kp_add_key(&key, n, w->own);
}

/*
 * Coarse clock of the count cache: jiffies (tracing programs may not call
 * bpf_ktime_get_coarse_ns()).  KP_TC_MAX_AGE_MS in jiffies, set by the
 * loader from the tick it measures (the resolution of
 * CLOCK_MONOTONIC_COARSE): no __kconfig extern, whose resolution fails the
 * whole load on kernels without /proc/config.gz or /boot/config-*.
 */
const volatile __u64 kp_tc_max_age_jiffies = 12;

static __always_inline __u64 kp_tc_max_age(void)
{
	return kp_tc_max_age_jiffies;
}

/*
 * Moves the cached count of slot @i of thread @t to kp_counts.  Global
 * functions (verified once, not at every call site): @t may be NULL for
 * the verifier.
 */
__noinline int kp_tc_flush_slot(struct kp_thread *t, __u32 i)
{
	struct kp_key key = {};
	struct kp_tc_slot *s;

	if (!t || i >= KP_TC_SLOTS)
		return 0;
	s = &t->tc[i];
	key.tgid = t->tgid;
	key.start_ns = t->start_ns;
	key.vcpu = s->vcpu;
	key.event = s->event;
	key.sub = s->sub;
	kp_add_key(&key, s->n, true);
	return 0;
}

/* Add @n to the counter (@t's VM, its vCPU, @event, @sub) from the
 * scheduler's context, which may be another thread's (no announcement). */
__noinline int kp_sched_add(struct kp_thread *t, __u32 event, __u32 sub,
			    __u64 n)
{
	struct kp_key key = {};

	if (!t)
		return 0;
	key.tgid = t->tgid;
	key.start_ns = t->start_ns;
	key.vcpu = t->sched_vcpu;
	key.event = event;
	key.sub = sub;
	kp_add_key(&key, n, false);
	return 0;
}

/* Moves every cached count of thread @t to kp_counts. */
__noinline int kp_tc_flush(struct kp_thread *t)
{
	if (!t)
		return 0;
	for (__u32 i = 0; i < KP_TC_SLOTS; i++)
		if (t->tc_dirty & (1u << i))
			kp_tc_flush_slot(t, i);
	t->tc_dirty = 0;
	return 0;
}

/*
 * Add @n to the counter (@w's VM and vCPU, @event, @sub), through the
 * count cache of @t (the current thread's state from who_current()) when
 * @w allows it.
 */
static __always_inline void kp_add_tc(struct kp_thread *t,
				      const struct kp_who *w, __u32 event,
				      __u32 sub, __u64 n)
{
	struct kp_tc_slot *s;
	__u64 now;
	__u32 i;

	/* busy: this event interrupted an update of the same thread's slots
	 * (an interrupt handler on the vCPU thread) */
	if (!t || !w->cache || !kp_tc_on || t->tc_busy) {
		kp_add_who(w, event, sub, n);
		return;
	}
	i = ((event * 0x9e3779b1u) ^ (sub * 0x85ebca6bu)) >> 28;
	s = &t->tc[i & (KP_TC_SLOTS - 1)];
	t->tc_busy = 1;
	kp_barrier();
	if (t->tc_dirty & (1u << i)) {
		if (s->event == event && s->sub == sub && s->vcpu == w->vcpu) {
			s->n += n;
			goto counted;
		}
		kp_tc_flush_slot(t, i);
	}
	s->event = event;
	s->sub = sub;
	s->vcpu = w->vcpu;
	s->n = n;
	t->tc_dirty |= 1u << i;
counted:
	now = bpf_jiffies64();
	if (now - t->tc_flushed >= kp_tc_max_age()) {
		kp_tc_flush(t);
		t->tc_flushed = now;
	}
	kp_barrier();
	t->tc_busy = 0;
}

/* Publishes the whole count cache of @t (KVM_RUN return, sched-out). */
static __always_inline void kp_tc_publish(struct kp_thread *t)
{
	if (!t || !t->tc_dirty || t->tc_busy)
		return;
	t->tc_busy = 1;
	kp_barrier();
	kp_tc_flush(t);
	t->tc_flushed = bpf_jiffies64();
	kp_barrier();
	t->tc_busy = 0;
}

/* Add @n to the counter (current VM, vCPU loaded now, @event, @sub). */
static __always_inline void kp_add_cur(__u32 event, __u32 sub, __u64 n)
{
	struct kp_thread *t;
	struct kp_who w;

	t = who_current(&w, false);
	kp_add_tc(t, &w, event, sub, n);
}

/*
 * Add @n to the counter (current VM, @vcpu given, @event, @sub).  Such
 * events run in the vCPU's thread: the scheduler view follows it from now.
 */
static __always_inline void kp_add(int vcpu, __u32 event, __u32 sub, __u64 n)
{
	struct kp_thread *t;
	struct kp_who w;

	t = who_current(&w, false);
	w.vcpu = vcpu;
	/* the thread's vCPU, for events after vcpu_put, and the
	 * scheduler view follows it from now */
	if (t && w.own && vcpu >= 0) {
		t->vcpu = vcpu;
		kp_sched_follow(t, vcpu);
	}
	kp_add_tc(t, &w, event, sub, n);
}

/* Add to the counter of another VM (events in kworkers). */
static __always_inline void kp_add_vm(const struct kp_vcpu_vm *vm,
				      __u32 event, __u32 sub, __u64 n)
{
	struct kp_key key = {
		.tgid = vm->tgid,
		.vcpu = vm->vcpu,
		.start_ns = vm->start_ns,
		.event = event,
		.sub = sub,
	};

	kp_add_key(&key, n, false);
}

SEC("raw_tp")
int kp_detect(void *ctx)
{
	kp_exit_layout = kvm_exit_layout();
	return 0;
}

SEC("raw_tp/kvm_userspace_exit")
int BPF_PROG(kp_userspace_exit, __u32 reason, int err)
{
	__u32 sub = err < 0 ? KP_SUB_ERRNO | (__u32)-err : reason;
	struct kp_thread *t;
	struct kp_who w;

	/* fired after vcpu_put: the notifier is gone, but the syscall's
	 * vCPU fd is at hand; else the thread's last vCPU */
	t = who_current(&w, true);
	if (w.own) {
		int id = vcpu_id_of(current_run_vcpu());

		if (id != KP_VCPU_NONE) {
			w.vcpu = id;
			if (t)
				t->vcpu = id;
		}
	}
	kp_add_who(&w, KP_EV_USERSPACE_EXIT, sub, 1);
	/* back to user space: publish what the thread cached */
	kp_tc_publish(t);
	return 0;
}

SEC("raw_tp/kvm_pio")
int BPF_PROG(kp_pio, unsigned int rw, unsigned int port, unsigned int size,
	     unsigned int count)
{
	kp_add_cur(KP_EV_PIO, KP_PIO_SUB(rw, port), 1);
	return 0;
}

SEC("raw_tp/kvm_mmio")
int BPF_PROG(kp_mmio, int type, int len, __u64 gpa)
{
	kp_add_cur(KP_EV_MMIO, (__u32)type, 1);
	return 0;
}

SEC("raw_tp/kvm_vcpu_wakeup")
int BPF_PROG(kp_vcpu_wakeup, __u64 ns, bool waited, bool valid)
{
	struct kp_thread *t;
	struct kp_who w;

	t = who_current(&w, false);
	kp_add_tc(t, &w, KP_EV_VCPU_WAKEUP, (__u32)waited | (__u32)valid << 1,
		  1);
	kp_add_tc(t, &w, KP_EV_WAKEUP_LAT, log2_bucket(ns), 1);
	kp_add_tc(t, &w, KP_EV_LAT_SUM, KP_EV_WAKEUP_LAT, ns);
	return 0;
}

SEC("raw_tp/kvm_halt_poll_ns")
int BPF_PROG(kp_halt_poll_ns, bool grow, unsigned int vcpu_id)
{
	kp_add((int)vcpu_id, KP_EV_HALT_POLL_NS, grow, 1);
	return 0;
}

SEC("raw_tp/kvm_set_irq")
int BPF_PROG(kp_set_irq, unsigned int gsi)
{
	kp_add_cur(KP_EV_SET_IRQ, gsi, 1);
	return 0;
}

SEC("raw_tp/kvm_msi_set_irq")
int BPF_PROG(kp_msi_set_irq)
{
	kp_add_cur(KP_EV_MSI_SET_IRQ, 0, 1);
	return 0;
}

/*
 * Now on the scheduler's clock of the CPU whose run queue holds @p: that
 * queue's clock, which the scheduler updated at this switch or wake-up
 * (under the queue's lock), so that run time and run delay are measured
 * as the kernel measures them (schedstat, sched_info), not by a second
 * clock read a moment later.  That moment is a few us on a real host, but
 * an emulated machine's host may stall it anywhere for tens of ms.
 * Every task's queue is set (set_task_rq()), whatever its class, on
 * kernels with CONFIG_FAIR_GROUP_SCHED; elsewhere: the monotonic clock.
 */
static __always_inline __u64 kp_sched_now(struct task_struct *p)
{
	struct rq *rq;

	if (bpf_core_field_exists(struct cfs_rq, rq) &&
	    bpf_core_field_exists(p->se.cfs_rq)) {
		rq = BPF_CORE_READ(p, se.cfs_rq, rq);
		if (rq)
			return BPF_CORE_READ(rq, clock);
	}
	return bpf_ktime_get_ns();
}

/*
 * kvm_exit: a classic tracepoint on x86, because the exit reason is in the
 * trace record (x86 computes it through a vendor callback that a raw
 * tracepoint cannot call); the record layout differs per arch: CO-RE.  On
 * arm64 the raw arguments have it (kp_exit_raw).  kvm_entry
 * needs nothing from its arguments (the vCPU comes from the thread, as for
 * every event): a raw tracepoint, which skips building the trace record on
 * every entry.
 */
/* Counts an exit for @reason (-1: unknown) and remembers its time. */
static __always_inline void kp_count_exit(long reason, int vcpu)
{
	__u64 now = bpf_ktime_get_ns();
	struct kp_thread *t;
	struct kp_who w;

	t = who_current(&w, false);
	if (vcpu >= 0) {
		w.vcpu = vcpu;
		if (t && w.own)
			t->vcpu = vcpu;
	}
	kp_add_tc(t, &w, KP_EV_EXIT,
		  reason < 0 ? 0xffffffffu : (__u32)reason, 1);
	if (t)
		t->exit_ns = now;
	else
		kp_drop(KP_DROP_EXIT_TS_FULL);
}

SEC("tracepoint/kvm/kvm_exit")
int kp_exit(void *ctx)
{
	kp_count_exit(kvm_exit_reason(ctx), kvm_exit_vcpu_id(ctx));
	return 0;
}

/*
 * arm64's kvm_exit(int ret, unsigned int esr_ec, unsigned long vcpu_pc)
 * carries the exit class in its arguments: there the loader attaches this
 * raw tracepoint instead of kp_exit (no trace record built per exit).
 */
SEC("raw_tp/kvm_exit")
int BPF_PROG(kp_exit_raw, int ret, unsigned int esr_ec, unsigned long pc)
{
	kp_count_exit(kvm_arm64_exit_reason(ret, esr_ec), -1);
	return 0;
}

SEC("raw_tp/kvm_entry")
int kp_entry(void *ctx)
{
	struct kp_thread *t;
	struct kp_who w;

	t = who_current(&w, false);
	kp_add_tc(t, &w, KP_EV_ENTRY, 0, 1);
	if (t && t->exit_ns) {
		__u64 now = bpf_ktime_get_ns(), d = now - t->exit_ns;

		t->exit_ns = 0;
		kp_add_tc(t, &w, KP_EV_EXIT_LAT, log2_bucket(d), 1);
		kp_add_tc(t, &w, KP_EV_LAT_SUM, KP_EV_EXIT_LAT, d);
		/* a vCPU alone on its CPU may not switch for long: its run
		 * time so far, at most every KP_TC_MAX_AGE_MS */
		if (t->run_since) {
			/* the scheduler's clock of the last tick or switch */
			now = kp_sched_now(bpf_get_current_task_btf());
			if (now > t->run_since &&
			    now - t->run_since >=
				    KP_TC_MAX_AGE_MS * 1000000ull) {
				kp_sched_add(t, KP_EV_VCPU_RUN, 0,
					     now - t->run_since);
				t->run_since = now;
			}
		}
	}
	return 0;
}

/*
 * The scheduler view of vCPU threads (kp_thread.sched_vcpu set): time on a
 * CPU, time runnable but waiting for one (from the wake-up, or from being
 * switched out while still runnable, to being switched in: what the
 * kernel's schedstat calls run_delay and the guest sees as steal), and
 * that delay split among the tasks that ran on the CPU meanwhile.
 */
static __always_inline void kp_sched_out(struct kp_thread *t,
					 struct task_struct *prev, __u64 now)
{
	struct kp_rq_hist *h;
	__u32 zero = 0;

	if (!t->run_since) {
		/* followed since it got the CPU (or its switch-in went
		 * unseen): this CPU's history tells when */
		h = bpf_map_lookup_elem(&kp_rq_hist, &zero);
		if (h && h->s[(h->head - 1) & (KP_RQ_HIST - 1)].pid ==
				 (__u32)prev->pid) {
			__u64 in = h->s[(h->head - 1) & (KP_RQ_HIST - 1)].t_in;

			if (t->wait_since && t->wait_since < in)
				kp_sched_add(t, KP_EV_VCPU_DELAY, 0,
					     in - t->wait_since);
			t->wait_since = 0;
			t->run_since = in;
		}
	}
	if (t->run_since)
		kp_sched_add(t, KP_EV_VCPU_RUN, 0, now - t->run_since);
	t->run_since = 0;
	/* preempted (or yielding): it waits from now */
	if (task_runnable(prev) && !t->wait_since)
		t->wait_since = now;
}

/* @t's wait [from, now) among the slices of this CPU's history */
static __always_inline void kp_sched_blame(struct kp_thread *t, __u64 from,
					   __u64 now)
{
	struct kp_rq_hist *h;
	__u32 zero = 0;
	__u64 end = now, d;

	h = bpf_map_lookup_elem(&kp_rq_hist, &zero);
	if (!h)
		return;
	for (__u32 i = 0; i < KP_RQ_HIST; i++) {
		struct kp_rq_slice *s =
			&h->s[(h->head - 1 - i) & (KP_RQ_HIST - 1)];
		__u64 start = s->t_in;

		if (!start || start >= end)
			break;
		d = end - (start > from ? start : from);
		/* shorter slices stay in the delay only ("other"): fewer
		 * keys for the kworker blips of a busy host */
		if (d >= KP_STOLEN_MIN_NS)
			kp_sched_add(t, KP_EV_STOLEN_BY, s->pid, d);
		if (start <= from)
			break;
		end = start;
	}
}

static __always_inline void kp_sched_in(struct kp_thread *t, __u64 now)
{
	__u64 from = t->wait_since;

	t->run_since = now;
	t->wait_since = 0;
	if (!from || from >= now)
		return;
	kp_sched_add(t, KP_EV_VCPU_DELAY, 0, now - from);
	kp_sched_blame(t, from, now);
}

static __always_inline void kp_rq_record(struct task_struct *next, __u64 now)
{
	struct kp_rq_hist *h;
	__u32 zero = 0;

	h = bpf_map_lookup_elem(&kp_rq_hist, &zero);
	if (!h)
		return;
	h->s[h->head & (KP_RQ_HIST - 1)].pid = (__u32)next->pid;
	h->s[h->head & (KP_RQ_HIST - 1)].t_in = now;
	h->head++;
}

/*
 * A thread leaves the CPU (it blocks, is preempted or exits) and another
 * comes: publish the count cache of the one leaving (current is still
 * @prev), and the scheduler view of both.
 */
SEC("tp_btf/sched_switch")
int BPF_PROG(kp_sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	struct kp_thread *t;
	__u64 now;

	t = bpf_task_storage_get(&kp_thread, prev, 0, 0);
	kp_tc_publish(t);
	if (!kp_sched_on || !kp_sched_threads)
		return 0;
	now = kp_sched_now(prev);
	if (t && t->sched_vcpu >= 0)
		kp_sched_out(t, prev, now);
	t = bpf_task_storage_get(&kp_thread, next, 0, 0);
	if (t && t->sched_vcpu >= 0)
		kp_sched_in(t, now);
	kp_rq_record(next, now);
	return 0;
}

/* A vCPU thread becomes runnable: it waits from now. */
SEC("tp_btf/sched_wakeup")
int BPF_PROG(kp_sched_wakeup, struct task_struct *p)
{
	struct kp_thread *t;

	if (!kp_sched_on || !kp_sched_threads)
		return 0;
	t = bpf_task_storage_get(&kp_thread, p, 0, 0);
	if (t && t->sched_vcpu >= 0 && !t->wait_since && !t->run_since)
		t->wait_since = kp_sched_now(p);
	return 0;
}

/*
 * Tracepoints added by kvmprof's kernel patches (kernel-patches/).  On other
 * kernels these programs are not loaded and reported unavailable.
 */
SEC("raw_tp/kvm_sysreg_dirty")
int BPF_PROG(kp_sysreg_dirty, struct kvm_vcpu *vcpu, __u32 sysreg,
	     __u64 hfgwtr_bits)
{
	kp_add(vcpu_id_of(vcpu), KP_EV_SYSREG_DIRTY, sysreg, 1);
	return 0;
}

SEC("raw_tp/kvm_sysreg_save_elided")
int BPF_PROG(kp_sysreg_save_elided, struct kvm_vcpu *vcpu, __u64 clean_bits,
	     __u32 count)
{
	int id = vcpu_id_of(vcpu);
	__u32 nbits = 0, per;

	/* @count register saves were elided over the registers in
	 * @clean_bits, each as often: count / popcount per register (the
	 * kvmprof patches emit one event for the registers elided from every
	 * save since the last event, one per other register) */
	for (__u32 b = 0; b < 64; b++)
		nbits += (clean_bits >> b) & 1;
	if (!nbits)
		return 0;
	per = count / nbits;
	for (__u32 b = 0; b < 64; b++)
		if (clean_bits & (1ull << b))
			kp_add(id, KP_EV_SYSREG_ELIDED, b, per);
	return 0;
}

/*
 * Asynchronous page faults (generic tracepoints).  try/not_present/ready/
 * repeated run in the vCPU's context; completed runs in a kworker and is
 * attributed through the work item (or, failing that, the gva).
 */
SEC("raw_tp/kvm_try_async_get_page")
int BPF_PROG(kp_apf_try, __u64 gva, __u64 gfn)
{
	kp_add_cur(KP_EV_APF_TRY, 0, 1);
	return 0;
}

SEC("raw_tp/kvm_async_pf_repeated_fault")
int BPF_PROG(kp_apf_repeated, __u64 gva, __u64 gfn)
{
	kp_add_cur(KP_EV_APF_REPEATED, 0, 1);
	return 0;
}

/*
 * The host address of @vcpu's newest queued async fault, which must be for
 * @gva (kvm_setup_async_pf() queues it, then fires not_present); 0 if
 * unknown here.
 */
static __always_inline __u64 apf_queued_hva(struct kvm_vcpu *vcpu, __u64 gva)
{
	struct kvm_async_pf *work;
	struct list_head *last;

	if (!vcpu || !bpf_core_field_exists(vcpu->async_pf) ||
	    !bpf_core_field_exists(struct kvm_async_pf, queue) ||
	    !bpf_core_field_exists(struct kvm_async_pf, addr) ||
	    !bpf_core_field_exists(struct kvm_async_pf, cr2_or_gpa))
		return 0;
	last = BPF_CORE_READ(vcpu, async_pf.queue.prev);
	if (!last || last == &vcpu->async_pf.queue)
		return 0;
	work = (void *)((char *)last -
			bpf_core_field_offset(struct kvm_async_pf, queue));
	if (BPF_CORE_READ(work, cr2_or_gpa) != gva)
		return 0;
	return BPF_CORE_READ(work, addr);
}

SEC("raw_tp/kvm_async_pf_not_present")
int BPF_PROG(kp_apf_not_present, __u64 token, __u64 gva)
{
	struct kvm_vcpu *vcpu = current_kvm_vcpu();
	struct kp_apf_key k = { .vcpu_ptr = (__u64)vcpu, .token = token };
	struct kp_vcpu_vm vm = {
		.tgid = bpf_get_current_pid_tgid() >> 32,
		.vcpu = vcpu_id_of(vcpu),
		.start_ns = current_leader_start_ns(),
	};
	struct kp_apf_hva_key hk = { .gva = gva };
	__u64 now = bpf_ktime_get_ns();

	kp_add(vm.vcpu, KP_EV_APF_NOT_PRESENT, 0, 1);
	if (bpf_map_update_elem(&kp_apf_ts, &k, &now, BPF_ANY))
		kp_drop(KP_DROP_APF_TRACK);
	if (vcpu && !bpf_map_lookup_elem(&kp_vcpu_vm, &k.vcpu_ptr) &&
	    bpf_map_update_elem(&kp_vcpu_vm, &k.vcpu_ptr, &vm, BPF_ANY))
		kp_drop(KP_DROP_APF_TRACK);
	bpf_map_update_elem(&kp_apf_gva, &gva, &vm, BPF_ANY);
	hk.hva = apf_queued_hva(vcpu, gva);
	if (hk.hva && bpf_map_update_elem(&kp_apf_hva, &hk, &vm, BPF_ANY))
		kp_drop(KP_DROP_APF_TRACK);
	return 0;
}

SEC("raw_tp/kvm_async_pf_ready")
int BPF_PROG(kp_apf_ready, __u64 token, __u64 gva)
{
	struct kvm_vcpu *vcpu = current_kvm_vcpu();
	struct kp_apf_key k = { .vcpu_ptr = (__u64)vcpu, .token = token };
	int id = vcpu_id_of(vcpu);
	__u64 *ts;

	kp_add(id, KP_EV_APF_READY, 0, 1);
	ts = bpf_map_lookup_elem(&kp_apf_ts, &k);
	if (ts) {
		__u64 d = bpf_ktime_get_ns() - *ts;

		kp_add(id, KP_EV_APF_LAT, log2_bucket(d), 1);
		kp_add(id, KP_EV_LAT_SUM, KP_EV_APF_LAT, d);
		bpf_map_delete_elem(&kp_apf_ts, &k);
	}
	return 0;
}

SEC("raw_tp/kvm_async_pf_completed")
int BPF_PROG(kp_apf_completed, unsigned long address, __u64 gva)
{
	struct kvm_vcpu *vcpu = current_kvm_vcpu();
	struct kp_vcpu_vm *vm = NULL;
	struct kp_vcpu_vm none = { .vcpu = KP_VCPU_NONE };
	struct kp_apf_hva_key hk = { .hva = address, .gva = gva };
	__u64 ptr;

	if (vcpu) {	/* older kernels complete in the vCPU's context */
		kp_add(vcpu_id_of(vcpu), KP_EV_APF_COMPLETED, 0, 1);
		return 0;
	}
	/* kept: two vCPUs of a VM may wait for the same page */
	vm = bpf_map_lookup_elem(&kp_apf_hva, &hk);
	if (vm) {
		kp_add_vm(vm, KP_EV_APF_COMPLETED, 0, 1);
		return 0;
	}
	vcpu = current_apf_work_vcpu();
	if (vcpu) {
		ptr = (__u64)vcpu;
		vm = bpf_map_lookup_elem(&kp_vcpu_vm, &ptr);
	}
	if (!vm)
		vm = bpf_map_lookup_elem(&kp_apf_gva, &gva);
	if (vm)
		kp_add_vm(vm, KP_EV_APF_COMPLETED, 0, 1);
	else
		kp_add_vm(&none, KP_EV_APF_UNATTRIBUTED, 0, 1);
	return 0;
}

/*
 * Tracepoints of the kvmprof guest-SPE patches.  kvm_spe_copy_out hands us
 * the records KVM just copied from its own buffer into the guest's: stream
 * them to user space for decoding, in chunks, waking the consumer only by
 * size (a wakeup per record costs ~10 us on the vCPU).
 */
struct spe_loop_ctx {
	__u64 data;
	__u64 len;
	__u64 guest_va;
};

/*
 * One chunk of a copy-out; run through bpf_loop (verified once).  The
 * chunk is reserved at full size and read straight into the ring (one
 * copy); a short last chunk leaves slack that hdr.len tells the consumer
 * to ignore.
 */
static long spe_chunk(__u32 i, void *vctx)
{
	struct spe_loop_ctx *x = vctx;
	__u64 off = (__u64)i * KP_SPE_CHUNK, n, flags;
	struct kp_spe_scratch *s;
	struct kp_spe_chunk *c;
	__u32 zero = 0;

	if (off >= x->len)
		return 1;
	s = bpf_map_lookup_elem(&kp_spe_scratch, &zero);
	if (!s)
		return 1;
	n = x->len - off;
	if (n > KP_SPE_CHUNK)
		n = KP_SPE_CHUNK;
	c = bpf_ringbuf_reserve(&kp_spe_rb, sizeof(*c), 0);
	if (!c) {
		s->seq++;	/* the consumer sees the gap */
		s->lost_ring += n;
		return 0;
	}
	c->hdr = s->c.hdr;
	c->hdr.seq = s->seq++;
	c->hdr.off = (__u32)off;
	c->hdr.len = (__u32)n;
	c->hdr.guest_va = x->guest_va + off;
	if (bpf_probe_read_kernel(c->data, n, (const void *)(x->data + off))) {
		s->lost_fault += n;
		bpf_ringbuf_discard(c, BPF_RB_NO_WAKEUP);
		return 0;
	}
	flags = bpf_ringbuf_query(&kp_spe_rb, BPF_RB_AVAIL_DATA) + n >=
			kp_spe_wakeup_bytes ? BPF_RB_FORCE_WAKEUP :
					      BPF_RB_NO_WAKEUP;
	bpf_ringbuf_submit(c, flags);
	return 0;
}

SEC("raw_tp/kvm_spe_copy_out")
int BPF_PROG(kp_spe_copy_out, struct kvm_vcpu *vcpu, const void *data,
	     __u64 len, __u64 guest_va, __u8 reason, int ret)
{
	struct spe_loop_ctx x = { .data = (__u64)data, .len = len,
				  .guest_va = guest_va };
	int id = vcpu_id_of(vcpu);
	__u64 ptr = (__u64)vcpu, *seqp;
	struct kp_spe_scratch *s;
	__u32 zero = 0;

	kp_add(id, KP_EV_SPE_COPY, reason, 1);
	kp_add(id, KP_EV_SPE_BYTES, reason, len);
	if (ret < 0)
		kp_add(id, KP_EV_SPE_COPY_ERR, (__u32)-ret, 1);
	s = bpf_map_lookup_elem(&kp_spe_scratch, &zero);
	if (!s)
		return 0;
	seqp = bpf_map_lookup_elem(&kp_spe_seq, &ptr);
	s->seq = seqp ? *seqp : 0;
	s->lost_ring = 0;
	s->lost_fault = 0;
	s->c.hdr.tgid = bpf_get_current_pid_tgid() >> 32;
	s->c.hdr.vcpu = id;
	s->c.hdr.start_ns = current_leader_start_ns();
	s->c.hdr.copy_len = len;
	s->c.hdr.ret = ret;
	s->c.hdr.reason = reason;
	bpf_loop(KP_SPE_MAX_CHUNKS, spe_chunk, &x, 0);
	if (bpf_map_update_elem(&kp_spe_seq, &ptr, &s->seq, BPF_ANY))
		kp_drop(KP_DROP_COUNTS_FULL);
	if (s->lost_ring)
		kp_add(id, KP_EV_SPE_LOST_BYTES, KP_SPE_LOST_RING_FULL,
		       s->lost_ring);
	if (s->lost_fault)
		kp_add(id, KP_EV_SPE_LOST_BYTES, KP_SPE_LOST_FAULT,
		       s->lost_fault);
	if (len > (__u64)KP_SPE_MAX_CHUNKS * KP_SPE_CHUNK)
		kp_add(id, KP_EV_SPE_LOST_BYTES, KP_SPE_LOST_TOO_LONG,
		       len - (__u64)KP_SPE_MAX_CHUNKS * KP_SPE_CHUNK);
	return 0;
}

/* Buffer management events injected into the guest, by PMBSR_EL1.EC
 * (Arm ARM D24.x PMBSR_EL1: EC is bits [31:26]). */
SEC("raw_tp/kvm_spe_inject_bme")
int BPF_PROG(kp_spe_inject_bme, struct kvm_vcpu *vcpu, __u64 pmbsr,
	     __u64 pmbptr, __u64 ipa)
{
	kp_add(vcpu_id_of(vcpu), KP_EV_SPE_BME, (__u32)((pmbsr >> 26) & 0x3f),
	       1);
	return 0;
}
