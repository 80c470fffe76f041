// SPDX-License-Identifier: GPL-2.0-only
/*
 * Building a profile on two cores: the input (one or more streams, in
 * memory or a file read as it goes) is cut in two halves by bytes, each
 * decoded into its own profile by its own thread, and the second profile
 * merged into the first (spe_profile_merge()).
 *
 * A cut inside a stream must fall on a record boundary, which only
 * decoding from the stream's start can tell.  So the second half starts
 * where a resynchronising decoder finds its first record after the middle
 * (S), and the first thread, decoding up to S, checks that it stands there
 * between records with nothing carried (spe_dec_at_boundary()).  Then the
 * second decoder, starting fresh at S, sees the same bytes in the same
 * state and gives the same records, unless it meets damage (where the
 * terminators seen before S steer resynchronisation).  When the check
 * fails or the second half was damaged, its work is thrown away and the
 * first thread decodes the rest itself: the counters never depend on the
 * number of threads (the top-K sketch stays within its bound).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <kvmprof/spe_profile.h>

#define PAR_CHUNK (1u << 20) /* bytes per feed (and per read of a file) */
#define PAR_MIN (1u << 20)   /* smaller inputs: one thread */
#define CUT_WINDOW (64u << 10) /* bytes a cut is first looked for in */

/* One stream: in memory, or (mem NULL) the first len bytes of file fd. */
struct src {
	const uint8_t *mem;
	int fd;
	uint64_t len;
};

/* What one thread decodes: streams [first, last], from @start in the
 * first to @end in the last (a stream it ends inside is not finished). */
struct part {
	struct spe_profile *p;
	const struct src *srcs;
	size_t first, last;
	uint64_t start, end;
	uint8_t *buf; /* PAR_CHUNK bytes of bufs_alloc(), for reading files */
	struct spe_dec *dec;
	struct spe_dec_stats st;
	uint64_t first_resyncs; /* of the first stream's decoder */
	int ret;
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

/* Feeds [from, to) of stream @s to @t->dec, into @t->p. */
static int feed(struct part *t, const struct src *s, uint64_t from, uint64_t to)
{
	int ret = 0;

	while (from < to) {
		size_t n = to - from < PAR_CHUNK ? to - from : PAR_CHUNK;
		const uint8_t *b = src_get(s, t->buf, from, n, &ret);

		if (!b)
			return ret;
		ret = spe_profile_decode(t->p, t->dec, b, n, false);
		if (ret)
			return ret;
		from += n;
	}
	return 0;
}

/* Stream @i of @t from @from to @to (its end: finished). */
static int run_stream(struct part *t, size_t i, uint64_t from, uint64_t to)
{
	const struct src *s = &t->srcs[i];
	int ret;

	spe_dec_init(t->dec, NULL);
	ret = feed(t, s, from, to);
	if (!ret && to == s->len)
		spe_dec_finish(t->dec);
	if (i == t->first)
		t->first_resyncs = t->dec->stats.resyncs;
	return ret;
}

static void *part_main(void *arg)
{
	struct part *t = arg;

	for (size_t i = t->first; i <= t->last && !t->ret; i++) {
		t->ret = run_stream(t, i, i == t->first ? t->start : 0,
				    i == t->last ? t->end : t->srcs[i].len);
		/* the last stream of the first half is added when checked */
		if (i != t->last || t->end == t->srcs[i].len)
			spe_dec_stats_add(&t->st, &t->dec->stats);
	}
	return NULL;
}

/* Records a resynchronising decoder must see in a row to trust a cut. */
#define CUT_GOOD 64

/*
 * A record boundary at or after @off in @s: the start of the second record
 * of a resynchronising decoder once its records follow one another
 * without damage (a stray terminator byte inside a payload can look like
 * the end of a record), within PAR_CHUNK bytes; @s->len when there is
 * none.
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

/* The first thread waits for the cut: look in a small window first (a
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

static int alloc_part(struct part *t, struct spe_profile *p,
		      const struct src *srcs, uint8_t *buf)
{
	memset(t, 0, sizeof(*t));
	t->p = p;
	t->srcs = srcs;
	t->dec = malloc(sizeof(*t->dec));
	t->buf = buf;
	return t->dec && t->buf ? 0 : -ENOMEM;
}

static void free_part(struct part *t)
{
	free(t->dec);
}

/*
 * The second thread: its profile, the cut, then its half.  It starts
 * before anything else is done, as a thread takes milliseconds to get
 * running on an idle CPU of a VM (3-7 ms measured on this project's test
 * VM): the first thread decodes meanwhile, and needs the cut only when
 * it reaches the middle.
 */
struct second {
	struct part b;
	struct spe_profile_opts po;
	uint64_t half; /* the middle, in stream j */
	size_t j, n;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool known;   /* what follows is set */
	int init_ret; /* of the second profile's init */
	uint64_t cut; /* in stream j (its length: none) */
	bool work;    /* b has streams to decode */
};

static void *second_main(void *arg)
{
	struct second *s = arg;
	struct part *b = &s->b;
	const struct src *sj = &b->srcs[s->j];
	uint64_t cut = sj->len;
	int ret;

	ret = spe_profile_init(b->p, &s->po);
	if (!ret) {
		cut = s->half ? find_cut(sj, s->half, b->buf, b->dec) : 0;
		b->first = s->j;
		b->start = cut;
		b->last = s->n - 1;
		b->end = b->srcs[s->n - 1].len;
		if (cut == sj->len) {
			/* no boundary found: the whole of stream j to the
			 * first thread */
			b->first++;
			b->start = 0;
		}
	}
	pthread_mutex_lock(&s->mu);
	s->init_ret = ret;
	s->cut = cut;
	s->work = !ret && b->first < s->n;
	s->known = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (s->work)
		part_main(b);
	return NULL;
}

/* The first thread, its streams decoded up to @a->end of stream
 * @a->last: the rest of that stream and the streams after it, alone. */
static int go_on_alone(struct part *a, size_t n)
{
	const struct src *srcs = a->srcs;

	a->ret = feed(a, &srcs[a->last], a->end, srcs[a->last].len);
	if (!a->ret)
		spe_dec_finish(a->dec);
	spe_dec_stats_add(&a->st, &a->dec->stats);
	a->first = a->last + 1;
	a->last = n - 1;
	a->end = srcs[n - 1].len;
	if (!a->ret && a->first < n)
		part_main(a);
	return a->ret;
}

/* Decodes @srcs[0..n) into @p on two threads (falls back to one). */
static int decode_two(struct spe_profile *p, const struct src *srcs, size_t n,
		      struct spe_dec_stats *ret_st)
{
	struct second s = {
		.po = { .midr = p->midr,
			.top_pcs = p->pcs.cap,
			.top_ctx = p->ctx.cap },
		.n = n,
	};
	uint64_t total = 0;
	uint8_t *bufs = bufs_alloc();
	struct spe_profile second;
	struct part a, *b = &s.b;
	pthread_t th;
	bool ok, started = false;
	int ret;

	for (size_t i = 0; i < n; i++)
		total += srcs[i].len;
	s.half = total / 2;
	for (s.j = 0; s.j < n && s.half >= srcs[s.j].len; s.j++)
		s.half -= srcs[s.j].len;
	ret = alloc_part(&a, p, srcs, bufs);
	if (!ret)
		ret = alloc_part(b, &second, srcs,
				 bufs ? bufs + PAR_CHUNK : NULL);
	if (ret) {
		free_part(&a);
		free_part(b);
		free(bufs);
		return -ENOMEM;
	}
	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cv, NULL);
	/* the first half: streams [0, j], stream j up to the middle, then
	 * on to the cut (checked below) once the second thread knows it */
	a.first = 0;
	a.last = s.j;
	a.end = s.half;
	if (pthread_create(&th, NULL, second_main, &s)) {
		/* one thread for everything */
		s.init_ret = -EAGAIN;
		a.last = n - 1;
		a.end = srcs[n - 1].len;
		part_main(&a);
		ret = a.ret;
		goto out;
	}
	part_main(&a);
	pthread_mutex_lock(&s.mu);
	while (!s.known)
		pthread_cond_wait(&s.cv, &s.mu);
	pthread_mutex_unlock(&s.mu);
	if (!a.ret && s.work) {
		started = true;
		if (s.cut > a.end)
			a.ret = feed(&a, &srcs[s.j], a.end, s.cut);
		a.end = s.cut;
		if (s.cut == srcs[s.j].len) {
			/* stream j is the first thread's: as part_main() */
			if (!a.ret)
				spe_dec_finish(a.dec);
			spe_dec_stats_add(&a.st, &a.dec->stats);
		}
	} else if (!a.ret) {
		/* no second half (or no memory for it) */
		go_on_alone(&a, n);
	}
	ret = a.ret;
	ok = started && a.end < srcs[a.last].len;
	ok = ok ? spe_dec_at_boundary(a.dec) : started;
	pthread_join(th, NULL);
	if (started) {
		ret = ret ? ret : b->ret;
		/* damage in the second half's first stream: its
		 * resynchronisation depends on what came before the cut */
		if (b->start && b->first_resyncs)
			ok = false;
	}
	if (!ret && ok && started) {
		if (a.end < srcs[a.last].len) {
			spe_dec_finish(a.dec);
			spe_dec_stats_add(&a.st, &a.dec->stats);
		}
		spe_dec_stats_add(&a.st, &b->st);
		a.st.cuts += b->start != 0;
		ret = spe_profile_merge(p, &second);
	} else if (!ret && started) {
		/* the cut was not a boundary for us: go on alone */
		ret = go_on_alone(&a, n);
	}
out:
	if (ret_st)
		*ret_st = a.st;
	if (!s.init_ret)
		spe_profile_free(&second);
	pthread_mutex_destroy(&s.mu);
	pthread_cond_destroy(&s.cv);
	free_part(&a);
	free_part(b);
	free(bufs);
	return ret;
}

static int decode_srcs(struct spe_profile *p, const struct src *srcs, size_t n,
		       unsigned int threads, struct spe_dec_stats *ret_st)
{
	uint64_t total = 0;
	uint8_t *bufs;
	struct part a;
	int ret;

	for (size_t i = 0; i < n; i++)
		total += srcs[i].len;
	if (ret_st)
		memset(ret_st, 0, sizeof(*ret_st));
	if (!n)
		return 0;
	if (threads > 1 && total >= PAR_MIN)
		return decode_two(p, srcs, n, ret_st);
	bufs = bufs_alloc();
	ret = alloc_part(&a, p, srcs, bufs);
	if (!ret) {
		a.last = n - 1;
		a.end = srcs[n - 1].len;
		part_main(&a);
		ret = a.ret;
		if (ret_st)
			*ret_st = a.st;
	}
	free_part(&a);
	free(bufs);
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
