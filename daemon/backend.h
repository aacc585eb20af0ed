/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A backend provides the memory of a pool; the pool code (pool.c) validates,
 * lays out and maps it. One const ops table per backend, one file each
 * (backend-<name>.c), as the kernel's dma-heap providers do.
 */

#include <stdint.h>

struct backend_ops {
	const char *name;
	/*
	 * Creates a shareable memory object of @size_bytes for the pool @pool_name.
	 * Returns a CLOEXEC fd that the caller owns, or -errno.
	 */
	int (*create)(const char *pool_name, uint64_t size_bytes);
	/*
	 * Called once the pool is initialised: makes the object's size immutable
	 * for everyone, so no client can shrink it under the daemon (SIGBUS).
	 * Does not take ownership of @fd. Returns 0 or -errno.
	 */
	int (*seal)(int fd);
};

extern const struct backend_ops backend_memfd;

/* Returns the backend called @name, or NULL. */
const struct backend_ops *backend_find(const char *name);
/* The names of all backends, for messages: "memfd". */
const char *backend_names(void);
