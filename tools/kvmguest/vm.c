// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmguest: VM construction and the run loops.  See vm.h and guest_abi.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <kvmprof/util.h>
#include "uffd.h"
#include "vm.h"

/* The guest program, flattened (guest_blob.S). */
extern const uint8_t kvmguest_blob[];
extern const uint8_t kvmguest_blob_end[];

#define KICK_SIGNAL	SIGUSR1

/* Page-table entry bits. */
#define PTE_P		0x001ULL
#define PTE_RW		0x002ULL
#define PTE_US		0x004ULL
#define PTE_PWT		0x008ULL
#define PTE_PCD		0x010ULL
#define PTE_PS		0x080ULL
#define PTE_TABLE	(PTE_P | PTE_RW | PTE_US)

#define MSR_IA32_APICBASE	0x1b
#define APICBASE_BSP		(1ULL << 8)
#define APICBASE_EXTD		(1ULL << 10)
#define APICBASE_ENABLE		(1ULL << 11)
#define APIC_DEFAULT_BASE	0xfee00000ULL
#define APIC_SPIV		0xf0		/* offset in kvm_lapic_state */
#define APIC_SPIV_ENABLE	0x100

/* Max touch pages: 16 Mi pages = 64 GiB of guest-virtual space. */
#define MAX_TOUCH_PAGES		(1ULL << 24)

/* Records the first failure's description in vm->err; returns @err. */
static int __attribute__((format(printf, 3, 4)))
vm_fail(struct kg_vm *vm, int err, const char *fmt, ...)
{
	va_list ap;

	if (!vm->err[0]) {
		va_start(ap, fmt);
		vsnprintf(vm->err, sizeof(vm->err), fmt, ap);
		va_end(ap);
	}
	return err;
}

/* ------------------------------------------------- parameter blocks */

static inline uint64_t *pb_field(const struct kg_vcpu *v, unsigned int off)
{
	return (uint64_t *)(v->pb + off);
}

uint64_t kg_pb_get(const struct kg_vcpu *v, unsigned int off)
{
	return __atomic_load_n(pb_field(v, off), __ATOMIC_ACQUIRE);
}

static void pb_set(struct kg_vcpu *v, unsigned int off, uint64_t val)
{
	__atomic_store_n(pb_field(v, off), val, __ATOMIC_RELEASE);
}

/* --------------------------------------------------------- exit names */

static const char *const exit_names[] = {
	[KVM_EXIT_UNKNOWN] = "UNKNOWN",
	[KVM_EXIT_EXCEPTION] = "EXCEPTION",
	[KVM_EXIT_IO] = "IO",
	[KVM_EXIT_HYPERCALL] = "HYPERCALL",
	[KVM_EXIT_DEBUG] = "DEBUG",
	[KVM_EXIT_HLT] = "HLT",
	[KVM_EXIT_MMIO] = "MMIO",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
	[KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
	[KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
	[KVM_EXIT_INTR] = "INTR",
	[KVM_EXIT_SET_TPR] = "SET_TPR",
	[KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
	[KVM_EXIT_NMI] = "NMI",
	[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
	[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
	[KVM_EXIT_IOAPIC_EOI] = "IOAPIC_EOI",
	[KVM_EXIT_HYPERV] = "HYPERV",
	[KVM_EXIT_X86_RDMSR] = "X86_RDMSR",
	[KVM_EXIT_X86_WRMSR] = "X86_WRMSR",
	[KVM_EXIT_DIRTY_RING_FULL] = "DIRTY_RING_FULL",
	[KVM_EXIT_X86_BUS_LOCK] = "X86_BUS_LOCK",
	[KVM_EXIT_XEN] = "XEN",
	[KVM_EXIT_NOTIFY] = "NOTIFY",
	[39] = "MEMORY_FAULT",	/* KVM_EXIT_MEMORY_FAULT, newer headers */
};

const char *kg_exit_name(unsigned int reason)
{
	if (reason < ARRAY_SIZE(exit_names))
		return exit_names[reason];
	return NULL;
}

/* ------------------------------------------------------------- setup */

int kg_vm_open(struct kg_vm *vm, const struct kg_config *cfg)
{
	int ver;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->kvm_fd = vm->vm_fd = -1;
	for (unsigned int i = 0; i < MAX_VCPUS; i++) {
		vm->vcpus[i].fd = -1;
		vm->vcpus[i].stats_fd = -1;
	}
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return vm_fail(vm, -errno, "open /dev/kvm");
	ver = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION)
		return vm_fail(vm, -ENOTSUP, "KVM API version %d, need %d",
			       ver, KVM_API_VERSION);
	return 0;
}

/* Number of 4 KiB page-table pages the touch area needs (PDs + PTs). */
static uint64_t touch_pt_pages(uint64_t pages)
{
	uint64_t pts = (pages + 511) / 512;
	uint64_t pds = (pts + 511) / 512;

	return pts + pds;
}

static int setup_memory(struct kg_vm *vm)
{
	const struct kg_config *cfg = vm->cfg;
	struct kvm_userspace_memory_region slot = { 0 };
	uint64_t pool = touch_pt_pages(cfg->touch_pages) * PAGE_SIZE_4K;
	size_t blob = kvmguest_blob_end - kvmguest_blob;

	if (cfg->touch_pages > MAX_TOUCH_PAGES)
		return vm_fail(vm, -E2BIG, "--touch-pages: at most %llu",
			       (unsigned long long)MAX_TOUCH_PAGES);
	if (blob > GUEST_CODE_MAX || blob < HDR_SIZE)
		return vm_fail(vm, -EINVAL, "guest blob has bad size %zu", blob);

	/* Slot 0: tables, code, vCPU areas, page-table pool. */
	vm->low_size = (LOW_MEM_SIZE + pool + 0x1fffff) & ~0x1fffffULL;
	vm->low = mmap(NULL, vm->low_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->low == MAP_FAILED) {
		vm->low = NULL;
		return vm_fail(vm, -errno, "mmap guest memory (%zu bytes)",
			       vm->low_size);
	}
	slot.slot = 0;
	slot.guest_phys_addr = 0;
	slot.memory_size = vm->low_size;
	slot.userspace_addr = (uintptr_t)vm->low;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		return vm_fail(vm, -errno, "KVM_SET_USER_MEMORY_REGION slot 0");

	/* Guest code and its header. */
	memcpy(vm->low + GUEST_CODE_GPA, kvmguest_blob, blob);
	memcpy(vm->entry, kvmguest_blob, HDR_SIZE);
	if (vm->entry[HDR_MAGIC / 8] != GUEST_MAGIC)
		return vm_fail(vm, -EINVAL, "guest blob has a bad magic");

	if (!cfg->touch_pages)
		return 0;

	/*
	 * Slot 1: the page-touch area.  No transparent huge pages, so that
	 * every 4 KiB guest page is its own host page and its own fault.
	 */
	vm->touch_size = cfg->touch_pages * PAGE_SIZE_4K;
	vm->touch = mmap(NULL, vm->touch_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->touch == MAP_FAILED) {
		vm->touch = NULL;
		return vm_fail(vm, -errno, "mmap page-touch area (%zu bytes)",
			       vm->touch_size);
	}
	if (madvise(vm->touch, vm->touch_size, MADV_NOHUGEPAGE) < 0)
		return vm_fail(vm, -errno, "madvise(MADV_NOHUGEPAGE)");
	if (cfg->uffd) {
		int err = kg_uffd_start(vm);

		if (err)
			return err;
	}
	slot.slot = 1;
	slot.guest_phys_addr = TOUCH_GPA;
	slot.memory_size = vm->touch_size;
	slot.userspace_addr = (uintptr_t)vm->touch;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		return vm_fail(vm, -errno, "KVM_SET_USER_MEMORY_REGION slot 1");
	return 0;
}

static uint64_t *gpa_u64(struct kg_vm *vm, uint64_t gpa)
{
	return (uint64_t *)(vm->low + gpa);
}

/*
 * Identity map: 0..1 GiB and the 2 MiB page holding MMIO_GPA with 2 MiB
 * pages, the touch area with 4 KiB pages (tables from the pool).  Every
 * level is user-accessible: the workload runs at CPL3.
 */
static void setup_page_tables(struct kg_vm *vm)
{
	uint64_t *pml4 = gpa_u64(vm, PML4_GPA);
	uint64_t *pdpt = gpa_u64(vm, PDPT_GPA);
	uint64_t *pd_low = gpa_u64(vm, PD_LOW_GPA);
	uint64_t *pd_mmio = gpa_u64(vm, PD_MMIO_GPA);
	uint64_t pages = vm->cfg->touch_pages;
	uint64_t next = PT_POOL_GPA;

	pml4[0] = PDPT_GPA | PTE_TABLE;
	pdpt[0] = PD_LOW_GPA | PTE_TABLE;
	for (uint64_t i = 0; i < 512; i++)
		pd_low[i] = (i << 21) | PTE_TABLE | PTE_PS;
	pdpt[MMIO_GPA >> 30] = PD_MMIO_GPA | PTE_TABLE;
	pd_mmio[(MMIO_GPA >> 21) & 511] = (MMIO_GPA & ~0x1fffffULL) |
		PTE_TABLE | PTE_PS | PTE_PCD | PTE_PWT;

	for (uint64_t p = 0; p < pages; p++) {
		uint64_t va = TOUCH_GPA + p * PAGE_SIZE_4K;
		uint64_t *pde_tab, *pte_tab;
		unsigned int i3 = (va >> 30) & 511, i2 = (va >> 21) & 511;

		if (!(pdpt[i3] & PTE_P)) {
			pdpt[i3] = next | PTE_TABLE;
			next += PAGE_SIZE_4K;
		}
		pde_tab = gpa_u64(vm, pdpt[i3] & ~0xfffULL);
		if (!(pde_tab[i2] & PTE_P)) {
			pde_tab[i2] = next | PTE_TABLE;
			next += PAGE_SIZE_4K;
		}
		pte_tab = gpa_u64(vm, pde_tab[i2] & ~0xfffULL);
		pte_tab[(va >> 12) & 511] = va | PTE_TABLE;
	}
}

static uint64_t cpu_area(unsigned int i)
{
	return CPU_AREA_GPA + (uint64_t)i * CPU_AREA_SIZE;
}

/* 16-byte IDT gate to @handler: interrupt gate, DPL @dpl. */
static void set_gate(struct kg_vm *vm, unsigned int vec, uint64_t handler,
		     unsigned int dpl)
{
	uint64_t *g = gpa_u64(vm, IDT_GPA + vec * 16);

	g[0] = (handler & 0xffff) | ((uint64_t)KERNEL_CS << 16) |
	       ((uint64_t)(0x8e | dpl << 5) << 40) |
	       ((handler >> 16 & 0xffff) << 48);
	g[1] = handler >> 32;
}

/* GDT, per-vCPU TSS descriptors and TSSs, IDT. */
static void setup_descriptors(struct kg_vm *vm)
{
	uint64_t *gdt = gpa_u64(vm, GDT_GPA);

	gdt[0] = 0;
	gdt[KERNEL_CS >> 3] = 0x00af9a000000ffffULL;	/* 64-bit code DPL0 */
	gdt[KERNEL_DS >> 3] = 0x00cf92000000ffffULL;	/* data DPL0 */
	gdt[USER_DS >> 3] = 0x00cff2000000ffffULL;	/* data DPL3 */
	gdt[USER_CS >> 3] = 0x00affa000000ffffULL;	/* 64-bit code DPL3 */

	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		uint64_t tss = cpu_area(i) + CPU_TSS_OFF;
		uint8_t *t = vm->low + tss;
		uint64_t rsp0 = cpu_area(i) + CPU_KSTACK_TOP;
		uint16_t iopb = TSS_BASE_SIZE;
		unsigned int d = (TSS_SEL0 >> 3) + 2 * i;

		/*
		 * RSP0 for interrupts from CPL3, and an all-zero I/O
		 * permission bitmap (plus the 0xff terminator): every port
		 * is allowed at CPL3.  kvm_pvm checks the bitmap; IOPL=3 in
		 * RFLAGS alone is not enough there.
		 */
		memset(t, 0, TSS_LIMIT + 1);
		memcpy(t + 4, &rsp0, 8);
		memcpy(t + 102, &iopb, 2);
		t[TSS_LIMIT] = 0xff;
		/* 64-bit TSS, busy (TR is loaded through KVM_SET_SREGS). */
		gdt[d] = (TSS_LIMIT & 0xffff) | (tss & 0xffffff) << 16 |
			 0x8bULL << 40 | (uint64_t)(TSS_LIMIT >> 16) << 48 |
			 (tss >> 24 & 0xff) << 56;
		gdt[d + 1] = tss >> 32;
	}

	for (unsigned int v = 0; v < 32; v++)
		set_gate(vm, v, vm->entry[HDR_EXC_STUBS / 8] +
			 v * EXC_STUB_SIZE, 0);
	set_gate(vm, 13, vm->entry[HDR_GP_ENTRY / 8], 0);
	set_gate(vm, WAKE_VECTOR, vm->entry[HDR_WAKE_ISR / 8], 0);
	set_gate(vm, MSI_VECTOR, vm->entry[HDR_MSI_ISR / 8], 0);
	set_gate(vm, PERIODIC_VECTOR, vm->entry[HDR_PERIODIC_ISR / 8], 0);
}

/* Fills vCPU @i's parameter block with its share of the work. */
static void setup_pb(struct kg_vm *vm, struct kg_vcpu *v)
{
	const struct kg_config *c = vm->cfg;
	unsigned int n = vm->nvcpus, i = v->id;
	uint64_t first_page = 0;

	for (unsigned int j = 0; j < i; j++)
		first_page += kg_split(c->touch_pages, n, j);
	memset(v->pb, 0, PB_SIZE);
	pb_set(v, PB_PIO_OUT, kg_split(c->pio_out, n, i));
	pb_set(v, PB_PIO_IN, kg_split(c->pio_in, n, i));
	pb_set(v, PB_MMIO_WRITE, kg_split(c->mmio_write, n, i));
	pb_set(v, PB_MMIO_READ, kg_split(c->mmio_read, n, i));
	pb_set(v, PB_TOUCH_PAGES, kg_split(c->touch_pages, n, i));
	pb_set(v, PB_TOUCH_BASE, TOUCH_GPA + first_page * PAGE_SIZE_4K);
	pb_set(v, PB_HLT, kg_split(c->hlt, n, i));
	pb_set(v, PB_MSI, kg_split(c->msi, n, i));
	pb_set(v, PB_PIO_PORT, c->pio_port);
	pb_set(v, PB_MMIO_ADDR, MMIO_GPA);
	pb_set(v, PB_FLAGS, c->loop ? PBF_LOOP : 0);
}

static struct kvm_cpuid2 *get_supported_cpuid(struct kg_vm *vm)
{
	for (unsigned int n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) +
					      n * sizeof(c->entries[0]));

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

/* 1 if the vCPU is blocked in the kernel (halted), 0 if not, -errno. */
static int vcpu_blocking(const struct kg_vcpu *v)
{
	uint64_t val;

	if (pread(v->stats_fd, &val, sizeof(val), v->blocking_off) !=
	    sizeof(val))
		return -EIO;
	return val != 0;
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

static int setup_vcpu(struct kg_vm *vm, struct kg_vcpu *v,
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
	sregs.cr0 = 0x80050033;	/* PG WP NE ET MP PE */
	sregs.cr3 = PML4_GPA;
	sregs.cr4 = 0x620;	/* OSXMMEXCPT OSFXSR PAE */
	sregs.efer = 0x500;	/* LMA LME */
	set_seg(&sregs.cs, KERNEL_CS, 0xb, true);
	set_seg(&sregs.ds, USER_DS, 0x3, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ds;
	set_seg(&sregs.ss, KERNEL_DS, 0x3, false);
	memset(&sregs.tr, 0, sizeof(sregs.tr));
	sregs.tr.base = cpu_area(i) + CPU_TSS_OFF;
	sregs.tr.limit = TSS_LIMIT;
	sregs.tr.selector = TSS_SEL0 + 16 * i;
	sregs.tr.type = 0xb;	/* busy 64-bit TSS */
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
			return vm_fail(vm, -EINVAL,
				       "KVM_SET_MSRS APIC base (x2APIC) vCPU %u",
				       i);
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
			return vm_fail(vm, -errno,
				       "KVM_GET_STATS_FD vCPU %u (needed for --hlt with --irqchip)",
				       i);
		err = find_blocking_stat(v);
		if (err)
			return vm_fail(vm, err,
				       "vCPU %u: no \"blocking\" statistic", i);
	}
	return 0;
}

int kg_vm_setup(struct kg_vm *vm)
{
	const struct kg_config *c = vm->cfg;
	struct kvm_cpuid2 *cpuid;
	int err;

	vm->nvcpus = c->nvcpus;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return vm_fail(vm, -errno, "KVM_CREATE_VM");
	if (c->irqchip) {
		struct kvm_enable_cap cap = { .cap = KVM_CAP_HALT_POLL };

		if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
			return vm_fail(vm, -errno, "KVM_CREATE_IRQCHIP");
		/*
		 * No halt polling: a HLT blocks at once, so the wake-up MSI
		 * follows quickly.  Optional: older kernels lack the cap.
		 */
		vm->halt_poll_off =
			ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) == 0;
	}
	err = setup_memory(vm);
	if (err)
		return err;
	setup_page_tables(vm);
	setup_descriptors(vm);

	cpuid = get_supported_cpuid(vm);
	if (!cpuid)
		return vm_fail(vm, -errno, "KVM_GET_SUPPORTED_CPUID");
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		struct kg_vcpu *v = &vm->vcpus[i];

		v->vm = vm;
		v->id = i;
		v->pb = vm->low + cpu_area(i);
		setup_pb(vm, v);
		err = setup_vcpu(vm, v, cpuid);
		if (err)
			break;
	}
	free(cpuid);
	return err;
}

/* ------------------------------------------------------------ running */

static void kick_handler(int sig)
{
	(void)sig;
}

/* Records a vCPU thread failure (read by the controller). */
static int __attribute__((format(printf, 3, 4)))
vcpu_fail(struct kg_vcpu *v, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->errmsg, sizeof(v->errmsg), fmt, ap);
	va_end(ap);
	v->err = err;
	return err;
}

static int handle_io(struct kg_vcpu *v)
{
	struct kvm_run *r = v->run;
	uint8_t *data = (uint8_t *)r + r->io.data_offset;

	if (r->io.port == FAULT_PORT)
		return vcpu_fail(v, -EFAULT,
				 "vCPU %u: guest exception %llu (error code %#llx) at rip %#llx (cs %#llx, rflags %#llx), cr2 %#llx",
				 v->id,
				 (unsigned long long)kg_pb_get(v, PB_FAULT_VEC),
				 (unsigned long long)kg_pb_get(v, PB_FAULT_ERR),
				 (unsigned long long)kg_pb_get(v, PB_FAULT_RIP),
				 (unsigned long long)kg_pb_get(v, PB_FAULT_CS),
				 (unsigned long long)kg_pb_get(v, PB_FAULT_RFLAGS),
				 (unsigned long long)kg_pb_get(v, PB_FAULT_CR2));
	if (r->io.port != v->vm->cfg->pio_port || r->io.size != 1 ||
	    r->io.count != 1)
		return vcpu_fail(v, -EPROTO,
				 "vCPU %u: unexpected port I/O: port %#x size %u count %u",
				 v->id, r->io.port, r->io.size, r->io.count);
	if (r->io.direction == KVM_EXIT_IO_IN)
		*data = 0;
	return 0;
}

static int handle_mmio(struct kg_vcpu *v)
{
	struct kvm_run *r = v->run;

	if (r->mmio.phys_addr != MMIO_GPA || r->mmio.len != 4)
		return vcpu_fail(v, -EPROTO,
				 "vCPU %u: unexpected MMIO at %#llx len %u",
				 v->id, (unsigned long long)r->mmio.phys_addr,
				 r->mmio.len);
	if (!r->mmio.is_write)
		memset(r->mmio.data, 0, sizeof(r->mmio.data));
	return 0;
}

/* Handles one KVM_RUN return; 1 = leave the loop, 0 = go on, -errno. */
static int handle_exit(struct kg_vcpu *v)
{
	struct kvm_run *r = v->run;

	switch (r->exit_reason) {
	case KVM_EXIT_IO:
		return handle_io(v);
	case KVM_EXIT_MMIO:
		return handle_mmio(v);
	case KVM_EXIT_HLT:
		if (v->vm->cfg->irqchip)
			return vcpu_fail(v, -EPROTO,
					 "vCPU %u: KVM_EXIT_HLT despite the in-kernel irqchip",
					 v->id);
		return 0;
	case KVM_EXIT_FAIL_ENTRY:
		return vcpu_fail(v, -EIO,
				 "vCPU %u: KVM_EXIT_FAIL_ENTRY, reason %#llx",
				 v->id, (unsigned long long)
				 r->fail_entry.hardware_entry_failure_reason);
	case KVM_EXIT_INTERNAL_ERROR:
		return vcpu_fail(v, -EIO,
				 "vCPU %u: KVM_EXIT_INTERNAL_ERROR, suberror %u",
				 v->id, r->internal.suberror);
	default: {
		const char *n = kg_exit_name(r->exit_reason);

		return vcpu_fail(v, -EPROTO, "vCPU %u: unexpected exit %s (%u)",
				 v->id, n ? n : "?", r->exit_reason);
	}
	}
}

static void *vcpu_thread(void *arg)
{
	struct kg_vcpu *v = arg;
	char name[16];
	sigset_t set;

	snprintf(name, sizeof(name), "vcpu%u", v->id);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	v->tid = gettid();
	/* Everything stays blocked (inherited) except the kick. */
	sigemptyset(&set);
	sigaddset(&set, KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	for (;;) {
		int r = ioctl(v->fd, KVM_RUN, 0);

		v->runs++;
		if (r < 0 && errno == EINTR) {
			v->exits[KVM_EXIT_INTR]++;
			if (v->stop)
				break;
			continue;
		}
		if (r < 0) {
			vcpu_fail(v, -errno, "vCPU %u: KVM_RUN: %s", v->id,
				  strerror(errno));
			break;
		}
		if (v->run->exit_reason < KG_NR_EXITS)
			v->exits[v->run->exit_reason]++;
		else
			v->exits_other++;
		if (handle_exit(v))
			break;
	}
	__atomic_store_n(&v->exited, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Kicks a vCPU out of KVM_RUN for good. */
static void vcpu_kick(struct kg_vcpu *v)
{
	if (!v->started || v->exited)
		return;
	v->stop = 1;
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
	pthread_kill(v->thread, KICK_SIGNAL);
}

int kg_vm_send_msi(struct kg_vm *vm, unsigned int apic_id,
		   unsigned int vector)
{
	struct kvm_msi msi = {
		.address_lo = APIC_DEFAULT_BASE | apic_id << 12,
		.data = vector,	/* fixed delivery, edge */
	};
	int r = ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi);

	vm->msi_ioctls++;
	if (r < 0)
		return vm_fail(vm, -errno, "KVM_SIGNAL_MSI to vCPU %u",
			       apic_id);
	if (r == 0)
		return vm_fail(vm, -EAGAIN,
			       "KVM_SIGNAL_MSI to vCPU %u was not delivered",
			       apic_id);
	return 0;
}

/*
 * One controller pass over vCPU @v: sends the HLT wake-up and the next
 * --msi interrupt when due.  *busy is set while something is pending.
 */
static int service_vcpu(struct kg_vm *vm, struct kg_vcpu *v, bool *busy)
{
	uint64_t seq, target;
	int err;

	if (!vm->cfg->irqchip)
		return 0;
	/* HLT: the guest started one more HLT than we woke, and blocks. */
	seq = kg_pb_get(v, PB_HLT_SEQ);
	if (seq > v->wakes_sent) {
		*busy = true;
		err = vcpu_blocking(v);
		if (err < 0)
			return vm_fail(vm, err, "vCPU %u: read stats", v->id);
		if (err == 1) {
			err = kg_vm_send_msi(vm, v->id, WAKE_VECTOR);
			if (err)
				return err;
			v->wakes_sent++;
		}
	}
	/* MSI: one at a time, each after the previous one was taken. */
	target = kg_pb_get(v, PB_MSI_TARGET);
	if (target > v->msi_sent) {
		*busy = true;
		if (kg_pb_get(v, PB_CNT_MSI) == v->msi_sent) {
			err = kg_vm_send_msi(vm, v->id, MSI_VECTOR);
			if (err)
				return err;
			v->msi_sent++;
		}
	}
	return 0;
}

static void stop_guests(struct kg_vm *vm)
{
	for (unsigned int i = 0; i < vm->nvcpus; i++)
		pb_set(&vm->vcpus[i], PB_STOP, 1);
}

/* Stops, kicks and joins every started vCPU thread. */
static void stop_threads(struct kg_vm *vm)
{
	for (unsigned int i = 0; i < vm->nvcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		struct kg_vcpu *v = &vm->vcpus[i];

		if (v->started) {
			pthread_join(v->thread, NULL);
			v->started = false;
		}
	}
}

int kg_vm_run(struct kg_vm *vm)
{
	const struct kg_config *c = vm->cfg;
	struct sigaction sa = { .sa_handler = kick_handler };
	sigset_t stopsigs;
	double t0, deadline_stop, deadline_fail, t_done = 0;
	bool stopping = false;
	int err = 0;

	sigemptyset(&sa.sa_mask);
	if (sigaction(KICK_SIGNAL, &sa, NULL) < 0)
		return vm_fail(vm, -errno, "sigaction");
	sigemptyset(&stopsigs);
	sigaddset(&stopsigs, SIGINT);
	sigaddset(&stopsigs, SIGTERM);

	t0 = kp_mono_s();
	deadline_stop = c->duration > 0 ? t0 + c->duration : 0;
	deadline_fail = c->timeout > 0 ? t0 + c->timeout : 0;
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		struct kg_vcpu *v = &vm->vcpus[i];

		err = pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (err) {
			err = vm_fail(vm, -err, "pthread_create vCPU %u", i);
			goto out;
		}
		v->started = true;
	}
	if (vm->uffd) {
		err = kg_uffd_run(vm);
		if (err)
			goto out;
	}

	for (;;) {
		bool busy = false, all_done = true;
		struct timespec wait;
		double t;
		int sig;

		for (unsigned int i = 0; i < vm->nvcpus; i++) {
			struct kg_vcpu *v = &vm->vcpus[i];

			if (__atomic_load_n(&v->exited, __ATOMIC_ACQUIRE)) {
				/* Thread messages are complete sentences. */
				vm->err_complete = !vm->err[0];
				err = vm_fail(vm, v->err ? v->err : -EPROTO,
					      "%s", v->errmsg[0] ? v->errmsg :
					      "vCPU thread ended early");
				goto out;
			}
			if (!kg_pb_get(v, PB_DONE))
				all_done = false;
			err = service_vcpu(vm, v, &busy);
			if (err)
				goto out;
		}
		if (vm->uffd) {
			err = kg_uffd_poll(vm, &busy);
			if (err)
				goto out;
		}
		t = kp_mono_s();
		if (all_done) {
			t_done = t;
			break;
		}
		if (deadline_fail && t >= deadline_fail) {
			vm->err_complete = !vm->err[0];
			err = vm_fail(vm, -ETIMEDOUT,
				      "guest did not finish within --timeout %g s",
				      c->timeout);
			goto out;
		}
		if (!stopping && deadline_stop && t >= deadline_stop) {
			stopping = true;
			stop_guests(vm);
		}
		/* Sleep; short while the guest waits for us. */
		wait.tv_sec = 0;
		wait.tv_nsec = busy ? 20000 : 1000000;
		sig = sigtimedwait(&stopsigs, NULL, &wait);
		if (sig > 0 && !stopping) {
			stopping = true;
			vm->interrupted = true;
			vm->signo = sig;
			stop_guests(vm);
		}
	}
out:
	stop_threads(vm);
	if (vm->uffd)
		kg_uffd_stop(vm);
	vm->elapsed = (t_done ? t_done : kp_mono_s()) - t0;
	return err;
}

void kg_vm_close(struct kg_vm *vm)
{
	for (unsigned int i = 0; i < MAX_VCPUS; i++) {
		struct kg_vcpu *v = &vm->vcpus[i];

		if (v->run)
			munmap(v->run, v->run_size);
		if (v->stats_fd >= 0)
			close(v->stats_fd);
		if (v->fd >= 0)
			close(v->fd);
	}
	if (vm->uffd)
		kg_uffd_close(vm);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->low)
		munmap(vm->low, vm->low_size);
	if (vm->touch)
		munmap(vm->touch, vm->touch_size);
}
