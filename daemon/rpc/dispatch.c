/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/rpc/dispatch.h"

#include <errno.h>

#include "common/macro.h"
#include "daemon/rpc/handlers.h"
#include "daemon/storage/access.h"

#define NEEDS_HELLO RPC_HANDLER_NEEDS_HELLO

/*
 * Indexed by Ksalloc__Request__BodyCase. A type listed here beyond the
 * table's size does not compile; a type ksalloc.proto has and this table
 * lacks is caught below at compile time (the switch) and by test-dispatch
 * at run time (every body field of the descriptor has its row).
 */
static const struct rpc_handler handlers[RPC_REQUEST_TYPES] = {
	[KSALLOC__REQUEST__BODY_HELLO] = { handle_hello, RPC_HANDLER_CHANGES, "hello" },
	[KSALLOC__REQUEST__BODY_LIST_POOLS] = { handle_list_pools, NEEDS_HELLO, "list_pools" },
	[KSALLOC__REQUEST__BODY_OPEN_POOL] = { handle_open_pool, NEEDS_HELLO | RPC_HANDLER_CHANGES,
					       "open_pool" },
	[KSALLOC__REQUEST__BODY_GET_STATUS] = { handle_get_status, NEEDS_HELLO, "get_status" },
	[KSALLOC__REQUEST__BODY_CREATE_POOL] = { handle_create_pool,
						 NEEDS_HELLO | RPC_HANDLER_CHANGES, "create_pool" },
	[KSALLOC__REQUEST__BODY_SET_COMMITTED] = { handle_set_committed,
						   NEEDS_HELLO | RPC_HANDLER_CHANGES,
						   "set_committed" },
	[KSALLOC__REQUEST__BODY_RESHAPE_POOL] = { handle_reshape_pool,
						  NEEDS_HELLO | RPC_HANDLER_CHANGES,
						  "reshape_pool" },
	[KSALLOC__REQUEST__BODY_LIST_SESSIONS] = { handle_list_sessions, NEEDS_HELLO,
						   "list_sessions" },
	[KSALLOC__REQUEST__BODY_DESTROY_POOL] = { handle_destroy_pool,
						  NEEDS_HELLO | RPC_HANDLER_CHANGES,
						  "destroy_pool" },
	[KSALLOC__REQUEST__BODY_GET_FRAME_FDS] = { handle_get_frame_fds, NEEDS_HELLO,
						   "get_frame_fds" },
	[KSALLOC__REQUEST__BODY_LIST_BACKENDS] = { handle_list_backends, NEEDS_HELLO,
						   "list_backends" },
	[KSALLOC__REQUEST__BODY_GET_DAEMON_STATS] = { handle_get_daemon_stats, NEEDS_HELLO,
						      "get_daemon_stats" },
	[KSALLOC__REQUEST__BODY_SUBSCRIBE] = { handle_subscribe, NEEDS_HELLO | RPC_HANDLER_CHANGES,
					       "subscribe" },
	[KSALLOC__REQUEST__BODY_CREATE_STREAM] = { handle_create_stream,
						   NEEDS_HELLO | RPC_HANDLER_CHANGES,
						   "create_stream" },
	[KSALLOC__REQUEST__BODY_OPEN_STREAM] = { handle_open_stream,
						 NEEDS_HELLO | RPC_HANDLER_CHANGES, "open_stream" },
	[KSALLOC__REQUEST__BODY_CLOSE_STREAM] = { handle_close_stream,
						  NEEDS_HELLO | RPC_HANDLER_CHANGES,
						  "close_stream" },
	[KSALLOC__REQUEST__BODY_LIST_STREAMS] = { handle_list_streams, NEEDS_HELLO,
						  "list_streams" },
};

/* One counter of each kind per row: rpc_status_fast() and rpc_dispatch() index both by type. */
_Static_assert(ELEMENTSOF(handlers) == ELEMENTSOF(((struct rpc *)NULL)->requests_ok),
	       "the handler table and the request counters must have a row per request type");

/*
 * Never called: with -Wswitch (-Wall), a body case that ksalloc.proto gains
 * and this list lacks is a warning, an error with -Werror, naming the case.
 * Give the new type a row in handlers[] above, then its case here.
 */
__attribute__((unused)) static void request_types_all_known(Ksalloc__Request__BodyCase type)
{
	switch (type) {
	case KSALLOC__REQUEST__BODY__NOT_SET:
	case KSALLOC__REQUEST__BODY_HELLO:
	case KSALLOC__REQUEST__BODY_LIST_POOLS:
	case KSALLOC__REQUEST__BODY_OPEN_POOL:
	case KSALLOC__REQUEST__BODY_GET_STATUS:
	case KSALLOC__REQUEST__BODY_CREATE_POOL:
	case KSALLOC__REQUEST__BODY_SET_COMMITTED:
	case KSALLOC__REQUEST__BODY_RESHAPE_POOL:
	case KSALLOC__REQUEST__BODY_LIST_SESSIONS:
	case KSALLOC__REQUEST__BODY_DESTROY_POOL:
	case KSALLOC__REQUEST__BODY_GET_FRAME_FDS:
	case KSALLOC__REQUEST__BODY_LIST_BACKENDS:
	case KSALLOC__REQUEST__BODY_GET_DAEMON_STATS:
	case KSALLOC__REQUEST__BODY_SUBSCRIBE:
	case KSALLOC__REQUEST__BODY_CREATE_STREAM:
	case KSALLOC__REQUEST__BODY_OPEN_STREAM:
	case KSALLOC__REQUEST__BODY_CLOSE_STREAM:
	case KSALLOC__REQUEST__BODY_LIST_STREAMS:
	/* protobuf-c's, to make the enum as wide as an int: no request type. */
	case _KSALLOC__REQUEST__BODY__CASE_IS_INT_SIZE:
		break;
	}
}

const struct rpc_handler *rpc_handler_for(int body_case)
{
	if (body_case <= 0 || body_case >= (int)ELEMENTSOF(handlers) || !handlers[body_case].handle)
		return NULL;
	return &handlers[body_case];
}

void rpc_count_undecodable(struct rpc *rpc)
{
	rpc->undecodable++;
}

static void count_request(struct rpc *rpc, int type, bool ok)
{
	if (type <= 0 || type >= RPC_REQUEST_TYPES)
		return;
	if (ok)
		rpc->requests_ok[type]++;
	else
		rpc->requests_failed[type]++;
}

void rpc_dispatch(struct rpc *rpc, struct session *s, const Ksalloc__Request *req,
		  struct arena *arena, struct rpc_reply *out)
{
	struct rpc_call c = {
		.rpc = rpc, .session = s, .request = req, .arena = arena, .reply = out
	};
	const struct rpc_handler *h = rpc_handler_for((int)req->body_case);

	if (req->body_case == KSALLOC__REQUEST__BODY__NOT_SET)
		/* A newer client's request, or garbage that happened to decode. */
		call_fail(&c, -EOPNOTSUPP,
			  "unknown request: this daemon speaks protocol version %u",
			  WIRE_PROTOCOL_VERSION);
	else if (!s->greeted && (!h || (h->flags & RPC_HANDLER_NEEDS_HELLO)))
		call_fail(&c, -EPROTO, "the first request of a session must be hello");
	else if (!h)
		call_fail(&c, -EOPNOTSUPP, "unknown request type %d", (int)req->body_case);
	else
		h->handle(&c);
	count_request(rpc, (int)req->body_case, out->msg.hresult >= 0);
	/* A hello names the session, an open binds a pool: a copy of the state is stale. */
	if (h && (h->flags & RPC_HANDLER_CHANGES))
		rpc->changes++;
}

int rpc_status_fast(struct rpc *rpc, const struct session *s, uint32_t pool_id,
		    struct framing *ret_framing, uint32_t *ret_allocated)
{
	struct peer peer = session_peer(s);
	struct pool *p;

	if (!s->greeted)
		return -EPROTO;
	p = storage_get(rpc->storage, pool_id);
	if (!p)
		return -ENOENT;
	if (!access_allows(&p->access, &peer, ACCESS_READ))
		return -EACCES;
	*ret_framing = p->framing;
	*ret_allocated = pool_allocated_frames(p);
	count_request(rpc, KSALLOC__REQUEST__BODY_GET_STATUS, true);
	return 0;
}
