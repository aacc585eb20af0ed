/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "shm/stream.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shm/wait.h"

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int shm_stream_layout_compute(uint32_t pool_frames, struct shm_stream_layout *ret_layout)
{
	struct shm_stream_layout l = { .pool_frames = pool_frames };

	if (pool_frames == 0 || pool_frames > SHM_STREAM_MAX_FRAMES)
		return -E2BIG;
	l.consumers_offset = align_up(SHM_STREAM_SHARED_OFFSET + sizeof(struct shm_stream_shared),
				      SHM_CACHELINE);
	l.rings_offset =
		l.consumers_offset + SHM_STREAM_CONSUMERS * sizeof(struct shm_stream_consumer);
	l.refs_offset = l.rings_offset + SHM_STREAM_CONSUMERS * SHM_STREAM_RING * sizeof(uint64_t);
	l.meta_offset =
		align_up(l.refs_offset + (uint64_t)pool_frames * sizeof(uint64_t), SHM_CACHELINE);
	l.format_offset = l.meta_offset + (uint64_t)pool_frames * sizeof(struct shm_stream_meta);
	l.size_bytes = align_up(l.format_offset + SHM_STREAM_FORMAT_MAX, SHM_PAGE_SIZE);
	*ret_layout = l;
	return 0;
}

void shm_stream_header_write(void *map, const struct shm_stream_layout *l, uint32_t stream_id,
			     const char *name, uint32_t pool_id, const char *pool_name)
{
	struct shm_stream_header *h = map;
	struct shm_stream_shared *shared =
		(struct shm_stream_shared *)((char *)map + SHM_STREAM_SHARED_OFFSET);

	memset(map, 0, l->size_bytes);
	*h = (struct shm_stream_header){
		.magic = SHM_STREAM_MAGIC,
		.version = SHM_STREAM_VERSION,
		.size_bytes = l->size_bytes,
		.stream_id = stream_id,
		.pool_id = pool_id,
		.pool_frames = l->pool_frames,
		.consumers_offset = l->consumers_offset,
		.rings_offset = l->rings_offset,
		.refs_offset = l->refs_offset,
		.meta_offset = l->meta_offset,
		.format_offset = l->format_offset,
	};
	strncpy(h->name, name, SHM_NAME_MAX - 1);
	strncpy(h->pool_name, pool_name, SHM_NAME_MAX - 1);
	atomic_init(&shared->state, SHM_STREAM_WAITING);
	atomic_init(&shared->journal_push, UINT64_MAX);
}

int shm_stream_header_check(const void *map, size_t map_size, uint32_t pool_id,
			    uint32_t pool_frames, struct shm_stream_layout *ret_layout,
			    const char **ret_reason)
{
	const struct shm_stream_header *h = map;
	struct shm_stream_layout l;

	if (map_size < SHM_STREAM_SHARED_OFFSET + sizeof(struct shm_stream_shared)) {
		*ret_reason = "smaller than a stream's header";
		return -EBADMSG;
	}
	if (h->magic != SHM_STREAM_MAGIC || h->version != SHM_STREAM_VERSION) {
		*ret_reason = "not a ksalloc stream of this version";
		return -EBADMSG;
	}
	if (h->pool_id != pool_id || h->pool_frames != pool_frames) {
		*ret_reason = "the stream is not on this pool";
		return -EBADMSG;
	}
	if (shm_stream_layout_compute(pool_frames, &l) < 0 || h->size_bytes != l.size_bytes ||
	    l.size_bytes > map_size) {
		*ret_reason = "its size does not match its pool's frames";
		return -EBADMSG;
	}
	*ret_layout = l;
	return 0;
}

void stream_map_init(struct stream_map *sm, void *map, const struct shm_stream_layout *l,
		     uint32_t stream_id, struct frame_pool *pool)
{
	*sm = (struct stream_map){
		.shared = (struct shm_stream_shared *)((char *)map + SHM_STREAM_SHARED_OFFSET),
		.consumers = (struct shm_stream_consumer *)((char *)map + l->consumers_offset),
		.rings = (_Atomic uint64_t(*)[SHM_STREAM_RING])((char *)map + l->rings_offset),
		.refs = (_Atomic uint64_t *)((char *)map + l->refs_offset),
		.meta = (struct shm_stream_meta *)((char *)map + l->meta_offset),
		.format = (uint8_t *)map + l->format_offset,
		.pool = pool,
		.tenant = shm_stream_tenant(stream_id),
	};
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * A waiting thread's sleep: until *@word changes from 1, the deadline, or the
 * liveness slice, whichever comes first. Returns 0 to look again, -ETIMEDOUT,
 * -ECANCELED, or the liveness check's errno.
 */
struct waiter {
	const struct frame_liveness *live;
	uint32_t timeout_ms;
	struct timespec deadline, slice_end;
};

static void waiter_init(struct waiter *w, uint32_t timeout_ms, const struct frame_liveness *live)
{
	w->live = live;
	w->timeout_ms = timeout_ms;
	if (timeout_ms != FRAME_INFINITE)
		shm_deadline_after(&w->deadline, timeout_ms);
	if (live)
		shm_deadline_after(&w->slice_end, live->slice_ms);
}

static int waiter_sleep(struct waiter *w, _Atomic uint32_t *word)
{
	const struct timespec *until = NULL;
	int r;

	/* Looked at after the caller announced its sleep in @word: stream_wake() clears it. */
	if (frame_wait_cancelled(w->live))
		return -ECANCELED;
	if (w->timeout_ms != FRAME_INFINITE) {
		if (shm_deadline_passed(&w->deadline))
			return -ETIMEDOUT;
		until = &w->deadline;
	}
	if (w->live) {
		if (shm_deadline_passed(&w->slice_end)) {
			r = w->live->check(w->live->userdata);
			if (r < 0)
				return r;
			shm_deadline_after(&w->slice_end, w->live->slice_ms);
		}
		until = until ? shm_deadline_earlier(until, &w->slice_end) : &w->slice_end;
	}
	shm_futex_wait(word, 1, until);
	return 0;
}

/* Takes back @word's announcement of a sleep and wakes the sleeper, if there was one. */
static bool wake_sleeper(_Atomic uint32_t *word)
{
	if (atomic_load_explicit(word, memory_order_relaxed) == 0 || atomic_exchange(word, 0) == 0)
		return false;
	shm_futex_wake(word, INT32_MAX);
	return true;
}

static uint32_t clamp_depth(uint32_t depth)
{
	return depth == 0 ? 1 : depth > SHM_STREAM_RING ? SHM_STREAM_RING : depth;
}

static uint32_t entry_state(uint64_t e)
{
	return (uint32_t)(e >> 62);
}

static uint32_t entry_index(uint64_t e)
{
	return (uint32_t)(e >> 31) & (SHM_STREAM_MAX_FRAMES - 1);
}

static uint32_t entry_generation(uint64_t e)
{
	return (uint32_t)e & SHM_GENERATION_MASK;
}

/*
 * Clears consumer @c's reference to frame @index at @generation, if it holds
 * one; frees the frame when that was the last. Idempotent: whoever repairs
 * may call it again. Returns 1 when it freed the frame, 0, or -ESTALE /
 * -EALREADY when there was nothing to clear.
 */
static int unref(struct stream_map *sm, uint32_t c, uint32_t index, uint32_t generation)
{
	uint64_t w = atomic_load(&sm->refs[index]), bit = UINT64_C(1) << c;

	do {
		if ((uint32_t)(w >> 32) != generation)
			return -ESTALE;
		if (!(w & bit))
			return -EALREADY;
	} while (!atomic_compare_exchange_weak(&sm->refs[index], &w, w & ~bit));
	if ((uint32_t)(w & ~bit) != 0)
		return 0;
	/* The last reference: the frame goes back to the pool (its waiters first). */
	return frame_release(sm->pool, sm->tenant, index, generation) == 0;
}

/* Frees frame @index if the stream owns it at @generation and nobody refers to it any more. */
static uint32_t free_if_orphan(struct stream_map *sm, uint32_t index, uint32_t generation)
{
	uint64_t w = atomic_load(&sm->refs[index]);

	if ((uint32_t)(w >> 32) != generation || (uint32_t)w != 0)
		return 0;
	return frame_release(sm->pool, sm->tenant, index, generation) == 0;
}

/* The frame's generation if the stream owns it, else UINT32_MAX. */
static uint32_t stream_generation(const struct stream_map *sm, uint32_t index)
{
	uint64_t w = atomic_load(&sm->pool->frames[index].owner);

	return shm_owner_tenant(w) == sm->tenant ? shm_owner_generation(w) : UINT32_MAX;
}

/*
 * Claims the oldest entry queued for consumer @c, as @how (TAKEN by the
 * consumer, EVICTED by the producer), and moves the tail past it. Returns 1
 * and the entry, 0 when the ring is empty.
 */
static int claim_oldest(struct stream_map *sm, uint32_t c, uint32_t how, uint64_t *ret_entry)
{
	struct shm_stream_consumer *sc = &sm->consumers[c];

	for (;;) {
		uint32_t tail = atomic_load(&sc->tail);
		uint32_t head = atomic_load_explicit(&sc->head, memory_order_acquire);
		_Atomic uint64_t *slot = &sm->rings[c][tail % SHM_STREAM_RING];
		uint64_t e;

		/*
		 * A tail past the head (a race with attach), or further behind it than
		 * a ring holds (scribbled): nothing to claim.
		 */
		if ((int32_t)(head - tail) <= 0 || head - tail > SHM_STREAM_RING)
			return 0;
		e = atomic_load(slot);
		/*
		 * What was read is the entry at tail only if tail has not moved since:
		 * a claimer descheduled here while the producer went a whole ring on
		 * (drop-oldest evicting) would read, and take, the slot's newer entry,
		 * ahead of those still queued before it.
		 */
		if (atomic_load(&sc->tail) != tail)
			continue;
		if (entry_state(e) == SHM_ENTRY_LIVE &&
		    atomic_compare_exchange_strong(slot, &e, e | (uint64_t)how << 62)) {
			atomic_compare_exchange_strong(&sc->tail, &tail, tail + 1);
			*ret_entry = e;
			return 1;
		}
		/* Claimed already: help its claimer move the tail on, and look again. */
		atomic_compare_exchange_strong(&sc->tail, &tail, tail + 1);
	}
}

/*
 * Consumer @c takes its oldest entry, where no producer evicts (BLOCK,
 * DROP_NEWEST): the consumer alone moves its tail, so a load and a store do
 * what claim_oldest() does with two compare-and-swaps. Returns as it does.
 */
static int take_oldest(struct stream_map *sm, uint32_t c, uint64_t *ret_entry)
{
	struct shm_stream_consumer *sc = &sm->consumers[c];
	uint32_t tail = atomic_load_explicit(&sc->tail, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&sc->head, memory_order_acquire);

	if ((int32_t)(head - tail) <= 0 || head - tail > SHM_STREAM_RING)
		return 0;
	*ret_entry =
		atomic_load_explicit(&sm->rings[c][tail % SHM_STREAM_RING], memory_order_relaxed);
	/* Release: the producer reuses the entry's place only after it sees the tail move. */
	atomic_store_explicit(&sc->tail, tail + 1, memory_order_release);
	return 1;
}

/*
 * Producer: makes room in consumer @c's ring by dropping its oldest entry.
 * Returns false when the consumer took it first (the room is made all the same).
 */
static bool evict_oldest(struct stream_map *sm, uint32_t c)
{
	uint32_t index, generation;
	uint64_t e;

	if (!claim_oldest(sm, c, SHM_ENTRY_EVICTED, &e))
		return false;
	/* As receive: an entry names any index (scribbled, or stale); only the stream's count. */
	index = entry_index(e);
	generation = entry_generation(e);
	if (index < sm->pool->n_frames && stream_generation(sm, index) == generation)
		(void)unref(sm, c, index, generation);
	return true;
}

static void note_drop(struct shm_stream_consumer *sc)
{
	atomic_fetch_add_explicit(&sc->dropped, 1, memory_order_relaxed);
}

/*
 * The consumers a frame goes to now. BLOCK consumers without room make it
 * return -EAGAIN with their mask in *@ret_blocked, before any drop is made;
 * otherwise drops and evictions are made as the policies say.
 */
static int pick_consumers(struct stream_map *sm, uint32_t *ret_mask, uint32_t *ret_blocked)
{
	uint32_t active = atomic_load(&sm->shared->active), mask = 0, blocked = 0;

	for (uint32_t c = 0; c < SHM_STREAM_CONSUMERS; c++) {
		struct shm_stream_consumer *sc = &sm->consumers[c];

		if (!(active & (1u << c)))
			continue;
		if (atomic_load_explicit(&sc->policy, memory_order_relaxed) == SHM_STREAM_BLOCK &&
		    atomic_load_explicit(&sc->head, memory_order_relaxed) -
				    atomic_load(&sc->tail) >=
			    clamp_depth(atomic_load_explicit(&sc->depth, memory_order_relaxed)))
			blocked |= 1u << c;
	}
	if (blocked) {
		*ret_blocked = blocked;
		return -EAGAIN;
	}
	for (uint32_t c = 0; c < SHM_STREAM_CONSUMERS; c++) {
		struct shm_stream_consumer *sc = &sm->consumers[c];
		uint32_t policy, depth, head;

		if (!(active & (1u << c)))
			continue;
		policy = atomic_load_explicit(&sc->policy, memory_order_relaxed);
		depth = policy == SHM_STREAM_LATEST ?
				1 :
				clamp_depth(atomic_load_explicit(&sc->depth, memory_order_relaxed));
		head = atomic_load_explicit(&sc->head, memory_order_relaxed);
		if (head - atomic_load(&sc->tail) < depth) {
			mask |= 1u << c;
			continue;
		}
		switch (policy) {
		case SHM_STREAM_DROP_OLDEST:
		case SHM_STREAM_LATEST:
			/*
			 * Each eviction frees one entry; the consumer may free others
			 * meanwhile. A ring's worth at most: a tail scribbled out of
			 * reach makes the new frame the one dropped instead.
			 */
			for (uint32_t k = 0;
			     head - atomic_load(&sc->tail) >= depth && k <= SHM_STREAM_RING; k++)
				if (evict_oldest(sm, c))
					note_drop(sc);
			if (head - atomic_load(&sc->tail) < depth)
				mask |= 1u << c;
			else
				note_drop(sc);
			break;
		case SHM_STREAM_BLOCK: /* room came after all: only the producer pushes */
			mask |= 1u << c;
			break;
		default: /* DROP_NEWEST, and a policy no one knows */
			note_drop(sc);
			break;
		}
	}
	*ret_mask = mask;
	return 0;
}

/* Waits until every BLOCK consumer of @blocked has room, or is gone. */
static int wait_for_room(struct stream_map *sm, uint32_t blocked, struct waiter *w)
{
	struct shm_stream_shared *sh = sm->shared;
	uint64_t start = now_ns();
	int r = 0;

	for (;;) {
		uint32_t still = 0, active;

		atomic_store(&sh->producer_sleeping, 1);
		active = atomic_load(&sh->active);
		for (uint32_t c = 0; c < SHM_STREAM_CONSUMERS; c++) {
			struct shm_stream_consumer *sc = &sm->consumers[c];

			if ((blocked & active & (1u << c)) &&
			    atomic_load_explicit(&sc->head, memory_order_relaxed) -
					    atomic_load(&sc->tail) >=
				    clamp_depth(
					    atomic_load_explicit(&sc->depth, memory_order_relaxed)))
				still |= 1u << c;
		}
		if (!still || shm_stream_state(atomic_load(&sh->state)) != SHM_STREAM_FLOWING)
			break;
		r = waiter_sleep(w, &sh->producer_sleeping);
		if (r < 0)
			break;
	}
	atomic_store(&sh->producer_sleeping, 0);
	atomic_fetch_add_explicit(&sh->blocked_ns, now_ns() - start, memory_order_relaxed);
	return r;
}

int stream_publish(struct stream_map *sm, uint32_t producer, const struct stream_publish *p,
		   struct shm_stream_meta *meta)
{
	struct shm_stream_shared *sh = sm->shared;
	uint32_t index = p->index, generation = p->generation, mask, blocked, reached = 0;
	uint64_t own = shm_owner(producer, generation), seq;
	bool waiting = false;
	struct waiter w;
	int r;

	if (atomic_load(&sh->producer) != producer)
		return -EPERM;
	switch (shm_stream_state(atomic_load(&sh->state))) {
	case SHM_STREAM_FLOWING:
		break;
	case SHM_STREAM_ENDED:
		return -EPIPE;
	case SHM_STREAM_DESTROYED:
		return -ESHUTDOWN;
	default:
		return -EPERM;
	}
	if (index >= sm->pool->n_frames || atomic_load(&sm->pool->frames[index].owner) != own)
		return -EINVAL;

	while ((r = pick_consumers(sm, &mask, &blocked)) == -EAGAIN) {
		if (p->timeout_ms == 0)
			return -ETIMEDOUT;
		/* The clock is read only for a publish that waits. */
		if (!waiting) {
			waiter_init(&w, p->timeout_ms, p->live);
			waiting = true;
		}
		r = wait_for_room(sm, blocked, &w);
		if (r < 0)
			return r;
		if (shm_stream_state(atomic_load(&sh->state)) != SHM_STREAM_FLOWING)
			return -ESHUTDOWN;
	}

	seq = atomic_load_explicit(&sh->published, memory_order_relaxed) + 1;
	meta->sequence = seq;
	meta->publish_ns = now_ns();
	meta->format_generation = atomic_load(&sh->format_seq) / 2;
	sm->meta[index] = *meta;
	atomic_store_explicit(&sh->published, seq, memory_order_relaxed);
	if (mask == 0)
		return frame_release(sm->pool, producer, index, generation);

	/* Consumers' references first: the frame is the stream's from the CAS on. */
	/*
	 * Release stores keep program order, which is all the daemon needs to read
	 * the journal of a producer killed here: no barrier on the fast path.
	 */
	atomic_store_explicit(&sm->refs[index], (uint64_t)generation << 32 | mask,
			      memory_order_release);
	atomic_store_explicit(&sh->journal_push, UINT64_MAX, memory_order_release);
	atomic_store_explicit(&sh->journal_frame,
			      SHM_JOURNAL_VALID | (uint64_t)index << 31 | generation,
			      memory_order_release);
	if (!atomic_compare_exchange_strong(&sm->pool->frames[index].owner, &own,
					    shm_owner(sm->tenant, generation))) {
		atomic_store(&sh->journal_frame, 0);
		return -EINVAL;
	}
	for (uint32_t c = 0; c < SHM_STREAM_CONSUMERS; c++) {
		struct shm_stream_consumer *sc = &sm->consumers[c];
		uint32_t head;

		if (!(mask & (1u << c)))
			continue;
		head = atomic_load_explicit(&sc->head, memory_order_relaxed);
		atomic_store_explicit(&sh->journal_push, (uint64_t)c << 32 | head,
				      memory_order_release);
		atomic_store_explicit(&sm->rings[c][head % SHM_STREAM_RING],
				      shm_entry(SHM_ENTRY_LIVE, index, generation),
				      memory_order_release);
		atomic_store_explicit(&sc->head, head + 1, memory_order_release);
		reached++;
	}
	/* Heads before the looks at sleeping: a consumer stores sleeping, then looks at its head. */
	atomic_thread_fence(memory_order_seq_cst);
	for (uint32_t c = 0; c < SHM_STREAM_CONSUMERS; c++)
		if ((mask & (1u << c)) && wake_sleeper(&sm->consumers[c].sleeping))
			atomic_fetch_add_explicit(&sm->consumers[c].wakes, 1, memory_order_relaxed);
	/* A consumer detached meanwhile: the daemon may have looked before our CAS. */
	for (uint32_t gone = mask & ~atomic_load(&sh->active), c = 0; gone; c++)
		if (gone & (1u << c)) {
			(void)unref(sm, c, index, generation);
			gone &= ~(1u << c);
		}
	atomic_store_explicit(&sh->journal_frame, 0, memory_order_release);
	return (int)reached;
}

int stream_end(struct stream_map *sm, uint32_t producer)
{
	struct shm_stream_shared *sh = sm->shared;
	uint32_t s = atomic_load(&sh->state);

	if (atomic_load(&sh->producer) != producer)
		return -EPERM;
	do {
		if (shm_stream_state(s) != SHM_STREAM_FLOWING)
			return shm_stream_state(s) == SHM_STREAM_ENDED ? -EALREADY : -EPERM;
	} while (!atomic_compare_exchange_weak(&sh->state, &s, (s & ~0xffu) | SHM_STREAM_ENDED));
	stream_wake_all(sm);
	return 0;
}

int stream_set_format(struct stream_map *sm, const void *format, size_t size)
{
	struct shm_stream_shared *sh = sm->shared;
	uint32_t seq;

	if (size > SHM_STREAM_FORMAT_MAX)
		return -EMSGSIZE;
	/* Seqlock: odd while written. Bytes go in as relaxed atomics: readers may race. */
	seq = atomic_load(&sh->format_seq) | 1u;
	atomic_store(&sh->format_seq, seq);
	for (size_t i = 0; i < size; i++)
		__atomic_store_n(&sm->format[i], ((const uint8_t *)format)[i], __ATOMIC_RELAXED);
	atomic_store(&sh->format_size, (uint32_t)size);
	atomic_store(&sh->format_seq, seq + 1);
	return (int)((seq + 1) / 2);
}

int stream_get_format(const struct stream_map *sm, void *buf, size_t size, uint32_t *ret_generation)
{
	struct shm_stream_shared *sh = sm->shared;

	for (int attempt = 0; attempt < 1000; attempt++) {
		uint32_t seq = atomic_load(&sh->format_seq), n;

		if (seq & 1u)
			continue;
		n = atomic_load(&sh->format_size);
		if (n > SHM_STREAM_FORMAT_MAX)
			return -EBADMSG;
		for (size_t i = 0; i < n && i < size; i++)
			((uint8_t *)buf)[i] = __atomic_load_n(&sm->format[i], __ATOMIC_RELAXED);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load(&sh->format_seq) != seq)
			continue;
		if (ret_generation)
			*ret_generation = seq / 2;
		return (int)n;
	}
	return -EBADMSG;
}

uint32_t stream_consumer_epoch(const struct stream_map *sm)
{
	uint32_t s = atomic_load(&sm->shared->state);

	/* The end of the producer flowing now is news; one that ended before is not. */
	return shm_stream_epoch(s) - (shm_stream_state(s) == SHM_STREAM_FLOWING);
}

uint32_t stream_consumer_start_epoch(const struct stream_map *sm, uint32_t slot)
{
	uint32_t e = slot < SHM_STREAM_CONSUMERS ? atomic_load(&sm->consumers[slot].attach_epoch) :
						   0;

	return e ? e - 1 : stream_consumer_epoch(sm);
}

/* Nothing to take: a head and tail further apart than a ring holds (scribbled) count so too. */
static bool ring_empty(const struct stream_map *sm, uint32_t c)
{
	const struct shm_stream_consumer *sc = &sm->consumers[c];
	uint32_t queued =
		atomic_load_explicit(&sc->head, memory_order_acquire) - atomic_load(&sc->tail);

	return (int32_t)queued <= 0 || queued > SHM_STREAM_RING;
}

/* The end the consumer has news of, as receive's errno; 0: none. */
static int end_news(const struct stream_map *sm, uint32_t seen_epoch, uint32_t *ret_epoch)
{
	uint32_t s = atomic_load(&sm->shared->state);

	*ret_epoch = shm_stream_epoch(s);
	switch (shm_stream_state(s)) {
	case SHM_STREAM_DESTROYED:
		return -ESHUTDOWN;
	case SHM_STREAM_ENDED:
		return shm_stream_epoch(s) != seen_epoch ? -EPIPE : 0;
	case SHM_STREAM_PRODUCER_GONE:
		return shm_stream_epoch(s) != seen_epoch ? -ECONNRESET : 0;
	default:
		return 0;
	}
}

bool stream_consumer_ready(const struct stream_map *sm, uint32_t slot, uint32_t seen_epoch)
{
	uint32_t epoch;

	return slot < SHM_STREAM_CONSUMERS &&
	       (!ring_empty(sm, slot) || end_news(sm, seen_epoch, &epoch) != 0);
}

static void note_latency(struct shm_stream_consumer *sc, uint64_t published_ns)
{
	uint64_t now = now_ns(), us = now > published_ns ? (now - published_ns) / 1000 : 0;
	uint32_t b = 0;

	while (us > 0 && b + 1 < SHM_STREAM_LATENCY_BUCKETS) {
		us >>= 1;
		b++;
	}
	/* Only this consumer's threads write its histogram: relaxed, not exact under threads. */
	atomic_store_explicit(&sc->latency[b],
			      atomic_load_explicit(&sc->latency[b], memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

int stream_receive(struct stream_map *sm, uint32_t slot, uint32_t tenant, uint32_t timeout_ms,
		   const struct frame_liveness *live, uint32_t *seen_epoch,
		   struct stream_received *ret)
{
	struct shm_stream_consumer *sc;
	struct waiter w;
	bool waiting = false;
	int r;

	if (slot >= SHM_STREAM_CONSUMERS)
		return -EINVAL;
	sc = &sm->consumers[slot];
	for (;;) {
		uint32_t epoch, held, policy;
		uint64_t e;

		if (atomic_load_explicit(&sc->tenant, memory_order_relaxed) != tenant)
			return -ESHUTDOWN;
		held = atomic_load_explicit(&sc->held, memory_order_relaxed);
		if (held >= atomic_load_explicit(&sc->max_held, memory_order_relaxed))
			return -EDQUOT;
		policy = atomic_load_explicit(&sc->policy, memory_order_relaxed);
		if (policy == SHM_STREAM_DROP_OLDEST || policy == SHM_STREAM_LATEST ?
			    claim_oldest(sm, slot, SHM_ENTRY_TAKEN, &e) :
			    take_oldest(sm, slot, &e)) {
			uint32_t index = entry_index(e), generation = entry_generation(e);
			uint64_t refs, last;

			/* Stale: its frame was released for this slot (a tenant before us). */
			if (index >= sm->pool->n_frames ||
			    stream_generation(sm, index) != generation)
				continue;
			refs = atomic_load(&sm->refs[index]);
			if ((uint32_t)(refs >> 32) != generation || !(refs & (UINT64_C(1) << slot)))
				continue;
			atomic_fetch_add_explicit(&sc->held, 1, memory_order_relaxed);
			/* Written by the receiving thread only: no atomic addition needed. */
			atomic_store_explicit(
				&sc->delivered,
				atomic_load_explicit(&sc->delivered, memory_order_relaxed) + 1,
				memory_order_relaxed);
			ret->index = index;
			ret->generation = generation;
			ret->meta = sm->meta[index];
			/*
			 * Every publish while we are attached either reaches us or is
			 * dropped for us: a gap in the sequence is a loss.
			 */
			last = atomic_load_explicit(&sc->last_sequence, memory_order_relaxed);
			ret->lost = ret->meta.sequence != last + 1;
			atomic_store_explicit(&sc->last_sequence, ret->meta.sequence,
					      memory_order_relaxed);
			note_latency(sc, ret->meta.publish_ns);
			/* A producer waiting for room wakes when half the ring is free. */
			if (atomic_load(&sm->shared->producer_sleeping) &&
			    atomic_load_explicit(&sc->head, memory_order_relaxed) -
					    atomic_load(&sc->tail) <=
				    clamp_depth(atomic_load_explicit(&sc->depth,
								     memory_order_relaxed)) /
					    2)
				wake_sleeper(&sm->shared->producer_sleeping);
			return 0;
		}
		r = end_news(sm, *seen_epoch, &epoch);
		if (r < 0) {
			/* The state was read after the heads the producer pushed before its end. */
			if (!ring_empty(sm, slot))
				continue;
			*seen_epoch = epoch;
			return r;
		}
		if (timeout_ms == 0)
			return -EAGAIN;
		if (!waiting) {
			waiter_init(&w, timeout_ms, live);
			waiting = true;
		}
		/* Announce, then look again: a publish after this store sees it. */
		atomic_store(&sc->sleeping, 1);
		if (!ring_empty(sm, slot) || end_news(sm, *seen_epoch, &epoch) != 0 ||
		    atomic_load(&sc->tenant) != tenant) {
			atomic_store(&sc->sleeping, 0);
			continue;
		}
		atomic_fetch_add_explicit(&sc->sleeps, 1, memory_order_relaxed);
		r = waiter_sleep(&w, &sc->sleeping);
		if (r < 0) {
			atomic_store(&sc->sleeping, 0);
			return r;
		}
	}
}

int stream_release(struct stream_map *sm, uint32_t slot, uint32_t index, uint32_t generation)
{
	struct shm_stream_consumer *sc;
	int r;

	if (slot >= SHM_STREAM_CONSUMERS || index >= sm->pool->n_frames ||
	    generation > SHM_GENERATION_MASK)
		return -EINVAL;
	sc = &sm->consumers[slot];
	r = unref(sm, slot, index, generation);
	if (r < 0)
		return r;
	if (atomic_load_explicit(&sc->held, memory_order_relaxed) > 0)
		atomic_fetch_sub_explicit(&sc->held, 1, memory_order_relaxed);
	return 0;
}

void stream_consumer_attach(struct stream_map *sm, uint32_t slot, uint32_t tenant, uint32_t policy,
			    uint32_t depth, uint32_t max_held)
{
	struct shm_stream_consumer *sc = &sm->consumers[slot];

	/* Not active yet: no publish pushes to this ring while we set it up. */
	atomic_store(&sc->policy, policy);
	atomic_store(&sc->depth, policy == SHM_STREAM_LATEST ? 1 : clamp_depth(depth));
	atomic_store(&sc->max_held, max_held);
	/* Frames published before it came are not its losses. */
	atomic_store(&sc->last_sequence, atomic_load(&sm->shared->published));
	atomic_store(&sc->dropped, 0);
	atomic_store(&sc->wakes, 0);
	atomic_store(&sc->held, 0);
	atomic_store(&sc->delivered, 0);
	atomic_store(&sc->sleeps, 0);
	atomic_store(&sc->sleeping, 0);
	for (uint32_t b = 0; b < SHM_STREAM_LATENCY_BUCKETS; b++)
		atomic_store(&sc->latency[b], 0);
	atomic_store(&sc->tail, atomic_load(&sc->head));
	atomic_store(&sc->attach_epoch, stream_consumer_epoch(sm) + 1);
	atomic_fetch_add(&sc->attached, 1);
	atomic_store(&sc->tenant, tenant);
	atomic_fetch_or(&sm->shared->active, 1u << slot);
}

uint32_t stream_consumer_detach(struct stream_map *sm, uint32_t slot)
{
	struct shm_stream_consumer *sc = &sm->consumers[slot];
	uint32_t n = 0;

	atomic_fetch_and(&sm->shared->active, ~(1u << slot));
	atomic_store(&sc->tenant, 0);
	/*
	 * Every frame the stream owns with this consumer's bit: queued and held
	 * alike. A publish that read the mask before the change clears the bit
	 * itself after pushing (stream_publish()); a frame whose last releaser
	 * died between its two CASes is freed here.
	 */
	for (uint32_t i = 0; i < sm->pool->n_frames; i++) {
		uint32_t generation = stream_generation(sm, i);

		if (generation == UINT32_MAX)
			continue;
		if (unref(sm, slot, i, generation) == 1)
			n++;
		else
			n += free_if_orphan(sm, i, generation);
	}
	atomic_store(&sc->held, 0);
	/* Its thread, if it lives (closed by the daemon), wakes to find the slot gone. */
	atomic_thread_fence(memory_order_seq_cst);
	wake_sleeper(&sc->sleeping);
	wake_sleeper(&sm->shared->producer_sleeping);
	return n;
}

void stream_wake(struct stream_map *sm, bool producer, uint32_t slot)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (producer)
		wake_sleeper(&sm->shared->producer_sleeping);
	else if (slot < SHM_STREAM_CONSUMERS)
		wake_sleeper(&sm->consumers[slot].sleeping);
}

void stream_producer_attach(struct stream_map *sm, uint32_t producer)
{
	struct shm_stream_shared *sh = sm->shared;
	uint32_t s = atomic_load(&sh->state);

	atomic_store(&sh->journal_frame, 0);
	atomic_store(&sh->journal_push, UINT64_MAX);
	atomic_store(&sh->producer_sleeping, 0);
	atomic_store(&sh->producer, producer);
	atomic_store(&sh->state, ((shm_stream_epoch(s) + 1) << 8) | SHM_STREAM_FLOWING);
}

/* Finishes or undoes the publish the journal names (the producer is dead or gone). */
static uint32_t settle_journal(struct stream_map *sm)
{
	struct shm_stream_shared *sh = sm->shared;
	uint64_t jf = atomic_load(&sh->journal_frame), jp = atomic_load(&sh->journal_push);
	uint32_t index, generation, k, h, active, n = 0;
	uint64_t refs;

	if (!(jf & SHM_JOURNAL_VALID))
		return 0;
	index = (uint32_t)(jf >> 31) & (SHM_STREAM_MAX_FRAMES - 1);
	generation = (uint32_t)jf & SHM_GENERATION_MASK;
	/* Still the producer's (no CAS yet): the pool's reclaim takes it with the producer. */
	if (index >= sm->pool->n_frames || stream_generation(sm, index) != generation)
		goto out;
	k = jp == UINT64_MAX ? 0 : (uint32_t)(jp >> 32);
	h = (uint32_t)jp;
	active = atomic_load(&sh->active);
	refs = atomic_load(&sm->refs[index]);
	for (uint32_t c = 0; c < SHM_STREAM_CONSUMERS; c++) {
		bool has;

		if (!(refs & (UINT64_C(1) << c)))
			continue;
		if (jp == UINT64_MAX || c > k)
			has = false; /* not pushed to yet */
		else if (c < k)
			has = true;
		else /* the push under way: done if the head moved past it */
			has = atomic_load(&sm->consumers[c].head) == h + 1 &&
			      entry_index(atomic_load(&sm->rings[c][h % SHM_STREAM_RING])) ==
				      index &&
			      entry_generation(atomic_load(&sm->rings[c][h % SHM_STREAM_RING])) ==
				      generation;
		if (!has || !(active & (1u << c)))
			n += unref(sm, c, index, generation) == 1;
	}
	n += free_if_orphan(sm, index, generation);
out:
	atomic_store(&sh->journal_frame, 0);
	atomic_store(&sh->journal_push, UINT64_MAX);
	return n;
}

/* Evictions the producer claimed and did not finish: their references go. */
static uint32_t settle_evictions(struct stream_map *sm)
{
	uint32_t n = 0;

	for (uint32_t c = 0; c < SHM_STREAM_CONSUMERS; c++)
		for (uint32_t i = 0; i < SHM_STREAM_RING; i++) {
			uint64_t e = atomic_load(&sm->rings[c][i]);
			uint32_t index = entry_index(e), generation = entry_generation(e);

			if (entry_state(e) != SHM_ENTRY_EVICTED || index >= sm->pool->n_frames ||
			    stream_generation(sm, index) != generation)
				continue;
			n += unref(sm, c, index, generation) == 1;
		}
	return n;
}

uint32_t stream_producer_gone(struct stream_map *sm, uint32_t producer)
{
	struct shm_stream_shared *sh = sm->shared;
	uint32_t s = atomic_load(&sh->state), n;

	if (atomic_load(&sh->producer) != producer && producer != 0)
		atomic_store(&sh->producer, producer); /* scribbled: the daemon's record wins */
	n = settle_journal(sm);
	n += settle_evictions(sm);
	atomic_store(&sh->producer, 0);
	if (shm_stream_state(s) == SHM_STREAM_FLOWING || shm_stream_state(s) == SHM_STREAM_WAITING)
		atomic_store(&sh->state, (s & ~0xffu) | SHM_STREAM_PRODUCER_GONE);
	atomic_store(&sh->producer_sleeping, 0);
	stream_wake_all(sm);
	return n;
}

uint32_t stream_destroy(struct stream_map *sm)
{
	uint32_t s = atomic_load(&sm->shared->state);

	atomic_store(&sm->shared->state, (s & ~0xffu) | SHM_STREAM_DESTROYED);
	atomic_store(&sm->shared->active, 0);
	atomic_store(&sm->shared->producer, 0);
	stream_wake_all(sm);
	/* Every frame the stream owns, whoever refers to it. */
	return frame_reclaim_owned(sm->pool, sm->tenant);
}

void stream_restore(struct stream_map *sm, uint32_t producer,
		    const uint32_t tenants[SHM_STREAM_CONSUMERS])
{
	uint32_t active = 0;

	for (uint32_t c = 0; c < SHM_STREAM_CONSUMERS; c++) {
		if (atomic_load(&sm->consumers[c].tenant) != tenants[c])
			atomic_store(&sm->consumers[c].tenant, tenants[c]);
		if (tenants[c])
			active |= 1u << c;
	}
	if (atomic_load(&sm->shared->active) != active)
		atomic_store(&sm->shared->active, active);
	if (atomic_load(&sm->shared->producer) != producer)
		atomic_store(&sm->shared->producer, producer);
}

void stream_wake_all(struct stream_map *sm)
{
	/*
	 * After the state change the caller made: a sleeper that announced itself
	 * before it is woken; one that announces after it looks at the state again.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	for (uint32_t c = 0; c < SHM_STREAM_CONSUMERS; c++)
		wake_sleeper(&sm->consumers[c].sleeping);
	wake_sleeper(&sm->shared->producer_sleeping);
}

uint32_t stream_consumer_queued(const struct stream_map *sm, uint32_t slot)
{
	const struct shm_stream_consumer *sc = &sm->consumers[slot];
	uint32_t q = atomic_load(&sc->head) - atomic_load(&sc->tail);

	return q > SHM_STREAM_RING ? 0 : q;
}
