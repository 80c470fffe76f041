// SPDX-License-Identifier: GPL-2.0-only
/*
 * Text form of packets, in the format of the SPE packet lines of
 * `perf report -D`, so that a dump of ours can be diffed against perf's on
 * the same bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

struct sbuf {
	char *p;
	size_t size;
	size_t len;
};

__attribute__((format(printf, 2, 3)))
static void sb_add(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->len >= sb->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(sb->p + sb->len, sb->size - sb->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		sb->len += (size_t)n;
}

static void sb_flag(struct sbuf *sb, uint64_t v, uint64_t bit,
		    const char *name)
{
	if (v & bit)
		sb_add(sb, " %s", name);
}

static void desc_events(struct sbuf *sb, uint64_t v, uint64_t midr)
{
	sb_add(sb, "EV");
	for (unsigned int bit = 0; bit < SPE_EV_NR_NAMED; bit++) {
		const char *name = spe_ev_name(bit);

		if (name && (v & SPE_BIT(bit))) {
			sb_add(sb, " %s", name);
			v &= ~SPE_BIT(bit);
		}
	}
	if (spe_cpu_from_midr(midr) == SPE_CPU_NEOVERSE_N1 &&
	    (v & SPE_BIT(SPE_EV_N1_LATE_PREFETCH))) {
		sb_add(sb, " LATE-PREFETCH");
		v &= ~SPE_BIT(SPE_EV_N1_LATE_PREFETCH);
	}
	if (!v)
		return;
	sb_add(sb, " IMPDEF:");
	while (v) {
		unsigned int bit = __builtin_ctzll(v);

		v &= v - 1;
		sb_add(sb, "%u%s", bit, v ? "," : "");
	}
}

/* Returns false when the class is reserved (printed raw by the caller). */
static bool desc_op(struct sbuf *sb, unsigned int cls, uint8_t v)
{
	struct spe_op_info op;

	spe_op_decode(cls, v, &op);
	switch (cls) {
	case SPE_OPC_OTHER:
		if (op.sub == SPE_OPS_SVE_OTHER) {
			sb_add(sb, "SVE-OTHER EVLEN %u", op.vl);
			sb_flag(sb, op.flags, SPE_OPF_FP, "FP");
			sb_flag(sb, op.flags, SPE_OPF_PRED, "PRED");
		} else if (op.sub == SPE_OPS_SME_OTHER) {
			sb_add(sb, "SME-OTHER ETS %u", op.vl);
			sb_flag(sb, op.flags, SPE_OPF_FP, "FP");
		} else {
			/*
			 * A reserved subclass (bits [7:3] not zero, neither
			 * SVE nor SME) reads as perf 6.12 reads every non-SVE
			 * payload: OTHER, then bit 0. ASE and FP are defined
			 * only for the OTHER subclass (op.flags is clear
			 * otherwise).
			 */
			sb_add(sb, "OTHER");
			sb_flag(sb, op.flags, SPE_OPF_ASE, "ASE");
			sb_flag(sb, op.flags, SPE_OPF_FP, "FP");
			sb_add(sb, " %s",
			       v & SPE_OP_OTHER_COND ? "COND-SELECT" :
						       "INSN-OTHER");
		}
		return true;
	case SPE_OPC_LDST:
		sb_add(sb, "%s", op.flags & SPE_OPF_ST ? "ST" : "LD");
		switch (op.sub) {
		case SPE_OPS_LDST_EXT:
			sb_flag(sb, op.flags, SPE_OPF_AT, "AT");
			sb_flag(sb, op.flags, SPE_OPF_EXCL, "EXCL");
			sb_flag(sb, op.flags, SPE_OPF_AR, "AR");
			break;
		case SPE_OPS_SVE_SME_REG:
			sb_add(sb, " SVE-SME-REG EVLEN %u", op.vl);
			sb_flag(sb, op.flags, SPE_OPF_PRED, "PRED");
			sb_flag(sb, op.flags, SPE_OPF_SG, "SG");
			break;
		case SPE_OPS_GCS:
			sb_add(sb, " GCS");
			sb_flag(sb, op.flags, SPE_OPF_COMM, "COMM");
			break;
		case SPE_OPS_SIMD_FP: sb_add(sb, " SIMD-FP"); break;
		case SPE_OPS_GP_REG: sb_add(sb, " GP-REG"); break;
		case SPE_OPS_UNSPEC_REG: sb_add(sb, " UNSPEC-REG"); break;
		case SPE_OPS_NV_SYSREG: sb_add(sb, " NV-SYSREG"); break;
		case SPE_OPS_MTE_TAG: sb_add(sb, " MTE-TAG"); break;
		case SPE_OPS_MEMCPY: sb_add(sb, " MEMCPY"); break;
		case SPE_OPS_MEMSET: sb_add(sb, " MEMSET"); break;
		default: break;
		}
		return true;
	case SPE_OPC_BRANCH:
		sb_add(sb, "B");
		sb_flag(sb, op.flags, SPE_OPF_COND, "COND");
		sb_flag(sb, op.flags, SPE_OPF_IND, "IND");
		sb_flag(sb, op.flags, SPE_OPF_GCS, "GCS");
		if (op.cr == SPE_BR_CR_BL)
			sb_add(sb, " CR-BL");
		else if (op.cr == SPE_BR_CR_RET)
			sb_add(sb, " CR-RET");
		else if (op.cr == SPE_BR_CR_NON_BL_RET)
			sb_add(sb, " CR-NON-BL-RET");
		return true;
	default:
		return false;
	}
}

/* Returns false for an index with no defined meaning. */
static bool desc_addr(struct sbuf *sb, unsigned int idx, uint64_t v)
{
	static const char *const names[] = { "PC", "TGT", "VA", "PA", "PBT" };

	switch (idx) {
	case SPE_ADDR_PC:
	case SPE_ADDR_TGT:
	case SPE_ADDR_PBT:
		sb_add(sb, "%s 0x%" PRIx64 " el%u ns=%d", names[idx],
		       v & SPE_ADDR_ADDR, spe_addr_el(v), spe_addr_ns(v));
		return true;
	case SPE_ADDR_VA:
		sb_add(sb, "VA 0x%" PRIx64, v);
		return true;
	case SPE_ADDR_PA:
		sb_add(sb, "PA 0x%" PRIx64 " ns=%d ch=%d pat=%x",
		       v & SPE_ADDR_ADDR, !!(v & SPE_ADDR_PA_NS),
		       !!(v & SPE_ADDR_PA_CH),
		       (unsigned int)SPE_FIELD_GET(SPE_ADDR_PA_PAT, v));
		return true;
	default:
		return false;
	}
}

static void desc_counter(struct sbuf *sb, unsigned int idx, uint64_t v)
{
	static const char *const names[SPE_CNT_NR_KNOWN] = {
		[SPE_CNT_TOTAL] = "TOT",
		[SPE_CNT_ISSUE] = "ISSUE",
		[SPE_CNT_XLAT] = "XLAT",
	};

	sb_add(sb, "LAT %u %s", (unsigned int)(uint16_t)v,
	       idx < SPE_CNT_NR_KNOWN ? names[idx] : "");
}

int spe_pkt_desc(const struct spe_pkt *pkt, uint64_t midr, char *buf,
		 size_t size)
{
	struct sbuf sb = { .p = buf, .size = size };
	bool known = true;

	if (!size)
		return -EINVAL;
	buf[0] = '\0';
	switch (pkt->type) {
	case SPE_PKT_BAD:
	case SPE_PKT_PAD:
	case SPE_PKT_END:
		sb_add(&sb, "%s", spe_pkt_type_name(pkt->type));
		break;
	case SPE_PKT_TIMESTAMP:
	case SPE_PKT_DATA_SOURCE:
		/* perf prints both as signed decimals */
		sb_add(&sb, "%s %lld", spe_pkt_type_name(pkt->type),
		       (long long)pkt->payload);
		break;
	case SPE_PKT_EVENTS:
		desc_events(&sb, pkt->payload, midr);
		break;
	case SPE_PKT_OP_TYPE:
		known = desc_op(&sb, pkt->index, pkt->payload);
		break;
	case SPE_PKT_ADDRESS:
		known = desc_addr(&sb, pkt->index, pkt->payload);
		break;
	case SPE_PKT_COUNTER:
		desc_counter(&sb, pkt->index, pkt->payload);
		break;
	case SPE_PKT_CONTEXT:
		sb_add(&sb, "CONTEXT 0x%" PRIx64 " el%u", pkt->payload,
		       pkt->index + 1);
		break;
	default:
		return -EINVAL;
	}
	if (!known) {
		/* perf's raw form for what it cannot name */
		sb.len = 0;
		buf[0] = '\0';
		sb_add(&sb, "%s 0x%" PRIx64 " (%u)",
		       spe_pkt_type_name(pkt->type), pkt->payload,
		       pkt->index);
	}
	return sb.len < size ? (int)sb.len : (int)size - 1;
}

size_t spe_dump_line(const uint8_t *buf, size_t len, uint64_t pos,
		     uint64_t midr, char *line, size_t size)
{
	struct sbuf sb = { .p = line, .size = size };
	char desc[SPE_DESC_MAX];
	struct spe_pkt pkt;
	size_t n, i;
	int ret;

	if (!len || !size)
		return 0;
	line[0] = '\0';
	ret = spe_pkt_parse(buf, len, &pkt);
	n = ret > 0 ? (size_t)ret : 1;
	/* perf shows a run of PAD bytes as one packet of up to 16 bytes */
	if (ret > 0 && pkt.type == SPE_PKT_PAD)
		while (n < 16 && n < len && !buf[n])
			n++;

	sb_add(&sb, ".  %08" PRIx64 ": ", pos);
	for (i = 0; i < n; i++)
		sb_add(&sb, " %02x", buf[i]);
	for (; i < 16; i++)
		sb_add(&sb, "   ");
	if (ret > 0 && spe_pkt_desc(&pkt, midr, desc, sizeof(desc)) >= 0)
		sb_add(&sb, " %s\n", desc);
	else
		sb_add(&sb, " Bad packet!\n");
	return n;
}
