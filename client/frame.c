/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The frame path: acquire and release in the pool's shared memory (shm/frame.h), with no
 * request to the daemon, no lock and no allocation; DMA_BUF_IOCTL_SYNC around the CPU's
 * access where frames are dma-bufs, and the session's quota kept here. Reads the pool's
 * current view as pool.h allows: one acquire load, never a lock.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include <linux/dma-buf.h>

#include <ksalloc/ksalloc.h>

#include "client/client.h"
#include "client/pool.h"
#include "shm/frame.h"
#include "shm/layout.h"

/* DMA_BUF_IOCTL_SYNC on frame @index of @v, if its frames are dma-bufs: @when START or END. */
static int view_sync(const struct pool_view *v, uint32_t index, uint64_t when, uint32_t access)
{
	struct dma_buf_sync sync = { .flags = when };

	if (!v->dmabuf_fds)
		return 0;
	if (access & KSALLOC_ACCESS_READ)
		sync.flags |= DMA_BUF_SYNC_READ;
	if (access & KSALLOC_ACCESS_WRITE)
		sync.flags |= DMA_BUF_SYNC_WRITE;
	/* Interrupted by a signal: the kernel asks for the call again. */
	while (ioctl(v->dmabuf_fds[index], DMA_BUF_IOCTL_SYNC, &sync) < 0)
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	return 0;
}

int ksalloc_pool_acquire_access(struct ksalloc_pool *p, uint32_t timeout_ms, uint32_t access,
				struct ksalloc_frame *ret_frame)
{
	struct pool_view *v = atomic_load_explicit(&p->view, memory_order_acquire);
	uint32_t hint = atomic_load_explicit(&p->hint, memory_order_relaxed), index, generation;
	struct ksalloc_client *c = p->client;
	int r;

	if (access == 0 || (access & ~KSALLOC_ACCESS_READ_WRITE))
		return -EINVAL;
	if (atomic_load_explicit(&p->gone, memory_order_relaxed))
		return -ESHUTDOWN;
	/*
	 * The session's quota, kept here rather than by the daemon on the fast path
	 * (the daemon closes a session that holds more: rpc_collect()). Booked before
	 * the acquire, so that threads racing for the last place cannot both pass.
	 */
	if (c->max_frames &&
	    atomic_fetch_add_explicit(&c->held, 1, memory_order_relaxed) >= c->max_frames) {
		atomic_fetch_sub_explicit(&c->held, 1, memory_order_relaxed);
		return -EDQUOT;
	}
	r = frame_acquire(&v->frames, v->session_id, v->slot, &hint, timeout_ms, &index,
			  &generation);
	if (r == 0) {
		r = view_sync(v, index, DMA_BUF_SYNC_START, access);
		if (r < 0)
			(void)frame_release(&v->frames, v->session_id, index, generation);
	}
	if (r < 0) {
		if (c->max_frames)
			atomic_fetch_sub_explicit(&c->held, 1, memory_order_relaxed);
		return r;
	}
	atomic_store_explicit(&p->hint, hint, memory_order_relaxed);
	*ret_frame = (struct ksalloc_frame){
		.data = v->frame_maps ? v->frame_maps[index] : frame_data(&v->frames, index),
		.size = v->frame_size,
		.index = index,
		.generation = generation,
		.pool_id = v->pool_id,
		.dmabuf_fd = v->dmabuf_fds ? v->dmabuf_fds[index] : -1,
		.access = access,
	};
	return 0;
}

int ksalloc_pool_acquire(struct ksalloc_pool *p, uint32_t timeout_ms,
			 struct ksalloc_frame *ret_frame)
{
	return ksalloc_pool_acquire_access(p, timeout_ms, KSALLOC_ACCESS_READ_WRITE, ret_frame);
}

int ksalloc_pool_release(struct ksalloc_pool *p, const struct ksalloc_frame *frame)
{
	struct pool_view *v = atomic_load_explicit(&p->view, memory_order_acquire);
	int r;

	if (frame->pool_id != v->pool_id) {
		/* Handed out before the daemon came back: that pool, and the frame, are gone. */
		for (const struct pool_view *o = v->older; o; o = o->older)
			if (o->pool_id == frame->pool_id)
				return -ESTALE;
		return -EINVAL;
	}
	/* The CPU's access ends while the frame is still ours: after the release it may not be. */
	if (v->dmabuf_fds && frame->index < v->frames.n_frames &&
	    atomic_load(&v->frames.frames[frame->index].owner) ==
		    shm_owner(v->session_id, frame->generation)) {
		/* A frame whose access was lost on the way (0) ends both directions. */
		r = view_sync(v, frame->index, DMA_BUF_SYNC_END,
			      frame->access & KSALLOC_ACCESS_READ_WRITE ?
				      frame->access & KSALLOC_ACCESS_READ_WRITE :
				      KSALLOC_ACCESS_READ_WRITE);
		if (r < 0)
			return r;
	}
	r = frame_release(&v->frames, v->session_id, frame->index, frame->generation);
	if (r < 0)
		return r;
	if (p->client->max_frames)
		atomic_fetch_sub_explicit(&p->client->held, 1, memory_order_relaxed);
	/* The frame just freed is warm in this CPU's cache: take it next. */
	atomic_store_explicit(&p->hint, frame->index, memory_order_relaxed);
	return 0;
}
