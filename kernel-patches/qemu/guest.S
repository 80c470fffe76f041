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
 *   x5: number of PIR_EL1 rounds, x6: of PIRE0_EL1 rounds (0 unless the VM
 *       has FEAT_S1PIE: "vmm run --pir N --pire0 N")
 *
 * Every register write is followed by exactly one exit to the VMM, which
 * then compares what KVM reports for the register (KVM_GET_ONE_REG) with
 * the value the guest wrote. A PIR_EL1/PIRE0_EL1 round writes the register
 * twice before its exit: with elision, only the first write of a round
 * traps (it disarms the trap), unless an exit that reloads the guest's EL1
 * context comes between the two: at guest_pir_split or the instruction
 * after it (PIRE0_EL1: guest_pire0_split), where the second write is yet
 * to come.
 */

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

/* FEAT_S1PIE: PIR_EL1 and PIRE0_EL1, by encoding (any assembler) */
#define PIR_EL1		s3_0_c10_c2_3
#define PIRE0_EL1	s3_0_c10_c2_2

#define GICD_BASE	0x08000000
#define GICR_SGI_BASE	0x080b0000	/* GICR_BASE + 64K */
#define ICC_PMR_EL1	s3_0_c4_c6_0
#define ICC_IAR1_EL1	s3_0_c12_c12_0
#define ICC_EOIR1_EL1	s3_0_c12_c12_1
#define ICC_IGRPEN1_EL1	s3_0_c12_c12_7

/* ARM_SMCCC_VENDOR_HYP_KVM_ASYNC_PF_FUNC_ID, and its operations */
#define APF_FUNC_HI	0xc600
#define APF_FUNC_LO	0x0042
#define APF_ENABLE	0
#define APF_ACK		2

	.section .rodata.guest, "a"
	.balign	4096
	.globl	guest_start
	.globl	guest_end
	.globl	guest_pir_split
	.globl	guest_pire0_split
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

	/*
	 * PIR_EL1 (x21: base value), then PIRE0_EL1 (x22): each round
	 * writes the register twice, checks it, exits, and checks it again
	 * after the exit. x23/x24: the last values written.
	 */
4:	movz	x21, #0xcdef
	movk	x21, #0x89ab, lsl #16
	movk	x21, #0x4567, lsl #32
	movk	x21, #0x0123, lsl #48
	mvn	x22, x21
	mov	x10, #0
	mov	x7, x5
6:	cbz	x7, 7f
	add	x10, x10, #1
	add	x11, x21, x10, lsl #4
	sub	x13, x11, #1
	msr	PIR_EL1, x13
guest_pir_split:
	isb
	msr	PIR_EL1, x11
	isb
	mrs	x12, PIR_EL1
	cmp	x12, x11
	b.ne	fail
	str	x11, [x3, #DB_PIR]
	mrs	x12, PIR_EL1
	cmp	x12, x11
	b.ne	fail
	mov	x23, x11
	sub	x7, x7, #1
	b	6b
7:	mov	x10, #0
	mov	x7, x6
8:	cbz	x7, 9f
	add	x10, x10, #1
	add	x11, x22, x10, lsl #4
	sub	x13, x11, #1
	msr	PIRE0_EL1, x13
guest_pire0_split:
	isb
	msr	PIRE0_EL1, x11
	isb
	mrs	x12, PIRE0_EL1
	cmp	x12, x11
	b.ne	fail
	str	x11, [x3, #DB_PIRE0]
	mrs	x12, PIRE0_EL1
	cmp	x12, x11
	b.ne	fail
	mov	x24, x11
	sub	x7, x7, #1
	b	8b

9:	cbz	x2, 5f
	str	xzr, [x3, #DB_IDLE]
	sub	x2, x2, #1
	b	9b

	/*
	 * The VMM changes MAIR_EL1 (and PIR_EL1, if written) behind the
	 * guest's back; PIRE0_EL1 must still hold the guest's last value
	 * after all the exits since.
	 */
5:	str	xzr, [x3, #DB_SET_MAIR]
	mrs	x12, mair_el1
	str	x12, [x3, #DB_MAIR_READ]
	cbz	x5, 10f
	mrs	x12, PIR_EL1
	str	x12, [x3, #DB_PIR_READ]
10:	cbz	x6, 11f
	mrs	x12, PIRE0_EL1
	cmp	x12, x24
	b.ne	fail
	str	x12, [x3, #DB_PIRE0_READ]
11:

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
 *   x2: non-zero to keep IRQs masked, x3: MMIO base,
 *   x6: non-zero to first write each page's index to it ("vmm apf --touch")
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
	cbz	x6, 3f
	str	x11, [x12]
3:	ldr	x13, [x12]
	add	x10, x10, x13
	add	x11, x11, #1
	b	1b
2:	str	x10, [x3, #DB_APF_SUM]
	movz	x0, #0x0008
	movk	x0, #0x8400, lsl #16
	hvc	#0
	b	.

/*
 * SPE without the opt-in ("vmm spe"). Entry state: x3: MMIO base.
 * Reports ID_AA64DFR0_EL1, then reads PMSCR_EL1 and PMBSR_EL1 and writes
 * PMBLIMITR_EL1: each must be UNDEFINED, and the synchronous exception
 * handler reports ESR_EL1 and skips the instruction.
 */
	.globl	guest_spe
guest_spe:
	adr	x9, vectors_spe
	msr	vbar_el1, x9
	isb
	mrs	x10, id_aa64dfr0_el1
	str	x10, [x3, #DB_SPE_DFR0]
	mrs	x10, s3_0_c9_c9_0		/* PMSCR_EL1 */
	mrs	x10, s3_0_c9_c10_3		/* PMBSR_EL1 */
	msr	s3_0_c9_c10_0, xzr		/* PMBLIMITR_EL1 */
	str	xzr, [x3, #DB_SPE_DONE]
	movz	x0, #0x0008
	movk	x0, #0x8400, lsl #16
	hvc	#0
	b	.

spe_sync:
	mrs	x10, esr_el1
	str	x10, [x3, #DB_SPE_ESR]
	mrs	x10, elr_el1
	add	x10, x10, #4
	msr	elr_el1, x10
	eret

/* Any exception is unexpected: report the vector's offset */
unexpected:
	str	x14, [x3, #DB_EXC]
	b	.

/*
 * Paravirtual asynchronous page faults ("vmm apf --pv"): the guest plays
 * the part of a guest kernel that opted in. Entry state as for guest_apf,
 * plus x4: IPA of the control block, x5: the notification PPI, which the
 * VMM assigned (KVM_ARM_VCPU_ASYNC_PF_IRQ).
 *
 * EL1 enables the PPI in the GIC, registers the control block, and runs
 * the page reads at EL0. When KVM posts "not present" for the page an EL0
 * access faulted on, EL1 waits (counting WFI loops, i.e. time the vcpu
 * ran instead of being halted by KVM) until KVM posts "ready" for the same
 * token, then resumes EL0, which retries the access. At the end, EL0 makes
 * an SVC and EL1 reports how many tokens it got, and shuts down.
 *
 * EL1 only uses x15-x29; x22-x27 hold the interrupted EL0 context.
 *   x18: "not present" tokens, x19: token waited for, x20: "ready" tokens,
 *   x21: control block, x28: wait loops, x29: MMIO base
 */
	.globl	guest_apf_pv
guest_apf_pv:
	adr	x9, vectors_pv
	msr	vbar_el1, x9
	isb
	mov	x29, x3
	mov	x21, x4
	mov	x18, #0
	mov	x19, #0
	mov	x20, #0
	mov	x28, #0

	/* Distributor: affinity routing, group 1 enabled */
	movz	x9, #(GICD_BASE >> 16), lsl #16
	mov	w10, #0x12
	str	w10, [x9]
	/* Redistributor: the PPI in group 1, priority 0xa0, enabled */
	movz	x9, #(GICR_SGI_BASE >> 16), lsl #16
	mov	w10, #1
	lsl	w10, w10, w5
	ldr	w11, [x9, #0x80]
	orr	w11, w11, w10
	str	w11, [x9, #0x80]
	add	x12, x9, #0x400
	mov	w13, #0xa0
	strb	w13, [x12, x5]
	str	w10, [x9, #0x100]
	/* CPU interface */
	mov	x10, #0xff
	msr	ICC_PMR_EL1, x10
	mov	x10, #1
	msr	ICC_IGRPEN1_EL1, x10
	isb

	mov	x22, x0
	mov	x23, x1
	movz	x0, #APF_FUNC_LO
	movk	x0, #APF_FUNC_HI, lsl #16
	mov	x1, #APF_ENABLE
	mov	x2, x4
	mov	x3, xzr		/* reserved: the VMM assigned the PPI */
	hvc	#0
	cbnz	x0, pv_fail
	mov	x0, x22
	mov	x1, x23
	mov	x3, x29

	adr	x9, el0_reads
	msr	elr_el1, x9
	msr	spsr_el1, xzr
	eret

pv_fail:
	str	x0, [x29, #DB_FAIL]
	b	.

el0_reads:
	mov	x10, #0
	mov	x11, #0
1:	cmp	x11, x0
	b.eq	2f
	add	x12, x1, x11, lsl #12
	cbz	x6, 3f
	str	x11, [x12]
3:	ldr	x13, [x12]
	add	x10, x10, x13
	add	x11, x11, #1
	b	1b
2:	str	x10, [x3, #DB_APF_SUM]
	svc	#0
	b	.

/* Consume the control block, acknowledge it, end the interrupt */
.macro	apf_event
	mrs	x15, ICC_IAR1_EL1
	ldr	w16, [x21, #0]
	ldr	w17, [x21, #4]
	str	wzr, [x21, #0]
	str	wzr, [x21, #4]
	movz	x0, #APF_FUNC_LO
	movk	x0, #APF_FUNC_HI, lsl #16
	mov	x1, #APF_ACK
	hvc	#0
	msr	ICC_EOIR1_EL1, x15
	cbz	w16, 1f
	mov	w19, w16
	add	x18, x18, #1
1:	cbz	w17, 2f
	add	x20, x20, #1
	cmp	w17, w19
	b.ne	2f
	mov	w19, #0
2:
.endm

pv_irq_lower:
	mov	x22, x0
	mov	x23, x1
	mov	x24, x2
	mov	x25, x3
	mrs	x26, elr_el1
	mrs	x27, spsr_el1
	apf_event
	/* Wait with IRQs masked: WFI still wakes up on a pending IRQ */
3:	cbz	w19, 4f
	add	x28, x28, #1
	wfi
	msr	daifclr, #2
	isb
	msr	daifset, #2
	b	3b
4:	msr	elr_el1, x26
	msr	spsr_el1, x27
	mov	x0, x22
	mov	x1, x23
	mov	x2, x24
	mov	x3, x25
	eret

pv_irq_current:
	apf_event
	eret

pv_sync_lower:
	mrs	x15, esr_el1
	lsr	x15, x15, #26
	cmp	x15, #0x15
	b.ne	pv_unexpected
	str	x18, [x29, #DB_PV_NP]
	str	x20, [x29, #DB_PV_READY]
	str	x28, [x29, #DB_PV_WAITS]
	movz	x0, #0x0008
	movk	x0, #0x8400, lsl #16
	hvc	#0
	b	.

pv_unexpected:
	str	x14, [x29, #DB_EXC]
	b	.

	.balign	2048
vectors_pv:
	.irp	off, 0x000, 0x080, 0x100, 0x180, 0x200
	.balign	128
	mov	x14, #\off
	b	pv_unexpected
	.endr
	.balign	128		/* 0x280: IRQ, current EL with SPx */
	b	pv_irq_current
	.irp	off, 0x300, 0x380
	.balign	128
	mov	x14, #\off
	b	pv_unexpected
	.endr
	.balign	128		/* 0x400: synchronous, lower EL (AArch64) */
	mov	x14, #0x400
	b	pv_sync_lower
	.balign	128		/* 0x480: IRQ, lower EL (AArch64) */
	b	pv_irq_lower
	.irp	off, 0x500, 0x580, 0x600, 0x680, 0x700, 0x780
	.balign	128
	mov	x14, #\off
	b	pv_unexpected
	.endr


/*
 * Exit cost ("vmm exitcost"). Entry state:
 *   x0: number of in-kernel exits (HVC SMCCC_VERSION, answered by KVM),
 *   x1: number of exits to the VMM (MMIO writes), x3: MMIO base.
 * HVC returns in x0-x3, so the counts and the base move to x5-x7 first.
 * Writes no system register: every save is elidable.
 */
	.balign	8
	.globl	guest_exitcost
guest_exitcost:
	mov	x5, x0
	mov	x6, x1
	mov	x7, x3
1:	cbz	x5, 2f
	movz	x0, #0x8000, lsl #16	/* SMCCC_VERSION */
	hvc	#0
	sub	x5, x5, #1
	b	1b
2:	str	xzr, [x7, #DB_COST_HVC]
3:	cbz	x6, 4f
	str	xzr, [x7, #DB_COST_MMIO]
	sub	x6, x6, #1
	b	3b
4:	movz	x0, #0x0008		/* PSCI SYSTEM_OFF */
	movk	x0, #0x8400, lsl #16
	hvc	#0
	b	.

	.balign	2048
vectors:
	.irp	off, 0x000, 0x080, 0x100, 0x180, 0x200, 0x280, 0x300, 0x380, 0x400, 0x480, 0x500, 0x580, 0x600, 0x680, 0x700, 0x780
	.balign	128
	mov	x14, #\off
	b	unexpected
	.endr

	.balign	2048
vectors_spe:
	.irp	off, 0x000, 0x080, 0x100, 0x180
	.balign	128
	mov	x14, #\off
	b	unexpected
	.endr
	.balign	128		/* 0x200: synchronous, current EL with SPx */
	b	spe_sync
	.irp	off, 0x280, 0x300, 0x380, 0x400, 0x480, 0x500, 0x580, 0x600, 0x680, 0x700, 0x780
	.balign	128
	mov	x14, #\off
	b	unexpected
	.endr
guest_end:
