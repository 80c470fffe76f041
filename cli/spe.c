// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmprof spe dump|records|report FILE: offline SPE decoding.
 *
 * FILE is raw SPE data or a `kvmprof record` recording, either possibly
 * gzip- or zlib-compressed.  The input is read and checked whole before
 * anything is printed, so a bad file gives one error and no output.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include <kvmprof/spe.h>
#include <kvmprof/spe_perfdata.h>
#include <kvmprof/spe_pprof.h>
#include <kvmprof/spe_profile.h>
#include <kvmprof/spefile.h>
#include "cli.h"

#define MAX_VCPUS	4096
#define TOP_DEFAULT	20
#define TOP_MAX		10000

/* One SPE byte stream: a raw file, or one vCPU of a recording. */
struct stream {
	int64_t vcpu;		/* -1: raw file */
	uint8_t *buf;		/* owned when recording */
	size_t len, cap;
};

struct input {
	struct spe_input file; /* the decompressed (or mapped) file */
	bool recording;	       /* streams per vCPU (KPSPE or perf.data) */
	bool perfdata;
	int fd;			/* >= 0: a raw file decoded as it is read */
	uint64_t midr;		/* from the recording's metadata, or 0 */
	char vm[128];		/* VM name from the metadata, or "" */
	struct stream *streams;
	size_t nstreams;
};

struct opts {
	const char *file;
	const char *symbols;
	const char *pprof; /* report --pprof OUT.pb.gz */
	uint64_t midr;
	bool have_midr;
	bool csv;
	bool json;
	size_t top;
};

/* ---- arguments ------------------------------------------------------------ */

static int parse_midr(const char *s, uint64_t *ret)
{
	char *end;

	for (unsigned int c = 1; c < SPE_CPU_NR; c++) {
		const char *name = spe_cpu_name(c);

		/* "neoverse-n1" or just "n1" */
		if (!strcmp(s, name) || (!strncmp(name, "neoverse-", 9) &&
					 !strcmp(s, name + 9))) {
			*ret = spe_cpu_midr(c);
			return 0;
		}
	}
	errno = 0;
	*ret = strtoull(s, &end, 0);
	return errno || end == s || *end || *ret > 0xffffffffull ? -EINVAL : 0;
}

static int parse_args(struct cli_ctx *ctx, int argc, char **argv,
		      struct opts *o, bool allow_fmt, bool allow_report)
{
	o->json = ctx->json;
	o->top = TOP_DEFAULT;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--midr") && i + 1 < argc) {
			if (parse_midr(argv[++i], &o->midr))
				return cli_err(ctx, -EINVAL, "spe %s: bad --midr "
					       "'%s' (hex MIDR_EL1 value or n1, "
					       "n2, v1, v2, ampereone)",
					       argv[0], argv[i]);
			o->have_midr = true;
		} else if (allow_fmt && !strcmp(a, "--csv")) {
			o->csv = true;
		} else if (!strcmp(a, "--json")) {
			o->json = true;
		} else if (allow_report && !strcmp(a, "--symbols") &&
			   i + 1 < argc) {
			o->symbols = argv[++i];
		} else if (allow_report && !strcmp(a, "--pprof") &&
			   i + 1 < argc) {
			o->pprof = argv[++i];
		} else if (allow_report && !strcmp(a, "--top") &&
			   i + 1 < argc) {
			char *end;

			o->top = strtoul(argv[++i], &end, 10);
			if (*end || !o->top || o->top > TOP_MAX)
				return cli_err(ctx, -EINVAL, "spe %s: --top takes "
					       "1..%d", argv[0], TOP_MAX);
		} else if (a[0] == '-' && a[1]) {
			return cli_err(ctx, -EINVAL, "spe %s: unknown or "
				       "incomplete option '%s'", argv[0], a);
		} else if (!o->file) {
			o->file = a;
		} else {
			return cli_err(ctx, -EINVAL, "spe %s: unexpected '%s'",
				       argv[0], a);
		}
	}
	if (o->csv && o->json)
		return cli_err(ctx, -EINVAL, "spe %s: --csv or --json, not both",
			       argv[0]);
	if (!o->file)
		return cli_err(ctx, -EINVAL, "spe %s: missing FILE", argv[0]);
	return 0;
}

/* ---- input ---------------------------------------------------------------- */

static struct stream *vcpu_stream(struct input *in, uint32_t vcpu)
{
	struct stream *s;

	for (size_t i = 0; i < in->nstreams; i++)
		if (in->streams[i].vcpu == vcpu)
			return &in->streams[i];
	if (in->nstreams == MAX_VCPUS)
		return NULL;
	s = realloc(in->streams, (in->nstreams + 1) * sizeof(*s));
	if (!s)
		return NULL;
	in->streams = s;
	s = &in->streams[in->nstreams++];
	*s = (struct stream){ .vcpu = vcpu };
	return s;
}

/* A recording block: appended to its vCPU's stream. */
static int add_block(void *arg, uint32_t vcpu, const uint8_t *data,
		     size_t len)
{
	struct input *in = arg;
	struct stream *s;

	if (vcpu == KP_SPEFILE_TRAILER)
		return 0;
	s = vcpu_stream(in, vcpu);
	if (!s)
		return -E2BIG;
	if (s->len + len > s->cap) {
		size_t cap = s->cap ? s->cap : 1 << 16;
		uint8_t *b;

		while (cap < s->len + len)
			cap *= 2;
		b = realloc(s->buf, cap);
		if (!b)
			return -ENOMEM;
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	return 0;
}

/* A perf.data AUXTRACE record: its CPU's (or AUX buffer's) stream. */
static int add_aux(void *arg, uint32_t idx, uint32_t cpu, const uint8_t *data,
		   size_t len)
{
	return add_block(arg, cpu != UINT32_MAX ? cpu : idx, data, len);
}

static int cmp_stream(const void *a, const void *b)
{
	const struct stream *x = a, *y = b;

	return x->vcpu < y->vcpu ? -1 : x->vcpu > y->vcpu;
}

static uint64_t meta_midr(const char *meta, size_t len, char *vm,
			  size_t vm_size)
{
	cJSON *m = cJSON_ParseWithLength(meta, len);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "midr");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "vm");
	uint64_t midr = 0;

	if (cJSON_IsString(name))
		snprintf(vm, vm_size, "%s", name->valuestring);

	if (cJSON_IsString(v) && parse_midr(v->valuestring, &midr))
		midr = 0;
	else if (cJSON_IsNumber(v) && v->valuedouble >= 0)
		midr = (uint64_t)v->valuedouble;
	cJSON_Delete(m);
	return midr;
}

static void input_free(struct input *in)
{
	for (size_t i = 0; i < in->nstreams; i++)
		if (in->recording)
			free(in->streams[i].buf);
	free(in->streams);
	spe_input_close(&in->file);
	if (in->fd >= 0)
		close(in->fd);
}

#define READ_CHUNK (1u << 20)

/*
 * report on a raw, uncompressed regular file: the file is read 1 MiB at a
 * time and decoded as it comes (mapping it whole cost more than decoding:
 * a first pass over 256 MiB of fresh mappings took 0.31-0.43 s against
 * 0.22-0.28 s read in chunks, on this VM).  Returns 1 when @file is not
 * such a file (load it whole).
 */
static int input_stream(const char *file, struct input *in)
{
	uint8_t head[8];
	struct stat st;
	ssize_t n;
	int fd;

	if (!strcmp(file, "-"))
		return 1;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1; /* the whole-file path says why */
	n = pread(fd, head, sizeof(head), 0);
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || n <= 0 ||
	    (uint64_t)st.st_size > SPE_INPUT_MAX ||
	    spe_input_is_compressed(head, n) || kp_spefile_is(head, n) ||
	    spe_perfdata_is(head, n)) {
		close(fd);
		return 1;
	}
	in->streams = calloc(1, sizeof(*in->streams));
	if (!in->streams) {
		close(fd);
		return -ENOMEM;
	}
	in->streams[0] = (struct stream){ .vcpu = -1, .len = st.st_size };
	in->nstreams = 1;
	in->fd = fd;
	return 0;
}

/* Decodes the streamed file into @p (one thread: it is read as it goes). */
static int profile_read(struct input *in, struct spe_profile *p,
			struct spe_dec_stats *ret_st)
{
	struct spe_dec *d = malloc(sizeof(*d));
	uint8_t *buf = malloc(READ_CHUNK);
	ssize_t n;
	int ret = 0;

	if (!d || !buf) {
		free(d);
		free(buf);
		return -ENOMEM;
	}
	spe_dec_init(d, NULL);
	while ((n = read(in->fd, buf, READ_CHUNK)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		spe_profile_decode(p, d, buf, n, false);
	}
	spe_dec_finish(d);
	memset(ret_st, 0, sizeof(*ret_st));
	spe_dec_stats_add(ret_st, &d->stats);
	free(buf);
	free(d);
	return ret;
}

static int input_load(struct cli_ctx *ctx, const char *cmd, const char *file,
		      struct input *in, bool stream)
{
	const char *meta;
	size_t meta_len;
	int ret;

	memset(in, 0, sizeof(*in));
	in->fd = -1;
	if (stream) {
		ret = input_stream(file, in);
		if (ret <= 0)
			return ret ? cli_err(ctx, ret, "out of memory") : 0;
	}
	ret = spe_input_open(&in->file, file, SPE_INPUT_MAX);
	if (ret == -EBADMSG)
		return cli_err(ctx, ret, "spe %s: %s: corrupt or truncated "
			       "compressed data", cmd, file);
	if (ret == -EFBIG)
		return cli_err(ctx, ret, "spe %s: %s: more than %llu bytes",
			       cmd, file, (unsigned long long)SPE_INPUT_MAX);
	if (ret)
		return cli_err(ctx, ret, "spe %s: %s: %s", cmd, file,
			       strerror(-ret));
	if (spe_perfdata_is(in->file.data, in->file.len)) {
		in->recording = true;
		in->perfdata = true;
		ret = spe_perfdata_walk(in->file.data, in->file.len, add_aux,
					in);
		if (ret) {
			input_free(in);
			return cli_err(
				ctx, ret, "spe %s: %s: %s", cmd, file,
				ret == -EBADMSG ?
					"malformed perf.data" :
				ret == -EPROTONOSUPPORT ?
					"pipe-mode perf.data is not supported" :
				ret == -ENOTSUP ? "perf.data holds "
						  "another trace than Arm SPE" :
				ret == -ENODATA ? "no Arm SPE trace in "
						  "perf.data" :
				ret == -E2BIG	? "too many CPUs" :
						  strerror(-ret));
		}
		qsort(in->streams, in->nstreams, sizeof(*in->streams),
		      cmp_stream);
		return 0;
	}
	if (!kp_spefile_is(in->file.data, in->file.len)) {
		in->streams = calloc(1, sizeof(*in->streams));
		if (!in->streams) {
			input_free(in);
			return cli_err(ctx, -ENOMEM, "out of memory");
		}
		in->streams[0] = (struct stream){
			.vcpu = -1,
			.buf = in->file.data,
			.len = in->file.len,
		};
		in->nstreams = 1;
		return 0;
	}
	in->recording = true;
	ret = kp_spefile_walk(in->file.data, in->file.len, &meta, &meta_len,
			      add_block, in);
	if (ret) {
		input_free(in);
		return cli_err(ctx, ret, "spe %s: %s: %s", cmd, file,
			       ret == -EBADMSG ? "malformed kvmprof recording" :
			       ret == -E2BIG ? "too many vCPUs in recording" :
			       strerror(-ret));
	}
	in->midr = meta_midr(meta, meta_len, in->vm, sizeof(in->vm));
	qsort(in->streams, in->nstreams, sizeof(*in->streams), cmp_stream);
	return 0;
}

static int no_record(void *arg, const struct spe_record *r)
{
	return 0;
}

/* Decodes every stream, each record to @fn; sums the decoders' counters. */
static int decode_all(const struct input *in, spe_rec_fn fn,
		      struct spe_dec_stats *ret_st)
{
	struct spe_dec *d = malloc(sizeof(*d));

	if (!d)
		return -ENOMEM;
	memset(ret_st, 0, sizeof(*ret_st));
	for (size_t i = 0; i < in->nstreams; i++) {
		spe_dec_init(d, NULL);
		spe_dec_run(d, in->streams[i].buf, in->streams[i].len, true, fn,
			    NULL);
		spe_dec_stats_add(ret_st, &d->stats);
	}
	free(d);
	return 0;
}

/*
 * Decodes every stream into @p: on one thread, or two with
 * KVMPROF_SPE_THREADS=2 (a decoding and a helper thread; on the shared
 * 2-core development VM one thread was faster: 0.34 s against 0.41 s wall
 * for 256 MiB, the helper competing with other jobs for the second core).
 */
static int profile_all(const struct input *in, struct spe_profile *p,
		       struct spe_dec_stats *ret_st)
{
	struct spe_stream_in *s;
	const char *env = getenv("KVMPROF_SPE_THREADS");
	long threads = env ? atol(env) : 1;
	int ret;

	if (in->fd >= 0)
		return profile_read((struct input *)in, p, ret_st);
	s = calloc(in->nstreams, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < in->nstreams; i++)
		s[i] = (struct spe_stream_in){ in->streams[i].buf,
					       in->streams[i].len };
	ret = spe_profile_decode_streams(p, s, in->nstreams,
					 threads > 1 ? 2 : 1, ret_st);
	free(s);
	return ret;
}

/* Bytes but not one record and some bad bytes: not SPE data. */
static int check_stats(struct cli_ctx *ctx, const char *cmd, const char *file,
		       const struct spe_dec_stats *st)
{
	if (!st->records && st->bad_bytes)
		return cli_err(ctx, -EBADMSG,
			       "spe %s: %s: not SPE data (no "
			       "record in %llu bytes, %llu bad)",
			       cmd, file, (unsigned long long)st->bytes,
			       (unsigned long long)st->bad_bytes);
	return 0;
}

/* Decodes every stream once to check that the input is SPE data at all. */
static int input_check(struct cli_ctx *ctx, const char *cmd, const char *file,
		       const struct input *in, struct spe_dec_stats *ret_st)
{
	if (decode_all(in, no_record, ret_st))
		return cli_err(ctx, -ENOMEM, "out of memory");
	return check_stats(ctx, cmd, file, ret_st);
}

/* Ends a command: any write error on stdout fails it. */
static int out_done(struct cli_ctx *ctx, const char *cmd)
{
	if (fflush(stdout) || ferror(stdout))
		return cli_err(ctx, -EIO, "spe %s: writing the output failed",
			       cmd);
	return 0;
}

static void print_stats_text(FILE *f, const struct spe_dec_stats *st)
{
	fprintf(f, "decoder: %llu bytes, %llu records, %llu bad bytes, "
		"%llu resyncs, %llu dropped, %llu truncated\n",
		(unsigned long long)st->bytes, (unsigned long long)st->records,
		(unsigned long long)st->bad_bytes,
		(unsigned long long)st->resyncs,
		(unsigned long long)st->dropped,
		(unsigned long long)st->truncated);
}

static void print_stats_json(FILE *f, const struct spe_dec_stats *st)
{
	fprintf(f, "\"decoder\":{\"bytes\":%llu,\"records\":%llu,"
		"\"bad_bytes\":%llu,\"resyncs\":%llu,\"dropped\":%llu,"
		"\"truncated\":%llu,\"dups\":%llu}",
		(unsigned long long)st->bytes, (unsigned long long)st->records,
		(unsigned long long)st->bad_bytes,
		(unsigned long long)st->resyncs,
		(unsigned long long)st->dropped,
		(unsigned long long)st->truncated,
		(unsigned long long)st->dups);
}

/* Common start of the three commands. */
static int begin(struct cli_ctx *ctx, int argc, char **argv, struct opts *o,
		 struct input *in, struct spe_dec_stats *st, bool fmt,
		 bool report)
{
	int ret;

	memset(o, 0, sizeof(*o));
	ret = parse_args(ctx, argc, argv, o, fmt, report);
	if (ret)
		return ret;
	/* report without --pprof decodes a raw file as it reads it */
	ret = input_load(ctx, argv[0], o->file, in, report && !o->pprof);
	if (ret)
		return ret;
	if (!o->have_midr)
		o->midr = in->midr;
	/* report decodes once, and checks what that pass counted */
	if (report)
		return 0;
	ret = input_check(ctx, argv[0], o->file, in, st);
	if (ret)
		input_free(in);
	return ret;
}

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

static int cmd_dump(struct cli_ctx *ctx, int argc, char **argv)
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
		printf(" op=%s%s", op.cls == SPE_OPC_LDST ?
		       (op.flags & SPE_OPF_ST ? "st/" : "ld/") : "",
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
		       spe_ds_name(spe_ds_decode(spe_cpu_from_midr(midr),
						 r->ds)));
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
			printf("{\"vcpu\":%lld,\"record\":", (long long)ro->vcpu);
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

static int cmd_records(struct cli_ctx *ctx, int argc, char **argv)
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
		ret = spe_dec_run(d, in.streams[i].buf, in.streams[i].len,
				  true, print_record, &ro);
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
		       "%.*s\n", lo, hi, rows[i], pct(rows[i], h->count),
		       bar ? bar : 1, "########################################");
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
	printf("samples: %" PRIu64 " (without PC: %" PRIu64 ")\n\n",
	       p->samples, p->no_pc);

	printf("By exception level:\n");
	for (unsigned int el = 0; el < 4; el++)
		if (p->el[el])
			printf("  EL%u %12" PRIu64 " %6.2f%%  (non-secure %"
			       PRIu64 ")\n", el, p->el[el],
			       pct(p->el[el], p->samples), p->el_ns[el][1]);

	printf("\nOperation mix:\n");
	printf("  loads %12" PRIu64 " %6.2f%%   stores %12" PRIu64 " %6.2f%%\n",
	       p->loads, pct(p->loads, p->samples), p->stores,
	       pct(p->stores, p->samples));
	printf("  branches %9" PRIu64 " %6.2f%%   other %13" PRIu64 " %6.2f%%\n",
	       p->op_class[SPE_OPC_BRANCH],
	       pct(p->op_class[SPE_OPC_BRANCH], p->samples),
	       p->op_class[SPE_OPC_OTHER],
	       pct(p->op_class[SPE_OPC_OTHER], p->samples));
	printf("  branches: conditional %" PRIu64 ", indirect %" PRIu64
	       ", calls %" PRIu64 ", returns %" PRIu64 "\n", p->br_cond,
	       p->br_ind, p->br_call, p->br_ret);
	for (unsigned int i = 0; i < SPE_OPS_NR; i++)
		if (p->op_sub[i])
			printf("  %-20s %12" PRIu64 " %6.2f%%\n",
			       spe_op_sub_name(i), p->op_sub[i],
			       pct(p->op_sub[i], p->samples));

	printf("\nEvent rates:\n");
	printf("  L1D miss %6.2f%%   LLC miss %6.2f%%   TLB miss %6.2f%%\n",
	       100 * rt.l1d_miss, 100 * rt.llc_miss, 100 * rt.tlb_miss);
	printf("  branch mispredict %6.2f%%   not taken %6.2f%%   remote %6.2f%%"
	       "\n", 100 * rt.mispredict, 100 * rt.not_taken,
	       100 * rt.remote);
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
			printf(" IMPDEF:%u %.2f%%", b, pct(p->ev[b],
							    p->samples));
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
	       "(counts over by at most %" PRIu64 "):\n", p->ctx.total,
	       max_err(top, n));
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

static int cmd_report(struct cli_ctx *ctx, int argc, char **argv)
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

const struct cli_cmd spe_cmds[] = {
	{ "dump", cmd_dump, "FILE [--midr X] [--json]",
	  "SPE packets, one line each, as `perf report -D` prints them" },
	{ "records", cmd_records, "FILE [--json|--csv] [--midr X]",
	  "decoded SPE records, every field" },
	{ "report", cmd_report,
	  "FILE [--midr X] [--symbols PATH[@OFFSET],...] [--top N] [--json] "
	  "[--pprof OUT.pb.gz]",
	  "profile: ELs, top PCs and guest PIDs, op mix, event rates, "
	  "latency histograms, data sources" },
	{ NULL, NULL, NULL, NULL },
};

int cmd_spe(struct cli_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "spe", spe_cmds, argc, argv);
}
