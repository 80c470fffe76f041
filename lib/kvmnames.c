// SPDX-License-Identifier: GPL-2.0-only
#include <stddef.h>

#include <kvmprof/abi.h>
#include <kvmprof/kvmnames.h>
#include <kvmprof/util.h>

/* include/uapi/linux/kvm.h */
static const char *const userspace_exit[] = {
	"UNKNOWN", "EXCEPTION", "IO", "HYPERCALL", "DEBUG", "HLT", "MMIO",
	"IRQ_WINDOW_OPEN", "SHUTDOWN", "FAIL_ENTRY", "INTR", "SET_TPR",
	"TPR_ACCESS", "S390_SIEIC", "S390_RESET", "DCR", "NMI",
	"INTERNAL_ERROR", "OSI", "PAPR_HCALL", "S390_UCONTROL", "WATCHDOG",
	"S390_TSCH", "EPR", "SYSTEM_EVENT", "S390_STSI", "IOAPIC_EOI",
	"HYPERV", "ARM_NISV", "X86_RDMSR", "X86_WRMSR", "DIRTY_RING_FULL",
	"AP_RESET_HOLD", "X86_BUS_LOCK", "XEN", "RISCV_SBI", "RISCV_CSR",
	"NOTIFY", "LOONGARCH_IOCSR", "MEMORY_FAULT", "TDX",
};

/* Intel SDM Vol. 3C, Appendix C "VMX basic exit reasons" */
static const char *const vmx_exit[] = {
	[0] = "EXCEPTION_NMI", [1] = "EXTERNAL_INTERRUPT",
	[2] = "TRIPLE_FAULT", [3] = "INIT_SIGNAL", [4] = "SIPI_SIGNAL",
	[7] = "INTERRUPT_WINDOW", [8] = "NMI_WINDOW", [9] = "TASK_SWITCH",
	[10] = "CPUID", [12] = "HLT", [13] = "INVD", [14] = "INVLPG",
	[15] = "RDPMC", [16] = "RDTSC", [18] = "VMCALL", [19] = "VMCLEAR",
	[20] = "VMLAUNCH", [21] = "VMPTRLD", [22] = "VMPTRST",
	[23] = "VMREAD", [24] = "VMRESUME", [25] = "VMWRITE",
	[26] = "VMOFF", [27] = "VMON", [28] = "CR_ACCESS", [29] = "DR_ACCESS",
	[30] = "IO_INSTRUCTION", [31] = "MSR_READ", [32] = "MSR_WRITE",
	[33] = "INVALID_STATE", [34] = "MSR_LOAD_FAIL", [36] = "MWAIT_INSTRUCTION",
	[37] = "MONITOR_TRAP_FLAG", [39] = "MONITOR_INSTRUCTION",
	[40] = "PAUSE_INSTRUCTION", [41] = "MCE_DURING_VMENTRY",
	[43] = "TPR_BELOW_THRESHOLD", [44] = "APIC_ACCESS",
	[45] = "EOI_INDUCED", [46] = "GDTR_IDTR", [47] = "LDTR_TR",
	[48] = "EPT_VIOLATION", [49] = "EPT_MISCONFIG", [50] = "INVEPT",
	[51] = "RDTSCP", [52] = "PREEMPTION_TIMER", [53] = "INVVPID",
	[54] = "WBINVD", [55] = "XSETBV", [56] = "APIC_WRITE",
	[57] = "RDRAND", [58] = "INVPCID", [59] = "VMFUNC", [60] = "ENCLS",
	[61] = "RDSEED", [62] = "PML_FULL", [63] = "XSAVES", [64] = "XRSTORS",
	[67] = "UMWAIT", [68] = "TPAUSE", [74] = "BUS_LOCK", [75] = "NOTIFY",
};

/* AMD APM vol. 2, appendix C "SVM Intercept Exit Codes" (as in the
 * kernel's arch/x86/include/uapi/asm/svm.h SVM_EXIT_*) */
static const char *const svm_exit[] = {
	[0x000] = "READ_CR0",
	[0x003] = "READ_CR3",
	[0x004] = "READ_CR4",
	[0x008] = "READ_CR8",
	[0x010] = "WRITE_CR0",
	[0x013] = "WRITE_CR3",
	[0x014] = "WRITE_CR4",
	[0x018] = "WRITE_CR8",
	[0x020] = "READ_DR0",
	[0x027] = "READ_DR7",
	[0x030] = "WRITE_DR0",
	[0x037] = "WRITE_DR7",
	[0x040] = "EXCP_DE",
	[0x041] = "EXCP_DB",
	[0x043] = "EXCP_BP",
	[0x046] = "EXCP_UD",
	[0x047] = "EXCP_NM",
	[0x04d] = "EXCP_GP",
	[0x04e] = "EXCP_PF",
	[0x051] = "EXCP_AC",
	[0x052] = "EXCP_MC",
	[0x060] = "INTR",
	[0x061] = "NMI",
	[0x062] = "SMI",
	[0x063] = "INIT",
	[0x064] = "VINTR",
	[0x065] = "CR0_SEL_WRITE",
	[0x06e] = "RDTSC",
	[0x06f] = "RDPMC",
	[0x070] = "PUSHF",
	[0x071] = "POPF",
	[0x072] = "CPUID",
	[0x073] = "RSM",
	[0x074] = "IRET",
	[0x075] = "SWINT",
	[0x076] = "INVD",
	[0x077] = "PAUSE",
	[0x078] = "HLT",
	[0x079] = "INVLPG",
	[0x07a] = "INVLPGA",
	[0x07b] = "IOIO",
	[0x07c] = "MSR",
	[0x07d] = "TASK_SWITCH",
	[0x07e] = "FERR_FREEZE",
	[0x07f] = "SHUTDOWN",
	[0x080] = "VMRUN",
	[0x081] = "VMMCALL",
	[0x082] = "VMLOAD",
	[0x083] = "VMSAVE",
	[0x084] = "STGI",
	[0x085] = "CLGI",
	[0x086] = "SKINIT",
	[0x087] = "RDTSCP",
	[0x088] = "ICEBP",
	[0x089] = "WBINVD",
	[0x08a] = "MONITOR",
	[0x08b] = "MWAIT",
	[0x08c] = "MWAIT_COND",
	[0x08d] = "XSETBV",
	[0x08e] = "RDPRU",
	[0x08f] = "EFER_WRITE_TRAP",
	[0x090] = "CR0_WRITE_TRAP",
	[0x093] = "CR3_WRITE_TRAP",
	[0x094] = "CR4_WRITE_TRAP",
	[0x098] = "CR8_WRITE_TRAP",
	[0x0a2] = "INVPCID",
	[0x400] = "NPF",
	[0x401] = "AVIC_INCOMPLETE_IPI",
	[0x402] = "AVIC_UNACCELERATED_ACCESS",
	[0x403] = "VMGEXIT",
};

/* Arm ARM D24.2.41 (ESR_EL2), EC field encodings */
static const char *const arm64_ec[] = {
	[0x00] = "UNKNOWN", [0x01] = "WFx", [0x03] = "CP15_32",
	[0x04] = "CP15_64", [0x05] = "CP14_MR", [0x06] = "CP14_LS",
	[0x07] = "FP_ASIMD", [0x08] = "CP10_ID", [0x09] = "PAC",
	[0x0a] = "LS64", [0x0c] = "CP14_64", [0x0d] = "BTI",
	[0x0e] = "ILL", [0x11] = "SVC32", [0x12] = "HVC32", [0x13] = "SMC32",
	[0x15] = "SVC64", [0x16] = "HVC64", [0x17] = "SMC64",
	[0x18] = "SYS64", [0x19] = "SVE", [0x1a] = "ERET", [0x1c] = "FPAC",
	[0x1d] = "SME", [0x20] = "IABT_LOW", [0x21] = "IABT_CUR",
	[0x22] = "PC_ALIGN", [0x24] = "DABT_LOW", [0x25] = "DABT_CUR",
	[0x26] = "SP_ALIGN", [0x27] = "MOPS", [0x28] = "FP_EXC32",
	[0x2c] = "FP_EXC64", [0x2d] = "GCS", [0x2f] = "SERROR",
	[0x30] = "BREAKPT_LOW", [0x31] = "BREAKPT_CUR",
	[0x32] = "SOFTSTP_LOW", [0x33] = "SOFTSTP_CUR",
	[0x34] = "WATCHPT_LOW", [0x35] = "WATCHPT_CUR", [0x38] = "BKPT32",
	[0x3c] = "BRK64",
};

/* arch/arm64/include/asm/kvm_asm.h ARM_EXCEPTION_*: exits other than traps
 * (kvm_exit's own names, kvm_arm_exception_type, where it has one) */
static const char *const arm64_exception[] = {
	[0] = "IRQ",
	[1] = "SERROR",
	[2] = "TRAP",
	[3] = "IL",
};

#define LOOKUP(tab, i) ((i) < ARRAY_SIZE(tab) ? (tab)[i] : NULL)

const char *kp_userspace_exit_name(uint32_t reason)
{
	return LOOKUP(userspace_exit, reason);
}

const char *kp_exit_reason_name(int layout, uint32_t reason)
{
	switch (layout) {
	case KP_EXIT_LAYOUT_X86:
		if (reason & KP_X86_SVM)
			return (reason & 0xffffu) == 0xffffu ?
				       "INVALID" :
				       LOOKUP(svm_exit, reason & 0xffffu);
		/* Only the basic exit reason (bits 15:0) names the exit. */
		return LOOKUP(vmx_exit, reason & 0xffffu);
	case KP_EXIT_LAYOUT_ARM64:
		if (reason & KP_ARM64_NOT_TRAP)
			return LOOKUP(arm64_exception,
				      reason & ~KP_ARM64_NOT_TRAP);
		return LOOKUP(arm64_ec, reason);
	default:
		return NULL;
	}
}

const char *kp_mmio_type_name(uint32_t type)
{
	static const char *const names[] = { "read_unsatisfied", "read",
					     "write" };

	return LOOKUP(names, type);
}

const char *kp_exit_layout_name(int layout)
{
	switch (layout) {
	case KP_EXIT_LAYOUT_X86:
		return "x86";
	case KP_EXIT_LAYOUT_ARM64:
		return "arm64";
	default:
		return "unknown";
	}
}

#define SYS_REG(op0, op1, crn, crm, op2) \
	((uint32_t)((op0) << 19 | (op1) << 16 | (crn) << 12 | (crm) << 8 | \
		    (op2) << 5))

/* encodings: Arm ARM / arch/arm64/tools/sysreg; bits: HFGxTR_EL2 fields */
const struct kp_elidable_sysreg kp_elidable_sysregs[] = {
	{ "PIR_EL1", SYS_REG(3, 0, 10, 2, 3), 58 },
	{ "PIRE0_EL1", SYS_REG(3, 0, 10, 2, 2), 57 },
	{ "VBAR_EL1", SYS_REG(3, 0, 12, 0, 0), 38 },
	{ "TCR_EL1", SYS_REG(3, 0, 2, 0, 2), 32 },
	{ "MAIR_EL1", SYS_REG(3, 0, 10, 2, 0), 24 },
	{ "CONTEXTIDR_EL1", SYS_REG(3, 0, 13, 0, 1), 11 },
	{ "AMAIR_EL1", SYS_REG(3, 0, 10, 3, 0), 3 },
};

const unsigned int kp_elidable_sysregs_nr = ARRAY_SIZE(kp_elidable_sysregs);
