/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The shared-memory layout of a pool: one sealed memfd that both the daemon
 * and every client map.
 *
 *   offset 0                  struct shm_header (one page, read-only by contract)
 *   descriptors_offset        struct shm_frame[frames] (one ownership word each)
 *   data_offset (page aligned) frame 0, frame 1, ... every frame_stride bytes
 *
 * Ownership of a frame is one atomic 64-bit word: 0 when free, otherwise the
 * owning session's id in the high 32 bits and a generation in the low 32 bits.
 *
 * Clients can write to the whole mapping, so nothing read back from it is
 * trusted: shm_header_check() validates a header against the size the reader
 * knows from fstat() and against what the reader expects.
 */

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "framing.h"

#define SHM_MAGIC 0x4c50534bu /* "KSPL" */
#define SHM_VERSION 1u
#define SHM_NAME_MAX 64 /* bytes, with the NUL */
#define SHM_PAGE_SIZE 4096u

struct shm_header {
	uint32_t magic;
	uint32_t version;
	uint64_t size_bytes; /* the whole memfd */
	uint32_t pool_id;
	uint32_t frames;
	uint32_t frame_size;
	uint32_t file_alignment;
	uint64_t frame_stride;
	uint64_t descriptors_offset;
	uint64_t data_offset;
	char name[SHM_NAME_MAX];
};

struct shm_frame {
	_Atomic uint64_t owner; /* 0: free; else session id << 32 | generation */
};

struct shm_layout {
	uint64_t descriptors_offset;
	uint64_t data_offset;
	uint64_t frame_stride;
	uint64_t size_bytes;
};

/*
 * Computes the layout of a pool with framing @f. Returns 0, or -EOVERFLOW when
 * the pool would be larger than a 64-bit size or than @max_size_bytes.
 */
int shm_layout_compute(const struct framing *f, uint64_t max_size_bytes,
		       struct shm_layout *ret_layout);

/* Writes a fresh header (all frames free) into @map of @layout->size_bytes. */
void shm_header_write(void *map, const struct shm_layout *layout, uint32_t pool_id,
		      const char *name, const struct framing *f);

/*
 * Checks the header at @map, of which @map_size bytes are mapped, against the
 * reader's own knowledge: magic, version, the layout recomputed from the
 * header's framing, and that every region lies inside @map_size. Returns 0 or
 * -EBADMSG with *ret_reason naming the first inconsistency.
 */
int shm_header_check(const void *map, size_t map_size, const char **ret_reason);

static inline struct shm_frame *shm_frames(void *map, const struct shm_layout *layout)
{
	return (struct shm_frame *)((char *)map + layout->descriptors_offset);
}

/*
 * Pool names: 1 to SHM_NAME_MAX - 1 bytes of [A-Za-z0-9._-], not starting
 * with '.' or '-' (they appear in file names, memfd names and log lines
 * without quoting). Returns NULL for a valid name, else a static sentence
 * saying what is wrong with it.
 */
const char *shm_name_problem(const char *name);
