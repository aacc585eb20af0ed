/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The native client's connection: one SOCK_SEQPACKET connection to ksallocd, one request
 * and one reply per call, blocking with a timeout (SO_SNDTIMEO/SO_RCVTIMEO, so a call costs
 * exactly one sendmsg and one recvmsg). What goes in the requests is the other modules'
 * business (client.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <ksalloc/ksalloc.h>

#include "client/client.h"
#include "client/convert.h"
#include "common/list.h"
#include "proto/arena.h"
#include "proto/fastpath.h"
#include "proto/hresult.h"
#include "proto/wire.h"

/* Replies to earlier, timed-out requests that one call skips at most. */
#define STALE_REPLIES_MAX 64
/* Waits between attempts to reach a daemon that went away: doubling from ... to. */
#define RECONNECT_MIN_MS 50u
#define RECONNECT_MAX_MS 2000u

static __thread char open_error[256];

void client_set_error(struct ksalloc_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
}

void client_set_open_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(open_error, sizeof(open_error), fmt, ap);
	va_end(ap);
}

void client_attach(struct ksalloc_client *c, struct client_attachment *a)
{
	list_add(&c->attachments, &a->link);
}

void client_detach(struct client_attachment *a)
{
	list_remove(&a->link);
}

void ksalloc_client_options_init(struct ksalloc_client_options *opts)
{
	*opts = (struct ksalloc_client_options){ .timeout_ms = KSALLOC_DEFAULT_TIMEOUT_MS };
}

static int set_timeouts(int fd, uint32_t timeout_ms)
{
	struct timeval tv = {
		.tv_sec = timeout_ms / 1000,
		.tv_usec = (timeout_ms % 1000) * 1000,
	};

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

/*
 * Requests go out on the current connection and wait for the reply with
 * their id, with the lock held (client_exchange()). On success the reply
 * lives in c->arena until the next call, and the fds attached to it (at most
 * as many as the caller has room for; any more are closed) belong to the
 * caller. A reply carrying a failure HRESULT becomes its errno, with the
 * daemon's message in c->error.
 */
/* A status reply decoded by hand (proto/fastpath.h), when it came in that shape. */
struct fast_status {
	bool done;
	struct framing framing;
	uint32_t allocated;
};

/* The next request id; never 0, which replies to undecodable requests carry. */
static uint32_t next_id(struct ksalloc_client *c)
{
	if (++c->next_id == 0)
		c->next_id = 1;
	return c->next_id;
}

/*
 * Sends the @len bytes packed in c->buf as request @id and waits for the
 * reply with that id (see client_exchange()). With @fast, a status reply in
 * the hand-decoded shape fills it and *ret_reply stays unset.
 */
static int client_transact(struct ksalloc_client *c, size_t len, uint32_t id,
			   Ksalloc__Reply__BodyCase expect, Ksalloc__Reply **ret_reply, int *fds,
			   size_t max_fds, size_t *ret_n_fds, struct fast_status *fast)
{
	Ksalloc__Reply *reply = NULL;
	size_t n_fds = 0;
	ssize_t n;
	int r;

	/* Kept, for a daemon that takes over the connection before it answers (resumed). */
	memcpy(c->sent, c->buf, len);
	r = wire_send(c->fd, c->buf, len, NULL, 0);
	if (r == -EAGAIN) {
		client_set_error(c, "ksallocd at %s did not take the request within %u ms",
				 c->socket_path, c->timeout_ms);
		return -ETIME;
	}
	/*
	 * A daemon that hung up may have said why first (a refused session):
	 * the receive below reads that, or reports the hang-up.
	 */
	if (r < 0 && r != -ECONNRESET && r != -EPIPE) {
		client_set_error(c, "cannot send to ksallocd at %s: %s", c->socket_path,
				 strerror(-r));
		return r;
	}

	for (int stale = 0;; stale++) {
		n_fds = 0;
		n = wire_recv(c->fd, c->buf, c->max_message_size, fds, max_fds, &n_fds, NULL);
		/*
		 * A daemon that closes while our request is unread makes the kernel
		 * report ECONNRESET once, ahead of what it sent before closing (a
		 * refusal that says why): read on to get that.
		 */
		if (n == -ECONNRESET)
			n = wire_recv(c->fd, c->buf, c->max_message_size, fds, max_fds, &n_fds,
				      NULL);
		if (n == -EAGAIN) {
			client_set_error(c, "ksallocd at %s did not answer within %u ms",
					 c->socket_path, c->timeout_ms);
			return -ETIME;
		}
		if (n == 0 || n == -ECONNRESET) {
			client_set_error(c, "ksallocd at %s closed the connection", c->socket_path);
			return -EPIPE;
		}
		if (n == -EMSGSIZE) {
			client_set_error(
				c, "ksallocd sent a reply larger than its own limit (%u bytes)",
				c->max_message_size);
			return -EBADMSG;
		}
		if (n < 0) {
			client_set_error(c, "cannot receive from ksallocd: %s", strerror((int)-n));
			return (int)n;
		}

		if (fast && n_fds == 0) {
			uint32_t rid;

			if (fastpath_parse_status_reply(c->buf, (size_t)n, &rid, &fast->framing,
							&fast->allocated) &&
			    rid == id) {
				fast->done = true;
				return 0;
			}
		}
		reply = ksalloc__reply__unpack(&c->arena.allocator, (size_t)n, c->buf);
		if (!reply) {
			client_set_error(c, "ksallocd sent a reply that could not be decoded");
			r = -EBADMSG;
			goto fail;
		}
		/* Id 0 answers a request the daemon could not read, or refuses the session. */
		if (reply->id == id || (reply->id == 0 && reply->hresult < 0))
			break;
		/*
		 * A new daemon took the connection over (a restart under systemd's fd store):
		 * the one before may have read the request and died before answering. Sent
		 * again; if both answer, the first is taken and the other skipped as late.
		 */
		if (reply->id == 0 && reply->body_case == KSALLOC__REPLY__BODY_RESUMED) {
			wire_close_fds(fds, n_fds);
			n_fds = 0;
			r = wire_send(c->fd, c->sent, len, NULL, 0);
			if (r < 0 && r != -ECONNRESET && r != -EPIPE) {
				client_set_error(c, "cannot send to ksallocd at %s: %s",
						 c->socket_path, strerror(-r));
				return r == -EAGAIN ? -ETIME : r;
			}
			continue;
		}
		/* A late reply to a request that timed out earlier: skip it. */
		wire_close_fds(fds, n_fds);
		n_fds = 0;
		if (stale == STALE_REPLIES_MAX) {
			client_set_error(c, "ksallocd sent too many replies to other requests");
			return -EBADMSG;
		}
	}

	if (reply->hresult < 0) { /* FAILED() */
		client_set_error(c, "%s", reply->message[0] ? reply->message : "request failed");
		r = hresult_to_errno(reply->hresult);
		goto fail;
	}
	if (reply->body_case != expect) {
		client_set_error(c, "ksallocd sent a reply of the wrong type");
		r = -EBADMSG;
		goto fail;
	}
	*ret_n_fds = n_fds;
	*ret_reply = reply;
	return 0;
fail:
	wire_close_fds(fds, n_fds);
	return r;
}

int client_exchange_fds(struct ksalloc_client *c, Ksalloc__Request *req,
			Ksalloc__Reply__BodyCase expect, Ksalloc__Reply **ret_reply, int *fds,
			size_t max_fds, size_t *ret_n_fds)
{
	ssize_t n;

	arena_reset(&c->arena);
	req->id = next_id(c);
	n = wire_pack(&req->base, c->buf, c->max_message_size);
	if (n < 0) {
		client_set_error(c, "request larger than the daemon's limit of %u bytes",
				 c->max_message_size);
		return -EMSGSIZE;
	}
	return client_transact(c, (size_t)n, req->id, expect, ret_reply, fds, max_fds, ret_n_fds,
			       NULL);
}

int client_exchange(struct ksalloc_client *c, Ksalloc__Request *req,
		    Ksalloc__Reply__BodyCase expect, Ksalloc__Reply **ret_reply, int *ret_fd)
{
	size_t n_fds;
	int r = client_exchange_fds(c, req, expect, ret_reply, ret_fd, ret_fd ? 1 : 0, &n_fds);

	if (r == 0 && ret_fd && n_fds == 0)
		*ret_fd = -1;
	return r;
}

static int client_connect(struct ksalloc_client *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int r;

	strcpy(sa.sun_path, c->socket_path);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		r = -errno;
		client_set_error(c, "cannot create a socket: %s", strerror(-r));
		return r;
	}
	r = set_timeouts(c->fd, c->timeout_ms);
	if (r < 0) {
		client_set_error(c, "cannot set socket timeouts: %s", strerror(-r));
		return r;
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		client_set_error(
			c, "cannot connect to ksallocd at %s: %s%s", c->socket_path, strerror(-r),
			r == -ENOENT || r == -ECONNREFUSED ? " (is ksallocd running?)" : "");
		/* Nothing there, or nobody listening: to a caller both mean "not running". */
		return r == -ENOENT || r == -ECONNREFUSED ? -ECONNREFUSED : r;
	}
	return 0;
}

static int client_hello(struct ksalloc_client *c, const char *name)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__HelloRequest hello = KSALLOC__HELLO_REQUEST__INIT;
	Ksalloc__Reply *reply;
	uint32_t max;
	uint8_t *buf;
	int r;

	hello.protocol_version = WIRE_PROTOCOL_VERSION;
	hello.client_name = (char *)name;
	req.body_case = KSALLOC__REQUEST__BODY_HELLO;
	req.hello = &hello;
	r = client_exchange(c, &req, KSALLOC__REPLY__BODY_HELLO, &reply, NULL);
	if (r < 0)
		return r;
	if (!reply->hello->limits ||
	    reply->hello->limits->max_message_size < WIRE_MIN_MAX_MESSAGE) {
		client_set_error(c, "ksallocd announced no usable message size limit");
		return -EBADMSG;
	}
	c->session_token = reply->hello->session_token;
	c->session_id = reply->hello->session_id;
	c->max_frames = reply->hello->limits->max_frames_per_session;
	if (c->session_id == 0) {
		client_set_error(c, "ksallocd gave this session no id");
		return -EBADMSG;
	}
	max = reply->hello->limits->max_message_size;
	if (max != c->max_message_size) {
		buf = realloc(c->buf, max);
		if (!buf)
			return -ENOMEM;
		c->buf = buf;
		buf = realloc(c->sent, max);
		if (!buf)
			return -ENOMEM;
		c->sent = buf;
		c->max_message_size = max;
	}
	return 0;
}

/*
 * After the new session's hello: opens everything attached to the client again
 * (client_attachment), newest first, stopping at the first failure.
 */
static int client_reattach(struct ksalloc_client *c)
{
	struct client_attachment *a;

	list_for_each_entry(a, &c->attachments, link) {
		int r = a->reattach(c, a);

		if (r < 0)
			return r;
	}
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * The daemon went away: a new connection, hello, and the pools opened again.
 * Attempts are spaced out, doubling from RECONNECT_MIN_MS to RECONNECT_MAX_MS,
 * so a client calling in a loop does not hammer a daemon that is starting.
 */
static int client_reconnect(struct ksalloc_client *c)
{
	uint64_t now = now_ms();
	int r;

	if (now < c->retry_at_ms) {
		client_set_error(
			c, "ksallocd at %s went away; the next attempt to reach it is in %llu ms",
			c->socket_path, (unsigned long long)(c->retry_at_ms - now));
		return -EPIPE;
	}
	r = client_connect(c);
	if (r == 0)
		r = client_hello(c, c->name);
	if (r == 0)
		r = client_reattach(c);
	if (r < 0) {
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		/* Pools reopened before the failure belong to a session that is gone with it. */
		atomic_fetch_add(&c->epoch, 1);
		c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : RECONNECT_MIN_MS;
		if (c->backoff_ms > RECONNECT_MAX_MS)
			c->backoff_ms = RECONNECT_MAX_MS;
		c->retry_at_ms = now_ms() + c->backoff_ms;
		return r;
	}
	c->backoff_ms = 0;
	/* A new session holds nothing yet: frames of the old one went with the daemon. */
	atomic_store(&c->held, 0);
	return 0;
}

/*
 * Gone: the next call tries to reach a daemon again, at once the first time. The views of
 * the pools die with the connection (c->epoch), and their waiters wake to see it.
 */
static void client_lost(struct ksalloc_client *c)
{
	struct client_attachment *a;

	close(c->fd);
	c->fd = -1;
	c->retry_at_ms = 0;
	atomic_fetch_add(&c->epoch, 1);
	list_for_each_entry(a, &c->attachments, link)
		if (a->lost)
			a->lost(a);
}

int client_check_alive(struct ksalloc_client *c, bool reconnect)
{
	struct pollfd pfd;
	int r = 0;

	if (pthread_mutex_trylock(&c->lock) != 0)
		return 0;
	if (c->fd >= 0) {
		pfd = (struct pollfd){ .fd = c->fd, .events = POLLRDHUP };
		/* POLLIN alone is an event the daemon sent (a late reply): not a loss. */
		if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLRDHUP | POLLERR))) {
			client_set_error(c, "ksallocd at %s went away", c->socket_path);
			client_lost(c);
		}
	}
	if (c->fd < 0) {
		r = -ESHUTDOWN;
		if (reconnect && client_reconnect(c) == 0)
			r = 1;
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}

int client_ensure(struct ksalloc_client *c)
{
	return c->fd < 0 ? client_reconnect(c) : 0;
}

int client_call(struct ksalloc_client *c, Ksalloc__Request *req, Ksalloc__Reply__BodyCase expect,
		Ksalloc__Reply **ret_reply, int *ret_fd)
{
	int r = client_ensure(c);

	if (r < 0)
		return r;
	r = client_exchange(c, req, expect, ret_reply, ret_fd);
	if (r == -EPIPE)
		client_lost(c);
	return r;
}

int client_call_fds(struct ksalloc_client *c, Ksalloc__Request *req,
		    Ksalloc__Reply__BodyCase expect, Ksalloc__Reply **ret_reply, int *fds,
		    size_t max_fds, size_t *ret_n_fds)
{
	int r = client_ensure(c);

	if (r < 0)
		return r;
	r = client_exchange_fds(c, req, expect, ret_reply, fds, max_fds, ret_n_fds);
	if (r == -EPIPE)
		client_lost(c);
	return r;
}

int client_call_status(struct ksalloc_client *c, uint32_t pool_id, const char *name,
		       struct ksalloc_status *ret_status)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__GetStatusRequest get = KSALLOC__GET_STATUS_REQUEST__INIT;
	Ksalloc__Reply *reply;
	int r;

	/* By id, the call a media pipeline makes over and over: by hand (proto/fastpath.h). */
	if (pool_id && !name) {
		struct fast_status fast = { 0 };
		size_t n_fds;
		uint32_t id;
		ssize_t n;

		r = client_ensure(c);
		if (r < 0)
			return r;
		arena_reset(&c->arena);
		id = next_id(c);
		n = fastpath_pack_status_request(c->buf, c->max_message_size, id, pool_id);
		if (n < 0)
			return (int)n;
		r = client_transact(c, (size_t)n, id, KSALLOC__REPLY__BODY_GET_STATUS, &reply, NULL,
				    0, &n_fds, &fast);
		if (r == -EPIPE)
			client_lost(c);
		if (r < 0)
			return r;
		if (fast.done) {
			*ret_status = (struct ksalloc_status){
				.framing = { .options_flags = fast.framing.options_flags,
					     .pool_type = fast.framing.pool_type,
					     .frames = fast.framing.frames,
					     .frame_size = fast.framing.frame_size,
					     .file_alignment = fast.framing.file_alignment },
				.allocated_frames = fast.allocated,
			};
			return 0;
		}
		status_from_wire(reply->get_status->framing, reply->get_status->allocated_frames,
				 ret_status);
		return 0;
	}

	get.pool_id = pool_id;
	if (name)
		get.name = (char *)name;
	req.body_case = KSALLOC__REQUEST__BODY_GET_STATUS;
	req.get_status = &get;
	r = client_call(c, &req, KSALLOC__REPLY__BODY_GET_STATUS, &reply, NULL);
	if (r < 0)
		return r;
	status_from_wire(reply->get_status->framing, reply->get_status->allocated_frames,
			 ret_status);
	return 0;
}

int client_set_nonblocking(struct ksalloc_client *c)
{
	int flags, r;

	if ((flags = fcntl(c->fd, F_GETFL)) < 0 || fcntl(c->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		r = -errno;
		client_set_error(c, "cannot make the socket non-blocking: %s", strerror(-r));
		return r;
	}
	return 0;
}

int client_receive(struct ksalloc_client *c, Ksalloc__Reply **ret_reply)
{
	ssize_t n;

	arena_reset(&c->arena);
	n = wire_recv(c->fd, c->buf, c->max_message_size, NULL, 0, NULL, NULL);
	if (n == -EAGAIN || n == -EINTR)
		return -EAGAIN;
	if (n == 0 || n == -ECONNRESET) {
		client_set_error(c, "ksallocd at %s closed the connection", c->socket_path);
		return -EPIPE;
	}
	if (n == -EMSGSIZE) {
		*ret_reply = NULL; /* larger than the daemon's own limit: not a message of its */
		return 0;
	}
	if (n < 0) {
		client_set_error(c, "cannot receive from ksallocd: %s", strerror((int)-n));
		return (int)n;
	}
	*ret_reply = ksalloc__reply__unpack(&c->arena.allocator, (size_t)n, c->buf);
	return 0;
}

int ksalloc_client_open(const struct ksalloc_client_options *opts,
			struct ksalloc_client **ret_client)
{
	struct ksalloc_client_options defaults;
	struct ksalloc_client *c;
	const char *path;
	int r;

	if (!opts) {
		ksalloc_client_options_init(&defaults);
		opts = &defaults;
	}
	path = opts->socket_path;
	if (!path)
		path = getenv("KSALLOC_SOCKET");
	if (!path || !path[0])
		path = KSALLOC_DEFAULT_SOCKET;

	c = calloc(1, sizeof(*c));
	if (!c) {
		client_set_open_error("out of memory");
		return -ENOMEM;
	}
	c->fd = -1;
	pthread_mutex_init(&c->lock, NULL);
	list_init(&c->attachments);
	c->timeout_ms = opts->timeout_ms ? opts->timeout_ms : KSALLOC_DEFAULT_TIMEOUT_MS;
	c->max_message_size = WIRE_DEFAULT_MAX_MESSAGE;
	if (strlen(path) >= sizeof(c->socket_path)) {
		client_set_open_error("socket path is longer than %zu bytes: %s",
				      sizeof(c->socket_path) - 1, path);
		ksalloc_client_close(c);
		return -EINVAL;
	}
	strcpy(c->socket_path, path);
	c->buf = malloc(c->max_message_size);
	c->sent = malloc(c->max_message_size);
	/* Twice the largest message: a decoded reply never outgrows its bytes by more. */
	if (!c->buf || !c->sent ||
	    arena_init(&c->arena, 2 * (size_t)WIRE_DEFAULT_MAX_MESSAGE) < 0) {
		client_set_error(c, "out of memory");
		r = -ENOMEM;
		goto fail;
	}
	snprintf(c->name, sizeof(c->name), "%s",
		 opts->client_name ? opts->client_name : program_invocation_short_name);
	r = client_connect(c);
	if (r < 0)
		goto fail;
	r = client_hello(c, c->name);
	if (r < 0)
		goto fail;
	*ret_client = c;
	return 0;
fail:
	client_set_open_error("%s", c->error);
	ksalloc_client_close(c);
	return r;
}

const char *ksalloc_client_open_error(void)
{
	return open_error;
}

struct ksalloc_client *ksalloc_client_close(struct ksalloc_client *c)
{
	if (!c)
		return NULL;
	if (c->fd >= 0)
		close(c->fd);
	arena_deinit(&c->arena);
	free(c->buf);
	free(c->sent);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return NULL;
}

const char *ksalloc_client_error(const struct ksalloc_client *c)
{
	return c->error;
}

const char *ksalloc_client_socket_path(const struct ksalloc_client *c)
{
	return c->socket_path;
}

uint32_t ksalloc_client_session_id(const struct ksalloc_client *c)
{
	return c->session_id;
}
