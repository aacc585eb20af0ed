/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the benchmarks of bench/ share: clocks, medians and percentiles, option
 * values, CPU placement, and where ksallocd is. Starting it, and scratch
 * folders, are the tests' own code (tests/lib/daemon.h, tests/lib/files.h).
 */

#include <sched.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* @clock now, in nanoseconds; now_ns() is CLOCK_MONOTONIC's. Inline: they time hot paths. */
static inline int64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* For qsort() of doubles, ascending. */
int cmp_double(const void *a, const void *b);

/* The median of @n samples (0 for none); @v is left as it was. */
double median(const double *v, unsigned n);

/*
 * Sorts @v in place; the value below which a fraction @p of the @n samples
 * lie (the nearest rank), 0 for none.
 */
double percentile(double *v, unsigned n, double p);

/*
 * A decimal option value from @min to @max, without sign or trailing text.
 * Returns 0 with it in *ret, or -EINVAL.
 */
int parse_uint(const char *s, unsigned long long min, unsigned long long max,
	       unsigned long long *ret);

/*
 * Moves every thread of @pid to @set, not only its first: a process may have
 * started more. A thread that exits meanwhile is no error. Returns 0 or -errno.
 */
int set_affinity(pid_t pid, const cpu_set_t *set);

/*
 * ksallocd in the folder this program was started from (/proc/self/exe), or
 * "ksallocd" if that cannot be read. The path is static.
 */
const char *daemon_beside_me(void);
