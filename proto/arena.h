/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A bump allocator for protobuf-c: a message is unpacked (or a reply built)
 * into the arena, used, and dropped with arena_reset(), with no malloc or free
 * per message in the steady state. The first block is kept across resets; a
 * message larger than it spills into extra blocks, freed by the next reset.
 * Not thread-safe: one arena per thread or per connection.
 */

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

struct arena_block;

struct arena {
	ProtobufCAllocator allocator; /* pass &arena->allocator to protobuf-c */
	struct arena_block *first;    /* kept across resets */
	struct arena_block *extra;    /* spill blocks, freed by arena_reset() */
	size_t used;                  /* bytes used in first */
};

int arena_init(struct arena *a, size_t size_bytes);
void arena_deinit(struct arena *a);
void arena_reset(struct arena *a);
/* Returns zeroed memory aligned for any type, or NULL when out of memory. */
void *arena_alloc(struct arena *a, size_t size_bytes);

/* A zeroed protobuf-c message of type @T in @arena, or NULL. */
#define ARENA_NEW(arena, T, init)                      \
	({                                             \
		T *_m = arena_alloc(arena, sizeof(T)); \
		if (_m)                                \
			init(_m);                      \
		_m;                                    \
	})
