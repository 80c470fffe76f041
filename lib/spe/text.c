// SPDX-License-Identifier: GPL-2.0-only
/*
 * Text forms of records and profiles: CSV and JSON.  Addresses are printed
 * as raw payloads (every bit the hardware wrote) plus decoded fields.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <kvmprof/spe_profile.h>

void spe_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static int flush_status(FILE *f)
{
	return ferror(f) ? -EIO : 0;
}

/* ---- records ----------------------------------------------------------------- */

static const char *const csv_cols =
	"offset,len,term,ts,pc,el,ns,tgt,va,pa,pbt,ctx_el1,ctx_el2,"
	"op_class,op,op_sub,events,ev_len,ds,ds_len,ds_src,"
	"lat_tot,lat_issue,lat_xlat,other";

int spe_record_csv_header(FILE *f)
{
	fprintf(f, "%s\n", csv_cols);
	return flush_status(f);
}

static void csv_addr(FILE *f, const struct spe_record *r, unsigned int i)
{
	if (spe_rec_has_addr(r, i))
		fprintf(f, "0x%016" PRIx64, r->addr[i]);
	fputc(',', f);
}

int spe_record_csv(FILE *f, const struct spe_record *r, uint64_t midr)
{
	const char *sep = "";

	fprintf(f, "%" PRIu64 ",%u,%s,", r->offset, r->len,
		r->flags & SPE_REC_TS ? "ts" : "end");
	if (r->flags & SPE_REC_TS)
		fprintf(f, "%" PRIu64, r->ts);
	fputc(',', f);
	csv_addr(f, r, SPE_ADDR_PC);
	if (spe_rec_has_addr(r, SPE_ADDR_PC))
		fprintf(f, "%u,%d,", spe_addr_el(r->addr[SPE_ADDR_PC]),
			spe_addr_ns(r->addr[SPE_ADDR_PC]));
	else
		fputs(",,", f);
	csv_addr(f, r, SPE_ADDR_TGT);
	csv_addr(f, r, SPE_ADDR_VA);
	csv_addr(f, r, SPE_ADDR_PA);
	csv_addr(f, r, SPE_ADDR_PBT);
	for (unsigned int i = 0; i < 2; i++) {
		if (r->ctx_mask & (1u << i))
			fprintf(f, "%u", r->ctx[i]);
		fputc(',', f);
	}
	if (r->flags & SPE_REC_OP) {
		struct spe_op_info op;

		spe_op_decode(r->op_class, r->op, &op);
		fprintf(f, "%u,0x%02x,%s,", r->op_class, r->op,
			spe_op_sub_name(op.sub));
	} else {
		fputs(",,,", f);
	}
	if (r->flags & SPE_REC_EV)
		fprintf(f, "0x%" PRIx64 ",%u,", r->events, r->ev_len);
	else
		fputs(",,", f);
	if (r->flags & SPE_REC_DS)
		fprintf(f, "%" PRIu64 ",%u,%s,", r->ds, r->ds_len,
			spe_ds_name(spe_ds_decode(spe_cpu_from_midr(midr),
						  r->ds)));
	else
		fputs(",,,", f);
	for (unsigned int i = 0; i < SPE_CNT_NR_KNOWN; i++) {
		if (spe_rec_has_cnt(r, i))
			fprintf(f, "%u", r->cnt[i]);
		fputc(',', f);
	}
	/* indexes without a column: a5=0x..;c7=..;x2=.. */
	for (unsigned int i = SPE_ADDR_NR_KNOWN; i < SPE_ADDR_IDX_NR; i++) {
		if (spe_rec_has_addr(r, i)) {
			fprintf(f, "%sa%u=0x%" PRIx64, sep, i, r->addr[i]);
			sep = ";";
		}
	}
	for (unsigned int i = SPE_CNT_NR_KNOWN; i < SPE_CNT_IDX_NR; i++) {
		if (spe_rec_has_cnt(r, i)) {
			fprintf(f, "%sc%u=%u", sep, i, r->cnt[i]);
			sep = ";";
		}
	}
	for (unsigned int i = 2; i < SPE_CTX_IDX_NR; i++) {
		if (r->ctx_mask & (1u << i)) {
			fprintf(f, "%sx%u=%u", sep, i, r->ctx[i]);
			sep = ";";
		}
	}
	fputc('\n', f);
	return flush_status(f);
}

static void json_insn_addr(FILE *f, const char *name, uint64_t v)
{
	fprintf(f, ",\"%s\":{\"raw\":\"0x%016" PRIx64 "\",\"addr\":\"0x%"
		PRIx64 "\",\"el\":%u,\"ns\":%d}", name, v, spe_addr_canon(v),
		spe_addr_el(v), spe_addr_ns(v));
}

int spe_record_json(FILE *f, const struct spe_record *r, uint64_t midr)
{
	static const char *const cnt_names[] = { "tot", "issue", "xlat" };

	fprintf(f, "{\"offset\":%" PRIu64 ",\"len\":%u,\"term\":\"%s\"",
		r->offset, r->len, r->flags & SPE_REC_TS ? "ts" : "end");
	if (r->flags & SPE_REC_TS)
		fprintf(f, ",\"ts\":%" PRIu64, r->ts);
	if (spe_rec_has_addr(r, SPE_ADDR_PC))
		json_insn_addr(f, "pc", r->addr[SPE_ADDR_PC]);
	if (spe_rec_has_addr(r, SPE_ADDR_TGT))
		json_insn_addr(f, "tgt", r->addr[SPE_ADDR_TGT]);
	if (spe_rec_has_addr(r, SPE_ADDR_PBT))
		json_insn_addr(f, "pbt", r->addr[SPE_ADDR_PBT]);
	if (spe_rec_has_addr(r, SPE_ADDR_VA)) {
		uint64_t v = r->addr[SPE_ADDR_VA];

		fprintf(f, ",\"va\":{\"raw\":\"0x%016" PRIx64 "\",\"addr\":\"0x%"
			PRIx64 "\",\"tag\":%u}", v, spe_addr_canon(v),
			(unsigned int)SPE_FIELD_GET(SPE_ADDR_VA_TAG, v));
	}
	if (spe_rec_has_addr(r, SPE_ADDR_PA)) {
		uint64_t v = r->addr[SPE_ADDR_PA];

		fprintf(f, ",\"pa\":{\"raw\":\"0x%016" PRIx64 "\",\"addr\":\"0x%"
			PRIx64 "\",\"ns\":%d,\"ch\":%d,\"pat\":%u}", v,
			v & SPE_ADDR_ADDR, !!(v & SPE_ADDR_PA_NS),
			!!(v & SPE_ADDR_PA_CH),
			(unsigned int)SPE_FIELD_GET(SPE_ADDR_PA_PAT, v));
	}
	for (unsigned int i = SPE_ADDR_NR_KNOWN; i < SPE_ADDR_IDX_NR; i++)
		if (spe_rec_has_addr(r, i))
			fprintf(f, ",\"addr%u\":\"0x%016" PRIx64 "\"", i,
				r->addr[i]);
	for (unsigned int i = 0; i < SPE_CTX_IDX_NR; i++)
		if (r->ctx_mask & (1u << i))
			fprintf(f, ",\"ctx_el%u\":%u", i + 1, r->ctx[i]);
	if (r->flags & SPE_REC_OP) {
		struct spe_op_info op;

		spe_op_decode(r->op_class, r->op, &op);
		fprintf(f, ",\"op\":{\"class\":%u,\"raw\":%u,\"sub\":\"%s\","
			"\"flags\":%u", r->op_class, r->op,
			spe_op_sub_name(op.sub), op.flags);
		if (op.vl)
			fprintf(f, ",\"vl\":%u", op.vl);
		if (op.cls == SPE_OPC_BRANCH)
			fprintf(f, ",\"cr\":%u", op.cr);
		fputc('}', f);
	}
	if (r->flags & SPE_REC_EV) {
		fprintf(f, ",\"events\":{\"raw\":\"0x%" PRIx64 "\",\"len\":%u,"
			"\"names\":[", r->events, r->ev_len);
		for (unsigned int b = 0, n = 0; b < 64; b++) {
			const char *name = spe_ev_name(b);

			if (!(r->events & SPE_BIT(b)))
				continue;
			if (n++)
				fputc(',', f);
			if (name)
				fprintf(f, "\"%s\"", name);
			else
				fprintf(f, "\"IMPDEF:%u\"", b);
		}
		fputs("]}", f);
	}
	if (r->flags & SPE_REC_DS)
		fprintf(f, ",\"ds\":{\"raw\":%" PRIu64 ",\"len\":%u,"
			"\"source\":\"%s\"}", r->ds, r->ds_len,
			spe_ds_name(spe_ds_decode(spe_cpu_from_midr(midr),
						  r->ds)));
	for (unsigned int i = 0; i < SPE_CNT_IDX_NR; i++) {
		if (!spe_rec_has_cnt(r, i))
			continue;
		if (i < SPE_CNT_NR_KNOWN)
			fprintf(f, ",\"lat_%s\":%u", cnt_names[i], r->cnt[i]);
		else
			fprintf(f, ",\"lat%u\":%u", i, r->cnt[i]);
	}
	fputc('}', f);
	return flush_status(f);
}

/* ---- profiles ---------------------------------------------------------------- */

static void json_hist(FILE *f, const char *name, const struct spe_hist *h)
{
	bool first = true;

	fprintf(f, "\"%s\":{\"count\":%" PRIu64 ",\"mean\":%.2f,\"max\":%"
		PRIu64 ",\"p50\":%" PRIu64 ",\"p90\":%" PRIu64 ",\"p99\":%"
		PRIu64 ",\"buckets\":[", name, h->count,
		h->count ? (double)h->sum / h->count : 0.0, h->max,
		spe_hist_quantile(h, 0.5), spe_hist_quantile(h, 0.9),
		spe_hist_quantile(h, 0.99));
	for (unsigned int b = 0; b < SPE_HIST_BUCKETS; b++) {
		if (!h->bucket[b])
			continue;
		fprintf(f, "%s{\"lo\":%" PRIu64 ",\"hi\":%" PRIu64 ",\"n\":%"
			PRIu64 "}", first ? "" : ",", spe_hist_lo(b),
			spe_hist_hi(b), h->bucket[b]);
		first = false;
	}
	fputs("]}", f);
}

static int json_top(FILE *f, const char *name, const struct spe_topk *t,
		    size_t ntop, const struct spe_symtab *syms, bool addr)
{
	struct spe_topk_entry *e;
	size_t n;

	e = malloc((ntop ? ntop : 1) * sizeof(*e));
	if (!e)
		return -ENOMEM;
	n = spe_topk_sorted(t, e, ntop);
	fprintf(f,
		"\"%s\":{\"total\":%" PRIu64
		",\"k\":%u,\"error_bound\":%" PRIu64 ",\"entries\":[",
		name, t->total, t->cap, t->cap ? 2 * t->total / t->cap : 0);
	for (size_t i = 0; i < n; i++) {
		uint64_t off;
		const char *sym = addr ? spe_symtab_lookup(syms, e[i].key,
							   &off) : NULL;

		if (i)
			fputc(',', f);
		if (addr)
			fprintf(f, "{\"pc\":\"0x%" PRIx64 "\"", e[i].key);
		else
			fprintf(f, "{\"value\":%" PRIu64, e[i].key);
		fprintf(f, ",\"count\":%" PRIu64 ",\"err\":%" PRIu64,
			e[i].count, e[i].err);
		if (sym) {
			fputs(",\"symbol\":", f);
			spe_json_str(f, sym);
			fprintf(f, ",\"offset\":%" PRIu64, off);
		}
		fputc('}', f);
	}
	fputs("]}", f);
	free(e);
	return 0;
}

int spe_profile_json(FILE *f, const struct spe_profile *p,
		     const struct spe_symtab *syms,
		     const struct spe_dec_stats *st, size_t ntop)
{
	return spe_profile_json_ex(f, p, syms, st, ntop, 0);
}

int spe_profile_json_ex(FILE *f, const struct spe_profile *p,
			const struct spe_symtab *syms,
			const struct spe_dec_stats *st, size_t ntop,
			int syms_err)
{
	static const char *const lat_names[] = { "total", "issue", "xlat" };
	struct spe_profile_rates rt;
	int ret;

	spe_profile_rates(p, &rt);
	fprintf(f, "{\"cpu\":\"%s\",\"midr\":\"0x%" PRIx64 "\",\"samples\":%"
		PRIu64 ",\"no_pc\":%" PRIu64, spe_cpu_name(p->cpu), p->midr,
		p->samples, p->no_pc);
	if (st)
		fprintf(f, ",\"decoder\":{\"bytes\":%" PRIu64 ",\"records\":%"
			PRIu64 ",\"bad_bytes\":%" PRIu64 ",\"resyncs\":%" PRIu64
			",\"dropped\":%" PRIu64 ",\"truncated\":%" PRIu64
			",\"dups\":%" PRIu64 "}", st->bytes, st->records,
			st->bad_bytes, st->resyncs, st->dropped, st->truncated,
			st->dups);
	fputs(",\"el\":{", f);
	for (unsigned int el = 0; el < 4; el++)
		fprintf(f, "%s\"el%u\":{\"samples\":%" PRIu64 ",\"ns\":%" PRIu64
			",\"s\":%" PRIu64 "}", el ? "," : "", el, p->el[el],
			p->el_ns[el][1], p->el_ns[el][0]);
	fprintf(f, "},\"ops\":{\"none\":%" PRIu64 ",\"other\":%" PRIu64
		",\"ldst\":%" PRIu64 ",\"branch\":%" PRIu64 ",\"reserved\":%"
		PRIu64 ",\"loads\":%" PRIu64 ",\"stores\":%" PRIu64
		",\"br_cond\":%" PRIu64 ",\"br_ind\":%" PRIu64 ",\"br_call\":%"
		PRIu64 ",\"br_ret\":%" PRIu64 ",\"sub\":{", p->no_op,
		p->op_class[0], p->op_class[1], p->op_class[2], p->op_class[3],
		p->loads, p->stores, p->br_cond, p->br_ind, p->br_call,
		p->br_ret);
	for (unsigned int i = 0, n = 0; i < SPE_OPS_NR; i++)
		if (p->op_sub[i])
			fprintf(f, "%s\"%s\":%" PRIu64, n++ ? "," : "",
				spe_op_sub_name(i), p->op_sub[i]);
	fprintf(f, "}},\"events\":{\"records\":%" PRIu64 ",\"bits\":{",
		p->ev_records);
	for (unsigned int b = 0, n = 0; b < 64; b++) {
		const char *name = spe_ev_name(b);

		if (!p->ev[b])
			continue;
		if (name)
			fprintf(f, "%s\"%s\":%" PRIu64, n++ ? "," : "", name,
				p->ev[b]);
		else
			fprintf(f, "%s\"IMPDEF:%u\":%" PRIu64, n++ ? "," : "",
				b, p->ev[b]);
	}
	fprintf(f, "},\"rates\":{\"l1d_miss\":%.6f,\"llc_miss\":%.6f,"
		"\"tlb_miss\":%.6f,\"mispredict\":%.6f,\"remote\":%.6f,"
		"\"not_taken\":%.6f}},\"latency\":{", rt.l1d_miss, rt.llc_miss,
		rt.tlb_miss, rt.mispredict, rt.remote, rt.not_taken);
	for (unsigned int i = 0; i < SPE_CNT_NR_KNOWN; i++) {
		if (i)
			fputc(',', f);
		json_hist(f, lat_names[i], &p->lat[i]);
	}
	fprintf(f, "},\"data_source\":{\"records\":%" PRIu64 ",\"decoded\":{",
		p->ds_records);
	for (unsigned int i = 0, n = 0; i < SPE_DS_NR; i++)
		if (p->ds[i])
			fprintf(f, "%s\"%s\":%" PRIu64, n++ ? "," : "",
				spe_ds_name(i), p->ds[i]);
	fputs("},\"raw\":{", f);
	for (unsigned int i = 0, n = 0; i < 16; i++)
		if (p->ds_raw[i])
			fprintf(f, "%s\"%u\":%" PRIu64, n++ ? "," : "", i,
				p->ds_raw[i]);
	fprintf(f, "%s\"other\":%" PRIu64 "}},", p->ds_records -
		p->ds_raw_other ? "," : "", p->ds_raw_other);
	fprintf(f, "\"time\":{\"records\":%" PRIu64 ",\"first\":%" PRIu64
		",\"last\":%" PRIu64 "},\"no_ctx\":%" PRIu64 ",",
		p->ts_records, p->ts_first, p->ts_last, p->no_ctx);
	ret = json_top(f, "contextidr", &p->ctx, ntop, NULL, false);
	fputc(',', f);
	if (!ret)
		ret = json_top(f, "top_pcs", &p->pcs, ntop, syms, true);
	if (syms_err)
		fprintf(f, ",\"symbols_error\":%d", -syms_err);
	fputs("}\n", f);
	return ret ? ret : flush_status(f);
}
