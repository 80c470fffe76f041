// SPDX-License-Identifier: GPL-2.0-only
/*
 * Synthetic SPE streams with ground truth.  The encoder below writes the
 * header bytes as the Arm ARM lists them (literal values, on purpose not
 * the decoder's tables) and records every value it encodes in the truth
 * record.  Damaging a stream: corrupt.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spegen.h"

#define NPCS_MAX	(1u << 20)
#define NPIDS_MAX	(1u << 16)

struct enc {
	uint8_t *p;
	size_t n;
};

static void put8(struct enc *e, uint8_t b)
{
	e->p[e->n++] = b;
}

static void put_le(struct enc *e, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		put8(e, v >> (8 * i));
}

static uint64_t size_mask(unsigned int bytes)
{
	return bytes == 8 ? ~0ULL : (1ULL << (8 * bytes)) - 1;
}

/*
 * Address 0b10110iii and Counter 0b10011iii short headers; an index above 7
 * (or @ext) takes the extended prefix 0b001000ii first.
 */
static void put_indexed(struct enc *e, uint8_t hdr, unsigned int idx,
			bool ext)
{
	if (ext || idx > 7)
		put8(e, 0x20 | (idx >> 3));
	put8(e, hdr | (idx & 7));
}

static void enc_addr(struct enc *e, struct spe_record *t, unsigned int idx,
		     uint64_t v, bool ext)
{
	put_indexed(e, 0xb0, idx, ext);
	put_le(e, v, 8);
	t->addr_mask |= 1u << idx;
	t->addr[idx] = v;
}

static void enc_cnt(struct enc *e, struct spe_record *t, unsigned int idx,
		    uint16_t v, bool ext)
{
	put_indexed(e, 0x98, idx, ext);
	put_le(e, v, 2);
	t->cnt_mask |= 1u << idx;
	t->cnt[idx] = v;
}

/* Events 0b01 sz 0010 / Data Source 0b01 sz 0011: 1 << sz payload bytes.
 * Returns the value as encoded. */
static uint64_t put_sized(struct enc *e, uint8_t hdr, unsigned int sz,
			  uint64_t v)
{
	put8(e, hdr | sz << 4);
	v &= size_mask(1u << sz);
	put_le(e, v, 1u << sz);
	return v;
}

static void enc_ev(struct enc *e, struct spe_record *t, unsigned int sz,
		   uint64_t v)
{
	t->events = put_sized(e, 0x42, sz, v);
	t->flags |= SPE_REC_EV;
	t->ev_len = 1u << sz;
}

static void enc_ds(struct enc *e, struct spe_record *t, unsigned int sz,
		   uint64_t v)
{
	t->ds = put_sized(e, 0x43, sz, v);
	t->flags |= SPE_REC_DS;
	t->ds_len = 1u << sz;
}

/* Context 0b011001ii, 32-bit payload. */
static void enc_ctx(struct enc *e, struct spe_record *t, unsigned int idx,
		    uint32_t v)
{
	put8(e, 0x64 | idx);
	put_le(e, v, 4);
	t->ctx_mask |= 1u << idx;
	t->ctx[idx] = v;
}

/* Operation Type 0b010010cc, 1-byte payload. */
static void enc_op(struct enc *e, struct spe_record *t, unsigned int cls,
		   uint8_t v)
{
	put8(e, 0x48 | cls);
	put8(e, v);
	t->flags |= SPE_REC_OP;
	t->op_class = cls;
	t->op = v;
}

/* Timestamp 0x71 + 8 bytes, or End 0x01. */
static void enc_term(struct enc *e, struct spe_record *t, bool ts,
		     uint64_t v)
{
	if (ts) {
		put8(e, 0x71);
		put_le(e, v, 8);
		t->flags |= SPE_REC_TS;
		t->ts = v;
	} else {
		put8(e, 0x01);
		t->flags |= SPE_REC_END;
	}
}

static bool chance(struct spegen *g, unsigned int percent)
{
	return spegen_below(&g->rng, 100) < percent;
}

/* Skewed pick in [0, n): a few hot values, a long tail. */
static uint64_t skewed(struct spegen *g, uint64_t n)
{
	double u = (double)(spegen_rand(&g->rng) >> 11) / (double)(1ULL << 53);

	return (uint64_t)(u * u * u * (double)n) % n;
}

int spegen_init(struct spegen *g, const struct spegen_opts *opts)
{
	memset(g, 0, sizeof(*g));
	g->opts = *opts;
	if (!g->opts.npcs)
		g->opts.npcs = 4096;
	if (!g->opts.npids)
		g->opts.npids = 32;
	if (g->opts.npcs > NPCS_MAX || g->opts.npids > NPIDS_MAX ||
	    g->opts.layout > SPEGEN_MIXED)
		return -EINVAL;
	g->rng = opts->seed;
	g->ts = 1000000 + spegen_below(&g->rng, 1 << 20);
	g->pcs = calloc(g->opts.npcs, sizeof(*g->pcs));
	if (!g->pcs)
		return -ENOMEM;
	/* functions of 16..512 instructions, kernel (EL1) or user (EL0) */
	for (unsigned int i = 0; i < g->opts.npcs;) {
		bool kernel = chance(g, 30);
		uint64_t base = kernel ? 0xffff800008000000ULL : 0xaaaa00400000ULL;
		uint64_t fn = base + spegen_below(&g->rng, 1 << 22) * 16;
		unsigned int ninsn = 16 + spegen_below(&g->rng, 496);

		for (unsigned int k = 0; k < ninsn && i < g->opts.npcs; k++, i++) {
			uint64_t pc = fn + 4 * spegen_below(&g->rng, ninsn);

			/* NS [63], EL [62:61], address [55:0] */
			g->pcs[i] = 1ULL << 63 | (uint64_t)(kernel ? 1 : 0) << 61 |
				    (pc & SPE_GENMASK(55, 0));
		}
	}
	return 0;
}

void spegen_free(struct spegen *g)
{
	free(g->pcs);
	g->pcs = NULL;
}

static uint16_t lat_clamp(uint64_t v)
{
	return v > 0xffff ? 0xffff : v;
}

/* ---- Neoverse-N1-like records ------------------------------------------ */

enum { N1_LOAD, N1_STORE, N1_BRANCH, N1_OTHER };

static void gen_n1(struct spegen *g, struct enc *e, struct spe_record *t)
{
	unsigned int roll = spegen_below(&g->rng, 100);
	unsigned int kind = roll < 35 ? N1_LOAD : roll < 50 ? N1_STORE :
			    roll < 70 ? N1_BRANCH : N1_OTHER;
	uint64_t pc = g->pcs[skewed(g, g->opts.npcs)];
	uint32_t pid = 100 + skewed(g, g->opts.npids) * 7;
	bool kernel = SPE_FIELD_GET(SPE_GENMASK(62, 61), pc) == 1;
	uint64_t ev = SPE_BIT(1);		/* retired */
	uint16_t issue = 1 + skewed(g, 40), tot = issue, xlat = 1;
	size_t start = e->n;
	uint8_t op = 0;

	if (chance(g, 1))
		ev |= SPE_BIT(0);		/* exception */
	if (kind == N1_LOAD || kind == N1_STORE) {
		ev |= SPE_BIT(2) | SPE_BIT(4);	/* L1D, TLB access */
		if (chance(g, 2)) {
			ev |= SPE_BIT(5);	/* TLB walk */
			xlat += 20 + spegen_below(&g->rng, 200);
		}
		tot += xlat + 3;
		if (chance(g, 8)) {
			ev |= SPE_BIT(3);	/* L1D refill */
			tot += 10;
			if (chance(g, 40)) {
				ev |= SPE_BIT(8);	/* LLC access */
				tot += 30;
				if (chance(g, 30)) {
					ev |= SPE_BIT(9);	/* LLC miss */
					tot += 100 + spegen_below(&g->rng, 400);
					if (chance(g, 5))
						ev |= SPE_BIT(10); /* remote */
				}
			}
		}
		if (chance(g, 3))
			ev |= SPE_BIT(11);	/* misaligned */
		if (chance(g, 2))
			ev |= SPE_BIT(12);	/* N1 late prefetch */
		roll = spegen_below(&g->rng, 100);
		op = roll < 70 ? 0x00 : roll < 85 ? 0x04 :
		     roll < 93 ? 0x02 | (spegen_below(&g->rng, 8) << 2) :
		     roll < 96 ? 0x20 : 0x10;	/* GP, SIMD, atomic, memcpy */
		if (kind == N1_STORE)
			op |= 0x01;
	} else if (kind == N1_BRANCH) {
		tot += spegen_below(&g->rng, 8);
		if (chance(g, 40))
			ev |= SPE_BIT(6);	/* not taken */
		if (chance(g, 5))
			ev |= SPE_BIT(7);	/* mispredicted */
		roll = spegen_below(&g->rng, 100);
		/* B.cond, B, BL, BLR, RET */
		op = roll < 50 ? 0x01 : roll < 65 ? 0x00 : roll < 80 ? 0x08 :
		     roll < 88 ? 0x0a : 0x12;
	} else {
		tot += spegen_below(&g->rng, 12);
		roll = spegen_below(&g->rng, 100);
		op = roll < 80 ? 0x00 : roll < 90 ? 0x01 : 0x06;
	}

	enc_addr(e, t, SPE_ADDR_PC, pc, false);
	enc_cnt(e, t, SPE_CNT_ISSUE, issue, false);
	enc_ev(e, t, 1, ev);
	enc_op(e, t, kind == N1_BRANCH ? 2 : kind == N1_OTHER ? 0 : 1, op);
	if (kind == N1_LOAD || kind == N1_STORE) {
		uint64_t va = kernel ? 0xffff000012340000ULL : 0xffff80000000ULL;
		uint64_t pa = 0x8000000000ULL + spegen_below(&g->rng, 1ULL << 36);

		va += spegen_below(&g->rng, 1ULL << 30) & ~7ULL;
		if (!kernel && chance(g, 10))
			va |= (uint64_t)spegen_below(&g->rng, 16) << 56; /* tag */
		enc_addr(e, t, SPE_ADDR_VA, va, false);
		enc_cnt(e, t, SPE_CNT_XLAT, xlat, false);
		/* NS [63], PA [55:0] */
		enc_addr(e, t, SPE_ADDR_PA, 1ULL << 63 | pa, false);
		if (kind == N1_LOAD) {
			uint8_t ds = ev & SPE_BIT(9) ?
				     (ev & SPE_BIT(10) ? 0xd : 0xe) :
				     ev & SPE_BIT(8) ? 0xb :
				     ev & SPE_BIT(3) ? (chance(g, 80) ? 0x8 : 0x9) :
				     0x0;
			enc_ds(e, t, 0, ds);
		}
	} else if (kind == N1_BRANCH) {
		uint64_t tgt = (pc & ~SPE_GENMASK(55, 0)) |
			       ((pc + 4 * (spegen_below(&g->rng, 4096) - 2048)) &
				SPE_GENMASK(55, 0));

		enc_addr(e, t, SPE_ADDR_TGT, tgt, false);
	}
	enc_cnt(e, t, SPE_CNT_TOTAL, lat_clamp(tot), false);
	enc_ctx(e, t, SPE_CTX_EL1, pid);
	while (e->n - start < 64 - 9)
		put8(e, 0x00);
	g->ts += 64 + spegen_below(&g->rng, 2048);
	enc_term(e, t, true, g->ts);
}

/* ---- variable layouts: every packet kind --------------------------------- */

enum var_kind {
	VK_ADDR, VK_CNT, VK_EV, VK_DS, VK_CTX, VK_OP, VK_NR,
};

struct var_pkt {
	uint8_t kind;
	uint8_t idx;
	uint8_t sz;
	uint8_t ext;
};

static void gen_var(struct spegen *g, struct enc *e, struct spe_record *t)
{
	struct var_pkt pkts[24];
	unsigned int n = 0, used_addr = 0, used_cnt = 0, used_ctx = 0;
	bool have_ev = false, have_ds = false, have_op = false;
	/* at least one packet: a record is never just its terminator */
	unsigned int want = 1 + spegen_below(&g->rng, 12);

	/* a PC most of the time, then random distinct packets */
	if (chance(g, 90)) {
		pkts[n++] = (struct var_pkt){ VK_ADDR, 0, 0, chance(g, 5) };
		used_addr |= 1;
	}
	for (unsigned int tries = 0; n < want && tries < 64; tries++) {
		struct var_pkt p = { .kind = spegen_below(&g->rng, VK_NR) };

		switch (p.kind) {
		case VK_ADDR:
			p.idx = chance(g, 70) ? spegen_below(&g->rng, 5) :
						spegen_below(&g->rng, 32);
			p.ext = chance(g, 10);
			if (used_addr & (1u << p.idx))
				continue;
			used_addr |= 1u << p.idx;
			break;
		case VK_CNT:
			p.idx = chance(g, 70) ? spegen_below(&g->rng, 3) :
						spegen_below(&g->rng, 32);
			p.ext = chance(g, 10);
			if (used_cnt & (1u << p.idx))
				continue;
			used_cnt |= 1u << p.idx;
			break;
		case VK_CTX:
			p.idx = spegen_below(&g->rng, 4);
			if (used_ctx & (1u << p.idx))
				continue;
			used_ctx |= 1u << p.idx;
			break;
		case VK_EV:
			if (have_ev)
				continue;
			have_ev = true;
			p.sz = spegen_below(&g->rng, 4);
			break;
		case VK_DS:
			if (have_ds)
				continue;
			have_ds = true;
			p.sz = spegen_below(&g->rng, 4);
			break;
		case VK_OP:
			if (have_op)
				continue;
			have_op = true;
			p.idx = spegen_below(&g->rng, 4);
			break;
		}
		pkts[n++] = p;
	}

	for (unsigned int i = 0; i < n; i++) {
		const struct var_pkt *p = &pkts[i];
		uint64_t v = spegen_rand(&g->rng);

		/* PAD between packets, not before the first one */
		if (i && chance(g, 15)) {
			for (unsigned int k = 1 + spegen_below(&g->rng, 3); k; k--)
				put8(e, 0x00);
		}
		switch (p->kind) {
		case VK_ADDR:
			enc_addr(e, t, p->idx, v, p->ext);
			break;
		case VK_CNT:
			enc_cnt(e, t, p->idx, v, p->ext);
			break;
		case VK_EV:
			enc_ev(e, t, p->sz, v);
			break;
		case VK_DS:
			enc_ds(e, t, p->sz, v);
			break;
		case VK_CTX:
			enc_ctx(e, t, p->idx, v);
			break;
		case VK_OP:
			enc_op(e, t, p->idx, v);
			break;
		}
	}
	if (n && chance(g, 15))
		put8(e, 0x00);
	g->ts += 1 + spegen_below(&g->rng, 4096);
	enc_term(e, t, chance(g, 80), chance(g, 3) ? spegen_rand(&g->rng) :
						     g->ts);
}

int spegen_record(struct spegen *g, uint8_t *buf, size_t cap,
		  struct spe_record *ret_truth)
{
	struct enc e = { .p = buf };
	bool var = g->opts.layout == SPEGEN_VAR ||
		   (g->opts.layout == SPEGEN_MIXED && chance(g, 12));
	size_t start;

	if (cap < SPEGEN_REC_MAX)
		return -ENOSPC;
	/* gaps of PAD between variable records */
	if (var && chance(g, 20)) {
		for (unsigned int k = 1 + spegen_below(&g->rng, 16); k; k--)
			put8(&e, 0x00);
	}
	start = e.n;
	memset(ret_truth, 0, sizeof(*ret_truth));
	if (var)
		gen_var(g, &e, ret_truth);
	else
		gen_n1(g, &e, ret_truth);
	ret_truth->offset = g->offset + start;
	ret_truth->len = e.n - start;
	g->offset += e.n;
	return e.n;
}

int spegen_bytes(const struct spegen_opts *opts, size_t min_len,
		 uint8_t **ret_buf, size_t *ret_len, uint64_t *ret_nrec)
{
	size_t len = 0, cap = min_len + SPEGEN_REC_MAX;
	struct spe_record truth;
	uint64_t n = 0;
	struct spegen g;
	uint8_t *buf;
	int ret;

	ret = spegen_init(&g, opts);
	if (ret)
		return ret;
	buf = malloc(cap);
	for (; buf && len < min_len; n++)
		len += spegen_record(&g, buf + len, cap - len, &truth);
	spegen_free(&g);
	if (!buf)
		return -ENOMEM;
	*ret_buf = buf;
	*ret_len = len;
	if (ret_nrec)
		*ret_nrec = n;
	return 0;
}

int spegen_stream(const struct spegen_opts *opts, size_t nrec,
		  uint8_t **ret_buf, size_t *ret_len,
		  struct spe_record **ret_truth)
{
	struct spegen g;
	size_t cap, len = 0;
	uint8_t *buf;
	struct spe_record *truth;
	int ret;

	if (nrec > (SIZE_MAX / 2) / SPEGEN_REC_MAX)
		return -EINVAL;
	ret = spegen_init(&g, opts);
	if (ret)
		return ret;
	cap = nrec * 96 + SPEGEN_REC_MAX;
	buf = malloc(cap);
	truth = calloc(nrec ? nrec : 1, sizeof(*truth));
	if (!buf || !truth) {
		ret = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < nrec; i++) {
		if (cap - len < SPEGEN_REC_MAX) {
			uint8_t *nb = realloc(buf, cap * 2);

			if (!nb) {
				ret = -ENOMEM;
				goto fail;
			}
			buf = nb;
			cap *= 2;
		}
		ret = spegen_record(&g, buf + len, cap - len, &truth[i]);
		if (ret < 0)
			goto fail;
		len += ret;
	}
	spegen_free(&g);
	*ret_buf = buf;
	*ret_len = len;
	*ret_truth = truth;
	return 0;
fail:
	spegen_free(&g);
	free(buf);
	free(truth);
	return ret;
}
