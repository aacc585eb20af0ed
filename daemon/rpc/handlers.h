/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The request handlers, grouped by area in files of their own, and what they
 * share. Each takes the call it answers and fills the call's reply: a failure
 * is an HRESULT and a message naming what is wrong, never a dropped request.
 * dispatch.c's table says which handler answers which request type.
 *
 *   handlers-session.c  hello, subscribe: what a session asks for itself
 *   handlers-pool.c     open, create, commit/decommit, reshape, destroy,
 *                       frame fds: what changes a pool or a session's hold on it
 *   handlers-query.c    status, list pools, list sessions, list backends,
 *                       daemon stats: what only reads
 */

#include <stdbool.h>
#include <stdint.h>

#include "daemon/rpc/reply.h"
#include "daemon/rpc/rpc.h"
#include "daemon/rpc/session.h"
#include "proto/arena.h"
#include "proto/protocol.h"

#ifndef KSALLOC_VERSION
#define KSALLOC_VERSION "unknown"
#endif

/* One request being answered. Everything the reply points to lives in @arena. */
struct rpc_call {
	struct rpc *rpc;
	struct session *session; /* who asked */
	const Ksalloc__Request *request;
	struct arena *arena;
	struct rpc_reply *reply;
};

/* Fails @c: @error (negative errno) as the HRESULT, and the printf-formatted message. */
void call_fail(struct rpc_call *c, int error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Fails @c with E_OUTOFMEMORY, "daemon out of memory". */
void call_fail_oom(struct rpc_call *c);

/* Makes @c's reply a success of body @body; returns the message, for the body to be set. */
Ksalloc__Reply *call_succeed(struct rpc_call *c, Ksalloc__Reply__BodyCase body);

/*
 * Whether @c's session may do @what (ACCESS_READ or ACCESS_WRITE) with @p.
 * When not, the reply (prefixed with @request) and a log line say who was
 * refused what, and which owner, group and mode decided it.
 */
bool call_allows(struct rpc_call *c, const struct pool *p, uint32_t what, const char *request);

/* The pool named @name for request @what, or NULL and the reply says why. */
struct pool *call_pool_by_name(struct rpc_call *c, const char *name, const char *what);

/*
 * The pool with id @pool_id for request @what, which @c's session must have
 * open and may still write (a reload can change that); or NULL and the reply
 * says why.
 */
struct pool *call_pool_by_id_bound(struct rpc_call *c, uint32_t pool_id, const char *what);

/* handlers-session.c */
void handle_hello(struct rpc_call *c);
void handle_subscribe(struct rpc_call *c);

/* handlers-pool.c */
void handle_open_pool(struct rpc_call *c);
void handle_create_pool(struct rpc_call *c);
void handle_set_committed(struct rpc_call *c);
void handle_reshape_pool(struct rpc_call *c);
void handle_destroy_pool(struct rpc_call *c);
void handle_get_frame_fds(struct rpc_call *c);

/* handlers-stream.c */
void handle_create_stream(struct rpc_call *c);
void handle_open_stream(struct rpc_call *c);
void handle_close_stream(struct rpc_call *c);
void handle_list_streams(struct rpc_call *c);

/* handlers-query.c */
void handle_get_status(struct rpc_call *c);
void handle_list_pools(struct rpc_call *c);
void handle_list_sessions(struct rpc_call *c);
void handle_list_backends(struct rpc_call *c);
void handle_get_daemon_stats(struct rpc_call *c);
