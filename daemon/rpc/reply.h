/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A reply on its way out: the message, built in an arena, and the fds to
 * attach. Handlers fill one per request, events one per event, transport
 * one for a request it could not decode; transport packs and sends it.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/arena.h"
#include "proto/protocol.h"

struct rpc_reply {
	Ksalloc__Reply msg;
	/* Fds to attach (at most WIRE_MAX_FDS): borrowed from storage, valid until it changes. */
	const int *fds;
	size_t n_fds;
	int fd_buf[2]; /* for fds that do not sit side by side in storage */
};

/*
 * Fills @out with a failure reply to request @id: @error (negative errno) as
 * its HRESULT, and the printf-formatted message (kept in @arena).
 */
void rpc_reply_error(struct rpc_reply *out, struct arena *arena, uint32_t id, int error,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* rpc_reply_error() with a va_list. */
void rpc_reply_verror(struct rpc_reply *out, struct arena *arena, uint32_t id, int error,
		      const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* Fills @out with a success reply to request @id whose body is @body (still to be set). */
void rpc_reply_ok(struct rpc_reply *out, uint32_t id, Ksalloc__Reply__BodyCase body);

/* A copy of @text in @arena, or NULL. */
char *arena_strdup(struct arena *arena, const char *text);
