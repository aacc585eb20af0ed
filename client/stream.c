/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Streams, the library's side (ksalloc.h): create and open talk to the daemon
 * once; publish, receive and release are shm/stream.c on the mapped stream,
 * with the pool's dma-buf bracketing and the meta converted at the edges.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include <ksalloc/ksalloc.h>

#include "client/client.h"
#include "client/pool.h"
#include "common/macro.h"
#include "proto/wire.h"
#include "shm/liveness.h"
#include "shm/stream.h"

struct ksalloc_stream {
	struct ksalloc_client *client;
	struct ksalloc_pool *pool; /* a producer's: borrowed; a consumer's: its own */
	struct pool_view *view;    /* the pool's mapping the stream was opened over */
	bool producer;
	bool read_only;
	uint32_t stream_id;
	uint32_t slot;   /* a consumer's slot */
	uint32_t tenant; /* this session's id: the producer's tenant, or the consumer's */
	char name[KSALLOC_STREAM_NAME_MAX];
	void *map;
	size_t map_size;
	struct stream_map sm;
	_Atomic bool gone;            /* the connection it was opened on is lost */
	_Atomic bool flushing;        /* ksalloc_stream_set_flushing(): no waiting */
	_Atomic uint32_t seen_epoch;  /* the producer epoch whose end was last reported */
	_Atomic uint32_t format_seen; /* the format generation of the last frame received */
	struct client_attachment attachment;

	/* Pollable consumers (ksalloc_stream_get_fd()): an eventfd a thread of ours keeps. */
	pthread_mutex_t poll_lock;
	int event_fd;
	pthread_t poller;
	bool polling;
	_Atomic bool poll_stop;
	_Atomic uint32_t poll_seq; /* bumped when receive found nothing: the poller waits again */
};

/* Gives a stream the same errors a pool has: gone with the connection it was opened on. */
static bool stream_alive(const struct ksalloc_stream *s)
{
	return !atomic_load_explicit(&s->gone, memory_order_relaxed) &&
	       s->view->epoch == atomic_load_explicit(&s->client->epoch, memory_order_relaxed);
}

/* What a wait asks between slices: is the daemon there, or at least restarting? */
static int stream_check(void *userdata)
{
	struct ksalloc_stream *s = userdata;
	int r;

	if (!stream_alive(s))
		return -ESHUTDOWN;
	if (shm_heartbeat_fresh(s->view->frames.shared))
		return 0;
	r = client_check_alive(s->client, false);
	return r < 0 || !stream_alive(s) ? -ESHUTDOWN : 0;
}

static int stream_reattach(struct ksalloc_client *c, struct client_attachment *a)
{
	struct ksalloc_stream *s = container_of(a, struct ksalloc_stream, attachment);

	(void)c;
	atomic_store(&s->gone, true);
	return 0;
}

static void stream_lost(struct client_attachment *a)
{
	struct ksalloc_stream *s = container_of(a, struct ksalloc_stream, attachment);

	/* Our own waiters look again, and find the stream gone. */
	atomic_store(&s->gone, true);
	stream_wake_all(&s->sm);
}

/* Maps stream memory @fd (not taken) over @s->view's pool, after checking it. */
static int stream_map_fd(struct ksalloc_client *c, struct ksalloc_stream *s, int fd)
{
	const struct frame_pool *fp = &s->view->frames;
	struct shm_stream_layout layout;
	const char *reason = NULL;
	struct stat st;
	int seals;

	seals = fcntl(fd, F_GET_SEALS);
	if (fstat(fd, &st) < 0 || seals < 0 ||
	    (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) != (F_SEAL_SHRINK | F_SEAL_GROW)) {
		client_set_error(c, "stream %s: its memory is not sealed against resizing",
				 s->name);
		return -EBADMSG;
	}
	s->map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s->map == MAP_FAILED) {
		int r = -errno;

		s->map = NULL;
		client_set_error(c, "stream %s: cannot map its memory: %s", s->name, strerror(-r));
		return r;
	}
	s->map_size = (size_t)st.st_size;
	if (shm_stream_header_check(s->map, s->map_size, s->view->pool_id, fp->n_frames, &layout,
				    &reason) < 0 ||
	    ((const struct shm_stream_header *)s->map)->stream_id != s->stream_id) {
		client_set_error(c, "stream %s: its memory is not a valid stream: %s", s->name,
				 reason ? reason : "another stream's");
		return -EBADMSG;
	}
	stream_map_init(&s->sm, s->map, &layout, s->stream_id, &s->view->frames);
	return 0;
}

static struct ksalloc_stream *stream_new(struct ksalloc_client *c, const char *name)
{
	struct ksalloc_stream *s = calloc(1, sizeof(*s));

	if (!s) {
		client_set_error(c, "out of memory");
		return NULL;
	}
	s->client = c;
	s->event_fd = -1;
	snprintf(s->name, sizeof(s->name), "%s", name);
	pthread_mutex_init(&s->poll_lock, NULL);
	return s;
}

static void stream_unmap(struct ksalloc_stream *s)
{
	if (s->map)
		munmap(s->map, s->map_size);
	pthread_mutex_destroy(&s->poll_lock);
	free(s);
}

/* The daemon's name check, done here too: the error then names the problem at once. */
static int check_stream_name(struct ksalloc_client *c, const char *name)
{
	const char *problem = name ? shm_name_problem(name) : "no name given";

	if (!problem)
		return 0;
	client_set_error(c, "stream name: %s", problem);
	return -EINVAL;
}

int ksalloc_stream_create(struct ksalloc_pool *pool, const char *name,
			  const struct ksalloc_stream_options *opts,
			  struct ksalloc_stream **ret_stream)
{
	struct ksalloc_client *c = pool->client;
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__CreateStreamRequest create = KSALLOC__CREATE_STREAM_REQUEST__INIT;
	struct ksalloc_stream *s;
	Ksalloc__Reply *reply;
	int fd = -1, r;

	pthread_mutex_lock(&c->lock);
	r = check_stream_name(c, name);
	if (r < 0)
		goto out;
	s = stream_new(c, name);
	if (!s) {
		r = -ENOMEM;
		goto out;
	}
	s->producer = true;
	s->pool = pool;
	s->view = atomic_load(&pool->view);
	s->tenant = s->view->session_id;
	create.pool_id = s->view->pool_id;
	create.name = (char *)name;
	create.mode = opts ? opts->mode : 0;
	req.body_case = KSALLOC__REQUEST__BODY_CREATE_STREAM;
	req.create_stream = &create;
	r = client_call(c, &req, KSALLOC__REPLY__BODY_CREATE_STREAM, &reply, &fd);
	if (r == 0 && (fd < 0 || !reply->create_stream->stream)) {
		client_set_error(c, "stream %s: ksallocd sent no stream memory", name);
		r = -EBADMSG;
	}
	if (r == 0) {
		s->stream_id = reply->create_stream->stream->stream_id;
		r = stream_map_fd(c, s, fd);
	}
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		stream_unmap(s);
		goto out;
	}
	s->attachment.reattach = stream_reattach;
	s->attachment.lost = stream_lost;
	client_attach(c, &s->attachment);
	*ret_stream = s;
out:
	pthread_mutex_unlock(&c->lock);
	return r;
}

int ksalloc_stream_open(struct ksalloc_client *c, const char *name,
			const struct ksalloc_stream_open_options *opts,
			struct ksalloc_stream **ret_stream)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__OpenStreamRequest open = KSALLOC__OPEN_STREAM_REQUEST__INIT;
	const Ksalloc__OpenStreamReply *o;
	struct ksalloc_stream *s = NULL;
	Ksalloc__Reply *reply;
	int fds[2] = { -1, -1 }, r;
	size_t n_fds = 0;

	pthread_mutex_lock(&c->lock);
	r = check_stream_name(c, name);
	if (r < 0)
		goto out;
	if (opts && ((unsigned)opts->policy > KSALLOC_STREAM_LATEST ||
		     opts->depth > KSALLOC_STREAM_DEPTH_MAX)) {
		client_set_error(c, "stream %s: policy %d or depth %u out of range", name,
				 (int)opts->policy, opts->depth);
		r = -EINVAL;
		goto out;
	}
	s = stream_new(c, name);
	if (!s) {
		r = -ENOMEM;
		goto out;
	}
	open.name = (char *)name;
	if (opts) {
		open.policy = (uint32_t)opts->policy;
		open.depth = opts->depth;
		open.max_held = opts->max_held;
		open.read_only = opts->read_only;
	}
	req.body_case = KSALLOC__REQUEST__BODY_OPEN_STREAM;
	req.open_stream = &open;
	r = client_call_fds(c, &req, KSALLOC__REPLY__BODY_OPEN_STREAM, &reply, fds, 2, &n_fds);
	if (r < 0)
		goto fail;
	o = reply->open_stream;
	if (n_fds != 2 || !o->stream || !o->pool || o->slot >= SHM_STREAM_CONSUMERS) {
		client_set_error(c, "stream %s: ksallocd sent no stream or pool memory", name);
		r = -EBADMSG;
		goto fail;
	}
	s->stream_id = o->stream->stream_id;
	s->slot = o->slot;
	s->read_only = o->read_only;
	s->tenant = c->session_id;
	r = pool_open_from_reply(c, o->pool, fds[1], o->read_only, &s->pool);
	if (r < 0)
		goto fail;
	s->view = atomic_load(&s->pool->view);
	r = stream_map_fd(c, s, fds[0]);
	if (r < 0)
		goto fail;
	atomic_store(&s->seen_epoch, stream_consumer_start_epoch(&s->sm, s->slot));
	s->attachment.reattach = stream_reattach;
	s->attachment.lost = stream_lost;
	client_attach(c, &s->attachment);
	wire_close_fds(fds, n_fds);
	*ret_stream = s;
	pthread_mutex_unlock(&c->lock);
	return 0;
fail:
	wire_close_fds(fds, n_fds);
	if (s && s->pool) {
		/* The daemon attached us: tell it we go (best effort; our session ending does too). */
		Ksalloc__Request close_req = KSALLOC__REQUEST__INIT;
		Ksalloc__CloseStreamRequest close = KSALLOC__CLOSE_STREAM_REQUEST__INIT;
		Ksalloc__Reply *ignored;

		close.stream_id = s->stream_id;
		close.slot = s->slot;
		close_req.body_case = KSALLOC__REQUEST__BODY_CLOSE_STREAM;
		close_req.close_stream = &close;
		(void)client_exchange(c, &close_req, KSALLOC__REPLY__BODY_CLOSE_STREAM, &ignored,
				      NULL);
		pthread_mutex_unlock(&c->lock);
		ksalloc_pool_close(s->pool);
		pthread_mutex_lock(&c->lock);
	}
	if (s)
		stream_unmap(s);
out:
	pthread_mutex_unlock(&c->lock);
	return r;
}

static void meta_to_shm(const struct ksalloc_frame_meta *m, struct shm_stream_meta *ret)
{
	*ret = (struct shm_stream_meta){ 0 };
	if (!m)
		return;
	ret->presentation_time = m->presentation_time;
	ret->time_numerator = m->time_numerator;
	ret->time_denominator = m->time_denominator;
	ret->duration = m->duration;
	ret->data_used = m->data_used;
	ret->options_flags = m->options_flags;
	ret->type_specific_flags = m->type_specific_flags;
}

int ksalloc_stream_publish(struct ksalloc_stream *s, const struct ksalloc_frame *frame,
			   const struct ksalloc_frame_meta *meta, uint32_t timeout_ms)
{
	struct ksalloc_client *c = s->client;
	struct frame_liveness live = { .check = stream_check,
				       .userdata = s,
				       .slice_ms = SHM_HEARTBEAT_MS,
				       .cancel = &s->flushing };
	struct stream_publish p = { .timeout_ms = timeout_ms, .live = &live };
	struct shm_stream_meta m;
	int r;

	if (!s->producer)
		return -EPERM;
	if (!stream_alive(s))
		return -ESHUTDOWN;
	if (!frame || frame->pool_id != s->view->pool_id ||
	    frame->index >= s->view->frames.n_frames)
		return -EINVAL;
	if (meta && meta->data_used > s->view->frame_size)
		return -EINVAL;
	meta_to_shm(meta, &m);
	p.index = frame->index;
	p.generation = frame->generation;
	/* The producer's CPU access ends before anyone else may read the frame. */
	if (s->view->dmabuf_fds && atomic_load(&s->view->frames.frames[frame->index].owner) ==
					   shm_owner(s->tenant, frame->generation)) {
		r = pool_view_sync(s->view, frame->index, DMA_BUF_SYNC_END,
				   frame->access ? frame->access : KSALLOC_ACCESS_READ_WRITE);
		if (r < 0)
			return r;
	}
	r = stream_publish(&s->sm, s->tenant, &p, &m);
	if (r >= 0 && c->max_frames)
		atomic_fetch_sub_explicit(&c->held, 1, memory_order_relaxed);
	if (r >= 0 && meta && (meta->options_flags & KSALLOC_FRAME_ENDOFSTREAM))
		(void)stream_end(&s->sm, s->tenant);
	return r;
}

int ksalloc_stream_set_format(struct ksalloc_stream *s, const void *format, size_t size)
{
	int r;

	if (!s->producer)
		return -EPERM;
	if (size && !format)
		return -EINVAL;
	r = stream_set_format(&s->sm, format, size);
	return r < 0 ? r : 0;
}

int ksalloc_stream_get_format(struct ksalloc_stream *s, void *buf, size_t size)
{
	if (size && !buf)
		return -EINVAL;
	return stream_get_format(&s->sm, buf, size, NULL);
}

int ksalloc_stream_get_format_generation(struct ksalloc_stream *s, void *buf, size_t size,
					 uint32_t *ret_generation)
{
	if ((size && !buf) || !ret_generation)
		return -EINVAL;
	return stream_get_format(&s->sm, buf, size, ret_generation);
}

int ksalloc_stream_set_flushing(struct ksalloc_stream *s, bool flushing)
{
	atomic_store(&s->flushing, flushing);
	if (flushing)
		stream_wake(&s->sm, s->producer, s->slot);
	return 0;
}

int ksalloc_stream_end(struct ksalloc_stream *s)
{
	if (!s->producer)
		return -EPERM;
	return stream_end(&s->sm, s->tenant);
}

/* Pollable consumers: what their eventfd says, kept by a thread of ours. */
static void *poller_main(void *userdata)
{
	struct ksalloc_stream *s = userdata;
	_Atomic uint32_t *sleeping = &s->sm.consumers[s->slot].sleeping;
	uint64_t one = 1;

	while (!atomic_load(&s->poll_stop)) {
		uint32_t seq = atomic_load(&s->poll_seq);
		struct timespec slice = { .tv_sec = 0, .tv_nsec = SHM_HEARTBEAT_MS * 1000000L };

		if (stream_consumer_ready(&s->sm, s->slot, atomic_load(&s->seen_epoch)) ||
		    !stream_alive(s)) {
			/* Readable until a receive finds nothing and bumps poll_seq. */
			if (write(s->event_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
				break;
			syscall(SYS_futex, &s->poll_seq, FUTEX_WAIT_PRIVATE, seq, &slice, NULL, 0);
			continue;
		}
		/* As a receive sleeps: announce, look again, sleep until a publish wakes it. */
		atomic_store(sleeping, 1);
		if (stream_consumer_ready(&s->sm, s->slot, atomic_load(&s->seen_epoch)) ||
		    atomic_load(&s->poll_stop)) {
			atomic_store(sleeping, 0);
			continue;
		}
		syscall(SYS_futex, sleeping, FUTEX_WAIT, 1, &slice, NULL, 0);
	}
	return NULL;
}

/* A receive found nothing: the fd stops polling readable, unless something came meanwhile. */
static void poll_drained(struct ksalloc_stream *s)
{
	uint64_t count;
	ssize_t n;

	if (s->event_fd < 0)
		return;
	/* Emptied: how many it counted, or EAGAIN (it was empty), does not matter. */
	n = read(s->event_fd, &count, sizeof(count));
	(void)n;
	atomic_fetch_add(&s->poll_seq, 1);
	syscall(SYS_futex, &s->poll_seq, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

int ksalloc_stream_get_fd(struct ksalloc_stream *s)
{
	int r = 0;

	if (s->producer)
		return -EPERM;
	pthread_mutex_lock(&s->poll_lock);
	if (!s->polling) {
		s->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (s->event_fd < 0)
			r = -errno;
		else if ((r = -pthread_create(&s->poller, NULL, poller_main, s)) < 0) {
			close(s->event_fd);
			s->event_fd = -1;
		} else
			s->polling = true;
	}
	pthread_mutex_unlock(&s->poll_lock);
	return r < 0 ? r : s->event_fd;
}

int ksalloc_stream_receive(struct ksalloc_stream *s, uint32_t timeout_ms,
			   struct ksalloc_frame *ret_frame, struct ksalloc_frame_meta *ret_meta)
{
	struct frame_liveness live = { .check = stream_check,
				       .userdata = s,
				       .slice_ms = SHM_HEARTBEAT_MS,
				       .cancel = &s->flushing };
	struct pool_view *v = s->view;
	struct stream_received rx;
	uint32_t epoch = atomic_load_explicit(&s->seen_epoch, memory_order_relaxed), flags;
	int r;

	if (s->producer)
		return -EPERM;
	if (!stream_alive(s))
		return -ESHUTDOWN;
	r = stream_receive(&s->sm, s->slot, s->tenant, timeout_ms, &live, &epoch, &rx);
	if (r == -EPIPE || r == -ECONNRESET)
		atomic_store(&s->seen_epoch, epoch);
	if (r == -EAGAIN)
		poll_drained(s);
	if (r < 0)
		return r;
	r = pool_view_sync(v, rx.index, DMA_BUF_SYNC_START, KSALLOC_ACCESS_READ);
	if (r < 0) {
		(void)stream_release(&s->sm, s->slot, rx.index, rx.generation);
		return r;
	}
	flags = rx.meta.options_flags;
	if (rx.lost)
		flags |= KSALLOC_FRAME_DATADISCONTINUITY;
	if (rx.meta.format_generation !=
	    atomic_exchange(&s->format_seen, rx.meta.format_generation))
		flags |= KSALLOC_FRAME_TYPECHANGED;
	*ret_frame = (struct ksalloc_frame){
		.data = v->frame_maps ? v->frame_maps[rx.index] : frame_data(&v->frames, rx.index),
		.size = v->frame_size,
		.index = rx.index,
		.generation = rx.generation,
		.pool_id = v->pool_id,
		.dmabuf_fd = v->dmabuf_fds ? v->dmabuf_fds[rx.index] : -1,
		.access = KSALLOC_ACCESS_READ,
	};
	if (ret_meta)
		*ret_meta = (struct ksalloc_frame_meta){
			.presentation_time = rx.meta.presentation_time,
			.time_numerator = rx.meta.time_numerator,
			.time_denominator = rx.meta.time_denominator,
			.duration = rx.meta.duration,
			/* Never more than the frame, whatever the memory says. */
			.data_used = rx.meta.data_used < v->frame_size ? rx.meta.data_used :
									 v->frame_size,
			.options_flags = flags,
			.type_specific_flags = rx.meta.type_specific_flags,
			.format_generation = rx.meta.format_generation,
			.sequence = rx.meta.sequence,
			.publish_ns = rx.meta.publish_ns,
		};
	return 0;
}

int ksalloc_stream_release(struct ksalloc_stream *s, const struct ksalloc_frame *frame)
{
	int r;

	if (s->producer)
		return -EPERM;
	if (!frame || frame->pool_id != s->view->pool_id)
		return -EINVAL;
	if (!stream_alive(s))
		return -ESTALE;
	if (s->view->dmabuf_fds && frame->index < s->view->frames.n_frames) {
		r = pool_view_sync(s->view, frame->index, DMA_BUF_SYNC_END, KSALLOC_ACCESS_READ);
		if (r < 0)
			return r;
	}
	return stream_release(&s->sm, s->slot, frame->index, frame->generation);
}

struct ksalloc_pool *ksalloc_stream_get_pool(const struct ksalloc_stream *s)
{
	return s->pool;
}

struct ksalloc_stream *ksalloc_stream_close(struct ksalloc_stream *s)
{
	struct ksalloc_client *c;
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__CloseStreamRequest close_req = KSALLOC__CLOSE_STREAM_REQUEST__INIT;
	Ksalloc__Reply *reply;

	if (!s)
		return NULL;
	c = s->client;
	if (s->polling) {
		atomic_store(&s->poll_stop, true);
		atomic_fetch_add(&s->poll_seq, 1);
		syscall(SYS_futex, &s->poll_seq, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
		atomic_store(&s->sm.consumers[s->slot].sleeping, 0);
		syscall(SYS_futex, &s->sm.consumers[s->slot].sleeping, FUTEX_WAKE, INT32_MAX, NULL,
			NULL, 0);
		pthread_join(s->poller, NULL);
		close(s->event_fd);
	}
	pthread_mutex_lock(&c->lock);
	client_detach(&s->attachment);
	/* The daemon ends our role (its repairs run); a lost connection ended it already. */
	if (stream_alive(s)) {
		close_req.stream_id = s->stream_id;
		close_req.producer = s->producer;
		close_req.slot = s->slot;
		req.body_case = KSALLOC__REQUEST__BODY_CLOSE_STREAM;
		req.close_stream = &close_req;
		(void)client_call(c, &req, KSALLOC__REPLY__BODY_CLOSE_STREAM, &reply, NULL);
	}
	pthread_mutex_unlock(&c->lock);
	if (!s->producer)
		ksalloc_pool_close(s->pool);
	stream_unmap(s);
	return NULL;
}

static void consumer_from_wire(const Ksalloc__StreamConsumer *w,
			       struct ksalloc_stream_consumer_info *ret)
{
	uint64_t total = 0, seen = 0;

	*ret = (struct ksalloc_stream_consumer_info){
		.slot = w->slot,
		.session_id = w->session_id,
		.pid = w->pid,
		.policy = (enum ksalloc_stream_policy)w->policy,
		.depth = w->depth,
		.max_held = w->max_held,
		.queued = w->queued,
		.held = w->held,
		.delivered = w->delivered,
		.dropped = w->dropped,
		.read_only = w->read_only,
	};
	snprintf(ret->name, sizeof(ret->name), "%s", w->name ? w->name : "");
	for (size_t b = 0; b < w->n_latency; b++)
		total += w->latency[b];
	/* Upper bounds of the buckets where the 50th and 99th percentiles fall. */
	for (size_t b = 0; total && b < w->n_latency && b < 63; b++) {
		seen += w->latency[b];
		if (!ret->latency_p50_ns && seen * 2 >= total)
			ret->latency_p50_ns = shm_stream_latency_bound_ns((uint32_t)b);
		if (!ret->latency_p99_ns && seen * 100 >= total * 99)
			ret->latency_p99_ns = shm_stream_latency_bound_ns((uint32_t)b);
	}
}

static void stream_info_from_wire(const Ksalloc__StreamInfo *w, struct ksalloc_stream_info *ret)
{
	*ret = (struct ksalloc_stream_info){
		.stream_id = w->stream_id,
		.state = (enum ksalloc_stream_state)w->state,
		.persistent = w->persistent,
		.owner = w->owner,
		.group = w->group,
		.mode = w->mode,
		.producer_session = w->producer_session,
		.producer_pid = w->producer_pid,
		.published = w->published,
		.format_size = w->format_size,
	};
	snprintf(ret->name, sizeof(ret->name), "%s", w->name ? w->name : "");
	snprintf(ret->pool, sizeof(ret->pool), "%s", w->pool ? w->pool : "");
	snprintf(ret->producer_name, sizeof(ret->producer_name), "%s",
		 w->producer_name ? w->producer_name : "");
	for (size_t i = 0; i < w->n_consumers && i < KSALLOC_STREAM_MAX_CONSUMERS; i++)
		consumer_from_wire(w->consumers[i], &ret->consumers[ret->n_consumers++]);
}

int ksalloc_client_list_streams(struct ksalloc_client *c, struct ksalloc_stream_info **ret_streams,
				size_t *ret_n_streams)
{
	struct ksalloc_stream_info *streams = NULL;
	size_t n = 0;
	int r = 0;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		Ksalloc__Request req = KSALLOC__REQUEST__INIT;
		Ksalloc__ListStreamsRequest list = KSALLOC__LIST_STREAMS_REQUEST__INIT;
		const Ksalloc__ListStreamsReply *l;
		struct ksalloc_stream_info *grown;
		Ksalloc__Reply *reply;

		list.offset = (uint32_t)n;
		req.body_case = KSALLOC__REQUEST__BODY_LIST_STREAMS;
		req.list_streams = &list;
		r = client_call(c, &req, KSALLOC__REPLY__BODY_LIST_STREAMS, &reply, NULL);
		if (r < 0)
			break;
		l = reply->list_streams;
		if (l->n_streams == 0)
			break;
		grown = reallocarray(streams, n + l->n_streams, sizeof(*streams));
		if (!grown) {
			client_set_error(c, "out of memory");
			r = -ENOMEM;
			break;
		}
		streams = grown;
		for (size_t i = 0; i < l->n_streams; i++)
			stream_info_from_wire(l->streams[i], &streams[n++]);
		if (n >= l->total)
			break;
	}
	pthread_mutex_unlock(&c->lock);
	if (r < 0) {
		free(streams);
		return r;
	}
	*ret_streams = streams;
	*ret_n_streams = n;
	return 0;
}
