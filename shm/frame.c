/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "shm/frame.h"

#include <errno.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include "shm/wait.h"

/* Handing a frame over is tried with at most this many waiting tenants. */
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

static uint64_t now_coarse_ms(void)
{
	struct timespec ts;

	/* The coarse clock is a vDSO read of the tick: cheap enough for the fast path. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void note_acquired(struct frame_pool *fp, uint32_t index, uint64_t now_ms)
{
	uint32_t allocated =
		atomic_fetch_add_explicit(&fp->shared->allocated, 1, memory_order_relaxed) + 1;
	uint32_t peak = atomic_load_explicit(&fp->shared->peak, memory_order_relaxed);

	while (allocated > peak &&
	       !atomic_compare_exchange_weak_explicit(&fp->shared->peak, &peak, allocated,
						      memory_order_relaxed, memory_order_relaxed))
		;
	atomic_store_explicit(&fp->frames[index].acquired_ms, now_ms, memory_order_relaxed);
}

/*
 * Frees frame @index if its word is still *@expect. The count goes down before
 * the frame can be taken again (and back up if it cannot be freed), so that
 * allocated, and with it peak, never counts a frame twice.
 */
static bool free_word(struct frame_pool *fp, uint32_t index, uint64_t *expect, uint32_t generation)
{
	atomic_fetch_sub_explicit(&fp->shared->allocated, 1, memory_order_relaxed);
	if (atomic_compare_exchange_strong(&fp->frames[index].owner, expect,
					   shm_owner(0, generation))) {
		/* On the line the count just wrote: no miss of its own. */
		atomic_store_explicit(&fp->shared->last_freed, index, memory_order_relaxed);
		return true;
	}
	atomic_fetch_add_explicit(&fp->shared->allocated, 1, memory_order_relaxed);
	return false;
}

int frame_try_acquire(struct frame_pool *fp, uint32_t tenant, struct shm_slot *slot, uint32_t *hint,
		      uint32_t *ret_index, uint32_t *ret_generation)
{
	return frame_try_acquire_at(fp, tenant, slot, hint, now_coarse_ms(), ret_index,
				    ret_generation);
}

/* Takes frame @i for @tenant if it is free. */
static bool try_take(struct frame_pool *fp, uint32_t i, uint32_t tenant, uint32_t *ret_generation)
{
	uint64_t w = atomic_load_explicit(&fp->frames[i].owner, memory_order_relaxed);
	uint32_t generation;

	if (shm_owner_tenant(w) != 0)
		return false;
	generation = (shm_owner_generation(w) + 1) & SHM_GENERATION_MASK;
	if (!atomic_compare_exchange_strong(&fp->frames[i].owner, &w,
					    shm_owner(tenant, generation)))
		return false;
	*ret_generation = generation;
	return true;
}

int frame_try_acquire_at(struct frame_pool *fp, uint32_t tenant, struct shm_slot *slot,
			 uint32_t *hint, uint64_t now_ms, uint32_t *ret_index,
			 uint32_t *ret_generation)
{
	uint32_t n = fp->n_frames, i = *hint < n ? *hint : 0, generation, k, last;

	/*
	 * The hint first (the frame this process freed last), then the frame anyone freed
	 * last: both warm in a cache. Then every frame, from the hint on.
	 */
	if (try_take(fp, i, tenant, &generation))
		goto taken;
	last = atomic_load_explicit(&fp->shared->last_freed, memory_order_relaxed);
	if (last < n && last != i && try_take(fp, last, tenant, &generation)) {
		i = last;
		goto taken;
	}
	for (k = 1; k < n; k++) {
		i = i + 1 < n ? i + 1 : 0;
		if (try_take(fp, i, tenant, &generation))
			goto taken;
	}
	return -EAGAIN;
taken:
	note_acquired(fp, i, now_ms);
	atomic_fetch_add_explicit(&slot->acquisitions, 1, memory_order_relaxed);
	*hint = i;
	*ret_index = i;
	*ret_generation = generation;
	return 0;
}

/* Picks up a frame that a release handed to @tenant, if there is one. */
static int claim_handoff(struct frame_pool *fp, uint32_t tenant, struct shm_slot *slot,
			 uint32_t *ret_index, uint32_t *ret_generation)
{
	for (uint32_t i = 0; i < fp->n_frames; i++) {
		uint64_t w = atomic_load_explicit(&fp->frames[i].owner, memory_order_relaxed);
		uint32_t generation = shm_owner_generation(w);

		if (shm_owner_tenant(w) != tenant || !(generation & SHM_HANDOFF))
			continue;
		generation &= SHM_GENERATION_MASK;
		/* Another thread of this tenant may pick it up first: then look further. */
		if (!atomic_compare_exchange_strong(&fp->frames[i].owner, &w,
						    shm_owner(tenant, generation)))
			continue;
		atomic_fetch_sub(&slot->handed, 1);
		atomic_fetch_add_explicit(&slot->acquisitions, 1, memory_order_relaxed);
		*ret_index = i;
		*ret_generation = generation;
		return 0;
	}
	return -EAGAIN;
}

void frame_slot_assign(struct shm_slot *slot, uint32_t tenant)
{
	atomic_store(&slot->handed, 0);
	atomic_store(&slot->wait_ticket, 0);
	atomic_store(&slot->acquisitions, 0);
	atomic_store(&slot->timeouts, 0);
	atomic_store(&slot->tenant, (uint64_t)tenant << 32);
}

void frame_slot_restore(struct shm_slot *slot, uint32_t tenant)
{
	uint64_t w = atomic_load(&slot->tenant), want;

	do {
		if ((uint32_t)(w >> 32) == tenant)
			return;
		want = tenant ? (uint64_t)tenant << 32 | (uint32_t)w : 0;
	} while (!atomic_compare_exchange_weak(&slot->tenant, &w, want));
}

uint32_t frame_slot_tenant(const struct shm_slot *slot)
{
	return (uint32_t)(atomic_load(&slot->tenant) >> 32);
}

uint32_t frame_slot_waiting(const struct shm_slot *slot)
{
	return (uint32_t)atomic_load(&slot->tenant);
}

/*
 * Counts a thread of @tenant in as waiting, if the slot is still the
 * tenant's. Returns -ESHUTDOWN when it is not, else whether it is the first.
 */
static int join_waiters(struct shm_slot *slot, uint32_t tenant)
{
	uint64_t w = atomic_load(&slot->tenant);

	do {
		if ((uint32_t)(w >> 32) != tenant)
			return -ESHUTDOWN;
	} while (!atomic_compare_exchange_weak(&slot->tenant, &w, w + 1));
	return (uint32_t)w == 0;
}

/*
 * Counts a thread of @tenant out. Returns false when the daemon has already
 * taken the slot back, and with it this thread out of every count.
 */
static bool leave_waiters(struct shm_slot *slot, uint32_t tenant)
{
	uint64_t w = atomic_load(&slot->tenant);

	do {
		if ((uint32_t)(w >> 32) != tenant || (uint32_t)w == 0)
			return false;
	} while (!atomic_compare_exchange_weak(&slot->tenant, &w, w - 1));
	return true;
}

/* Signed distance, so that ticket order survives the counter wrapping. */
static bool ticket_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/* Clamped: slots_used is written by the daemon, but anyone can scribble on it. */
static uint32_t slots_used(const struct frame_pool *fp)
{
	uint32_t used = atomic_load_explicit(&fp->shared->slots_used, memory_order_relaxed);

	return used < fp->n_slots ? used : fp->n_slots;
}

/*
 * The slot of the tenant that has waited longest among those with a waiting
 * thread that no hand-over is on its way to yet, or NULL.
 */
static struct shm_slot *longest_waiting(struct frame_pool *fp)
{
	uint32_t used = slots_used(fp), best_ticket = 0;
	struct shm_slot *best = NULL;

	for (uint32_t i = 0; i < used; i++) {
		struct shm_slot *s = &fp->slots[i];
		uint32_t ticket;

		uint64_t tenant = atomic_load(&s->tenant);

		if ((uint32_t)tenant <= atomic_load(&s->handed) || (tenant >> 32) == 0)
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
 * Books one hand-over to @s, so that a tenant never gets more frames handed
 * to it than it has threads waiting (two releases at once would otherwise
 * both pick it, and one frame would sit handed to nobody who looks for it).
 */
static bool reserve_handoff(struct shm_slot *s)
{
	uint32_t handed = atomic_load(&s->handed);

	do {
		if (handed >= frame_slot_waiting(s))
			return false;
	} while (!atomic_compare_exchange_weak(&s->handed, &handed, handed + 1));
	return true;
}

static void wake_slot(struct shm_slot *s, int n)
{
	atomic_fetch_add(&s->futex, 1);
	shm_futex_wake(&s->futex, n);
}

/*
 * Somebody is counted as waiting but no tenant can take a hand-over (the
 * counts are off after a crash, or every waiter has one on its way): wake
 * whoever waits, to look for the free frame themselves.
 */
static void wake_someone(struct frame_pool *fp)
{
	uint32_t used = slots_used(fp);

	for (uint32_t i = 0; i < used; i++) {
		if (frame_slot_waiting(&fp->slots[i]) != 0) {
			wake_slot(&fp->slots[i], 1);
			return;
		}
	}
}

/*
 * Frame @index was just freed at @generation and somebody waits: move it
 * straight to the longest-waiting tenant, so nobody barges in ahead of it.
 */
static void hand_over(struct frame_pool *fp, uint32_t index, uint32_t generation)
{
	for (int attempt = 0; attempt < HANDOFF_ATTEMPTS; attempt++) {
		struct shm_slot *target = longest_waiting(fp);
		uint64_t expect = shm_owner(0, generation), handed;
		uint32_t next;

		if (!target) {
			wake_someone(fp);
			return;
		}
		if (!reserve_handoff(target))
			continue;
		next = ((generation + 1) & SHM_GENERATION_MASK) | SHM_HANDOFF;
		handed = shm_owner(frame_slot_tenant(target), next);
		/* Taken by someone else meanwhile: they are served, and the booking goes. */
		if (!atomic_compare_exchange_strong(&fp->frames[index].owner, &expect, handed)) {
			atomic_fetch_sub(&target->handed, 1);
			return;
		}
		note_acquired(fp, index, now_coarse_ms());
		/* Served: to the back of the queue, behind every tenant now waiting. */
		atomic_store_explicit(&target->wait_ticket,
				      atomic_fetch_add(&fp->shared->ticket, 1),
				      memory_order_relaxed);
		wake_slot(target, 1);
		/*
		 * Its waiters may have given up between our look and the hand-over;
		 * one that leaves checks for hand-overs after it stops counting itself,
		 * and we check its count after handing over, so one of us sees the other.
		 */
		if (frame_slot_waiting(target) != 0)
			return;
		expect = handed;
		generation = next & SHM_GENERATION_MASK;
		if (!free_word(fp, index, &expect, generation))
			return; /* picked up after all */
		atomic_fetch_sub(&target->handed, 1);
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

int frame_release(struct frame_pool *fp, uint32_t tenant, uint32_t index, uint32_t generation)
{
	uint64_t w;

	if (index >= fp->n_frames || generation > SHM_GENERATION_MASK)
		return -EINVAL;
	w = atomic_load_explicit(&fp->frames[index].owner, memory_order_relaxed);
	for (;;) {
		if (shm_owner_generation(w) != generation)
			return -ESTALE;
		if (shm_owner_tenant(w) == 0)
			return -EALREADY;
		if (shm_owner_tenant(w) != tenant)
			return -EPERM;
		if (free_word(fp, index, &w, generation))
			break;
	}
	after_free(fp, index, generation);
	return 0;
}

int frame_acquire(struct frame_pool *fp, uint32_t tenant, struct shm_slot *slot, uint32_t *hint,
		  uint32_t timeout_ms, uint32_t *ret_index, uint32_t *ret_generation)
{
	return frame_acquire_checked(fp, tenant, slot, hint, timeout_ms, NULL, ret_index,
				     ret_generation);
}

int frame_acquire_checked(struct frame_pool *fp, uint32_t tenant, struct shm_slot *slot,
			  uint32_t *hint, uint32_t timeout_ms, const struct frame_liveness *live,
			  uint32_t *ret_index, uint32_t *ret_generation)
{
	struct timespec deadline, slice_end;
	bool dead = false;
	uint32_t ticket;
	int r;

	if (atomic_load_explicit(&fp->shared->state, memory_order_relaxed) != SHM_STATE_COMMITTED)
		return -ESHUTDOWN;
	/* The caller's clock read, when it made one just before: one a call is enough. */
	r = frame_try_acquire_at(fp, tenant, slot, hint,
				 live && live->now_ms ? live->now_ms : now_coarse_ms(), ret_index,
				 ret_generation);
	if (r != -EAGAIN)
		return r;
	if (timeout_ms == 0) {
		atomic_fetch_add_explicit(&slot->timeouts, 1, memory_order_relaxed);
		return -ETIMEDOUT;
	}
	if (timeout_ms != FRAME_INFINITE)
		shm_deadline_after(&deadline, timeout_ms);
	if (live)
		shm_deadline_after(&slice_end, live->slice_ms);

	/*
	 * Our place in the queue first, in the slot when no thread of our tenant
	 * waits there yet: the count below then publishes it (join_waiters()' CAS),
	 * so a releaser that sees us counted sees our place, and a tenant that
	 * starts waiting after we are counted comes after us.
	 */
	ticket = atomic_fetch_add(&fp->shared->ticket, 1);
	if (frame_slot_waiting(slot) == 0)
		atomic_store_explicit(&slot->wait_ticket, ticket, memory_order_relaxed);
	/*
	 * Count ourselves before looking again: a release that frees a frame after
	 * our look then sees us and hands the frame over (after_free()). The global
	 * count goes up first and down last, so a crash can only leave it too high.
	 */
	atomic_fetch_add(&fp->shared->waiters, 1);
	r = join_waiters(slot, tenant);
	if (r < 0) {
		atomic_fetch_sub(&fp->shared->waiters, 1);
		return r;
	}
	/*
	 * Store-load order with the releaser (its CAS, then its look at waiters):
	 * our count must be visible before we look at the ownership words, which
	 * frame_try_acquire() reads relaxed.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	for (;;) {
		uint32_t seq = atomic_load(&slot->futex);

		/*
		 * Decommitted or destroyed, or our tenant is gone (the daemon took the
		 * slot back): checked before looking for a free frame, so that a frame
		 * freed after the change is not taken by a waiter the change woke.
		 */
		if (atomic_load(&fp->shared->state) != SHM_STATE_COMMITTED ||
		    frame_slot_tenant(slot) != tenant) {
			r = -ESHUTDOWN;
			break;
		}
		r = claim_handoff(fp, tenant, slot, ret_index, ret_generation);
		if (r == -EAGAIN)
			r = frame_try_acquire(fp, tenant, slot, hint, ret_index, ret_generation);
		if (r != -EAGAIN)
			break;
		if (timeout_ms != FRAME_INFINITE && shm_deadline_passed(&deadline)) {
			r = -ETIMEDOUT;
			break;
		}
		/* After the futex word's read: a wake that follows the store changes it. */
		if (frame_wait_cancelled(live)) {
			r = -ECANCELED;
			break;
		}
		if (!live) {
			shm_futex_wait(&slot->futex, seq,
				       timeout_ms == FRAME_INFINITE ? NULL : &deadline);
			continue;
		}
		/*
		 * Asked here, inside the wait: this thread stays counted and its
		 * tenant keeps its ticket, so asking never costs it its turn.
		 */
		if (shm_deadline_passed(&slice_end)) {
			r = live->check(live->userdata);
			if (r < 0) {
				dead = true;
				break;
			}
			shm_deadline_after(&slice_end, live->slice_ms);
		}
		shm_futex_wait(&slot->futex, seq,
			       timeout_ms == FRAME_INFINITE ?
				       &slice_end :
				       shm_deadline_earlier(&slice_end, &deadline));
	}
	if (leave_waiters(slot, tenant))
		atomic_fetch_sub(&fp->shared->waiters, 1);
	/* The same order as above, for hand_over()'s look at our count after its CAS. */
	atomic_thread_fence(memory_order_seq_cst);

	if (r == 0)
		return 0;
	/*
	 * A frame handed over while we gave up is ours: take it rather than strand
	 * it. Not when the pool's server is gone: nobody serves that frame any more,
	 * and a live server takes it back with our tenant.
	 */
	if (!dead && claim_handoff(fp, tenant, slot, ret_index, ret_generation) == 0)
		return 0;
	if (r == -ETIMEDOUT)
		atomic_fetch_add_explicit(&slot->timeouts, 1, memory_order_relaxed);
	return r;
}

void frame_wake_slot(struct shm_slot *slot)
{
	wake_slot(slot, INT32_MAX);
}

/* Wakes every thread of tenant @tenant, in whichever slot it has. */
static void wake_tenant(struct frame_pool *fp, uint32_t tenant)
{
	uint32_t used = slots_used(fp);

	for (uint32_t i = 0; i < used; i++)
		if (frame_slot_tenant(&fp->slots[i]) == tenant)
			wake_slot(&fp->slots[i], INT32_MAX);
}

/*
 * Wakes the owner of every frame handed over and not picked up. A release
 * hands a frame over (its CAS) and then wakes the new owner: a releaser killed
 * in between leaves that owner asleep with the frame. A wake too many costs a
 * look at the frames; one too few, a waiter for ever. Runs on reclaim, which
 * is rare: frames times slots is affordable there.
 */
static void wake_handed(struct frame_pool *fp)
{
	for (uint32_t i = 0; i < fp->n_frames; i++) {
		uint64_t w = atomic_load_explicit(&fp->frames[i].owner, memory_order_relaxed);

		if (shm_owner_tenant(w) != 0 && (shm_owner_generation(w) & SHM_HANDOFF))
			wake_tenant(fp, shm_owner_tenant(w));
	}
}

uint32_t frame_reclaim(struct frame_pool *fp, uint32_t tenant, struct shm_slot *slot)
{
	uint64_t word = atomic_exchange(&slot->tenant, 0);
	uint32_t n;

	atomic_store(&slot->handed, 0);
	/*
	 * A dead tenant's waiters never come back to count themselves out; a live
	 * process whose tenant the daemon closed is woken to find its slot gone,
	 * and does not count itself out again (leave_waiters()).
	 */
	if ((uint32_t)(word >> 32) == tenant && (uint32_t)word != 0) {
		atomic_fetch_sub(&fp->shared->waiters, (uint32_t)word);
		wake_slot(slot, INT32_MAX);
	}
	n = frame_reclaim_owned(fp, tenant);
	wake_handed(fp);
	return n;
}

uint32_t frame_reclaim_owned(struct frame_pool *fp, uint32_t tenant)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < fp->n_frames; i++) {
		uint64_t w = atomic_load(&fp->frames[i].owner);
		uint32_t generation;

		while (shm_owner_tenant(w) == tenant) {
			generation = shm_owner_generation(w) & SHM_GENERATION_MASK;
			if (free_word(fp, i, &w, generation)) {
				n++;
				after_free(fp, i, generation);
				break;
			}
		}
	}
	return n;
}

void frame_set_state(struct frame_pool *fp, uint32_t state)
{
	uint32_t used = slots_used(fp);

	atomic_store(&fp->shared->state, state);
	/*
	 * Every waiter wakes, looks at the state and leaves with -ESHUTDOWN. Every
	 * slot, whatever its count says: the count of a tenant already reclaimed
	 * is 0, yet its process may still have threads here.
	 */
	for (uint32_t i = 0; i < used; i++)
		wake_slot(&fp->slots[i], INT32_MAX);
}

uint32_t frame_count_owned(const struct frame_pool *fp)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < fp->n_frames; i++)
		n += shm_owner_tenant(
			     atomic_load_explicit(&fp->frames[i].owner, memory_order_relaxed)) != 0;
	return n;
}
