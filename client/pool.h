/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A pool open through a client (struct ksalloc_pool) and its mappings (struct pool_view).
 * pool.c opens, creates, reshapes, commits and closes pools and maps what the daemon hands
 * out; frame.c acquires and releases frames in the current view without a lock.
 *
 * Locking: p->info and p's attachment are under the client's lock, as is every call that
 * makes a new view. The frame path reads p->view, p->gone and p->hint without a lock: a
 * view is made whole and published with one release store, and never changed after.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ksalloc/ksalloc.h>

#include "client/client.h"
#include "shm/frame.h"

/*
 * One mapping of a pool, as the daemon handed it out (open, create, reshape,
 * or reopen after a reconnect). A view never changes; a new one replaces it
 * and the old stays mapped until the pool is closed, because frames the
 * application still holds point into it. The pool owns its views, the
 * views own their mappings and fds.
 */
struct pool_view {
	struct pool_view *older;
	void *map;
	size_t map_size;
	struct frame_pool frames; /* computed from the layout we checked, never re-read */
	struct shm_slot *slot;    /* this session's slot in the pool */
	uint32_t session_id;
	uint32_t pool_id;
	uint32_t frame_size;
	uint32_t epoch; /* the client's epoch when the daemon handed it out: dead once it moves */
	/* A stale heartbeat over a live connection: no new look at the socket before this. */
	_Atomic uint64_t quiet_until_ms;
	/* Pools whose frames are dma-bufs (SHM_LAYOUT_DMABUF_FRAMES): frame i's fd. */
	int *dmabuf_fds;
	/* Frames that are only dma-bufs (SHM_LAYOUT_EXTERNAL_FRAMES): frame i's mapping. */
	void **frame_maps;
	/*
	 * The memfd that holds the frames, for ksalloc_pool_get_memfd(): read-only where the
	 * frames are mapped so; -1 for SHM_LAYOUT_EXTERNAL_FRAMES.
	 */
	int memfd;
};

struct ksalloc_pool {
	/* What the frame path reads, together at the start. */
	struct ksalloc_client *client;
	/* The frame path reads it without a lock: swapped whole, never changed in place. */
	_Atomic(struct pool_view *) view;
	_Atomic bool gone;     /* the daemon came back without this pool */
	_Atomic uint32_t hint; /* where the next acquire starts looking: the last frame freed */
	_Atomic bool flushing; /* ksalloc_pool_set_flushing(): acquires do not wait */

	struct client_attachment attachment; /* on the client's list: reopened after a reconnect */
	struct ksalloc_pool_info info;       /* under the client's lock */
};

/*
 * Checks a pool name that a caller passes (NULL, or what shm_name_problem() refuses), with
 * the reason in c->error. Called with the client's lock held; 0 or -EINVAL.
 */
int pool_check_name(struct ksalloc_client *c, const char *name);

/*
 * Maps the pool of @open (a reply that carried its memory, @fd, not taken)
 * as a new ksalloc_pool, its frames read-only if @read_only: for a stream's
 * consumer, whose open of the stream opened the pool. Called with the lock held.
 */
int pool_open_from_reply(struct ksalloc_client *c, const Ksalloc__OpenPoolReply *open, int fd,
			 bool read_only, struct ksalloc_pool **ret_pool);

/*
 * DMA_BUF_IOCTL_SYNC on frame @index of @v if its frames are dma-bufs (else
 * nothing): @when DMA_BUF_SYNC_START or _END, for @access (KSALLOC_ACCESS_*).
 */
int pool_view_sync(const struct pool_view *v, uint32_t index, uint64_t when, uint32_t access);
