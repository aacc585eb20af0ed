/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The daemon's pools, by id (O(1): the status fast path) and by name.
 * Ids count up from a random start and are never reused, so a stale id from
 * a client (even one from before the daemon restarted) can only miss, never
 * reach another pool.
 */

#include <stddef.h>
#include <stdint.h>

#include "daemon/storage/pool.h"
#include "daemon/storage/stream.h"

struct storage;

int storage_new(struct storage **ret_storage);
/* Frees every pool. Accepts NULL; returns NULL. */
struct storage *storage_free(struct storage *s);

/*
 * Creates a pool (pool_new()) under the next id. Returns 0 and *ret_pool
 * (owned by @s; may be NULL), -EEXIST when the name is taken, or pool_new()'s
 * -errno.
 */
int storage_add(struct storage *s, const struct pool_options *o, struct pool **ret_pool);

/* Destroys pool @id (pool_free()); its id is never handed out again. */
void storage_remove(struct storage *s, uint32_t id);

/* pool_retire() on every pool: the daemon is about to close its sessions and go. */
void storage_retire(struct storage *s);

struct pool *storage_get(const struct storage *s, uint32_t id);
struct pool *storage_find(const struct storage *s, const char *name);
size_t storage_count(const struct storage *s);

/*
 * Iterates: for (id = 0; (p = storage_next(s, &id));) visits pools in id order. *@id is
 * the last id visited, so removing pools (the one visited too) while iterating is safe.
 */
struct pool *storage_next(const struct storage *s, uint32_t *id);

/* pool_heartbeat() on every pool: the daemon lives at @now_ms (CLOCK_MONOTONIC_COARSE). */
void storage_heartbeat(struct storage *s, uint64_t now_ms);

/* Slots of the table by id, for the tests: it shrinks when pools go. */
size_t storage_table_size(const struct storage *s);

/*
 * Taking over from a daemon before this one (the file descriptor store).
 * storage_ids() tells where ids stand, to be saved; storage_restore_ids(),
 * before any pool exists, makes ids go on from there, so that adopted pools
 * keep theirs and new ones never reuse one. Returns 0, -EBUSY when a pool
 * exists already, or -EINVAL for a range past INT32_MAX.
 */
void storage_ids(const struct storage *s, uint32_t *ret_base, uint32_t *ret_used);
int storage_restore_ids(struct storage *s, uint32_t base, uint32_t used);

/*
 * Adds pool @id (within the restored range, not taken) from its memfd @fd
 * with pool_adopt(), which takes @fd in every case. Returns 0 and *ret_pool,
 * -EEXIST (the id or the name is taken), -ERANGE, -ENOMEM, or pool_adopt()'s
 * -errno, with *ret_reason saying why.
 */
int storage_adopt(struct storage *s, uint32_t id, int fd, const struct pool_adopt_options *o,
		  struct pool **ret_pool, const char **ret_reason);

/*
 * Makes a stream called @name on pool @p (stream_new()) with a fresh id and
 * keeps it. The pool's removal removes its streams first.
 */
int storage_add_stream(struct storage *s, const char *name, struct pool *p,
		       const struct pool_access *access, bool from_config,
		       struct stream **ret_stream);

/* Keeps stream @id, made by a daemon before this one (stream_adopt()); @fd taken on success. */
int storage_adopt_stream(struct storage *s, uint32_t id, int fd, struct pool *p,
			 const struct pool_access *access, bool from_config,
			 struct stream **ret_stream, const char **ret_reason);

/* Drops stream @st (stream_free()). */
void storage_remove_stream(struct storage *s, struct stream *st);

struct stream *storage_find_stream(const struct storage *s, const char *name);
struct stream *storage_get_stream(const struct storage *s, uint32_t id);

/* Every stream (struct stream, linked by link), oldest first. */
const struct list *storage_streams(const struct storage *s);

/*
 * Frees the frames of pool @only (NULL: of every pool) owned by streams that
 * are no more: a daemon before this one had them and they were not taken
 * over, or a client wrote a stream's tenant into an ownership word. Returns
 * how many. (pool_detach()'s own sweep leaves streams' frames alone.)
 */
uint32_t storage_sweep_stream_orphans(struct storage *s, struct pool *only);
