/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Transport's ways into rpc with a request: the full path (a decoded request
 * in, a reply out, through a table of handlers indexed by the request's body
 * case, as dbus-broker's driver_methods[]) and the status fast path. Both
 * count what they answer, by request type, for GetDaemonStats.
 */

#include <stdint.h>

#include "daemon/rpc/reply.h"
#include "daemon/rpc/rpc.h"
#include "daemon/rpc/session.h"
#include "proto/arena.h"
#include "proto/protocol.h"
#include "shm/framing.h"

struct rpc_call;

/* A request type's row in the table. */
struct rpc_handler {
	void (*handle)(struct rpc_call *c);
	unsigned flags;   /* RPC_HANDLER_* */
	const char *name; /* the body field's name in ksalloc.proto, as GetDaemonStats says it */
};

/* Refused with E_UNEXPECTED until the session has said hello. */
#define RPC_HANDLER_NEEDS_HELLO (1u << 0)
/* Changes what a copy of the state holds (sessions' names and bindings, pools): bumps rpc->changes. */
#define RPC_HANDLER_CHANGES (1u << 1)

/* The row of request type @body_case (a Request body field number), or NULL if it has none. */
const struct rpc_handler *rpc_handler_for(int body_case);

/*
 * Handles @req for session @s and fills @out. Everything @out points to lives
 * in @arena until the caller resets it. Never fails: a failure is a reply
 * with an HRESULT and a message.
 */
void rpc_dispatch(struct rpc *rpc, struct session *s, const Ksalloc__Request *req,
		  struct arena *arena, struct rpc_reply *out);

/*
 * The status of pool @pool_id for session @s, for the hand-written fast path
 * (proto/fastpath.h). Returns 0, or -errno when the request needs the full
 * path to be answered (no hello yet, no such pool, not allowed): the caller
 * then decodes and dispatches it as any other, which replies with the error.
 */
int rpc_status_fast(struct rpc *rpc, const struct session *s, uint32_t pool_id,
		    struct framing *ret_framing, uint32_t *ret_allocated);

/* Counts a request that could not be decoded (GetDaemonStats). */
void rpc_count_undecodable(struct rpc *rpc);
