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
 * identical (tests/spe/test_decode.c checks this).  The fast path is in
 * template.c.
 */
#include <errno.h>
#include <stddef.h>

#include "internal.h"

enum {
	ST_CLEAN = 0,	/* between records */
	ST_REC,		/* inside a record */
	ST_BROKEN,	/* inside damage: skip to the next good terminator */
};

void spe_dec_init(struct spe_dec *dec, const struct spe_dec_opts *opts)
{
	memset(dec, 0, sizeof(*dec));
	if (opts)
		dec->opts = *opts;
	spe_tpl_init(dec);
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

static struct spe_record *rec_start(struct spe_dec *d, struct spe_out *o,
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
static size_t terminate(struct spe_dec *d, struct spe_out *o, const uint8_t *p,
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
	    !(r->flags & SPE_REC_DUP) && spe_tpl_look(d))
		spe_tpl_learn(d, r, o);
	return n;
}

/*
 * Decodes the packet at @p (@avail bytes, stream offset @off).  Returns the
 * bytes consumed, or 0 when more bytes are needed.
 */
static inline __attribute__((always_inline)) size_t
dec_packet(struct spe_dec *d, struct spe_out *o, const uint8_t *p, size_t avail,
	   uint64_t off)
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
static const uint8_t *gen_run(struct spe_dec *d, struct spe_out *o,
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

/* ---- feeding ----------------------------------------------------------- */

/* Decodes the carried prefix completed with the head of @buf. */
static size_t dec_carry(struct spe_dec *d, struct spe_out *o,
			const uint8_t *buf, size_t len, bool *ret_wait)
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
	return spe_dec_feed_sink(d, buf, len, ret_used, recs, max, NULL);
}

int spe_dec_feed_sink(struct spe_dec *d, const void *buf, size_t len,
		      size_t *ret_used, struct spe_record *recs, size_t max,
		      struct spe_sink *sink)
{
	struct spe_fast *f = spe_fast_of(d);
	const uint8_t *p = buf, *end = p + len;
	struct spe_out o = {
		.recs = recs,
		.max = max,
		.base = buf,
		.base_off = d->offset,
		.base_len = len,
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
		/* where no template matches (streams without fixed
		 * layouts), one lookup and compare, and no call */
		if (fast && d->state == ST_CLEAN && f->ntpl &&
		    end - p >= FAST_AVAIL && tpl_match(tpl_lookup(f, p), p)) {
			const uint8_t *q =
				sink ? spe_fast_sink(d, &o, p, end, sink) :
				       spe_fast_run(d, &o, p, end);

			if (!q)
				break; /* the records so far first */
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
