// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmprof spe report FILE: the profile as text or JSON, and --pprof OUT
 * (every record again, by PC, target and labels).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kvmprof/spe.h>
#include <kvmprof/spe_pprof.h>
#include <kvmprof/spe_profile.h>
#include "spe.h"

/* ---- report --------------------------------------------------------------- */

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0;
}

/* A histogram, shown with its buckets merged per power of two. */
static void report_hist(const char *name, const struct spe_hist *h)
{
	uint64_t rows[SPE_HIST_BUCKETS / 4 + 1] = { 0 }, peak = 0;
	unsigned int nrows = 0;

	printf("  %-6s n=%-9" PRIu64 " mean=%-8.1f p50=%-6" PRIu64
	       " p90=%-6" PRIu64 " p99=%-6" PRIu64 " max=%" PRIu64 "\n",
	       name, h->count, h->count ? (double)h->sum / h->count : 0.0,
	       spe_hist_quantile(h, 0.5), spe_hist_quantile(h, 0.9),
	       spe_hist_quantile(h, 0.99), h->max);
	for (unsigned int b = 0; b < SPE_HIST_BUCKETS; b++) {
		uint64_t lo = spe_hist_lo(b);
		unsigned int row = lo < 2 ? 0 : 63 - __builtin_clzll(lo);

		rows[row] += h->bucket[b];
		if (h->bucket[b] && row + 1 > nrows)
			nrows = row + 1;
	}
	for (unsigned int i = 0; i < nrows; i++)
		if (rows[i] > peak)
			peak = rows[i];
	for (unsigned int i = 0; i < nrows; i++) {
		/* row 0: 0..1, then 2..3, 4..7, ... */
		uint64_t lo = i ? 1ull << i : 0, hi = (2ull << i) - 1;
		int bar = peak ? (int)(40 * rows[i] / peak) : 0;

		if (!rows[i])
			continue;
		printf("    %6" PRIu64 "..%-6" PRIu64 " %10" PRIu64 " %5.1f%% "
		       "%.*s\n",
		       lo, hi, rows[i], pct(rows[i], h->count), bar ? bar : 1,
		       "########################################");
	}
}

/* The largest count error among the entries shown. */
static uint64_t max_err(const struct spe_topk_entry *e, size_t n)
{
	uint64_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (e[i].err > m)
			m = e[i].err;
	return m;
}

static void report_text(const struct opts *o, const struct input *in,
			const struct spe_profile *p,
			const struct spe_dec_stats *st,
			const struct spe_symtab *syms)
{
	static const char *const lat_names[] = { "total", "issue", "xlat" };
	static const char *const fmts[] = { "raw", "gzip", "zlib" };
	struct spe_profile_rates rt;
	struct spe_topk_entry *top;
	size_t n;

	spe_profile_rates(p, &rt);
	printf("SPE report: %s (%s%s, %zu stream%s), cpu %s\n", o->file,
	       fmts[in->file.fmt],
	       in->perfdata  ? " perf.data" :
	       in->recording ? " recording" :
			       "",
	       in->nstreams, in->nstreams == 1 ? "" : "s",
	       spe_cpu_name(p->cpu));
	print_stats_text(stdout, st);
	printf("samples: %" PRIu64 " (without PC: %" PRIu64 ")\n\n", p->samples,
	       p->no_pc);

	printf("By exception level:\n");
	for (unsigned int el = 0; el < 4; el++)
		if (p->el[el])
			printf("  EL%u %12" PRIu64
			       " %6.2f%%  (non-secure %" PRIu64 ")\n",
			       el, p->el[el], pct(p->el[el], p->samples),
			       p->el_ns[el][1]);

	printf("\nOperation mix:\n");
	printf("  loads %12" PRIu64 " %6.2f%%   stores %12" PRIu64 " %6.2f%%\n",
	       p->loads, pct(p->loads, p->samples), p->stores,
	       pct(p->stores, p->samples));
	printf("  branches %9" PRIu64 " %6.2f%%   other %13" PRIu64
	       " %6.2f%%\n",
	       p->op_class[SPE_OPC_BRANCH],
	       pct(p->op_class[SPE_OPC_BRANCH], p->samples),
	       p->op_class[SPE_OPC_OTHER],
	       pct(p->op_class[SPE_OPC_OTHER], p->samples));
	printf("  branches: conditional %" PRIu64 ", indirect %" PRIu64
	       ", calls %" PRIu64 ", returns %" PRIu64 "\n",
	       p->br_cond, p->br_ind, p->br_call, p->br_ret);
	for (unsigned int i = 0; i < SPE_OPS_NR; i++)
		if (p->op_sub[i])
			printf("  %-20s %12" PRIu64 " %6.2f%%\n",
			       spe_op_sub_name(i), p->op_sub[i],
			       pct(p->op_sub[i], p->samples));

	printf("\nEvent rates:\n");
	printf("  L1D miss %6.2f%%   LLC miss %6.2f%%   TLB miss %6.2f%%\n",
	       100 * rt.l1d_miss, 100 * rt.llc_miss, 100 * rt.tlb_miss);
	printf("  branch mispredict %6.2f%%   not taken %6.2f%%   remote %6.2f%%"
	       "\n",
	       100 * rt.mispredict, 100 * rt.not_taken, 100 * rt.remote);
	printf("  events per record:");
	for (unsigned int b = 0, k = 0; b < 64; b++) {
		const char *name = spe_ev_name(b);

		if (!p->ev[b])
			continue;
		if (k++ % 4 == 0)
			printf("\n   ");
		if (name)
			printf(" %s %.2f%%", name, pct(p->ev[b], p->samples));
		else
			printf(" IMPDEF:%u %.2f%%", b,
			       pct(p->ev[b], p->samples));
	}
	printf("\n\nLatency (cycles):\n");
	for (unsigned int i = 0; i < SPE_CNT_NR_KNOWN; i++)
		report_hist(lat_names[i], &p->lat[i]);

	printf("\nData source (%" PRIu64 " records):\n", p->ds_records);
	for (unsigned int i = 0; i < SPE_DS_NR; i++)
		if (p->ds[i])
			printf("  %-18s %12" PRIu64 " %6.2f%%\n",
			       spe_ds_name(i), p->ds[i],
			       pct(p->ds[i], p->ds_records));
	for (unsigned int i = 0; i < 16; i++)
		if (p->ds_raw[i] && p->cpu == SPE_CPU_GENERIC)
			printf("  raw %-14u %12" PRIu64 "\n", i, p->ds_raw[i]);

	top = malloc(o->top * sizeof(*top));
	if (!top)
		return;
	n = spe_topk_sorted(&p->ctx, top, o->top);
	printf("\nTop CONTEXTIDR_EL1 (guest PID) of %" PRIu64 " samples "
	       "(counts over by at most %" PRIu64 "):\n",
	       p->ctx.total, max_err(top, n));
	for (size_t i = 0; i < n; i++)
		printf("  %10" PRIu64 " %12" PRIu64 " %6.2f%%\n", top[i].key,
		       top[i].count, pct(top[i].count, p->samples));
	n = spe_topk_sorted(&p->pcs, top, o->top);
	printf("\nTop PCs (counts over by at most %" PRIu64 "):\n",
	       max_err(top, n));
	for (size_t i = 0; i < n; i++) {
		uint64_t off;
		const char *sym = spe_symtab_lookup(syms, top[i].key, &off);

		printf("  0x%016" PRIx64 " %10" PRIu64 " %6.2f%%", top[i].key,
		       top[i].count, pct(top[i].count, p->samples));
		if (sym)
			printf("  %s+0x%" PRIx64, sym, off);
		putchar('\n');
	}
	free(top);
}

struct pprof_arg {
	struct spe_pprof *pp;
	int32_t vcpu;
	int err;
};

static int pprof_cb(void *arg, const struct spe_record *r)
{
	struct pprof_arg *a = arg;

	a->err = spe_pprof_add(a->pp, a->vcpu, r);
	return a->err;
}

/* report --pprof OUT: every record again, by PC, target and labels. */
static int write_pprof(struct cli_ctx *ctx, const struct opts *o,
		       const struct input *in, const struct spe_symtab *syms)
{
	struct pprof_arg a = { .pp = spe_pprof_new(o->midr) };
	struct spe_dec *d = malloc(sizeof(*d));
	FILE *f = NULL;
	int ret = 0;

	if (!a.pp || !d) {
		ret = cli_err(ctx, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < in->nstreams && !a.err; i++) {
		a.vcpu = in->streams[i].vcpu;
		spe_dec_init(d, NULL);
		spe_dec_run(d, in->streams[i].buf, in->streams[i].len, true,
			    pprof_cb, &a);
	}
	if (a.err) {
		ret = cli_err(ctx, a.err, "spe report: --pprof: %s",
			      a.err == -E2BIG ? "too many distinct samples" :
						strerror(-a.err));
		goto out;
	}
	f = fopen(o->pprof, "w");
	if (!f) {
		ret = cli_err(ctx, -errno, "spe report: %s: %s", o->pprof,
			      strerror(errno));
		goto out;
	}
	ret = spe_pprof_write(a.pp, f, syms->n ? syms : NULL,
			      in->vm[0] ? in->vm : NULL, 0);
	if (fclose(f) && !ret)
		ret = -EIO;
	if (ret)
		ret = cli_err(ctx, ret, "spe report: %s: %s", o->pprof,
			      strerror(-ret));
out:
	free(d);
	spe_pprof_free(a.pp);
	return ret;
}

int cmd_report(struct cli_ctx *ctx, int argc, char **argv)
{
	struct spe_symtab syms = { 0 };
	struct spe_profile_opts po;
	struct spe_profile p;
	struct spe_dec_stats st;
	struct input in;
	struct opts o;
	int ret;

	ret = begin(ctx, argc, argv, &o, &in, &st, false, true);
	if (ret)
		return ret;
	if (o.symbols) {
		ret = spe_symtab_load_spec(&syms, o.symbols);
		if (ret) {
			input_free(&in);
			return cli_err(
				ctx, ret, "spe report: %s: %s", o.symbols,
				ret == -ENOEXEC ?
					"no symbols (not ELF "
					"with .symtab/.dynsym, kallsyms or "
					"/proc/modules)" :
				ret == -EINVAL ?
					"expected "
					"PATH[@OFFSET][,PATH[@OFFSET]...]" :
				ret == -ENODATA ?
					"no _text in the ELF "
					"file to derive the KASLR offset" :
				ret == -E2BIG ? "too many symbols" :
						strerror(-ret));
		}
	}
	po = (struct spe_profile_opts){ .midr = o.midr };
	ret = spe_profile_init(&p, &po);
	if (ret) {
		spe_symtab_free(&syms);
		input_free(&in);
		return cli_err(ctx, ret, "out of memory");
	}
	ret = profile_all(&in, &p, &st);
	if (ret)
		ret = cli_err(ctx, ret, "out of memory");
	else
		ret = check_stats(ctx, "report", o.file, &st);
	if (ret) {
		spe_profile_free(&p);
		spe_symtab_free(&syms);
		input_free(&in);
		return ret;
	}
	if (o.pprof) {
		ret = write_pprof(ctx, &o, &in, &syms);
		if (ret) {
			spe_profile_free(&p);
			spe_symtab_free(&syms);
			input_free(&in);
			return ret;
		}
	}
	if (o.json)
		ret = spe_profile_json(stdout, &p, &syms, &st, o.top);
	else
		report_text(&o, &in, &p, &st, &syms);
	spe_profile_free(&p);
	spe_symtab_free(&syms);
	input_free(&in);
	if (ret)
		return cli_err(ctx, ret, "spe report: %s", strerror(-ret));
	return out_done(ctx, "report");
}
