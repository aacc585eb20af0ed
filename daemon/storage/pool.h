/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A pool: frames of one framing in one shared memory object, with its control
 * block (shm/layout.h), and the daemon's own record of which session has which
 * slot in it. Storage knows no sockets and no protobuf; it is I/O-free apart
 * from its own memory syscalls and the futex wakes of shm/frame.c.
 */

#include <stdbool.h>
#include <stdint.h>

#include "daemon/storage/access.h"
#include "daemon/storage/backend.h"
#include "shm/frame.h"
#include "shm/framing.h"
#include "shm/layout.h"

/* Largest pool the daemon maps: 1 TiB of address space. */
#define POOL_MAX_SIZE_BYTES (UINT64_C(1) << 40)

struct pool {
	uint32_t id; /* never 0, never reused while the daemon runs */
	char name[SHM_NAME_MAX];
	struct framing framing;
	struct backend backend;
	struct shm_layout layout;
	int fd;         /* the sealed memfd, handed to clients */
	void *map;      /* the daemon's own mapping of all of it */
	int *frame_fds; /* with SHM_LAYOUT_DMABUF_FRAMES: frame i's dma-buf; else NULL */
	bool locked;    /* its pages are locked in memory (mlock) */
	struct frame_pool frames;

	bool persistent;  /* stays when its last session closes */
	bool from_config; /* defined by the config: reload may change its access or remove it */
	bool committed;
	bool removing; /* no new opens: destroyed once no frame is held */
	bool retired;  /* the daemon is going away: no frame is handed out any more */
	struct pool_access access;

	/* slot_sessions[i]: the session that has slot i, 0 if free. The daemon's truth, not shm's. */
	uint32_t *slot_sessions;
	uint32_t n_attached;

	/* Counters of sessions that have gone, kept when their slots are reused. */
	uint64_t acquisitions_closed;
	uint64_t timeouts_closed;
	uint64_t reclaimed;
	uint64_t last_reclaim_ns; /* CLOCK_MONOTONIC when the last reclaim was complete */
	uint32_t last_reclaim_frames;
};

struct pool_stats {
	uint32_t allocated; /* frames owned right now (counted from the ownership words) */
	uint32_t peak;
	uint32_t waiters;
	uint64_t acquisitions;
	uint64_t timeouts;
	uint64_t reclaimed;
	uint64_t last_reclaim_ns;
	uint32_t last_reclaim_frames;
};

struct pool_options {
	const char *name;
	struct framing framing; /* already validated */
	const char *backend;    /* a backend's name, or "device" (backend_resolve()) */
	uint32_t n_slots;       /* sessions that may have it open at once */
	bool persistent;
	bool from_config;
	bool locked; /* lock its pages in memory (KS NonPagedPool, KERNEL_NONPAGED) */
	struct pool_access access;
	struct backend_error *error; /* NULL, or where a failure is described for a person */
};

/*
 * Creates pool @id as @o says: creates the backend's memory, maps it (and
 * locks it), writes the control block, seals it, exports its frames as
 * dma-bufs where the backend has them. Returns 0 and *ret_pool, or -errno:
 * -EINVAL (no such backend, or a bad framing), -ENODEV (this machine lacks
 * the backend), -EOVERFLOW (too large to map), -ENOMEM (not enough huge
 * pages), -EDQUOT (locking it would pass RLIMIT_MEMLOCK), -EMFILE; o->error
 * says why.
 */
int pool_new(uint32_t id, const struct pool_options *o, struct pool **ret_pool);

/*
 * Marks the pool destroyed (waking its waiters), unmaps and closes it; the
 * clients keep their own mappings. Accepts NULL; returns NULL.
 */
struct pool *pool_free(struct pool *p);

/*
 * Gives @session a slot (the one it has, if it has one). Returns 0 and
 * *ret_slot, or -EUSERS when every slot is taken.
 */
int pool_attach(struct pool *p, uint32_t session, uint32_t *ret_slot);

/*
 * Takes @slot back from its session: every frame the session still owns is
 * freed (or handed to a waiter), as is every frame owned by no session that
 * has the pool open (what a crashed or scribbling client can leave). Returns
 * the number of frames taken back.
 */
uint32_t pool_detach(struct pool *p, uint32_t slot);

/*
 * Counts @frames taken back from a client that went (as pool_detach() does;
 * a stream's repairs call it too), and when: the status's reclaimed and
 * last reclaim.
 */
void pool_note_reclaim(struct pool *p, uint32_t frames);

/*
 * Marks the pool destroyed for its users before the daemon goes away: their
 * waiters wake and fail, and pool_detach() from now on leaves every frame as it
 * is: frames held by live clients stay theirs, valid memory. Nothing is freed.
 */
void pool_retire(struct pool *p);

/*
 * Writes the daemon's heartbeat (CLOCK_MONOTONIC_COARSE @now_ms) into the control block,
 * which clients read to learn that the daemon lives (shm/liveness.h). Not once retired.
 */
void pool_heartbeat(struct pool *p, uint64_t now_ms);

/* Commit or decommit: decommitting wakes every waiter, who then fails. */
void pool_set_committed(struct pool *p, bool committed);

void pool_get_stats(const struct pool *p, struct pool_stats *ret_stats);

/* Bytes of memory the pool takes: its memfd, and its frames where they are dma-bufs of their own. */
uint64_t pool_bytes(const struct pool *p);

/* Whether @p has framing @f, field by field. */
bool pool_has_framing(const struct pool *p, const struct framing *f);

/* Frames owned right now, counted from the ownership words. */
uint32_t pool_allocated_frames(const struct pool *p);

/*
 * Counts what each slot's session holds: @held[slot] frames, the oldest
 * acquired at @oldest_ms[slot] (CLOCK_MONOTONIC_COARSE ms; 0 when none).
 * Both arrays have layout.n_slots entries.
 */
void pool_count_holds(const struct pool *p, uint32_t *held, uint64_t *oldest_ms);

/*
 * Replaces the pool's memory with memory of framing @f (validated), from the
 * same backend. The caller makes sure nobody else uses the pool. Returns 0,
 * or -errno with @err saying why, in which case the pool is unchanged.
 */
int pool_reshape(struct pool *p, const struct framing *f, struct backend_error *err);

/* CLOCK_MONOTONIC_COARSE in ms, the clock of shm_frame.acquired_ms. */
uint64_t pool_now_ms(void);

/* What a daemon before this one knew of a pool that pool_adopt() takes over. */
struct pool_adopt_options {
	const char *name;
	const char *backend; /* the backend's name as it was resolved ("memfd", "hugetlb") */
	bool persistent;
	bool from_config;
	bool locked;
	bool committed;
	bool removing;
	struct pool_access access;
	uint64_t acquisitions_closed;
	uint64_t timeouts_closed;
	uint64_t reclaimed;
	uint64_t last_reclaim_ns;
	uint32_t last_reclaim_frames;
	/*
	 * Backends whose frames are dma-bufs: frame i's dma-buf as the daemon
	 * before had it, -1 where missing; @n_frame_fds of them. Borrowed:
	 * pool_adopt() keeps copies (dups) of the ones it takes.
	 */
	const int *frame_fds;
	uint32_t n_frame_fds;
};

/*
 * Takes over pool @id from a daemon before this one (the file descriptor
 * store): @fd must be a memfd sealed as pool_new() seals (shrink, grow, seal;
 * not write), of the size its control block says, whose control block passes
 * shm_header_check() and names pool @id and @o->name with the backend's
 * layout. Its frames and slots stay as they are: frames held stay held and
 * waiters keep waiting. No slot is the daemon's until pool_attach_slot();
 * pool_adopt_finish() then takes back what nobody attached holds. Where
 * frames are dma-bufs (udmabuf, dmaheap:<heap>), @o->frame_fds must hold one
 * for every frame, each a dma-buf of the backend's exporter at least a
 * frame_stride long. Takes ownership of @fd in every case. Returns 0 and *ret_pool, or -errno
 * with *ret_reason a sentence for the log.
 */
int pool_adopt(uint32_t id, int fd, const struct pool_adopt_options *o, struct pool **ret_pool,
	       const char **ret_reason);

/*
 * Gives slot @slot to @session again, as the daemon before had it, keeping
 * the slot's waiting threads. Returns 0, -ERANGE (no such slot) or -EBUSY
 * (it is another session's already).
 */
int pool_attach_slot(struct pool *p, uint32_t session, uint32_t slot);

/*
 * After adoption, once every session that survived has its slot back:
 * frames owned by anyone else are taken back (handed to waiters), slots of
 * nobody are cleared, and the state word is rewritten. Returns the number of
 * frames taken back.
 */
uint32_t pool_adopt_finish(struct pool *p);
