/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The daemon's rpc without sockets, as tests/unit/test-dispatch.c and
 * test-events.c drive it: real pools in memfds on a real storage, an rpc
 * over them, and an arena for the messages. The tests add their own
 * sessions with rpc_add_session(), as transport does; rpc_fixture_deinit()
 * ends whichever are left. Every step is checked with Check's assertions,
 * so these are for Check cases only (fuzz/fuzz-dispatch.c builds its own
 * state: it is built without Check).
 */

#include <stddef.h>

#include "daemon/rpc/rpc.h"
#include "proto/arena.h"

/* A pool of the config: memfd, persistent, one slot per session rpc allows. */
struct rpc_fixture_pool {
	const char *name;
	struct framing framing;
	struct pool_access access;
};

struct rpc_fixture {
	struct storage *storage;
	struct rpc rpc;
	struct arena arena;
};

/*
 * Fills @fx from scratch (also when Check does not fork, CK_FORK=no): a
 * storage with @pools, an arena of @arena_bytes, an rpc with @limits and
 * @policy and no session yet. Logs errors only. @fx must stay where it is
 * afterwards, as rpc_init() says.
 */
void rpc_fixture_init(struct rpc_fixture *fx, const struct rpc_fixture_pool *pools, size_t n_pools,
		      const struct rpc_limits *limits, const struct rpc_policy *policy,
		      size_t arena_bytes);

/* Ends every session still in @fx's rpc, then frees the storage and the arena. */
void rpc_fixture_deinit(struct rpc_fixture *fx);
