// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmguest: VM construction (memory, page tables, descriptors; the vCPUs
 * in vcpu.c) and tear-down.  See vm.h and guest_abi.h.
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
#include "vm_priv.h"

/* The guest program, flattened (guest_blob.S). */
extern const uint8_t kvmguest_blob[];
extern const uint8_t kvmguest_blob_end[];

/* Page-table entry bits. */
#define PTE_P		0x001ULL
#define PTE_RW		0x002ULL
#define PTE_US		0x004ULL
#define PTE_PWT		0x008ULL
#define PTE_PCD		0x010ULL
#define PTE_PS		0x080ULL
#define PTE_TABLE	(PTE_P | PTE_RW | PTE_US)

/* Max touch pages: 16 Mi pages = 64 GiB of guest-virtual space. */
#define MAX_TOUCH_PAGES		(1ULL << 24)

int __attribute__((format(printf, 3, 4)))
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

/* ------------------------------------------------------------- setup */

int kg_vm_open(struct kg_vm *vm, const struct kg_config *cfg)
{
	int ver;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->kvm_fd = vm->vm_fd = vm->vm_stats_fd = -1;
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

uint64_t cpu_area(unsigned int i)
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

int kg_vm_setup(struct kg_vm *vm)
{
	const struct kg_config *c = vm->cfg;
	struct kvm_cpuid2 *cpuid;
	int err;

	vm->nvcpus = c->nvcpus;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return vm_fail(vm, -errno, "KVM_CREATE_VM");
	if (c->vm_stats_fd) {
		vm->vm_stats_fd = ioctl(vm->vm_fd, KVM_GET_STATS_FD, 0);
		if (vm->vm_stats_fd < 0)
			return vm_fail(vm, -errno, "KVM_GET_STATS_FD (VM)");
	}
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
	if (vm->vm_stats_fd >= 0)
		close(vm->vm_stats_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->low)
		munmap(vm->low, vm->low_size);
	if (vm->touch)
		munmap(vm->touch, vm->touch_size);
}
