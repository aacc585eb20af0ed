/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A session: what the daemon knows of one client, from its connection to its
 * hang-up. Who it is (SO_PEERCRED, SO_PEERGROUPS, the name it gave in hello),
 * the pools it has open and its slot in each. Transport embeds one in each
 * connection; rpc keeps the list of them (rpc_add_session()). A session's id
 * is also its tenant id in the ownership words of the pools it opens.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/list.h"
#include "daemon/storage/access.h"
#include "daemon/storage/storage.h"

#define SESSION_NAME_MAX 64 /* bytes, with the NUL */

/* A pool a session has open, and its slot there. */
struct binding {
	uint32_t pool_id;
	uint32_t slot;
};

struct subscription; /* daemon/rpc/events.c */

struct session {
	struct list link; /* in rpc's sessions, newest first */
	uint32_t id;      /* never 0: 0 means "free" in an ownership word */
	uint64_t token;
	pid_t pid; /* from SO_PEERCRED at connect time */
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* supplementary, from SO_PEERGROUPS */
	size_t n_groups;
	uint64_t connected_ms;
	char name[SESSION_NAME_MAX]; /* from hello, printable ASCII only; "pid N" before */
	bool greeted;                /* hello done */

	struct binding *bindings;
	uint32_t n_bindings;

	struct subscription *sub; /* NULL unless it subscribed; events.c's to free */
};

/*
 * Fills @s for a peer that connected just now, as session @id (not 0), with a
 * token nobody can guess. @groups (@n_groups supplementary groups) is copied.
 * Returns 0, or -ENOMEM with nothing to undo.
 */
int session_init(struct session *s, uint32_t id, pid_t pid, uid_t uid, gid_t gid,
		 const gid_t *groups, size_t n_groups);

/*
 * Frees what @s holds. Its pools are the caller's to detach from first
 * (rpc_remove_session()): this only forgets them.
 */
void session_deinit(struct session *s);

/* Who @s is, for access_allows(). */
struct peer session_peer(const struct session *s);

/* @s's binding to pool @pool_id, or NULL when it does not have it open. */
struct binding *session_find_binding(const struct session *s, uint32_t pool_id);

/*
 * Opens @p in @s: a slot in the pool (pool_attach()), remembered for the
 * session's end. A pool already open keeps its slot. Returns 0 and *ret_slot,
 * -ENOMEM, or pool_attach()'s -EUSERS when the pool has no free slot.
 */
int session_bind(struct session *s, struct pool *p, uint32_t *ret_slot);

/* The frames @s holds right now, in every pool it has open (read from shared memory). */
uint32_t session_frames_held(const struct session *s, const struct storage *storage);

/* The session with id @id on @sessions (linked by their link), or NULL. */
struct session *session_find(const struct list *sessions, uint32_t id);

/* A session as a daemon before this one had it (the file descriptor store). */
struct session_restore {
	uint32_t id;
	uint64_t token;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t n_groups;
	const char *name;
	bool greeted;
	uint64_t connected_ms;
	const struct binding *bindings;
	uint32_t n_bindings;
	/* Its subscription to events (events_subscribe()), or NULL: none. */
	const char *sub_pool; /* "": every pool it may see */
	uint32_t sub_interval_ms;
	uint32_t sub_hold_ms;
	bool sub_streams;
};
