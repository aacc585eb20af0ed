/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The shared-memory layout of a pool: one sealed memfd that the daemon and
 * every client that opened the pool map.
 *
 *   0                    struct shm_header   what the pool is (written once by the daemon)
 *   SHM_SHARED_OFFSET    struct shm_shared   state, futex word, waiters, peak
 *   slots_offset         struct shm_slot[n_slots]      one per tenant that opened the pool
 *   descriptors_offset   struct shm_frame[frames]      one ownership word per frame
 *   data_offset          frame 0, frame 1, ...  every frame_stride bytes (page aligned start)
 *
 * The backend shapes it through the header's layout_flags (SHM_LAYOUT_*): a
 * hugetlb memfd is a whole number of huge pages; frames that are also
 * dma-bufs (udmabuf) start on page boundaries; frames that are dma-bufs of
 * their own (a DMA-BUF heap) are not in the memfd at all (data_offset is its
 * end): frame i is dma-buf i, of frame_stride bytes, handed out with the pool.
 *
 * Tenants. Whoever the daemon gives a slot in the pool is its tenant there,
 * known by a 32-bit id that is never 0; the daemon uses its session ids as
 * tenant ids. shm/ speaks only of tenants: it knows no sessions or sockets.
 *
 * Ownership of a frame is one atomic 64-bit word: the owning tenant's id in
 * the high 32 bits (0: free) and the frame's generation in the low 32 bits,
 * bumped by every acquisition. A compare-and-swap moves a frame between free
 * and owned in one step, so a client killed at any instruction leaves every
 * frame either free or owned by its (dead) tenant, which the daemon reclaims
 * (shm/frame.h).
 *
 * Clients can write to the whole mapping, so nothing read back from it is
 * trusted: readers use the layout they computed or checked themselves
 * (shm_header_check()), never offsets re-read from shared memory.
 */

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/framing.h"

#define SHM_MAGIC 0x4c50534bu /* "KSPL" */
#define SHM_VERSION 4u
#define SHM_NAME_MAX 64 /* bytes, with the NUL */
#define SHM_PAGE_SIZE 4096u
#define SHM_CACHELINE 64u
#define SHM_SHARED_OFFSET 256u
#define SHM_HUGE_PAGE_SIZE (2u << 20) /* MFD_HUGE_2MB */

/*
 * Liveness. The daemon writes CLOCK_MONOTONIC_COARSE (ms) into every pool's
 * shm_shared.heartbeat_ms every SHM_HEARTBEAT_MS. A heartbeat older than
 * SHM_HEARTBEAT_STALE_MS makes a client look at its connection (shm/liveness.h):
 * the daemon is busy, restarting with its connections kept, or gone.
 */
#define SHM_HEARTBEAT_MS 250u
#define SHM_HEARTBEAT_STALE_MS 500u

/*
 * The top bit of a tenant id: the tenant is a stream (shm/stream.h), which
 * owns the frames published into it. Session ids stay below it.
 */
#define SHM_TENANT_STREAM (UINT32_C(1) << 31)

/* shm_header.layout_flags: how the backend shapes the layout. */
enum {
	SHM_LAYOUT_HUGE_PAGES = 1u << 0,  /* the memfd's size is a multiple of SHM_HUGE_PAGE_SIZE */
	SHM_LAYOUT_PAGE_FRAMES = 1u << 1, /* frame_stride is a multiple of SHM_PAGE_SIZE */
	SHM_LAYOUT_DMABUF_FRAMES = 1u << 2,   /* each frame is also a dma-buf, sent with the pool */
	SHM_LAYOUT_EXTERNAL_FRAMES = 1u << 3, /* frames are only dma-bufs: none in the memfd */
	SHM_LAYOUT_VALID = (1u << 4) - 1,
};

/* Pool states, in shm_shared.state. */
enum {
	SHM_STATE_COMMITTED = 1,   /* frames may be acquired */
	SHM_STATE_DECOMMITTED = 2, /* no new acquisitions; held frames stay valid */
	SHM_STATE_DESTROYED = 3,   /* the daemon dropped the pool; reopen by name */
};

struct shm_header {
	uint32_t magic;
	uint32_t version;
	uint64_t size_bytes; /* the whole memfd */
	uint32_t pool_id;
	uint32_t frames;
	uint32_t frame_size;
	uint32_t file_alignment;
	uint32_t options_flags;
	uint32_t pool_type;
	uint32_t n_slots;
	uint32_t layout_flags; /* SHM_LAYOUT_* */
	uint64_t frame_stride;
	uint64_t slots_offset;
	uint64_t descriptors_offset;
	uint64_t data_offset;
	char name[SHM_NAME_MAX];
};

/*
 * What every user of the pool writes. Each group sits on its own cache line,
 * so that the read-mostly words are not invalidated by the written ones.
 */
struct shm_shared {
	/* Read on every acquire and release; written rarely. */
	alignas(SHM_CACHELINE) _Atomic uint32_t state;
	_Atomic uint32_t waiters;    /* threads blocked in acquire, all tenants (see shm_slot) */
	_Atomic uint32_t slots_used; /* slots below this may be in use: the daemon raises it */
	/*
	 * CLOCK_MONOTONIC_COARSE ms, written by the daemon every SHM_HEARTBEAT_MS:
	 * on the line every acquire reads anyway, so checking it costs no miss.
	 */
	_Atomic uint64_t heartbeat_ms;
	/* Numbers a tenant's place in the queue of waiting tenants. */
	alignas(SHM_CACHELINE) _Atomic uint32_t ticket;
	/* Frames owned right now as counted by acquirers, and the highest it reached. */
	alignas(SHM_CACHELINE) _Atomic uint32_t allocated;
	_Atomic uint32_t peak;
	/*
	 * The frame freed last, by anyone: still warm in some cache, so acquire looks
	 * there early (a stream's producer gets back the frame its consumer just let go
	 * of, rather than the coldest). A hint only: checked against n_frames when read.
	 */
	_Atomic uint32_t last_freed;
};

/*
 * One per tenant that opened the pool; the daemon hands out the slot and
 * keeps its own record of whose it is. Only that tenant's threads write it,
 * so its counters cost no cross-process cache traffic.
 */
struct shm_slot {
	/*
	 * The tenant that has the slot (set by the daemon) in the high 32 bits,
	 * and how many of its threads wait in acquire in the low 32 bits: one word,
	 * so that a thread counts itself in or out only while the slot is still its
	 * tenant's, and the daemon takes a closed tenant's count out exactly once.
	 */
	alignas(SHM_CACHELINE) _Atomic uint64_t tenant;
	_Atomic uint32_t wait_ticket; /* its place in the queue while threads wait */
	_Atomic uint32_t futex;  /* its waiters sleep here; bumped when a frame is handed over */
	_Atomic uint32_t handed; /* frames handed over to it and not picked up yet */
	_Atomic uint64_t acquisitions;
	_Atomic uint64_t timeouts;
};

/*
 * One cache line per frame: two processes working on neighbouring frames
 * would otherwise fight over one line (measured: 120 to 360 ns a pair across
 * CPUs instead of about 90).
 */
struct shm_frame {
	alignas(SHM_CACHELINE) _Atomic uint64_t owner; /* tenant << 32 | generation; 0: free */
	_Atomic uint64_t acquired_ms; /* CLOCK_MONOTONIC_COARSE at the last acquisition */
};

/*
 * The top bit of the generation marks a frame handed over by a release to a
 * waiting tenant that has not picked it up yet; generations are 31 bits.
 */
#define SHM_HANDOFF (UINT32_C(1) << 31)
#define SHM_GENERATION_MASK (SHM_HANDOFF - 1)

_Static_assert(sizeof(struct shm_header) <= SHM_SHARED_OFFSET, "header overlaps shared state");
_Static_assert(sizeof(struct shm_slot) == SHM_CACHELINE, "one slot per cache line");
_Static_assert(sizeof(struct shm_frame) == SHM_CACHELINE, "one frame per cache line");

static inline uint64_t shm_owner(uint32_t tenant, uint32_t generation)
{
	return (uint64_t)tenant << 32 | generation;
}

static inline uint32_t shm_owner_tenant(uint64_t owner)
{
	return (uint32_t)(owner >> 32);
}

static inline uint32_t shm_owner_generation(uint64_t owner)
{
	return (uint32_t)owner;
}

struct shm_layout {
	uint32_t flags; /* SHM_LAYOUT_* */
	uint32_t n_slots;
	uint64_t slots_offset;
	uint64_t descriptors_offset;
	uint64_t data_offset;
	uint64_t frame_stride;
	uint64_t size_bytes;
};

/*
 * Computes the layout of a pool with framing @f, @n_slots tenant slots and
 * the backend's @flags (SHM_LAYOUT_*). Returns 0, -EOVERFLOW when the pool
 * would be larger than @max_size_bytes, or -EINVAL for flags that make no sense.
 */
int shm_layout_compute(const struct framing *f, uint32_t n_slots, uint32_t flags,
		       uint64_t max_size_bytes, struct shm_layout *ret_layout);

/* Bytes of memory the frames take, wherever they live: frames * frame_stride. */
static inline uint64_t shm_layout_frame_bytes(const struct shm_layout *l, uint32_t frames)
{
	return (uint64_t)frames * l->frame_stride;
}

/* Writes a fresh control block (committed, all frames free) into @map. */
void shm_header_write(void *map, const struct shm_layout *layout, uint32_t pool_id,
		      const char *name, const struct framing *f);

/*
 * Checks the header at @map, of which @map_size bytes are mapped: magic,
 * version, the layout recomputed from the header's framing, and that every
 * region lies inside @map_size. Returns 0 and *ret_layout (the recomputed one,
 * safe to use), or -EBADMSG with *ret_reason naming the first inconsistency.
 */
int shm_header_check(const void *map, size_t map_size, struct shm_layout *ret_layout,
		     const char **ret_reason);

/*
 * Pool names: 1 to SHM_NAME_MAX - 1 bytes of [A-Za-z0-9._-], not starting
 * with '.' or '-' (they appear in file names, memfd names and log lines
 * without quoting). Returns NULL for a valid name, else a static sentence
 * saying what is wrong with it.
 */
const char *shm_name_problem(const char *name);
