/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <uv.h>

#include "rpc.h"

struct server;

/*
 * One client connection. Reads one request per readiness callback, answers
 * it, and reads the next. When the client does not read its replies and the
 * socket fills, the reply waits in `pending` and the session stops reading
 * until it has gone: backpressure, so one pending reply at most.
 */
struct session {
	struct server *srv;
	struct session *prev, *next;
	uv_poll_t poll;
	int fd;
	struct rpc_session rpc;

	void *pending; /* a packed reply the socket had no room for, or NULL */
	size_t pending_len;
	int pending_fd; /* its attachment (our dup), or -1 */
};

/*
 * Starts serving connection @fd (non-blocking, CLOEXEC) of the peer @cred,
 * whose supplementary groups are @groups. Takes ownership of @fd in every
 * case: on failure it is closed. Returns 0 or -errno.
 */
int session_new(struct server *srv, int fd, const struct ucred *cred, const gid_t *groups,
		size_t n_groups);

/* Stops serving; the session frees itself (and closes its fd) once libuv is done with it. */
void session_close(struct session *s);
