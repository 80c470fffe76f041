/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest payload of the kvmprof test VMM. Runs at EL1 with the MMU off and
 * talks to the VMM through MMIO writes to unbacked guest-physical addresses.
 *
 * Entry state (set by the VMM):
 *   x0: number of MAIR_EL1 writes
 *   x1: number of VBAR_EL1 writes
 *   x2: number of exits without any register write
 *   x3: MMIO base (doorbells, see vmm.c)
 *   x4: guest-physical base of this code
 *
 * Every register write is followed by exactly one exit to the VMM, which
 * then compares what KVM reports for the register (KVM_GET_ONE_REG) with
 * the value the guest wrote.
 */

#define DB_MAIR		0x00
#define DB_VBAR		0x08
#define DB_IDLE		0x10
#define DB_SET_MAIR	0x18
#define DB_MAIR_READ	0x20
#define DB_FAIL		0x28
#define DB_APF_SUM	0x30
#define DB_EXC		0x38

	.section .rodata.guest, "a"
	.balign	4096
	.globl	guest_start
	.globl	guest_end
guest_start:
	/* x20: MAIR_EL1 base value, x10: write index */
	movz	x20, #0x0400
	movk	x20, #0x440c, lsl #16
	movk	x20, #0x00ff, lsl #32
	mov	x10, #0

1:	cbz	x0, 2f
	add	x10, x10, #1
	add	x11, x20, x10
	msr	mair_el1, x11
	isb
	mrs	x12, mair_el1
	cmp	x12, x11
	b.ne	fail
	str	x11, [x3, #DB_MAIR]
	/* The value must survive the exit and the return to the guest */
	mrs	x12, mair_el1
	cmp	x12, x11
	b.ne	fail
	sub	x0, x0, #1
	b	1b

2:	mov	x10, #0
3:	cbz	x1, 4f
	add	x10, x10, #1
	add	x11, x4, x10, lsl #11
	msr	vbar_el1, x11
	isb
	str	x11, [x3, #DB_VBAR]
	mrs	x12, vbar_el1
	cmp	x12, x11
	b.ne	fail
	sub	x1, x1, #1
	b	3b

4:	cbz	x2, 5f
	str	xzr, [x3, #DB_IDLE]
	sub	x2, x2, #1
	b	4b

	/* The VMM changes MAIR_EL1 behind the guest's back */
5:	str	xzr, [x3, #DB_SET_MAIR]
	mrs	x12, mair_el1
	str	x12, [x3, #DB_MAIR_READ]

	/* PSCI SYSTEM_OFF */
	movz	x0, #0x0008
	movk	x0, #0x8400, lsl #16
	hvc	#0
	b	.

fail:	str	x12, [x3, #DB_FAIL]
	b	.

/*
 * Asynchronous page fault test ("vmm apf"). Entry state:
 *   x0: number of data pages, x1: their guest-physical base,
 *   x2: non-zero to keep IRQs masked, x3: MMIO base
 * Reads the first doubleword of every data page, each backed by a
 * userfaultfd that the VMM resolves after a delay, with IRQs unmasked so
 * that KVM may wait for the page asynchronously, and reports their sum.
 */
	.globl	guest_apf
guest_apf:
	adr	x9, vectors
	msr	vbar_el1, x9
	isb
	cbnz	x2, 0f
	msr	daifclr, #2
0:	mov	x10, #0
	mov	x11, #0
1:	cmp	x11, x0
	b.eq	2f
	add	x12, x1, x11, lsl #12
	ldr	x13, [x12]
	add	x10, x10, x13
	add	x11, x11, #1
	b	1b
2:	str	x10, [x3, #DB_APF_SUM]
	movz	x0, #0x0008
	movk	x0, #0x8400, lsl #16
	hvc	#0
	b	.

/* Any exception is unexpected: report the vector's offset */
unexpected:
	str	x14, [x3, #DB_EXC]
	b	.

	.balign	2048
vectors:
	.irp	off, 0x000, 0x080, 0x100, 0x180, 0x200, 0x280, 0x300, 0x380, 0x400, 0x480, 0x500, 0x580, 0x600, 0x680, 0x700, 0x780
	.balign	128
	mov	x14, #\off
	b	unexpected
	.endr
guest_end:
