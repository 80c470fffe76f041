// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kvmprof/json.h>
#include <kvmprof/spe.h>
#include <kvmprof/spe_pprof.h>
#include <kvmprof/spe_profile.h>
#include <kvmprof/util.h>
#include "registry.h"
#include "spe_capture.h"

#define RAW_MAX_BLOCKS 65536

struct spe_stream {
	int32_t vcpu;
	bool started;
	bool recording;		/* raw blocks start at a copy boundary */
	uint64_t next_seq;
	uint64_t chunks;
	uint64_t lost_chunks;	/* sequence gaps */
	uint64_t records;
	uint64_t by_el[SPE_EL_NR];
	struct spe_dec dec;
};

struct raw_block {
	uint64_t ms;  /* when it arrived (CLOCK_MONOTONIC) */
	uint64_t seq; /* the vCPU's chunk sequence number */
	uint32_t vcpu;
	uint32_t len;
	bool start; /* at a copy-out's start: a record boundary */
	uint8_t data[];
};

struct vm_spe {
	struct spe_profile prof;	/* all vCPUs of the VM */
	struct spe_symtab syms;
	bool syms_tried;
	int syms_err;
	struct spe_stream *streams;
	size_t nstreams;
	uint64_t chunks;
	uint64_t bytes;
	/* raw recording window: a queue of blocks, bounded in bytes */
	bool raw_on;
	struct raw_block **raw;	/* ring of RAW_MAX_BLOCKS */
	uint64_t raw_head;	/* sequence number of the oldest block */
	uint64_t raw_tail;	/* sequence number after the newest */
	uint64_t raw_bytes;
	uint64_t raw_since_ms; /* recording started */
};

/* The registry's hook: a VM leaves, its SPE state goes with it. */
static void vm_gone(void *arg, struct vm *vm)
{
	struct spe_capture *c = arg;

	/* the helper may still hold adds to the VM's profile */
	if (vm->spe)
		spe_pipe_flush(c->pipe);
	vm_spe_free(vm->spe);
	vm->spe = NULL;
}

void spe_capture_init(struct spe_capture *c, struct registry *reg,
		      uint64_t raw_max)
{
	memset(c, 0, sizeof(*c));
	c->reg = reg;
	c->raw_max = raw_max;
	reg->on_vm_free = vm_gone;
	reg->on_vm_free_arg = c;
}

int spe_capture_threads(struct spe_capture *c)
{
	return c->pipe ? 0 : spe_pipe_new(&c->pipe);
}

void spe_capture_fini(struct spe_capture *c)
{
	spe_pipe_free(c->pipe);
	c->pipe = NULL;
}

void vm_spe_free(struct vm_spe *s)
{
	if (!s)
		return;
	if (s->raw)
		for (uint64_t i = s->raw_head; i < s->raw_tail; i++)
			free(s->raw[i % RAW_MAX_BLOCKS]);
	free(s->raw);
	free(s->streams);
	spe_profile_free(&s->prof);
	spe_symtab_free(&s->syms);
	free(s);
}

static struct spe_stream *stream_of(struct vm_spe *s, int32_t vcpu)
{
	struct spe_stream *ns;

	for (size_t i = 0; i < s->nstreams; i++)
		if (s->streams[i].vcpu == vcpu)
			return &s->streams[i];
	if (s->nstreams >= SPE_MAX_VCPU_STREAMS)
		return NULL;
	ns = realloc(s->streams, (s->nstreams + 1) * sizeof(*ns));
	if (!ns)
		return NULL;
	s->streams = ns;
	ns = &s->streams[s->nstreams++];
	memset(ns, 0, sizeof(*ns));
	ns->vcpu = vcpu;
	spe_dec_init(&ns->dec, NULL);
	return ns;
}

static void raw_append(struct spe_capture *c, struct vm_spe *s,
		       const struct kp_spe_hdr *h, const uint8_t *data)
{
	uint32_t len = h->len;
	struct raw_block *b = malloc(sizeof(*b) + len);

	if (!b)
		return;
	b->ms = kp_mono_ms();
	b->seq = h->seq;
	b->vcpu = (uint32_t)h->vcpu;
	b->len = len;
	b->start = h->off == 0;
	memcpy(b->data, data, len);
	while (s->raw_tail - s->raw_head >= RAW_MAX_BLOCKS ||
	       (s->raw_tail > s->raw_head &&
		s->raw_bytes + len > c->raw_max)) {
		struct raw_block *old = s->raw[s->raw_head % RAW_MAX_BLOCKS];

		s->raw_bytes -= old->len;
		free(old);
		s->raw_head++;
	}
	s->raw[s->raw_tail++ % RAW_MAX_BLOCKS] = b;
	s->raw_bytes += len;
}

/* The VM's SPE state, created on first use; NULL without memory. */
static struct vm_spe *vm_spe_of(struct spe_capture *c, struct vm *vm)
{
	struct spe_profile_opts po = { .midr = c->midr, .top_pcs = c->top_pcs };
	struct vm_spe *s = vm->spe;

	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	if (spe_profile_init(&s->prof, &po)) {
		free(s);
		return NULL;
	}
	vm->spe = s;
	return s;
}

int spe_capture_chunk(void *ctx, void *data, size_t size)
{
	struct spe_capture *c = ctx;
	const struct kp_spe_hdr *h = data;
	const uint8_t *bytes = (const uint8_t *)data + sizeof(*h);
	struct spe_stream *st;
	struct vm_spe *s;
	struct vm *vm;

	/* chunks are reserved at full size: size >= header + len */
	if (size < sizeof(*h) || h->len > KP_SPE_CHUNK ||
	    size < sizeof(*h) + h->len) {
		c->stats.malformed++;
		return 0;
	}
	c->stats.chunks++;
	c->stats.bytes += h->len;
	vm = registry_get(c->reg, h->tgid, h->start_ns);
	if (!vm &&
	    !registry_note_vm(c->reg, h->tgid, h->start_ns, NULL, kp_mono_ms()))
		vm = registry_get(c->reg, h->tgid, h->start_ns);
	if (!vm) {
		c->stats.unattributed++;
		return 0;
	}
	s = vm_spe_of(c, vm);
	if (!s) {
		c->stats.unattributed++;
		return 0;
	}
	st = stream_of(s, h->vcpu);
	if (!st) {
		c->stats.streams_dropped++;
		return 0;
	}
	s->chunks++;
	s->bytes += h->len;
	st->chunks++;
	if (st->started && h->seq != st->next_seq) {
		/* chunks lost in between: resynchronise */
		st->lost_chunks += h->seq - st->next_seq;
		spe_dec_discontinuity(&st->dec);
		st->recording = false;
	}
	st->started = true;
	st->next_seq = h->seq + 1;
	if (s->raw_on) {
		if (h->off == 0)
			st->recording = true;
		if (st->recording)
			raw_append(c, s, h, bytes);
	}
	st->records += spe_profile_feed(&s->prof, c->pipe, &st->dec, bytes,
					h->len, st->by_el);
	return 0;
}

/* The VM's SPE state with raw recording on (from now); NULL: no memory. */
static struct vm_spe *raw_start(struct spe_capture *c, struct vm *vm)
{
	struct vm_spe *s = vm_spe_of(c, vm);

	if (s && !s->raw_on) {
		s->raw = calloc(RAW_MAX_BLOCKS, sizeof(*s->raw));
		if (!s->raw)
			return NULL;
		s->raw_on = true;
		s->raw_since_ms = kp_mono_ms();
	}
	return s;
}

int spe_raw_read(struct spe_capture *c, struct vm *vm, uint64_t cursor,
		 size_t max, uint8_t **ret_buf, size_t *ret_len,
		 uint64_t *ret_next, uint64_t *ret_lost)
{
	struct vm_spe *s;
	uint8_t *buf = NULL;
	size_t len = 0;
	uint64_t i;

	s = raw_start(c, vm);
	if (!s)
		return -ENOMEM;
	*ret_lost = 0;
	if (cursor < s->raw_head) {
		*ret_lost = s->raw_head - cursor;	/* in blocks */
		cursor = s->raw_head;
	}
	if (cursor > s->raw_tail)
		cursor = s->raw_tail;
	for (i = cursor; i < s->raw_tail; i++) {
		struct raw_block *b = s->raw[i % RAW_MAX_BLOCKS];
		size_t need = 8 + b->len;
		uint8_t *nb;

		if (len + need > max)
			break;
		nb = realloc(buf, len + need);
		if (!nb) {
			free(buf);
			return -ENOMEM;
		}
		buf = nb;
		memcpy(buf + len, &b->vcpu, 4);
		memcpy(buf + len + 4, &b->len, 4);
		memcpy(buf + len + 8, b->data, b->len);
		len += need;
	}
	*ret_buf = buf;
	*ret_len = len;
	*ret_next = i;
	return 0;
}

/* The guest symbols configured for the VM, loaded on first use. */
static void load_syms(struct spe_capture *c, struct vm *vm, struct vm_spe *s)
{
	const char *path;

	if (!s->syms_tried && c->symbols_for) {
		s->syms_tried = true;
		path = c->symbols_for(c->symbols_ctx, vm->ident.name);
		if (path)
			s->syms_err = spe_symtab_load_spec(&s->syms, path);
	}
}

/* A vCPU's decoder over the window's blocks. */
struct win_dec {
	uint32_t vcpu;
	uint64_t next_seq;
	struct spe_dec dec;
};

static struct win_dec *win_dec_of(struct win_dec **wd, size_t *n,
				  const struct raw_block *b)
{
	struct win_dec *w;

	for (size_t i = 0; i < *n; i++)
		if ((*wd)[i].vcpu == b->vcpu)
			return &(*wd)[i];
	if (!(*n % 16)) {
		w = realloc(*wd, (*n + 16) * sizeof(*w));
		if (!w)
			return NULL;
		*wd = w;
	}
	w = &(*wd)[(*n)++];
	w->vcpu = b->vcpu;
	w->next_seq = b->seq;
	spe_dec_init(&w->dec, NULL);
	/* mid-stream: start at the first record boundary found */
	if (!b->start)
		spe_dec_discontinuity(&w->dec);
	return w;
}

/* The records of block @b into @pp. */
static int win_add(struct spe_pprof *pp, struct win_dec *w,
		   const struct raw_block *b, struct spe_record *recs)
{
	size_t off = 0;

	if (b->seq != w->next_seq) {
		/* recording stopped (chunks lost) and started again */
		if (b->start)
			spe_dec_finish(&w->dec);
		else
			spe_dec_discontinuity(&w->dec);
	}
	w->next_seq = b->seq + 1;
	while (off < b->len) {
		size_t used = 0;
		int n = spe_dec_feed(&w->dec, b->data + off, b->len - off,
				     &used, recs, 64);

		if (n < 0)
			return n;
		for (int i = 0; i < n; i++) {
			int ret = spe_pprof_add(pp, (int32_t)b->vcpu, &recs[i]);

			if (ret)
				return ret;
		}
		off += used;
		if (!used && !n)
			break;
	}
	return 0;
}

int spe_pprof_window(struct spe_capture *c, struct vm *vm, unsigned int seconds,
		     uint8_t **ret_buf, size_t *ret_len, uint64_t *ret_span_ms)
{
	uint64_t now = kp_mono_ms(), since = (uint64_t)seconds * 1000, first;
	struct vm_spe *s = raw_start(c, vm);
	struct spe_record *recs = malloc(64 * sizeof(*recs));
	struct spe_pprof *pp = spe_pprof_new(c->midr);
	struct win_dec *wd = NULL;
	char *text = NULL;
	size_t nwd = 0, len = 0;
	int ret = 0;
	FILE *f;

	since = now > since ? now - since : 0;
	if (!s || !recs || !pp) {
		ret = -ENOMEM;
		goto out;
	}
	/* the blocks that arrived since then (arrival times only grow) */
	for (first = s->raw_tail; first > s->raw_head; first--)
		if (s->raw[(first - 1) % RAW_MAX_BLOCKS]->ms < since)
			break;
	for (uint64_t i = first; i < s->raw_tail && !ret; i++) {
		const struct raw_block *b = s->raw[i % RAW_MAX_BLOCKS];
		struct win_dec *w = win_dec_of(&wd, &nwd, b);

		ret = w ? win_add(pp, w, b, recs) : -ENOMEM;
	}
	if (ret)
		goto out;
	/* what the window covers: since recording started, at most */
	if (s->raw_since_ms > since)
		since = s->raw_since_ms;
	*ret_span_ms = now - since;
	load_syms(c, vm, s);
	f = open_memstream(&text, &len);
	if (!f) {
		ret = -ENOMEM;
		goto out;
	}
	ret = spe_pprof_write(pp, f, s->syms.n ? &s->syms : NULL,
			      vm->ident.name, *ret_span_ms * 1000000);
	if (fclose(f) && !ret)
		ret = -EIO;
	if (ret) {
		free(text);
		goto out;
	}
	*ret_buf = (uint8_t *)text;
	*ret_len = len;
out:
	free(wd);
	free(recs);
	spe_pprof_free(pp);
	return ret;
}

#define add_u64 kp_json_add_u64

/*
 * The profile (counts, rates, histograms, data sources, top PCs with
 * symbols, CONTEXTIDRs) as the library writes it for the CLI too,
 * embedded as it is (a raw cJSON item: not parsed back).
 */
static cJSON *profile_json(struct spe_capture *c, struct vm *vm,
			   struct vm_spe *s)
{
	char *text = NULL;
	size_t len = 0;
	cJSON *j = NULL;
	FILE *f;
	int ret;

	load_syms(c, vm, s);
	/* batches are counted by value until folded in, the top-K's adds
	 * may wait on the helper */
	spe_pipe_flush(c->pipe);
	spe_profile_sync(&s->prof);
	f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	ret = spe_profile_json_ex(f, &s->prof, s->syms.n ? &s->syms : NULL,
				  NULL, 20, s->syms_err);
	if (!fclose(f) && !ret) {
		if (len && text[len - 1] == '\n')
			text[len - 1] = '\0';
		j = cJSON_CreateRaw(text);
	}
	free(text);
	return j;
}

cJSON *render_vm_spe(struct spe_capture *c, struct vm *vm)
{
	struct vm_spe *s = vm->spe;
	cJSON *o = cJSON_CreateObject(), *arr;
	uint64_t records = 0, bad = 0, dropped = 0, trunc = 0, lost = 0;

	if (!o)
		return NULL;
	add_u64(o, "chunks", s ? s->chunks : 0);
	add_u64(o, "bytes", s ? s->bytes : 0);
	arr = cJSON_AddArrayToObject(o, "per_vcpu");
	for (size_t i = 0; s && arr && i < s->nstreams; i++) {
		const struct spe_stream *st = &s->streams[i];
		cJSON *v = cJSON_CreateObject(), *el;

		if (!v)
			break;
		cJSON_AddNumberToObject(v, "vcpu", st->vcpu);
		add_u64(v, "samples", st->records);
		el = cJSON_AddObjectToObject(v, "samples_by_el");
		for (int e = 0; el && e < SPE_EL_NR; e++) {
			char k[4] = { 'e', 'l', (char)('0' + e), 0 };

			add_u64(el, k, st->by_el[e]);
		}
		add_u64(v, "lost_chunks", st->lost_chunks);
		add_u64(v, "bad_bytes", st->dec.stats.bad_bytes);
		add_u64(v, "dropped_records", st->dec.stats.dropped);
		add_u64(v, "incomplete_records", st->dec.stats.truncated);
		cJSON_AddItemToArray(arr, v);
		records += st->records;
		bad += st->dec.stats.bad_bytes;
		dropped += st->dec.stats.dropped;
		trunc += st->dec.stats.truncated;
		lost += st->lost_chunks;
	}
	add_u64(o, "samples", records);
	add_u64(o, "lost_chunks", lost);
	add_u64(o, "bad_bytes", bad);
	add_u64(o, "dropped_records", dropped);
	add_u64(o, "incomplete_records", trunc);
	if (s) {
		cJSON *p = profile_json(c, vm, s);

		if (!p) {
			cJSON_Delete(o);
			return NULL;
		}
		cJSON_AddItemToObject(o, "profile", p);
	}
	return o;
}
