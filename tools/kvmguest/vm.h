/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kvmguest: the VM layer.  Builds a long-mode guest on /dev/kvm, runs one
 * thread per vCPU, and drives the guest's workload (guest.S) from the
 * controlling thread: HLT wake-ups, MSIs, stop on time-out or signal.
 *
 * Helpers return 0 or a negative errno; on failure vm->err holds a
 * human-readable description of what failed.  Nothing here prints.
 */
#ifndef KVMGUEST_VM_H
#define KVMGUEST_VM_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "guest_abi.h"

/* Exit reasons we keep counts for: 0..KG_NR_EXITS-1 (KVM_EXIT_*). */
#define KG_NR_EXITS 64

struct kg_config {
	const char *name;	/* --name, NULL if not given */
	unsigned int nvcpus;	/* 1..MAX_VCPUS */
	/* Totals over all vCPUs (per round in loop mode). */
	uint64_t pio_out, pio_in, mmio_write, mmio_read;
	uint64_t hlt, msi, touch_pages;
	uint16_t pio_port;
	bool irqchip;
	bool loop;		/* --duration or --repeat */
	double duration;	/* seconds, 0 = none */
	double timeout;		/* seconds, 0 = none */
	bool uffd;		/* back the touch area with userfaultfd */
	unsigned int uffd_delay_ms;
	unsigned int msi_interval_ms;	/* periodic MSIs while touching */
	bool vm_stats_fd; /* keep a KVM_GET_STATS_FD of the VM open */
};

/* Work share of vCPU @i out of @n for a total of @total (see docs). */
static inline uint64_t kg_split(uint64_t total, unsigned int n, unsigned int i)
{
	return total / n + (i < total % n ? 1 : 0);
}

struct kg_vm;

struct kg_vcpu {
	struct kg_vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *pb;		/* host view of the parameter block */
	int stats_fd;		/* KVM_GET_STATS_FD, -1 if unavailable */
	uint64_t blocking_off;	/* file offset of the "blocking" stat */
	pthread_t thread;
	bool started;
	pid_t tid;
	volatile int stop;	/* set by the controller before the kick */
	volatile int exited;	/* thread left its KVM_RUN loop */
	int err;		/* -errno from the thread, 0 if none */
	char errmsg[256];
	/* KVM_RUN returns by exit reason (KVM_EXIT_INTR for -EINTR). */
	uint64_t exits[KG_NR_EXITS];
	uint64_t exits_other;	/* reasons >= KG_NR_EXITS */
	uint64_t runs;		/* all KVM_RUN returns */
	/* Controller-side bookkeeping. */
	uint64_t wakes_sent;	/* WAKE_VECTOR MSIs sent */
	uint64_t msi_sent;	/* MSI_VECTOR MSIs sent */
	uint64_t periodic_msi_sent;	/* --msi-interval-ms MSIs sent */
};

struct kg_uffd;

struct kg_vm {
	const struct kg_config *cfg;
	int kvm_fd, vm_fd;
	int vm_stats_fd;	/* --vm-stats-fd, else -1 */
	uint8_t *low;		/* slot 0 */
	size_t low_size;
	uint8_t *touch;		/* slot 1 (page-touch area), may be NULL */
	size_t touch_size;
	uint64_t entry[HDR_SIZE / 8];	/* guest code header */
	unsigned int nvcpus;
	struct kg_vcpu vcpus[MAX_VCPUS];
	uint64_t msi_ioctls;	/* every KVM_SIGNAL_MSI issued */
	struct kg_uffd *uffd;	/* --uffd state, NULL if off */
	bool halt_poll_off;	/* KVM_CAP_HALT_POLL set to 0 */
	bool interrupted;	/* stopped by SIGINT/SIGTERM */
	int signo;		/* that signal */
	double elapsed;		/* seconds from start until all done */
	char err[320];		/* description of the first failure */
	bool err_complete;	/* err needs no strerror() appended */
};

/* Opens /dev/kvm; -ENOENT/-EACCES/-ENODEV etc. mean "no KVM here". */
int kg_vm_open(struct kg_vm *vm, const struct kg_config *cfg);
/* Creates the VM, memory, tables, vCPUs. */
int kg_vm_setup(struct kg_vm *vm);
/*
 * Runs the workload to the end (or until time-out / SIGINT / SIGTERM,
 * which the caller must have blocked in every thread).  Returns 0 when
 * every vCPU finished (also after a stop), negative errno on failure.
 */
int kg_vm_run(struct kg_vm *vm);
void kg_vm_close(struct kg_vm *vm);

/* KVM_SIGNAL_MSI: fixed @vector to APIC ID @apic_id; counted. */
int kg_vm_send_msi(struct kg_vm *vm, unsigned int apic_id,
		   unsigned int vector);

/* Guest-written parameter-block field @off of @v. */
uint64_t kg_pb_get(const struct kg_vcpu *v, unsigned int off);

/* Name for a KVM_EXIT_* reason ("IO", "MMIO", ...), NULL if unknown. */
const char *kg_exit_name(unsigned int reason);

#endif
