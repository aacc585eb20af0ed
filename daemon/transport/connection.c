/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/transport/connection.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/rpc/dispatch.h"
#include "daemon/rpc/events.h"
#include "daemon/util/log.h"
#include "proto/fastpath.h"
#include "proto/validate.h"
#include "proto/wire.h"

/* A packed reply waiting for room in the socket, with our own dups of its fds. */
struct queued_reply {
	struct list link; /* in the connection's queue */
	size_t n_fds;
	int *fds; /* dups that we close once sent; in this allocation */
	size_t len;
	unsigned char *bytes; /* in this allocation */
};

int connection_context_init(struct connection_context *ctx, uv_loop_t *loop, struct rpc *rpc,
			    uint32_t max_message_size, const struct connection_callbacks *callbacks,
			    void *data)
{
	*ctx = (struct connection_context){
		.loop = loop,
		.rpc = rpc,
		.max_message_size = max_message_size,
		.rx_buf = malloc(max_message_size),
		.tx_buf = malloc(max_message_size),
		.callbacks = callbacks,
		.data = data,
	};
	/* Twice the largest message: a decoded request never outgrows its bytes by more. */
	if (arena_init(&ctx->arena, 2 * (size_t)max_message_size) < 0 || !ctx->rx_buf ||
	    !ctx->tx_buf)
		return -ENOMEM;
	return 0;
}

void connection_context_deinit(struct connection_context *ctx)
{
	free(ctx->rx_buf);
	free(ctx->tx_buf);
	ctx->rx_buf = ctx->tx_buf = NULL;
	arena_deinit(&ctx->arena);
}

static void queue_pop(struct connection *c)
{
	struct queued_reply *q = list_first_entry(&c->queue, struct queued_reply, link);

	list_remove(&q->link);
	c->queued--;
	c->queued_fds -= q->n_fds;
	wire_close_fds(q->fds, q->n_fds);
	free(q);
}

static void connection_on_closed(uv_handle_t *h)
{
	struct connection *c = h->data;

	/*
	 * libuv no longer watches the fd: only now may it be closed. Shut down
	 * first: the service manager's file descriptor store may hold a copy of
	 * the socket, and the client must see the hang-up now, not when that copy
	 * goes.
	 */
	shutdown(c->fd, SHUT_RDWR);
	close(c->fd);
	while (!list_empty(&c->queue))
		queue_pop(c);
	free(c);
}

/* Ends the session and closes the handle; connection_on_closed() does the rest. */
static void connection_end(struct connection *c)
{
	log_debug("session %u (%s): closed", c->session.id, c->session.name);
	rpc_remove_session(c->ctx->rpc, &c->session);
	uv_close((uv_handle_t *)&c->poll, connection_on_closed);
}

void connection_close(struct connection *c)
{
	if (uv_is_closing((uv_handle_t *)&c->poll))
		return;
	c->ctx->callbacks->closed(c, c->ctx->data);
	connection_end(c);
}

static void connection_on_poll(uv_poll_t *h, int status, int events);

/* Keeps a reply the socket has no room for. Returns 0, -ENOBUFS when the queue is full, -errno. */
static int connection_enqueue(struct connection *c, const void *buf, size_t len, const int *fds,
			      size_t n_fds)
{
	struct queued_reply *q;

	if (c->queued >= CONNECTION_QUEUE_MAX || c->queued_fds + n_fds > CONNECTION_QUEUE_FDS_MAX)
		return -ENOBUFS;
	q = malloc(sizeof(*q) + n_fds * sizeof(int) + len);
	if (!q)
		return -ENOMEM;
	q->fds = (int *)(q + 1);
	q->bytes = (unsigned char *)(q->fds + n_fds);
	q->len = len;
	memcpy(q->bytes, buf, len);
	/* Our own references: the pool may go away before the reply does. */
	for (q->n_fds = 0; q->n_fds < n_fds; q->n_fds++) {
		q->fds[q->n_fds] = fcntl(fds[q->n_fds], F_DUPFD_CLOEXEC, 3);
		if (q->fds[q->n_fds] < 0) {
			int r = -errno;

			wire_close_fds(q->fds, q->n_fds);
			free(q);
			return r;
		}
	}
	list_add_tail(&c->queue, &q->link);
	c->queued_fds += q->n_fds;
	if (c->queued++ == 0)
		return uv_poll_start(&c->poll, UV_READABLE | UV_WRITABLE, connection_on_poll);
	return 0;
}

/* Sends @len packed bytes of tx_buf, or queues them behind what waits. */
static int connection_send_packed(struct connection *c, size_t len, const int *fds, size_t n_fds)
{
	int r;

	/* Replies go out in order: behind the queue, if there is one. */
	if (list_empty(&c->queue)) {
		r = wire_send(c->fd, c->ctx->tx_buf, len, fds, n_fds);
		if (r != -EAGAIN)
			return r;
	}
	r = connection_enqueue(c, c->ctx->tx_buf, len, fds, n_fds);
	if (r == -ENOBUFS)
		log_warning("session %u (%s, pid %d): %u replies unread; closing it", c->session.id,
			    c->session.name, (int)c->session.pid, c->queued);
	return r;
}

/* Sends @out. Returns 0 when sent or queued, -errno when the connection must close. */
static int connection_send(struct connection *c, struct rpc_reply *out)
{
	struct connection_context *ctx = c->ctx;
	ssize_t len;

	len = wire_pack(&out->msg.base, ctx->tx_buf, ctx->max_message_size);
	if (len == -EMSGSIZE) {
		/* Never expected (lists are paged), but the client still gets an answer. */
		log_warning("session %u: reply to request %u exceeds max_message_size",
			    c->session.id, out->msg.id);
		rpc_reply_error(out, &ctx->arena, out->msg.id, -EMSGSIZE,
				"reply larger than max_message_size (%u bytes)",
				ctx->max_message_size);
		len = wire_pack(&out->msg.base, ctx->tx_buf, ctx->max_message_size);
	}
	if (len < 0)
		return (int)len;
	return connection_send_packed(c, (size_t)len, out->fds, out->n_fds);
}

int connection_push(struct session *s, struct rpc_reply *out, bool droppable, void *data)
{
	struct connection *c = connection_of(s);
	int r;

	/* Replies wait for the client: a status that would wait behind them is stale already. */
	if (droppable && !list_empty(&c->queue))
		return -EAGAIN;
	r = connection_send(c, out);
	if (r < 0) {
		if (r != -ECONNRESET && r != -EPIPE && r != -ENOBUFS)
			log_warning("session %u (%s): %s; closing it", c->session.id,
				    c->session.name, strerror(-r));
		connection_close(c);
	}
	return r;
}

/* Sends what the queue holds, as far as the socket takes it. */
static int connection_flush(struct connection *c)
{
	while (!list_empty(&c->queue)) {
		struct queued_reply *q = list_first_entry(&c->queue, struct queued_reply, link);
		int r = wire_send(c->fd, q->bytes, q->len, q->fds, q->n_fds);

		if (r == -EAGAIN)
			return 0;
		if (r < 0)
			return r;
		queue_pop(c);
	}
	return uv_poll_start(&c->poll, UV_READABLE, connection_on_poll);
}

/*
 * Logs a malformed request: the first few of a session, then one in a
 * thousand with the count, so that a client sending garbage cannot flood the
 * journal.
 */
static void connection_log_bad(struct connection *c, const char *what)
{
	c->bad++;
	if (c->bad <= 3 || c->bad % 1000 == 0)
		log_warning("session %u (%s, pid %d): %s (%lu such so far)", c->session.id,
			    c->session.name, (int)c->session.pid, what, c->bad);
}

/*
 * The status of one pool by id, by hand (proto/fastpath.h). Returns 1 when
 * answered, 0 when the request is for the full path, -errno to close.
 */
static int connection_serve_fast(struct connection *c, size_t n)
{
	struct connection_context *ctx = c->ctx;
	struct framing f;
	uint32_t id, pool_id, allocated;
	ssize_t len;
	int r;

	if (!fastpath_parse_status_request(ctx->rx_buf, n, &id, &pool_id) ||
	    rpc_status_fast(ctx->rpc, &c->session, pool_id, &f, &allocated) < 0)
		return 0;
	len = fastpath_pack_status_reply(ctx->tx_buf, ctx->max_message_size, id, &f, allocated);
	if (len < 0)
		return 0;
	r = connection_send_packed(c, (size_t)len, NULL, 0);
	return r < 0 ? r : 1;
}

/* Reads, answers and forgets one request. Returns -errno when the connection must close. */
static int connection_serve_one(struct connection *c)
{
	struct connection_context *ctx = c->ctx;
	const ProtobufCFieldDescriptor *nul;
	Ksalloc__Request *req;
	struct rpc_reply out;
	size_t n_dropped = 0;
	ssize_t n;
	int r;

	n = wire_recv(c->fd, ctx->rx_buf, ctx->max_message_size, NULL, 0, NULL, &n_dropped);
	if (n == -EAGAIN)
		return 0;
	if (n == 0 || n == -ECONNRESET)
		return -ECONNRESET; /* hung up */
	if (n == -EMSGSIZE) {
		connection_log_bad(c, "dropped a request larger than max_message_size");
		rpc_count_undecodable(ctx->rpc);
		rpc_reply_error(&out, &ctx->arena, 0, -EMSGSIZE,
				"request larger than max_message_size (%u bytes): dropped",
				ctx->max_message_size);
		goto reply;
	}
	if (n < 0)
		return (int)n;
	if (!n_dropped) {
		r = connection_serve_fast(c, (size_t)n);
		if (r != 0)
			return r < 0 ? r : 0;
	}

	req = ksalloc__request__unpack(&ctx->arena.allocator, (size_t)n, ctx->rx_buf);
	if (!req) {
		connection_log_bad(c, "dropped a request that is not a ksalloc.Request");
		rpc_count_undecodable(ctx->rpc);
		rpc_reply_error(&out, &ctx->arena, 0, -EBADMSG,
				"request could not be decoded as a ksalloc.Request");
	} else if (n_dropped) {
		connection_log_bad(c, "closed the file descriptors it sent");
		rpc_reply_error(&out, &ctx->arena, req->id, -EINVAL,
				"the daemon accepts no file descriptors; %zu closed", n_dropped);
	} else if ((nul = validate_find_nul_string(&ksalloc__request__descriptor, ctx->rx_buf,
						   (size_t)n))) {
		/* protobuf-c would hand the handler the string cut at its NUL: another name. */
		connection_log_bad(c, "refused a request with a NUL byte inside a string");
		rpc_reply_error(&out, &ctx->arena, req->id, -EINVAL,
				"request field %s has a NUL byte inside: no name or text may",
				nul->name);
	} else {
		uint64_t changes = ctx->rpc->changes;

		rpc_dispatch(ctx->rpc, &c->session, req, &ctx->arena, &out);
		if (ctx->rpc->changes != changes && ctx->callbacks->changed)
			ctx->callbacks->changed(c, ctx->data);
		/* It may have subscribed: the owner starts the events' timer, if it is not on. */
		if (events_active(&ctx->rpc->events))
			ctx->callbacks->subscribed(c, ctx->data);
	}
reply:
	r = connection_send(c, &out);
	/* Nothing unpacked or built for this request outlives it. */
	arena_reset(&ctx->arena);
	return r;
}

static void connection_on_poll(uv_poll_t *h, int status, int events)
{
	struct connection *c = h->data;
	int r = status;

	if (r >= 0 && (events & UV_WRITABLE))
		r = connection_flush(c);
	if (r >= 0 && (events & UV_READABLE))
		r = connection_serve_one(c);
	if (r < 0) {
		if (r != -ECONNRESET && r != -EPIPE && r != -ENOBUFS)
			log_warning("session %u (%s): %s; closing it", c->session.id,
				    c->session.name, strerror(-r));
		connection_close(c);
	}
}

/* What connection_new() and connection_adopt() share: @r NULL for a new session. */
static int connection_start(struct connection_context *ctx, int fd, const struct ucred *cred,
			    const gid_t *groups, size_t n_groups,
			    const struct session_restore *restore,
			    struct connection **ret_connection)
{
	struct connection *c = calloc(1, sizeof(*c));
	int r;

	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->ctx = ctx;
	c->fd = fd;
	list_init(&c->link);
	list_init(&c->queue);
	r = uv_poll_init(ctx->loop, &c->poll, fd);
	if (r < 0) {
		close(fd);
		free(c);
		return r;
	}
	c->poll.data = c;
	if (restore)
		r = rpc_restore_session(ctx->rpc, &c->session, restore);
	else
		r = rpc_add_session(ctx->rpc, &c->session, cred->pid, cred->uid, cred->gid, groups,
				    n_groups);
	if (r < 0) {
		/* Nothing of the session exists yet but its handle: close just that. */
		uv_close((uv_handle_t *)&c->poll, connection_on_closed);
		return r;
	}
	r = uv_poll_start(&c->poll, UV_READABLE, connection_on_poll);
	if (r < 0) {
		/* The owner never had it: nothing to tell. */
		connection_end(c);
		return r;
	}
	log_debug("session %u: connected, pid %d uid %u gid %u", c->session.id, (int)c->session.pid,
		  (unsigned)c->session.uid, (unsigned)c->session.gid);
	*ret_connection = c;
	return 0;
}

int connection_new(struct connection_context *ctx, int fd, const struct ucred *cred,
		   const gid_t *groups, size_t n_groups, struct connection **ret_connection)
{
	return connection_start(ctx, fd, cred, groups, n_groups, NULL, ret_connection);
}

int connection_adopt(struct connection_context *ctx, int fd, const struct session_restore *r,
		     struct connection **ret_connection)
{
	/*
	 * Requests sent while no daemon ran wait in the socket: the poll sees them
	 * readable on the first loop iteration.
	 */
	return connection_start(ctx, fd, NULL, NULL, 0, r, ret_connection);
}
