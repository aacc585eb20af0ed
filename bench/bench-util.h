/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the benchmarks of bench/ share: clocks, medians, scratch folders. */

#include <stdint.h>
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

/* Writes @text to @path (created or truncated). Returns 0 or -errno. */
int write_file(const char *path, const char *text);

/* Removes the files in @dir, then @dir itself: what a benchmark made there. */
void remove_dir(const char *dir);
