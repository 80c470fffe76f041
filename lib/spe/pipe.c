// SPDX-License-Identifier: GPL-2.0-only
/*
 * A profile built on two cores in a pipeline: the calling thread decodes
 * and does the table counts of a batch (spe_profile_add_batch_keys()),
 * a helper thread the top-K adds (spe_profile_add_keys(): the sketch
 * probes and purges, about half of the work), fed through a ring of
 * batches of keys, 16 bytes a record.  Each sketch is still fed in record
 * order by one thread, so the profile is exactly the one-thread profile
 * (unlike cutting a stream in halves, parallel.c, where two sketches are
 * merged); and a single stream (one vCPU) gains too.
 *
 * Either side spins briefly when it must wait (the helper for work, the
 * caller for a free slot), then sleeps on a condition variable: an idle
 * daemon does not hold a core, and a shared machine does not lose one to
 * spinning.  Memory: PIPE_SLOTS batches of keys, 512 KiB: big batches,
 * so that handing one over (an atomic store, and at times a futex wake
 * of a sleeping side) is rare.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <kvmprof/spe_profile.h>

#include "profile.h"

#define PIPE_BATCH 8192
#define PIPE_SLOTS 4 /* power of two */
#define PIPE_SPIN 128 /* pauses before sleeping */

struct pipe_slot {
	struct spe_profile *p;
	uint32_t n;
	struct spe_topk_keys keys[PIPE_BATCH];
};

/*
 * head and tail count slots; the caller fills slot[head % PIPE_SLOTS]
 * (cur_n keys so far) and publishes it when full, when the profile
 * changes, or at a flush.  A side that must wait spins briefly, then
 * sleeps on its condition variable; the other side signals it when it
 * sees its flag (both sides store, then load: seq_cst).
 */
struct spe_pipe {
	struct pipe_slot slot[PIPE_SLOTS];
	_Atomic uint64_t head;
	_Atomic uint64_t tail;
	uint32_t cur_n;
	_Atomic bool helper_sleeps;
	_Atomic bool caller_sleeps;
	_Atomic bool stop;
	pthread_mutex_t mu;
	pthread_cond_t work;
	pthread_cond_t space;
	pthread_t th;
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

static void signal_if(struct spe_pipe *q, _Atomic bool *flag,
		      pthread_cond_t *cv)
{
	if (atomic_load(flag)) {
		pthread_mutex_lock(&q->mu);
		pthread_cond_signal(cv);
		pthread_mutex_unlock(&q->mu);
	}
}

/* The helper: waits for slot @tail to be published; false: stop. */
static bool wait_work(struct spe_pipe *q, uint64_t tail)
{
	for (unsigned int i = 0; i < PIPE_SPIN; i++) {
		if (atomic_load(&q->head) != tail)
			return true;
		cpu_relax();
	}
	pthread_mutex_lock(&q->mu);
	atomic_store(&q->helper_sleeps, true);
	while (atomic_load(&q->head) == tail && !atomic_load(&q->stop))
		pthread_cond_wait(&q->work, &q->mu);
	atomic_store(&q->helper_sleeps, false);
	pthread_mutex_unlock(&q->mu);
	return atomic_load(&q->head) != tail;
}

/* The caller: waits until at most @busy slots are not done yet. */
static void wait_space(struct spe_pipe *q, uint64_t head, uint64_t busy)
{
	for (unsigned int i = 0; i < PIPE_SPIN; i++) {
		if (head - atomic_load(&q->tail) <= busy)
			return;
		cpu_relax();
	}
	pthread_mutex_lock(&q->mu);
	atomic_store(&q->caller_sleeps, true);
	while (head - atomic_load(&q->tail) > busy)
		pthread_cond_wait(&q->space, &q->mu);
	atomic_store(&q->caller_sleeps, false);
	pthread_mutex_unlock(&q->mu);
}

static void *helper_main(void *arg)
{
	struct spe_pipe *q = arg;
	uint64_t tail = 0;

	while (wait_work(q, tail)) {
		struct pipe_slot *s = &q->slot[tail % PIPE_SLOTS];

		spe_profile_add_keys(s->p, s->keys, s->n);
		atomic_store(&q->tail, ++tail);
		signal_if(q, &q->caller_sleeps, &q->space);
	}
	return NULL;
}

int spe_pipe_new(struct spe_pipe **ret)
{
	struct spe_pipe *q = calloc(1, sizeof(*q));

	*ret = NULL;
	if (!q)
		return -ENOMEM;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->work, NULL);
	pthread_cond_init(&q->space, NULL);
	if (pthread_create(&q->th, NULL, helper_main, q)) {
		pthread_mutex_destroy(&q->mu);
		pthread_cond_destroy(&q->work);
		pthread_cond_destroy(&q->space);
		free(q);
		return -EAGAIN;
	}
	*ret = q;
	return 0;
}

/* Publishes the slot being filled. */
static void publish(struct spe_pipe *q)
{
	uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);

	if (!q->cur_n)
		return;
	q->slot[head % PIPE_SLOTS].n = q->cur_n;
	q->cur_n = 0;
	atomic_store(&q->head, head + 1);
	signal_if(q, &q->helper_sleeps, &q->work);
	/* the next slot must be free before it is filled */
	wait_space(q, head + 1, PIPE_SLOTS - 1);
}

void spe_pipe_flush(struct spe_pipe *q)
{
	if (!q)
		return;
	publish(q);
	wait_space(q, atomic_load(&q->head), 0);
}

void spe_pipe_free(struct spe_pipe *q)
{
	if (!q)
		return;
	spe_pipe_flush(q);
	pthread_mutex_lock(&q->mu);
	atomic_store(&q->stop, true);
	pthread_cond_signal(&q->work);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->th, NULL);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->work);
	pthread_cond_destroy(&q->space);
	free(q);
}

/*
 * The top-K keys of @n records to the helper: of records @r (counting the
 * rest of the batch here), or (@r NULL) @keys.  A slot holds one
 * profile's keys: one for another profile is published first.
 */
static void pipe_put(struct spe_pipe *q, struct spe_profile *p,
		     const struct spe_record *r,
		     const struct spe_topk_keys *keys, size_t n)
{
	while (n) {
		struct pipe_slot *s =
			&q->slot[atomic_load_explicit(&q->head,
						      memory_order_relaxed) %
				 PIPE_SLOTS];
		size_t k;

		if (q->cur_n && s->p != p) {
			publish(q);
			continue;
		}
		s->p = p;
		k = PIPE_BATCH - q->cur_n < n ? PIPE_BATCH - q->cur_n : n;
		if (r) {
			spe_profile_add_batch_keys(p, r, k, s->keys + q->cur_n);
			r += k;
		} else {
			memcpy(s->keys + q->cur_n, keys, k * sizeof(*keys));
			keys += k;
		}
		q->cur_n += k;
		if (q->cur_n == PIPE_BATCH)
			publish(q);
		n -= k;
	}
}

void spe_pipe_add(struct spe_pipe *q, struct spe_profile *p,
		  const struct spe_record *r, size_t n)
{
	pipe_put(q, p, r, NULL, n);
}

void spe_pipe_add_keys(struct spe_pipe *q, struct spe_profile *p,
		       const struct spe_topk_keys *keys, size_t n)
{
	pipe_put(q, p, NULL, keys, n);
}
