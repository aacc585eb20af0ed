/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int pool_new(uint32_t id, const char *name, const struct framing *f,
	     const struct backend_ops *backend, struct pool **ret_pool)
{
	struct pool *p;
	int r;

	if (id == 0 || strlen(name) >= SHM_NAME_MAX)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->id = id;
	strcpy(p->name, name);
	p->framing = *f;
	p->backend = backend;
	p->fd = -1;
	p->map = MAP_FAILED;

	r = shm_layout_compute(f, POOL_MAX_SIZE_BYTES, &p->layout);
	if (r < 0)
		goto fail;
	r = backend->create(name, p->layout.size_bytes);
	if (r < 0)
		goto fail;
	p->fd = r;
	p->map = mmap(NULL, p->layout.size_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
	if (p->map == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	shm_header_write(p->map, &p->layout, id, name, f);
	r = backend->seal(p->fd);
	if (r < 0)
		goto fail;

	*ret_pool = p;
	return 0;
fail:
	pool_free(p);
	return r;
}

struct pool *pool_free(struct pool *p)
{
	if (!p)
		return NULL;
	if (p->map != MAP_FAILED)
		munmap(p->map, p->layout.size_bytes);
	if (p->fd >= 0)
		close(p->fd);
	free(p);
	return NULL;
}

uint32_t pool_allocated_frames(const struct pool *p)
{
	const struct shm_frame *frames = shm_frames(p->map, &p->layout);
	uint32_t n = 0;

	/* The count is the daemon's own layout's, never the header's. */
	for (uint32_t i = 0; i < p->framing.frames; i++)
		n += atomic_load_explicit(&frames[i].owner, memory_order_relaxed) != 0;
	return n;
}
