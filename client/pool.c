/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pools as a client has them open: open, create, reshape, commit and close, each
 * mapping what the daemon hands out (the pool's memory, and the dma-buf of each
 * frame where frames are dma-bufs) after checking it (pool.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ksalloc/ksalloc.h>

#include "client/client.h"
#include "client/convert.h"
#include "client/pool.h"
#include "common/macro.h"
#include "proto/protocol.h"
#include "shm/frame.h"
#include "shm/framing.h"
#include "shm/layout.h"

_Static_assert(KSALLOC_FRAME_ALIGNMENT_MAX == FRAMING_ALIGNMENT_MAX, "one page, both sides");

int pool_check_name(struct ksalloc_client *c, const char *name)
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
	if (v->memfd >= 0)
		close(v->memfd);
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
			client_set_error(
				c, "pool %s: ksallocd sent %zu frame fds where it announced %u",
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
static int pool_map_as(struct ksalloc_client *c, int fd, const Ksalloc__OpenPoolReply *open,
		       bool read_only, struct ksalloc_pool *p);

static int pool_map(struct ksalloc_client *c, int fd, const Ksalloc__OpenPoolReply *open,
		    struct ksalloc_pool *p)
{
	return pool_map_as(c, fd, open, false, p);
}

/*
 * Makes the frames of @v readable only: the kernel refuses this process's
 * writes into them (a consumer without the right to produce).
 */
static int view_protect(struct pool_view *v)
{
	uint8_t *data = v->frames.data, *end = (uint8_t *)v->map + v->map_size;

	if (data < end && mprotect(data, (size_t)(end - data), PROT_READ) < 0)
		return -errno;
	for (uint32_t i = 0; v->frame_maps && i < v->frames.n_frames; i++)
		if (mprotect(v->frame_maps[i], v->frames.frame_stride, PROT_READ) < 0)
			return -errno;
	return 0;
}

/*
 * Keeps the pool's memfd for ksalloc_pool_get_memfd(): a read-only consumer's is a new
 * read-only open of the same memory (through /proc), so that nobody maps it writable
 * from what we hand out.
 */
static int view_keep_memfd(struct pool_view *v, int fd, bool read_only)
{
	char path[64];

	if (read_only) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		v->memfd = open(path, O_RDONLY | O_CLOEXEC);
	} else {
		v->memfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	}
	return v->memfd < 0 ? -errno : 0;
}

static int pool_map_as(struct ksalloc_client *c, int fd, const Ksalloc__OpenPoolReply *open,
		       bool read_only, struct ksalloc_pool *p)
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
		client_set_error(c, "pool %s: its memory is not sealed against resizing",
				 info.name);
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
	view->memfd = -1;
	frame_pool_init(&view->frames, map, &layout, info.status.framing.frames);
	view->slot = &view->frames.slots[slot];
	view->session_id = c->session_id;
	view->epoch = atomic_load(&c->epoch);
	view->pool_id = info.pool_id;
	view->frame_size = info.status.framing.frame_size;
	if (layout.flags & SHM_LAYOUT_DMABUF_FRAMES) {
		r = view_get_frames(c, view, info.name, layout.flags & SHM_LAYOUT_EXTERNAL_FRAMES);
		if (r < 0) {
			view_free(view);
			return r;
		}
	}
	if (read_only && (r = view_protect(view)) < 0) {
		client_set_error(c, "pool %s: cannot map its frames read-only: %s", info.name,
				 strerror(-r));
		view_free(view);
		return r;
	}
	if (!(layout.flags & SHM_LAYOUT_EXTERNAL_FRAMES) &&
	    (r = view_keep_memfd(view, fd, read_only)) < 0) {
		client_set_error(c, "pool %s: cannot keep its memfd: %s", info.name, strerror(-r));
		view_free(view);
		return r;
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
	const Ksalloc__OpenPoolReply *open =
		expect == KSALLOC__REPLY__BODY_OPEN_POOL   ? reply->open_pool :
		expect == KSALLOC__REPLY__BODY_CREATE_POOL ? reply->create_pool :
							     reply->reshape_pool;
	int r = pool_map(c, fd, open, p);

	/* The mapping keeps the memory alive; the fd is no longer needed. */
	if (fd >= 0)
		close(fd);
	return r;
}

/*
 * Sends @req (an open, create or reshape) on the connection and maps what it gives into @p.
 * No _cleanup_close_ for the fd here or in pool_call(): after a failed exchange it may hold
 * the number of an fd already closed.
 */
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

/* The connection is lost (the client's lost callback): the pool's waiters wake to see it. */
static void pool_lost(struct client_attachment *a)
{
	struct ksalloc_pool *p = container_of(a, struct ksalloc_pool, attachment);
	struct pool_view *v = atomic_load(&p->view);

	if (v)
		frame_wake_slot(v->slot);
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
	_cleanup_free_ struct ksalloc_pool *p = calloc(1, sizeof(*p));
	int r;

	if (!p) {
		client_set_error(c, "out of memory");
		return -ENOMEM;
	}
	p->client = c;
	/* A failed call leaves no view behind: there is nothing in @p to free but itself. */
	r = pool_call(c, req, expect, p);
	if (r < 0)
		return r;
	p->attachment.reattach = pool_reattach;
	p->attachment.lost = pool_lost;
	client_attach(c, &p->attachment);
	*ret_pool = TAKE_PTR(p);
	return 0;
}

/* The reattach of a pool opened for a stream: the stream ended with the connection. */
static int pool_stay_gone(struct ksalloc_client *c, struct client_attachment *a)
{
	struct ksalloc_pool *p = container_of(a, struct ksalloc_pool, attachment);

	(void)c;
	atomic_store(&p->gone, true);
	return 0;
}

int pool_open_from_reply(struct ksalloc_client *c, const Ksalloc__OpenPoolReply *open, int fd,
			 bool read_only, struct ksalloc_pool **ret_pool)
{
	_cleanup_free_ struct ksalloc_pool *p = calloc(1, sizeof(*p));
	int r;

	if (!p) {
		client_set_error(c, "out of memory");
		return -ENOMEM;
	}
	p->client = c;
	r = pool_map_as(c, fd, open, read_only, p);
	if (r < 0)
		return r;
	/*
	 * Not reopened after a reconnect: its stream is not either (see
	 * ksalloc_stream_open()); the connection's loss wakes its waiters.
	 */
	p->attachment.reattach = pool_stay_gone;
	p->attachment.lost = pool_lost;
	client_attach(c, &p->attachment);
	*ret_pool = TAKE_PTR(p);
	return 0;
}

int ksalloc_pool_open(struct ksalloc_client *c, const char *name, struct ksalloc_pool **ret_pool)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__OpenPoolRequest open = KSALLOC__OPEN_POOL_REQUEST__INIT;
	int r;

	pthread_mutex_lock(&c->lock);
	r = pool_check_name(c, name);
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
			     const struct ksalloc_pool_options *opts,
			     struct ksalloc_pool **ret_pool)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__CreatePoolRequest create = KSALLOC__CREATE_POOL_REQUEST__INIT;
	Ksalloc__Framing f;
	int r;

	pthread_mutex_lock(&c->lock);
	r = pool_check_name(c, name);
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
