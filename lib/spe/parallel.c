// SPDX-License-Identifier: GPL-2.0-only
/*
 * Building a profile on two cores.  The input (one or more streams, in
 * memory or a file read as it goes) is shared out as the threads go:
 * the first thread starts on all of it; the second, once running, takes
 * the second half of what the first has not yet claimed; and a thread
 * out of work takes the second half of what the other has left, while
 * that is worth it (steal_min).  The two need not be equally fast: a
 * thread gets running milliseconds late on an idle CPU of a VM, and the
 * two CPUs of this project's test VM differed by a third in speed on
 * this code (a busy hyperthread sibling, docs/benchmarks.md).  Each
 * thread decodes its ranges into its own profile; the second profile is
 * merged into the first (spe_profile_merge()).
 *
 * A cut inside a stream must fall on a record boundary, which only
 * decoding from the stream's start can tell.  So a range is cut where a
 * resynchronising decoder finds a record start after its middle
 * (find_cut()), and the thread decoding up to the cut checks that it
 * stands there between records with nothing carried
 * (spe_dec_at_boundary()).  A fresh decoder starting at the cut then sees
 * the same bytes in the same state and gives the same records, unless it
 * meets damage (where the terminators seen before the cut steer
 * resynchronisation): a range starting at a cut must meet none in that
 * stream.  When a check fails, both threads stop and the input is
 * decoded again on one thread: the counters never depend on the number
 * of threads nor on how the input was shared out (the top-K sketch, once
 * it purges, stays within its bound).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <kvmprof/spe_profile.h>

#include "parallel.h"

#define PAR_CHUNK (1u << 20) /* the largest claim; each read buffer's size */
#define PAR_MIN (1u << 20)   /* smaller inputs: one thread */
#define CUT_WINDOW (64u << 10) /* bytes a cut is first looked for in */
#define RANGES_MAX 64

/* steal_min: ~2 ms of work, more than finding a cut costs */
#define TUNE_DEFAULT                                                   \
	{                                                              \
		.chunk = PAR_CHUNK, .steal_min = 4u << 20, .pieces = 1 \
	}
static const struct spe_par_tune tune_default = TUNE_DEFAULT;
static struct spe_par_tune tune = TUNE_DEFAULT;

void spe_par_set_tune(const struct spe_par_tune *t)
{
	tune = t ? *t : tune_default;
	if (!tune.chunk || tune.chunk > PAR_CHUNK)
		tune.chunk = PAR_CHUNK;
	if (!tune.pieces)
		tune.pieces = 1;
	if (tune.pieces > RANGES_MAX)
		tune.pieces = RANGES_MAX;
}

/* One stream: in memory, or (mem NULL) the first len bytes of file fd. */
struct src {
	const uint8_t *mem;
	int fd;
	uint64_t len;
};

/* A part of the input, in bytes of the streams one after the other. */
struct range {
	uint64_t start, end; /* end: moved back when the range is cut */
	uint64_t claimed;    /* its thread has decoded or is decoding to */
	uint64_t limit;	     /* not beyond, while a cut is looked for */
	bool owned;	     /* a thread has taken it */
	bool done;	     /* all claimed */
	bool splitting;	     /* another thread looks for a cut in it */
	bool whole;	     /* no cut found in what it had left */
};

/* What the two threads share (mu guards the ranges and the flags). */
struct work {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const struct src *srcs;
	size_t n;
	uint64_t *base; /* where stream i starts; base[n]: the total */
	struct spe_par_tune tune;
	struct range r[RANGES_MAX];
	size_t nr;
	bool stop;   /* no more work: an error, or a check failed */
	bool failed; /* a check failed: decode again on one thread */
	int ret;     /* the first error */
};

/* One thread's profile, decoder, read buffer and decoder counters. */
struct worker {
	struct work *w;
	struct spe_profile *p;
	struct spe_dec *dec;
	uint8_t *buf; /* PAR_CHUNK bytes of bufs_alloc(), for reading files */
	struct spe_dec_stats st;
	const struct spe_profile_opts *po; /* the second: its profile's */
	int init_ret;			   /* ... and that profile's init */
	bool used;			   /* decoded a range */
};

/* @n bytes at @off of @s (n <= PAR_CHUNK), or NULL on a read error. */
static const uint8_t *src_get(const struct src *s, uint8_t *buf, uint64_t off,
			      size_t n, int *ret)
{
	size_t got = 0;

	if (s->mem)
		return s->mem + off;
	while (got < n) {
		ssize_t k = pread(s->fd, buf + got, n - got, off + got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			*ret = k < 0 ? -errno : -EIO;
			return NULL;
		}
		got += k;
	}
	return buf;
}

/* Feeds [from, to) of stream @s to @wk's decoder, into its profile. */
static int feed(struct worker *wk, const struct src *s, uint64_t from,
		uint64_t to)
{
	int ret = 0;

	while (from < to) {
		size_t n = to - from < PAR_CHUNK ? to - from : PAR_CHUNK;
		const uint8_t *b = src_get(s, wk->buf, from, n, &ret);

		if (!b)
			return ret;
		ret = spe_profile_decode(wk->p, wk->dec, b, n, false);
		if (ret)
			return ret;
		from += n;
	}
	return 0;
}

/* Every stream, from its start, on this thread. */
static int decode_one(struct worker *wk, const struct src *srcs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int ret;

		spe_dec_init(wk->dec, NULL);
		ret = feed(wk, &srcs[i], 0, srcs[i].len);
		if (ret)
			return ret;
		spe_dec_finish(wk->dec);
		spe_dec_stats_add(&wk->st, &wk->dec->stats);
	}
	return 0;
}

/* Records a resynchronising decoder must see in a row to trust a cut. */
#define CUT_GOOD 64

/*
 * A record boundary at or after @off in @s: the start of the second record
 * of a resynchronising decoder once its records follow one another
 * without damage (a stray terminator byte inside a payload can look like
 * the end of a record), within @n bytes; @s->len when there is none.
 */
static uint64_t find_cut_in(const struct src *s, uint64_t off, size_t n,
			    uint8_t *buf, struct spe_dec *tmp)
{
	struct spe_record *r = malloc(sizeof(*r));
	uint64_t cut = s->len, resyncs;
	unsigned int good = 0;
	const uint8_t *b;
	size_t pos = 0;
	int ret = 0;

	b = r ? src_get(s, buf, off, n, &ret) : NULL;
	if (!b) {
		free(r);
		return cut;
	}
	spe_dec_init(tmp, NULL);
	spe_dec_discontinuity(tmp);
	resyncs = tmp->stats.resyncs;
	while (pos < n && good < CUT_GOOD) {
		size_t used;
		int k = spe_dec_feed(tmp, b + pos, n - pos, &used, r, 1);

		if (k < 0)
			break;
		pos += used;
		if (tmp->stats.resyncs != resyncs || tmp->stats.dropped > 1) {
			/* damage after the candidate: not a boundary */
			resyncs = tmp->stats.resyncs;
			tmp->stats.dropped = 1;
			good = 0;
		}
		/* the first record may start inside a real one (after a
		 * stray terminator): cut at the second */
		if (k == 1 && good++ == 1)
			cut = off + r->offset;
		if (!used && !k)
			break;
	}
	free(r);
	return good >= CUT_GOOD ? cut : s->len;
}

/* A cut at or after @off in @s: looked for in a small window first (a
 * file's bytes are read for it), in PAR_CHUNK bytes if it has none. */
static uint64_t find_cut(const struct src *s, uint64_t off, uint8_t *buf,
			 struct spe_dec *tmp)
{
	size_t left = s->len - off, n = left < CUT_WINDOW ? left : CUT_WINDOW;
	uint64_t cut = find_cut_in(s, off, n, buf, tmp);

	if (cut == s->len && left > n)
		cut = find_cut_in(s, off, left < PAR_CHUNK ? left : PAR_CHUNK,
				  buf, tmp);
	return cut;
}

/* The stream holding position @g (skipping empty ones); n at the end. */
static size_t stream_of(const struct work *w, uint64_t g)
{
	size_t lo = 0, hi = w->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w->base[mid + 1] > g)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Where to cut at or after position @g: a record boundary, else the end
 * of @g's stream.  @wk's decoder and buffer are free (between ranges). */
static uint64_t cut_at(const struct work *w, uint64_t g, struct worker *wk)
{
	size_t j = stream_of(w, g);

	return w->base[j] +
	       find_cut(&w->srcs[j], g - w->base[j], wk->buf, wk->dec);
}

static uint64_t min3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t m = a < b ? a : b;

	return m < c ? m : c;
}

/* No more work: error @ret, or (0) a check failed. */
static void stop_work(struct work *w, int ret)
{
	pthread_mutex_lock(&w->mu);
	if (ret && !w->ret)
		w->ret = ret;
	if (!ret)
		w->failed = true;
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/*
 * Decodes range @k into @wk's profile, a claim (tune.chunk bytes, within
 * one stream) at a time; while another thread looks for a cut in the
 * range, up to its middle only (limit), then on to the cut.
 */
static void run_range(struct worker *wk, size_t k)
{
	struct work *w = wk->w;
	struct range *r = &w->r[k];
	uint64_t pos = r->start; /* set before the range was taken */
	size_t j = stream_of(w, pos), first = j;
	bool at_cut = pos > w->base[j];
	int ret;

	wk->used = true;
	spe_dec_init(wk->dec, NULL);
	for (;;) {
		uint64_t next;

		pthread_mutex_lock(&w->mu);
		while (!w->stop && r->claimed >= r->limit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stop) {
			pthread_mutex_unlock(&w->mu);
			return;
		}
		if (r->claimed >= r->end) {
			r->done = true;
			pthread_mutex_unlock(&w->mu);
			break;
		}
		next = min3(r->claimed + w->tune.chunk, r->end, r->limit);
		if (next > w->base[j + 1])
			next = w->base[j + 1];
		r->claimed = next;
		pthread_mutex_unlock(&w->mu);
		ret = feed(wk, &w->srcs[j], pos - w->base[j],
			   next - w->base[j]);
		if (ret) {
			stop_work(w, ret);
			return;
		}
		pos = next;
		if (at_cut && j == first && wk->dec->stats.resyncs) {
			/* damage after a cut: resynchronisation depends on
			 * what came before it */
			stop_work(w, 0);
			return;
		}
		if (pos == w->base[j + 1]) {
			spe_dec_finish(wk->dec);
			spe_dec_stats_add(&wk->st, &wk->dec->stats);
			j = stream_of(w, pos);
			spe_dec_init(wk->dec, NULL);
		}
	}
	if (pos > w->base[j]) {
		/* the range ends at a cut inside stream j */
		if (!spe_dec_at_boundary(wk->dec)) {
			stop_work(w, 0);
			return;
		}
		spe_dec_finish(wk->dec);
		spe_dec_stats_add(&wk->st, &wk->dec->stats);
	}
}

/*
 * The next range for @wk: one nobody has taken, or the second half of
 * what the range with the most left has not claimed (its thread stops
 * at the middle until the cut is known); -1 when none is worth it.
 */
static int take_range(struct worker *wk)
{
	struct work *w = wk->w;
	int ret = -1;

	pthread_mutex_lock(&w->mu);
	while (!w->stop && ret < 0) {
		struct range *r = NULL;
		uint64_t left = 0, mid, old_end, cut;

		for (size_t k = 0; k < w->nr && ret < 0; k++) {
			struct range *q = &w->r[k];

			if (!q->owned) {
				q->owned = true;
				ret = k;
			} else if (!q->done && !q->splitting && !q->whole &&
				   q->end - q->claimed > left) {
				r = q;
				left = q->end - q->claimed;
			}
		}
		if (ret >= 0 || !r || left < w->tune.steal_min ||
		    w->nr == RANGES_MAX)
			break;
		mid = r->claimed + left / 2;
		r->limit = mid;
		r->splitting = true;
		old_end = r->end;
		pthread_mutex_unlock(&w->mu);
		cut = cut_at(w, mid, wk);
		pthread_mutex_lock(&w->mu);
		if (cut < old_end) {
			r->end = cut;
			ret = w->nr++;
			w->r[ret] = (struct range){ .start = cut,
						    .end = old_end,
						    .claimed = cut,
						    .limit = UINT64_MAX,
						    .owned = true };
		} else {
			r->whole = true;
		}
		r->splitting = false;
		r->limit = UINT64_MAX;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return ret;
}

static void run_ranges(struct worker *wk)
{
	int k;

	while ((k = take_range(wk)) >= 0)
		run_range(wk, k);
}

/* The second thread: its profile, then ranges as they come. */
static void *second_main(void *arg)
{
	struct worker *wk = arg;

	wk->init_ret = spe_profile_init(wk->p, wk->po);
	if (!wk->init_ret)
		run_ranges(wk);
	return NULL;
}

/* tune.pieces ranges before the threads start (the default: one). */
static void presplit(struct work *w, struct worker *wk)
{
	uint64_t total = w->base[w->n];

	for (unsigned int i = 1; i < w->tune.pieces; i++) {
		struct range *last = &w->r[w->nr - 1];
		uint64_t g = total / w->tune.pieces * i, cut;

		if (g <= last->start)
			continue;
		cut = cut_at(w, g, wk);
		if (cut >= total)
			break;
		last->end = cut;
		w->r[w->nr++] = (struct range){ .start = cut,
						.end = total,
						.claimed = cut,
						.limit = UINT64_MAX };
	}
}

/*
 * Both threads' read buffers, in one region of 2 * PAR_CHUNK bytes (2
 * MiB) aligned to its size and advised for a transparent huge page: one
 * page fault instead of 512 where the kernel has one (a fault costs
 * ~8-10 us on this project's nested test VM, so that is ~5 ms of CPU of
 * a report of 256 MiB), small pages where not.
 */
static uint8_t *bufs_alloc(void)
{
	void *p;

	if (posix_memalign(&p, 2 * PAR_CHUNK, 2 * PAR_CHUNK))
		return NULL;
	madvise(p, 2 * PAR_CHUNK, MADV_HUGEPAGE);
	return p;
}

/* Decodes @srcs[0..n) into @p (as spe_profile_init() left it) on two
 * threads; on one when a check fails. */
static int decode_two(struct spe_profile *p, const struct src *srcs, size_t n,
		      uint64_t *base, uint8_t *bufs, struct worker *a)
{
	struct spe_profile_opts po = { .midr = p->midr,
				       .top_pcs = p->pcs.cap,
				       .top_ctx = p->ctx.cap };
	struct work w = { .srcs = srcs, .n = n, .base = base, .tune = tune };
	struct spe_profile second;
	struct worker b = { .w = &w,
			    .p = &second,
			    .buf = bufs + PAR_CHUNK,
			    .po = &po,
			    .init_ret = -EAGAIN };
	pthread_t th;
	bool started;
	int ret = 0;

	b.dec = malloc(sizeof(*b.dec));
	if (!b.dec)
		return decode_one(a, srcs, n);
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	a->w = &w;
	w.r[0] = (struct range){ .end = base[n], .limit = UINT64_MAX };
	w.nr = 1;
	presplit(&w, a);
	/* the second thread first: it gets running while this one decodes */
	started = !pthread_create(&th, NULL, second_main, &b);
	run_ranges(a);
	if (started)
		pthread_join(th, NULL);
	if (w.ret) {
		ret = w.ret;
	} else if (w.failed) {
		/* a cut was not a boundary for us: all again, alone */
		spe_profile_clear(p);
		memset(&a->st, 0, sizeof(a->st));
		ret = decode_one(a, srcs, n);
	} else {
		spe_dec_stats_add(&a->st, &b.st);
		for (size_t k = 0; k < w.nr; k++)
			a->st.cuts += w.r[k].start >
				      base[stream_of(&w, w.r[k].start)];
		if (b.used)
			ret = spe_profile_merge(p, &second);
	}
	if (!b.init_ret)
		spe_profile_free(&second);
	pthread_mutex_destroy(&w.mu);
	pthread_cond_destroy(&w.cv);
	free(b.dec);
	return ret;
}

static bool profile_empty(struct spe_profile *p)
{
	spe_profile_sync(p);
	return !p->samples && !p->pcs.total && !p->ctx.total;
}

static int decode_srcs(struct spe_profile *p, const struct src *srcs, size_t n,
		       unsigned int threads, struct spe_dec_stats *ret_st)
{
	uint64_t *base = malloc((n + 1) * sizeof(*base));
	struct worker a = { .p = p };
	uint8_t *bufs = bufs_alloc();
	int ret = -ENOMEM;

	a.dec = malloc(sizeof(*a.dec));
	a.buf = bufs;
	if (base && bufs && a.dec) {
		base[0] = 0;
		for (size_t i = 0; i < n; i++)
			base[i + 1] = base[i] + srcs[i].len;
		if (threads > 1 && base[n] >= PAR_MIN && profile_empty(p))
			ret = decode_two(p, srcs, n, base, bufs, &a);
		else
			ret = decode_one(&a, srcs, n);
	}
	if (ret_st)
		*ret_st = a.st;
	free(a.dec);
	free(bufs);
	free(base);
	return ret;
}

int spe_profile_decode_streams(struct spe_profile *p,
			       const struct spe_stream_in *streams, size_t n,
			       unsigned int threads,
			       struct spe_dec_stats *ret_st)
{
	struct src *srcs = calloc(n ? n : 1, sizeof(*srcs));
	int ret;

	if (!srcs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		srcs[i] = (struct src){ .mem = streams[i].buf,
					.fd = -1,
					.len = streams[i].len };
	ret = decode_srcs(p, srcs, n, threads, ret_st);
	free(srcs);
	return ret;
}

int spe_profile_decode_fd(struct spe_profile *p, int fd, uint64_t len,
			  unsigned int threads, struct spe_dec_stats *ret_st)
{
	struct src s = { .fd = fd, .len = len };

	return decode_srcs(p, &s, 1, threads, ret_st);
}

unsigned int spe_profile_threads(void)
{
	const char *env = getenv("KVMPROF_SPE_THREADS");
	long n = env ? atol(env) : sysconf(_SC_NPROCESSORS_ONLN);

	return n >= 2 ? 2 : 1;
}
