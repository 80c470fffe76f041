/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kvmguest: the contract between the VMM (kvmguest.c, vm.c) and the guest
 * program (guest.S).  Plain #defines only, so that the assembler can include
 * it too.  Every address here is a guest-physical address (GPA); the guest
 * runs with an identity map, so it is also the guest-virtual address.
 *
 * Guest-physical memory map
 *
 *   0x00001000  GDT: null, kernel code/data, user code/data, one 16-byte
 *               TSS descriptor per vCPU
 *   0x00002000  IDT: 256 gates (exceptions, WAKE/MSI/PERIODIC_VECTOR)
 *   0x00008000  PML4, 0x9000 PDPT, 0xa000 PD for 0..1 GiB (2 MiB pages),
 *               0xb000 PD for 3..4 GiB (the 2 MiB page holding MMIO_GPA)
 *   0x00100000  guest code (guest.S linked here, at most GUEST_CODE_MAX)
 *   0x00200000  per-vCPU areas, CPU_AREA_SIZE each, aligned to their size:
 *                 +0x0000 parameter block (PB_*, below)
 *                 +0x1000 TSS (RSP0 = kernel stack top) with an I/O
 *                         permission bitmap allowing every port
 *                 +0x4000 top of the user (CPL3) stack
 *                 +0x8000 top of the kernel (CPL0) stack
 *               CPL0 handlers find their vCPU's parameter block by
 *               rounding the stack pointer down to CPU_AREA_SIZE.
 *   0x00400000  page-table pool for the page-touch area (4 KiB PTEs)
 *   end of slot 0: LOW_MEM_SIZE + pool, rounded up to 2 MiB
 *   0xd0000000  MMIO_GPA: in no memslot, every access is KVM_EXIT_MMIO
 *   0xfee00000  local APIC (in-kernel with --irqchip; the guest uses
 *               x2APIC MSRs, never this page)
 *   0x100000000 TOUCH_GPA: page-touch area, memslot 1 (4 KiB guest pages)
 */
#ifndef KVMGUEST_GUEST_ABI_H
#define KVMGUEST_GUEST_ABI_H

#define GUEST_MAGIC		0x54534555474d564b	/* "KVMGUEST" */

#define GDT_GPA			0x1000
#define IDT_GPA			0x2000
#define PML4_GPA		0x8000
#define PDPT_GPA		0x9000
#define PD_LOW_GPA		0xa000
#define PD_MMIO_GPA		0xb000
#define GUEST_CODE_GPA		0x100000
#define GUEST_CODE_MAX		0x100000
#define CPU_AREA_GPA		0x200000
#define CPU_AREA_SIZE		0x8000
#define CPU_AREA_MASK		(CPU_AREA_SIZE - 1)
#define CPU_TSS_OFF		0x1000
#define TSS_BASE_SIZE		104	/* 64-bit TSS without I/O bitmap */
#define TSS_LIMIT		(TSS_BASE_SIZE + 8192)	/* + bitmap + 0xff */
#define CPU_USTACK_TOP		0x4000
#define CPU_KSTACK_TOP		0x8000
#define MAX_VCPUS		64
#define PT_POOL_GPA		0x400000
#define LOW_MEM_SIZE		PT_POOL_GPA
#define MMIO_GPA		0xd0000000
#define TOUCH_GPA		0x100000000
#define PAGE_SIZE_4K		0x1000

/* GDT selectors. TSS descriptor of vCPU i: TSS_SEL0 + 16 * i. */
#define KERNEL_CS		0x08
#define KERNEL_DS		0x10
#define USER_DS			0x1b	/* GDT index 3, RPL 3 */
#define USER_CS			0x23	/* GDT index 4, RPL 3 */
#define TSS_SEL0		0x28	/* GDT index 5 */

/* Interrupt vectors. */
#define WAKE_VECTOR		0x30	/* MSI that ends a HLT (--irqchip) */
#define MSI_VECTOR		0x31	/* the --msi interrupts */
#define PERIODIC_VECTOR		0x32	/* --msi-interval-ms interrupts */
#define EXC_STUB_SIZE		16	/* exception stub i at exc_stubs + 16*i */

/*
 * Port the guest's exception handler writes to (KVM_EXIT_IO) after
 * recording the exception in its parameter block; the VMM then fails.
 */
#define FAULT_PORT		0xfa

/*
 * Guest code header, at GUEST_CODE_GPA: the VMM reads these 64-bit words
 * to find the entry points.
 */
#define HDR_MAGIC		0x00
#define HDR_ENTRY		0x08	/* kernel_entry */
#define HDR_GP_ENTRY		0x10	/* #GP handler (HLT service) */
#define HDR_WAKE_ISR		0x18
#define HDR_MSI_ISR		0x20
#define HDR_EXC_STUBS		0x28
#define HDR_PERIODIC_ISR	0x30
#define HDR_SIZE		0x38

/*
 * Per-vCPU parameter block, 64-bit fields.  "in": written by the VMM before
 * the vCPU starts (PB_STOP also later); "out": written by the guest only.
 * Counters are cumulative over rounds.
 */
#define PB_PIO_OUT		0x00	/* in: OUTs per round */
#define PB_PIO_IN		0x08	/* in: INs per round */
#define PB_MMIO_WRITE		0x10	/* in: MMIO writes per round */
#define PB_MMIO_READ		0x18	/* in: MMIO reads per round */
#define PB_TOUCH_PAGES		0x20	/* in: pages to write per round */
#define PB_TOUCH_BASE		0x28	/* in: first page of this vCPU */
#define PB_HLT			0x30	/* in: HLTs per round */
#define PB_MSI			0x38	/* in: --msi interrupts per round */
#define PB_PIO_PORT		0x40	/* in: port for OUT and IN */
#define PB_MMIO_ADDR		0x48	/* in: MMIO_GPA */
#define PB_FLAGS		0x50	/* in: PBF_* */
#define PB_STOP			0x58	/* in: non-zero = stop (VMM, any time) */

#define PB_PHASE		0x80	/* out: PHASE_* the guest is in */
#define PB_CNT_OUT		0x88	/* out: OUTs executed */
#define PB_CNT_IN		0x90	/* out: INs executed */
#define PB_CNT_MMIO_W		0x98	/* out: MMIO writes executed */
#define PB_CNT_MMIO_R		0xa0	/* out: MMIO reads executed */
#define PB_CNT_TOUCH		0xa8	/* out: page writes executed */
#define PB_HLT_SEQ		0xb0	/* out: HLTs started */
#define PB_CNT_HLT		0xb8	/* out: HLTs completed */
#define PB_CNT_WAKE		0xc0	/* out: WAKE_VECTOR interrupts taken */
#define PB_MSI_TARGET		0xc8	/* out: MSI interrupts waited for */
#define PB_CNT_MSI		0xd0	/* out: MSI_VECTOR interrupts taken */
#define PB_ROUNDS		0xd8	/* out: rounds completed */
#define PB_DONE			0xe0	/* out: 1 = finished, spinning */
#define PB_FAULT_VEC		0xe8	/* out: exception vector */
#define PB_FAULT_ERR		0xf0	/* out: exception error code */
#define PB_FAULT_RIP		0xf8	/* out: exception RIP */
#define PB_FAULT_CR2		0x100	/* out: CR2 (page faults) */
#define PB_FAULT_CS		0x108	/* out: CS of the faulting code */
#define PB_FAULT_RFLAGS		0x110	/* out: its RFLAGS */
#define PB_CNT_PERIODIC		0x118	/* out: PERIODIC_VECTOR interrupts */
#define PB_SIZE			0x120

#define PBF_LOOP		0x1	/* repeat rounds until PB_STOP */

/* PB_PHASE values. */
#define PHASE_START		0
#define PHASE_PIO_OUT		1
#define PHASE_PIO_IN		2
#define PHASE_MMIO_WRITE	3
#define PHASE_MMIO_READ		4
#define PHASE_TOUCH		5
#define PHASE_HLT		6
#define PHASE_MSI		7
#define PHASE_DONE		8

#endif
