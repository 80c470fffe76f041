// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmprof spe: the input.  A raw SPE file (decoded as it is read for a
 * plain report) or a recording (KPSPE or perf.data) split into one stream
 * per vCPU; decoded once whole to check that it is SPE data at all.
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
#include <kvmprof/spe_profile.h>
#include <kvmprof/spefile.h>
#include "spe.h"

#define MAX_VCPUS 4096

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
static int add_block(void *arg, uint32_t vcpu, const uint8_t *data, size_t len)
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

void input_free(struct input *in)
{
	for (size_t i = 0; i < in->nstreams; i++)
		if (in->recording)
			free(in->streams[i].buf);
	free(in->streams);
	spe_input_close(&in->file);
	if (in->fd >= 0)
		close(in->fd);
}

/*
 * report on a raw, uncompressed regular file: the file is read 1 MiB at a
 * time (each thread its ranges, spe_profile_decode_fd()) and decoded as it
 * comes (mapping it whole cost more than decoding:
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

int input_load(struct cli_ctx *ctx, const char *cmd, const char *file,
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
		return cli_err(ctx, ret,
			       "spe %s: %s: corrupt or truncated "
			       "compressed data",
			       cmd, file);
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
			       ret == -E2BIG   ? "too many vCPUs in recording" :
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
 * Decodes every stream into @p, on both cores where there are two
 * (spe_profile_threads(): KVMPROF_SPE_THREADS=1 keeps it to one).
 */
int profile_all(const struct input *in, struct spe_profile *p,
		struct spe_dec_stats *ret_st)
{
	unsigned int threads = spe_profile_threads();
	struct spe_stream_in *s;
	int ret;

	if (in->fd >= 0)
		return spe_profile_decode_fd(p, in->fd, in->streams[0].len,
					     threads, ret_st);
	s = calloc(in->nstreams, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < in->nstreams; i++)
		s[i] = (struct spe_stream_in){ in->streams[i].buf,
					       in->streams[i].len };
	ret = spe_profile_decode_streams(p, s, in->nstreams, threads, ret_st);
	free(s);
	return ret;
}

/* Bytes but not one record and some bad bytes: not SPE data. */
int check_stats(struct cli_ctx *ctx, const char *cmd, const char *file,
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
int input_check(struct cli_ctx *ctx, const char *cmd, const char *file,
		const struct input *in, struct spe_dec_stats *ret_st)
{
	if (decode_all(in, no_record, ret_st))
		return cli_err(ctx, -ENOMEM, "out of memory");
	return check_stats(ctx, cmd, file, ret_st);
}

/* Ends a command: any write error on stdout fails it. */
int out_done(struct cli_ctx *ctx, const char *cmd)
{
	if (fflush(stdout) || ferror(stdout))
		return cli_err(ctx, -EIO, "spe %s: writing the output failed",
			       cmd);
	return 0;
}

void print_stats_text(FILE *f, const struct spe_dec_stats *st)
{
	fprintf(f,
		"decoder: %" PRIu64 " bytes, %" PRIu64 " records, %" PRIu64
		" bad bytes, %" PRIu64 " resyncs, %" PRIu64 " dropped, %" PRIu64
		" truncated\n",
		st->bytes, st->records, st->bad_bytes, st->resyncs, st->dropped,
		st->truncated);
}

void print_stats_json(FILE *f, const struct spe_dec_stats *st)
{
	fprintf(f,
		"\"decoder\":{\"bytes\":%llu,\"records\":%llu,"
		"\"bad_bytes\":%llu,\"resyncs\":%llu,\"dropped\":%llu,"
		"\"truncated\":%llu,\"dups\":%llu}",
		(unsigned long long)st->bytes, (unsigned long long)st->records,
		(unsigned long long)st->bad_bytes,
		(unsigned long long)st->resyncs,
		(unsigned long long)st->dropped,
		(unsigned long long)st->truncated,
		(unsigned long long)st->dups);
}
