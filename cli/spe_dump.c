// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmprof spe dump|records FILE: the SPE packets, or the decoded records
 * with every field (text, CSV or JSON).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kvmprof/spe.h>
#include "spe.h"

/* ---- dump ----------------------------------------------------------------- */

static void dump_stream(const struct stream *s, uint64_t midr, bool json,
			bool *first)
{
	char line[SPE_DUMP_LINE_MAX];
	size_t pos = 0;

	if (!json) {
		if (s->vcpu >= 0)
			printf(". vcpu %lld\n", (long long)s->vcpu);
		printf(". ... ARM SPE data: size %#zx bytes\n", s->len);
	}
	while (pos < s->len) {
		size_t n = spe_dump_line(s->buf + pos, s->len - pos, pos, midr,
					 line, sizeof(line));
		char desc[SPE_DESC_MAX] = "Bad packet!";
		struct spe_pkt pkt;

		if (!json) {
			fputs(line, stdout);
			pos += n;
			continue;
		}
		if (spe_pkt_parse(s->buf + pos, s->len - pos, &pkt) > 0)
			spe_pkt_desc(&pkt, midr, desc, sizeof(desc));
		printf("%s{\"vcpu\":%lld,\"offset\":%zu,\"bytes\":\"",
		       *first ? "" : ",\n", (long long)s->vcpu, pos);
		for (size_t i = 0; i < n; i++)
			printf("%02x", s->buf[pos + i]);
		printf("\",\"desc\":");
		spe_json_str(stdout, desc);
		putchar('}');
		*first = false;
		pos += n;
	}
}

int cmd_dump(struct cli_ctx *ctx, int argc, char **argv)
{
	struct spe_dec_stats st;
	struct input in;
	struct opts o;
	bool first = true;
	int ret;

	ret = begin(ctx, argc, argv, &o, &in, &st, false, false);
	if (ret)
		return ret;
	if (o.json)
		printf("{\"packets\":[\n");
	for (size_t i = 0; i < in.nstreams; i++)
		dump_stream(&in.streams[i], o.midr, o.json, &first);
	if (o.json)
		printf("\n]}\n");
	input_free(&in);
	return out_done(ctx, "dump");
}

/* ---- records -------------------------------------------------------------- */

struct rec_out {
	const struct opts *o;
	int64_t vcpu;
	bool first;
};

static void print_record_text(const struct spe_record *r, uint64_t midr)
{
	printf("%10" PRIu64 " %3u", r->offset, r->len);
	if (r->flags & SPE_REC_TS)
		printf(" ts=%" PRIu64, r->ts);
	else
		printf(" end");
	if (spe_rec_has_addr(r, SPE_ADDR_PC)) {
		uint64_t pc = r->addr[SPE_ADDR_PC];

		printf(" pc=0x%" PRIx64 " el%u%s", spe_addr_canon(pc),
		       spe_addr_el(pc), spe_addr_ns(pc) ? " ns" : "");
	}
	if (r->flags & SPE_REC_OP) {
		struct spe_op_info op;

		spe_op_decode(r->op_class, r->op, &op);
		printf(" op=%s%s",
		       op.cls == SPE_OPC_LDST ?
			       (op.flags & SPE_OPF_ST ? "st/" : "ld/") :
			       "",
		       spe_op_sub_name(op.sub));
	}
	if (spe_rec_has_addr(r, SPE_ADDR_VA))
		printf(" va=0x%" PRIx64, r->addr[SPE_ADDR_VA]);
	if (spe_rec_has_addr(r, SPE_ADDR_PA))
		printf(" pa=0x%" PRIx64, r->addr[SPE_ADDR_PA] & SPE_ADDR_ADDR);
	if (spe_rec_has_addr(r, SPE_ADDR_TGT))
		printf(" tgt=0x%" PRIx64,
		       spe_addr_canon(r->addr[SPE_ADDR_TGT]));
	if (r->flags & SPE_REC_EV)
		printf(" ev=0x%" PRIx64, r->events);
	if (spe_rec_has_cnt(r, SPE_CNT_TOTAL))
		printf(" tot=%u", r->cnt[SPE_CNT_TOTAL]);
	if (spe_rec_has_cnt(r, SPE_CNT_ISSUE))
		printf(" issue=%u", r->cnt[SPE_CNT_ISSUE]);
	if (spe_rec_has_cnt(r, SPE_CNT_XLAT))
		printf(" xlat=%u", r->cnt[SPE_CNT_XLAT]);
	if (r->flags & SPE_REC_DS)
		printf(" ds=%" PRIu64 "(%s)", r->ds,
		       spe_ds_name(
			       spe_ds_decode(spe_cpu_from_midr(midr), r->ds)));
	if (r->ctx_mask & (1u << SPE_CTX_EL1))
		printf(" ctx=%u", r->ctx[SPE_CTX_EL1]);
	putchar('\n');
}

static int print_record(void *arg, const struct spe_record *r)
{
	struct rec_out *ro = arg;
	const struct opts *o = ro->o;

	if (o->json) {
		printf("%s", ro->first ? "" : ",\n");
		if (ro->vcpu >= 0)
			printf("{\"vcpu\":%lld,\"record\":",
			       (long long)ro->vcpu);
		spe_record_json(stdout, r, o->midr);
		if (ro->vcpu >= 0)
			putchar('}');
	} else if (o->csv) {
		if (ro->vcpu >= 0)
			printf("%lld,", (long long)ro->vcpu);
		spe_record_csv(stdout, r, o->midr);
	} else {
		if (ro->vcpu >= 0)
			printf("vcpu%-4lld", (long long)ro->vcpu);
		print_record_text(r, o->midr);
	}
	ro->first = false;
	return ferror(stdout) ? -EIO : 0;
}

int cmd_records(struct cli_ctx *ctx, int argc, char **argv)
{
	struct spe_dec_stats st;
	struct rec_out ro = { .first = true };
	struct spe_dec *d;
	struct input in;
	struct opts o;
	int ret;

	ret = begin(ctx, argc, argv, &o, &in, &st, true, false);
	if (ret)
		return ret;
	d = malloc(sizeof(*d));
	if (!d) {
		input_free(&in);
		return cli_err(ctx, -ENOMEM, "out of memory");
	}
	ro.o = &o;
	if (o.json) {
		printf("{\"records\":[\n");
	} else if (o.csv) {
		if (in.recording)
			printf("vcpu,");
		spe_record_csv_header(stdout);
	}
	for (size_t i = 0; i < in.nstreams && !ret; i++) {
		ro.vcpu = in.streams[i].vcpu;
		spe_dec_init(d, NULL);
		ret = spe_dec_run(d, in.streams[i].buf, in.streams[i].len, true,
				  print_record, &ro);
	}
	if (o.json) {
		printf("\n],");
		print_stats_json(stdout, &st);
		printf("}\n");
	} else {
		print_stats_text(stderr, &st);
	}
	free(d);
	input_free(&in);
	return out_done(ctx, "records");
}
