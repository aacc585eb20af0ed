/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What every ksallocctl command prints alike: ages, holders and pools in JSON. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <ksalloc/ksalloc.h>

/* "1.2 s", "3 min": an age for people. */
void ctl_format_age(uint64_t ms, char *buf, size_t size);

/* A holder as status, watch, top and metrics print it in JSON. */
json_object *ctl_holder_to_json(const struct ksalloc_holder *h);

/*
 * Adds a pool's counters to @o: free_frames, peak_frames, waiters,
 * acquisitions, timeouts and reclaimed, in that order (ksallocctl(1) lists
 * them so), as status, watch, top and metrics print them in JSON.
 */
void ctl_pool_counters_to_json(json_object *o, const struct ksalloc_pool_stats *st);

/* The holders of @st, an array of ctl_holder_to_json() objects. */
json_object *ctl_holders_to_json(const struct ksalloc_pool_stats *st);

/* A pool's extended status, its holders included, as top and metrics print it in JSON. */
json_object *ctl_pool_to_json(const struct ksalloc_pool_info *p,
			      const struct ksalloc_pool_stats *st);
