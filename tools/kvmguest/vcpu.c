// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmguest: vCPU setup (CPUID, registers, segments, LAPIC) and whether it
 * is asleep, halted (its "blocking" statistic and its thread's wchan).
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vm_priv.h"

struct kvm_cpuid2 *get_supported_cpuid(struct kg_vm *vm)
{
	for (unsigned int n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c =
			calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

		if (!c)
			return NULL;
		c->nent = n;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG)
			return NULL;
	}
	errno = E2BIG;
	return NULL;
}

/* Finds the "blocking" stat of a vCPU (1 while in kvm_vcpu_block()). */
static int find_blocking_stat(struct kg_vcpu *v)
{
	struct kvm_stats_header h;
	size_t dsz;
	char *descs;
	int ret = -ENOENT;

	if (pread(v->stats_fd, &h, sizeof(h), 0) != sizeof(h))
		return -EIO;
	dsz = sizeof(struct kvm_stats_desc) + h.name_size;
	descs = calloc(h.num_desc, dsz);
	if (!descs)
		return -ENOMEM;
	if (pread(v->stats_fd, descs, h.num_desc * dsz, h.desc_offset) !=
	    (ssize_t)(h.num_desc * dsz)) {
		free(descs);
		return -EIO;
	}
	for (unsigned int i = 0; i < h.num_desc; i++) {
		struct kvm_stats_desc *d = (void *)(descs + i * dsz);

		if (!strncmp(d->name, "blocking", h.name_size)) {
			v->blocking_off = h.data_offset + d->offset;
			ret = 0;
			break;
		}
	}
	free(descs);
	return ret;
}

/*
 * Whether thread @tid of this process is off its CPU, asleep: its wchan
 * (where it sleeps) is known only then (get_wchan(): not running nor
 * queued to run).  -errno when it cannot be read.
 */
static int thread_asleep(pid_t tid)
{
	char path[64], buf[8];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/wchan", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	return !(n == 1 && buf[0] == '0');
}

/*
 * 1 if the vCPU is asleep in the kernel (halted), 0 if not, -errno.
 * KVM's "blocking" stat is 1 from before the vCPU registers its wait and
 * looks for a wake-up (kvm_vcpu_block()): a wake-up sent then ends the
 * halt before the vCPU sleeps, and KVM records no wait for it (seen under
 * make test-nested's emulated CPUs: 439 waits for 441 wake-ups).  So the
 * vCPU thread must also be off its CPU, which it is only after it decided
 * to wait; where its wchan cannot be read, the stat alone.
 */
int vcpu_blocking(const struct kg_vcpu *v)
{
	uint64_t val;
	int asleep;

	if (pread(v->stats_fd, &val, sizeof(val), v->blocking_off) !=
	    sizeof(val))
		return -EIO;
	if (!val)
		return 0;
	asleep = v->tid > 0 ? thread_asleep(v->tid) : -ENOENT;
	return asleep < 0 ? 1 : asleep;
}

static void set_seg(struct kvm_segment *s, uint16_t sel, uint8_t type,
		    bool code)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->dpl = sel & 3;
	s->s = 1;
	s->g = 1;
	s->l = code;
	s->db = !code;
}

int setup_vcpu(struct kg_vm *vm, struct kg_vcpu *v,
	       const struct kvm_cpuid2 *cpuid)
{
	const struct kg_config *c = vm->cfg;
	unsigned int i = v->id;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int mmap_size;

	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
	if (v->fd < 0)
		return vm_fail(vm, -errno, "KVM_CREATE_VCPU %u", i);
	mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < (int)sizeof(struct kvm_run))
		return vm_fail(vm, -EINVAL, "KVM_GET_VCPU_MMAP_SIZE");
	v->run_size = mmap_size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return vm_fail(vm, -errno, "mmap kvm_run of vCPU %u", i);
	}
	if (ioctl(v->fd, KVM_SET_CPUID2, cpuid) < 0)
		return vm_fail(vm, -errno, "KVM_SET_CPUID2 vCPU %u", i);

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return vm_fail(vm, -errno, "KVM_GET_SREGS vCPU %u", i);
	/* Long mode, paging, CPL0; kernel_entry IRETQs to CPL3. */
	sregs.cr0 = 0x80050033; /* PG WP NE ET MP PE */
	sregs.cr3 = PML4_GPA;
	sregs.cr4 = 0x620;  /* OSXMMEXCPT OSFXSR PAE */
	sregs.efer = 0x500; /* LMA LME */
	set_seg(&sregs.cs, KERNEL_CS, 0xb, true);
	set_seg(&sregs.ds, USER_DS, 0x3, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ds;
	set_seg(&sregs.ss, KERNEL_DS, 0x3, false);
	memset(&sregs.tr, 0, sizeof(sregs.tr));
	sregs.tr.base = cpu_area(i) + CPU_TSS_OFF;
	sregs.tr.limit = TSS_LIMIT;
	sregs.tr.selector = TSS_SEL0 + 16 * i;
	sregs.tr.type = 0xb; /* busy 64-bit TSS */
	sregs.tr.present = 1;
	memset(&sregs.ldt, 0, sizeof(sregs.ldt));
	sregs.ldt.type = 0x2;
	sregs.ldt.unusable = 1;
	sregs.gdt.base = GDT_GPA;
	sregs.gdt.limit = TSS_SEL0 + 16 * vm->nvcpus - 1;
	sregs.idt.base = IDT_GPA;
	sregs.idt.limit = 256 * 16 - 1;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return vm_fail(vm, -errno, "KVM_SET_SREGS vCPU %u", i);

	memset(&regs, 0, sizeof(regs));
	regs.rip = vm->entry[HDR_ENTRY / 8];
	regs.rsp = cpu_area(i) + CPU_KSTACK_TOP;
	regs.rflags = 0x2;
	regs.rdi = cpu_area(i);
	regs.rdx = cpu_area(i) + CPU_USTACK_TOP;
	/* CPL3 RFLAGS: IOPL=3; IF=1 when there are interrupts to take. */
	regs.rsi = 0x3002 | (c->irqchip ? 0x200 : 0);
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return vm_fail(vm, -errno, "KVM_SET_REGS vCPU %u", i);

	if (c->irqchip) {
		struct {
			struct kvm_msrs hdr;
			struct kvm_msr_entry e;
		} msrs = { .hdr.nmsrs = 1 };
		struct kvm_lapic_state lapic;
		struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
		uint32_t spiv;

		/* x2APIC mode: the guest EOIs with WRMSR, not MMIO. */
		msrs.e.index = MSR_IA32_APICBASE;
		msrs.e.data = APIC_DEFAULT_BASE | APICBASE_ENABLE |
			      APICBASE_EXTD | (i == 0 ? APICBASE_BSP : 0);
		if (ioctl(v->fd, KVM_SET_MSRS, &msrs) != 1)
			return vm_fail(
				vm, -EINVAL,
				"KVM_SET_MSRS APIC base (x2APIC) vCPU %u", i);
		/* Software-enable the local APIC (SVR bit 8). */
		if (ioctl(v->fd, KVM_GET_LAPIC, &lapic) < 0)
			return vm_fail(vm, -errno, "KVM_GET_LAPIC vCPU %u", i);
		memcpy(&spiv, lapic.regs + APIC_SPIV, 4);
		spiv |= APIC_SPIV_ENABLE | 0xff;
		memcpy(lapic.regs + APIC_SPIV, &spiv, 4);
		if (ioctl(v->fd, KVM_SET_LAPIC, &lapic) < 0)
			return vm_fail(vm, -errno, "KVM_SET_LAPIC vCPU %u", i);
		/* APs would otherwise wait for INIT/SIPI. */
		if (ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0)
			return vm_fail(vm, -errno, "KVM_SET_MP_STATE vCPU %u",
				       i);
	}

	if (c->irqchip && c->hlt) {
		int err;

		v->stats_fd = ioctl(v->fd, KVM_GET_STATS_FD, 0);
		if (v->stats_fd < 0)
			return vm_fail(
				vm, -errno,
				"KVM_GET_STATS_FD vCPU %u (needed for --hlt with --irqchip)",
				i);
		err = find_blocking_stat(v);
		if (err)
			return vm_fail(vm, err,
				       "vCPU %u: no \"blocking\" statistic", i);
	}
	return 0;
}
