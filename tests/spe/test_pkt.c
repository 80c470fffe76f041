// SPDX-License-Identifier: GPL-2.0-only
/*
 * Packet layer byte tables: every packet kind hand-assembled from the Arm
 * ARM encodings (SPE sample record specification), with the fields and the
 * `perf report -D` text we expect, worked out by hand.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <kvmprof/spe.h>

#define MIDR_N1		0x414fd0c1ULL	/* Arm, part 0xd0c, r4p1 */

struct pkt_case {
	const char *what;
	uint8_t bytes[12];
	size_t n;		/* bytes given to the parser */
	int ret;		/* expected return */
	uint8_t type, index, payload_len;
	uint64_t payload;
	const char *desc;	/* perf text, NULL: not checked */
	uint64_t midr;
};

#define OK(w, t, ix, pl, v, d, ...)					\
	{ .what = w, .bytes = { __VA_ARGS__ },				\
	  .n = sizeof((uint8_t[]){ __VA_ARGS__ }),			\
	  .ret = sizeof((uint8_t[]){ __VA_ARGS__ }),			\
	  .type = SPE_PKT_##t, .index = ix, .payload_len = pl,		\
	  .payload = v, .desc = d }
#define ERR(w, e, ...)							\
	{ .what = w, .bytes = { __VA_ARGS__ },				\
	  .n = sizeof((uint8_t[]){ __VA_ARGS__ }), .ret = e }

static const struct pkt_case cases[] = {
	/* Padding and End: header only */
	OK("pad", PAD, 0, 0, 0, "PAD", 0x00),
	OK("end", END, 0, 0, 0, "END", 0x01),

	/* Timestamp 0b01110001 + 8 bytes; perf prints it signed */
	OK("ts", TIMESTAMP, 0, 8, 0x1122334455667788ULL,
	   "TS 1234605616436508552", 0x71, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33,
	   0x22, 0x11),
	OK("ts-top-bit", TIMESTAMP, 0, 8, 0x8000000000000000ULL,
	   "TS -9223372036854775808", 0x71, 0, 0, 0, 0, 0, 0, 0, 0x80),

	/* Events 0b01 sz 0010 */
	OK("ev1", EVENTS, 0, 1, 0x16, "EV RETIRED L1D-ACCESS TLB-ACCESS", 0x42,
	   0x16),
	OK("ev2", EVENTS, 0, 2, 0x078a,
	   "EV RETIRED L1D-REFILL MISPRED LLC-ACCESS LLC-REFILL REMOTE-ACCESS",
	   0x52, 0x8a, 0x07),
	OK("ev4", EVENTS, 0, 4, 0x03fe1000,
	   "EV SVE-PARTIAL-PRED SVE-EMPTY-PRED L2D-ACCESS L2D-MISS HITM LFB "
	   "SNOOPED STREAMING-SVE SMCU IMPDEF:12",
	   0x62, 0x00, 0x10, 0xfe, 0x03),
	OK("ev4-tlb", EVENTS, 0, 4, 0x60, "EV TLB-REFILL NOT-TAKEN", 0x62, 0x60,
	   0x00, 0x00, 0x00),
	OK("ev8", EVENTS, 0, 8, 0x8000000000010801ULL,
	   "EV EXCEPTION-GEN ALIGNMENT TXN IMPDEF:63", 0x72, 0x01, 0x08, 0x01,
	   0, 0, 0, 0, 0x80),
	OK("ev8-impdef", EVENTS, 0, 8, 0x0000000400008000ULL, "EV IMPDEF:15,34",
	   0x72, 0x00, 0x80, 0x00, 0x00, 0x04, 0, 0, 0),

	/* Data Source 0b01 sz 0011 */
	OK("ds1", DATA_SOURCE, 0, 1, 14, "DATA-SOURCE 14", 0x43, 0x0e),
	OK("ds2", DATA_SOURCE, 0, 2, 0x1234, "DATA-SOURCE 4660", 0x53, 0x34,
	   0x12),
	OK("ds4", DATA_SOURCE, 0, 4, 0x01020304, "DATA-SOURCE 16909060", 0x63,
	   0x04, 0x03, 0x02, 0x01),
	OK("ds8", DATA_SOURCE, 0, 8, 0x0123456789abcdefULL,
	   "DATA-SOURCE 81985529216486895", 0x73, 0xef, 0xcd, 0xab, 0x89, 0x67,
	   0x45, 0x23, 0x01),

	/* Context 0b011001 ii + 4 bytes */
	OK("ctx-el1", CONTEXT, 0, 4, 0x12345678, "CONTEXT 0x12345678 el1", 0x64,
	   0x78, 0x56, 0x34, 0x12),
	OK("ctx-el2", CONTEXT, 1, 4, 0x2a, "CONTEXT 0x2a el2", 0x65, 0x2a, 0x00,
	   0x00, 0x00),
	OK("ctx-idx3", CONTEXT, 3, 4, 0xffffffff, "CONTEXT 0xffffffff el4",
	   0x67, 0xff, 0xff, 0xff, 0xff),

	/* Operation Type 0b010010 cc + 1 byte; class 0 other */
	OK("op-other", OP_TYPE, 0, 1, 0x00, "OTHER INSN-OTHER", 0x48, 0x00),
	OK("op-csel", OP_TYPE, 0, 1, 0x01, "OTHER COND-SELECT", 0x48, 0x01),
	OK("op-ase-fp", OP_TYPE, 0, 1, 0x06, "OTHER ASE FP INSN-OTHER", 0x48,
	   0x06),
	/* 0b0_010_1_1_1_0: SVE, EVL 2 → 128 bits, PRED, FP */
	OK("op-sve", OP_TYPE, 0, 1, 0x2e, "SVE-OTHER EVLEN 128 FP PRED", 0x48,
	   0x2e),
	/* 0b1_001_1_0_1_0: SME, ETS 128 << (1 << 1 | 0) = 512, FP */
	OK("op-sme", OP_TYPE, 0, 1, 0x9a, "SME-OTHER ETS 512 FP", 0x48, 0x9a),
	/* reserved subclasses: perf 6.12 prints OTHER and bit 0 */
	OK("op-other-rsvd", OP_TYPE, 0, 1, 0x10, "OTHER INSN-OTHER", 0x48,
	   0x10),
	OK("op-other-8f", OP_TYPE, 0, 1, 0x8f, "OTHER COND-SELECT", 0x48, 0x8f),
	OK("op-other-1b", OP_TYPE, 0, 1, 0x1b, "OTHER COND-SELECT", 0x48, 0x1b),
	/* class 1 load/store/atomic */
	OK("op-ld-gp", OP_TYPE, 1, 1, 0x00, "LD GP-REG", 0x49, 0x00),
	OK("op-st-gp", OP_TYPE, 1, 1, 0x01, "ST GP-REG", 0x49, 0x01),
	OK("op-ld-simd", OP_TYPE, 1, 1, 0x04, "LD SIMD-FP", 0x49, 0x04),
	OK("op-st-atomic", OP_TYPE, 1, 1, 0x1f, "ST AT EXCL AR", 0x49, 0x1f),
	OK("op-ld-acq", OP_TYPE, 1, 1, 0x12, "LD AR", 0x49, 0x12),
	OK("op-ld-unspec", OP_TYPE, 1, 1, 0x10, "LD UNSPEC-REG", 0x49, 0x10),
	OK("op-st-nvsys", OP_TYPE, 1, 1, 0x31, "ST NV-SYSREG", 0x49, 0x31),
	OK("op-ld-mte", OP_TYPE, 1, 1, 0x14, "LD MTE-TAG", 0x49, 0x14),
	OK("op-st-memcpy", OP_TYPE, 1, 1, 0x21, "ST MEMCPY", 0x49, 0x21),
	OK("op-st-memset", OP_TYPE, 1, 1, 0x25, "ST MEMSET", 0x49, 0x25),
	/* 0b1_100_1_1_0_0: SVE ld, EVL 4 → 512, PRED, SG */
	OK("op-ld-sve", OP_TYPE, 1, 1, 0xcc, "LD SVE-SME-REG EVLEN 512 PRED SG",
	   0x49, 0xcc),
	OK("op-ld-gcs", OP_TYPE, 1, 1, 0x44, "LD GCS COMM", 0x49, 0x44),
	OK("op-st-gcs", OP_TYPE, 1, 1, 0x41, "ST GCS", 0x49, 0x41),
	/* class 2 branch: COND [0], IND [1], GCS [2], CR [4:3] */
	OK("op-b", OP_TYPE, 2, 1, 0x00, "B", 0x4a, 0x00),
	OK("op-bcond", OP_TYPE, 2, 1, 0x01, "B COND", 0x4a, 0x01),
	OK("op-blr", OP_TYPE, 2, 1, 0x0a, "B IND CR-BL", 0x4a, 0x0a),
	OK("op-ret", OP_TYPE, 2, 1, 0x12, "B IND CR-RET", 0x4a, 0x12),
	OK("op-b-gcs", OP_TYPE, 2, 1, 0x1d, "B COND GCS CR-NON-BL-RET", 0x4a,
	   0x1d),
	/* class 3 is reserved: printed raw */
	OK("op-class3", OP_TYPE, 3, 1, 0x5a, "OP-TYPE 0x5a (3)", 0x4b, 0x5a),

	/* Address 0b10110 iii + 8 bytes */
	OK("addr-pc", ADDRESS, 0, 8, 0xa0ff800008123450ULL,
	   "PC 0xff800008123450 el1 ns=1", 0xb0, 0x50, 0x34, 0x12, 0x08, 0x00,
	   0x80, 0xff, 0xa0),
	OK("addr-tgt", ADDRESS, 1, 8, 0x8000aaaabbbbccccULL,
	   "TGT 0xaaaabbbbcccc el0 ns=1", 0xb1, 0xcc, 0xcc, 0xbb, 0xbb, 0xaa,
	   0xaa, 0x00, 0x80),
	OK("addr-va", ADDRESS, 2, 8, 0x3c00ffffa1b2c3d0ULL,
	   "VA 0x3c00ffffa1b2c3d0", 0xb2, 0xd0, 0xc3, 0xb2, 0xa1, 0xff, 0xff,
	   0x00, 0x3c),
	OK("addr-pa", ADDRESS, 3, 8, 0xca00008012345678ULL,
	   "PA 0x8012345678 ns=1 ch=1 pat=a", 0xb3, 0x78, 0x56, 0x34, 0x12,
	   0x80, 0x00, 0x00, 0xca),
	OK("addr-pbt", ADDRESS, 4, 8, 0x4000ffffc0de0000ULL,
	   "PBT 0xffffc0de0000 el2 ns=0", 0xb4, 0x00, 0x00, 0xde, 0xc0, 0xff,
	   0xff, 0x00, 0x40),
	OK("addr-idx5", ADDRESS, 5, 8, 0x0123456789abcdefULL,
	   "ADDR 0x123456789abcdef (5)", 0xb5, 0xef, 0xcd, 0xab, 0x89, 0x67,
	   0x45, 0x23, 0x01),
	/* extended header 0b001000 ii, 0b10110 iii: index ii:iii */
	OK("addr-ext-pc", ADDRESS, 0, 8, 0x2000000000400000ULL,
	   "PC 0x400000 el1 ns=0", 0x20, 0xb0, 0x00, 0x00, 0x40, 0x00, 0x00,
	   0x00, 0x00, 0x20),
	OK("addr-ext-8", ADDRESS, 8, 8, 0x11, "ADDR 0x11 (8)", 0x21, 0xb0, 0x11,
	   0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00),
	OK("addr-ext-31", ADDRESS, 31, 8, 0xff00000000000000ULL,
	   "ADDR 0xff00000000000000 (31)", 0x23, 0xb7, 0x00, 0x00, 0x00, 0x00,
	   0x00, 0x00, 0x00, 0xff),

	/* Counter 0b10011 iii + 2 bytes */
	OK("lat-tot", COUNTER, 0, 2, 0x1234, "LAT 4660 TOT", 0x98, 0x34, 0x12),
	OK("lat-issue", COUNTER, 1, 2, 5, "LAT 5 ISSUE", 0x99, 0x05, 0x00),
	OK("lat-xlat", COUNTER, 2, 2, 0xffff, "LAT 65535 XLAT", 0x9a, 0xff,
	   0xff),
	OK("lat-idx3", COUNTER, 3, 2, 7, "LAT 7 ", 0x9b, 0x07, 0x00),
	OK("lat-ext-21", COUNTER, 21, 2, 1, "LAT 1 ", 0x22, 0x9d, 0x01, 0x00),

	/* not headers */
	ERR("bad-02", -EBADMSG, 0x02),
	ERR("bad-ctx-sz0", -EBADMSG, 0x44, 0, 0, 0, 0),
	ERR("bad-ctx-sz1", -EBADMSG, 0x54, 0, 0, 0, 0),
	ERR("bad-4c", -EBADMSG, 0x4c, 0),
	ERR("bad-70", -EBADMSG, 0x70, 0, 0, 0, 0, 0, 0, 0, 0),
	ERR("bad-a0", -EBADMSG, 0xa0, 0, 0, 0, 0, 0, 0, 0, 0),
	ERR("bad-ff", -EBADMSG, 0xff, 0, 0, 0, 0, 0, 0, 0, 0),
	ERR("bad-ext-00", -EBADMSG, 0x20, 0x00, 0, 0, 0, 0, 0, 0, 0, 0),
	ERR("bad-ext-ts", -EBADMSG, 0x20, 0x71, 0, 0, 0, 0, 0, 0, 0, 0),
	ERR("bad-ext-ext", -EBADMSG, 0x20, 0x20, 0xb0, 0, 0, 0, 0, 0, 0, 0),

	/* valid prefixes */
	ERR("short-ts", -EAGAIN, 0x71, 1, 2, 3),
	ERR("short-ext", -EAGAIN, 0x20),
	ERR("short-addr", -EAGAIN, 0xb0),
	ERR("short-ext-addr", -EAGAIN, 0x21, 0xb0, 1, 2),
	ERR("short-lat", -EAGAIN, 0x98, 0x01),
	ERR("short-ev8", -EAGAIN, 0x72, 1, 2, 3, 4, 5, 6, 7),
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pkt_case *c = &cases[i];
		struct spe_pkt pkt;
		char desc[SPE_DESC_MAX];
		int ret = spe_pkt_parse(c->bytes, c->n, &pkt);

		if (ret != c->ret)
			fail_msg("%s: ret %d, want %d", c->what, ret, c->ret);
		if (ret <= 0)
			continue;
		if (pkt.type != c->type || pkt.index != c->index ||
		    pkt.payload_len != c->payload_len ||
		    pkt.payload != c->payload)
			fail_msg("%s: type %u index %u plen %u payload %#llx",
				 c->what, pkt.type, pkt.index,
				 pkt.payload_len,
				 (unsigned long long)pkt.payload);
		assert_int_equal(pkt.ext, c->bytes[0] >= 0x20 &&
					  c->bytes[0] <= 0x23);
		assert_true(spe_pkt_desc(&pkt, c->midr, desc,
					 sizeof(desc)) >= 0);
		if (strcmp(desc, c->desc))
			fail_msg("%s: desc \"%s\", want \"%s\"", c->what, desc,
				 c->desc);
	}
}

/* Parsing a valid packet from a longer buffer reads only its bytes. */
static void test_prefix_and_extra(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pkt_case *c = &cases[i];
		uint8_t buf[32];
		struct spe_pkt pkt;

		if (c->ret <= 0)
			continue;
		memset(buf, 0xee, sizeof(buf));
		memcpy(buf, c->bytes, c->n);
		assert_int_equal(spe_pkt_parse(buf, sizeof(buf), &pkt), c->ret);
		assert_int_equal(pkt.payload, c->payload);
		/* every strict prefix is "need more" */
		for (size_t k = 0; k < c->n; k++)
			assert_int_equal(spe_pkt_parse(buf, k, &pkt), -EAGAIN);
	}
}

/* The set of header bytes, listed from the encodings by hand. */
static void test_header_set(void **state)
{
	static const uint8_t valid[] = {
		0x00, 0x01, 0x71,				/* PAD END TS */
		0x42, 0x52, 0x62, 0x72,				/* events */
		0x43, 0x53, 0x63, 0x73,				/* source */
		0x64, 0x65, 0x66, 0x67,				/* context */
		0x48, 0x49, 0x4a, 0x4b,				/* op type */
		0x20, 0x21, 0x22, 0x23,				/* ext */
		0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,	/* addr */
		0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f,	/* counter */
	};
	(void)state;
	for (unsigned int b = 0; b < 256; b++) {
		uint8_t buf[16] = { b, 0xb0 };
		struct spe_pkt pkt;
		bool want = memchr(valid, b, sizeof(valid)) != NULL;
		int ret = spe_pkt_parse(buf, sizeof(buf), &pkt);

		if ((ret > 0) != want)
			fail_msg("header %#04x: ret %d", b, ret);
		if (!want)
			assert_int_equal(ret, -EBADMSG);
	}
}

/*
 * Every packet describes itself: each header byte (and extended header)
 * with payloads of all-zero, all-one and every single byte value.
 */
static void test_desc_nonempty(void **state)
{
	(void)state;
	for (unsigned int h = 0; h < 256 * 256; h++) {
		for (unsigned int fill = 0; fill < 258; fill++) {
			uint8_t buf[16];
			char desc[SPE_DESC_MAX];
			struct spe_pkt pkt;
			int ret;

			memset(buf, fill < 256 ? fill : 0xa5, sizeof(buf));
			if (fill == 257)
				for (unsigned int i = 0; i < sizeof(buf); i++)
					buf[i] = (uint8_t)(i * 37 + 11);
			buf[0] = h & 0xff;
			/* second bytes 0..255 after each extended header */
			if (h >= 256) {
				if ((buf[0] & 0xfc) != 0x20)
					break;
				buf[1] = h >> 8;
			}
			ret = spe_pkt_parse(buf, sizeof(buf), &pkt);
			if (ret <= 0)
				continue;
			assert_true(spe_pkt_desc(&pkt, 0, desc, sizeof(desc)) >
				    0);
			if (!desc[0])
				fail_msg("header %#06x fill %u: empty", h,
					 fill);
		}
	}
}

static void test_events_n1(void **state)
{
	struct spe_pkt pkt;
	char desc[SPE_DESC_MAX];
	const uint8_t b[] = { 0x52, 0x06, 0x10 };	/* bits 1, 2, 12 */

	(void)state;
	assert_int_equal(spe_pkt_parse(b, sizeof(b), &pkt), 3);
	spe_pkt_desc(&pkt, MIDR_N1, desc, sizeof(desc));
	assert_string_equal(desc, "EV RETIRED L1D-ACCESS LATE-PREFETCH");
	spe_pkt_desc(&pkt, 0, desc, sizeof(desc));
	assert_string_equal(desc, "EV RETIRED L1D-ACCESS IMPDEF:12");
}

static void test_dump_lines(void **state)
{
	static const uint8_t pc[] = {
		0xb0, 0x50, 0x34, 0x12, 0x08, 0x00, 0x80, 0xff, 0xa0,
	};
	uint8_t pads[20] = { 0 };
	uint8_t bad[] = { 0x02, 0x01 };
	char line[SPE_DUMP_LINE_MAX];

	(void)state;
	assert_int_equal(spe_dump_line(pc, sizeof(pc), 0x40, 0, line,
				       sizeof(line)), 9);
	assert_string_equal(line,
		".  00000040:  b0 50 34 12 08 00 80 ff a0"
		"                      PC 0xff800008123450 el1 ns=1\n");
	/* PAD runs merge up to 16 bytes */
	assert_int_equal(spe_dump_line(pads, sizeof(pads), 0, 0, line,
				       sizeof(line)), 16);
	assert_string_equal(line,
		".  00000000:  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
		" PAD\n");
	assert_int_equal(spe_dump_line(pads, 4, 16, 0, line, sizeof(line)), 4);
	assert_string_equal(line,
		".  00000010:  00 00 00 00"
		"                                     PAD\n");
	assert_int_equal(spe_dump_line(bad, sizeof(bad), 1, 0, line,
				       sizeof(line)), 1);
	assert_string_equal(line,
		".  00000001:  02"
		"                                              Bad packet!\n");
	/* a packet cut by the end of the data shows as bad bytes */
	assert_int_equal(spe_dump_line(pc, 4, 0, 0, line, sizeof(line)), 1);
	assert_string_equal(line,
		".  00000000:  b0"
		"                                              Bad packet!\n");
}

static void test_op_decode(void **state)
{
	struct spe_op_info op;

	(void)state;
	spe_op_decode(SPE_OPC_LDST, 0x1f, &op);
	assert_int_equal(op.sub, SPE_OPS_LDST_EXT);
	assert_int_equal(op.flags, SPE_OPF_ST | SPE_OPF_AT | SPE_OPF_EXCL |
				   SPE_OPF_AR);
	spe_op_decode(SPE_OPC_LDST, 0xcc, &op);
	assert_int_equal(op.sub, SPE_OPS_SVE_SME_REG);
	assert_int_equal(op.vl, 512);
	assert_int_equal(op.flags, SPE_OPF_PRED | SPE_OPF_SG);
	spe_op_decode(SPE_OPC_BRANCH, 0x0a, &op);
	assert_int_equal(op.sub, SPE_OPS_BRANCH);
	assert_int_equal(op.cr, SPE_BR_CR_BL);
	assert_int_equal(op.flags, SPE_OPF_IND);
	/* SME ETS: bits [6:4] = 7, bit 2 = 1 → 128 << 15 */
	spe_op_decode(SPE_OPC_OTHER, 0xfc, &op);
	assert_int_equal(op.sub, SPE_OPS_SME_OTHER);
	assert_int_equal(op.vl, 128u << 15);
	spe_op_decode(SPE_OPC_RESERVED, 0x00, &op);
	assert_int_equal(op.sub, SPE_OPS_UNKNOWN);
}

static void test_addr_helpers(void **state)
{
	(void)state;
	assert_int_equal(spe_addr_canon(0xa0ff800008123450ULL),
			 0xffff800008123450ULL);
	assert_int_equal(spe_addr_canon(0x8000aaaabbbbccccULL),
			 0x0000aaaabbbbccccULL);
	assert_int_equal(spe_addr_el(0xa0ff800008123450ULL), 1);
	assert_true(spe_addr_ns(0xa0ff800008123450ULL));
	assert_int_equal(spe_addr_el(0x4000ffffc0de0000ULL), 2);
	assert_false(spe_addr_ns(0x4000ffffc0de0000ULL));
}

static void test_cpu_ds(void **state)
{
	(void)state;
	assert_int_equal(spe_cpu_from_midr(MIDR_N1), SPE_CPU_NEOVERSE_N1);
	assert_int_equal(spe_cpu_from_midr(0x410fd490), SPE_CPU_NEOVERSE_N2);
	assert_int_equal(spe_cpu_from_midr(0x411fd401), SPE_CPU_NEOVERSE_V1);
	assert_int_equal(spe_cpu_from_midr(0x410fd4f0), SPE_CPU_NEOVERSE_V2);
	assert_int_equal(spe_cpu_from_midr(0xc00fac40), SPE_CPU_AMPEREONE);
	assert_int_equal(spe_cpu_from_midr(0x410fd030), SPE_CPU_GENERIC);
	assert_int_equal(spe_ds_decode(SPE_CPU_NEOVERSE_N1, 0x0), SPE_DS_L1D);
	assert_int_equal(spe_ds_decode(SPE_CPU_NEOVERSE_V2, 0xe), SPE_DS_DRAM);
	assert_int_equal(spe_ds_decode(SPE_CPU_NEOVERSE_N2, 0xd),
			 SPE_DS_REMOTE);
	assert_int_equal(spe_ds_decode(SPE_CPU_NEOVERSE_N1, 0x3),
			 SPE_DS_UNKNOWN);
	assert_int_equal(spe_ds_decode(SPE_CPU_AMPEREONE, 0x3),
			 SPE_DS_SYS_CACHE);
	assert_int_equal(spe_ds_decode(SPE_CPU_AMPEREONE, 0x8), SPE_DS_L1D);
	assert_int_equal(spe_ds_decode(SPE_CPU_AMPEREONE, 0x0),
			 SPE_DS_LOCAL_CHIP);
	assert_int_equal(spe_ds_decode(SPE_CPU_GENERIC, 0x0), SPE_DS_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_prefix_and_extra),
		cmocka_unit_test(test_header_set),
		cmocka_unit_test(test_desc_nonempty),
		cmocka_unit_test(test_events_n1),
		cmocka_unit_test(test_dump_lines),
		cmocka_unit_test(test_op_decode),
		cmocka_unit_test(test_addr_helpers),
		cmocka_unit_test(test_cpu_ds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
