/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * KVM's own statistics of each VM (kvmstats.c): the binary stats fds
 * (KVM_GET_STATS_FD) that the VMM holds, copied into kvmprofd with
 * pidfd_getfd() and read with the descriptors they carry
 * (kvmprof/kvmstats.h).
 *
 * Why the VMM's stats fds and not its VM fd: KVM refuses every ioctl on a
 * VM or vCPU fd from a process other than the one that created the VM
 * (kvm_vm_ioctl()/kvm_vcpu_ioctl(): kvm->mm != current->mm gives -EIO), so
 * a copied VM fd cannot make a stats fd; a stats fd is read() only and
 * checks no mm.  VMMs that keep none (they open them for a query and
 * close them) show "no stats fds" with that reason.
 *
 * Privilege: pidfd_getfd() needs PTRACE_MODE_ATTACH_REALCREDS on the VMM,
 * i.e. CAP_SYS_PTRACE for a VMM of another user (or any VMM under Yama
 * ptrace_scope >= 1).  kvmprofd keeps CAP_SYS_PTRACE permitted but not
 * effective after attach, raising it around pidfd_getfd() only
 * (kvm-stats = no: not kept at all).  What it gets is read-only: the
 * stats fd, which cannot touch the guest.
 *
 * Lifetime: a stats fd holds a reference on the VM (struct kvm), so when
 * the VMM exits kvmprofd reads the final values at the next harvest and
 * closes the fds then: the VM's KVM state outlives its VMM by at most one
 * harvest interval, and its final values stay served for its grace
 * period.
 */
#ifndef KVMPROFD_KVMSTATS_H
#define KVMPROFD_KVMSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <kvmprof/kvmstats.h>
#include "kvmstats_debugfs.h"

struct registry;
struct vm;

#define KS_MAX_SCHEMAS 8      /* distinct descriptor sets (vm, vcpu, ...) */
#define KS_MAX_FDS 4097	      /* stats fds per VM: its own + 4096 vCPUs */
#define KS_MAX_SCAN_FDS 65536 /* fds of a VMM looked at per scan */
#define KS_MAX_KNOWN 262144   /* pids remembered by --no-bpf discovery */
#define KS_FULL_PASS_MS 10000 /* every process looked at again */
#define KS_NEW_MS 3000 /* a process is new (looked at each pass) this long */

/* One stats fd copied from the VMM. */
struct ks_fd {
	int fd;	      /* ours; -1 once closed (final) */
	int32_t vcpu; /* -1: the VM's own statistics */
	const struct kp_ks_schema *schema;
	char id[KP_KS_ID_MAX]; /* the fd's id string */
	uint64_t *vals;	       /* last read, schema->nvalues */
	bool have_vals;
};

/* A VM's statistics (vm->ks). */
struct vm_ks {
	struct ks_fd *fds; /* the VM's first (if any), then vCPUs */
	size_t nfds;
	uint32_t vcpu_fds; /* KVM vCPU fds the VMM held at last scan */
	bool is_vmm;	   /* it held a KVM VM fd */
	bool final;	   /* VMM gone: values final, fds closed */
	int err;	   /* last scan's error (-errno), 0 */
	char reason[256];  /* why nothing or not everything is read */
	/* no stats fds: KVM's debugfs files of the VM, or NULL */
	struct ks_debugfs *dbg;
	uint64_t next_scan_ms, backoff_ms;
};

struct ks_pid {
	uint32_t pid;
	uint64_t first_ms;
};

struct kvmstats {
	bool enabled;
	struct kp_ks_schema schemas[KS_MAX_SCHEMAS];
	size_t nschemas;
	/* raise/lower CAP_SYS_PTRACE around pidfd_getfd() (privs.c); NULL:
	 * not kept */
	int (*ptrace_cap)(bool on);
	const char *debugfs_root; /* KS_DEBUGFS_ROOT (tests: another) */
	uint64_t scans, fds_taken, errors;
	/* --no-bpf discovery: pids seen, sorted, with when first seen;
	 * between full passes only pids seen for less than KS_NEW_MS are
	 * looked at */
	struct ks_pid *known;
	size_t nknown;
	uint64_t next_full_ms;
	void (*next_free)(void *arg, struct vm *vm); /* chained hook */
	void *next_free_arg;
};

/* Hook into @reg (after spe_capture_init(): the hooks chain). */
void kvmstats_init(struct kvmstats *ks, struct registry *reg, bool enabled);
void kvmstats_fini(struct kvmstats *ks, struct registry *reg);

/*
 * Each harvest, after registry_mark_exited(): VMs found gone get their
 * final values read and their fds closed; running VMs are scanned for
 * stats fds when due (new VMs at once, then backing off to a minute while
 * the VMM holds fewer stats fds than vCPUs).
 */
void kvmstats_tick(struct kvmstats *ks, struct registry *reg, uint64_t now_ms);

/* A VM just announced (its first event, from a running vCPU): scan it now,
 * so that a short-lived VMM's stats fds are held before it exits. */
void kvmstats_new_vm(struct kvmstats *ks, struct vm *vm, uint64_t now_ms);

/* Read @vm's values now (running VMs; final ones are kept). */
void kvmstats_refresh(struct kvmstats *ks, struct vm *vm);
/* The same for a VM's state @k (may be NULL). */
void kvmstats_read(struct vm_ks *k);

/* GET /v1/vms/{ref}/kvm-stats: the values just read. */
cJSON *kvmstats_json(struct kvmstats *ks, struct vm *vm);

/*
 * --no-bpf: VMMs found through /proc (a process holding an
 * "anon_inode:kvm-vm" fd) into @reg.  Every process's fd links are read
 * once per KS_FULL_PASS_MS, a new process's (KS_NEW_MS) at every call: a
 * VMM that makes its VM later than that is found at the next full pass.
 * Returns VMs added, or -errno.
 */
int kvmstats_discover(struct kvmstats *ks, struct registry *reg,
		      uint64_t now_ms);

/* Per-fd classification of a /proc/PID/fd link target: 1 VM stats fd,
 * 2 vCPU stats fd (*@vcpu), 3 VM fd, 4 vCPU fd, 0 other. */
int kvmstats_classify(const char *target, int32_t *vcpu);

#endif
