/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A pool: frames of one framing in one shared memory object, with its control
 * block (proto/shm.h). Storage knows no sockets and no protobuf; it is I/O-free
 * apart from its own memory syscalls.
 */

#include <stdint.h>

#include "backend.h"
#include "framing.h"
#include "shm.h"

/* Largest pool the daemon maps: 1 TiB of address space. */
#define POOL_MAX_SIZE_BYTES (UINT64_C(1) << 40)

struct pool {
	uint32_t id; /* never 0, never reused while the daemon runs */
	char name[SHM_NAME_MAX];
	struct framing framing;
	const struct backend_ops *backend;
	struct shm_layout layout;
	int fd;    /* the sealed memory object, handed to clients */
	void *map; /* the daemon's own mapping of all of it */
};

/*
 * Creates pool @id called @name with framing @f (already validated) in
 * @backend's memory: creates, maps, writes the control block, seals.
 * Returns 0 and *ret_pool, or -errno (-EOVERFLOW: too large to map).
 */
int pool_new(uint32_t id, const char *name, const struct framing *f,
	     const struct backend_ops *backend, struct pool **ret_pool);

/* Unmaps and closes; clients keep their own mappings. Accepts NULL; returns NULL. */
struct pool *pool_free(struct pool *p);

/*
 * Frames owned right now, read from the descriptors in shared memory. A
 * client may write anything there; every word is only compared, so garbage
 * can make the count wrong for that pool but never makes the daemon misbehave.
 */
uint32_t pool_allocated_frames(const struct pool *p);
