// SPDX-License-Identifier: GPL-2.0-only
/*
 * SPE payload field decoding: Operation Type subclasses, event names, CPU
 * identification and the IMPLEMENTATION DEFINED Data Source values.
 */
#include "internal.h"

/*
 * Events packet, payload bit assignments (Arm ARM "Events packet"); bits
 * 12..15 are IMPLEMENTATION DEFINED.  Names as perf prints them.
 */
static const char *const ev_names[SPE_EV_NR_NAMED] = {
	[SPE_EV_EXCEPTION_GEN] = "EXCEPTION-GEN",
	[SPE_EV_RETIRED] = "RETIRED",
	[SPE_EV_L1D_ACCESS] = "L1D-ACCESS",
	[SPE_EV_L1D_REFILL] = "L1D-REFILL",
	[SPE_EV_TLB_ACCESS] = "TLB-ACCESS",
	[SPE_EV_TLB_WALK] = "TLB-REFILL",
	[SPE_EV_NOT_TAKEN] = "NOT-TAKEN",
	[SPE_EV_MISPRED] = "MISPRED",
	[SPE_EV_LLC_ACCESS] = "LLC-ACCESS",
	[SPE_EV_LLC_MISS] = "LLC-REFILL",
	[SPE_EV_REMOTE_ACCESS] = "REMOTE-ACCESS",
	[SPE_EV_ALIGNMENT] = "ALIGNMENT",
	[SPE_EV_TXN] = "TXN",
	[SPE_EV_SVE_PARTIAL_PRED] = "SVE-PARTIAL-PRED",
	[SPE_EV_SVE_EMPTY_PRED] = "SVE-EMPTY-PRED",
	[SPE_EV_L2D_ACCESS] = "L2D-ACCESS",
	[SPE_EV_L2D_MISS] = "L2D-MISS",
	[SPE_EV_HITM] = "HITM",
	[SPE_EV_LFB] = "LFB",
	[SPE_EV_SNOOPED] = "SNOOPED",
	[SPE_EV_STREAMING_SVE] = "STREAMING-SVE",
	[SPE_EV_SMCU] = "SMCU",
};

const char *spe_ev_name(unsigned int bit)
{
	return bit < SPE_EV_NR_NAMED ? ev_names[bit] : NULL;
}

/*
 * Operation Type packet payload, by class (Arm ARM "Operation Type
 * packet"): the subclass encodings below are mutually exclusive.
 */
/* class OTHER: "other" subclass when bits [7:3] are zero */
#define OP_OTHER_IS_OTHER(v)	(((v) & SPE_GENMASK(7, 3)) == 0)
/* SVE (bits {7,3,0} = 0b010) and SME (0b110) data-processing */
#define OP_OTHER_IS_SVE(v)	(((v) & 0x89) == 0x08)
#define OP_OTHER_IS_SME(v)	(((v) & 0x89) == 0x88)
/* class LDST subclasses, mostly on bits [7:1] */
#define OP_LDST_IS_EXT(v)	(((v) & 0xe2) == 0x02)
#define OP_LDST_IS_GP(v)	(((v) & 0xfe) == 0x00)
#define OP_LDST_IS_SIMD_FP(v)	(((v) & 0xfe) == 0x04)
#define OP_LDST_IS_UNSPEC(v)	(((v) & 0xfe) == 0x10)
#define OP_LDST_IS_NV_SYSREG(v)	(((v) & 0xfe) == 0x30)
#define OP_LDST_IS_MTE_TAG(v)	(((v) & 0xfe) == 0x14)
#define OP_LDST_IS_MEMCPY(v)	(((v) & 0xfe) == 0x20)
#define OP_LDST_IS_MEMSET(v)	((v) == 0x25)
#define OP_LDST_IS_SVE(v)	(((v) & 0x0a) == 0x08)
#define OP_LDST_IS_GCS(v)	(((v) & 0xfa) == 0x40)

/* SVE effective vector length: 32 << bits [6:4]. */
static unsigned int op_sve_evl(uint8_t v)
{
	return 32u << SPE_FIELD_GET(SPE_OP_SVE_EVL, v);
}

/* SME effective tile size: 128 << (bits [6:4] << 1 | bit [2]). */
static unsigned int op_sme_ets(uint8_t v)
{
	return 128u << (SPE_FIELD_GET(SPE_OP_SVE_EVL, v) << 1 |
			SPE_FIELD_GET(SPE_BIT(2), v));
}

static void op_decode_other(uint8_t v, struct spe_op_info *info)
{
	if (OP_OTHER_IS_SVE(v)) {
		info->sub = SPE_OPS_SVE_OTHER;
		info->vl = op_sve_evl(v);
		if (v & SPE_OP_SVE_FP)
			info->flags |= SPE_OPF_FP;
		if (v & SPE_OP_SVE_PRED)
			info->flags |= SPE_OPF_PRED;
	} else if (OP_OTHER_IS_SME(v)) {
		info->sub = SPE_OPS_SME_OTHER;
		info->vl = op_sme_ets(v);
		if (v & SPE_OP_OTHER_FP)
			info->flags |= SPE_OPF_FP;
	} else if (OP_OTHER_IS_OTHER(v)) {
		info->sub = SPE_OPS_OTHER;
		if (v & SPE_OP_OTHER_ASE)
			info->flags |= SPE_OPF_ASE;
		if (v & SPE_OP_OTHER_FP)
			info->flags |= SPE_OPF_FP;
		if (v & SPE_OP_OTHER_COND)
			info->flags |= SPE_OPF_COND;
	}
}

static void op_decode_ldst(uint8_t v, struct spe_op_info *info)
{
	if (v & SPE_OP_LDST_ST)
		info->flags |= SPE_OPF_ST;
	if (OP_LDST_IS_EXT(v)) {
		info->sub = SPE_OPS_LDST_EXT;
		if (v & SPE_OP_LDST_AT)
			info->flags |= SPE_OPF_AT;
		if (v & SPE_OP_LDST_EXCL)
			info->flags |= SPE_OPF_EXCL;
		if (v & SPE_OP_LDST_AR)
			info->flags |= SPE_OPF_AR;
	} else if (OP_LDST_IS_SIMD_FP(v)) {
		info->sub = SPE_OPS_SIMD_FP;
	} else if (OP_LDST_IS_GP(v)) {
		info->sub = SPE_OPS_GP_REG;
	} else if (OP_LDST_IS_UNSPEC(v)) {
		info->sub = SPE_OPS_UNSPEC_REG;
	} else if (OP_LDST_IS_NV_SYSREG(v)) {
		info->sub = SPE_OPS_NV_SYSREG;
	} else if (OP_LDST_IS_MTE_TAG(v)) {
		info->sub = SPE_OPS_MTE_TAG;
	} else if (OP_LDST_IS_MEMCPY(v)) {
		info->sub = SPE_OPS_MEMCPY;
	} else if (OP_LDST_IS_MEMSET(v)) {
		info->sub = SPE_OPS_MEMSET;
	} else if (OP_LDST_IS_SVE(v)) {
		info->sub = SPE_OPS_SVE_SME_REG;
		info->vl = op_sve_evl(v);
		if (v & SPE_OP_SVE_PRED)
			info->flags |= SPE_OPF_PRED;
		if (v & SPE_OP_SVE_SG)
			info->flags |= SPE_OPF_SG;
	} else if (OP_LDST_IS_GCS(v)) {
		info->sub = SPE_OPS_GCS;
		if (v & SPE_OP_GCS_COMM)
			info->flags |= SPE_OPF_COMM;
	}
}

void spe_op_decode(unsigned int cls, uint8_t payload,
		   struct spe_op_info *ret_info)
{
	*ret_info = (struct spe_op_info){ .cls = cls & 3 };

	switch (cls & 3) {
	case SPE_OPC_OTHER:
		op_decode_other(payload, ret_info);
		break;
	case SPE_OPC_LDST:
		op_decode_ldst(payload, ret_info);
		break;
	case SPE_OPC_BRANCH:
		ret_info->sub = SPE_OPS_BRANCH;
		if (payload & SPE_OP_BR_COND)
			ret_info->flags |= SPE_OPF_COND;
		if (payload & SPE_OP_BR_IND)
			ret_info->flags |= SPE_OPF_IND;
		if (payload & SPE_OP_BR_GCS)
			ret_info->flags |= SPE_OPF_GCS;
		ret_info->cr = SPE_FIELD_GET(SPE_OP_BR_CR, payload);
		break;
	default:
		break;
	}
}

static const char *const op_sub_names[SPE_OPS_NR] = {
	[SPE_OPS_UNKNOWN] = "unknown",
	[SPE_OPS_OTHER] = "other",
	[SPE_OPS_SVE_OTHER] = "sve-other",
	[SPE_OPS_SME_OTHER] = "sme-other",
	[SPE_OPS_LDST_EXT] = "atomic/excl/acqrel",
	[SPE_OPS_GP_REG] = "gp-reg",
	[SPE_OPS_SIMD_FP] = "simd-fp",
	[SPE_OPS_UNSPEC_REG] = "unspec-reg",
	[SPE_OPS_NV_SYSREG] = "nv-sysreg",
	[SPE_OPS_MTE_TAG] = "mte-tag",
	[SPE_OPS_MEMCPY] = "memcpy",
	[SPE_OPS_MEMSET] = "memset",
	[SPE_OPS_SVE_SME_REG] = "sve-sme-reg",
	[SPE_OPS_GCS] = "gcs",
	[SPE_OPS_BRANCH] = "branch",
};

const char *spe_op_sub_name(unsigned int sub)
{
	return sub < SPE_OPS_NR ? op_sub_names[sub] : "?";
}

/* ---- CPUs ----------------------------------------------------------------- */

static const struct {
	uint8_t impl;
	uint16_t part;
	enum spe_cpu cpu;
	const char *name;
} cpu_parts[] = {
	{ 0x41, 0xd0c, SPE_CPU_NEOVERSE_N1, "neoverse-n1" },
	{ 0x41, 0xd49, SPE_CPU_NEOVERSE_N2, "neoverse-n2" },
	{ 0x41, 0xd40, SPE_CPU_NEOVERSE_V1, "neoverse-v1" },
	{ 0x41, 0xd4f, SPE_CPU_NEOVERSE_V2, "neoverse-v2" },
	{ 0xc0, 0xac4, SPE_CPU_AMPEREONE, "ampereone" },
};

enum spe_cpu spe_cpu_from_midr(uint64_t midr)
{
	unsigned int impl = SPE_FIELD_GET(SPE_MIDR_IMPL, midr);
	unsigned int part = SPE_FIELD_GET(SPE_MIDR_PART, midr);

	for (size_t i = 0; i < sizeof(cpu_parts) / sizeof(cpu_parts[0]); i++)
		if (cpu_parts[i].impl == impl && cpu_parts[i].part == part)
			return cpu_parts[i].cpu;
	return SPE_CPU_GENERIC;
}

uint64_t spe_cpu_midr(enum spe_cpu cpu)
{
	for (size_t i = 0; i < sizeof(cpu_parts) / sizeof(cpu_parts[0]); i++)
		if (cpu_parts[i].cpu == cpu)
			return SPE_FIELD_PREP(SPE_MIDR_IMPL, cpu_parts[i].impl) |
			       SPE_FIELD_PREP(SPE_MIDR_PART, cpu_parts[i].part);
	return 0;
}

const char *spe_cpu_name(enum spe_cpu cpu)
{
	for (size_t i = 0; i < sizeof(cpu_parts) / sizeof(cpu_parts[0]); i++)
		if (cpu_parts[i].cpu == cpu)
			return cpu_parts[i].name;
	return "generic";
}

/*
 * Data Source values.  The packet payload is IMPLEMENTATION DEFINED; these
 * are the encodings the Neoverse N1, N2, V1 and V2 share and AmpereOne's
 * (the tables perf uses too).
 */
static enum spe_ds ds_neoverse(uint64_t v)
{
	switch (v) {
	case 0x0: return SPE_DS_L1D;
	case 0x8: return SPE_DS_L2;
	case 0x9: return SPE_DS_PEER_CORE;
	case 0xa: return SPE_DS_LOCAL_CLUSTER;
	case 0xb: return SPE_DS_SYS_CACHE;
	case 0xc: return SPE_DS_PEER_CLUSTER;
	case 0xd: return SPE_DS_REMOTE;
	case 0xe: return SPE_DS_DRAM;
	default: return SPE_DS_UNKNOWN;
	}
}

static enum spe_ds ds_ampereone(uint64_t v)
{
	switch (v) {
	case 0x0: return SPE_DS_LOCAL_CHIP;
	case 0x3: return SPE_DS_SYS_CACHE;
	case 0x5: return SPE_DS_REMOTE_CHIP_CACHE;
	case 0x7: return SPE_DS_DRAM;
	case 0x8: return SPE_DS_L1D;
	case 0x9: return SPE_DS_L2;
	default: return SPE_DS_UNKNOWN;
	}
}

enum spe_ds spe_ds_decode(enum spe_cpu cpu, uint64_t ds)
{
	switch (cpu) {
	case SPE_CPU_NEOVERSE_N1:
	case SPE_CPU_NEOVERSE_N2:
	case SPE_CPU_NEOVERSE_V1:
	case SPE_CPU_NEOVERSE_V2:
		return ds_neoverse(ds);
	case SPE_CPU_AMPEREONE:
		return ds_ampereone(ds);
	default:
		return SPE_DS_UNKNOWN;
	}
}

static const char *const ds_names[SPE_DS_NR] = {
	[SPE_DS_UNKNOWN] = "unknown",
	[SPE_DS_L1D] = "l1d",
	[SPE_DS_L2] = "l2",
	[SPE_DS_PEER_CORE] = "peer-core",
	[SPE_DS_LOCAL_CLUSTER] = "local-cluster",
	[SPE_DS_SYS_CACHE] = "system-cache",
	[SPE_DS_PEER_CLUSTER] = "peer-cluster",
	[SPE_DS_REMOTE] = "remote",
	[SPE_DS_DRAM] = "dram",
	[SPE_DS_LOCAL_CHIP] = "local-chip",
	[SPE_DS_REMOTE_CHIP_CACHE] = "remote-chip-cache",
};

const char *spe_ds_name(enum spe_ds ds)
{
	return (unsigned int)ds < SPE_DS_NR ? ds_names[ds] : "?";
}
