/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Request handlers: a decoded request in, a reply out. No libuv and no socket
 * calls here; transport (server.c, connection.c) owns the bytes and the fds.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/list.h"
#include "daemon/rpc/session.h"
#include "daemon/storage/access.h"
#include "proto/arena.h"
#include "shm/framing.h"
#include "proto/protocol.h"
#include "shm/layout.h"
#include "daemon/storage/storage.h"

struct rpc_limits {
	uint32_t max_message_size;
	uint32_t max_sessions;
	uint32_t max_pool_sessions;
	uint32_t max_pools_per_uid;      /* pools a uid may have created */
	uint64_t max_pool_bytes_per_uid; /* their shared memory */
	uint32_t max_frames_per_session; /* 0: no limit */
	struct framing_limits framing;
};

/* Who may create pools, and what becomes of them. */
struct rpc_policy {
	bool create_group_set; /* false: anyone who can connect may create */
	gid_t create_group;
	uint32_t created_pool_mode;
	bool keep_created_pools;
};

struct subscription; /* events.c */

/* Frames taken back from a session that ended, for the subscribers' RECLAIMED events. */
struct rpc_reclaim {
	uint32_t pool_id;
	char pool[SHM_NAME_MAX];
	uint32_t session_id, pid, uid;
	char name[SESSION_NAME_MAX];
	uint32_t frames;
	uint64_t time_ms;
};
#define RPC_RECLAIMS_MAX 64 /* noted between two ticks; beyond, the oldest are dropped */

/* Request types are Request's body field numbers, all below this. */
#define RPC_REQUEST_TYPES 32

struct rpc {
	struct storage *storage; /* borrowed */
	struct rpc_limits limits;
	struct rpc_policy policy;
	uint32_t next_session_id;
	struct list sessions; /* every live session (struct session), newest first */
	uint32_t n_sessions;

	/* For GetDaemonStats: since rpc_init(), CLOCK_MONOTONIC ms; requests by type and result. */
	uint64_t started_ms;
	uint64_t requests_ok[RPC_REQUEST_TYPES];
	uint64_t requests_failed[RPC_REQUEST_TYPES];
	uint64_t undecodable;

	/* Subscriptions (events.c). */
	uint32_t n_subscribed;
	struct rpc_reclaim reclaims[RPC_RECLAIMS_MAX];
	uint32_t n_reclaims;
};

struct rpc_reply {
	Ksalloc__Reply msg;
	/* Fds to attach (at most WIRE_MAX_FDS): borrowed from storage, valid until it changes. */
	const int *fds;
	size_t n_fds;
};

void rpc_init(struct rpc *rpc, struct storage *storage, const struct rpc_limits *limits,
	      const struct rpc_policy *policy);

/* Applies new limits and policy (a reload) to requests from now on. */
void rpc_configure(struct rpc *rpc, const struct rpc_limits *limits,
		   const struct rpc_policy *policy);

/*
 * Starts session @s for a peer (session_init() under the next id) and adds
 * it to rpc's sessions. Returns 0 or -ENOMEM.
 */
int rpc_add_session(struct rpc *rpc, struct session *s, pid_t pid, uid_t uid, gid_t gid,
		    const gid_t *groups, size_t n_groups);
/*
 * Ends a session: every pool it had open takes back the frames it held (and
 * wakes waiters for them); a pool created by a client goes when its last
 * session does, unless the config keeps it. Then session_deinit().
 */
void rpc_remove_session(struct rpc *rpc, struct session *s);

/*
 * Stops @p taking new opens and destroys it once none of its frames is held
 * (now, if none is). Returns true when it is gone already.
 */
bool rpc_pool_remove(struct rpc *rpc, struct pool *p);

/*
 * Housekeeping, now and then: destroys every pool being removed whose frames
 * have all come back, and calls @evict for every session holding more frames
 * than max_frames_per_session (a client that ignores its quota: the library
 * keeps to it), which must close the session.
 */
void rpc_collect(struct rpc *rpc, void (*evict)(struct session *s, void *data), void *data);

/*
 * The status of pool @pool_id for session @s, for the hand-written fast path
 * (proto/fastpath.h). Returns 0, or -errno when the request needs the full
 * path to be answered (no hello yet, no such pool, not allowed): the caller
 * then decodes and dispatches it as any other, which replies with the error.
 */
int rpc_status_fast(struct rpc *rpc, const struct session *s, uint32_t pool_id,
		    struct framing *ret_framing, uint32_t *ret_allocated);

/*
 * Handles @req for session @s and fills @out. Everything @out points to lives
 * in @arena until the caller resets it. Never fails: a failure is a reply
 * with an HRESULT and a message.
 */
void rpc_dispatch(struct rpc *rpc, struct session *s, const Ksalloc__Request *req,
		  struct arena *arena, struct rpc_reply *out);

/* The extended status of @p (counters and holders), in @arena; NULL when out of memory. */
Ksalloc__GetStatusReply *rpc_extended_status(struct rpc *rpc, const struct pool *p,
					     struct arena *arena);

/* ---- subscriptions (events.c) ---- */

/* How often the daemon looks at subscribed pools, while anyone is subscribed. */
#define RPC_TICK_MS 20

/*
 * Sends an event to subscribed session @s. A @droppable one (STATUS) is not
 * queued behind others: -EAGAIN when the socket is full. Returns 0 when sent
 * or queued, or -errno when the session could not take it, in which case the
 * callee closes it (rpc_remove_session() runs before it returns).
 */
typedef int (*rpc_push_fn)(struct session *s, struct rpc_reply *out, bool droppable,
			   void *data);

/* Handles a SubscribeRequest (from rpc_dispatch()). */
void rpc_subscribe(struct rpc *rpc, struct session *s, const Ksalloc__Request *req,
		   struct arena *arena, struct rpc_reply *out);

/* Frees @s's subscription (rpc_remove_session()). */
void rpc_unsubscribe(struct rpc *rpc, struct session *s);

/* Notes frames reclaimed from session @s for the next tick's RECLAIMED events. */
void rpc_note_reclaim(struct rpc *rpc, const struct session *s, const struct pool *p,
		      uint32_t frames);

/*
 * Every RPC_TICK_MS while rpc->n_subscribed: sends each subscriber the events
 * due (STATUS at most every interval_ms per pool, DRY, HELD_TOO_LONG,
 * RECLAIMED, GONE) through @push. @arena is reset before it returns.
 */
void rpc_tick(struct rpc *rpc, struct arena *arena, rpc_push_fn push, void *data);

/* Counts a request that could not be decoded (GetDaemonStats). */
void rpc_count_undecodable(struct rpc *rpc);

/*
 * Fills @out with a failure reply to request @id: @error (negative errno) as
 * its HRESULT, and the printf-formatted message (kept in @arena).
 */
void rpc_reply_error(struct rpc_reply *out, struct arena *arena, uint32_t id, int error,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
