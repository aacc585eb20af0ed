/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <uv.h>

#include "daemon/rpc/rpc.h"

struct server;

/*
 * Replies a client has not read yet, once its socket is full: at most this
 * many wait, then the connection is closed (a client that sends without
 * reading must not make the daemon hold its replies for ever).
 */
#define CONNECTION_QUEUE_MAX 64
/* Likewise for the fds those replies carry (frame dma-bufs come 253 a reply). */
#define CONNECTION_QUEUE_FDS_MAX 1024

struct queued_reply;

/*
 * One client connection. Reads one request per readiness callback and
 * answers it. Replies the socket has no room for wait in a bounded queue,
 * sent in order as the client reads.
 */
struct connection {
	struct server *srv;
	struct connection *prev, *next;
	uv_poll_t poll;
	int fd;
	struct session session;

	struct queued_reply *queue_head, *queue_tail;
	unsigned queued;
	size_t queued_fds;
	unsigned long bad; /* requests refused as malformed, for rate-limited logging */
};

/*
 * Starts serving connection @fd (non-blocking, CLOEXEC) of the peer @cred,
 * whose supplementary groups are @groups. Takes ownership of @fd in every
 * case: on failure it is closed. Returns 0 or -errno.
 */
int connection_new(struct server *srv, int fd, const struct ucred *cred, const gid_t *groups,
		   size_t n_groups);

/*
 * events_tick()'s events_push_fn: sends an event to the connection whose session
 * is @rs; closes the connection when it cannot take it.
 */
int connection_push(struct session *rs, struct rpc_reply *out, bool droppable, void *data);

/* Stops serving; the connection frees itself (and closes its fd) once libuv is done with it. */
void connection_close(struct connection *s);
