/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The state image: what ksallocd keeps in a memfd of its own in the file
 * descriptor store, so that a daemon started after it (after a restart, a
 * crash or a watchdog kill) knows what the stored pools and connections are.
 * A crash gives no chance to save, so the image is rewritten whenever the
 * state changes, crash-consistently:
 *
 *   the memfd is two slots of equal size; each holds a header (magic,
 *   version, generation, payload length, checksum over all of it) and a
 *   payload. A write goes to the slot the newest image is not in, payload
 *   first, header last; a reader takes the slot with the highest generation
 *   whose header and checksum check out. A write torn by a crash fails its
 *   checksum, and the other slot still holds the image before it.
 *
 * The memfd is only ever the daemon's (and the manager's), but read back it
 * is distrusted all the same: it is copied out first, then every count,
 * length, name and flag is checked against the bytes there are.
 * Host byte order: the image never leaves the machine, nor survives a boot.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/rpc/session.h"
#include "daemon/storage/access.h"
#include "daemon/storage/backend.h"
#include "shm/layout.h"
#include "shm/stream.h"

#define STATE_MAGIC 0x5453534bu /* "KSST" */
/*
 * 2: each session says whether it is subscribed to events, and to what. A
 * reader takes version 1 too (sessions without subscriptions): a daemon of
 * the version before hands over to this one on an upgrade.
 */
/*
 * 3: the streams follow the sessions (a reader takes 1 and 2: no streams);
 * a session's subscribed word is 3 when it asked for the streams' events.
 */
#define STATE_VERSION 3u
#define STATE_VERSION_MIN 1u
/* Bounds for a reader: far beyond any config, far below what would hurt. */
#define STATE_POOLS_MAX (1u << 20)
#define STATE_SESSIONS_MAX (1u << 20)
#define STATE_GROUPS_MAX 65536u
#define STATE_BINDINGS_MAX 65536u
#define STATE_STREAMS_MAX (1u << 16)
/* The least interval a subscription has (events_subscribe()'s floor). */
#define STATE_SUB_INTERVAL_MIN_MS 10u
/* A slot is at most this large: a state file of 2 x 256 MiB. */
#define STATE_SLOT_MAX (UINT64_C(256) << 20)

enum {
	STATE_POOL_PERSISTENT = 1u << 0,
	STATE_POOL_FROM_CONFIG = 1u << 1,
	STATE_POOL_LOCKED = 1u << 2,
	STATE_POOL_COMMITTED = 1u << 3,
	STATE_POOL_REMOVING = 1u << 4,
	STATE_POOL_VALID = (1u << 5) - 1,
};

struct state_pool {
	uint32_t id;
	char name[SHM_NAME_MAX];
	char backend[BACKEND_NAME_MAX];
	struct pool_access access;
	uint32_t flags; /* STATE_POOL_* */
	uint64_t acquisitions_closed;
	uint64_t timeouts_closed;
	uint64_t reclaimed;
	uint64_t last_reclaim_ns;
	uint32_t last_reclaim_frames;
};

struct state_session {
	uint32_t id;
	uint64_t token;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	uint32_t n_groups;
	const gid_t *groups; /* into the decoded buffer, or the session's */
	char name[SESSION_NAME_MAX];
	bool greeted;
	uint64_t connected_ms;
	uint32_t n_bindings;
	const struct binding *bindings; /* likewise */
	/* Its subscription to events (version 2 on); all zero when it has none. */
	bool subscribed;
	char sub_pool[SHM_NAME_MAX]; /* "": every pool it may see */
	uint32_t sub_interval_ms;
	uint32_t sub_hold_ms;
	bool sub_streams; /* SubscribeRequest.streams: bit 1 of the image's subscribed word */
};

enum {
	STATE_STREAM_FROM_CONFIG = 1u << 0,
	STATE_STREAM_VALID = (1u << 1) - 1,
};

struct state_stream {
	uint32_t id;
	char name[SHM_NAME_MAX];
	uint32_t pool_id;
	struct pool_access access;
	uint32_t flags;    /* STATE_STREAM_* */
	uint32_t producer; /* its session; 0: none */
	uint32_t consumers[SHM_STREAM_CONSUMERS];
	uint32_t read_only; /* bit c: consumer c maps the frames read-only */
};

struct state {
	uint32_t pool_id_base; /* storage_ids() */
	uint32_t pool_ids_used;
	uint32_t next_session_id;
	uint32_t n_pools;
	struct state_pool *pools;
	uint32_t n_sessions;
	struct state_session *sessions;
	uint32_t n_streams;
	struct state_stream *streams;
	void *storage; /* a decoded state's arrays */
	void *payload; /* the copy its groups and bindings point into */
};

/* Packs @st, as STATE_VERSION, into *ret_buf (malloc'ed, *ret_len bytes). Returns 0 or -ENOMEM. */
int state_encode(const struct state *st, uint8_t **ret_buf, size_t *ret_len);

/*
 * Unpacks @len bytes at @buf, packed as @version (STATE_VERSION_MIN to
 * STATE_VERSION; copied: @buf may go afterwards). Returns 0 and *ret_state
 * (state_clear() frees it), or -EBADMSG with *ret_reason.
 */
int state_decode(const uint8_t *buf, size_t len, uint32_t version, struct state *ret_state,
		 const char **ret_reason);

void state_clear(struct state *st);

/* One state memfd, as the writer has it. */
struct state_file {
	int fd;
	uint32_t seq;        /* its number in the store ("ksalloc-state-<seq>") */
	uint64_t slot_bytes; /* each of its two slots */
	uint64_t generation; /* of the newest image written */
};

/*
 * Makes a state memfd whose slots hold @payload_len bytes (or more), for
 * images of generations after @generation. Returns 0 or -errno.
 */
int state_file_new(uint32_t seq, size_t payload_len, uint64_t generation, struct state_file *ret);

/*
 * Writes @len bytes of payload as the next generation. Returns 0, -ENOSPC
 * when it does not fit (make a larger file), or -errno.
 */
int state_file_write(struct state_file *f, const void *payload, size_t len);

/*
 * Reads the newest valid image of the state memfd @fd (whose owner keeps
 * it), of any version a reader takes. Returns 0 with *ret_payload
 * (malloc'ed, *ret_len bytes), *ret_version and *ret_generation, or
 * -EBADMSG with *ret_reason when neither slot holds one.
 */
int state_file_read(int fd, uint8_t **ret_payload, size_t *ret_len, uint32_t *ret_version,
		    uint64_t *ret_generation, const char **ret_reason);

void state_file_close(struct state_file *f);
