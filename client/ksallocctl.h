/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * ksallocctl's commands that read the daemon's counters once, over a client
 * main() has opened (ksallocctl-metrics.c). Each returns the process's exit
 * status: 0, or 1 when the daemon refused or went away (a line on stderr
 * says what failed) or stdout could not be written. And what every command
 * prints alike (ksallocctl-util.c).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <ksalloc/ksalloc.h>

/* "1.2 s", "3 min": an age for people. */
void ctl_format_age(uint64_t ms, char *buf, size_t size);

/* A holder as status, watch, top and metrics print it in JSON. */
json_object *ctl_holder_to_json(const struct ksalloc_holder *h);

/* A pool's extended status, its holders included, as top and metrics print it in JSON. */
json_object *ctl_pool_to_json(const struct ksalloc_pool_info *p,
			      const struct ksalloc_pool_stats *st);

/*
 * `ksallocctl metrics`: the daemon's, every visible pool's, every holder's and
 * every other session's numbers in the Prometheus text exposition format
 * (0.0.4), ending with "# EOF"; @json: the same numbers as one JSON object.
 */
int ctl_metrics(struct ksalloc_client *c, bool json);

/*
 * `ksallocctl advise`: for each visible pool, the frames its recorded peak
 * needed plus @margin_percent (0 to 1000), as a ksallocd.conf snippet with a
 * comment per pool; @json: an array of one object per pool.
 */
int ctl_advise(struct ksalloc_client *c, bool json, unsigned margin_percent);
