/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The connection to ksallocd behind a struct ksalloc_client: the socket, hello, reconnecting
 * with backoff, one request and one reply per call, and the error string. The other client
 * modules (pool.c, frame.c, control.c, subscription.c) build their calls on it; it knows
 * nothing of theirs. What must be opened again after a reconnect (a pool) is attached to the
 * connection with a callback (struct client_attachment), so that the dependency points one way.
 *
 * Locking: c->lock serializes the calls of a client, because c->buf, c->arena and c->error
 * are shared. Every function below that talks to the daemon, or touches a field marked
 * "under the lock", is called with it held; the public calls take it. The frame path takes
 * no lock: it counts held frames atomically, and reads max_frames without one although a
 * reconnect's hello rewrites it under the lock, because a quota checked against the old
 * session's limit for a moment is harmless (the daemon enforces it too, rpc_collect()).
 */

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include <ksalloc/ksalloc.h>

#include "common/list.h"
#include "proto/arena.h"

/*
 * Binds @impl to @versioned ("name@NODE", or "name@@NODE" for the default): a
 * public function whose struct grew stays, in its old node, for the programs
 * built against that node (libksalloc.sym says how).
 */
#if defined(__has_attribute)
#if __has_attribute(symver)
#define KSALLOC_SYMVER(impl, versioned) __attribute__((symver(versioned)))
#endif
#endif
#ifndef KSALLOC_SYMVER
#define KSALLOC_SYMVER(impl, versioned) __asm__(".symver " #impl ", " versioned);
#endif
#include "proto/protocol.h"

struct ksalloc_client {
	pthread_mutex_t lock; /* one call at a time: buf, arena and error are shared */
	int fd;
	char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uint32_t timeout_ms;
	uint32_t next_id;
	uint64_t session_token;
	uint32_t session_id;
	uint32_t max_frames;   /* the daemon's max_frames_per_session; 0: no limit */
	_Atomic uint32_t held; /* frames this session holds, all its pools */
	/*
	 * Counts the connections lost: bumped (under the lock) when the daemon is
	 * found gone. A pool view made on an earlier connection is dead: the frame
	 * path compares, without a lock, and fails rather than use its memory.
	 */
	_Atomic uint32_t epoch;
	char name[64];           /* said in hello, again after a reconnect */
	struct list attachments; /* struct client_attachment: reopened after a reconnect */
	uint64_t retry_at_ms;    /* no reconnect attempt before (CLOCK_MONOTONIC) */
	uint32_t backoff_ms;
	uint32_t max_message_size; /* the daemon's, from hello */
	uint8_t *buf;              /* max_message_size bytes: request, then reply */
	uint8_t *sent;             /* max_message_size bytes: the request awaiting its reply */
	struct arena arena;        /* the last reply, decoded */
	char error[256];
};

/*
 * Something of the session that lives on in the daemon (a pool open in it) and must be
 * opened again in the new session after a reconnect. Embedded in its owner, which finds
 * itself again with container_of().
 */
struct client_attachment {
	struct list link; /* on c->attachments; under the lock */
	/*
	 * Called by the reconnect, with the lock held, once the new session said hello, for
	 * each attachment, newest first. Talks to the daemon with client_exchange() (never
	 * client_call(): the connection is being made). Returns 0, or a negative errno that
	 * fails the reconnect and stops the walk.
	 */
	int (*reattach)(struct ksalloc_client *c, struct client_attachment *a);
	/*
	 * Called (if set) with the lock held when the connection is found lost, after
	 * c->epoch moved on: to wake whoever waits on something the daemon served.
	 */
	void (*lost)(struct client_attachment *a);
};

/* Links @a (its reattach set) to @c, newest first. Called with the lock held. */
void client_attach(struct ksalloc_client *c, struct client_attachment *a);
/* Unlinks @a from its client. Called with the lock held. */
void client_detach(struct client_attachment *a);

/* Writes c->error, which ksalloc_client_error() returns. Called with the lock held. */
void client_set_error(struct ksalloc_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Writes the calling thread's open error, which ksalloc_client_open_error() returns: for
 * the calls that open a connection and fail before a client exists to hold the message.
 */
void client_set_open_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Reconnects if the daemon went away since the last call. A call about a pool makes sure
 * of this before it reads the pool's id, which a reconnect changes. Called with the lock
 * held; returns 0 or a negative errno, with c->error set.
 */
int client_ensure(struct ksalloc_client *c);

/*
 * For the frame path, when a pool's heartbeat is stale (shm/liveness.h) or its pool is
 * destroyed: whether the daemon is still there, looked at without blocking. Takes the lock
 * only with trylock: a thread that holds it is talking to the daemon and finds a loss
 * itself, and a frame acquire must not queue behind a call that may take timeout_ms.
 * Returns 0 when the connection stands (or the lock was busy: no news), or -ESHUTDOWN when
 * it is lost (c->epoch moved on; then, with @reconnect, one attempt to reach the daemon
 * again, within the reconnect backoff, which reopens the pools: 1 when it succeeded).
 */
int client_check_alive(struct ksalloc_client *c, bool reconnect);

/*
 * Packs @req (its id is set here) as the next request on the current connection and waits
 * for the reply with its id, with up to @max_fds fds. On success the reply lives in
 * c->arena until the next call, and *ret_n_fds fds in @fds belong to the caller (any more
 * that came were closed). A reply carrying a failure HRESULT becomes its errno, with the
 * daemon's message in c->error; then no fd is the caller's, but @fds may hold the numbers
 * of fds already closed. Called with the lock held; does not reconnect.
 */
int client_exchange_fds(struct ksalloc_client *c, Ksalloc__Request *req,
			Ksalloc__Reply__BodyCase expect, Ksalloc__Reply **ret_reply, int *fds,
			size_t max_fds, size_t *ret_n_fds);

/*
 * As client_exchange_fds() with room for one fd when @ret_fd is not NULL: on success
 * *ret_fd is the fd that came (the caller's), or -1.
 */
int client_exchange(struct ksalloc_client *c, Ksalloc__Request *req,
		    Ksalloc__Reply__BodyCase expect, Ksalloc__Reply **ret_reply, int *ret_fd);

/*
 * Sends @req and waits for its reply (client_exchange()), reconnecting first if the daemon
 * went away since the last call, and noting it if it goes away during this one. Called
 * with the lock held.
 */
int client_call(struct ksalloc_client *c, Ksalloc__Request *req, Ksalloc__Reply__BodyCase expect,
		Ksalloc__Reply **ret_reply, int *ret_fd);

/* As client_call(), with up to @max_fds fds as client_exchange_fds() takes them. */
int client_call_fds(struct ksalloc_client *c, Ksalloc__Request *req,
		    Ksalloc__Reply__BodyCase expect, Ksalloc__Reply **ret_reply, int *fds,
		    size_t max_fds, size_t *ret_n_fds);

/*
 * The status of a pool: by @pool_id (an open pool's, @name NULL), the call a media pipeline
 * makes over and over, packed and, when the reply comes in that shape, parsed by hand
 * (proto/fastpath.h); or by @name. Reconnects first as client_call() does. Called with the
 * lock held; 0 or a negative errno.
 */
int client_call_status(struct ksalloc_client *c, uint32_t pool_id, const char *name,
		       struct ksalloc_status *ret_status);

/*
 * Makes the connection's socket non-blocking, for a connection that only receives from now
 * on (a subscription's). Called with the lock held; 0 or a negative errno.
 */
int client_set_nonblocking(struct ksalloc_client *c);

/*
 * Receives the next message on a non-blocking connection, without sending anything, into
 * c->arena (valid until the next call). Returns 0 with *ret_reply set to the decoded
 * message, or to NULL for one that is not the daemon's to send (too large or undecodable:
 * to be skipped); -EAGAIN when there is none yet; -EPIPE when the daemon closed the
 * connection; another negative errno. Fds that come along are closed.
 */
int client_receive(struct ksalloc_client *c, Ksalloc__Reply **ret_reply);
