/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/storage/storage.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

struct storage {
	struct pool **by_id; /* by_id[id - base - 1]; NULL for a destroyed pool */
	uint32_t base;       /* ids are base + 1, base + 2, ...: see storage_new() */
	uint32_t n_ids;      /* ids handed out so far */
	size_t capacity;
	size_t count; /* live pools */
};

int storage_new(struct storage **ret_storage)
{
	struct storage *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	/*
	 * Ids start at a random point, so that a daemon started again does not hand
	 * out the ids of the one before: a client holding a frame handle from then
	 * cannot have it match a pool of now. Below 2^31, leaving room to count up.
	 */
	if (getrandom(&s->base, sizeof(s->base), GRND_NONBLOCK) != sizeof(s->base))
		s->base = (uint32_t)time(NULL);
	s->base &= INT32_MAX >> 1;
	*ret_storage = s;
	return 0;
}

struct storage *storage_free(struct storage *s)
{
	if (!s)
		return NULL;
	for (uint32_t i = 0; i < s->n_ids; i++)
		pool_free(s->by_id[i]);
	free(s->by_id);
	free(s);
	return NULL;
}

int storage_add(struct storage *s, const struct pool_options *o, struct pool **ret_pool)
{
	struct pool *p;
	int r;

	if (storage_find(s, o->name))
		return -EEXIST;
	if (s->n_ids == INT32_MAX)
		return -ENOSPC;
	if (s->n_ids == s->capacity) {
		size_t cap = s->capacity ? s->capacity * 2 : 16;
		struct pool **by_id = reallocarray(s->by_id, cap, sizeof(*by_id));

		if (!by_id)
			return -ENOMEM;
		s->by_id = by_id;
		s->capacity = cap;
	}
	r = pool_new(s->base + s->n_ids + 1, o, &p);
	if (r < 0)
		return r;
	s->by_id[s->n_ids++] = p;
	s->count++;
	if (ret_pool)
		*ret_pool = p;
	return 0;
}

void storage_remove(struct storage *s, uint32_t id)
{
	uint32_t i = id - s->base - 1;

	if (id <= s->base || i >= s->n_ids || !s->by_id[i])
		return;
	s->by_id[i] = pool_free(s->by_id[i]);
	s->count--;
}

void storage_retire(struct storage *s)
{
	struct pool *p;
	uint32_t id = 0;

	while ((p = storage_next(s, &id)))
		pool_retire(p);
}

struct pool *storage_get(const struct storage *s, uint32_t id)
{
	uint32_t i = id - s->base - 1;

	if (id <= s->base || i >= s->n_ids)
		return NULL;
	return s->by_id[i];
}

struct pool *storage_find(const struct storage *s, const char *name)
{
	for (uint32_t i = 0; i < s->n_ids; i++)
		if (s->by_id[i] && strcmp(s->by_id[i]->name, name) == 0)
			return s->by_id[i];
	return NULL;
}

size_t storage_count(const struct storage *s)
{
	return s->count;
}

struct pool *storage_next(const struct storage *s, uint32_t *id)
{
	while (*id < s->n_ids) {
		struct pool *p = s->by_id[(*id)++];

		if (p)
			return p;
	}
	return NULL;
}

void storage_ids(const struct storage *s, uint32_t *ret_base, uint32_t *ret_used)
{
	*ret_base = s->base;
	*ret_used = s->n_ids;
}

int storage_restore_ids(struct storage *s, uint32_t base, uint32_t used)
{
	struct pool **by_id;

	if (s->count || s->n_ids)
		return -EBUSY;
	if (base > INT32_MAX || used > INT32_MAX - base)
		return -EINVAL;
	if (used > s->capacity) {
		by_id = reallocarray(s->by_id, used, sizeof(*by_id));
		if (!by_id)
			return -ENOMEM;
		s->by_id = by_id;
		s->capacity = used;
	}
	memset(s->by_id, 0, used * sizeof(*s->by_id));
	s->base = base;
	s->n_ids = used;
	return 0;
}

int storage_adopt(struct storage *s, uint32_t id, int fd, const struct pool_adopt_options *o,
		  struct pool **ret_pool, const char **ret_reason)
{
	uint32_t i = id - s->base - 1;
	struct pool *p;
	int r;

	if (id <= s->base || i >= s->n_ids) {
		close(fd);
		*ret_reason = "its id is outside those handed out";
		return -ERANGE;
	}
	if (s->by_id[i] || storage_find(s, o->name)) {
		close(fd);
		*ret_reason = "its id or name is taken";
		return -EEXIST;
	}
	r = pool_adopt(id, fd, o, &p, ret_reason);
	if (r < 0)
		return r;
	s->by_id[i] = p;
	s->count++;
	*ret_pool = p;
	return 0;
}
