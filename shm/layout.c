/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "shm/layout.h"

#include <errno.h>
#include <string.h>
#include <time.h>

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int shm_layout_compute(const struct framing *f, uint32_t n_slots, uint32_t flags,
		       uint64_t max_size_bytes, struct shm_layout *ret_layout)
{
	struct shm_layout l = { .flags = flags, .n_slots = n_slots };
	uint64_t data_bytes, granule;

	if ((flags & ~SHM_LAYOUT_VALID) ||
	    ((flags & SHM_LAYOUT_EXTERNAL_FRAMES) && !(flags & SHM_LAYOUT_DMABUF_FRAMES)))
		return -EINVAL;
	granule = flags & SHM_LAYOUT_HUGE_PAGES ? SHM_HUGE_PAGE_SIZE : SHM_PAGE_SIZE;
	l.frame_stride = framing_stride(f);
	/* A dma-buf is made of whole pages. */
	if (flags & (SHM_LAYOUT_PAGE_FRAMES | SHM_LAYOUT_DMABUF_FRAMES))
		l.frame_stride = align_up(l.frame_stride, SHM_PAGE_SIZE);
	l.slots_offset = align_up(SHM_SHARED_OFFSET + sizeof(struct shm_shared), SHM_CACHELINE);
	/* Slot and frame counts are 32-bit: these products cannot overflow 64 bits. */
	l.descriptors_offset = align_up(
		l.slots_offset + (uint64_t)n_slots * sizeof(struct shm_slot), SHM_CACHELINE);
	l.data_offset =
		align_up(l.descriptors_offset + (uint64_t)f->frames * sizeof(struct shm_frame),
			 SHM_PAGE_SIZE);
	/* Frames that are dma-bufs of their own take no room here. */
	data_bytes = flags & SHM_LAYOUT_EXTERNAL_FRAMES ? 0 : shm_layout_frame_bytes(&l, f->frames);
	if (data_bytes > UINT64_MAX - l.data_offset - granule)
		return -EOVERFLOW;
	l.size_bytes = align_up(l.data_offset + data_bytes, granule);
	if (l.size_bytes > max_size_bytes)
		return -EOVERFLOW;
	*ret_layout = l;
	return 0;
}

void shm_header_write(void *map, const struct shm_layout *layout, uint32_t pool_id,
		      const char *name, const struct framing *f)
{
	struct shm_header *h = map;
	struct shm_shared *shared = (struct shm_shared *)((char *)map + SHM_SHARED_OFFSET);
	struct shm_slot *slots = (struct shm_slot *)((char *)map + layout->slots_offset);
	struct shm_frame *frames = (struct shm_frame *)((char *)map + layout->descriptors_offset);
	struct timespec now;

	memset(h, 0, sizeof(*h));
	h->magic = SHM_MAGIC;
	h->version = SHM_VERSION;
	h->size_bytes = layout->size_bytes;
	h->pool_id = pool_id;
	h->frames = f->frames;
	h->frame_size = f->frame_size;
	h->file_alignment = f->file_alignment;
	h->options_flags = f->options_flags;
	h->pool_type = f->pool_type;
	h->n_slots = layout->n_slots;
	h->layout_flags = layout->flags;
	h->frame_stride = layout->frame_stride;
	h->slots_offset = layout->slots_offset;
	h->descriptors_offset = layout->descriptors_offset;
	h->data_offset = layout->data_offset;
	strncpy(h->name, name, SHM_NAME_MAX - 1);

	atomic_init(&shared->state, SHM_STATE_COMMITTED);
	/* Born beating: clients that map it at once must not find it stale. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	atomic_init(&shared->heartbeat_ms,
		    (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000);
	atomic_init(&shared->waiters, 0);
	atomic_init(&shared->slots_used, 0);
	atomic_init(&shared->ticket, 0);
	atomic_init(&shared->allocated, 0);
	atomic_init(&shared->peak, 0);
	for (uint32_t i = 0; i < layout->n_slots; i++) {
		atomic_init(&slots[i].tenant, 0);
		atomic_init(&slots[i].wait_ticket, 0);
		atomic_init(&slots[i].futex, 0);
		atomic_init(&slots[i].handed, 0);
		atomic_init(&slots[i].acquisitions, 0);
		atomic_init(&slots[i].timeouts, 0);
	}
	for (uint32_t i = 0; i < f->frames; i++) {
		atomic_init(&frames[i].owner, 0);
		atomic_init(&frames[i].acquired_ms, 0);
	}
}

int shm_header_check(const void *map, size_t map_size, struct shm_layout *ret_layout,
		     const char **ret_reason)
{
	static const struct framing_limits no_limits = { UINT32_MAX, UINT32_MAX };
	const struct shm_header *h = map;
	struct framing f;
	struct shm_layout l;
	const char *reason = NULL;

	if (map_size < SHM_SHARED_OFFSET + sizeof(struct shm_shared))
		reason = "mapping is smaller than a pool's control block";
	else if (h->magic != SHM_MAGIC)
		reason = "bad magic: not a ksalloc pool";
	else if (h->version != SHM_VERSION)
		reason = "unsupported pool layout version";
	else if (h->size_bytes != map_size)
		reason = "header size does not match the memfd's size";
	else if (memchr(h->name, 0, sizeof(h->name)) == NULL)
		reason = "pool name is not terminated";
	if (reason)
		goto fail;

	f = (struct framing){
		.options_flags = h->options_flags,
		.pool_type = h->pool_type,
		.frames = h->frames,
		.frame_size = h->frame_size,
		.file_alignment = h->file_alignment,
	};
	/* framing_validate() sets reason itself when it fails. */
	if (framing_validate(&f, &no_limits, NULL, &reason) < 0)
		goto fail;
	if (shm_layout_compute(&f, h->n_slots, h->layout_flags, map_size, &l) < 0)
		reason = "frames do not fit in the memfd";
	else if (l.slots_offset != h->slots_offset ||
		 l.descriptors_offset != h->descriptors_offset || l.data_offset != h->data_offset ||
		 l.frame_stride != h->frame_stride || l.size_bytes != h->size_bytes)
		reason = "layout in the header does not match its framing";
	if (reason)
		goto fail;
	*ret_layout = l;
	return 0;
fail:
	*ret_reason = reason;
	return -EBADMSG;
}

const char *shm_name_problem(const char *name)
{
	static const char allowed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				      "0123456789._-";
	size_t len = strnlen(name, SHM_NAME_MAX);

	if (len == 0)
		return "pool name is empty";
	if (len >= SHM_NAME_MAX)
		return "pool name is longer than 63 bytes";
	if (name[strspn(name, allowed)] != '\0')
		return "pool name may only contain A-Z a-z 0-9 . _ -";
	if (name[0] == '.' || name[0] == '-')
		return "pool name must not start with '.' or '-'";
	return NULL;
}
