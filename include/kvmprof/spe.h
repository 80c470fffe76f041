/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Arm Statistical Profiling Extension (SPE) sample records: packet parser
 * and streaming record assembler.
 *
 * The authority for every encoding below is the Arm Architecture Reference
 * Manual (DDI 0487), chapter "Statistical Profiling Extension sample record
 * specification"; field comments cite the packet description they come
 * from ("Address packet", "Events packet", ...).  See docs/spe.md for the
 * design (two layers, resynchronisation rule, fast path).
 *
 * Conventions: functions return 0 or a positive count on success and a
 * negative errno on failure; outputs are named ret_*; nothing here logs or
 * allocates per record.
 */
#ifndef KVMPROF_SPE_H
#define KVMPROF_SPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- bit-field helpers (kernel style) ---------------------------------- */

#define SPE_BIT(n)		((uint64_t)1 << (n))
#define SPE_GENMASK(h, l)	\
	((uint64_t)((~0ULL << (l)) & (~0ULL >> (63 - (h)))))
#define SPE_FIELD_GET(m, v)	(((uint64_t)(v) & (m)) >> __builtin_ctzll(m))
#define SPE_FIELD_PREP(m, v)	(((uint64_t)(v) << __builtin_ctzll(m)) & (m))

/* ---- packet headers ("Packet headers", "Header formats") --------------- */

/* Short header byte: bits [5:4] give the payload size, 1 << sz bytes. */
#define SPE_HDR_SZ		SPE_GENMASK(5, 4)

#define SPE_HDR_PAD		0x00	/* Padding packet, no payload */
#define SPE_HDR_END		0x01	/* End packet, no payload */
#define SPE_HDR_TS		0x71	/* Timestamp packet, 8-byte payload */

/* Events packet 0b01xx0010 and Data Source packet 0b01xx0011, any size. */
#define SPE_HDR_EV_DS_MASK	0xcf
#define SPE_HDR_EVENTS		0x42
#define SPE_HDR_DATA_SOURCE	0x43

/* Context packet 0b011001ii (4-byte payload), index ii. */
#define SPE_HDR_CTX_MASK	0xfc
#define SPE_HDR_CONTEXT		0x64
#define SPE_HDR_CTX_IDX		SPE_GENMASK(1, 0)

/* Operation Type packet 0b010010cc (1-byte payload), class cc. */
#define SPE_HDR_OP_MASK		0xfc
#define SPE_HDR_OP_TYPE		0x48
#define SPE_HDR_OP_CLASS	SPE_GENMASK(1, 0)

/*
 * Extended header: first byte 0b001000ii gives index bits [4:3]; the
 * second byte is an Address or Counter short header whose bits [2:0] give
 * index bits [2:0].
 */
#define SPE_HDR_EXT_MASK	0xfc
#define SPE_HDR_EXT		0x20
#define SPE_HDR_EXT_IDX_HI	SPE_GENMASK(1, 0)

/* Address packet 0b10110iii (8-byte payload), Counter 0b10011iii (2). */
#define SPE_HDR_ADDR_CNT_MASK	0xf8
#define SPE_HDR_ADDRESS		0xb0
#define SPE_HDR_COUNTER		0x98
#define SPE_HDR_IDX_LO		SPE_GENMASK(2, 0)

#define SPE_PKT_MAX_LEN		10	/* 2-byte header + 8-byte payload */

enum spe_pkt_type {
	SPE_PKT_BAD = 0,
	SPE_PKT_PAD,
	SPE_PKT_END,
	SPE_PKT_TIMESTAMP,
	SPE_PKT_ADDRESS,
	SPE_PKT_COUNTER,
	SPE_PKT_CONTEXT,
	SPE_PKT_OP_TYPE,
	SPE_PKT_EVENTS,
	SPE_PKT_DATA_SOURCE,
	SPE_PKT_NR_TYPES,
};

struct spe_pkt {
	uint64_t payload;	/* little-endian payload, zero-extended */
	uint8_t type;		/* enum spe_pkt_type */
	uint8_t index;		/* address/counter index (0..31), context
				 * index (0..3) or op-type class (0..3) */
	uint8_t len;		/* bytes, header(s) included */
	uint8_t payload_len;	/* 0, 1, 2, 4 or 8 */
	uint8_t ext;		/* 1 when an extended (2-byte) header */
};

/*
 * Parses one packet at @buf.  Returns the packet length (> 0), -EAGAIN when
 * @buf holds only a valid prefix of a packet (feed more bytes), or -EBADMSG
 * when the byte at @buf (or the byte after an extended-header prefix) is
 * not a packet header: the caller skips one byte and tries again.  The
 * result depends only on the bytes, never on their address.
 */
int spe_pkt_parse(const void *buf, size_t len, struct spe_pkt *ret_pkt);

const char *spe_pkt_type_name(unsigned int type);

/* ---- Address packet payloads ("Address packet") ------------------------ */

enum spe_addr_idx {
	SPE_ADDR_PC = 0,	/* instruction virtual address */
	SPE_ADDR_TGT = 1,	/* branch target address */
	SPE_ADDR_VA = 2,	/* data access virtual address */
	SPE_ADDR_PA = 3,	/* data access physical address */
	SPE_ADDR_PBT = 4,	/* previous branch target (FEAT_SPEv1p2) */
	SPE_ADDR_NR_KNOWN,
};
#define SPE_ADDR_IDX_NR		32	/* 5-bit extended index */

/* Every address payload: bits [55:0] are the address. */
#define SPE_ADDR_ADDR		SPE_GENMASK(55, 0)
/* Instruction addresses (PC, TGT, PBT): NS bit [63], EL bits [62:61]. */
#define SPE_ADDR_INSN_NS	SPE_BIT(63)
#define SPE_ADDR_INSN_EL	SPE_GENMASK(62, 61)
/* Data virtual address: bits [63:56] hold the top-byte (TBI) tag. */
#define SPE_ADDR_VA_TAG		SPE_GENMASK(63, 56)
/* Data physical address: NS [63], CH (checked access) [62], PAT [59:56]. */
#define SPE_ADDR_PA_NS		SPE_BIT(63)
#define SPE_ADDR_PA_CH		SPE_BIT(62)
#define SPE_ADDR_PA_PAT		SPE_GENMASK(59, 56)

/* The 56-bit address sign-extended from bit 55 (a canonical VA). */
static inline uint64_t spe_addr_canon(uint64_t payload)
{
	return (uint64_t)((int64_t)(payload << 8) >> 8);
}

static inline unsigned int spe_addr_el(uint64_t payload)
{
	return SPE_FIELD_GET(SPE_ADDR_INSN_EL, payload);
}

static inline bool spe_addr_ns(uint64_t payload)
{
	return payload & SPE_ADDR_INSN_NS;
}

/* ---- Counter packet ("Counter packet"): 16-bit saturating counts ------- */

enum spe_cnt_idx {
	SPE_CNT_TOTAL = 0,	/* total latency */
	SPE_CNT_ISSUE = 1,	/* issue latency */
	SPE_CNT_XLAT = 2,	/* translation latency */
	SPE_CNT_NR_KNOWN,
};
#define SPE_CNT_IDX_NR		32

/* ---- Context packet ("Context packet") --------------------------------- */

enum spe_ctx_idx {
	SPE_CTX_EL1 = 0,	/* CONTEXTIDR_EL1 (guest PID under Linux) */
	SPE_CTX_EL2 = 1,	/* CONTEXTIDR_EL2 */
};
#define SPE_CTX_IDX_NR		4

/* ---- Events packet ("Events packet"): bit numbers ----------------------- */

enum spe_ev_bit {
	SPE_EV_EXCEPTION_GEN = 0,	/* generated exception */
	SPE_EV_RETIRED = 1,		/* architecturally executed */
	SPE_EV_L1D_ACCESS = 2,
	SPE_EV_L1D_REFILL = 3,
	SPE_EV_TLB_ACCESS = 4,
	SPE_EV_TLB_WALK = 5,		/* TLB refill (walk) */
	SPE_EV_NOT_TAKEN = 6,		/* conditional not taken / failed */
	SPE_EV_MISPRED = 7,		/* branch mispredicted */
	SPE_EV_LLC_ACCESS = 8,
	SPE_EV_LLC_MISS = 9,
	SPE_EV_REMOTE_ACCESS = 10,
	SPE_EV_ALIGNMENT = 11,		/* misaligned access */
	/* 12..15: IMPLEMENTATION DEFINED (N1: bit 12 late prefetch) */
	SPE_EV_TXN = 16,		/* in transaction (FEAT_TME) */
	SPE_EV_SVE_PARTIAL_PRED = 17,
	SPE_EV_SVE_EMPTY_PRED = 18,
	SPE_EV_L2D_ACCESS = 19,
	SPE_EV_L2D_MISS = 20,
	SPE_EV_HITM = 21,		/* cache data modified */
	SPE_EV_LFB = 22,		/* recently fetched */
	SPE_EV_SNOOPED = 23,		/* data snooped */
	SPE_EV_STREAMING_SVE = 24,	/* streaming SVE mode */
	SPE_EV_SMCU = 25,		/* SME compute unit */
	SPE_EV_NR_NAMED = 26,
};
#define SPE_EV_N1_LATE_PREFETCH	12

/* Name of an architected event bit, NULL for IMPDEF/unallocated bits. */
const char *spe_ev_name(unsigned int bit);

/* ---- Operation Type packet ("Operation Type packet") -------------------- */

enum spe_op_class {
	SPE_OPC_OTHER = 0,
	SPE_OPC_LDST = 1,	/* load, store, atomic */
	SPE_OPC_BRANCH = 2,	/* branch or exception return */
	SPE_OPC_RESERVED = 3,
};

/* Payload bits by class. */
#define SPE_OP_OTHER_COND	SPE_BIT(0)	/* conditional select */
#define SPE_OP_OTHER_FP		SPE_BIT(1)
#define SPE_OP_OTHER_ASE	SPE_BIT(2)	/* Advanced SIMD */
#define SPE_OP_SVE_EVL		SPE_GENMASK(6, 4) /* 32 << EVL bits */
#define SPE_OP_SVE_PRED		SPE_BIT(2)
#define SPE_OP_SVE_FP		SPE_BIT(1)
#define SPE_OP_SVE_SG		SPE_BIT(7)	/* gather/scatter (ld/st) */
#define SPE_OP_LDST_ST		SPE_BIT(0)
#define SPE_OP_LDST_AT		SPE_BIT(2)	/* atomic */
#define SPE_OP_LDST_EXCL	SPE_BIT(3)	/* exclusive */
#define SPE_OP_LDST_AR		SPE_BIT(4)	/* acquire/release */
#define SPE_OP_GCS_COMM		SPE_BIT(2)	/* GCS common (not push/pop) */
#define SPE_OP_BR_COND		SPE_BIT(0)
#define SPE_OP_BR_IND		SPE_BIT(1)
#define SPE_OP_BR_GCS		SPE_BIT(2)
#define SPE_OP_BR_CR		SPE_GENMASK(4, 3) /* call/return class */

enum spe_op_sub {
	SPE_OPS_UNKNOWN = 0,	/* reserved encoding (kept raw) */
	/* class OTHER */
	SPE_OPS_OTHER,
	SPE_OPS_SVE_OTHER,
	SPE_OPS_SME_OTHER,
	/* class LDST */
	SPE_OPS_LDST_EXT,	/* atomic / exclusive / acquire-release */
	SPE_OPS_GP_REG,
	SPE_OPS_SIMD_FP,
	SPE_OPS_UNSPEC_REG,
	SPE_OPS_NV_SYSREG,
	SPE_OPS_MTE_TAG,
	SPE_OPS_MEMCPY,
	SPE_OPS_MEMSET,
	SPE_OPS_SVE_SME_REG,
	SPE_OPS_GCS,
	/* class BRANCH */
	SPE_OPS_BRANCH,
	SPE_OPS_NR,
};

enum spe_br_cr {
	SPE_BR_CR_NONE = 0,
	SPE_BR_CR_BL = 1,	/* call */
	SPE_BR_CR_RET = 2,	/* return */
	SPE_BR_CR_NON_BL_RET = 3,
};

/* Flags of struct spe_op_info. */
#define SPE_OPF_ST		SPE_BIT(0)
#define SPE_OPF_AT		SPE_BIT(1)
#define SPE_OPF_EXCL		SPE_BIT(2)
#define SPE_OPF_AR		SPE_BIT(3)
#define SPE_OPF_COND		SPE_BIT(4)	/* branch cond / cond select */
#define SPE_OPF_IND		SPE_BIT(5)
#define SPE_OPF_GCS		SPE_BIT(6)
#define SPE_OPF_FP		SPE_BIT(7)
#define SPE_OPF_ASE		SPE_BIT(8)
#define SPE_OPF_PRED		SPE_BIT(9)
#define SPE_OPF_SG		SPE_BIT(10)
#define SPE_OPF_COMM		SPE_BIT(11)

struct spe_op_info {
	uint8_t cls;		/* enum spe_op_class */
	uint8_t sub;		/* enum spe_op_sub */
	uint8_t cr;		/* enum spe_br_cr (branches) */
	uint16_t flags;		/* SPE_OPF_* */
	uint32_t vl;		/* SVE EVL or SME ETS in bits, 0 if none */
};

void spe_op_decode(unsigned int cls, uint8_t payload,
		   struct spe_op_info *ret_info);
const char *spe_op_sub_name(unsigned int sub);

/* ---- Data Source packet: IMPLEMENTATION DEFINED, decoded per MIDR ------- */

enum spe_cpu {
	SPE_CPU_GENERIC = 0,
	SPE_CPU_NEOVERSE_N1,
	SPE_CPU_NEOVERSE_N2,
	SPE_CPU_NEOVERSE_V1,
	SPE_CPU_NEOVERSE_V2,
	SPE_CPU_AMPEREONE,	/* AmpereOne AC04 */
	SPE_CPU_NR,
};

/* MIDR_EL1: Implementer [31:24], PartNum [15:4]. */
#define SPE_MIDR_IMPL		SPE_GENMASK(31, 24)
#define SPE_MIDR_PART		SPE_GENMASK(15, 4)

enum spe_cpu spe_cpu_from_midr(uint64_t midr);
const char *spe_cpu_name(enum spe_cpu cpu);
/* A MIDR of @cpu (implementer and part number, r0p0), 0 for generic. */
uint64_t spe_cpu_midr(enum spe_cpu cpu);

enum spe_ds {
	SPE_DS_UNKNOWN = 0,	/* value not in the CPU's table */
	SPE_DS_L1D,
	SPE_DS_L2,
	SPE_DS_PEER_CORE,
	SPE_DS_LOCAL_CLUSTER,
	SPE_DS_SYS_CACHE,	/* system-level cache */
	SPE_DS_PEER_CLUSTER,
	SPE_DS_REMOTE,		/* other socket / chip */
	SPE_DS_DRAM,
	SPE_DS_LOCAL_CHIP,	/* AmpereOne: local-chip cache or device */
	SPE_DS_REMOTE_CHIP_CACHE,
	SPE_DS_NR,
};

/* Returns the decoded source, SPE_DS_UNKNOWN for a generic CPU. */
enum spe_ds spe_ds_decode(enum spe_cpu cpu, uint64_t ds);
const char *spe_ds_name(enum spe_ds ds);

/* ---- records ----------------------------------------------------------- */

/* struct spe_record.flags */
#define SPE_REC_TS		SPE_BIT(0)	/* ended by a Timestamp packet */
#define SPE_REC_END		SPE_BIT(1)	/* ended by an End packet */
#define SPE_REC_EV		SPE_BIT(2)	/* events valid */
#define SPE_REC_DS		SPE_BIT(3)	/* ds valid */
#define SPE_REC_OP		SPE_BIT(4)	/* op_class, op valid */
#define SPE_REC_DUP		SPE_BIT(5)	/* a packet kind repeated (only
						 * with SPE_DEC_KEEP_DUP) */

/*
 * One sample record.  Only the fields whose presence bit is set are
 * defined; the others hold stale bytes (the decoder does not clear them,
 * see spe_record_equal()).  Payloads are kept raw, so every bit the
 * hardware wrote is available; the inline helpers above decode them.
 */
struct spe_record {
	/* presence and layout (the decoder's fast path writes these 14
	 * bytes as one block, keep them first) */
	uint32_t addr_mask;	/* bit i: addr[i] present */
	uint32_t cnt_mask;	/* bit i: cnt[i] present */
	uint16_t flags;		/* SPE_REC_* */
	uint8_t ctx_mask;	/* bit i: ctx[i] present */
	uint8_t op_class;	/* Operation Type header class */
	uint8_t ev_len;		/* events payload size in bytes */
	uint8_t ds_len;		/* data source payload size in bytes */
	/* values */
	uint8_t op;		/* Operation Type payload */
	uint8_t reserved0;
	uint32_t len;		/* bytes from the first packet to the end of the
				 * terminator, PAD inside included */
	uint32_t reserved1;
	uint64_t offset;	/* stream offset of the first packet */
	uint64_t ts;		/* Timestamp payload */
	uint64_t events;	/* Events payload, zero-extended */
	uint64_t ds;		/* Data Source payload, zero-extended */
	uint32_t ctx[SPE_CTX_IDX_NR];
	uint64_t addr[SPE_ADDR_IDX_NR];
	uint16_t cnt[SPE_CNT_IDX_NR];
	uint64_t reserved2;	/* slack for the fast path's wide stores */
};

static inline bool spe_rec_has_addr(const struct spe_record *r, unsigned int i)
{
	return r->addr_mask & (1u << i);
}

static inline bool spe_rec_has_cnt(const struct spe_record *r, unsigned int i)
{
	return r->cnt_mask & (1u << i);
}

/* Compares the present fields (and presence, offset, length) only. */
bool spe_record_equal(const struct spe_record *a, const struct spe_record *b);

/* ---- record assembler --------------------------------------------------- */

/* Decoder options (struct spe_dec_opts.flags). */
#define SPE_DEC_NO_FAST		SPE_BIT(0)	/* general path only */
#define SPE_DEC_KEEP_DUP	SPE_BIT(1)	/* a repeated packet overwrites
						 * (SPE_REC_DUP) instead of
						 * marking the record broken */

struct spe_dec_opts {
	uint32_t flags;
};

struct spe_dec_stats {
	uint64_t bytes;		/* stream bytes consumed */
	uint64_t records;	/* records returned */
	uint64_t bad_bytes;	/* bytes that were not a packet header */
	uint64_t resyncs;	/* times decoding lost and regained sync */
	uint64_t dropped;	/* records discarded as damaged */
	uint64_t truncated;	/* record cut off by the end of the stream */
	uint64_t dups;		/* repeated packets (in any record) */
	uint64_t fast;		/* records decoded by the fast path */
	uint64_t cuts;		/* cuts inside streams, where two threads'
				 * ranges met (spe_profile_decode_streams()) */
};

#define SPE_REC_MAX_LEN		65536	/* longer records are dropped */

/* Bytes of the fast path's template cache (lib/spe/internal.h). */
#define SPE_DEC_FAST_SIZE 2976

/*
 * Decoder state: plain data, embed one per stream (vCPU) and initialise
 * with spe_dec_init(); no allocation anywhere.
 */
struct spe_dec {
	struct spe_dec_opts opts;
	uint8_t state;		/* private */
	uint64_t terms[2];	/* good records closed by END, by TS */
	uint8_t carry_len;
	uint8_t carry[31];	/* bytes waiting for the next feed: a split
				 * packet, or a terminator and what follows */
	uint64_t offset;	/* stream offset of the next byte after carry */
	struct spe_dec_stats stats;
	struct spe_record cur;	/* record in progress between feeds */
	/* private: the fast path's template cache (struct spe_fast,
	 * lib/spe/internal.h) */
	uint8_t fast[SPE_DEC_FAST_SIZE] __attribute__((aligned(16)));
};

void spe_dec_init(struct spe_dec *dec, const struct spe_dec_opts *opts);

/*
 * Decodes bytes of the stream.  Consumes as much of @buf as possible while
 * returning at most @max (>= 1) complete records in @recs; a packet cut by
 * the end of @buf is kept and completed by the next call.  Returns the
 * number of records written and sets *ret_used to the bytes consumed (less
 * than @len only when @recs filled up: call again with the rest).
 * Returns -EINVAL on bad arguments.
 */
int spe_dec_feed(struct spe_dec *dec, const void *buf, size_t len,
		 size_t *ret_used, struct spe_record *recs, size_t max);

/*
 * Ends the stream: a packet still incomplete counts as bad bytes and a
 * record with no terminator is counted in stats.truncated, never returned.
 * The decoder is then ready for a new stream (statistics kept).
 */
void spe_dec_finish(struct spe_dec *dec);

/*
 * Tells the decoder that bytes were lost before the next feed (ring-buffer
 * overrun): the record in progress is dropped and decoding restarts after
 * the next terminator.
 */
void spe_dec_discontinuity(struct spe_dec *dec);

/*
 * Whether the decoder stands between records with nothing carried: a
 * fresh decoder fed the rest of the stream from here gives the same
 * records, as long as it meets no damage (lib/spe/parallel.c).
 */
bool spe_dec_at_boundary(const struct spe_dec *dec);

typedef int (*spe_rec_fn)(void *arg, const struct spe_record *rec);

/*
 * Convenience wrapper: feeds @buf whole and calls @fn for each record; a
 * non-zero return of @fn stops and is returned.  @finish ends the stream.
 */
int spe_dec_run(struct spe_dec *dec, const void *buf, size_t len,
		bool finish, spe_rec_fn fn, void *arg);

typedef int (*spe_batch_fn)(void *arg, const struct spe_record *recs, size_t n);

/* The same, @fn called with batches of up to 32 records (n >= 1). */
int spe_dec_run_batches(struct spe_dec *dec, const void *buf, size_t len,
			bool finish, spe_batch_fn fn, void *arg);

/* ---- text forms --------------------------------------------------------- */

#define SPE_DESC_MAX		256

/*
 * Describes @pkt the way `perf report -D` does (e.g. "PC 0x... el1 ns=1");
 * @midr selects IMPDEF event names.  Returns the string length or -errno.
 */
int spe_pkt_desc(const struct spe_pkt *pkt, uint64_t midr, char *buf,
		 size_t size);

/*
 * One `perf report -D` packet line for the bytes at @buf (stream offset
 * @pos), PAD runs merged up to 16 bytes as perf does.  Writes the line
 * (with '\n') to @line and returns the number of input bytes it covers.
 */
size_t spe_dump_line(const uint8_t *buf, size_t len, uint64_t pos,
		     uint64_t midr, char *line, size_t size);
#define SPE_DUMP_LINE_MAX	(16 + 3 * 16 + SPE_DESC_MAX + 8)

#endif
