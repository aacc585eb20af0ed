/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's rpc without sockets, for the Check cases that drive it (rpc-fixture.h). */
#include "tests/unit/rpc-fixture.h"

#include <check.h>
#include <string.h>

#include "common/list.h"
#include "daemon/util/log.h"

void rpc_fixture_init(struct rpc_fixture *fx, const struct rpc_fixture_pool *pools, size_t n_pools,
		      const struct rpc_limits *limits, const struct rpc_policy *policy,
		      size_t arena_bytes)
{
	memset(fx, 0, sizeof(*fx));
	log_set_level(LOG_LEVEL_ERROR);
	ck_assert_int_eq(storage_new(&fx->storage), 0);
	for (size_t i = 0; i < n_pools; i++) {
		struct pool_options o = {
			.name = pools[i].name,
			.framing = pools[i].framing,
			.backend = "memfd",
			.n_slots = limits->max_pool_sessions,
			.persistent = true,
			.from_config = true,
			.access = pools[i].access,
		};

		ck_assert_int_eq(storage_add(fx->storage, &o, NULL), 0);
	}
	ck_assert_int_eq(arena_init(&fx->arena, arena_bytes), 0);
	rpc_init(&fx->rpc, fx->storage, limits, policy);
}

void rpc_fixture_deinit(struct rpc_fixture *fx)
{
	struct session *s, *next;

	list_for_each_entry_safe(s, next, &fx->rpc.sessions, link)
		rpc_remove_session(&fx->rpc, s);
	storage_free(fx->storage);
	arena_deinit(&fx->arena);
}
