// SPDX-License-Identifier: GPL-2.0-only
/*
 * SPE record layer: packets → records, streaming.
 *
 * A record is the packets from the first non-PAD packet up to and including
 * an End or Timestamp packet (Arm ARM, SPE sample record specification,
 * "Sample records").  Bytes come in feeds of any size; a packet cut by the
 * end of a feed waits in a small carry buffer, a record cut by it waits in
 * dec->cur, so results depend only on the byte sequence.
 *
 * Damage (docs/spe.md, "Resynchronisation"): a byte that is not a packet
 * header, a packet kind repeated within a record, or an over-long record
 * breaks the record in progress.  The decoder then looks at every following
 * byte for a terminator (End, or Timestamp with its payload) that is
 * followed by PLAUSIBLE_LEN bytes of valid packet headers, or by the end of
 * the stream; the span up to it is counted in stats.dropped and never
 * returned, its bytes in stats.bad_bytes.  The record after it starts clean.
 *
 * Fast path: most streams repeat a few fixed layouts (Neoverse: 64-byte
 * records, PAD fill, Timestamp last).  Records the general path decodes are
 * learned as templates: which bytes are headers or PAD (and their values)
 * and where each payload goes.  At a record start, a template whose bytes
 * all match is applied with straight-line copies.  A match implies the
 * general path would parse exactly the same packets, so the results are
 * identical (tests/spe/test_decode.c checks this).
 */
#include <errno.h>
#include <stddef.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "internal.h"

enum {
	ST_CLEAN = 0,	/* between records */
	ST_REC,		/* inside a record */
	ST_BROKEN,	/* inside damage: skip to the next good terminator */
};

struct out {
	struct spe_record *recs;
	size_t n;
	size_t max;
	const uint8_t *base;	/* current buffer and its stream offset, */
	uint64_t base_off;	/* for learning templates */
	size_t base_len;
};

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FAST_PATH 1
#else
#define FAST_PATH 0	/* the templates store little-endian words */
#endif

/* Bytes the fast path may read from a record start. */
#define FAST_AVAIL	(SPE_TPL_LEN + 8)

static void tpl_learn(struct spe_dec *d, const struct spe_record *r,
		      const struct out *o);

void spe_dec_init(struct spe_dec *dec, const struct spe_dec_opts *opts)
{
	struct spe_fast *f = spe_fast_of(dec);

	memset(dec, 0, sizeof(*dec));
	if (opts)
		dec->opts = *opts;
	f->tpl_learning = true;
	/* no template yet: every key leads to one that cannot match */
	for (unsigned int k = 0; k < 256; k++)
		f->key_tpl[k] = SPE_TPL_NR * sizeof(struct spe_tpl);
	f->tpl[SPE_TPL_NR].want[0] = 1;
	if (!FAST_PATH)
		dec->opts.flags |= SPE_DEC_NO_FAST;
}

static void go_broken(struct spe_dec *d)
{
	if (d->state != ST_BROKEN) {
		d->state = ST_BROKEN;
		d->stats.resyncs++;
	}
}

static size_t bad_byte(struct spe_dec *d)
{
	d->stats.bad_bytes++;
	go_broken(d);
	return 1;
}

static struct spe_record *rec_start(struct spe_dec *d, struct out *o,
				    uint64_t off)
{
	struct spe_record *r = &o->recs[o->n];

	/* presence only: the values of absent fields are undefined */
	memset(r, 0, 16);
	r->offset = off;
	d->state = ST_REC;
	return r;
}

/* A repeated packet kind: keep it (flagged) or break the record. */
static bool dup_ok(struct spe_dec *d, struct spe_record *r)
{
	d->stats.dups++;
	if (d->opts.flags & SPE_DEC_KEEP_DUP) {
		r->flags |= SPE_REC_DUP;
		return true;
	}
	go_broken(d);
	return false;
}

static size_t pad_run(const uint8_t *p, size_t avail)
{
	size_t k = 1;

	while (avail - k >= 8) {
		uint64_t w = spe_load_le64(p + k);

		if (w)
			return k + (__builtin_ctzll(w) >> 3);
		k += 8;
	}
	while (k < avail && !p[k])
		k++;
	return k;
}

/* Bytes after a terminator that must look like packets to end damage. */
#define PLAUSIBLE_LEN	16

/*
 * Whether the bytes at @p look like the start of a record: the headers of
 * the packets starting in the next PLAUSIBLE_LEN bytes are all valid, and
 * a terminator among them is not the first packet (no empty record).
 * Returns 1 or 0, or -1 when more bytes are needed to tell.
 */
static int plausible_start(const uint8_t *p, size_t avail)
{
	bool packets = false;
	size_t pos = 0;

	while (pos < PLAUSIBLE_LEN) {
		const struct spe_hdr_info *hi;

		if (pos >= avail)
			return -1;
		hi = &spe_hdr_tab[p[pos]];
		if (hi->type == SPE_HK_EXT) {
			if (pos + 1 >= avail)
				return -1;
			hi = &spe_hdr_tab[p[pos + 1]];
			if (hi->type != SPE_PKT_ADDRESS &&
			    hi->type != SPE_PKT_COUNTER)
				return 0;
			pos++;
		}
		switch (hi->type) {
		case SPE_PKT_BAD:
			return 0;
		case SPE_PKT_END:
		case SPE_PKT_TIMESTAMP:
			return packets;
		case SPE_PKT_PAD:
			pos++;
			break;
		default:
			packets = true;
			pos += 1 + hi->plen;
		}
	}
	return 1;
}

/*
 * Which terminator kinds close good records.  Streams use one kind (TS
 * when timestamps are enabled); inside damage, a kind that closes fewer
 * than 1 in 64 good records is not trusted, which rules out most stray
 * 0x01 bytes.
 */
static void term_count(struct spe_dec *d, unsigned int type)
{
	d->terms[type == SPE_PKT_TIMESTAMP]++;
}

static bool term_trusted(const struct spe_dec *d, unsigned int type)
{
	uint64_t total = d->terms[0] + d->terms[1];

	return total < 64 || d->terms[type == SPE_PKT_TIMESTAMP] * 64 >= total;
}

/*
 * Ends the record (or broken span) with a terminator of @n bytes at @p.
 * Returns the bytes consumed, 0 to wait for the byte after it.
 */
static size_t terminate(struct spe_dec *d, struct out *o, const uint8_t *p,
			size_t avail, uint64_t off, unsigned int type,
			uint64_t v, size_t n)
{
	struct spe_record *r;

	if (d->state == ST_BROKEN) {
		/*
		 * Only a terminator of a kind that closes good records,
		 * followed by plausible packets, ends the damage.
		 */
		switch (term_trusted(d, type) ?
			plausible_start(p + n, avail - n) : 0) {
		case -1:
			return 0;
		case 0:
			d->stats.bad_bytes++;
			return 1;
		}
		d->stats.dropped++;
		d->state = ST_CLEAN;
		return n;
	}
	r = d->state == ST_REC ? &o->recs[o->n] : rec_start(d, o, off);
	if (type == SPE_PKT_TIMESTAMP) {
		r->flags |= SPE_REC_TS;
		r->ts = v;
	} else {
		r->flags |= SPE_REC_END;
	}
	d->state = ST_CLEAN;
	term_count(d, type);
	if (off + n - r->offset > SPE_REC_MAX_LEN) {
		d->stats.dropped++;
		return n;
	}
	r->len = off + n - r->offset;
	d->stats.records++;
	o->n++;
	if (!(d->opts.flags & SPE_DEC_NO_FAST) && r->len <= SPE_TPL_LEN &&
	    !(r->flags & SPE_REC_DUP))
		tpl_learn(d, r, o);
	return n;
}

/*
 * Decodes the packet at @p (@avail bytes, stream offset @off).  Returns the
 * bytes consumed, or 0 when more bytes are needed.
 */
static inline __attribute__((always_inline))
size_t dec_packet(struct spe_dec *d, struct out *o, const uint8_t *p,
		  size_t avail, uint64_t off)
{
	const struct spe_hdr_info *hi = &spe_hdr_tab[p[0]];
	unsigned int type = hi->type, idx = hi->index, hlen = 1;
	struct spe_record *r;
	uint64_t v;
	size_t n;

	/* inside damage, look for a terminator at every byte: skipping
	 * whole packets could jump over the real one */
	if (d->state == ST_BROKEN && type != SPE_PKT_END &&
	    type != SPE_PKT_TIMESTAMP) {
		d->stats.bad_bytes++;
		return 1;
	}
	if (type == SPE_HK_EXT) {
		if (avail < 2)
			return 0;
		hi = &spe_hdr_tab[p[1]];
		type = hi->type;
		if (type != SPE_PKT_ADDRESS && type != SPE_PKT_COUNTER)
			return bad_byte(d);
		idx = idx << 3 | hi->index;
		hlen = 2;
	}
	switch (type) {
	case SPE_PKT_BAD:
		return bad_byte(d);
	case SPE_PKT_PAD:
		return pad_run(p, avail);
	default:
		break;
	}
	n = hlen + hi->plen;
	if (avail < n)
		return 0;
	if (avail >= hlen + 8)
		v = spe_load_le64(p + hlen) & spe_bytes_mask(hi->plen);
	else
		v = spe_load_le(p + hlen, hi->plen);

	if (type == SPE_PKT_END || type == SPE_PKT_TIMESTAMP)
		return terminate(d, o, p, avail, off, type, v, n);
	if (d->state == ST_BROKEN)
		return n;
	r = d->state == ST_REC ? &o->recs[o->n] : rec_start(d, o, off);

	switch (type) {
	case SPE_PKT_ADDRESS:
		if ((r->addr_mask & (1u << idx)) && !dup_ok(d, r))
			break;
		r->addr_mask |= 1u << idx;
		r->addr[idx] = v;
		break;
	case SPE_PKT_COUNTER:
		if ((r->cnt_mask & (1u << idx)) && !dup_ok(d, r))
			break;
		r->cnt_mask |= 1u << idx;
		r->cnt[idx] = v;
		break;
	case SPE_PKT_EVENTS:
		if ((r->flags & SPE_REC_EV) && !dup_ok(d, r))
			break;
		r->flags |= SPE_REC_EV;
		r->events = v;
		r->ev_len = hi->plen;
		break;
	case SPE_PKT_DATA_SOURCE:
		if ((r->flags & SPE_REC_DS) && !dup_ok(d, r))
			break;
		r->flags |= SPE_REC_DS;
		r->ds = v;
		r->ds_len = hi->plen;
		break;
	case SPE_PKT_OP_TYPE:
		if ((r->flags & SPE_REC_OP) && !dup_ok(d, r))
			break;
		r->flags |= SPE_REC_OP;
		r->op_class = idx;
		r->op = v;
		break;
	case SPE_PKT_CONTEXT:
		if ((r->ctx_mask & (1u << idx)) && !dup_ok(d, r))
			break;
		r->ctx_mask |= 1u << idx;
		r->ctx[idx] = v;
		break;
	}
	return n;
}

/* ---- general path, straight --------------------------------------------- */

#if FAST_PATH
/*
 * dec_packet() for the common case, as a loop over a record's packets with
 * one table entry per header byte: where the payload goes, how wide it is,
 * and which presence bit it sets (the presence masks are the record's first
 * bytes, little-endian).  A payload is stored by merging it into the 8
 * bytes at its field (no branch on its width), and an aux byte (ev_len,
 * ds_len, op_class; else reserved0, which stays 0) is stored with it.
 * Anything else (a bad byte, a bad extended header, a repeated packet kind,
 * damage) stops the loop before the packet, and dec_packet() decides: the
 * results are those of dec_packet() alone.
 */
enum { GK_SLOW = 0, GK_PAY, GK_PAD, GK_TERM, GK_EXT };

struct gen_ent {
	uint16_t dst;  /* payload field's offset in struct spe_record */
	uint8_t kind;  /* GK_* */
	uint8_t type;  /* SPE_PKT_* */
	uint8_t plen;  /* payload bytes */
	uint8_t width; /* field bytes */
	uint8_t pbyte; /* presence bit: byte offset in the record, */
	uint8_t pbit;  /* and bit */
	uint8_t aux;   /* aux byte offset, and value */
	uint8_t auxv;
	uint8_t idx; /* extended header: index bits 4:3 */
};

static struct gen_ent gen_tab[256];

#define REC(f) offsetof(struct spe_record, f)
#define BY_INDEX 0xff /* presence bit: the packet's index */

/*
 * Per payload packet type: the field (and its stride per index), its
 * width, the presence mask and bit, the aux byte and what it is set to
 * (aux_is 1: the payload size, 2: the index; 0: none, reserved0 stays 0).
 */
static const struct gen_kind {
	uint16_t dst, step;
	uint8_t width, at, bit, aux, aux_is;
} gen_kinds[SPE_HK_EXT + 1] = {
	[SPE_PKT_ADDRESS] = { REC(addr), 8, 8, REC(addr_mask), BY_INDEX },
	[SPE_PKT_COUNTER] = { REC(cnt), 2, 2, REC(cnt_mask), BY_INDEX },
	[SPE_PKT_CONTEXT] = { REC(ctx), 4, 4, REC(ctx_mask), BY_INDEX },
	[SPE_PKT_EVENTS] = { REC(events), 0, 8, REC(flags), 2, REC(ev_len), 1 },
	[SPE_PKT_DATA_SOURCE] = { REC(ds), 0, 8, REC(flags), 3, REC(ds_len),
				  1 },
	[SPE_PKT_OP_TYPE] = { REC(op), 0, 1, REC(flags), 4, REC(op_class), 2 },
};
_Static_assert(SPE_REC_EV == 1 << 2 && SPE_REC_DS == 1 << 3 &&
		       SPE_REC_OP == 1 << 4,
	       "gen_kinds[]: flag bits");

__attribute__((constructor)) static void gen_tab_init(void)
{
	for (unsigned int b = 0; b < 256; b++) {
		const struct spe_hdr_info *hi = &spe_hdr_tab[b];
		const struct gen_kind *k = &gen_kinds[hi->type];
		struct gen_ent *e = &gen_tab[b];
		const unsigned int i = hi->index;
		const unsigned int bit = k->bit == BY_INDEX ? i : k->bit;
		const unsigned int aux_val[] = { 0, hi->plen, i };

		*e = (struct gen_ent){
			.kind = GK_PAY,
			.type = hi->type,
			.plen = hi->plen,
			.dst = k->dst + i * k->step,
			.width = k->width,
			.pbyte = k->at + bit / 8,
			.pbit = 1u << (bit % 8),
			.aux = k->aux_is ? k->aux : REC(reserved0),
			.auxv = aux_val[k->aux_is],
		};
		switch (hi->type) {
		case SPE_PKT_END:
		case SPE_PKT_TIMESTAMP:
			e->kind = GK_TERM;
			break;
		case SPE_PKT_PAD:
			e->kind = GK_PAD;
			break;
		case SPE_HK_EXT:
			e->kind = GK_EXT;
			e->idx = i;
			break;
		case SPE_PKT_BAD:
			e->kind = GK_SLOW;
			break;
		}
	}
}
#undef BY_INDEX
#undef REC

/* Bytes gen_run() needs after a packet start: a 2-byte header and an
 * 8-byte load. */
#define GEN_MARGIN 16

/*
 * Decodes packets from @p (not inside damage) while GEN_MARGIN bytes are
 * left before @end and the output has room; returns at a record start
 * when templates could take over, and where a packet needs dec_packet().
 */
static const uint8_t *gen_run(struct spe_dec *d, struct out *o,
			      const uint8_t *p, const uint8_t *end, bool fast)
{
	const struct spe_fast *f = spe_fast_of(d);
	const uint8_t *lim = end - GEN_MARGIN;
	uint8_t *rb = (uint8_t *)&o->recs[o->n];

	while (p <= lim) {
		const struct gen_ent *e = &gen_tab[p[0]];
		struct gen_ent x;
		unsigned int hlen = 1;
		uint64_t v, old, wm;

		if (e->kind == GK_PAD) {
			p += pad_run(p, end - p);
			continue;
		}
		if (e->kind == GK_TERM) {
			const uint64_t off = o->base_off + (p - o->base);

			v = e->plen ? spe_load_le64(p + 1) &
					      spe_bytes_mask(e->plen) :
				      0;
			p += terminate(d, o, p, end - p, off, e->type, v,
				       1 + e->plen);
			if (o->n == o->max || (fast && f->ntpl))
				return p;
			rb = (uint8_t *)&o->recs[o->n];
			continue;
		}
		if (e->kind == GK_EXT) {
			const struct gen_ent *y = &gen_tab[p[1]];

			if (y->type != SPE_PKT_ADDRESS &&
			    y->type != SPE_PKT_COUNTER)
				return p;
			/* index bits 4:3 from the first byte */
			x = *y;
			x.dst += e->idx * 8 * y->width;
			x.pbyte += e->idx;
			e = &x;
			hlen = 2;
		}
		if (e->kind != GK_PAY)
			return p;
		if (d->state == ST_CLEAN)
			rec_start(d, o, o->base_off + (p - o->base));
		if (rb[e->pbyte] & e->pbit)
			return p; /* a repeated kind */
		rb[e->pbyte] |= e->pbit;
		v = spe_load_le64(p + hlen) & spe_bytes_mask(e->plen);
		wm = spe_bytes_mask(e->width);
		memcpy(&old, rb + e->dst, 8);
		old = (old & ~wm) | (v & wm);
		memcpy(rb + e->dst, &old, 8);
		rb[e->aux] = e->auxv;
		p += hlen + e->plen;
	}
	return p;
}
#endif

/* ---- fast path --------------------------------------------------------- */

/* Template lookup key from the bytes at the two key positions. */
static inline unsigned int tpl_key(uint8_t a, uint8_t b)
{
	return (a ^ (uint8_t)(b << 3 | b >> 5)) & 0xff;
}

#if FAST_PATH
typedef uint8_t v16u __attribute__((vector_size(16), aligned(1)));
typedef uint8_t v16a __attribute__((vector_size(16)));

/* Whether the header and PAD bytes at @p are the template's. */
static inline bool tpl_match(const struct spe_tpl *t, const uint8_t *p)
{
	const v16u *in = (const v16u *)p;
	const v16a *m = (const v16a *)t->mask, *w = (const v16a *)t->want;
	v16a x = ((in[0] & m[0]) ^ w[0]) | ((in[1] & m[1]) ^ w[1]) |
		 ((in[2] & m[2]) ^ w[2]) | ((in[3] & m[3]) ^ w[3]);
#ifdef __SSE2__
	return _mm_movemask_epi8(_mm_cmpeq_epi8((__m128i)x,
						_mm_setzero_si128())) == 0xffff;
#else
	uint64_t lo, hi;

	memcpy(&lo, &x, 8);
	memcpy(&hi, (const uint8_t *)&x + 8, 8);
	return !(lo | hi);
#endif
}

/*
 * Applies template @t to the record at @p; @p must have FAST_AVAIL bytes.
 * Every payload is copied as 8 bytes, in the order of the destination
 * fields, so a wide store only clobbers fields written after it or absent
 * ones: a field narrower than 8 bytes gets exactly its payload bytes.  The
 * 8-byte events and data source fields, whose payloads may be shorter, are
 * stored apart, masked.  Every template has SPE_TPL_OPS ops (unused ones store to
 * the record's slack): the loop has a fixed count, no data-dependent
 * branch.
 */
static inline void tpl_apply(const struct spe_tpl *t, const uint8_t *p,
			     uint64_t off, struct spe_record *r)
{
	uint8_t *dst = (uint8_t *)r;

	memcpy(dst, t->head, sizeof(t->head));
#pragma GCC unroll 16
	for (unsigned int i = 0; i < SPE_TPL_OPS; i++)
		memcpy(dst + t->ops[i].dst, p + t->ops[i].src, 8);
	/* (no op writes past its field into these two) */
	r->events = spe_load_le64(p + t->ev_src) & t->ev_mask;
	r->ds = spe_load_le64(p + t->ds_src) & t->ds_mask;
	r->len = t->len;
	r->offset = off;
}

/*
 * Decodes records through the templates for as long as they match, from a
 * record boundary in the clean state.  Returns where it stopped.  All
 * templates have the same length (Neoverse: 64 bytes), so the next record's
 * position does not wait for this one's template lookup and consecutive
 * records decode in parallel.
 */
#ifndef FAST_PREFETCH
#define FAST_PREFETCH 2048 /* bytes ahead of the record being decoded */
#endif
static const uint8_t *fast_run(struct spe_dec *d, struct out *o,
			       const uint8_t *p, const uint8_t *end)
{
	struct spe_fast *f = spe_fast_of(d);
	const unsigned int k0 = f->key_pos[0], k1 = f->key_pos[1];
	const uint64_t off0 = o->base_off - (uintptr_t)o->base;
	const uint8_t *tpl = (const uint8_t *)f->tpl;
	const size_t len = f->tpl_len, avail = end - p;
	struct spe_record *r = &o->recs[o->n];
	size_t room = o->max - o->n, n = 0, nts = 0, fit;
	const struct spe_tpl *t;

	fit = avail < FAST_AVAIL ? 0 : (avail - FAST_AVAIL) / len + 1;
	room = fit < room ? fit : room;
	if (!room)
		return p;
	t = (const struct spe_tpl *)(tpl + f->key_tpl[tpl_key(p[k0], p[k1])]);
	for (;;) {
		/* the next record's template, looked up before this record is
		 * applied: the lookup chain is not on the critical path */
		const uint8_t *q = n + 1 < room ? p + len : p;
		const struct spe_tpl *tn =
			(const struct spe_tpl
				 *)(tpl + f->key_tpl[tpl_key(q[k0], q[k1])]);

		/* input from memory (not a small reused buffer) misses at
		 * every 4 KiB page, where hardware prefetchers stop */
		__builtin_prefetch(p + FAST_PREFETCH);
		if (!tpl_match(t, p))
			break;
		tpl_apply(t, p, off0 + (uintptr_t)p, r++);
		n++;
		nts += t->is_ts;
		p += len;
		if (n == room)
			break;
		t = tn;
	}
	if (!n)
		return p;
	d->stats.records += n;
	d->stats.fast += n;
	d->terms[1] += nts;
	d->terms[0] += n - nts;
	o->n += n;
	return p;
}
#endif

/* Destination of a payload in struct spe_record, -1 for none. */
static int payload_dst(const struct spe_pkt *pkt)
{
	switch (pkt->type) {
	case SPE_PKT_TIMESTAMP:
		return offsetof(struct spe_record, ts);
	case SPE_PKT_EVENTS:
		return offsetof(struct spe_record, events);
	case SPE_PKT_DATA_SOURCE:
		return offsetof(struct spe_record, ds);
	case SPE_PKT_OP_TYPE:
		return offsetof(struct spe_record, op);
	case SPE_PKT_CONTEXT:
		return offsetof(struct spe_record, ctx[pkt->index]);
	case SPE_PKT_ADDRESS:
		return offsetof(struct spe_record, addr[pkt->index]);
	case SPE_PKT_COUNTER:
		return offsetof(struct spe_record, cnt[pkt->index]);
	default:
		return -1;
	}
}

/* How many distinct (want[a], want[b]) pairs the templates have, 0 when a
 * template does not fully specify both bytes. */
static unsigned int key_distinct(const struct spe_dec *d, unsigned int a,
				 unsigned int b)
{
	struct spe_fast *f = spe_fast_of(d);
	uint8_t seen[SPE_TPL_NR][2];
	unsigned int distinct = 0;

	for (unsigned int i = 0; i < f->ntpl; i++) {
		const struct spe_tpl *t = &f->tpl[i];
		bool dup = false;

		if (t->mask[a] != 0xff || t->mask[b] != 0xff)
			return 0;
		for (unsigned int j = 0; j < distinct; j++)
			dup |= seen[j][0] == t->want[a] &&
			       seen[j][1] == t->want[b];
		if (!dup) {
			seen[distinct][0] = t->want[a];
			seen[distinct][1] = t->want[b];
			distinct++;
		}
	}
	return distinct;
}

/* Picks two byte positions that tell the templates apart (greedily). */
static void tpl_rekey(struct spe_dec *d)
{
	struct spe_fast *f = spe_fast_of(d);
	unsigned int best = 0, pos[2] = { 0, 0 };

	for (unsigned int a = 0; a < SPE_TPL_LEN; a++) {
		unsigned int n = key_distinct(d, a, a);

		if (n > best) {
			best = n;
			pos[0] = pos[1] = a;
		}
	}
	for (unsigned int b = 0; b < SPE_TPL_LEN && best < f->ntpl; b++) {
		unsigned int n = key_distinct(d, pos[0], b);

		if (n > best) {
			best = n;
			pos[1] = b;
		}
	}
	f->key_pos[0] = pos[0];
	f->key_pos[1] = pos[1];
	for (unsigned int k = 0; k < 256; k++)
		f->key_tpl[k] = SPE_TPL_NR * sizeof(struct spe_tpl);
	for (unsigned int i = 0; i < f->ntpl; i++)
		f->key_tpl[tpl_key(f->tpl[i].want[pos[0]],
				   f->tpl[i].want[pos[1]])] =
			i * sizeof(struct spe_tpl);
}

/*
 * Forgets the templates when they served fewer than 1 in 4 of the last
 * 4096 records or more (the stream's layouts changed, or it has none), so
 * that others can be learned, of another length too; then pauses learning
 * for longer and longer while that keeps happening.  Returns whether to
 * learn now.
 */
static bool tpl_check_stale(struct spe_dec *d)
{
	struct spe_fast *f = spe_fast_of(d);
	uint64_t recs = d->stats.records - f->win_records;
	uint64_t fast = d->stats.fast - f->win_fast;

	if (recs < ((uint64_t)4096 << f->tpl_backoff))
		return f->tpl_learning;
	if (fast * 4 < recs) {
		f->ntpl = 0;
		f->tpl_next = 0;
		for (unsigned int k = 0; k < 256; k++)
			f->key_tpl[k] = SPE_TPL_NR * sizeof(struct spe_tpl);
		/* learn in every other window, the next one twice as long */
		f->tpl_learning = !f->tpl_learning;
		if (f->tpl_learning && f->tpl_backoff < 10)
			f->tpl_backoff++;
	} else {
		f->tpl_learning = true;
		f->tpl_backoff = 0;
	}
	f->win_records = d->stats.records;
	f->win_fast = d->stats.fast;
	return f->tpl_learning;
}

/* FNV-1a over what identifies a layout (never 0). */
static uint64_t layout_hash(const struct spe_tpl *t)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ t->len;

	for (size_t i = 0; i < SPE_TPL_LEN; i++) {
		h = (h ^ t->mask[i]) * 0x100000001b3ULL;
		h = (h ^ t->want[i]) * 0x100000001b3ULL;
	}
	return h | 1;
}

/*
 * Learns the layout of record @r, just decoded by the general path, when
 * its bytes are in the current buffer.  Rate-limited once the template
 * slots are full, so that streams with no fixed layout pay little.
 */
static void tpl_learn(struct spe_dec *d, const struct spe_record *r,
		      const struct out *o)
{
	struct spe_fast *f = spe_fast_of(d);
	struct spe_tpl t;
	const uint8_t *p;
	size_t pos = 0;
	unsigned int i;
	uint64_t h;

	/* look at 1 record in 8 once there are templates: streams with no
	 * fixed layout then pay little for trying */
	if (f->ntpl && (++f->tpl_miss & 7))
		return;
	if (!tpl_check_stale(d))
		return;
	/* one length for all (see fast_run()) */
	if (f->ntpl && r->len != f->tpl_len)
		return;
	if (r->offset < o->base_off ||
	    r->offset + r->len > o->base_off + o->base_len)
		return;
	p = o->base + (r->offset - o->base_off);
	/* (cleared only here: most records are not looked at) */
	t = (struct spe_tpl){ .len = r->len };
	while (pos < r->len) {
		struct spe_pkt pkt;
		int ret = spe_pkt_parse(p + pos, r->len - pos, &pkt);
		int dst;

		if (ret <= 0)
			return;
		/* headers and PAD are matched, payloads copied */
		memset(t.mask + pos, 0xff, pkt.len - pkt.payload_len);
		memcpy(t.want + pos, p + pos, pkt.len - pkt.payload_len);
		dst = payload_dst(&pkt);
		if (pkt.type == SPE_PKT_EVENTS) {
			t.ev_src = pos + 1;
			t.ev_mask = spe_bytes_mask(pkt.payload_len);
		} else if (pkt.type == SPE_PKT_DATA_SOURCE) {
			t.ds_src = pos + 1;
			t.ds_mask = spe_bytes_mask(pkt.payload_len);
		} else if (dst >= 0) {
			i = t.nops;
			if (i == SPE_TPL_OPS)
				return;
			/* insertion sort by destination, stable */
			while (i > 0 && t.ops[i - 1].dst > dst) {
				t.ops[i] = t.ops[i - 1];
				i--;
			}
			t.ops[i] = (struct spe_tpl_op){
				.dst = dst,
				.src = pos + pkt.len - pkt.payload_len,
			};
			t.nops++;
		}
		pos += ret;
	}
	/* the unused ops store nothing, to the record's slack */
	for (i = t.nops; i < SPE_TPL_OPS; i++)
		t.ops[i].dst = offsetof(struct spe_record, reserved2);
	memcpy(t.head, r, sizeof(t.head));
	t.is_ts = !!(r->flags & SPE_REC_TS);

	for (i = 0; i < f->ntpl; i++)
		if (f->tpl[i].len == t.len &&
		    !memcmp(f->tpl[i].mask, t.mask, sizeof(t.mask)) &&
		    !memcmp(f->tpl[i].want, t.want, sizeof(t.want)))
			return;
	/* a layout becomes a template when seen a second time */
	h = layout_hash(&t);
	for (i = 0; i < SPE_TPL_CAND && f->cand[i] != h; i++)
		;
	if (i == SPE_TPL_CAND) {
		f->cand[f->cand_next] = h;
		f->cand_next = (f->cand_next + 1) % SPE_TPL_CAND;
		return;
	}
	f->cand[i] = 0;
	f->tpl_len = t.len;
	if (f->ntpl < SPE_TPL_NR) {
		f->tpl[f->ntpl++] = t;
	} else {
		f->tpl[f->tpl_next] = t;
		f->tpl_next = (f->tpl_next + 1) % SPE_TPL_NR;
	}
	tpl_rekey(d);
}

/* ---- feeding ----------------------------------------------------------- */

/* Decodes the carried prefix completed with the head of @buf. */
static size_t dec_carry(struct spe_dec *d, struct out *o, const uint8_t *buf,
			size_t len, bool *ret_wait)
{
	uint8_t win[sizeof(d->carry) + 32];
	size_t cl = d->carry_len, take = len < 32 ? len : 32;
	size_t wl = cl + take, pos = 0;
	uint64_t off = d->offset - cl;

	memcpy(win, d->carry, cl);
	memcpy(win + cl, buf, take);
	*ret_wait = false;
	while (pos < cl && o->n < o->max) {
		size_t k = dec_packet(d, o, win + pos, wl - pos, off + pos);

		if (!k) {
			/* still short: all of @buf joins the carry */
			memmove(d->carry, win + pos, wl - pos);
			d->carry_len = wl - pos;
			*ret_wait = true;
			return len;
		}
		pos += k;
	}
	if (pos < cl) {
		/* output full before the carry was used up */
		memmove(d->carry, d->carry + pos, cl - pos);
		d->carry_len = cl - pos;
		return 0;
	}
	d->carry_len = 0;
	return pos - cl;
}

int spe_dec_feed(struct spe_dec *d, const void *buf, size_t len,
		 size_t *ret_used, struct spe_record *recs, size_t max)
{
	struct spe_fast *f = spe_fast_of(d);
	const uint8_t *p = buf, *end = p + len;
	struct out o = {
		.recs = recs, .max = max,
		.base = buf, .base_off = d->offset, .base_len = len,
	};
	const bool fast = !(d->opts.flags & SPE_DEC_NO_FAST);
	bool wait;

	if (!recs || !max || (!buf && len) || !ret_used)
		return -EINVAL;
	if (d->state == ST_REC)
		recs[0] = d->cur;
	if (d->carry_len) {
		size_t k = dec_carry(d, &o, p, len, &wait);

		p += k;
		d->offset += k;
		if (wait || d->carry_len)
			goto out;
	}
	o.base_off = d->offset;
	o.base = p;
	o.base_len = end - p;

	while (p < end && o.n < o.max) {
		uint64_t off = o.base_off + (p - o.base);
		size_t k;

#if FAST_PATH
		if (fast && d->state == ST_CLEAN && f->ntpl) {
			const uint8_t *q = fast_run(d, &o, p, end);

			if (q != p) {
				p = q;
				continue;
			}
		}
		if (d->state != ST_BROKEN && end - p >= GEN_MARGIN) {
			const uint8_t *q = gen_run(d, &o, p, end, fast);

			if (q != p) {
				p = q;
				continue;
			}
		}
#endif
		k = dec_packet(d, &o, p, end - p, off);
		if (!k) {
			/* a packet cut by the end of the buffer */
			memcpy(d->carry, p, end - p);
			d->carry_len = end - p;
			p = end;
			break;
		}
		p += k;
	}
	d->offset = o.base_off + (p - o.base);
out:
	if (d->state == ST_REC)
		d->cur = recs[o.n];
	d->stats.bytes = d->offset;
	*ret_used = p - (const uint8_t *)buf;
	return o.n;
}

void spe_dec_finish(struct spe_dec *d)
{
	/*
	 * A carried prefix is a packet cut by the end of the stream: it ends
	 * a broken span, or truncates the record it belongs to.
	 */
	if (d->state == ST_BROKEN)
		d->stats.dropped++;
	else if (d->state == ST_REC || d->carry_len)
		d->stats.truncated++;
	d->carry_len = 0;
	d->state = ST_CLEAN;
	d->stats.bytes = d->offset;
}

bool spe_dec_at_boundary(const struct spe_dec *d)
{
	return d->state == ST_CLEAN && !d->carry_len;
}

void spe_dec_discontinuity(struct spe_dec *d)
{
	d->stats.bad_bytes += d->carry_len;
	d->carry_len = 0;
	go_broken(d);
}

int spe_dec_run_batches(struct spe_dec *dec, const void *buf, size_t len,
			bool finish, spe_batch_fn fn, void *arg)
{
	struct spe_record recs[32];
	const uint8_t *p = buf;

	while (len) {
		size_t used;
		int ret, n = spe_dec_feed(dec, p, len, &used, recs, 32);

		if (n < 0)
			return n;
		ret = n ? fn(arg, recs, n) : 0;
		if (ret)
			return ret;
		p += used;
		len -= used;
	}
	if (finish)
		spe_dec_finish(dec);
	return 0;
}

struct run_one {
	spe_rec_fn fn;
	void *arg;
};

static int run_one_cb(void *arg, const struct spe_record *recs, size_t n)
{
	const struct run_one *c = arg;

	for (size_t i = 0; i < n; i++) {
		int ret = c->fn(c->arg, &recs[i]);

		if (ret)
			return ret;
	}
	return 0;
}

int spe_dec_run(struct spe_dec *dec, const void *buf, size_t len, bool finish,
		spe_rec_fn fn, void *arg)
{
	struct run_one c = { fn, arg };

	return spe_dec_run_batches(dec, buf, len, finish, run_one_cb, &c);
}

bool spe_record_equal(const struct spe_record *a, const struct spe_record *b)
{
	if (a->addr_mask != b->addr_mask || a->cnt_mask != b->cnt_mask ||
	    a->flags != b->flags || a->ctx_mask != b->ctx_mask ||
	    a->len != b->len || a->offset != b->offset)
		return false;
	if ((a->flags & SPE_REC_TS) && a->ts != b->ts)
		return false;
	if ((a->flags & SPE_REC_EV) &&
	    (a->events != b->events || a->ev_len != b->ev_len))
		return false;
	if ((a->flags & SPE_REC_DS) &&
	    (a->ds != b->ds || a->ds_len != b->ds_len))
		return false;
	if ((a->flags & SPE_REC_OP) &&
	    (a->op != b->op || a->op_class != b->op_class))
		return false;
	for (unsigned int i = 0; i < SPE_CTX_IDX_NR; i++)
		if ((a->ctx_mask & (1u << i)) && a->ctx[i] != b->ctx[i])
			return false;
	for (unsigned int i = 0; i < SPE_ADDR_IDX_NR; i++)
		if ((a->addr_mask & (1u << i)) && a->addr[i] != b->addr[i])
			return false;
	for (unsigned int i = 0; i < SPE_CNT_IDX_NR; i++)
		if ((a->cnt_mask & (1u << i)) && a->cnt[i] != b->cnt[i])
			return false;
	return true;
}
