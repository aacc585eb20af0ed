/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The IMemAllocator side of the allocator object (object.h), for ks-allocator.c, which makes
 * the object, and its samples, for ks-stream.c, which hands received frames out as samples.
 */

#include "client/ks/object.h"

/*
 * Sets up the IMemAllocator side of @a once its pool is open: the interface's table, and its
 * state read from the pool's info (the properties its framing gives, committed as the pool
 * is). Cannot fail, and leaves nothing to undo: the SetNotify reference that the interface
 * may hold later is dropped by the object's last unref (object.c).
 */
void ks_mem_allocator_init(struct ks_allocator *a);

/* A sample of ks-memallocator.c, the one IMediaSample of the shim. */
struct ks_sample;

/*
 * A sample not yet handed out, allocated before the frame it is to carry, so that running out
 * of memory never strands a frame. NULL when out of memory.
 */
struct ks_sample *ks_sample_new(void);

/* Frees @s, which was never handed out (accepts NULL). */
void ks_sample_free(struct ks_sample *s);

/*
 * Makes @s the sample of @frame, received by consumer @a with @meta, and returns it with one
 * reference; it holds one of @a. Its properties are @meta's, mapped as ksproxy maps a read
 * completion (see KsStreamReceiveSample() in <ksalloc/ksproxy.h>), its pointer and size the
 * frame's. Its last Release gives the frame back (ks_allocator_release()).
 */
IMediaSample *ks_sample_received(struct ks_sample *s, struct ks_allocator *a,
				 const struct ksalloc_frame *frame,
				 const struct ksalloc_frame_meta *meta);
