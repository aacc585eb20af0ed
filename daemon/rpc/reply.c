/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/rpc/reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/utf8.h"
#include "proto/hresult.h"

__attribute__((format(printf, 2, 0))) static char *arena_vprintf(struct arena *arena,
								 const char *fmt, va_list ap)
{
	va_list copy;
	char *s;
	int len;

	va_copy(copy, ap);
	len = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (len < 0)
		return NULL;
	s = arena_alloc(arena, (size_t)len + 1);
	if (s)
		vsnprintf(s, (size_t)len + 1, fmt, ap);
	return s;
}

char *arena_strdup(struct arena *arena, const char *text)
{
	size_t len = strlen(text) + 1;
	char *s = arena_alloc(arena, len);

	return s ? memcpy(s, text, len) : NULL;
}

/*
 * @message as clean UTF-8, in @arena: a message quotes what a client sent (a backend's name,
 * say), and a reply whose string is not valid UTF-8 is refused whole by strict decoders.
 * Returns @message itself when it is clean already, as nearly every one is.
 */
static char *clean_text(struct arena *arena, char *message)
{
	size_t len, size;
	char *clean;

	if (!message || utf8_is_clean(message, (len = strlen(message))))
		return message;
	size = 4 * len + 1; /* every byte escaped at worst */
	clean = arena_alloc(arena, size);
	if (clean)
		utf8_escape(clean, size, message, len);
	return clean;
}

void rpc_reply_verror(struct rpc_reply *out, struct arena *arena, uint32_t id, int error,
		      const char *fmt, va_list ap)
{
	char *message = clean_text(arena, arena_vprintf(arena, fmt, ap));

	ksalloc__reply__init(&out->msg);
	out->msg.id = id;
	out->msg.hresult = hresult_from_errno(error);
	out->msg.message = message ? message : (char *)"out of memory while describing an error";
	out->fds = NULL;
	out->n_fds = 0;
}

void rpc_reply_error(struct rpc_reply *out, struct arena *arena, uint32_t id, int error,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rpc_reply_verror(out, arena, id, error, fmt, ap);
	va_end(ap);
}

void rpc_reply_ok(struct rpc_reply *out, uint32_t id, Ksalloc__Reply__BodyCase body)
{
	ksalloc__reply__init(&out->msg);
	out->msg.id = id;
	out->msg.hresult = 0;
	out->msg.body_case = body;
	out->fds = NULL;
	out->n_fds = 0;
}
