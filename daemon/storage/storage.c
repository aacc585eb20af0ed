/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/storage/storage.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/*
 * Two views of the same pools, both sized to the live ones so the table shrinks
 * when pools go (a daemon that creates and destroys pools for weeks must not
 * grow a slot for every id it ever handed out):
 *
 * - by id, an open-addressing hash with linear probing (storage_get(), on the
 *   status fast path: O(1)). Ids are consecutive, so "id & mask" spreads them
 *   perfectly; ids a client makes up only ever cost a probe sequence ending at
 *   an empty slot, as the table is never more than half full. Removal shifts
 *   the entries behind back, so there are no tombstones to sweep.
 * - in id order, a dense array (storage_next(), storage_find()): ids only grow,
 *   so a new pool goes at the end; a removal moves the ones after it.
 */
struct storage {
	struct pool **table; /* table_size slots, NULL: empty */
	size_t table_size;   /* a power of two, at least TABLE_MIN */
	struct pool **pools; /* count live pools, in id order */
	size_t count;
	size_t capacity;
	uint32_t base;  /* ids are base + 1, base + 2, ...: see storage_new() */
	uint32_t n_ids; /* ids handed out so far */

	/* Streams, few and looked up by name: a list, oldest first. */
	struct list streams;
	uint32_t next_stream_id;
};

#define TABLE_MIN 16u

static size_t slot_of(const struct storage *s, uint32_t id)
{
	return id & (s->table_size - 1);
}

static void table_insert(struct pool **table, size_t size, struct pool *p)
{
	size_t i = p->id & (size - 1);

	while (table[i])
		i = (i + 1) & (size - 1);
	table[i] = p;
}

/* Rebuilds the table at @size slots (a power of two) from the dense array. */
static int table_resize(struct storage *s, size_t size)
{
	struct pool **table = calloc(size, sizeof(*table));

	if (!table)
		return -ENOMEM;
	for (size_t i = 0; i < s->count; i++)
		table_insert(table, size, s->pools[i]);
	free(s->table);
	s->table = table;
	s->table_size = size;
	return 0;
}

/* Deletes the entry at @i, moving back those of its probe run that may not stay behind a hole. */
static void table_delete(struct storage *s, size_t i)
{
	size_t mask = s->table_size - 1, j = i;

	s->table[i] = NULL;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!s->table[j])
			return;
		home = slot_of(s, s->table[j]->id);
		/* The entry at j may move to the hole at i unless its home lies in (i, j]. */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		s->table[i] = s->table[j];
		s->table[j] = NULL;
		i = j;
	}
}

/* The index in s->pools of the first pool with an id above @id. */
static size_t first_after(const struct storage *s, uint32_t id)
{
	size_t lo = 0, hi = s->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->pools[mid]->id <= id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int storage_new(struct storage **ret_storage)
{
	struct storage *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	if (table_resize(s, TABLE_MIN) < 0) {
		free(s);
		return -ENOMEM;
	}
	/*
	 * Ids start at a random point, so that a daemon started again does not hand
	 * out the ids of the one before: a client holding a frame handle from then
	 * cannot have it match a pool of now. Below 2^31, leaving room to count up.
	 */
	if (getrandom(&s->base, sizeof(s->base), GRND_NONBLOCK) != sizeof(s->base))
		s->base = (uint32_t)time(NULL);
	s->base &= INT32_MAX >> 1;
	list_init(&s->streams);
	s->next_stream_id = 1;
	*ret_storage = s;
	return 0;
}

struct storage *storage_free(struct storage *s)
{
	if (!s)
		return NULL;
	/* Left as they are: a daemon after this one may adopt them (handover). */
	while (!list_empty(&s->streams)) {
		struct stream *st = list_first_entry(&s->streams, struct stream, link);

		list_remove(&st->link);
		stream_free(st);
	}
	for (size_t i = 0; i < s->count; i++)
		pool_free(s->pools[i]);
	free(s->pools);
	free(s->table);
	free(s);
	return NULL;
}

/* Makes room for one more pool in both views; they are unchanged on failure. */
static int storage_reserve(struct storage *s)
{
	if (s->count == s->capacity) {
		size_t cap = s->capacity ? s->capacity * 2 : 16;
		struct pool **pools = reallocarray(s->pools, cap, sizeof(*pools));

		if (!pools)
			return -ENOMEM;
		s->pools = pools;
		s->capacity = cap;
	}
	/* At most half full after the insert. */
	if (2 * (s->count + 1) > s->table_size && table_resize(s, 2 * s->table_size) < 0)
		return -ENOMEM;
	return 0;
}

int storage_add(struct storage *s, const struct pool_options *o, struct pool **ret_pool)
{
	struct pool *p;
	int r;

	if (storage_find(s, o->name))
		return -EEXIST;
	if (s->n_ids == INT32_MAX)
		return -ENOSPC;
	r = storage_reserve(s);
	if (r < 0)
		return r;
	r = pool_new(s->base + s->n_ids + 1, o, &p);
	if (r < 0)
		return r;
	s->n_ids++;
	s->pools[s->count++] = p;
	table_insert(s->table, s->table_size, p);
	if (ret_pool)
		*ret_pool = p;
	return 0;
}

/* A pool goes after its streams: they point into its memory. */
static void remove_streams_of(struct storage *s, const struct pool *p)
{
	struct stream *st, *next;

	list_for_each_entry_safe(st, next, &s->streams, link)
		if (st->pool == p)
			storage_remove_stream(s, st);
}

void storage_remove(struct storage *s, uint32_t id)
{
	size_t i = slot_of(s, id), k;

	while (s->table[i] && s->table[i]->id != id)
		i = (i + 1) & (s->table_size - 1);
	if (!s->table[i])
		return;
	remove_streams_of(s, s->table[i]);
	table_delete(s, i);
	k = first_after(s, id) - 1;
	pool_free(s->pools[k]);
	memmove(&s->pools[k], &s->pools[k + 1], (s->count - k - 1) * sizeof(*s->pools));
	s->count--;
	/* Shrinking is best effort: a failed one leaves the larger, still valid, table. */
	if (s->table_size > TABLE_MIN && 8 * s->count < s->table_size)
		(void)table_resize(s, s->table_size / 2);
	if (s->capacity > 16 && 4 * s->count < s->capacity) {
		struct pool **pools = reallocarray(s->pools, s->capacity / 2, sizeof(*pools));

		if (pools) {
			s->pools = pools;
			s->capacity /= 2;
		}
	}
}

void storage_retire(struct storage *s)
{
	struct stream *st;

	for (size_t i = 0; i < s->count; i++)
		pool_retire(s->pools[i]);
	/* Consumers wake to -ESHUTDOWN, as acquirers do. */
	list_for_each_entry(st, &s->streams, link)
		stream_destroy(&st->sm);
}

void storage_heartbeat(struct storage *s, uint64_t now_ms)
{
	for (size_t i = 0; i < s->count; i++)
		pool_heartbeat(s->pools[i], now_ms);
}

struct pool *storage_get(const struct storage *s, uint32_t id)
{
	size_t i = slot_of(s, id);

	if (id == 0)
		return NULL;
	while (s->table[i]) {
		if (s->table[i]->id == id)
			return s->table[i];
		i = (i + 1) & (s->table_size - 1);
	}
	return NULL;
}

struct pool *storage_find(const struct storage *s, const char *name)
{
	for (size_t i = 0; i < s->count; i++)
		if (strcmp(s->pools[i]->name, name) == 0)
			return s->pools[i];
	return NULL;
}

size_t storage_count(const struct storage *s)
{
	return s->count;
}

struct pool *storage_next(const struct storage *s, uint32_t *id)
{
	size_t i = first_after(s, *id);

	if (i == s->count)
		return NULL;
	*id = s->pools[i]->id;
	return s->pools[i];
}

size_t storage_table_size(const struct storage *s)
{
	return s->table_size;
}

void storage_ids(const struct storage *s, uint32_t *ret_base, uint32_t *ret_used)
{
	*ret_base = s->base;
	*ret_used = s->n_ids;
}

int storage_restore_ids(struct storage *s, uint32_t base, uint32_t used)
{
	if (s->count || s->n_ids)
		return -EBUSY;
	if (base > INT32_MAX || used > INT32_MAX - base)
		return -EINVAL;
	s->base = base;
	s->n_ids = used;
	return 0;
}

int storage_adopt(struct storage *s, uint32_t id, int fd, const struct pool_adopt_options *o,
		  struct pool **ret_pool, const char **ret_reason)
{
	struct pool *p;
	size_t k;
	int r;

	if (id <= s->base || id - s->base > s->n_ids) {
		close(fd);
		*ret_reason = "its id is outside those handed out";
		return -ERANGE;
	}
	if (storage_get(s, id) || storage_find(s, o->name)) {
		close(fd);
		*ret_reason = "its id or name is taken";
		return -EEXIST;
	}
	r = storage_reserve(s);
	if (r < 0) {
		close(fd);
		*ret_reason = "out of memory";
		return r;
	}
	r = pool_adopt(id, fd, o, &p, ret_reason);
	if (r < 0)
		return r;
	/* Adopted in any order: it goes where its id puts it in the dense array. */
	k = first_after(s, id);
	memmove(&s->pools[k + 1], &s->pools[k], (s->count - k) * sizeof(*s->pools));
	s->pools[k] = p;
	s->count++;
	table_insert(s->table, s->table_size, p);
	*ret_pool = p;
	return 0;
}

int storage_add_stream(struct storage *s, const char *name, struct pool *p,
		       const struct pool_access *access, bool from_config,
		       struct stream **ret_stream)
{
	struct stream *st;
	int r;

	r = stream_new(s->next_stream_id, name, p, access, from_config, &st);
	if (r < 0)
		return r;
	/* Ids fit below SHM_TENANT_STREAM, where they become the stream's tenant. */
	s->next_stream_id = (s->next_stream_id + 1) & ~SHM_TENANT_STREAM;
	if (s->next_stream_id == 0)
		s->next_stream_id = 1;
	list_add_tail(&s->streams, &st->link);
	*ret_stream = st;
	return 0;
}

int storage_adopt_stream(struct storage *s, uint32_t id, int fd, struct pool *p,
			 const struct pool_access *access, bool from_config,
			 struct stream **ret_stream, const char **ret_reason)
{
	struct stream *st;
	int r;

	if (id == 0 || id >= SHM_TENANT_STREAM || storage_get_stream(s, id)) {
		*ret_reason = "its id is taken or out of range";
		return -EEXIST;
	}
	r = stream_adopt(id, fd, p, access, from_config, &st, ret_reason);
	if (r < 0)
		return r;
	if (storage_find_stream(s, st->name)) {
		*ret_reason = "another stream has its name";
		st->fd = -1; /* the caller's still */
		stream_free(st);
		return -EEXIST;
	}
	if (id >= s->next_stream_id)
		s->next_stream_id = (id + 1) & ~SHM_TENANT_STREAM;
	if (s->next_stream_id == 0)
		s->next_stream_id = 1;
	list_add_tail(&s->streams, &st->link);
	*ret_stream = st;
	return 0;
}

void storage_remove_stream(struct storage *s, struct stream *st)
{
	(void)s;
	list_remove(&st->link);
	/* Its frames go back to the pool, and its users wake to find it gone. */
	stream_destroy(&st->sm);
	stream_free(st);
}

struct stream *storage_find_stream(const struct storage *s, const char *name)
{
	struct stream *st;

	list_for_each_entry(st, &s->streams, link)
		if (strcmp(st->name, name) == 0)
			return st;
	return NULL;
}

struct stream *storage_get_stream(const struct storage *s, uint32_t id)
{
	struct stream *st;

	list_for_each_entry(st, &s->streams, link)
		if (st->id == id)
			return st;
	return NULL;
}

const struct list *storage_streams(const struct storage *s)
{
	return &s->streams;
}

uint32_t storage_sweep_stream_orphans(struct storage *s, struct pool *only)
{
	uint32_t n = 0;

	for (size_t i = 0; i < s->count; i++) {
		struct pool *p = s->pools[i];

		if (only && p != only)
			continue;
		for (uint32_t f = 0; f < p->framing.frames; f++) {
			uint32_t tenant = shm_owner_tenant(atomic_load(&p->frames.frames[f].owner));
			struct stream *st;

			if (!(tenant & SHM_TENANT_STREAM))
				continue;
			st = storage_get_stream(s, tenant & ~SHM_TENANT_STREAM);
			if (!st || st->pool != p)
				n += frame_reclaim_owned(&p->frames, tenant);
		}
	}
	return n;
}
