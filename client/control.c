/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Control queries, for operators' tools more than for media pipelines: pools by name
 * (status, extended statistics, destroy), the lists of pools, sessions and backends, and
 * the daemon's own statistics. Each is a call on the connection (client.h), a page at a
 * time for the lists, and a conversion of its reply; the arrays a caller gets are malloc'ed
 * and the caller's.
 */
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ksalloc/ksalloc.h>

#include "client/client.h"
#include "client/convert.h"
#include "client/pool.h"
#include "common/macro.h"
#include "proto/protocol.h"

int ksalloc_client_list_pools(struct ksalloc_client *c, struct ksalloc_pool_info **ret_pools,
			      size_t *ret_n_pools)
{
	_cleanup_free_ struct ksalloc_pool_info *pools = NULL;
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

	if (r < 0)
		return r;
	*ret_pools = TAKE_PTR(pools);
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

int ksalloc_client_list_sessions(struct ksalloc_client *c,
				 struct ksalloc_session_info **ret_sessions, size_t *ret_n_sessions)
{
	_cleanup_free_ struct ksalloc_session_info *sessions = NULL;
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

	if (r < 0)
		return r;
	*ret_sessions = TAKE_PTR(sessions);
	*ret_n_sessions = n;
	return 0;
}

/* Entries of @entry_size bytes: struct ksalloc_backend_info, or as far as an old node knew it. */
static int list_backends(struct ksalloc_client *c, struct ksalloc_backend_info **ret_backends,
			 size_t *ret_n_backends, size_t entry_size)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__ListBackendsRequest list = KSALLOC__LIST_BACKENDS_REQUEST__INIT;
	uint8_t *backends = NULL;
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
	if (w->n_backends && !(backends = calloc(w->n_backends, entry_size))) {
		client_set_error(c, "out of memory");
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < w->n_backends; i++) {
		const Ksalloc__BackendInfo *b = w->backends[i];
		struct ksalloc_backend_info e = {
			.available = b->available,
			.dmabuf_frames = b->dmabuf_frames,
			/* A daemon newer than this library may know more ways. */
			.contiguity = b->contiguity <= KSALLOC_CONTIGUITY_WHOLE ?
					      (enum ksalloc_contiguity)b->contiguity :
					      KSALLOC_CONTIGUITY_UNKNOWN,
			.max_frame_size = b->max_frame_size,
		};

		snprintf(e.name, sizeof(e.name), "%s", b->name);
		snprintf(e.description, sizeof(e.description), "%s", b->description);
		snprintf(e.reason, sizeof(e.reason), "%s", b->reason);
		memcpy(backends + i * entry_size, &e, entry_size);
	}
	*ret_backends = (struct ksalloc_backend_info *)backends;
	*ret_n_backends = w->n_backends;
out:
	pthread_mutex_unlock(&c->lock);
	return r;
}

/*
 * ksalloc_client_list_backends() is versioned (client/subscription.c says
 * why): programs built against struct ksalloc_backend_info without its
 * contiguity (LIBKSALLOC_1) get entries of the size they know.
 */
#define KSALLOC_BACKEND_INFO_1_SIZE                      \
	(offsetof(struct ksalloc_backend_info, reason) + \
	 sizeof(((struct ksalloc_backend_info *)0)->reason))

KSALLOC_EXPORT int ksalloc_client_list_backends_1(struct ksalloc_client *c,
						  struct ksalloc_backend_info **ret_backends,
						  size_t *ret_n_backends);
KSALLOC_EXPORT int ksalloc_client_list_backends_1_2(struct ksalloc_client *c,
						    struct ksalloc_backend_info **ret_backends,
						    size_t *ret_n_backends);

KSALLOC_SYMVER(ksalloc_client_list_backends_1, "ksalloc_client_list_backends@LIBKSALLOC_1")
int ksalloc_client_list_backends_1(struct ksalloc_client *c,
				   struct ksalloc_backend_info **ret_backends,
				   size_t *ret_n_backends)
{
	return list_backends(c, ret_backends, ret_n_backends, KSALLOC_BACKEND_INFO_1_SIZE);
}

KSALLOC_SYMVER(ksalloc_client_list_backends_1_2, "ksalloc_client_list_backends@@LIBKSALLOC_1.2")
int ksalloc_client_list_backends_1_2(struct ksalloc_client *c,
				     struct ksalloc_backend_info **ret_backends,
				     size_t *ret_n_backends)
{
	return list_backends(c, ret_backends, ret_n_backends, sizeof(struct ksalloc_backend_info));
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
