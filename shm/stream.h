/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Streams: frames of one pool that travel from a producer to up to
 * SHM_STREAM_CONSUMERS consumers, zero-copy, in shared memory only.
 *
 * A stream is a sealed memfd of its own, made by the daemon and mapped by
 * the producer and each consumer beside the pool's:
 *
 *   0                       struct shm_stream_header   what the stream is (written once)
 *   SHM_STREAM_SHARED_OFFSET struct shm_stream_shared   state, producer, consumers, format
 *   consumers_offset        struct shm_stream_consumer[SHM_STREAM_CONSUMERS]
 *   rings_offset            uint64_t ring[SHM_STREAM_CONSUMERS][SHM_STREAM_RING]
 *   refs_offset             uint64_t refs[pool frames]   generation << 32 | consumer mask
 *   meta_offset             struct shm_stream_meta[pool frames]
 *   format_offset           the format blob, SHM_STREAM_FORMAT_MAX bytes
 *
 * Ownership. A published frame belongs to the stream: the pool's ownership
 * word of the frame reads {shm_stream_tenant(stream id), generation}
 * (the top bit of a tenant id marks a stream), and its refs word names the
 * consumers that still hold a reference, at that generation. A consumer's
 * release clears its bit by compare-and-swap; the one that clears the last
 * frees the frame in the pool (handing it to the pool's longest waiter).
 *
 * Publish: refs = {g, M}; the journal names the frame; the ownership word
 * moves {producer, g} -> {stream, g}; then for each consumer c of M in
 * ascending order the journal names (c, head_c), the entry goes into c's ring
 * and head_c moves on (a release store); a consumer that announced it sleeps
 * is woken, once. Receive claims the entry at its tail by compare-and-swap
 * (LIVE -> TAKEN; a drop-oldest producer claims it LIVE -> EVICTED) and moves
 * the tail on. No lock anywhere: a process killed at any instruction leaves
 * words the daemon can read to finish or undo what it was doing
 * (stream_consumer_detach(), stream_producer_gone()).
 *
 * Wakes (reference/streams.md: measured): a consumer about to sleep stores
 * sleeping = 1 and looks again; a producer that pushed looks at sleeping and
 * takes the announcement back (exchange to 0) before FUTEX_WAKE: one wake per
 * sleep, none while nobody sleeps. A producer that finds a BLOCK consumer's
 * ring full announces itself the same way, and the consumer wakes it once
 * the ring is half empty.
 *
 * Clients can write to the whole mapping, so nothing read back from it is
 * trusted: indexes are bounds-checked, the layout is the one computed here,
 * and a stream whose memory is scribbled over disturbs that stream only.
 */

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/frame.h"

#define SHM_STREAM_MAGIC 0x5453534bu /* "KSST" */
#define SHM_STREAM_VERSION 1u
#define SHM_STREAM_CONSUMERS 32u
#define SHM_STREAM_RING 64u         /* entries in a consumer's ring: the deepest queue */
#define SHM_STREAM_FORMAT_MAX 4096u /* bytes of the stream's format */
#define SHM_STREAM_SHARED_OFFSET 256u
#define SHM_STREAM_LATENCY_BUCKETS 16u /* log2 buckets of publish -> receive, from < 1 µs */
#define SHM_STREAM_MAX_FRAMES \
	(1u << 24) /* frames a stream's pool may have: ring entries hold 24 bits */

static inline uint32_t shm_stream_tenant(uint32_t stream_id)
{
	return SHM_TENANT_STREAM | stream_id;
}

/* shm_stream_shared.state, low byte; the bits above count producers (the epoch). */
enum {
	SHM_STREAM_WAITING = 1,       /* no producer yet */
	SHM_STREAM_FLOWING = 2,       /* a producer is attached */
	SHM_STREAM_ENDED = 3,         /* its producer ended it */
	SHM_STREAM_PRODUCER_GONE = 4, /* its producer went without ending it */
	SHM_STREAM_DESTROYED = 5,     /* the daemon dropped the stream */
};

static inline uint32_t shm_stream_state(uint32_t word)
{
	return word & 0xffu;
}

static inline uint32_t shm_stream_epoch(uint32_t word)
{
	return word >> 8;
}

/* Consumer policies: what a full queue does to a publish (ksalloc_stream_policy). */
enum {
	SHM_STREAM_BLOCK = 0,
	SHM_STREAM_DROP_NEWEST = 1,
	SHM_STREAM_DROP_OLDEST = 2,
	SHM_STREAM_LATEST = 3,
};

struct shm_stream_header {
	uint32_t magic;
	uint32_t version;
	uint64_t size_bytes;
	uint32_t stream_id;
	uint32_t pool_id;
	uint32_t pool_frames;
	uint32_t reserved;
	uint64_t consumers_offset;
	uint64_t rings_offset;
	uint64_t refs_offset;
	uint64_t meta_offset;
	uint64_t format_offset;
	char name[SHM_NAME_MAX];
	char pool_name[SHM_NAME_MAX];
};

struct shm_stream_shared {
	/* Read on every publish and receive; written when the stream changes. */
	alignas(SHM_CACHELINE) _Atomic uint32_t state; /* epoch << 8 | SHM_STREAM_* */
	_Atomic uint32_t producer;                     /* its tenant; 0: none */
	_Atomic uint32_t active;                       /* consumers attached: bit c for slot c */
	_Atomic uint32_t producer_sleeping;            /* futex: 1 while a publish waits for room */
	_Atomic uint32_t format_seq; /* seqlock of the format: odd while written */
	_Atomic uint32_t format_size;
	/* Written by the producer. */
	alignas(SHM_CACHELINE) _Atomic uint64_t published;
	_Atomic uint64_t blocked_ns; /* time publishes waited for room */
	/* The frame being published: SHM_JOURNAL_VALID | index << 31 | generation; 0: none. */
	_Atomic uint64_t journal_frame;
	/* The push under way: consumer << 32 | its head before the push; UINT64_MAX: none yet. */
	_Atomic uint64_t journal_push;
};

#define SHM_JOURNAL_VALID (UINT64_C(1) << 63)

struct shm_stream_consumer {
	/* Written by the daemon when it attaches a consumer; read by publish. */
	alignas(SHM_CACHELINE) _Atomic uint32_t tenant; /* 0: free slot */
	_Atomic uint32_t policy;
	_Atomic uint32_t depth; /* 1..SHM_STREAM_RING */
	_Atomic uint32_t max_held;
	_Atomic uint32_t attached; /* bumped on each attach */
	/*
	 * stream_consumer_epoch() at the attach, + 1 (0: left by a daemon that did
	 * not set it): a producer that goes while the consumer's open is under
	 * way is still its news.
	 */
	_Atomic uint32_t attach_epoch;
	/* Written by the producer. */
	alignas(SHM_CACHELINE) _Atomic uint32_t head;
	_Atomic uint32_t lost; /* 1: frames were dropped for it since its last receive */
	_Atomic uint64_t dropped;
	_Atomic uint64_t wakes; /* FUTEX_WAKEs the producer made for it */
	/* Written by the consumer. */
	alignas(SHM_CACHELINE) _Atomic uint32_t tail;
	_Atomic uint32_t sleeping; /* futex: 1 while it waits for a frame */
	_Atomic uint32_t held;
	_Atomic uint64_t delivered;
	_Atomic uint64_t sleeps;
	_Atomic uint64_t last_sequence; /* of the frame it received last: a gap is a loss */
	alignas(SHM_CACHELINE) _Atomic uint32_t latency[SHM_STREAM_LATENCY_BUCKETS];
};

/* Per frame: what it was published with. The consumer reads it after claiming the entry. */
struct shm_stream_meta {
	alignas(SHM_CACHELINE) int64_t presentation_time;
	uint32_t time_numerator;
	uint32_t time_denominator;
	int64_t duration;
	uint32_t data_used;
	uint32_t options_flags;
	uint32_t type_specific_flags;
	uint32_t format_generation;
	uint64_t sequence;
	uint64_t publish_ns;
};

_Static_assert(sizeof(struct shm_stream_header) <= SHM_STREAM_SHARED_OFFSET, "header too large");
_Static_assert(sizeof(struct shm_stream_consumer) == 4 * SHM_CACHELINE, "consumer lines");
_Static_assert(sizeof(struct shm_stream_meta) == SHM_CACHELINE, "one meta line per frame");

/* Ring entries: state << 62 | index << 31 | generation. */
enum { SHM_ENTRY_LIVE = 0, SHM_ENTRY_TAKEN = 1, SHM_ENTRY_EVICTED = 2 };

static inline uint64_t shm_entry(uint32_t state, uint32_t index, uint32_t generation)
{
	return (uint64_t)state << 62 | (uint64_t)(index & (SHM_STREAM_MAX_FRAMES - 1)) << 31 |
	       (generation & SHM_GENERATION_MASK);
}

struct shm_stream_layout {
	uint32_t pool_frames;
	uint64_t consumers_offset;
	uint64_t rings_offset;
	uint64_t refs_offset;
	uint64_t meta_offset;
	uint64_t format_offset;
	uint64_t size_bytes;
};

/* The layout of a stream over a pool of @pool_frames frames; -E2BIG beyond SHM_STREAM_MAX_FRAMES. */
int shm_stream_layout_compute(uint32_t pool_frames, struct shm_stream_layout *ret_layout);

/* Daemon: writes a fresh stream (no producer, no consumer) into @map. */
void shm_stream_header_write(void *map, const struct shm_stream_layout *l, uint32_t stream_id,
			     const char *name, uint32_t pool_id, const char *pool_name);

/*
 * Checks the header at @map (@map_size bytes mapped) against the pool the
 * stream should be on: -EBADMSG with *ret_reason naming the first
 * inconsistency, else 0 and the recomputed layout.
 */
int shm_stream_header_check(const void *map, size_t map_size, uint32_t pool_id,
			    uint32_t pool_frames, struct shm_stream_layout *ret_layout,
			    const char **ret_reason);

/* A mapped stream, through pointers computed from a checked layout, over its mapped pool. */
struct stream_map {
	struct shm_stream_shared *shared;
	struct shm_stream_consumer *consumers;
	_Atomic uint64_t (*rings)[SHM_STREAM_RING];
	_Atomic uint64_t *refs;
	struct shm_stream_meta *meta;
	uint8_t *format;
	struct frame_pool *pool;
	uint32_t tenant; /* the stream's tenant id in the pool */
};

void stream_map_init(struct stream_map *sm, void *map, const struct shm_stream_layout *l,
		     uint32_t stream_id, struct frame_pool *pool);

/* ---- producer ---- */

/* What publish fills in beside the caller's fields of the meta. */
struct stream_publish {
	uint32_t index, generation; /* the frame, owned by the producer */
	uint32_t timeout_ms;        /* for BLOCK consumers' room; FRAME_INFINITE: no limit */
	const struct frame_liveness *live;
};

/*
 * Publishes frame p->index (owned by @producer at p->generation) with *@meta
 * (its sequence, publish_ns and format_generation are set here). Returns the
 * number of consumers it reached (0: the frame is back in the pool), or
 * -EPERM (@producer is not the stream's), -EPIPE (it ended the stream),
 * -EINVAL (not the producer's frame),
 * -ETIMEDOUT (a BLOCK consumer had no room: the frame stays the producer's),
 * -ESHUTDOWN (the stream was dropped) or the liveness check's errno.
 */
int stream_publish(struct stream_map *sm, uint32_t producer, const struct stream_publish *p,
		   struct shm_stream_meta *meta);

/* Producer: ends the stream (ENDED; consumers drain, then see the end once). */
int stream_end(struct stream_map *sm, uint32_t producer);

/* Producer: sets the format; returns its generation or -EMSGSIZE. */
int stream_set_format(struct stream_map *sm, const void *format, size_t size);

/* Anyone: copies the format (see ksalloc_stream_get_format()). */
int stream_get_format(const struct stream_map *sm, void *buf, size_t size,
		      uint32_t *ret_generation);

/* ---- consumer ---- */

struct stream_received {
	uint32_t index, generation;
	struct shm_stream_meta meta;
	bool lost; /* frames were dropped for it before this one (a gap in the sequence) */
};

/*
 * Consumer @slot (tenant @tenant) takes its next frame, waiting up to
 * @timeout_ms. *@seen_epoch is the producer epoch whose end it last reported
 * (start with stream_consumer_epoch()). Returns 0, -EAGAIN (nothing and
 * @timeout_ms 0), -ETIMEDOUT, -EDQUOT (max_held reached), -EPIPE (ended),
 * -ECONNRESET (producer gone), -ESHUTDOWN (dropped, or the slot is not the
 * tenant's any more), or the liveness check's errno.
 */
int stream_receive(struct stream_map *sm, uint32_t slot, uint32_t tenant, uint32_t timeout_ms,
		   const struct frame_liveness *live, uint32_t *seen_epoch,
		   struct stream_received *ret);

/* The epoch a new consumer starts from: the end of a producer before it is not its news. */
uint32_t stream_consumer_epoch(const struct stream_map *sm);

/*
 * The epoch consumer @slot starts from, as the daemon took it when it attached
 * the consumer (stream_consumer_epoch() then): what the state says by the time
 * the consumer maps the stream may be a later producer's end already.
 */
uint32_t stream_consumer_start_epoch(const struct stream_map *sm, uint32_t slot);

/*
 * Wakes the producer's wait for room (@producer), or consumer @slot's wait for a frame,
 * to look again: at its liveness's cancel word, which the caller stored before.
 */
void stream_wake(struct stream_map *sm, bool producer, uint32_t slot);

/* Whether consumer @slot has a frame, or news, waiting (what its pollable fd says). */
bool stream_consumer_ready(const struct stream_map *sm, uint32_t slot, uint32_t seen_epoch);

/*
 * Consumer @slot gives back its reference to frame @index at @generation.
 * Returns 0, -EINVAL, -ESTALE or -EALREADY.
 */
int stream_release(struct stream_map *sm, uint32_t slot, uint32_t index, uint32_t generation);

/* ---- daemon ---- */

/* Attaches @tenant as consumer @slot with its policy, depth and max_held. */
void stream_consumer_attach(struct stream_map *sm, uint32_t slot, uint32_t tenant, uint32_t policy,
			    uint32_t depth, uint32_t max_held);

/*
 * Detaches consumer @slot: releases its queued and held frames and wakes the
 * producer (it may wait for that consumer's room). Returns frames released.
 */
uint32_t stream_consumer_detach(struct stream_map *sm, uint32_t slot);

/* Makes @producer the stream's producer: a new epoch, FLOWING. */
void stream_producer_attach(struct stream_map *sm, uint32_t producer);

/*
 * The producer closed or died: finishes or undoes the publish its journal
 * names, undoes unfinished evictions, and ends the epoch (PRODUCER_GONE
 * unless it ended the stream). Its own frames are the pool's business
 * (frame_reclaim()). Returns the frames that came back to the pool.
 */
uint32_t stream_producer_gone(struct stream_map *sm, uint32_t producer);

/*
 * Daemon: the stream goes: every frame it owns goes back to the pool and
 * every waiter wakes to find it DESTROYED.
 */
uint32_t stream_destroy(struct stream_map *sm);

/* Daemon: repairs what scribbling may have done to the words only it writes. */
void stream_restore(struct stream_map *sm, uint32_t producer,
		    const uint32_t tenants[SHM_STREAM_CONSUMERS]);

/* Wakes every consumer that sleeps and the producer, to look at the state again. */
void stream_wake_all(struct stream_map *sm);

/* Frames queued for consumer @slot right now (clamped). */
uint32_t stream_consumer_queued(const struct stream_map *sm, uint32_t slot);

/* Latency bucket upper bound in ns of bucket @b: 1 µs << b. */
static inline uint64_t shm_stream_latency_bound_ns(uint32_t b)
{
	return UINT64_C(1000) << b;
}
