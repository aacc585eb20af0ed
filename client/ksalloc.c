/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The native client over its connection (client.c): pools, frames, control
 * queries and subscriptions.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include <ksalloc/ksalloc.h>

#include "client/client.h"
#include "client/convert.h"
#include "common/macro.h"
#include "proto/arena.h"
#include "proto/wire.h"
#include "shm/frame.h"
#include "shm/framing.h"
#include "shm/layout.h"

_Static_assert(KSALLOC_FRAME_ALIGNMENT_MAX == FRAMING_ALIGNMENT_MAX, "one page, both sides");

/*
 * One mapping of a pool, as the daemon handed it out (open, create, reshape,
 * or reopen after a reconnect). A view never changes; a new one replaces it
 * and the old stays mapped until the pool is closed, because frames the
 * application still holds point into it.
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
	/* Pools whose frames are dma-bufs (SHM_LAYOUT_DMABUF_FRAMES): frame i's fd. */
	int *dmabuf_fds;
	/* Frames that are only dma-bufs (SHM_LAYOUT_EXTERNAL_FRAMES): frame i's mapping. */
	void **frame_maps;
};

struct ksalloc_pool {
	struct ksalloc_client *client;
	struct client_attachment attachment; /* on the client's list: reopened after a reconnect */
	struct ksalloc_pool_info info;    /* under the client's lock */
	/* The frame path reads it without a lock: swapped whole, never changed in place. */
	_Atomic(struct pool_view *) view;
	_Atomic bool gone; /* the daemon came back without this pool */
	_Atomic uint32_t hint; /* where the next acquire starts looking: the last frame freed */
};

int ksalloc_client_list_pools(struct ksalloc_client *c, struct ksalloc_pool_info **ret_pools,
			      size_t *ret_n_pools)
{
	struct ksalloc_pool_info *pools = NULL;
	size_t n = 0, total = 0;
	int r = 0;

	pthread_mutex_lock(&c->lock);
	do {
		Ksalloc__Request req = KSALLOC__REQUEST__INIT;
		Ksalloc__ListPoolsRequest list = KSALLOC__LIST_POOLS_REQUEST__INIT;
		Ksalloc__ListPoolsReply *page;
		Ksalloc__Reply *reply;
		struct ksalloc_pool_info *grown;

		list.offset = (uint32_t)n;
		req.body_case = KSALLOC__REQUEST__BODY_LIST_POOLS;
		req.list_pools = &list;
		r = client_call(c, &req, KSALLOC__REPLY__BODY_LIST_POOLS, &reply, NULL);
		if (r < 0)
			break;
		page = reply->list_pools;
		/* Pools come and go between pages: stop at an empty page. */
		total = page->total;
		if (page->n_pools == 0)
			break;
		grown = reallocarray(pools, n + page->n_pools, sizeof(*pools));
		if (!grown) {
			client_set_error(c, "out of memory");
			r = -ENOMEM;
			break;
		}
		pools = grown;
		for (size_t i = 0; i < page->n_pools; i++)
			info_from_wire(page->pools[i], &pools[n++]);
	} while (n < total);
	pthread_mutex_unlock(&c->lock);

	if (r < 0) {
		free(pools);
		return r;
	}
	*ret_pools = pools;
	*ret_n_pools = n;
	return 0;
}

static int check_name(struct ksalloc_client *c, const char *name)
{
	const char *problem;

	if (!name) {
		client_set_error(c, "pool name is NULL");
		return -EINVAL;
	}
	problem = shm_name_problem(name);
	if (problem) {
		client_set_error(c, "invalid pool name: %s", problem);
		return -EINVAL;
	}
	return 0;
}

int ksalloc_client_pool_status(struct ksalloc_client *c, const char *name,
			       struct ksalloc_status *ret_status)
{
	int r;

	pthread_mutex_lock(&c->lock);
	r = check_name(c, name);
	if (r == 0)
		r = client_call_status(c, 0, name, ret_status);
	pthread_mutex_unlock(&c->lock);
	return r;
}

static struct pool_view *view_free(struct pool_view *v)
{
	uint32_t n = v->frames.n_frames;

	for (uint32_t i = 0; v->frame_maps && i < n; i++)
		if (v->frame_maps[i] && v->frame_maps[i] != MAP_FAILED)
			munmap(v->frame_maps[i], v->frames.frame_stride);
	for (uint32_t i = 0; v->dmabuf_fds && i < n; i++)
		if (v->dmabuf_fds[i] >= 0)
			close(v->dmabuf_fds[i]);
	free(v->frame_maps);
	free(v->dmabuf_fds);
	if (v->map)
		munmap(v->map, v->map_size);
	free(v);
	return NULL;
}

/*
 * Receives the dma-buf of every frame of pool @pool_id into v->dmabuf_fds,
 * in pages of at most WIRE_MAX_FDS fds, and maps them where the frames live
 * nowhere else. Each must be a whole frame_stride long.
 */
static int view_get_frames(struct ksalloc_client *c, struct pool_view *v, const char *name,
			   bool external)
{
	uint32_t n = v->frames.n_frames, got = 0;

	v->dmabuf_fds = malloc(n * sizeof(*v->dmabuf_fds));
	v->frame_maps = external ? calloc(n, sizeof(*v->frame_maps)) : NULL;
	if (!v->dmabuf_fds || (external && !v->frame_maps)) {
		client_set_error(c, "out of memory");
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++)
		v->dmabuf_fds[i] = -1;
	while (got < n) {
		Ksalloc__Request req = KSALLOC__REQUEST__INIT;
		Ksalloc__GetFrameFdsRequest get = KSALLOC__GET_FRAME_FDS_REQUEST__INIT;
		size_t max = n - got < WIRE_MAX_FDS ? n - got : WIRE_MAX_FDS, n_fds;
		Ksalloc__Reply *reply;
		int r;

		get.pool_id = v->pool_id;
		get.offset = got;
		req.body_case = KSALLOC__REQUEST__BODY_GET_FRAME_FDS;
		req.get_frame_fds = &get;
		r = client_exchange_fds(c, &req, KSALLOC__REPLY__BODY_GET_FRAME_FDS, &reply,
					v->dmabuf_fds + got, max, &n_fds);
		if (r < 0)
			return r;
		if (n_fds == 0 || reply->get_frame_fds->offset != got ||
		    reply->get_frame_fds->count != n_fds) {
			client_set_error(c, "pool %s: ksallocd sent %zu frame fds where it announced %u",
					 name, n_fds, reply->get_frame_fds->count);
			return -EBADMSG;
		}
		got += (uint32_t)n_fds;
	}
	for (uint32_t i = 0; i < n; i++) {
		off_t size = lseek(v->dmabuf_fds[i], 0, SEEK_END);

		if (size < 0 || (uint64_t)size < v->frames.frame_stride) {
			client_set_error(c, "pool %s: the dma-buf of frame %u is not a frame long",
					 name, i);
			return -EBADMSG;
		}
		if (!external)
			continue;
		v->frame_maps[i] = mmap(NULL, v->frames.frame_stride, PROT_READ | PROT_WRITE,
					MAP_SHARED, v->dmabuf_fds[i], 0);
		if (v->frame_maps[i] == MAP_FAILED) {
			int r = -errno;

			client_set_error(c, "pool %s: cannot map the dma-buf of frame %u: %s", name,
					 i, strerror(-r));
			return r;
		}
	}
	return 0;
}

/*
 * Maps the pool memory @fd (not taken) that the daemon sent in @open, after
 * checking that it cannot shrink under us and that its control block is
 * sane, and makes it @p's view; an older view stays mapped (see pool_view).
 * Frames that are dma-bufs come with further requests, which end @open's life.
 */
static int pool_map(struct ksalloc_client *c, int fd, const Ksalloc__OpenPoolReply *open,
		    struct ksalloc_pool *p)
{
	struct ksalloc_pool_info info;
	const struct shm_header *h;
	const char *reason = NULL;
	struct shm_layout layout;
	struct pool_view *view;
	struct stat st;
	uint32_t slot;
	void *map;
	int seals, r;

	if (!open->pool || fd < 0) {
		client_set_error(c, "ksallocd sent no pool memory");
		return -EBADMSG;
	}
	info_from_wire(open->pool, &info);
	slot = open->slot;
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != info.size_bytes) {
		client_set_error(c, "pool %s: its memory is not the size the daemon announced",
				 info.name);
		return -EBADMSG;
	}
	/* Unsealed memory could be shrunk by someone else: a SIGBUS waiting to happen. */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) != (F_SEAL_SHRINK | F_SEAL_GROW)) {
		client_set_error(c, "pool %s: its memory is not sealed against resizing", info.name);
		return -EBADMSG;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		r = -errno;
		client_set_error(c, "pool %s: cannot map its memory: %s", info.name, strerror(-r));
		return r;
	}
	h = map;
	if (shm_header_check(map, (size_t)st.st_size, &layout, &reason) < 0 ||
	    h->pool_id != info.pool_id || strcmp(h->name, info.name) != 0 ||
	    h->frames != info.status.framing.frames || slot >= layout.n_slots) {
		client_set_error(c, "pool %s: its memory is not a valid pool: %s", info.name,
				 reason ? reason :
					  "its control block does not match the daemon's reply");
		munmap(map, (size_t)st.st_size);
		return -EBADMSG;
	}

	view = calloc(1, sizeof(*view));
	if (!view) {
		munmap(map, (size_t)st.st_size);
		client_set_error(c, "out of memory");
		return -ENOMEM;
	}
	view->map = map;
	view->map_size = (size_t)st.st_size;
	frame_pool_init(&view->frames, map, &layout, info.status.framing.frames);
	view->slot = &view->frames.slots[slot];
	view->session_id = c->session_id;
	view->pool_id = info.pool_id;
	view->frame_size = info.status.framing.frame_size;
	if (layout.flags & SHM_LAYOUT_DMABUF_FRAMES) {
		r = view_get_frames(c, view, info.name, layout.flags & SHM_LAYOUT_EXTERNAL_FRAMES);
		if (r < 0) {
			view_free(view);
			return r;
		}
	}
	view->older = atomic_load(&p->view);

	p->info = info;
	/* Sessions start looking at different frames, so they do not collide on the first. */
	atomic_store_explicit(&p->hint, slot % layout.n_slots % info.status.framing.frames,
			      memory_order_relaxed);
	atomic_store_explicit(&p->view, view, memory_order_release);
	atomic_store(&p->gone, false);
	return 0;
}

/* Maps the pool of an open, create or reshape reply into @p; closes @fd. */
static int pool_map_reply(struct ksalloc_client *c, const Ksalloc__Reply *reply,
			  Ksalloc__Reply__BodyCase expect, int fd, struct ksalloc_pool *p)
{
	const Ksalloc__OpenPoolReply *open = expect == KSALLOC__REPLY__BODY_OPEN_POOL ?
						     reply->open_pool :
					     expect == KSALLOC__REPLY__BODY_CREATE_POOL ?
						     reply->create_pool :
						     reply->reshape_pool;
	int r = pool_map(c, fd, open, p);

	/* The mapping keeps the memory alive; the fd is no longer needed. */
	if (fd >= 0)
		close(fd);
	return r;
}

/* Sends @req (an open, create or reshape) on the connection and maps what it gives into @p. */
static int pool_exchange(struct ksalloc_client *c, Ksalloc__Request *req,
			 Ksalloc__Reply__BodyCase expect, struct ksalloc_pool *p)
{
	Ksalloc__Reply *reply;
	int fd = -1, r;

	r = client_exchange(c, req, expect, &reply, &fd);
	return r < 0 ? r : pool_map_reply(c, reply, expect, fd, p);
}

/*
 * After a reconnect (the client's reattach callback): opens the pool again, by name, in
 * the new session. A pool the daemon no longer has is marked gone; its acquires fail with
 * -ESHUTDOWN and its status with -ENOENT.
 */
static int pool_reattach(struct ksalloc_client *c, struct client_attachment *a)
{
	struct ksalloc_pool *p = container_of(a, struct ksalloc_pool, attachment);
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__OpenPoolRequest open = KSALLOC__OPEN_POOL_REQUEST__INIT;
	int r;

	open.name = p->info.name;
	req.body_case = KSALLOC__REQUEST__BODY_OPEN_POOL;
	req.open_pool = &open;
	r = pool_exchange(c, &req, KSALLOC__REPLY__BODY_OPEN_POOL, p);
	if (r == -ENOENT || r == -EACCES)
		atomic_store(&p->gone, true);
	else if (r < 0)
		return r;
	return 0;
}

/* As pool_exchange(), reconnecting first if the daemon went away (client_call()). */
static int pool_call(struct ksalloc_client *c, Ksalloc__Request *req,
		     Ksalloc__Reply__BodyCase expect, struct ksalloc_pool *p)
{
	Ksalloc__Reply *reply;
	int fd = -1, r;

	r = client_call(c, req, expect, &reply, &fd);
	return r < 0 ? r : pool_map_reply(c, reply, expect, fd, p);
}

static int pool_open_with(struct ksalloc_client *c, Ksalloc__Request *req,
			  Ksalloc__Reply__BodyCase expect, struct ksalloc_pool **ret_pool)
{
	struct ksalloc_pool *p = calloc(1, sizeof(*p));
	int r;

	if (!p) {
		client_set_error(c, "out of memory");
		return -ENOMEM;
	}
	p->client = c;
	r = pool_call(c, req, expect, p);
	if (r < 0) {
		free(p);
		return r;
	}
	p->attachment.reattach = pool_reattach;
	client_attach(c, &p->attachment);
	*ret_pool = p;
	return 0;
}

int ksalloc_pool_open(struct ksalloc_client *c, const char *name, struct ksalloc_pool **ret_pool)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__OpenPoolRequest open = KSALLOC__OPEN_POOL_REQUEST__INIT;
	int r;

	pthread_mutex_lock(&c->lock);
	r = check_name(c, name);
	if (r == 0) {
		open.name = (char *)name;
		req.body_case = KSALLOC__REQUEST__BODY_OPEN_POOL;
		req.open_pool = &open;
		r = pool_open_with(c, &req, KSALLOC__REPLY__BODY_OPEN_POOL, ret_pool);
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}

int ksalloc_pool_create_with(struct ksalloc_client *c, const char *name,
			     const struct ksalloc_framing *framing,
			     const struct ksalloc_pool_options *opts, struct ksalloc_pool **ret_pool)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__CreatePoolRequest create = KSALLOC__CREATE_POOL_REQUEST__INIT;
	Ksalloc__Framing f;
	int r;

	pthread_mutex_lock(&c->lock);
	r = check_name(c, name);
	if (r == 0 && !framing) {
		client_set_error(c, "framing is NULL");
		r = -EINVAL;
	} else if (r == 0 && opts && opts->backend &&
		   strlen(opts->backend) >= KSALLOC_BACKEND_NAME_MAX) {
		client_set_error(c, "backend name is longer than %d bytes",
				 KSALLOC_BACKEND_NAME_MAX - 1);
		r = -EINVAL;
	}
	if (r == 0) {
		framing_to_wire(framing, &f);
		create.name = (char *)name;
		create.framing = &f;
		if (opts && opts->backend)
			create.backend = (char *)opts->backend;
		create.locked = opts && opts->locked;
		req.body_case = KSALLOC__REQUEST__BODY_CREATE_POOL;
		req.create_pool = &create;
		r = pool_open_with(c, &req, KSALLOC__REPLY__BODY_CREATE_POOL, ret_pool);
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}

int ksalloc_pool_create(struct ksalloc_client *c, const char *name,
			const struct ksalloc_framing *framing, struct ksalloc_pool **ret_pool)
{
	return ksalloc_pool_create_with(c, name, framing, NULL, ret_pool);
}

int ksalloc_pool_reshape(struct ksalloc_pool *p, const struct ksalloc_framing *framing)
{
	struct ksalloc_client *c = p->client;
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__ReshapePoolRequest reshape = KSALLOC__RESHAPE_POOL_REQUEST__INIT;
	Ksalloc__Framing f;
	int r;

	pthread_mutex_lock(&c->lock);
	r = client_ensure(c);
	if (r < 0) {
		pthread_mutex_unlock(&c->lock);
		return r;
	}
	framing_to_wire(framing, &f);
	reshape.pool_id = p->info.pool_id;
	reshape.framing = &f;
	req.body_case = KSALLOC__REQUEST__BODY_RESHAPE_POOL;
	req.reshape_pool = &reshape;
	r = pool_call(c, &req, KSALLOC__REPLY__BODY_RESHAPE_POOL, p);
	pthread_mutex_unlock(&c->lock);
	return r;
}

int ksalloc_pool_set_committed(struct ksalloc_pool *p, bool committed)
{
	struct ksalloc_client *c = p->client;
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__SetCommittedRequest set = KSALLOC__SET_COMMITTED_REQUEST__INIT;
	Ksalloc__Reply *reply;
	int r;

	pthread_mutex_lock(&c->lock);
	r = client_ensure(c);
	if (r < 0)
		goto out;
	set.pool_id = p->info.pool_id;
	set.committed = committed;
	req.body_case = KSALLOC__REQUEST__BODY_SET_COMMITTED;
	req.set_committed = &set;
	r = client_call(c, &req, KSALLOC__REPLY__BODY_SET_COMMITTED, &reply, NULL);
	if (r == 0)
		p->info.committed = committed;
out:
	pthread_mutex_unlock(&c->lock);
	return r;
}

struct ksalloc_pool *ksalloc_pool_close(struct ksalloc_pool *p)
{
	struct ksalloc_client *c;
	struct pool_view *v;

	if (!p)
		return NULL;
	c = p->client;
	pthread_mutex_lock(&c->lock);
	client_detach(&p->attachment);
	pthread_mutex_unlock(&c->lock);
	for (v = atomic_load(&p->view); v;) {
		struct pool_view *older = v->older;

		view_free(v);
		v = older;
	}
	free(p);
	return NULL;
}

const struct ksalloc_pool_info *ksalloc_pool_get_info(const struct ksalloc_pool *p)
{
	return &p->info;
}

struct ksalloc_client *ksalloc_pool_get_client(const struct ksalloc_pool *p)
{
	return p->client;
}

int ksalloc_pool_status(struct ksalloc_pool *p, struct ksalloc_status *ret_status)
{
	struct ksalloc_client *c = p->client;
	int r;

	pthread_mutex_lock(&c->lock);
	r = client_ensure(c);
	if (r == 0)
		r = client_call_status(c, p->info.pool_id, NULL, ret_status);
	pthread_mutex_unlock(&c->lock);
	return r;
}

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

int ksalloc_pool_acquire(struct ksalloc_pool *p, uint32_t timeout_ms, struct ksalloc_frame *ret_frame)
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

int ksalloc_client_pool_stats(struct ksalloc_client *c, const char *name,
			      struct ksalloc_pool_stats *ret_stats)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__GetStatusRequest get = KSALLOC__GET_STATUS_REQUEST__INIT;
	Ksalloc__Reply *reply;
	int r;

	pthread_mutex_lock(&c->lock);
	r = check_name(c, name);
	if (r < 0)
		goto out;
	get.name = (char *)name;
	get.extended = true;
	req.body_case = KSALLOC__REQUEST__BODY_GET_STATUS;
	req.get_status = &get;
	r = client_call(c, &req, KSALLOC__REPLY__BODY_GET_STATUS, &reply, NULL);
	if (r < 0)
		goto out;
	r = stats_from_wire(reply->get_status, ret_stats);
	if (r < 0)
		client_set_error(c, "out of memory");
out:
	pthread_mutex_unlock(&c->lock);
	return r;
}

int ksalloc_client_destroy_pool(struct ksalloc_client *c, const char *name)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__DestroyPoolRequest destroy = KSALLOC__DESTROY_POOL_REQUEST__INIT;
	Ksalloc__Reply *reply;
	int r;

	pthread_mutex_lock(&c->lock);
	r = check_name(c, name);
	if (r == 0) {
		destroy.name = (char *)name;
		req.body_case = KSALLOC__REQUEST__BODY_DESTROY_POOL;
		req.destroy_pool = &destroy;
		r = client_call(c, &req, KSALLOC__REPLY__BODY_DESTROY_POOL, &reply, NULL);
		if (r == 0)
			r = reply->destroy_pool->destroyed ? 1 : 0;
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}

int ksalloc_client_list_sessions(struct ksalloc_client *c, struct ksalloc_session_info **ret_sessions,
				 size_t *ret_n_sessions)
{
	struct ksalloc_session_info *sessions = NULL;
	size_t n = 0, total = 0;
	int r = 0;

	pthread_mutex_lock(&c->lock);
	do {
		Ksalloc__Request req = KSALLOC__REQUEST__INIT;
		Ksalloc__ListSessionsRequest list = KSALLOC__LIST_SESSIONS_REQUEST__INIT;
		Ksalloc__ListSessionsReply *page;
		struct ksalloc_session_info *grown;
		Ksalloc__Reply *reply;

		list.offset = (uint32_t)n;
		req.body_case = KSALLOC__REQUEST__BODY_LIST_SESSIONS;
		req.list_sessions = &list;
		r = client_call(c, &req, KSALLOC__REPLY__BODY_LIST_SESSIONS, &reply, NULL);
		if (r < 0)
			break;
		page = reply->list_sessions;
		total = page->total;
		/* Sessions come and go between pages: stop at an empty page. */
		if (page->n_sessions == 0)
			break;
		grown = reallocarray(sessions, n + page->n_sessions, sizeof(*sessions));
		if (!grown) {
			client_set_error(c, "out of memory");
			r = -ENOMEM;
			break;
		}
		sessions = grown;
		for (size_t i = 0; i < page->n_sessions; i++) {
			const Ksalloc__SessionInfo *w = page->sessions[i];
			struct ksalloc_session_info *o = &sessions[n++];

			*o = (struct ksalloc_session_info){
				.session_id = w->session_id,
				.pid = w->pid,
				.uid = w->uid,
				.gid = w->gid,
				.pools_open = w->pools_open,
				.frames_held = w->frames_held,
				.connected_ms = w->connected_ms,
			};
			snprintf(o->name, sizeof(o->name), "%s", w->name);
		}
	} while (n < total);
	pthread_mutex_unlock(&c->lock);

	if (r < 0) {
		free(sessions);
		return r;
	}
	*ret_sessions = sessions;
	*ret_n_sessions = n;
	return 0;
}

int ksalloc_client_list_backends(struct ksalloc_client *c, struct ksalloc_backend_info **ret_backends,
				 size_t *ret_n_backends)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__ListBackendsRequest list = KSALLOC__LIST_BACKENDS_REQUEST__INIT;
	struct ksalloc_backend_info *backends = NULL;
	const Ksalloc__ListBackendsReply *w;
	Ksalloc__Reply *reply;
	int r;

	pthread_mutex_lock(&c->lock);
	req.body_case = KSALLOC__REQUEST__BODY_LIST_BACKENDS;
	req.list_backends = &list;
	r = client_call(c, &req, KSALLOC__REPLY__BODY_LIST_BACKENDS, &reply, NULL);
	if (r < 0)
		goto out;
	w = reply->list_backends;
	if (w->n_backends && !(backends = calloc(w->n_backends, sizeof(*backends)))) {
		client_set_error(c, "out of memory");
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < w->n_backends; i++) {
		const Ksalloc__BackendInfo *b = w->backends[i];

		snprintf(backends[i].name, sizeof(backends[i].name), "%s", b->name);
		snprintf(backends[i].description, sizeof(backends[i].description), "%s",
			 b->description);
		snprintf(backends[i].reason, sizeof(backends[i].reason), "%s", b->reason);
		backends[i].available = b->available;
		backends[i].dmabuf_frames = b->dmabuf_frames;
	}
	*ret_backends = backends;
	*ret_n_backends = w->n_backends;
out:
	pthread_mutex_unlock(&c->lock);
	return r;
}

int ksalloc_client_daemon_stats(struct ksalloc_client *c, struct ksalloc_daemon_stats *ret_stats)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__GetDaemonStatsRequest get = KSALLOC__GET_DAEMON_STATS_REQUEST__INIT;
	struct ksalloc_daemon_stats st = { 0 };
	const Ksalloc__GetDaemonStatsReply *w;
	Ksalloc__Reply *reply;
	int r;

	pthread_mutex_lock(&c->lock);
	req.body_case = KSALLOC__REQUEST__BODY_GET_DAEMON_STATS;
	req.get_daemon_stats = &get;
	r = client_call(c, &req, KSALLOC__REPLY__BODY_GET_DAEMON_STATS, &reply, NULL);
	if (r < 0)
		goto out;
	w = reply->get_daemon_stats;
	snprintf(st.version, sizeof(st.version), "%s", w->version);
	st.uptime_ms = w->uptime_ms;
	st.sessions = w->sessions;
	st.pools = w->pools;
	st.undecodable = w->undecodable;
	if (w->n_requests && !(st.requests = calloc(w->n_requests, sizeof(*st.requests)))) {
		client_set_error(c, "out of memory");
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < w->n_requests; i++) {
		struct ksalloc_request_count *o = &st.requests[st.n_requests++];

		snprintf(o->type, sizeof(o->type), "%s", w->requests[i]->type);
		o->ok = w->requests[i]->ok;
		o->failed = w->requests[i]->failed;
	}
	*ret_stats = st;
out:
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* ---- subscriptions ------------------------------------------------------------------------ */

struct ksalloc_subscription {
	struct ksalloc_client *client; /* a connection of its own */
};

int ksalloc_subscription_open(const struct ksalloc_client_options *client_opts,
			      const struct ksalloc_subscription_options *opts,
			      struct ksalloc_subscription **ret_subscription)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__SubscribeRequest sub = KSALLOC__SUBSCRIBE_REQUEST__INIT;
	struct ksalloc_subscription *s;
	struct ksalloc_client *c;
	Ksalloc__Reply *reply;
	int r, flags;

	if (opts && opts->pool && strlen(opts->pool) >= KSALLOC_POOL_NAME_MAX) {
		client_set_open_error("pool name is longer than %d bytes",
				      KSALLOC_POOL_NAME_MAX - 1);
		return -EINVAL;
	}
	r = ksalloc_client_open(client_opts, &c);
	if (r < 0)
		return r;
	sub.name = (char *)(opts && opts->pool ? opts->pool : "");
	sub.interval_ms = opts ? opts->interval_ms : 0;
	sub.hold_threshold_ms = opts ? opts->hold_threshold_ms : 0;
	req.body_case = KSALLOC__REQUEST__BODY_SUBSCRIBE;
	req.subscribe = &sub;
	pthread_mutex_lock(&c->lock);
	r = client_call(c, &req, KSALLOC__REPLY__BODY_SUBSCRIBE, &reply, NULL);
	/* Events are read when the application's loop says they are there. */
	if (r == 0 && ((flags = fcntl(c->fd, F_GETFL)) < 0 ||
		       fcntl(c->fd, F_SETFL, flags | O_NONBLOCK) < 0)) {
		r = -errno;
		client_set_error(c, "cannot make the socket non-blocking: %s", strerror(-r));
	}
	pthread_mutex_unlock(&c->lock);
	s = r == 0 ? calloc(1, sizeof(*s)) : NULL;
	if (!s) {
		if (r == 0)
			r = -ENOMEM;
		client_set_open_error("%s", r == -ENOMEM && !c->error[0] ? "out of memory" :
									 c->error);
		ksalloc_client_close(c);
		return r;
	}
	s->client = c;
	*ret_subscription = s;
	return 0;
}

int ksalloc_subscription_get_fd(const struct ksalloc_subscription *s)
{
	return s->client->fd;
}

const char *ksalloc_subscription_error(const struct ksalloc_subscription *s)
{
	return s->client->error;
}

static const enum ksalloc_event_kind event_kinds[] = {
	[KSALLOC__EVENT__KIND__STATUS] = KSALLOC_EVENT_STATUS,
	[KSALLOC__EVENT__KIND__DRY] = KSALLOC_EVENT_DRY,
	[KSALLOC__EVENT__KIND__HELD_TOO_LONG] = KSALLOC_EVENT_HELD_TOO_LONG,
	[KSALLOC__EVENT__KIND__RECLAIMED] = KSALLOC_EVENT_RECLAIMED,
	[KSALLOC__EVENT__KIND__GONE] = KSALLOC_EVENT_GONE,
};

int ksalloc_subscription_read(struct ksalloc_subscription *s, struct ksalloc_event *ret_event)
{
	struct ksalloc_client *c = s->client;

	for (;;) {
		const Ksalloc__Event *w;
		struct ksalloc_event e = { 0 };
		Ksalloc__Reply *reply;
		ssize_t n;

		arena_reset(&c->arena);
		n = wire_recv(c->fd, c->buf, c->max_message_size, NULL, 0, NULL, NULL);
		if (n == -EAGAIN || n == -EINTR)
			return -EAGAIN;
		if (n == 0 || n == -ECONNRESET) {
			client_set_error(c, "ksallocd at %s closed the connection", c->socket_path);
			return -EPIPE;
		}
		if (n == -EMSGSIZE)
			continue; /* larger than the daemon's own limit: not an event of its */
		if (n < 0) {
			client_set_error(c, "cannot receive from ksallocd: %s", strerror((int)-n));
			return (int)n;
		}
		reply = ksalloc__reply__unpack(&c->arena.allocator, (size_t)n, c->buf);
		/* What is not an event (a late reply) is no business of the reader's. */
		if (!reply || reply->body_case != KSALLOC__REPLY__BODY_EVENT ||
		    (unsigned)reply->event->kind >= sizeof(event_kinds) / sizeof(event_kinds[0]))
			continue;
		w = reply->event;
		e.kind = event_kinds[w->kind];
		snprintf(e.pool, sizeof(e.pool), "%s", w->pool);
		e.time_ms = w->time_ms;
		e.frames = w->frames;
		e.frames_total = w->frames_total;
		e.size_bytes = w->size_bytes;
		if (w->holder)
			holder_from_wire(w->holder, &e.holder);
		if (w->status && stats_from_wire(w->status, &e.stats) < 0) {
			client_set_error(c, "out of memory");
			return -ENOMEM;
		}
		*ret_event = e;
		return 0;
	}
}

void ksalloc_event_clear(struct ksalloc_event *e)
{
	free(e->stats.holders);
	e->stats.holders = NULL;
	e->stats.n_holders = 0;
}

struct ksalloc_subscription *ksalloc_subscription_close(struct ksalloc_subscription *s)
{
	if (!s)
		return NULL;
	ksalloc_client_close(s->client);
	free(s);
	return NULL;
}
