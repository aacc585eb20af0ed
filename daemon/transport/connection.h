/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * One client connection: a SOCK_SEQPACKET socket watched with a uv_poll_t,
 * the session of the client on it, and the replies its socket had no room
 * for. It reads one request per readiness callback and answers it; replies
 * that must wait are sent in order as the client reads.
 *
 * A connection knows nothing of the server that accepted it. What its owner
 * must hear (it is closing; a request was answered while someone is
 * subscribed) it reports upward through struct connection_callbacks, as
 * dbus-broker's peers and PipeWire's connection events do: the owner keeps
 * its list of connections and its timers to itself.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "common/list.h"
#include "common/macro.h"
#include "daemon/rpc/reply.h"
#include "daemon/rpc/rpc.h"
#include "daemon/rpc/session.h"
#include "proto/arena.h"

/*
 * Replies a client has not read yet, once its socket is full: at most this
 * many wait, then the connection is closed (a client that sends without
 * reading must not make the daemon hold its replies for ever).
 */
#define CONNECTION_QUEUE_MAX 64
/* Likewise for the fds those replies carry (frame dma-bufs come 253 a reply). */
#define CONNECTION_QUEUE_FDS_MAX 1024

struct connection;

/* What a connection tells its owner, on the loop thread, with the context's @data. */
struct connection_callbacks {
	/*
	 * @c is closing: its session has ended (rpc_remove_session()) and it frees
	 * itself once libuv is done with its handle. The owner forgets it now.
	 */
	void (*closed)(struct connection *c, void *data);
	/* @c's request was answered while someone is subscribed: events must tick. */
	void (*subscribed)(struct connection *c, void *data);
	/*
	 * @c's request changed the state (rpc->changes moved); called before its
	 * reply is sent, so that whoever keeps a copy of the state (the file
	 * descriptor store) has it before the client can act on the reply. May
	 * be NULL.
	 */
	void (*changed)(struct connection *c, void *data);
};

/*
 * What the connections of one owner share. One loop thread serves one
 * request at a time, so one set of buffers and one arena serve them all,
 * with no malloc per request.
 */
struct connection_context {
	uv_loop_t *loop;
	struct rpc *rpc;           /* borrowed */
	uint32_t max_message_size; /* bytes, both directions */
	uint8_t *rx_buf;           /* max_message_size bytes */
	uint8_t *tx_buf;           /* max_message_size bytes */
	struct arena arena;        /* reset once each request is answered */
	const struct connection_callbacks *callbacks;
	void *data;
};

struct connection {
	struct connection_context *ctx; /* borrowed: the owner's */
	struct list link;               /* the owner's, to keep its connections on a list */
	uv_poll_t poll;
	int fd;
	struct session session;

	struct list queue; /* struct queued_reply, oldest first */
	unsigned queued;
	size_t queued_fds;
	unsigned long bad; /* requests refused as malformed, for rate-limited logging */
};

/*
 * Fills @ctx for connections on @loop, answered by @rpc, that tell @callbacks
 * (with @data) what their owner must know. Returns 0 or -ENOMEM; either way
 * connection_context_deinit() undoes it.
 */
int connection_context_init(struct connection_context *ctx, uv_loop_t *loop, struct rpc *rpc,
			    uint32_t max_message_size, const struct connection_callbacks *callbacks,
			    void *data);
void connection_context_deinit(struct connection_context *ctx);

/*
 * Starts serving connection @fd (non-blocking, CLOEXEC) of the peer @cred,
 * whose supplementary groups are @groups, as a new session. Takes ownership
 * of @fd in every case: on failure it is closed. Returns 0 and
 * *ret_connection (which frees itself once closed, after telling the owner),
 * or -errno; a connection that fails to start is never reported closed.
 */
int connection_new(struct connection_context *ctx, int fd, const struct ucred *cred,
		   const gid_t *groups, size_t n_groups, struct connection **ret_connection);

/*
 * As connection_new(), for a connection a daemon before this one served:
 * the session is restored as @r says (rpc_restore_session()). Takes
 * ownership of @fd in every case. Returns 0 and *ret_connection, or -errno.
 */
int connection_adopt(struct connection_context *ctx, int fd, const struct session_restore *r,
		     struct connection **ret_connection);

/*
 * Stops serving: ends the session, tells the owner (callbacks->closed), and
 * frees the connection (and closes its fd) once libuv is done with it.
 * Closing a connection that is closing already does nothing.
 */
void connection_close(struct connection *c);

/*
 * events_tick()'s events_push_fn (@data unused): sends an event to the
 * connection of session @s; closes the connection when it cannot take it.
 */
int connection_push(struct session *s, struct rpc_reply *out, bool droppable, void *data);

/* The connection that session @s is embedded in. */
static inline struct connection *connection_of(struct session *s)
{
	return container_of(s, struct connection, session);
}
