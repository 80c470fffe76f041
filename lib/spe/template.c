// SPDX-License-Identifier: GPL-2.0-only
/*
 * SPE record layer, fast path (docs/spe.md, "Fast path"): layouts the
 * general path decoded (decode.c) learned as templates, and records
 * decoded through them.  A template matches only where the general path
 * would parse exactly the same packets, so the records are identical.
 */
#include <stddef.h>

#include "internal.h"

void spe_tpl_init(struct spe_dec *d)
{
	struct spe_fast *f = spe_fast_of(d);

	f->tpl_learning = true;
	/* no template yet: every key leads to one that cannot match */
	for (unsigned int k = 0; k < 256; k++)
		f->key_tpl[k] = SPE_TPL_NR * sizeof(struct spe_tpl);
	f->tpl[SPE_TPL_NR].want[0] = 1;
}

/* ---- fast path --------------------------------------------------------- */

#if FAST_PATH
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
static const uint8_t *fast_loop(struct spe_dec *d, struct spe_out *o,
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
	t = tpl_lookup(f, p);
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

const uint8_t *spe_fast_run(struct spe_dec *d, struct spe_out *o,
			    const uint8_t *p, const uint8_t *end)
{
	const struct spe_fast *f = spe_fast_of(d);
	const struct spe_tpl *t;

	/* where no template matches (streams without fixed layouts), one
	 * lookup and compare, before the loop's setup */
	if (end - p < FAST_AVAIL || o->n == o->max)
		return p;
	t = tpl_lookup(f, p);
	return tpl_match(t, p) ? fast_loop(d, o, p, end) : p;
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

/* What a profile needs of template @t, learned from record @r. */
static void tpl_plan(struct spe_tpl *t, const struct spe_record *r)
{
	struct spe_tpl_prof *pl = &t->prof;

	for (unsigned int i = 0; i < t->nops; i++) {
		const unsigned int dst = t->ops[i].dst, src = t->ops[i].src;

		if (dst == offsetof(struct spe_record, addr[SPE_ADDR_PC]))
			pl->pc_src = src;
		else if (dst == offsetof(struct spe_record, ctx[SPE_CTX_EL1]))
			pl->ctx_src = src;
		else if (dst == offsetof(struct spe_record, ts))
			pl->ts_src = src;
		else if (dst == offsetof(struct spe_record, op))
			pl->op_src = src;
		for (unsigned int c = 0; c < SPE_CNT_NR_KNOWN; c++)
			if (dst == offsetof(struct spe_record, cnt[c]))
				pl->cnt_src[c] = src;
	}
	pl->has = (spe_rec_has_addr(r, SPE_ADDR_PC) ? SPE_TP_PC : 0) |
		  (r->ctx_mask & (1u << SPE_CTX_EL1) ? SPE_TP_CTX : 0) |
		  (r->flags & SPE_REC_TS ? SPE_TP_TS : 0) |
		  (r->flags & SPE_REC_EV ? SPE_TP_EV : 0) |
		  (r->flags & SPE_REC_DS ? SPE_TP_DS : 0);
	for (unsigned int c = 0; c < SPE_CNT_NR_KNOWN; c++) {
		const bool has = spe_rec_has_cnt(r, c);

		pl->cnt_mask[c] = has ? 0xffff : 0;
		pl->cnt_none[c] = has ? 0 : SPE_TP_LAT_NONE;
		pl->has |= has ? SPE_TP_CNT0 << c : 0;
	}
	pl->ds_none = r->flags & SPE_REC_DS ? 0 : SPE_TP_DS_NONE;
	if (r->flags & SPE_REC_OP) {
		pl->op_base = 1 + ((r->op_class & 3) << 8);
		pl->op_mask = 0xff;
	}
}

/*
 * Learns the layout of record @r, just decoded by the general path, when
 * its bytes are in the current buffer.  Rate-limited once the template
 * slots are full, so that streams with no fixed layout pay little.
 */
void spe_tpl_learn(struct spe_dec *d, const struct spe_record *r,
		   const struct spe_out *o)
{
	struct spe_fast *f = spe_fast_of(d);
	struct spe_tpl t;
	const uint8_t *p;
	size_t pos = 0;
	unsigned int i;
	uint64_t h;

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
	tpl_plan(&t, r);

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
		t.prof.idx = f->ntpl;
		f->tpl[f->ntpl++] = t;
	} else {
		t.prof.idx = f->tpl_next;
		f->tpl[f->tpl_next] = t;
		f->tpl_next = (f->tpl_next + 1) % SPE_TPL_NR;
	}
	tpl_rekey(d);
}
