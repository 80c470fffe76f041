// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kvmprof test VMM (see vmm.c for what each command does): what its
 * command files share.
 */
#ifndef KVMPROF_VMM_H
#define KVMPROF_VMM_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/btf.h>
#include <linux/kvm.h>
#include <linux/userfaultfd.h>


#define GUEST_BASE	0x80000000ULL
#define GUEST_SIZE	0x200000ULL
#define MMIO_BASE	0x10000000ULL

/* Doorbells, offsets from MMIO_BASE (see guest.S) */
#define DB_MAIR		0x00
#define DB_VBAR		0x08
#define DB_IDLE		0x10
#define DB_SET_MAIR	0x18
#define DB_MAIR_READ	0x20
#define DB_FAIL		0x28
#define DB_APF_SUM	0x30
#define DB_EXC		0x38
#define DB_PV_NP	0x40
#define DB_PV_READY	0x48
#define DB_PV_WAITS	0x50
#define DB_SPE_DFR0	0x58
#define DB_SPE_ESR	0x60
#define DB_SPE_DONE	0x68
#define DB_PIR		0x80
#define DB_PIRE0	0x88
#define DB_PIR_READ	0x90
#define DB_PIRE0_READ	0x98
#define DB_COST_HVC	0xf0
#define DB_COST_MMIO	0xf8

#define APF_BLOCK	(GUEST_BASE + 0x100000)
#define APF_PPI		20

#define APF_DATA_BASE	0x90000000ULL
#define APF_PATTERN	0x5a5a0000ULL
#define GICD_BASE	0x08000000ULL
#define GICR_BASE	0x080a0000ULL

#define MAIR_MAGIC	0x000000ffbb440400ULL

#define REG_MAIR_EL1		ARM64_SYS_REG(3, 0, 10, 2, 0)
#define REG_AMAIR_EL1		ARM64_SYS_REG(3, 0, 10, 3, 0)
#define REG_VBAR_EL1		ARM64_SYS_REG(3, 0, 12, 0, 0)
#define REG_CONTEXTIDR_EL1	ARM64_SYS_REG(3, 0, 13, 0, 1)
#define REG_TCR_EL1		ARM64_SYS_REG(3, 0, 2, 0, 2)
#define REG_PIR_EL1		ARM64_SYS_REG(3, 0, 10, 2, 3)
#define REG_PIRE0_EL1		ARM64_SYS_REG(3, 0, 10, 2, 2)
#define REG_ID_AA64MMFR3_EL1	ARM64_SYS_REG(3, 0, 0, 7, 3)

#define PIR_MAGIC	0x0f1e2d3c4b5a6978ULL

#define CORE_REG(x)	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
			 (offsetof(struct kvm_regs, x) / sizeof(__u32)))

extern const unsigned char guest_start[], guest_end[], guest_apf[];
extern const unsigned char guest_apf_pv[];
extern const unsigned char guest_spe[];
extern const unsigned char guest_exitcost[];
extern const unsigned char guest_pir_split[], guest_pire0_split[];

struct uffd_ctx {
	int uffd;
	int delay_ms;
	int npages;
	unsigned long base;
	int *faults;
	int resolved;	/* faults copied in */
	int stop;
};

/* vmm.c */
extern int failures;
int vcpu_run(int vcpu, const struct kvm_run *run);
void run_until(int vcpu, struct kvm_run *run,
	       bool (*on_mmio)(struct kvm_run *run, void *arg), void *arg);
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void die(const char *what) __attribute__((noreturn));
void set_reg(int vcpu, __u64 id, __u64 val);
__u64 get_reg(int vcpu, __u64 id);
void print_stats(int vcpu);
void print_acct(const char *command, int vcpu);
int parse_count(const char *s);
void hold_until(const char *file);
int create_guest_vm(int *kvm);
void set_slot(int vm, __u32 slot, __u64 gpa, __u64 size, void *hva);
void create_vgic(int vm, bool init);
int create_vcpu(int kvm, int vm, bool vgic, struct kvm_run **ret_run);
void assign_apf_ppi(int vcpu, int ppi);

/* vmm_apf.c */
void uffd_slot(int vm, __u64 gpa, int npages, int delay_ms,
	       struct uffd_ctx *ctx, pthread_t *thread);

/* the commands */
int cmd_run(int argc, char **argv);
int cmd_exitcost(int argc, char **argv);
int cmd_apf(int argc, char **argv);
int cmd_linux(int argc, char **argv);
int cmd_btf(int argc, char **argv);
int cmd_spe(int argc, char **argv);
int cmd_irqfd(int argc, char **argv);

#endif
