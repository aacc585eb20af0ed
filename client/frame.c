/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The frame path: acquire and release in the pool's shared memory (shm/frame.h), with no
 * request to the daemon, no lock and no allocation; DMA_BUF_IOCTL_SYNC around the CPU's
 * access where frames are dma-bufs, and the session's quota kept here. Reads the pool's
 * current view as pool.h allows: one acquire load, never a lock.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include <linux/dma-buf.h>

#include <ksalloc/ksalloc.h>

#include "client/client.h"
#include "client/pool.h"
#include "shm/frame.h"
#include "shm/layout.h"
#include "shm/liveness.h"

int pool_view_sync(const struct pool_view *v, uint32_t index, uint64_t when, uint32_t access)
{
	struct dma_buf_sync sync = { .flags = when };

	/* A device's access is between it and the exporter: the CPU's caches are not involved. */
	if (!v->dmabuf_fds || access == KSALLOC_ACCESS_DEVICE)
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

/*
 * Whether the daemon that handed out @v still serves it, asked when the fast check failed
 * (a stale heartbeat, or the client's epoch moved on). Returns 0 (serving: go on), 1 (the
 * pool has a newer view: try that), or -ESHUTDOWN (gone). With @reconnect, a lost
 * connection is tried again (client_check_alive()), which reopens the pool when it works.
 */
static int view_check(struct ksalloc_pool *p, struct pool_view *v, bool reconnect)
{
	struct ksalloc_client *c = p->client;
	uint64_t now;
	int r;

	if (atomic_load_explicit(&p->view, memory_order_acquire) != v)
		return reconnect ? 1 : -ESHUTDOWN;
	if (v->epoch == atomic_load(&c->epoch)) {
		now = shm_now_coarse_ms();
		/*
		 * A stale heartbeat over a connection found standing: the daemon is busy,
		 * or restarting with its connections kept. Go on, and look again no sooner
		 * than a heartbeat later, so a busy daemon costs a poll a period, no more.
		 */
		if (shm_heartbeat_fresh_at(v->frames.shared, now) ||
		    now < atomic_load_explicit(&v->quiet_until_ms, memory_order_relaxed))
			return 0;
		atomic_store_explicit(&v->quiet_until_ms, now + SHM_HEARTBEAT_MS,
				      memory_order_relaxed);
	}
	r = client_check_alive(c, reconnect);
	if (r > 0 || atomic_load_explicit(&p->view, memory_order_acquire) != v)
		return reconnect ? 1 : -ESHUTDOWN;
	return v->epoch == atomic_load(&c->epoch) ? 0 : -ESHUTDOWN;
}

/* What a waiter of frame_acquire_checked() asks between slices. */
struct waiter {
	struct ksalloc_pool *pool;
	struct pool_view *view;
};

static int waiter_check(void *userdata)
{
	struct waiter *w = userdata;

	/* Never reconnects: the wait belongs to this view, and ends with it. */
	return view_check(w->pool, w->view, false) < 0 ? -ESHUTDOWN : 0;
}

/*
 * The fast check, on every acquire and release: the view is of the current connection and
 * the daemon beat recently. Inline in shm/liveness.h, the same code bench-frames measures.
 */
static inline bool view_fresh(const struct ksalloc_client *c, const struct pool_view *v,
			      uint64_t now_ms)
{
	return shm_liveness_fresh_at(v->frames.shared, &c->epoch, v->epoch, now_ms);
}

int ksalloc_pool_acquire_access(struct ksalloc_pool *p, uint32_t timeout_ms, uint32_t access,
				struct ksalloc_frame *ret_frame)
{
	struct ksalloc_client *c = p->client;
	uint32_t hint, index, generation;
	struct pool_view *v;
	int r;

	if (access != KSALLOC_ACCESS_DEVICE &&
	    (access == 0 || (access & ~KSALLOC_ACCESS_READ_WRITE)))
		return -EINVAL;
	/*
	 * At most twice: a second time only in a view that a reconnect made just now
	 * (view_check() or a destroyed pool found the daemon gone and back).
	 */
	for (int attempt = 0;; attempt++) {
		struct waiter w = { .pool = p };
		struct frame_liveness live = {
			.check = waiter_check,
			.userdata = &w,
			.slice_ms = SHM_HEARTBEAT_MS,
			.cancel = &p->flushing,
		};

		v = atomic_load_explicit(&p->view, memory_order_acquire);
		w.view = v;
		if (atomic_load_explicit(&p->gone, memory_order_relaxed))
			return -ESHUTDOWN;
		/* One clock read for the check and the frame's acquired_ms (live.now_ms). */
		live.now_ms = shm_now_coarse_ms();
		if (__builtin_expect(!view_fresh(c, v, live.now_ms), 0)) {
			r = view_check(p, v, attempt == 0);
			if (r < 0)
				return r;
			if (r > 0) {
				if (attempt > 0)
					return -ESHUTDOWN;
				continue;
			}
		}
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
		hint = atomic_load_explicit(&p->hint, memory_order_relaxed);
		r = frame_acquire_checked(&v->frames, v->session_id, v->slot, &hint, timeout_ms,
					  &live, &index, &generation);
		if (r == 0) {
			r = pool_view_sync(v, index, DMA_BUF_SYNC_START, access);
			if (r < 0)
				(void)frame_release(&v->frames, v->session_id, index, generation);
		}
		if (r < 0 && c->max_frames)
			atomic_fetch_sub_explicit(&c->held, 1, memory_order_relaxed);
		/*
		 * A pool destroyed under us: after a graceful stop, the daemon may be back
		 * already. Asked once, at once (no heartbeat to wait for): the connection,
		 * and a reconnect if it is lost, which reopens the pool.
		 */
		if (r == -ESHUTDOWN && attempt == 0 &&
		    atomic_load(&v->frames.shared->state) == SHM_STATE_DESTROYED &&
		    client_check_alive(c, true) > 0)
			continue;
		if (r < 0)
			return r;
		break;
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

int ksalloc_pool_set_flushing(struct ksalloc_pool *p, bool flushing)
{
	atomic_store(&p->flushing, flushing);
	/* Our own session's word: no other process's waiter wakes. */
	if (flushing)
		frame_wake_slot(atomic_load_explicit(&p->view, memory_order_acquire)->slot);
	return 0;
}

/* The view that handed out @frame: the current one, or an older one its frames still live in. */
static const struct pool_view *frame_view(const struct ksalloc_pool *p,
					  const struct ksalloc_frame *frame)
{
	for (const struct pool_view *v = atomic_load_explicit(&p->view, memory_order_acquire); v;
	     v = v->older)
		if (v->pool_id == frame->pool_id)
			return v;
	return NULL;
}

int ksalloc_pool_get_memfd(struct ksalloc_pool *p, const struct ksalloc_frame *frame, int *ret_fd,
			   uint64_t *ret_offset)
{
	const struct pool_view *v = frame_view(p, frame);

	if (!v || frame->index >= v->frames.n_frames)
		return -EINVAL;
	if (v->memfd < 0)
		return -ENODEV;
	*ret_fd = v->memfd;
	*ret_offset = (uint64_t)((const uint8_t *)frame_data(&v->frames, frame->index) -
				 (const uint8_t *)v->map);
	return 0;
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
	/*
	 * The daemon that handed it out is gone (the connection was found lost), or
	 * retired the pool when it stopped and left the frame to us: valid memory that
	 * nobody serves any more, so nothing to give back.
	 */
	if (__builtin_expect(!view_fresh(p->client, v, shm_now_coarse_ms()), 0) &&
	    view_check(p, v, false) < 0)
		return -ESTALE;
	if (atomic_load_explicit(&v->frames.shared->state, memory_order_relaxed) ==
	    SHM_STATE_DESTROYED)
		return -ESTALE;
	/* The CPU's access ends while the frame is still ours: after the release it may not be. */
	if (v->dmabuf_fds && frame->index < v->frames.n_frames &&
	    atomic_load(&v->frames.frames[frame->index].owner) ==
		    shm_owner(v->session_id, frame->generation)) {
		uint32_t access = frame->access;

		/* A frame whose access was lost on the way (0) ends both directions. */
		if (access != KSALLOC_ACCESS_DEVICE && !(access & KSALLOC_ACCESS_READ_WRITE))
			access = KSALLOC_ACCESS_READ_WRITE;
		r = pool_view_sync(v, frame->index, DMA_BUF_SYNC_END, access);
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
