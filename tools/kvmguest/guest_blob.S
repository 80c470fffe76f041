/* SPDX-License-Identifier: GPL-2.0-only */
/* kvmguest: the flattened guest program (GUEST_BIN, set by build.mk). */
	.section .rodata
	.balign	16
	.globl	kvmguest_blob, kvmguest_blob_end
kvmguest_blob:
	.incbin	GUEST_BIN
kvmguest_blob_end:

	.section .note.GNU-stack, "", @progbits
