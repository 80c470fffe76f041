// SPDX-License-Identifier: GPL-2.0-only
/*
 * Building a profile on two cores.  One stream is decoded by one thread
 * (the records depend on everything before them), so the calling thread
 * decodes and hands batches of records to a helper through a ring; when
 * the ring is full it adds the batch to its own profile instead, so the
 * work balances itself and neither thread ever waits for the other.  The
 * helper's profile is merged in at the end (spe_profile_merge()).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <kvmprof/spe_profile.h>

#define MT_BATCH 64
#define MT_RING 16 /* power of two */

struct mt_batch {
	struct spe_record recs[MT_BATCH];
	size_t n;
};

struct mt {
	struct mt_batch ring[MT_RING];
	_Atomic uint64_t head; /* batches published by the decoder */
	_Atomic uint64_t tail; /* batches taken by the helper */
	_Atomic int done;
	struct spe_profile helper;
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

static void *helper_main(void *arg)
{
	struct mt *mt = arg;
	unsigned int idle = 0;

	for (;;) {
		uint64_t tail =
			atomic_load_explicit(&mt->tail, memory_order_relaxed);
		uint64_t head =
			atomic_load_explicit(&mt->head, memory_order_acquire);
		struct mt_batch *b;

		if (tail == head) {
			if (atomic_load_explicit(&mt->done,
						 memory_order_acquire) &&
			    tail == atomic_load_explicit(&mt->head,
							 memory_order_acquire))
				return NULL;
			/* the machine may be shared: do not hold the core */
			if (++idle < 256)
				cpu_relax();
			else
				sched_yield();
			continue;
		}
		idle = 0;
		b = &mt->ring[tail % MT_RING];
		spe_profile_add_batch(&mt->helper, b->recs, b->n);
		atomic_store_explicit(&mt->tail, tail + 1,
				      memory_order_release);
	}
}

/* Decodes one stream: batches to the helper while it keeps up. */
static int decode_stream(struct mt *mt, struct spe_profile *p,
			 struct spe_dec *dec, const uint8_t *buf, size_t len,
			 struct spe_record *own)
{
	while (len) {
		uint64_t head =
			atomic_load_explicit(&mt->head, memory_order_relaxed);
		bool full = head - atomic_load_explicit(&mt->tail,
							memory_order_acquire) >=
			    MT_RING;
		struct spe_record *recs = full ? own :
						 mt->ring[head % MT_RING].recs;
		size_t used;
		int n = spe_dec_feed(dec, buf, len, &used, recs, MT_BATCH);

		if (n < 0)
			return n;
		buf += used;
		len -= used;
		if (!n)
			continue;
		if (full) {
			spe_profile_add_batch(p, recs, n);
			continue;
		}
		mt->ring[head % MT_RING].n = n;
		atomic_store_explicit(&mt->head, head + 1,
				      memory_order_release);
	}
	spe_dec_finish(dec);
	return 0;
}

int spe_profile_decode_streams(struct spe_profile *p,
			       const struct spe_stream_in *streams, size_t n,
			       unsigned int threads,
			       struct spe_dec_stats *ret_st)
{
	struct spe_record *own = NULL;
	struct spe_dec *dec;
	struct mt *mt = NULL;
	pthread_t helper;
	int ret = 0;

	dec = malloc(sizeof(*dec));
	if (!dec)
		return -ENOMEM;
	if (ret_st)
		memset(ret_st, 0, sizeof(*ret_st));
	if (threads > 1) {
		struct spe_profile_opts po = {
			.midr = p->midr,
			.top_pcs = p->pcs.cap,
			.top_ctx = p->ctx.cap,
		};

		mt = calloc(1, sizeof(*mt));
		own = malloc(MT_BATCH * sizeof(*own));
		if (!mt || !own || spe_profile_init(&mt->helper, &po)) {
			free(own);
			free(mt);
			own = NULL;
			mt = NULL;
		} else if (pthread_create(&helper, NULL, helper_main, mt)) {
			spe_profile_free(&mt->helper);
			free(own);
			free(mt);
			own = NULL;
			mt = NULL;
		}
	}
	for (size_t i = 0; i < n && !ret; i++) {
		spe_dec_init(dec, NULL);
		if (mt)
			ret = decode_stream(mt, p, dec, streams[i].buf,
					    streams[i].len, own);
		else
			ret = spe_profile_decode(p, dec, streams[i].buf,
						 streams[i].len, true);
		if (ret_st)
			spe_dec_stats_add(ret_st, &dec->stats);
	}
	if (mt) {
		atomic_store_explicit(&mt->done, 1, memory_order_release);
		pthread_join(helper, NULL);
		if (!ret)
			ret = spe_profile_merge(p, &mt->helper);
		spe_profile_free(&mt->helper);
		free(mt);
		free(own);
	}
	free(dec);
	return ret;
}
