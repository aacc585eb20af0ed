/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/rpc/session.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/macro.h"

int session_init(struct session *s, uint32_t id, pid_t pid, uid_t uid, gid_t gid,
		 const gid_t *groups, size_t n_groups)
{
	_cleanup_free_ gid_t *copy = NULL;

	if (n_groups) {
		copy = malloc(n_groups * sizeof(*groups));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, groups, n_groups * sizeof(*groups));
	}
	*s = (struct session){
		.id = id,
		.pid = pid,
		.uid = uid,
		.gid = gid,
		.groups = TAKE_PTR(copy),
		.n_groups = n_groups,
		.connected_ms = pool_now_ms(),
	};
	list_init(&s->link);
	/* The token is an identity the client proves later, so it must not be guessable. */
	if (getrandom(&s->token, sizeof(s->token), GRND_NONBLOCK) != sizeof(s->token))
		s->token = ((uint64_t)s->id << 32) ^ (uint64_t)pid;
	snprintf(s->name, sizeof(s->name), "pid %d", (int)pid);
	return 0;
}

void session_deinit(struct session *s)
{
	free(s->bindings);
	free(s->groups);
	s->bindings = NULL;
	s->n_bindings = 0;
	s->groups = NULL;
	s->n_groups = 0;
}

struct peer session_peer(const struct session *s)
{
	return (struct peer){
		.uid = s->uid, .gid = s->gid, .groups = s->groups, .n_groups = s->n_groups
	};
}

struct binding *session_find_binding(const struct session *s, uint32_t pool_id)
{
	for (uint32_t i = 0; i < s->n_bindings; i++)
		if (s->bindings[i].pool_id == pool_id)
			return &s->bindings[i];
	return NULL;
}

int session_bind(struct session *s, struct pool *p, uint32_t *ret_slot)
{
	struct binding *b = session_find_binding(s, p->id), *grown;
	uint32_t slot;
	int r;

	if (b) {
		*ret_slot = b->slot;
		return 0;
	}
	grown = reallocarray(s->bindings, s->n_bindings + 1, sizeof(*s->bindings));
	if (!grown)
		return -ENOMEM;
	s->bindings = grown;
	r = pool_attach(p, s->id, &slot);
	if (r < 0)
		return r;
	s->bindings[s->n_bindings++] = (struct binding){ .pool_id = p->id, .slot = slot };
	*ret_slot = slot;
	return 0;
}

uint32_t session_frames_held(const struct session *s, const struct storage *storage)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < s->n_bindings; i++) {
		const struct pool *p = storage_get(storage, s->bindings[i].pool_id);

		if (!p)
			continue;
		for (uint32_t f = 0; f < p->framing.frames; f++)
			n += shm_owner_tenant(atomic_load(&p->frames.frames[f].owner)) == s->id;
	}
	return n;
}

struct session *session_find(const struct list *sessions, uint32_t id)
{
	struct session *s;

	list_for_each_entry(s, sessions, link)
		if (s->id == id)
			return s;
	return NULL;
}
