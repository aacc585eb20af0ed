/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What ksallocctl's commands print alike: ages, holders and pools as JSON. */
#include "tools/ksallocctl/util.h"

#include <stdio.h>

void ctl_format_age(uint64_t ms, char *buf, size_t size)
{
	if (ms < 1000)
		snprintf(buf, size, "%llu ms", (unsigned long long)ms);
	else if (ms < 120000)
		snprintf(buf, size, "%.1f s", (double)ms / 1000);
	else if (ms < 7200000)
		snprintf(buf, size, "%llu min", (unsigned long long)(ms / 60000));
	else
		snprintf(buf, size, "%llu h", (unsigned long long)(ms / 3600000));
}

json_object *ctl_holder_to_json(const struct ksalloc_holder *h)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "session_id", json_object_new_uint64(h->session_id));
	json_object_object_add(o, "pid", json_object_new_uint64(h->pid));
	json_object_object_add(o, "uid", json_object_new_uint64(h->uid));
	json_object_object_add(o, "name", json_object_new_string(h->name));
	json_object_object_add(o, "frames_held", json_object_new_uint64(h->frames_held));
	json_object_object_add(o, "oldest_hold_ms", json_object_new_uint64(h->oldest_hold_ms));
	return o;
}

void ctl_pool_counters_to_json(json_object *o, const struct ksalloc_pool_stats *st)
{
	json_object_object_add(o, "free_frames", json_object_new_uint64(st->free_frames));
	json_object_object_add(o, "peak_frames", json_object_new_uint64(st->peak_frames));
	json_object_object_add(o, "waiters", json_object_new_uint64(st->waiters));
	json_object_object_add(o, "acquisitions", json_object_new_uint64(st->acquisitions));
	json_object_object_add(o, "timeouts", json_object_new_uint64(st->timeouts));
	json_object_object_add(o, "reclaimed", json_object_new_uint64(st->reclaimed));
}

json_object *ctl_holders_to_json(const struct ksalloc_pool_stats *st)
{
	json_object *holders = json_object_new_array();

	for (size_t i = 0; i < st->n_holders; i++)
		json_object_array_add(holders, ctl_holder_to_json(&st->holders[i]));
	return holders;
}

json_object *ctl_pool_to_json(const struct ksalloc_pool_info *p,
			      const struct ksalloc_pool_stats *st)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(p->name));
	json_object_object_add(o, "backend", json_object_new_string(p->backend));
	json_object_object_add(o, "frames", json_object_new_uint64(st->status.framing.frames));
	json_object_object_add(o, "allocated_frames",
			       json_object_new_uint64(st->status.allocated_frames));
	ctl_pool_counters_to_json(o, st);
	json_object_object_add(o, "size_bytes", json_object_new_uint64(p->size_bytes));
	json_object_object_add(o, "sessions", json_object_new_uint64(st->sessions));
	json_object_object_add(o, "holders", ctl_holders_to_json(st));
	return o;
}
