/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The wire's messages as the public structs, and back (convert.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ksalloc/ksalloc.h>

#include "client/convert.h"
#include "proto/protocol.h"

void status_from_wire(const Ksalloc__Framing *f, uint32_t allocated, struct ksalloc_status *st)
{
	*st = (struct ksalloc_status){ .allocated_frames = allocated };
	if (f)
		st->framing = (struct ksalloc_framing){
			.options_flags = f->options_flags,
			.pool_type = f->pool_type,
			.frames = f->frames,
			.frame_size = f->frame_size,
			.file_alignment = f->file_alignment,
		};
}

void holder_from_wire(const Ksalloc__Holder *h, struct ksalloc_holder *o)
{
	*o = (struct ksalloc_holder){
		.session_id = h->session_id,
		.pid = h->pid,
		.uid = h->uid,
		.frames_held = h->frames_held,
		.oldest_hold_ms = h->oldest_hold_ms,
	};
	snprintf(o->name, sizeof(o->name), "%s", h->name);
}

void info_from_wire(const Ksalloc__PoolInfo *w, struct ksalloc_pool_info *info)
{
	memset(info, 0, sizeof(*info));
	snprintf(info->name, sizeof(info->name), "%s", w->name);
	snprintf(info->backend, sizeof(info->backend), "%s", w->backend);
	info->pool_id = w->pool_id;
	info->size_bytes = w->size_bytes;
	info->committed = w->committed;
	info->persistent = w->persistent;
	info->owner = w->owner;
	info->group = w->group;
	info->mode = w->mode;
	info->locked = w->locked;
	status_from_wire(w->framing, w->allocated_frames, &info->status);
}

int stats_from_wire(const Ksalloc__GetStatusReply *w, struct ksalloc_pool_stats *ret_stats)
{
	struct ksalloc_pool_stats st = { 0 };

	status_from_wire(w->framing, w->allocated_frames, &st.status);
	st.free_frames = w->free_frames;
	st.peak_frames = w->peak_frames;
	st.waiters = w->waiters;
	st.sessions = w->sessions;
	st.acquisitions = w->acquisitions;
	st.timeouts = w->timeouts;
	st.reclaimed = w->reclaimed;
	st.last_reclaim_ns = w->last_reclaim_ns;
	st.last_reclaim_frames = w->last_reclaim_frames;
	st.committed = w->committed;
	snprintf(st.backend, sizeof(st.backend), "%s", w->backend);
	if (w->n_holders && !(st.holders = calloc(w->n_holders, sizeof(*st.holders))))
		return -ENOMEM;
	for (size_t i = 0; i < w->n_holders; i++)
		holder_from_wire(w->holders[i], &st.holders[st.n_holders++]);
	*ret_stats = st;
	return 0;
}

void framing_to_wire(const struct ksalloc_framing *f, Ksalloc__Framing *w)
{
	ksalloc__framing__init(w);
	w->options_flags = f->options_flags;
	w->pool_type = f->pool_type;
	w->frames = f->frames;
	w->frame_size = f->frame_size;
	w->file_alignment = f->file_alignment;
}
