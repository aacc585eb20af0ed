/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The native client's control queries and subscriptions, over its connection
 * (client.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ksalloc/ksalloc.h>

#include "client/client.h"
#include "client/convert.h"
#include "client/pool.h"
#include "proto/arena.h"
#include "proto/wire.h"

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

int ksalloc_client_pool_status(struct ksalloc_client *c, const char *name,
			       struct ksalloc_status *ret_status)
{
	int r;

	pthread_mutex_lock(&c->lock);
	r = pool_check_name(c, name);
	if (r == 0)
		r = client_call_status(c, 0, name, ret_status);
	pthread_mutex_unlock(&c->lock);
	return r;
}

int ksalloc_client_pool_stats(struct ksalloc_client *c, const char *name,
			      struct ksalloc_pool_stats *ret_stats)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__GetStatusRequest get = KSALLOC__GET_STATUS_REQUEST__INIT;
	Ksalloc__Reply *reply;
	int r;

	pthread_mutex_lock(&c->lock);
	r = pool_check_name(c, name);
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
	r = pool_check_name(c, name);
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
