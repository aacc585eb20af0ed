/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/transport/connection.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/fastpath.h"
#include "common/macro.h"
#include "daemon/rpc/dispatch.h"
#include "daemon/util/log.h"
#include "daemon/transport/server.h"
#include "proto/wire.h"

/* A packed reply waiting for room in the socket, with our own dups of its fds. */
struct queued_reply {
	struct queued_reply *next;
	size_t n_fds;
	int *fds; /* dups that we close once sent; in this allocation */
	size_t len;
	unsigned char *bytes; /* in this allocation */
};

static void queue_pop(struct connection *s)
{
	struct queued_reply *q = s->queue_head;

	s->queue_head = q->next;
	if (!s->queue_head)
		s->queue_tail = NULL;
	s->queued--;
	s->queued_fds -= q->n_fds;
	wire_close_fds(q->fds, q->n_fds);
	free(q);
}

static void connection_on_closed(uv_handle_t *h)
{
	struct connection *s = h->data;

	/* libuv no longer watches the fd: only now may it be closed. */
	close(s->fd);
	while (s->queue_head)
		queue_pop(s);
	free(s);
}

void connection_close(struct connection *s)
{
	struct server *srv = s->srv;

	if (uv_is_closing((uv_handle_t *)&s->poll))
		return;
	log_debug("session %u (%s): closed", s->session.id, s->session.name);
	rpc_remove_session(srv->rpc, &s->session);
	if (s->prev)
		s->prev->next = s->next;
	else
		srv->connections = s->next;
	if (s->next)
		s->next->prev = s->prev;
	srv->n_connections--;
	uv_close((uv_handle_t *)&s->poll, connection_on_closed);
}

static void connection_on_poll(uv_poll_t *h, int status, int events);

/* Keeps a reply the socket has no room for. Returns 0, -ENOBUFS when the queue is full, -errno. */
static int connection_enqueue(struct connection *s, const void *buf, size_t len,
			      const int *fds, size_t n_fds)
{
	struct queued_reply *q;

	if (s->queued >= CONNECTION_QUEUE_MAX || s->queued_fds + n_fds > CONNECTION_QUEUE_FDS_MAX)
		return -ENOBUFS;
	q = malloc(sizeof(*q) + n_fds * sizeof(int) + len);
	if (!q)
		return -ENOMEM;
	q->next = NULL;
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
	if (s->queue_tail)
		s->queue_tail->next = q;
	else
		s->queue_head = q;
	s->queue_tail = q;
	s->queued_fds += q->n_fds;
	if (s->queued++ == 0)
		return uv_poll_start(&s->poll, UV_READABLE | UV_WRITABLE, connection_on_poll);
	return 0;
}

/* Sends @len packed bytes of tx_buf, or queues them behind what waits. */
static int connection_send_packed(struct connection *s, size_t len, const int *fds, size_t n_fds)
{
	struct server *srv = s->srv;
	int r;

	/* Replies go out in order: behind the queue, if there is one. */
	if (!s->queue_head) {
		r = wire_send(s->fd, srv->tx_buf, len, fds, n_fds);
		if (r != -EAGAIN)
			return r;
	}
	r = connection_enqueue(s, srv->tx_buf, len, fds, n_fds);
	if (r == -ENOBUFS)
		log_warning("session %u (%s, pid %d): %u replies unread; closing it", s->session.id,
			    s->session.name, (int)s->session.pid, s->queued);
	return r;
}

/* Sends @out. Returns 0 when sent or queued, -errno when the session must close. */
static int connection_send(struct connection *s, struct rpc_reply *out)
{
	struct server *srv = s->srv;
	ssize_t len;

	len = wire_pack(&out->msg.base, srv->tx_buf, srv->max_message_size);
	if (len == -EMSGSIZE) {
		/* Never expected (lists are paged), but the client still gets an answer. */
		log_warning("session %u: reply to request %u exceeds max_message_size", s->session.id,
			    out->msg.id);
		rpc_reply_error(out, &srv->arena, out->msg.id, -EMSGSIZE,
				"reply larger than max_message_size (%u bytes)",
				srv->max_message_size);
		len = wire_pack(&out->msg.base, srv->tx_buf, srv->max_message_size);
	}
	if (len < 0)
		return (int)len;
	return connection_send_packed(s, (size_t)len, out->fds, out->n_fds);
}

int connection_push(struct session *rs, struct rpc_reply *out, bool droppable, void *data)
{
	struct connection *s = container_of(rs, struct connection, session);
	int r;

	/* Replies wait for the client: a status that would wait behind them is stale already. */
	if (droppable && s->queue_head)
		return -EAGAIN;
	r = connection_send(s, out);
	if (r < 0) {
		if (r != -ECONNRESET && r != -EPIPE && r != -ENOBUFS)
			log_warning("session %u (%s): %s; closing it", s->session.id, s->session.name,
				    strerror(-r));
		connection_close(s);
	}
	return r;
}

/* Sends what the queue holds, as far as the socket takes it. */
static int connection_flush(struct connection *s)
{
	while (s->queue_head) {
		struct queued_reply *q = s->queue_head;
		int r = wire_send(s->fd, q->bytes, q->len, q->fds, q->n_fds);

		if (r == -EAGAIN)
			return 0;
		if (r < 0)
			return r;
		queue_pop(s);
	}
	return uv_poll_start(&s->poll, UV_READABLE, connection_on_poll);
}

/*
 * Logs a malformed request: the first few of a session, then one in a
 * thousand with the count, so that a client sending garbage cannot flood the
 * journal.
 */
static void connection_log_bad(struct connection *s, const char *what)
{
	s->bad++;
	if (s->bad <= 3 || s->bad % 1000 == 0)
		log_warning("session %u (%s, pid %d): %s (%lu such so far)", s->session.id, s->session.name,
			    (int)s->session.pid, what, s->bad);
}

/*
 * The status of one pool by id, by hand (proto/fastpath.h). Returns 1 when
 * answered, 0 when the request is for the full path, -errno to close.
 */
static int connection_serve_fast(struct connection *s, size_t n)
{
	struct server *srv = s->srv;
	struct framing f;
	uint32_t id, pool_id, allocated;
	ssize_t len;
	int r;

	if (!fastpath_parse_status_request(srv->rx_buf, n, &id, &pool_id) ||
	    rpc_status_fast(srv->rpc, &s->session, pool_id, &f, &allocated) < 0)
		return 0;
	len = fastpath_pack_status_reply(srv->tx_buf, srv->max_message_size, id, &f, allocated);
	if (len < 0)
		return 0;
	r = connection_send_packed(s, (size_t)len, NULL, 0);
	return r < 0 ? r : 1;
}

/* Reads, answers and forgets one request. Returns -errno when the session must close. */
static int connection_serve_one(struct connection *s)
{
	struct server *srv = s->srv;
	Ksalloc__Request *req;
	struct rpc_reply out;
	size_t n_dropped = 0;
	ssize_t n;
	int r;

	n = wire_recv(s->fd, srv->rx_buf, srv->max_message_size, NULL, 0, NULL, &n_dropped);
	if (n == -EAGAIN)
		return 0;
	if (n == 0 || n == -ECONNRESET)
		return -ECONNRESET; /* hung up */
	if (n == -EMSGSIZE) {
		connection_log_bad(s, "dropped a request larger than max_message_size");
		rpc_count_undecodable(srv->rpc);
		rpc_reply_error(&out, &srv->arena, 0, -EMSGSIZE,
				"request larger than max_message_size (%u bytes): dropped",
				srv->max_message_size);
		goto reply;
	}
	if (n < 0)
		return (int)n;
	if (!n_dropped) {
		r = connection_serve_fast(s, (size_t)n);
		if (r != 0)
			return r < 0 ? r : 0;
	}

	req = ksalloc__request__unpack(&srv->arena.allocator, (size_t)n, srv->rx_buf);
	if (!req) {
		connection_log_bad(s, "dropped a request that is not a ksalloc.Request");
		rpc_count_undecodable(srv->rpc);
		rpc_reply_error(&out, &srv->arena, 0, -EBADMSG,
				"request could not be decoded as a ksalloc.Request");
	} else if (n_dropped) {
		connection_log_bad(s, "closed the file descriptors it sent");
		rpc_reply_error(&out, &srv->arena, req->id, -EINVAL,
				"the daemon accepts no file descriptors; %zu closed", n_dropped);
	} else {
		rpc_dispatch(srv->rpc, &s->session, req, &srv->arena, &out);
		if (events_active(&srv->rpc->events))
			server_tick_start(srv);
	}
reply:
	r = connection_send(s, &out);
	/* Nothing unpacked or built for this request outlives it. */
	arena_reset(&srv->arena);
	return r;
}

static void connection_on_poll(uv_poll_t *h, int status, int events)
{
	struct connection *s = h->data;
	int r = status;

	if (r >= 0 && (events & UV_WRITABLE))
		r = connection_flush(s);
	if (r >= 0 && (events & UV_READABLE))
		r = connection_serve_one(s);
	if (r < 0) {
		if (r != -ECONNRESET && r != -EPIPE && r != -ENOBUFS)
			log_warning("session %u (%s): %s; closing it", s->session.id, s->session.name,
				    strerror(-r));
		connection_close(s);
	}
}

int connection_new(struct server *srv, int fd, const struct ucred *cred, const gid_t *groups,
		   size_t n_groups)
{
	struct connection *s = calloc(1, sizeof(*s));
	int r;

	if (!s) {
		close(fd);
		return -ENOMEM;
	}
	s->srv = srv;
	s->fd = fd;
	r = uv_poll_init(srv->loop, &s->poll, fd);
	if (r < 0) {
		close(fd);
		free(s);
		return r;
	}
	s->poll.data = s;
	r = rpc_add_session(srv->rpc, &s->session, cred->pid, cred->uid, cred->gid, groups, n_groups);
	if (r < 0) {
		/* Nothing of the session exists yet but its handle: close just that. */
		uv_close((uv_handle_t *)&s->poll, connection_on_closed);
		return r;
	}

	s->next = srv->connections;
	if (s->next)
		s->next->prev = s;
	srv->connections = s;
	srv->n_connections++;

	r = uv_poll_start(&s->poll, UV_READABLE, connection_on_poll);
	if (r < 0) {
		connection_close(s);
		return r;
	}
	log_debug("session %u: connected, pid %d uid %u gid %u", s->session.id, (int)cred->pid,
		  (unsigned)cred->uid, (unsigned)cred->gid);
	return 0;
}
