/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Frame operations on a mapped pool (shm.h), shared by the client library
 * (acquire, release, wait) and the daemon (reclaim, wake). Lock-free: a frame
 * changes hands by one compare-and-swap of its ownership word; no syscall
 * unless somebody waits.
 *
 * Fairness. A release that finds threads waiting does not leave its frame
 * free for whoever comes next: it hands it to the tenant that has waited
 * longest (ownership moves in the same compare-and-swap), and wakes that
 * tenant. A process that releases and re-acquires in a loop therefore
 * cannot starve a waiter.
 *
 * Crash safety. Every state a frame can be in is one word, so a process
 * killed at any instruction leaves each frame free or owned by a tenant;
 * frame_reclaim() returns a dead tenant's frames. Counters (waiters,
 * allocated, peak) are hints for the fast path and for statistics: a crash
 * can leave them off by one, never a frame lost or a waiter unwoken.
 */

#include <stdbool.h>
#include <stdint.h>

#include "shm/layout.h"

#define FRAME_INFINITE UINT32_MAX /* timeout_ms: wait for as long as it takes */

/* A mapped pool, through pointers computed from a checked layout only. */
struct frame_pool {
	struct shm_shared *shared;
	struct shm_slot *slots;
	struct shm_frame *frames;
	uint8_t *data;
	uint32_t n_frames;
	uint32_t n_slots;
	uint64_t frame_stride;
};

void frame_pool_init(struct frame_pool *fp, void *map, const struct shm_layout *layout,
		     uint32_t n_frames);

static inline void *frame_data(const struct frame_pool *fp, uint32_t index)
{
	return fp->data + (uint64_t)index * fp->frame_stride;
}

/*
 * Takes a free frame for @tenant, whose slot is @slot, searching from
 * *@hint (updated for the next call). Returns 0 with the frame's index and
 * generation, or -EAGAIN when every frame is owned.
 */
int frame_try_acquire(struct frame_pool *fp, uint32_t tenant, struct shm_slot *slot, uint32_t *hint,
		      uint32_t *ret_index, uint32_t *ret_generation);

/*
 * As frame_try_acquire(), with @now_ms the caller's CLOCK_MONOTONIC_COARSE read
 * (ms) of just before, recorded as the frame's acquired_ms: a caller that reads
 * the clock anyway (the client's liveness check) saves the second read.
 */
int frame_try_acquire_at(struct frame_pool *fp, uint32_t tenant, struct shm_slot *slot,
			 uint32_t *hint, uint64_t now_ms, uint32_t *ret_index,
			 uint32_t *ret_generation);

/*
 * As frame_try_acquire(), and when no frame is free waits for one up to
 * @timeout_ms (0: do not wait; FRAME_INFINITE: no limit). Returns 0,
 * -ETIMEDOUT, or -ESHUTDOWN when the pool is (or becomes) decommitted or
 * destroyed.
 */
int frame_acquire(struct frame_pool *fp, uint32_t tenant, struct shm_slot *slot, uint32_t *hint,
		  uint32_t timeout_ms, uint32_t *ret_index, uint32_t *ret_generation);

/*
 * What a waiter asks between slices of its wait: check(userdata) returns 0 to
 * wait on, or a negative errno that the acquire returns at once. shm/ does no
 * I/O: the caller's check decides whether whoever serves the pool still lives
 * (the client looks at the daemon's heartbeat and its connection).
 */
struct frame_liveness {
	int (*check)(void *userdata);
	void *userdata;
	uint32_t slice_ms; /* how long a waiter sleeps between checks; not 0 */
	/* The caller's CLOCK_MONOTONIC_COARSE read (ms) of just before; 0: none. */
	uint64_t now_ms;
	/*
	 * While true (NULL: never), a wait ends with -ECANCELED instead of sleeping.
	 * Whoever sets it wakes the waiters after the store: frame_wake_slot(), or
	 * stream_wake() for a stream's.
	 */
	const _Atomic bool *cancel;
};

/*
 * As frame_acquire(), and while waiting asks @live (NULL: never) every
 * live->slice_ms. A waiter that wakes to ask keeps its place in the queue of
 * waiting tenants: it never leaves the wait to do so. When the check fails,
 * returns its errno and leaves a frame handed over meanwhile where it is
 * (the pool's server is gone, or takes it back with the tenant).
 */
int frame_acquire_checked(struct frame_pool *fp, uint32_t tenant, struct shm_slot *slot,
			  uint32_t *hint, uint32_t timeout_ms, const struct frame_liveness *live,
			  uint32_t *ret_index, uint32_t *ret_generation);

/* Whether @live asks its waits to end (ksalloc_pool_set_flushing()). */
static inline bool frame_wait_cancelled(const struct frame_liveness *live)
{
	return live && live->cancel && atomic_load(live->cancel);
}

/* Wakes every thread waiting in @slot, to look at the pool, its slot and its liveness again. */
void frame_wake_slot(struct shm_slot *slot);

/*
 * Gives back frame @index, acquired by @tenant as generation @generation.
 * Returns 0, or: -EINVAL (no such frame in this pool), -ESTALE (the frame has
 * been released and acquired again since: an old handle), -EPERM (another
 * tenant holds it), -EALREADY (it is free: released twice).
 */
int frame_release(struct frame_pool *fp, uint32_t tenant, uint32_t index, uint32_t generation);

/*
 * Daemon side: frees every frame that @tenant owns (handing each to a
 * waiter if there is one), and takes the tenant's waiters out of the count.
 * Wakes every tenant that has a frame handed to it: the dead tenant may have
 * been killed between handing a frame over and waking its new owner.
 * @slot is the slot the daemon gave the tenant (its own record, not shm's).
 * Returns the number of frames reclaimed.
 */
uint32_t frame_reclaim(struct frame_pool *fp, uint32_t tenant, struct shm_slot *slot);

/*
 * Frees every frame @tenant owns (handing each to a waiter if there is one),
 * without a slot: for tenants that are not sessions (a stream that goes).
 * Returns the number of frames freed.
 */
uint32_t frame_reclaim_owned(struct frame_pool *fp, uint32_t tenant);

/* Daemon side: gives @slot to @tenant (0: to nobody), with fresh counters. */
void frame_slot_assign(struct shm_slot *slot, uint32_t tenant);

/*
 * Daemon side: makes @slot's tenant @tenant (0: nobody) again if a client
 * wrote another there, keeping its count of waiting threads, so that frames
 * are handed only to tenants the daemon attached.
 */
void frame_slot_restore(struct shm_slot *slot, uint32_t tenant);

/* The tenant that has @slot (0: none) and how many of its threads wait. */
uint32_t frame_slot_tenant(const struct shm_slot *slot);
uint32_t frame_slot_waiting(const struct shm_slot *slot);

/* Daemon side: sets the pool's state and wakes every waiter to look at it. */
void frame_set_state(struct frame_pool *fp, uint32_t state);

/* Frames owned right now, counted from the ownership words (exact, unlike shared->allocated). */
uint32_t frame_count_owned(const struct frame_pool *fp);
