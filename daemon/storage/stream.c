/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/storage/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macro.h"

#define STREAM_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

static int stream_map(struct stream *s, uint32_t id, const char *name, struct pool *p,
		      const struct pool_access *access, bool from_config)
{
	s->map = mmap(NULL, s->layout.size_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		return -errno;
	}
	s->id = id;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->pool = p;
	s->access = *access;
	s->from_config = from_config;
	list_init(&s->link);
	stream_map_init(&s->sm, s->map, &s->layout, id, &p->frames);
	return 0;
}

int stream_new(uint32_t id, const char *name, struct pool *p, const struct pool_access *access,
	       bool from_config, struct stream **ret_stream)
{
	_cleanup_free_ struct stream *s = calloc(1, sizeof(*s));
	char memfd_name[SHM_NAME_MAX + 16];
	int r;

	if (!s)
		return -ENOMEM;
	r = shm_stream_layout_compute(p->framing.frames, &s->layout);
	if (r < 0)
		return r;
	snprintf(memfd_name, sizeof(memfd_name), "ksalloc-stream-%s", name);
	s->fd = memfd_create(memfd_name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s->fd < 0)
		return -errno;
	if (ftruncate(s->fd, (off_t)s->layout.size_bytes) < 0 ||
	    fcntl(s->fd, F_ADD_SEALS, STREAM_SEALS) < 0) {
		r = -errno;
		close(s->fd);
		return r;
	}
	r = stream_map(s, id, name, p, access, from_config);
	if (r < 0) {
		close(s->fd);
		return r;
	}
	shm_stream_header_write(s->map, &s->layout, id, name, p->id, p->name);
	*ret_stream = TAKE_PTR(s);
	return 0;
}

int stream_adopt(uint32_t id, int fd, struct pool *p, const struct pool_access *access,
		 bool from_config, struct stream **ret_stream, const char **ret_reason)
{
	_cleanup_free_ struct stream *s = calloc(1, sizeof(*s));
	struct stat st;
	int seals, r;

	if (!s)
		return -ENOMEM;
	seals = fcntl(fd, F_GET_SEALS);
	if (fstat(fd, &st) < 0 || seals < 0 || (seals & STREAM_SEALS) != STREAM_SEALS) {
		*ret_reason = "its memory is not sealed";
		return -EBADMSG;
	}
	r = shm_stream_layout_compute(p->framing.frames, &s->layout);
	if (r < 0 || (uint64_t)st.st_size != s->layout.size_bytes) {
		*ret_reason = "its size does not match its pool's frames";
		return -EBADMSG;
	}
	s->fd = fd;
	r = stream_map(s, id, "", p, access, from_config);
	if (r < 0) {
		*ret_reason = "cannot map it";
		return r;
	}
	r = shm_stream_header_check(s->map, s->layout.size_bytes, p->id, p->framing.frames,
				    &s->layout, ret_reason);
	if (r < 0 || ((const struct shm_stream_header *)s->map)->stream_id != id) {
		munmap(s->map, s->layout.size_bytes);
		if (r == 0)
			*ret_reason = "it is another stream";
		return -EBADMSG;
	}
	/* The name as the header has it, bounded: the memory may have been written by anyone. */
	snprintf(s->name, sizeof(s->name), "%.*s", SHM_NAME_MAX - 1,
		 ((const struct shm_stream_header *)s->map)->name);
	*ret_stream = TAKE_PTR(s);
	return 0;
}

struct stream *stream_free(struct stream *s)
{
	if (!s)
		return NULL;
	munmap(s->map, s->layout.size_bytes);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	return NULL;
}

int stream_set_producer(struct stream *s, uint32_t session)
{
	if (s->producer)
		return -EBUSY;
	s->producer = session;
	stream_producer_attach(&s->sm, session);
	return 0;
}

uint32_t stream_drop_producer(struct stream *s)
{
	uint32_t n = stream_producer_gone(&s->sm, s->producer);

	s->producer = 0;
	return n;
}

int stream_add_consumer(struct stream *s, uint32_t session, uint32_t policy, uint32_t depth,
			uint32_t max_held, bool read_only, uint32_t *ret_slot)
{
	for (uint32_t c = 0; c < SHM_STREAM_CONSUMERS; c++) {
		if (s->consumers[c])
			continue;
		s->consumers[c] = session;
		s->read_only[c] = read_only;
		s->n_consumers++;
		s->drops_seen[c] = 0; /* stream_consumer_attach() zeroes the counter */
		s->drops_told_ms[c] = 0;
		stream_consumer_attach(&s->sm, c, session, policy, depth, max_held);
		*ret_slot = c;
		return 0;
	}
	return -EUSERS;
}

uint32_t stream_remove_consumer(struct stream *s, uint32_t slot)
{
	if (slot >= SHM_STREAM_CONSUMERS || !s->consumers[slot])
		return 0;
	s->consumers[slot] = 0;
	s->read_only[slot] = false;
	s->n_consumers--;
	return stream_consumer_detach(&s->sm, slot);
}

int stream_restore_consumer(struct stream *s, uint32_t slot, uint32_t session, bool read_only)
{
	if (slot >= SHM_STREAM_CONSUMERS || s->consumers[slot])
		return -EEXIST;
	s->consumers[slot] = session;
	s->read_only[slot] = read_only;
	s->n_consumers++;
	s->drops_told_ms[slot] = 0;
	/* What was dropped while no daemon ran is not reported. */
	s->drops_seen[slot] =
		atomic_load_explicit(&s->sm.consumers[slot].dropped, memory_order_relaxed);
	return 0;
}

uint32_t stream_consumer_new_drops(struct stream *s, uint32_t slot)
{
	uint64_t now, seen;

	if (slot >= SHM_STREAM_CONSUMERS || !s->consumers[slot])
		return 0;
	now = atomic_load_explicit(&s->sm.consumers[slot].dropped, memory_order_relaxed);
	seen = s->drops_seen[slot];
	s->drops_seen[slot] = now;
	if (now <= seen)
		return 0;
	return now - seen > UINT32_MAX ? UINT32_MAX : (uint32_t)(now - seen);
}

bool stream_unused(const struct stream *s)
{
	return s->producer == 0 && s->n_consumers == 0;
}
