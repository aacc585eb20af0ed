/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Storage's objects as the wire's messages, and back: a framing, a pool's
 * row in ListPools and OpenPool, a pool's extended status with its holders,
 * a stream's row in ListStreams.
 * What they return lives in @arena; NULL means it ran out.
 */

#include "common/list.h"
#include "daemon/storage/storage.h"
#include "daemon/storage/stream.h"
#include "proto/arena.h"
#include "proto/protocol.h"

Ksalloc__Framing *framing_to_wire(struct arena *arena, const struct framing *f);

/* A client's framing; all zero when it sent none (framing_validate() refuses that). */
struct framing framing_from_wire(const Ksalloc__Framing *w);

Ksalloc__PoolInfo *pool_info_to_wire(struct arena *arena, const struct pool *p);

/*
 * The extended status of @p: its counters, and a row for each session that
 * holds frames, named from @sessions (struct session, linked by their link)
 * where the holder is still there, then one for each consumer of @p's
 * streams in @storage ("stream S consumer NAME": the frames it holds or has
 * queued).
 */
Ksalloc__GetStatusReply *extended_status_to_wire(struct arena *arena, const struct pool *p,
						 const struct storage *storage,
						 const struct list *sessions);

/* A stream as StreamInfo, its consumers' counters read from shared memory; @sessions name them. */
Ksalloc__StreamInfo *stream_info_to_wire(struct arena *arena, const struct stream *st,
					 const struct list *sessions);
