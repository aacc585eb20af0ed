/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The daemon's record of a stream (shm/stream.h): its sealed memfd and
 * mapping, the pool it lives on, its access, and who has which role in it:
 * the producer's session and each consumer slot's. These records are the
 * daemon's truth; what the stream's shared memory says is only checked
 * against them (stream_restore()).
 */

#include <stdbool.h>
#include <stdint.h>

#include "common/list.h"
#include "daemon/storage/access.h"
#include "daemon/storage/pool.h"
#include "shm/stream.h"

struct stream {
	struct list link; /* in the storage's streams */
	uint32_t id;      /* never 0, never reused while the daemon runs */
	char name[SHM_NAME_MAX];
	struct pool *pool; /* the pool's record; the pool goes only after its streams */
	int fd;            /* the sealed memfd, handed to the producer and consumers */
	void *map;
	struct shm_stream_layout layout;
	struct stream_map sm;
	bool from_config; /* declared in the config: stays without producer or consumer */
	struct pool_access access;

	uint32_t producer;                        /* its session; 0: none */
	uint32_t consumers[SHM_STREAM_CONSUMERS]; /* each slot's session; 0: free */
	bool read_only[SHM_STREAM_CONSUMERS];
	uint32_t n_consumers;
	/* Each consumer's dropped counter as stream_consumer_new_drops() last read it. */
	uint64_t drops_seen[SHM_STREAM_CONSUMERS];
	uint64_t drops_told_ms[SHM_STREAM_CONSUMERS]; /* events.c: its last STREAM_DROPS; 0: none */
};

/*
 * Makes stream @id called @name on pool @p: a fresh memfd, sealed, no
 * producer and no consumer. Returns 0, -E2BIG (the pool has more frames than
 * a stream can name), or a negative errno of memfd_create()/mmap().
 */
int stream_new(uint32_t id, const char *name, struct pool *p, const struct pool_access *access,
	       bool from_config, struct stream **ret_stream);

/*
 * Takes over stream memory @fd (the caller's: taken on success) that a daemon
 * before this one made for pool @p: checks it and its seals. -EBADMSG with
 * *ret_reason when it is not a stream of that pool.
 */
int stream_adopt(uint32_t id, int fd, struct pool *p, const struct pool_access *access,
		 bool from_config, struct stream **ret_stream, const char **ret_reason);

/*
 * Unmaps and closes the record, leaving the stream's memory as it is (a daemon
 * after this one may adopt it); storage_remove_stream() drops a stream for
 * good. Accepts NULL; returns NULL.
 */
struct stream *stream_free(struct stream *s);

/* Session @session becomes the producer. -EBUSY when it has one. */
int stream_set_producer(struct stream *s, uint32_t session);

/* The producer goes (closed or died): see stream_producer_gone(). Returns frames freed. */
uint32_t stream_drop_producer(struct stream *s);

/*
 * Session @session becomes a consumer, in the lowest free slot. -EUSERS when
 * every slot is taken.
 */
int stream_add_consumer(struct stream *s, uint32_t session, uint32_t policy, uint32_t depth,
			uint32_t max_held, bool read_only, uint32_t *ret_slot);

/* Consumer @slot goes: its queued and held frames are released. Returns frames freed. */
uint32_t stream_remove_consumer(struct stream *s, uint32_t slot);

/* Gives slot @slot back to @session, as a daemon before this one had it. */
int stream_restore_consumer(struct stream *s, uint32_t slot, uint32_t session, bool read_only);

/*
 * Frames dropped for consumer @slot since the last call (or its attach), as
 * the producer counts them in the stream's memory: untrusted, so a counter
 * that went back counts as nothing and the count is clamped. 0 for a free slot.
 */
uint32_t stream_consumer_new_drops(struct stream *s, uint32_t slot);

/* Whether nobody has a role in it. */
bool stream_unused(const struct stream *s);
