/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kvmguest: the guest program.  x86-64, linked at GUEST_CODE_GPA and
 * flattened to a binary blob that the VMM copies into guest memory.
 *
 * The VMM starts every vCPU in long mode at CPL0 in kernel_entry with
 * RDI = the vCPU's parameter block (guest_abi.h), RSI = the RFLAGS for the
 * workload (IOPL=3, IF=1 with --irqchip), RDX = its user stack, RSP = its
 * kernel stack.  kernel_entry drops to CPL3 with IRETQ, as an OS enters
 * user mode.  Port I/O at CPL3 is allowed by the TSS I/O bitmap (vm.c):
 * under kvm_pvm IOPL=3 in RFLAGS alone still makes OUT raise #GP.  Under
 * kvm_pvm CPL3 code runs natively; only the exits themselves and the CPL0
 * code go through KVM's emulator.
 *
 * One round runs the phases in this order, each N_phase times as given in
 * the parameter block, counting every completed operation in it:
 *   OUT, IN, MMIO write, MMIO read, page touch, HLT, wait for MSIs.
 * With PBF_LOOP, rounds repeat until the VMM sets PB_STOP.  PB_STOP is
 * also checked before every single operation, so a stop is prompt and the
 * counters stay exact.  At the end the guest sets PB_DONE and spins; the
 * VMM then kicks the vCPU out of KVM_RUN with a signal.  So apart from the
 * one final KVM_EXIT_INTR, every exit is one the workload asked for.
 */
#include "guest_abi.h"

	.code64
	.text

/* Header read by the VMM (HDR_* offsets). */
	.globl	guest_header
guest_header:
	.quad	GUEST_MAGIC
	.quad	kernel_entry
	.quad	gp_entry
	.quad	wake_isr
	.quad	msi_isr
	.quad	exc_stubs
	.quad	periodic_isr

/*
 * CHECK_STOP: leave for "finish" if the VMM asked us to stop.
 * %r15 = parameter block throughout the CPL3 code.
 */
.macro	CHECK_STOP
	cmpq	$0, PB_STOP(%r15)
	jne	finish
.endm

/* ---------------------------------------------------------------- start */

/* CPL0: IRETQ to user_entry at CPL3 (RDI is kept for it). */
kernel_entry:
	pushq	$USER_DS		/* SS */
	push	%rdx			/* RSP */
	push	%rsi			/* RFLAGS */
	pushq	$USER_CS		/* CS */
	pushq	$user_entry		/* RIP */
	iretq

/* ---------------------------------------------------------------- CPL3 */

user_entry:
	mov	%rdi, %r15

round:
	/* OUT: one byte (0xff: harmless for an in-kernel PIC IMR) per exit */
	movq	$PHASE_PIO_OUT, PB_PHASE(%r15)
	mov	PB_PIO_OUT(%r15), %rcx
	mov	PB_PIO_PORT(%r15), %rdx
	mov	$0xff, %eax
	test	%rcx, %rcx
	jz	2f
1:	CHECK_STOP
	outb	%al, %dx
	incq	PB_CNT_OUT(%r15)
	dec	%rcx
	jnz	1b
2:
	/* IN: one byte */
	movq	$PHASE_PIO_IN, PB_PHASE(%r15)
	mov	PB_PIO_IN(%r15), %rcx
	test	%rcx, %rcx
	jz	2f
1:	CHECK_STOP
	inb	%dx, %al
	incq	PB_CNT_IN(%r15)
	dec	%rcx
	jnz	1b
2:
	/* MMIO write: 4 bytes to MMIO_GPA */
	movq	$PHASE_MMIO_WRITE, PB_PHASE(%r15)
	mov	PB_MMIO_ADDR(%r15), %rbx
	mov	PB_MMIO_WRITE(%r15), %rcx
	test	%rcx, %rcx
	jz	2f
1:	CHECK_STOP
	movl	%ecx, (%rbx)
	incq	PB_CNT_MMIO_W(%r15)
	dec	%rcx
	jnz	1b
2:
	/* MMIO read: 4 bytes from MMIO_GPA */
	movq	$PHASE_MMIO_READ, PB_PHASE(%r15)
	mov	PB_MMIO_READ(%r15), %rcx
	test	%rcx, %rcx
	jz	2f
1:	CHECK_STOP
	movl	(%rbx), %eax
	incq	PB_CNT_MMIO_R(%r15)
	dec	%rcx
	jnz	1b
2:
	/* Page touch: one 8-byte write at the start of each 4 KiB page */
	movq	$PHASE_TOUCH, PB_PHASE(%r15)
	mov	PB_TOUCH_BASE(%r15), %rbx
	mov	PB_TOUCH_PAGES(%r15), %rcx
	test	%rcx, %rcx
	jz	2f
1:	CHECK_STOP
	mov	%rcx, (%rbx)
	incq	PB_CNT_TOUCH(%r15)
	add	$PAGE_SIZE_4K, %rbx
	dec	%rcx
	jnz	1b
2:
	/*
	 * HLT: privileged, so at CPL3 it raises #GP, and the #GP handler
	 * (gp_entry) executes the HLT at CPL0 and resumes after it: trap
	 * and emulate, as an OS would.  (Under kvm_pvm "int n" from CPL3 is
	 * #UD and SYSCALL does not change the CPL; exceptions are delivered
	 * properly.)  PB_HLT_SEQ is bumped first: with --irqchip the VMM
	 * sends the wake-up MSI only once it sees HLT_SEQ ahead of its
	 * wake-ups and the vCPU blocked.
	 */
	movq	$PHASE_HLT, PB_PHASE(%r15)
	mov	PB_HLT(%r15), %rcx
	test	%rcx, %rcx
	jz	2f
1:	CHECK_STOP
	incq	PB_HLT_SEQ(%r15)
hlt_site:
	hlt
	incq	PB_CNT_HLT(%r15)
	dec	%rcx
	jnz	1b
2:
	/*
	 * MSI: raise the target by this round's count and wait (interrupts
	 * enabled) until the handler has counted that many; the VMM sends
	 * them one at a time while we are in this phase.
	 */
	mov	PB_MSI(%r15), %rcx
	test	%rcx, %rcx
	jz	2f
	add	PB_MSI_TARGET(%r15), %rcx
	mov	%rcx, PB_MSI_TARGET(%r15)
	movq	$PHASE_MSI, PB_PHASE(%r15)
1:	CHECK_STOP
	cmp	PB_CNT_MSI(%r15), %rcx
	jbe	2f
	pause
	jmp	1b
2:
	incq	PB_ROUNDS(%r15)
	testq	$PBF_LOOP, PB_FLAGS(%r15)
	jz	finish
	CHECK_STOP
	jmp	round

finish:
	movq	$PHASE_DONE, PB_PHASE(%r15)
	movq	$1, PB_DONE(%r15)
1:	pause
	jmp	1b

/* ---------------------------------------------------------------- CPL0 */

/*
 * #GP.  From the HLT at hlt_site: drop the error code, step over the
 * one-byte HLT and execute it here at CPL0.  STI's one-instruction shadow
 * makes STI;HLT atomic: an interrupt that is already pending ends the HLT
 * instead of being taken before it.  Without an in-kernel irqchip the HLT
 * is a KVM_EXIT_HLT and the VMM just resumes.  Any other #GP is a fault.
 */
gp_entry:
	cmpq	$hlt_site, 8(%rsp)
	jne	exc_stubs + 13 * EXC_STUB_SIZE
	add	$8, %rsp
	incq	(%rsp)
	sti
	hlt
	iretq

/* Rounds %rsp down to this vCPU's area = its parameter block. */
.macro	PB_FROM_RSP reg
	mov	%rsp, \reg
	and	$~CPU_AREA_MASK, \reg
.endm

/* x2APIC EOI: wrmsr(0x80b, 0); clobbers %eax, %ecx, %edx. */
.macro	X2APIC_EOI
	mov	$0x80b, %ecx
	xor	%eax, %eax
	xor	%edx, %edx
	wrmsr
.endm

/*
 * COUNTING_ISR: an interrupt handler that counts into parameter-block
 * field \counter and EOIs.  Interrupts arrive at CPL3 (stack switch to
 * RSP0) or inside the HLT at CPL0 (same kernel stack): either way %rsp is
 * in this vCPU's area.
 */
.macro	COUNTING_ISR name, counter
\name:
	push	%rax
	push	%rcx
	push	%rdx
	PB_FROM_RSP %rax
	incq	\counter(%rax)
	X2APIC_EOI
	pop	%rdx
	pop	%rcx
	pop	%rax
	iretq
.endm

	COUNTING_ISR wake_isr, PB_CNT_WAKE	/* WAKE_VECTOR: ended a HLT */
	COUNTING_ISR msi_isr, PB_CNT_MSI	/* MSI_VECTOR: --msi */
	COUNTING_ISR periodic_isr, PB_CNT_PERIODIC /* PERIODIC_VECTOR */

/*
 * Exceptions 0..31: a stub per vector (EXC_STUB_SIZE bytes each) pushes
 * a zero error code where the CPU does not, then the vector number.  The
 * common part records vector, error code, RIP and CR2 in the parameter
 * block and reports through FAULT_PORT; the VMM stops with an error.
 */
	.balign	EXC_STUB_SIZE
exc_stubs:
	.irp	vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	/* .org fails the build if the previous stub outgrew its slot */
	.org	exc_stubs + \vec * EXC_STUB_SIZE, 0xcc
	.if	(\vec == 8) || (\vec == 10) || (\vec == 11) || (\vec == 12) || (\vec == 13) || (\vec == 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq	$0
	.endif
	pushq	$\vec
	jmp	exc_common
	.endr
	.org	exc_stubs + 32 * EXC_STUB_SIZE, 0xcc

exc_common:
	PB_FROM_RSP %rax
	pop	%rbx			/* vector */
	mov	%rbx, PB_FAULT_VEC(%rax)
	pop	%rbx			/* error code */
	mov	%rbx, PB_FAULT_ERR(%rax)
	mov	(%rsp), %rbx		/* iret frame: RIP, CS, RFLAGS */
	mov	%rbx, PB_FAULT_RIP(%rax)
	mov	8(%rsp), %rbx
	mov	%rbx, PB_FAULT_CS(%rax)
	mov	16(%rsp), %rbx
	mov	%rbx, PB_FAULT_RFLAGS(%rax)
	mov	%cr2, %rbx
	mov	%rbx, PB_FAULT_CR2(%rax)
	mov	$1, %eax
	outb	%al, $FAULT_PORT
1:	hlt
	jmp	1b

	.section .note.GNU-stack, "", @progbits
