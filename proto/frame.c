/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "frame.h"

#include <errno.h>
#include <linux/futex.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Handing a frame over is tried with at most this many waiting sessions. */
#define HANDOFF_ATTEMPTS 4

void frame_pool_init(struct frame_pool *fp, void *map, const struct shm_layout *layout,
		     uint32_t n_frames)
{
	*fp = (struct frame_pool){
		.shared = (struct shm_shared *)((char *)map + SHM_SHARED_OFFSET),
		.slots = (struct shm_slot *)((char *)map + layout->slots_offset),
		.frames = (struct shm_frame *)((char *)map + layout->descriptors_offset),
		.data = (uint8_t *)map + layout->data_offset,
		.n_frames = n_frames,
		.n_slots = layout->n_slots,
		.frame_stride = layout->frame_stride,
	};
}

/* Shared (not private) futexes: the words live in memory that several processes map. */
static void futex_wake(_Atomic uint32_t *word, int n)
{
	syscall(SYS_futex, word, FUTEX_WAKE, n, NULL, NULL, 0);
}

/* Sleeps while *@word == @value, until @deadline (CLOCK_MONOTONIC), or for ever if NULL. */
static void futex_wait(_Atomic uint32_t *word, uint32_t value, const struct timespec *deadline)
{
	syscall(SYS_futex, word, FUTEX_WAIT_BITSET, value, deadline, NULL, FUTEX_BITSET_MATCH_ANY);
}

static uint64_t now_coarse_ms(void)
{
	struct timespec ts;

	/* The coarse clock is a vDSO read of the tick: cheap enough for the fast path. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void note_acquired(struct frame_pool *fp, uint32_t index)
{
	uint32_t allocated =
		atomic_fetch_add_explicit(&fp->shared->allocated, 1, memory_order_relaxed) + 1;
	uint32_t peak = atomic_load_explicit(&fp->shared->peak, memory_order_relaxed);

	while (allocated > peak &&
	       !atomic_compare_exchange_weak_explicit(&fp->shared->peak, &peak, allocated,
						      memory_order_relaxed, memory_order_relaxed))
		;
	atomic_store_explicit(&fp->frames[index].acquired_ms, now_coarse_ms(),
			      memory_order_relaxed);
}

static void note_freed(struct frame_pool *fp)
{
	atomic_fetch_sub_explicit(&fp->shared->allocated, 1, memory_order_relaxed);
}

int frame_try_acquire(struct frame_pool *fp, uint32_t session, struct shm_slot *slot,
		      uint32_t *hint, uint32_t *ret_index, uint32_t *ret_generation)
{
	uint32_t n = fp->n_frames, i = *hint < n ? *hint : 0;

	for (uint32_t k = 0; k < n; k++, i = i + 1 < n ? i + 1 : 0) {
		uint64_t w = atomic_load_explicit(&fp->frames[i].owner, memory_order_relaxed);
		uint32_t generation;

		if (shm_owner_session(w) != 0)
			continue;
		generation = (shm_owner_generation(w) + 1) & SHM_GENERATION_MASK;
		if (!atomic_compare_exchange_strong(&fp->frames[i].owner, &w,
						    shm_owner(session, generation)))
			continue;
		note_acquired(fp, i);
		atomic_fetch_add_explicit(&slot->acquisitions, 1, memory_order_relaxed);
		*hint = i;
		*ret_index = i;
		*ret_generation = generation;
		return 0;
	}
	return -EAGAIN;
}

/* Picks up a frame that a release handed to @session, if there is one. */
static int claim_handoff(struct frame_pool *fp, uint32_t session, struct shm_slot *slot,
			 uint32_t *ret_index, uint32_t *ret_generation)
{
	for (uint32_t i = 0; i < fp->n_frames; i++) {
		uint64_t w = atomic_load_explicit(&fp->frames[i].owner, memory_order_relaxed);
		uint32_t generation = shm_owner_generation(w);

		if (shm_owner_session(w) != session || !(generation & SHM_HANDOFF))
			continue;
		generation &= SHM_GENERATION_MASK;
		/* Another thread of this session may pick it up first: then look further. */
		if (!atomic_compare_exchange_strong(&fp->frames[i].owner, &w,
						    shm_owner(session, generation)))
			continue;
		atomic_fetch_add_explicit(&slot->acquisitions, 1, memory_order_relaxed);
		*ret_index = i;
		*ret_generation = generation;
		return 0;
	}
	return -EAGAIN;
}

/* Signed distance, so that ticket order survives the counter wrapping. */
static bool ticket_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/* The slot of the session that has waited longest, or NULL when nobody waits. */
static struct shm_slot *longest_waiting(struct frame_pool *fp)
{
	uint32_t used = atomic_load_explicit(&fp->shared->slots_used, memory_order_relaxed);
	struct shm_slot *best = NULL;
	uint32_t best_ticket = 0;

	if (used > fp->n_slots)
		used = fp->n_slots; /* written by the daemon, but readable by anyone */
	for (uint32_t i = 0; i < used; i++) {
		struct shm_slot *s = &fp->slots[i];
		uint32_t ticket;

		if (atomic_load(&s->waiting) == 0 || atomic_load(&s->session) == 0)
			continue;
		ticket = atomic_load_explicit(&s->wait_ticket, memory_order_relaxed);
		if (!best || ticket_before(ticket, best_ticket)) {
			best = s;
			best_ticket = ticket;
		}
	}
	return best;
}

/*
 * Frame @index was just freed at @generation and somebody waits: move it
 * straight to the longest-waiting session, so nobody barges in ahead of it.
 */
static void hand_over(struct frame_pool *fp, uint32_t index, uint32_t generation)
{
	for (int attempt = 0; attempt < HANDOFF_ATTEMPTS; attempt++) {
		struct shm_slot *target = longest_waiting(fp);
		uint64_t expect = shm_owner(0, generation), handed;
		uint32_t session, next;

		if (!target)
			return;
		session = atomic_load(&target->session);
		next = ((generation + 1) & SHM_GENERATION_MASK) | SHM_HANDOFF;
		handed = shm_owner(session, next);
		/* Taken by someone else meanwhile: they are served, and so is fairness enough. */
		if (!atomic_compare_exchange_strong(&fp->frames[index].owner, &expect, handed))
			return;
		note_acquired(fp, index);
		/* Served: to the back of the queue, behind every session now waiting. */
		atomic_store_explicit(&target->wait_ticket,
				      atomic_fetch_add(&fp->shared->ticket, 1), memory_order_relaxed);
		atomic_fetch_add(&target->futex, 1);
		futex_wake(&target->futex, 1);
		/*
		 * Its waiters may have given up between our look and the hand-over;
		 * one that leaves checks for hand-overs after it stops counting itself,
		 * and we check its count after handing over, so one of us sees the other.
		 */
		if (atomic_load(&target->waiting) != 0)
			return;
		expect = handed;
		if (!atomic_compare_exchange_strong(&fp->frames[index].owner, &expect,
						    shm_owner(0, next & SHM_GENERATION_MASK)))
			return; /* picked up after all */
		note_freed(fp);
		generation = next & SHM_GENERATION_MASK;
	}
}

/* After a frame became free: serve a waiter if there is one. */
static void after_free(struct frame_pool *fp, uint32_t index, uint32_t generation)
{
	/* The CAS that freed the frame is a full barrier: this load cannot move above it. */
	if (atomic_load(&fp->shared->waiters) == 0)
		return;
	if (atomic_load(&fp->shared->state) == SHM_STATE_COMMITTED)
		hand_over(fp, index, generation);
}

int frame_release(struct frame_pool *fp, uint32_t session, uint32_t index, uint32_t generation)
{
	uint64_t w;

	if (index >= fp->n_frames || generation > SHM_GENERATION_MASK)
		return -EINVAL;
	w = atomic_load_explicit(&fp->frames[index].owner, memory_order_relaxed);
	for (;;) {
		if (shm_owner_generation(w) != generation)
			return -ESTALE;
		if (shm_owner_session(w) == 0)
			return -EALREADY;
		if (shm_owner_session(w) != session)
			return -EPERM;
		if (atomic_compare_exchange_strong(&fp->frames[index].owner, &w,
						   shm_owner(0, generation)))
			break;
	}
	note_freed(fp);
	after_free(fp, index, generation);
	return 0;
}

static void deadline_after(struct timespec *ts, uint32_t timeout_ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += timeout_ms / 1000;
	ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static bool deadline_passed(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	       (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

int frame_acquire(struct frame_pool *fp, uint32_t session, struct shm_slot *slot, uint32_t *hint,
		  uint32_t timeout_ms, uint32_t *ret_index, uint32_t *ret_generation)
{
	struct timespec deadline;
	int r;

	if (atomic_load_explicit(&fp->shared->state, memory_order_relaxed) != SHM_STATE_COMMITTED)
		return -ESHUTDOWN;
	r = frame_try_acquire(fp, session, slot, hint, ret_index, ret_generation);
	if (r != -EAGAIN)
		return r;
	if (timeout_ms == 0) {
		atomic_fetch_add_explicit(&slot->timeouts, 1, memory_order_relaxed);
		return -ETIMEDOUT;
	}
	if (timeout_ms != FRAME_INFINITE)
		deadline_after(&deadline, timeout_ms);

	/*
	 * Count ourselves before looking again: a release that frees a frame after
	 * our look then sees us and hands the frame over (after_free()). The global
	 * count goes up first and down last, so a crash can only leave it too high.
	 */
	atomic_fetch_add(&fp->shared->waiters, 1);
	if (atomic_fetch_add(&slot->waiting, 1) == 0)
		atomic_store_explicit(&slot->wait_ticket, atomic_fetch_add(&fp->shared->ticket, 1),
				      memory_order_relaxed);
	for (;;) {
		uint32_t seq = atomic_load(&slot->futex);

		r = claim_handoff(fp, session, slot, ret_index, ret_generation);
		if (r == -EAGAIN)
			r = frame_try_acquire(fp, session, slot, hint, ret_index, ret_generation);
		if (r != -EAGAIN)
			break;
		if (atomic_load(&fp->shared->state) != SHM_STATE_COMMITTED) {
			r = -ESHUTDOWN;
			break;
		}
		if (timeout_ms != FRAME_INFINITE && deadline_passed(&deadline)) {
			r = -ETIMEDOUT;
			break;
		}
		futex_wait(&slot->futex, seq, timeout_ms == FRAME_INFINITE ? NULL : &deadline);
	}
	atomic_fetch_sub(&slot->waiting, 1);
	atomic_fetch_sub(&fp->shared->waiters, 1);

	if (r == 0)
		return 0;
	/* A frame handed over while we gave up is ours: take it rather than strand it. */
	if (claim_handoff(fp, session, slot, ret_index, ret_generation) == 0)
		return 0;
	if (r == -ETIMEDOUT)
		atomic_fetch_add_explicit(&slot->timeouts, 1, memory_order_relaxed);
	return r;
}

uint32_t frame_reclaim(struct frame_pool *fp, uint32_t session, struct shm_slot *slot)
{
	uint32_t waiting = atomic_exchange(&slot->waiting, 0), n = 0;

	/* A dead session's waiters never come back to count themselves out. */
	if (waiting)
		atomic_fetch_sub(&fp->shared->waiters, waiting);
	for (uint32_t i = 0; i < fp->n_frames; i++) {
		uint64_t w = atomic_load(&fp->frames[i].owner);
		uint32_t generation;

		while (shm_owner_session(w) == session) {
			generation = shm_owner_generation(w) & SHM_GENERATION_MASK;
			if (atomic_compare_exchange_strong(&fp->frames[i].owner, &w,
							   shm_owner(0, generation))) {
				n++;
				note_freed(fp);
				after_free(fp, i, generation);
				break;
			}
		}
	}
	return n;
}

void frame_set_state(struct frame_pool *fp, uint32_t state)
{
	uint32_t used = atomic_load(&fp->shared->slots_used);

	atomic_store(&fp->shared->state, state);
	if (used > fp->n_slots)
		used = fp->n_slots;
	/* Every waiter wakes, looks at the state and leaves with -ESHUTDOWN. */
	for (uint32_t i = 0; i < used; i++) {
		if (atomic_load(&fp->slots[i].waiting) == 0)
			continue;
		atomic_fetch_add(&fp->slots[i].futex, 1);
		futex_wake(&fp->slots[i].futex, INT32_MAX);
	}
}

uint32_t frame_count_owned(const struct frame_pool *fp)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < fp->n_frames; i++)
		n += shm_owner_session(atomic_load_explicit(&fp->frames[i].owner,
							    memory_order_relaxed)) != 0;
	return n;
}
