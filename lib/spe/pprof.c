// SPDX-License-Identifier: GPL-2.0-only
/*
 * SPE samples as a gzipped pprof profile (github.com/google/pprof,
 * proto/profile.proto), for `go tool pprof`, Parca, Pyroscope, Grafana.
 *
 * The encoder is written by hand: profile.proto is a small, stable public
 * format (five message types, varints and length-delimited fields), and
 * writing it directly needs no generated code, no protobuf-c runtime and
 * no copy of the schema in the tree; zlib (already linked for compressed
 * input) does the gzip.
 *
 * Samples are aggregated by (PC, branch target, vCPU, EL, op, data
 * source): values samples/count, latency/cycles (total latency),
 * l1d_miss/count and llc_miss/count (event bits); labels vm, vcpu, el,
 * op, data_source.  One location per PC (a function per guest symbol); a
 * branch's target is the leaf frame above its PC, so flame graphs show
 * from -> to.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <kvmprof/spe_pprof.h>

#define PP_MAX_KEYS (1u << 24)

struct pp_key {
	uint64_t pc;  /* canonical; 0: none */
	uint64_t tgt; /* canonical branch target; 0: none */
	int32_t vcpu; /* -1: none */
	uint8_t el;   /* EL of the PC, 4: none */
	uint8_t op;   /* enum pp_op */
	uint8_t ds;   /* enum spe_ds; DS_RAW + raw value when the
				 * CPU's table has no name; DS_NONE */
	uint8_t used;
};

struct pp_ent {
	struct pp_key k;
	uint64_t v[SPE_PPROF_NVALUES];
};

struct spe_pprof {
	uint64_t midr;
	enum spe_cpu cpu;
	struct pp_ent *tab;
	uint32_t cap; /* power of two */
	uint32_t n;
};

enum pp_op { OP_NONE, OP_LOAD, OP_STORE, OP_BRANCH, OP_OTHER, OP_NR };

#define DS_RAW (SPE_DS_NR + 1)
#define DS_NONE (DS_RAW + 16)

static const char *const ds_raw_names[16] = {
	"raw-0",  "raw-1",  "raw-2",  "raw-3",	"raw-4",  "raw-5",
	"raw-6",  "raw-7",  "raw-8",  "raw-9",	"raw-10", "raw-11",
	"raw-12", "raw-13", "raw-14", "raw-15",
};

static const char *const op_names[OP_NR] = {
	"none", "load", "store", "branch", "other",
};

static const char *const el_names[5] = { "el0", "el1", "el2", "el3", "none" };

struct spe_pprof *spe_pprof_new(uint64_t midr)
{
	struct spe_pprof *pp = calloc(1, sizeof(*pp));

	if (!pp)
		return NULL;
	pp->midr = midr;
	pp->cpu = spe_cpu_from_midr(midr);
	pp->cap = 1024;
	pp->tab = calloc(pp->cap, sizeof(*pp->tab));
	if (!pp->tab) {
		free(pp);
		return NULL;
	}
	return pp;
}

void spe_pprof_free(struct spe_pprof *pp)
{
	if (!pp)
		return;
	free(pp->tab);
	free(pp);
}

static uint64_t key_hash(const struct pp_key *k)
{
	uint64_t h = k->pc * 0x9e3779b97f4a7c15ULL;

	h ^= (k->tgt + ((uint64_t)(uint32_t)k->vcpu << 24 | k->el << 16 |
			k->op << 8 | k->ds)) *
	     0xff51afd7ed558ccdULL;
	return h ^ (h >> 29);
}

static bool key_eq(const struct pp_key *a, const struct pp_key *b)
{
	return a->pc == b->pc && a->tgt == b->tgt && a->vcpu == b->vcpu &&
	       a->el == b->el && a->op == b->op && a->ds == b->ds;
}

static struct pp_ent *slot_of(struct pp_ent *tab, uint32_t cap,
			      const struct pp_key *k)
{
	uint32_t s = key_hash(k) & (cap - 1);

	while (tab[s].k.used && !key_eq(&tab[s].k, k))
		s = (s + 1) & (cap - 1);
	return &tab[s];
}

static int grow(struct spe_pprof *pp)
{
	uint32_t cap = pp->cap * 2;
	struct pp_ent *tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (uint32_t i = 0; i < pp->cap; i++)
		if (pp->tab[i].k.used)
			*slot_of(tab, cap, &pp->tab[i].k) = pp->tab[i];
	free(pp->tab);
	pp->tab = tab;
	pp->cap = cap;
	return 0;
}

int spe_pprof_add(struct spe_pprof *pp, int32_t vcpu,
		  const struct spe_record *r)
{
	struct pp_key k = { .vcpu = vcpu, .el = 4, .ds = DS_NONE, .used = 1 };
	struct pp_ent *e;

	if (spe_rec_has_addr(r, SPE_ADDR_PC)) {
		k.pc = spe_addr_canon(r->addr[SPE_ADDR_PC]);
		k.el = spe_addr_el(r->addr[SPE_ADDR_PC]);
	}
	if (r->flags & SPE_REC_OP) {
		switch (r->op_class & 3) {
		case SPE_OPC_LDST:
			k.op = r->op & SPE_OP_LDST_ST ? OP_STORE : OP_LOAD;
			break;
		case SPE_OPC_BRANCH:
			k.op = OP_BRANCH;
			break;
		default:
			k.op = OP_OTHER;
			break;
		}
	}
	if (k.op == OP_BRANCH && spe_rec_has_addr(r, SPE_ADDR_TGT))
		k.tgt = spe_addr_canon(r->addr[SPE_ADDR_TGT]);
	if (r->flags & SPE_REC_DS) {
		k.ds = spe_ds_decode(pp->cpu, r->ds);
		if (k.ds == SPE_DS_UNKNOWN && r->ds < 16)
			k.ds = DS_RAW + r->ds;
	}
	if (2 * (pp->n + 1) > pp->cap) {
		if (pp->n >= PP_MAX_KEYS)
			return -E2BIG;
		if (grow(pp))
			return -ENOMEM;
	}
	e = slot_of(pp->tab, pp->cap, &k);
	if (!e->k.used) {
		e->k = k;
		pp->n++;
	}
	e->v[SPE_PPROF_SAMPLES]++;
	if (spe_rec_has_cnt(r, SPE_CNT_TOTAL))
		e->v[SPE_PPROF_LATENCY] += r->cnt[SPE_CNT_TOTAL];
	if (r->flags & SPE_REC_EV) {
		e->v[SPE_PPROF_L1D_MISS] +=
			!!(r->events & SPE_BIT(SPE_EV_L1D_REFILL));
		e->v[SPE_PPROF_LLC_MISS] +=
			!!(r->events & SPE_BIT(SPE_EV_LLC_MISS));
	}
	return 0;
}

/* ---- protobuf encoding ----------------------------------------------------- */

struct pb {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static void pb_need(struct pb *b, size_t n)
{
	size_t want = b->len + n, cap;
	uint8_t *p;

	if (b->err || want <= b->cap)
		return;
	/* the next power of two, at least 4 KiB */
	cap = want <= 4096 ?
		      4096 :
		      (size_t)2 << (63 - __builtin_clzll(
						 (unsigned long long)want - 1));
	p = realloc(b->p, cap);
	if (p) {
		b->p = p;
		b->cap = cap;
	} else {
		b->err = -ENOMEM;
	}
}

static void pb_varint(struct pb *b, uint64_t v)
{
	pb_need(b, 10);
	if (b->err)
		return;
	while (v >= 0x80) {
		b->p[b->len++] = (uint8_t)v | 0x80;
		v >>= 7;
	}
	b->p[b->len++] = (uint8_t)v;
}

/* Field @f, wire type 0 (varint). Zero values are left out (proto3). */
static void pb_uint(struct pb *b, unsigned int f, uint64_t v)
{
	if (!v)
		return;
	pb_varint(b, (uint64_t)f << 3);
	pb_varint(b, v);
}

/* Field @f, wire type 2 (length-delimited). */
static void pb_bytes(struct pb *b, unsigned int f, const void *p, size_t n)
{
	pb_varint(b, (uint64_t)f << 3 | 2);
	pb_varint(b, n);
	pb_need(b, n);
	if (b->err)
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* A sub-message built in @m, appended as field @f; @m is emptied. */
static void pb_msg(struct pb *b, unsigned int f, struct pb *m)
{
	if (m->err)
		b->err = m->err;
	pb_bytes(b, f, m->p, m->len);
	m->len = 0;
}

/* ---- string table ---------------------------------------------------------- */

struct strtab {
	const char **s; /* by index; [0] = "" */
	uint32_t n, cap;
	uint32_t *hash; /* index + 1, 0: empty */
	uint32_t hcap;
	char **own; /* copies made by str_idx_copy() */
	uint32_t nown;
	int err; /* a string could not be added */
};

static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static int strtab_grow(struct strtab *t)
{
	uint32_t hcap = t->hcap ? t->hcap * 2 : 1024;
	uint32_t *hash = calloc(hcap, sizeof(*hash));
	const char **s = realloc(t->s, hcap / 2 * sizeof(*s));

	if (!hash || !s) {
		free(hash);
		if (s)
			t->s = s;
		return -ENOMEM;
	}
	t->s = s;
	t->cap = hcap / 2;
	for (uint32_t i = 0; i < t->n; i++) {
		uint32_t h = str_hash(t->s[i]) & (hcap - 1);

		while (hash[h])
			h = (h + 1) & (hcap - 1);
		hash[h] = i + 1;
	}
	free(t->hash);
	t->hash = hash;
	t->hcap = hcap;
	return 0;
}

/* Index of @s (which must outlive the table), added if new (0 and t->err
 * set when there is no memory). */
static int64_t str_idx(struct strtab *t, const char *s)
{
	uint32_t h;

	if (t->n + 1 > t->cap && strtab_grow(t)) {
		t->err = -ENOMEM;
		return 0;
	}
	h = str_hash(s) & (t->hcap - 1);
	while (t->hash[h]) {
		if (!strcmp(t->s[t->hash[h] - 1], s))
			return t->hash[h] - 1;
		h = (h + 1) & (t->hcap - 1);
	}
	t->s[t->n] = s;
	t->hash[h] = ++t->n;
	return t->n - 1;
}

/* The same for a string that does not live on: copied when new. */
static int64_t str_idx_copy(struct strtab *t, const char *s)
{
	char **own, *c;

	for (uint32_t h = t->hcap ? str_hash(s) & (t->hcap - 1) : 0;
	     t->hcap && t->hash[h]; h = (h + 1) & (t->hcap - 1))
		if (!strcmp(t->s[t->hash[h] - 1], s))
			return t->hash[h] - 1;
	own = realloc(t->own, (t->nown + 1) * sizeof(*own));
	c = strdup(s);
	if (own)
		t->own = own;
	if (!own || !c) {
		free(c);
		t->err = -ENOMEM;
		return 0;
	}
	t->own[t->nown++] = c;
	return str_idx(t, c);
}

static void strtab_free(struct strtab *t)
{
	for (uint32_t i = 0; i < t->nown; i++)
		free(t->own[i]);
	free(t->own);
	free(t->s);
	free(t->hash);
}

/* ---- writing ---------------------------------------------------------------- */

struct loc {
	uint64_t addr;
	uint64_t id;
};

static int cmp_loc(const void *a, const void *b)
{
	const struct loc *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The location id of @addr in the sorted @locs. */
static uint64_t loc_id(const struct loc *locs, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (locs[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && locs[lo].addr == addr ? locs[lo].id : 0;
}

static void put_label_str(struct pb *b, struct pb *m, struct strtab *st,
			  const char *key, const char *val)
{
	pb_uint(m, 1, str_idx(st, key));
	pb_uint(m, 2, str_idx(st, val));
	pb_msg(b, 3, m);
}

static void put_sample(struct pb *out, struct pb *s, struct pb *m,
		       struct strtab *st, const struct pp_ent *e,
		       const struct loc *locs, size_t nlocs, const char *vm)
{
	struct pb ids = { 0 }, vals = { 0 };

	/* leaf first: a branch's target above its PC */
	if (e->k.tgt)
		pb_varint(&ids, loc_id(locs, nlocs, e->k.tgt));
	pb_varint(&ids, loc_id(locs, nlocs, e->k.pc));
	for (unsigned int i = 0; i < SPE_PPROF_NVALUES; i++)
		pb_varint(&vals, e->v[i]);
	if (ids.err || vals.err)
		s->err = -ENOMEM;
	pb_bytes(s, 1, ids.p, ids.len);	  /* packed location_id */
	pb_bytes(s, 2, vals.p, vals.len); /* packed value */
	free(ids.p);
	free(vals.p);
	if (vm)
		put_label_str(s, m, st, "vm", vm);
	if (e->k.vcpu >= 0) {
		/* a string: a numeric label of 0 (vCPU 0) is no label for
		 * pprof's readers, and Pyroscope and Parca filter on
		 * strings */
		char v[16];

		snprintf(v, sizeof(v), "%d", (int)e->k.vcpu);
		pb_uint(m, 1, str_idx(st, "vcpu"));
		pb_uint(m, 2, str_idx_copy(st, v));
		pb_msg(s, 3, m);
	}
	put_label_str(s, m, st, "el", el_names[e->k.el]);
	put_label_str(s, m, st, "op", op_names[e->k.op]);
	if (e->k.ds >= DS_RAW && e->k.ds < DS_NONE)
		put_label_str(s, m, st, "data_source",
			      ds_raw_names[e->k.ds - DS_RAW]);
	else if (e->k.ds < SPE_DS_NR)
		put_label_str(s, m, st, "data_source", spe_ds_name(e->k.ds));
	pb_msg(out, 2, s);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Locations (one per distinct PC or target) and functions: one per symbol
 * name, its id the name's string index.
 */
static int put_locations(struct pb *out, struct pb *m, struct pb *l,
			 struct strtab *st, const struct loc *locs,
			 size_t nlocs, const struct spe_symtab *syms)
{
	int64_t *fns = malloc((nlocs + 1) * sizeof(*fns));
	size_t nfn = 0;

	if (!fns)
		return -ENOMEM;
	for (size_t i = 0; i < nlocs; i++) {
		const char *name = spe_symtab_lookup(syms, locs[i].addr, NULL);

		pb_uint(m, 1, locs[i].id);
		pb_uint(m, 2, 1); /* mapping */
		pb_uint(m, 3, locs[i].addr);
		if (name) {
			int64_t si = str_idx(st, name);

			fns[nfn++] = si;
			pb_uint(l, 1, si); /* function_id */
			pb_msg(m, 4, l);   /* line */
		}
		pb_msg(out, 4, m); /* location */
	}
	qsort(fns, nfn, sizeof(*fns), cmp_i64);
	for (size_t i = 0; i < nfn; i++) {
		if (i && fns[i] == fns[i - 1])
			continue;
		pb_uint(l, 1, fns[i]); /* id */
		pb_uint(l, 2, fns[i]); /* name */
		pb_uint(l, 3, fns[i]); /* system_name */
		pb_msg(out, 5, l);     /* function */
	}
	free(fns);
	return out->err ? out->err : m->err ? m->err : l->err;
}

static int gzip_write(FILE *f, const uint8_t *p, size_t len)
{
	z_stream z = { 0 };
	uint8_t buf[65536];
	int zr;

	if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	z.next_in = (Bytef *)p;
	z.avail_in = len;
	do {
		z.next_out = buf;
		z.avail_out = sizeof(buf);
		zr = deflate(&z, Z_FINISH);
		if (fwrite(buf, 1, sizeof(buf) - z.avail_out, f) !=
		    sizeof(buf) - z.avail_out) {
			deflateEnd(&z);
			return -EIO;
		}
	} while (zr == Z_OK);
	deflateEnd(&z);
	return zr == Z_STREAM_END ? 0 : -EIO;
}

int spe_pprof_write(const struct spe_pprof *pp, FILE *f,
		    const struct spe_symtab *syms, const char *vm,
		    uint64_t duration_ns)
{
	static const char *const types[SPE_PPROF_NVALUES][2] = {
		[SPE_PPROF_SAMPLES] = { "samples", "count" },
		[SPE_PPROF_LATENCY] = { "latency", "cycles" },
		[SPE_PPROF_L1D_MISS] = { "l1d_miss", "count" },
		[SPE_PPROF_LLC_MISS] = { "llc_miss", "count" },
	};
	struct pb out = { 0 }, s = { 0 }, m = { 0 }, l = { 0 };
	struct strtab st = { 0 };
	struct loc *locs;
	size_t nlocs = 0, k = 0;
	int ret;

	locs = malloc((2 * (size_t)pp->n + 1) * sizeof(*locs));
	if (!locs)
		return -ENOMEM;
	for (uint32_t i = 0; i < pp->cap; i++) {
		if (!pp->tab[i].k.used)
			continue;
		locs[nlocs++].addr = pp->tab[i].k.pc;
		if (pp->tab[i].k.tgt)
			locs[nlocs++].addr = pp->tab[i].k.tgt;
	}
	qsort(locs, nlocs, sizeof(*locs), cmp_loc);
	for (size_t i = 0; i < nlocs; i++)
		if (!k || locs[k - 1].addr != locs[i].addr) {
			locs[k] = locs[i];
			locs[k].id = k + 1;
			k++;
		}
	nlocs = k;

	str_idx(&st, "");
	for (unsigned int i = 0; i < SPE_PPROF_NVALUES; i++) {
		pb_uint(&m, 1, str_idx(&st, types[i][0]));
		pb_uint(&m, 2, str_idx(&st, types[i][1]));
		pb_msg(&out, 1, &m); /* sample_type */
	}
	for (uint32_t i = 0; i < pp->cap; i++)
		if (pp->tab[i].k.used)
			put_sample(&out, &s, &m, &st, &pp->tab[i], locs, nlocs,
				   vm);
	/* one mapping for the guest's address space; symbols are ours */
	pb_uint(&m, 1, 1);
	pb_uint(&m, 3, UINT64_MAX);
	pb_uint(&m, 5, str_idx(&st, vm ? vm : "guest"));
	pb_uint(&m, 7, 1); /* has_functions */
	pb_msg(&out, 3, &m);
	ret = put_locations(&out, &m, &l, &st, locs, nlocs, syms);
	pb_uint(&out, 10, duration_ns);
	pb_uint(&m, 1, str_idx(&st, "samples"));
	pb_uint(&m, 2, str_idx(&st, "count"));
	pb_msg(&out, 11, &m);			    /* period_type */
	pb_uint(&out, 12, 1);			    /* period */
	pb_uint(&out, 14, str_idx(&st, "samples")); /* default type */
	/* last: every string is in the table by now */
	if (!ret && st.err)
		ret = -ENOMEM;
	for (uint32_t i = 0; !ret && i < st.n; i++)
		pb_bytes(&out, 6, st.s[i], strlen(st.s[i])); /* strings */
	if (!ret)
		ret = out.err ? out.err : s.err ? s.err : m.err;
	if (!ret)
		ret = gzip_write(f, out.p, out.len);
	free(out.p);
	free(s.p);
	free(m.p);
	free(l.p);
	free(locs);
	strtab_free(&st);
	return ret;
}
