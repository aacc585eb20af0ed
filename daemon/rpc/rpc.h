/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * rpc: what the daemon knows of its clients and how it answers them. No
 * libuv and no socket calls here; transport (server.c, connection.c) owns
 * the bytes and the fds.
 *
 * This file is the state: limits and policy, the list of sessions, the
 * request counters, the events. Requests go through dispatch.h to the
 * handlers (handlers.h), which read and change that state.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/list.h"
#include "daemon/rpc/events.h"
#include "daemon/rpc/session.h"
#include "daemon/storage/storage.h"
#include "shm/framing.h"

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

	struct events events; /* every subscription */

	/*
	 * Bumped by every change to sessions (added, removed, a request served):
	 * whoever keeps a copy of the state (daemon/handover.c) compares it.
	 */
	uint64_t changes;
};

/*
 * Fills @rpc for the pools of @storage (borrowed), with no session yet. @rpc
 * must stay where it is afterwards: its session list and its events point
 * into it.
 */
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
 * session does, unless the config keeps it. Its subscription ends, and
 * session_deinit() frees the rest.
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
 * Starts session @s again as @r says (taking over from a daemon before this
 * one), with its id, token and name, and gives it back each pool binding
 * whose pool exists and whose slot is free (pool_attach_slot()); the others
 * are dropped with a log line. A session that was subscribed to events is
 * subscribed again with the same parameters. Returns 0, -EEXIST when the id
 * is live, or -ENOMEM.
 */
int rpc_restore_session(struct rpc *rpc, struct session *s, const struct session_restore *r);

/* Roles in a stream, for rpc_stream_leave(): a consumer slot (0..31), or these. */
#define RPC_ROLE_PRODUCER UINT32_C(0xfffffffe)
#define RPC_ROLE_ALL UINT32_MAX

/*
 * Ends @role of @s in stream @st (RPC_ROLE_ALL: every one it has): the
 * stream's repairs run (stream_drop_producer(), stream_remove_consumer()),
 * and a stream nobody uses any more goes unless the config declares it.
 * @why ("closed", "went away") is for the log.
 */
void rpc_stream_leave(struct rpc *rpc, struct stream *st, const struct session *s, uint32_t role,
		      const char *why);
