/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Sleeping and waking in shared memory, for frame.c and stream.c: shared
 * (not private) futexes, since the words live in memory several processes
 * map, and CLOCK_MONOTONIC deadlines for FUTEX_WAIT_BITSET.
 */

#include <linux/futex.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Wakes up to @n threads sleeping on @word. */
static inline void shm_futex_wake(_Atomic uint32_t *word, int n)
{
	syscall(SYS_futex, word, FUTEX_WAKE, n, NULL, NULL, 0);
}

/* Sleeps while *@word == @value, until @deadline (CLOCK_MONOTONIC), or for ever if NULL. */
static inline void shm_futex_wait(_Atomic uint32_t *word, uint32_t value,
				  const struct timespec *deadline)
{
	syscall(SYS_futex, word, FUTEX_WAIT_BITSET, value, deadline, NULL, FUTEX_BITSET_MATCH_ANY);
}

/* CLOCK_MONOTONIC @timeout_ms from now. */
static inline void shm_deadline_after(struct timespec *ts, uint32_t timeout_ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += timeout_ms / 1000;
	ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static inline bool shm_deadline_passed(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	       (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* The earlier of two CLOCK_MONOTONIC times. */
static inline const struct timespec *shm_deadline_earlier(const struct timespec *a,
							  const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? a : b;
	return a->tv_nsec <= b->tv_nsec ? a : b;
}
