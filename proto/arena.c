/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "proto/arena.h"

#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
	struct arena_block *next;
	size_t size;
	alignas(max_align_t) unsigned char data[];
};

#define ARENA_ALIGN alignof(max_align_t)

static void *arena_pb_alloc(void *data, size_t size)
{
	return arena_alloc(data, size);
}

static void arena_pb_free(void *data, void *ptr)
{
	/* Everything goes at once in arena_reset(). */
}

int arena_init(struct arena *a, size_t size_bytes)
{
	struct arena_block *b = malloc(sizeof(*b) + size_bytes);

	if (!b)
		return -ENOMEM;
	b->next = NULL;
	b->size = size_bytes;
	*a = (struct arena){
		.allocator = { .alloc = arena_pb_alloc, .free = arena_pb_free, .allocator_data = a },
		.first = b,
	};
	return 0;
}

static void free_blocks(struct arena_block *b)
{
	while (b) {
		struct arena_block *next = b->next;

		free(b);
		b = next;
	}
}

void arena_reset(struct arena *a)
{
	free_blocks(a->extra);
	a->extra = NULL;
	a->used = 0;
}

void arena_deinit(struct arena *a)
{
	arena_reset(a);
	free(a->first);
	a->first = NULL;
}

void *arena_alloc(struct arena *a, size_t size_bytes)
{
	size_t rounded = (size_bytes + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	struct arena_block *b;
	void *p;

	if (rounded < size_bytes)
		return NULL;
	if (a->first && rounded <= a->first->size - a->used) {
		p = a->first->data + a->used;
		a->used += rounded;
		memset(p, 0, size_bytes);
		return p;
	}
	/* Spill: one block per allocation keeps this rare path simple. */
	b = calloc(1, sizeof(*b) + size_bytes);
	if (!b)
		return NULL;
	b->size = size_bytes;
	b->next = a->extra;
	a->extra = b;
	return b->data;
}
