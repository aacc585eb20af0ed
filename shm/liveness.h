/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The daemon's heartbeat in a pool's control block (shm_shared.heartbeat_ms),
 * as the daemon writes it and as the client's acquire reads it. Inline and in
 * one place, so that bench-frames measures the very check the library makes.
 *
 * The check on the fast path is one relaxed load of a word on the cache line
 * acquire reads anyway and one CLOCK_MONOTONIC_COARSE read (vDSO, no system
 * call). Only a stale heartbeat sends the caller to its connection; what it
 * finds there is the client's business (client/frame.c), not shm's.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "shm/layout.h"

/* CLOCK_MONOTONIC_COARSE in ms: the tick, read from the vDSO. */
static inline uint64_t shm_now_coarse_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Daemon side: the pool's daemon lives at @now_ms. */
static inline void shm_heartbeat_beat(struct shm_shared *shared, uint64_t now_ms)
{
	atomic_store_explicit(&shared->heartbeat_ms, now_ms, memory_order_relaxed);
}

/*
 * Whether the daemon beat within SHM_HEARTBEAT_STALE_MS of @now_ms. Anyone can
 * write the word: a heartbeat from the future is as suspect as an old one
 * (the unsigned difference wraps), and costs at most a look at the socket.
 */
static inline bool shm_heartbeat_fresh_at(const struct shm_shared *shared, uint64_t now_ms)
{
	uint64_t beat = atomic_load_explicit(&shared->heartbeat_ms, memory_order_relaxed);

	return now_ms - beat <= SHM_HEARTBEAT_STALE_MS;
}

static inline bool shm_heartbeat_fresh(const struct shm_shared *shared)
{
	return shm_heartbeat_fresh_at(shared, shm_now_coarse_ms());
}

/*
 * The whole fast check of the client's acquire and release: the view was made
 * on the current connection (@view_epoch against the client's @epoch, which
 * moves on when the connection is found lost) and the daemon beat recently.
 */
static inline bool shm_liveness_fresh_at(const struct shm_shared *shared,
					 const _Atomic uint32_t *epoch, uint32_t view_epoch,
					 uint64_t now_ms)
{
	return view_epoch == atomic_load_explicit(epoch, memory_order_relaxed) &&
	       shm_heartbeat_fresh_at(shared, now_ms);
}
