/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/transport/server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/macro.h"
#include "daemon/rpc/events.h"
#include "daemon/util/log.h"
#include "proto/hresult.h"
#include "proto/wire.h"

/* How long to stop accepting when the daemon is out of fds. */
#define ACCEPT_PAUSE_MS 100
/* Connections taken per readiness callback, so a flood cannot starve sessions. */
#define ACCEPT_BATCH 32

static int make_address(const char *path, struct sockaddr_un *sa)
{
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	strcpy(sa->sun_path, path);
	return 0;
}

/*
 * A socket file left behind by a daemon that died is replaced; one that a live
 * daemon still answers on is not, nor is a path that is not a socket.
 * Returns 1 when @sa's file may be replaced, 0 when it may not, or -errno.
 */
static int socket_is_stale(const struct sockaddr_un *sa)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 1 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ? -errno : 0;
	if (r == 0)
		return 0;
	return r == -ECONNREFUSED || r == -ENOENT ? 1 : r;
}

/* Binds and listens on @path. Returns 0 and *ret_fd, -EADDRINUSE when a live daemon has it, or -errno. */
static int listen_on(const char *path, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa;
	int r;

	r = make_address(path, &sa);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != EADDRINUSE)
			return -errno;
		r = socket_is_stale(&sa);
		if (r <= 0)
			return r == 0 ? -EADDRINUSE : r;
		if (unlink(path) < 0 && errno != ENOENT)
			return -errno;
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			return -errno;
	}
	/*
	 * Every local user may connect for now; per-pool access control decides
	 * what they may do. The folder's permissions can narrow it further.
	 */
	if (chmod(path, 0666) < 0 || listen(fd, SOMAXCONN) < 0) {
		r = -errno;
		unlink(path);
		return r;
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static void server_on_listen(uv_poll_t *h, int status, int events);

static void server_on_accept_timer(uv_timer_t *t)
{
	struct server *srv = t->data;

	if (!srv->closing)
		uv_poll_start(&srv->listen_poll, UV_READABLE, server_on_listen);
}

/* Tells a client why it was turned away, then hangs up. Takes ownership of @fd. */
static void server_refuse(struct server *srv, int fd, int error, const char *message)
{
	Ksalloc__Reply reply = KSALLOC__REPLY__INIT;
	ssize_t len;

	reply.hresult = hresult_from_errno(error);
	reply.message = (char *)message;
	len = wire_pack(&reply.base, srv->conn.tx_buf, srv->conn.max_message_size);
	if (len > 0)
		(void)wire_send(fd, srv->conn.tx_buf, (size_t)len, NULL, 0);
	close(fd);
}

/* A peer's supplementary groups (SO_PEERGROUPS); *ret_groups is malloc'ed. */
static int peer_groups(int fd, gid_t **ret_groups, size_t *ret_n)
{
	socklen_t len = 32 * sizeof(gid_t);
	_cleanup_free_ gid_t *groups = NULL;

	for (;;) {
		gid_t *grown = realloc(groups, len ? len : sizeof(gid_t));

		if (!grown)
			return -ENOMEM;
		groups = grown;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
			break;
		/* ERANGE: len now says how much it takes. */
		if (errno != ERANGE)
			return -errno;
	}
	*ret_groups = TAKE_PTR(groups);
	*ret_n = len / sizeof(gid_t);
	return 0;
}

/* The sessions of @uid: its connections. */
static uint32_t sessions_of(const struct server *srv, uid_t uid)
{
	const struct connection *c;
	uint32_t n = 0;

	list_for_each_entry(c, &srv->connections, link)
		n += c->session.uid == uid;
	return n;
}

static void server_accept_one(struct server *srv, int fd)
{
	_cleanup_free_ gid_t *groups = NULL;
	struct connection *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	size_t n_groups = 0;
	int r;

	r = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ? -errno : 0;
	if (r == 0)
		r = peer_groups(fd, &groups, &n_groups);
	if (r < 0) {
		log_warning("cannot read the credentials of a new connection: %s", strerror(-r));
		close(fd);
		return;
	}
	if (srv->n_connections >= srv->max_sessions) {
		log_warning("refused a connection from pid %d uid %u: max_sessions (%u) reached",
			    (int)cred.pid, (unsigned)cred.uid, srv->max_sessions);
		server_refuse(srv, fd, -EUSERS,
			      "too many sessions: the daemon's max_sessions limit is reached");
	} else if (cred.uid != 0 && sessions_of(srv, cred.uid) >= srv->max_sessions_per_uid) {
		log_warning("refused a connection from pid %d uid %u: it has %u sessions, "
			    "max_sessions_per_uid",
			    (int)cred.pid, (unsigned)cred.uid, srv->max_sessions_per_uid);
		server_refuse(srv, fd, -EUSERS,
			      "too many sessions of this uid: the daemon's max_sessions_per_uid "
			      "limit is reached");
	} else if (connection_new(&srv->conn, fd, &cred, groups, n_groups, &c) < 0) {
		log_warning("cannot serve a connection from pid %d: out of memory", (int)cred.pid);
	} else {
		list_add(&srv->connections, &c->link);
		srv->n_connections++;
	}
}

void server_set_max_sessions(struct server *srv, uint32_t max_sessions,
			     uint32_t max_sessions_per_uid)
{
	srv->max_sessions = max_sessions;
	srv->max_sessions_per_uid = max_sessions_per_uid;
}

void server_evict(struct session *s, void *data)
{
	connection_close(connection_of(s));
}

uint32_t server_connection_count(const struct server *srv)
{
	return srv->n_connections;
}

/* A stored connection must be one a client made: connected AF_UNIX SOCK_SEQPACKET, as @r says. */
static int check_adopted(int fd, const struct session_restore *r, const char **ret_reason)
{
	struct sockaddr_un sa;
	struct ucred cred;
	socklen_t len = sizeof(int);
	int domain, type, listening;

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0) {
		*ret_reason = "not a socket";
		return -ENOTSOCK;
	}
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || domain != AF_UNIX ||
	    type != SOCK_SEQPACKET) {
		*ret_reason = "not an AF_UNIX SOCK_SEQPACKET socket";
		return -ESOCKTNOSUPPORT;
	}
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || listening) {
		*ret_reason = "a listening socket";
		return -EINVAL;
	}
	len = sizeof(sa);
	if (getpeername(fd, (struct sockaddr *)&sa, &len) < 0) {
		*ret_reason = "not connected";
		return -ENOTCONN;
	}
	len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid != r->pid ||
	    cred.uid != r->uid || cred.gid != r->gid) {
		*ret_reason = "its peer is not the session's process";
		return -EPERM;
	}
	return 0;
}

static void server_on_subscribed(struct connection *c, void *data);

/*
 * Tells the client of adopted connection @c that a new daemon serves it now: a request the
 * daemon before had read and not answered is lost, and the client sends it again (a request
 * waiting unread in the socket is answered twice then; the client takes the first answer and
 * skips the other as a late reply). A client that cannot take it is closed.
 */
static void push_resumed(struct connection *c)
{
	Ksalloc__Resumed resumed = KSALLOC__RESUMED__INIT;
	struct rpc_reply out = { .fds = NULL, .n_fds = 0 };

	resumed.daemon_version = (char *)KSALLOC_VERSION;
	ksalloc__reply__init(&out.msg);
	out.msg.body_case = KSALLOC__REPLY__BODY_RESUMED;
	out.msg.resumed = &resumed;
	(void)connection_push(&c->session, &out, false, NULL);
}

int server_adopt(struct server *srv, int fd, const struct session_restore *r,
		 const char **ret_reason)
{
	struct connection *c;
	int ret;

	ret = check_adopted(fd, r, ret_reason);
	if (ret == 0 && fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		ret = -errno;
	if (ret < 0) {
		/* A client's connection it is, but not this session's: it must see the hang-up. */
		if (ret == -EPERM)
			shutdown(fd, SHUT_RDWR);
		close(fd);
		return ret;
	}
	ret = connection_adopt(&srv->conn, fd, r, &c);
	if (ret < 0) {
		*ret_reason = "it cannot be served (out of memory, or its session is live)";
		return ret;
	}
	list_add(&srv->connections, &c->link);
	srv->n_connections++;
	/* Its session may have been subscribed again: its events tick from now on. */
	if (events_active(&srv->rpc->events))
		server_on_subscribed(c, srv);
	/* Last: a client that cannot take it is closed. */
	push_resumed(c);
	return 0;
}

/* A socket handed over by systemd must be what we serve: listening AF_UNIX SOCK_SEQPACKET. */
static int check_activated(int fd)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	int type, listening;
	socklen_t opt = sizeof(int);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &opt) < 0)
		return -errno;
	opt = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &opt) < 0)
		return -errno;
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return -errno;
	if (sa.sun_family != AF_UNIX || type != SOCK_SEQPACKET || !listening)
		return -ENOTSOCK;
	return 0;
}

static void server_on_listen(uv_poll_t *h, int status, int events)
{
	struct server *srv = h->data;

	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd >= 0) {
			server_accept_one(srv, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			/* Level-triggered: without a pause this would spin until an fd frees up. */
			log_warning("cannot accept connections: %s; pausing for %d ms",
				    strerror(errno), ACCEPT_PAUSE_MS);
			uv_poll_stop(&srv->listen_poll);
			uv_timer_start(&srv->accept_timer, server_on_accept_timer, ACCEPT_PAUSE_MS,
				       0);
		} else if (errno != EAGAIN) {
			log_warning("accept: %s", strerror(errno));
		}
		return;
	}
}

static void server_on_tick(uv_timer_t *t)
{
	struct server *srv = t->data;

	events_tick(&srv->rpc->events, &srv->conn.arena, connection_push, NULL);
	/* Nobody subscribed any more: no wake-ups for nothing. */
	if (!events_active(&srv->rpc->events))
		uv_timer_stop(&srv->tick_timer);
}

/* Someone is subscribed: the events tick every EVENTS_TICK_MS, until nobody is. */
static void server_on_subscribed(struct connection *c, void *data)
{
	struct server *srv = data;

	if (!srv->closing && !uv_is_active((uv_handle_t *)&srv->tick_timer))
		uv_timer_start(&srv->tick_timer, server_on_tick, EVENTS_TICK_MS, EVENTS_TICK_MS);
}

static void server_on_closed(struct connection *c, void *data)
{
	struct server *srv = data;

	list_remove(&c->link);
	srv->n_connections--;
}

static void server_on_changed(struct connection *c, void *data)
{
	struct server *srv = data;

	if (srv->changed)
		srv->changed(srv->changed_data);
}

static const struct connection_callbacks server_callbacks = {
	.closed = server_on_closed,
	.subscribed = server_on_subscribed,
	.changed = server_on_changed,
};

int server_new(uv_loop_t *loop, const struct server_options *opts, struct rpc *rpc,
	       struct server **ret_server)
{
	struct server *srv = calloc(1, sizeof(*srv));
	int r;

	if (!srv)
		return -ENOMEM;
	srv->loop = loop;
	srv->rpc = rpc;
	srv->listen_fd = -1;
	srv->max_sessions = opts->max_sessions;
	srv->max_sessions_per_uid = opts->max_sessions_per_uid;
	srv->changed = opts->changed;
	srv->changed_data = opts->changed_data;
	list_init(&srv->connections);
	srv->socket_path = strdup(opts->socket_path);
	r = connection_context_init(&srv->conn, loop, rpc, opts->max_message_size,
				    &server_callbacks, srv);
	if (r < 0 || !srv->socket_path) {
		r = -ENOMEM;
		goto fail;
	}

	if (opts->listen_fd >= 0) {
		/* Ours from now on, whatever happens. */
		srv->listen_fd = opts->listen_fd;
		r = check_activated(srv->listen_fd);
		if (r == 0 && fcntl(srv->listen_fd, F_SETFL, O_NONBLOCK) < 0)
			r = -errno;
	} else {
		r = listen_on(opts->socket_path, &srv->listen_fd);
		srv->owns_path = r == 0;
	}
	if (r < 0)
		goto fail;
	r = uv_poll_init(loop, &srv->listen_poll, srv->listen_fd);
	if (r < 0)
		goto fail_unlink;
	srv->listen_poll.data = srv;
	uv_timer_init(loop, &srv->accept_timer);
	srv->accept_timer.data = srv;
	uv_timer_init(loop, &srv->tick_timer);
	srv->tick_timer.data = srv;
	r = uv_poll_start(&srv->listen_poll, UV_READABLE, server_on_listen);
	if (r < 0) {
		/* The handles exist now: let server_close() take them down. */
		server_close(srv);
		uv_run(loop, UV_RUN_NOWAIT);
		server_free(srv);
		return r;
	}
	*ret_server = srv;
	return 0;

fail_unlink:
	if (srv->owns_path)
		unlink(srv->socket_path);
fail:
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	srv->listen_fd = -1;
	return server_free(srv), r;
}

static void server_on_listen_closed(uv_handle_t *h)
{
	struct server *srv = h->data;

	close(srv->listen_fd);
	srv->listen_fd = -1;
}

void server_close(struct server *srv)
{
	if (srv->closing)
		return;
	srv->closing = true;
	while (!list_empty(&srv->connections))
		connection_close(list_first_entry(&srv->connections, struct connection, link));
	uv_close((uv_handle_t *)&srv->accept_timer, NULL);
	uv_close((uv_handle_t *)&srv->tick_timer, NULL);
	uv_close((uv_handle_t *)&srv->listen_poll, server_on_listen_closed);
	/* An activated socket is systemd's: it stays for the next start. */
	if (srv->owns_path && unlink(srv->socket_path) < 0 && errno != ENOENT)
		log_warning("cannot remove %s: %s", srv->socket_path, strerror(errno));
}

struct server *server_free(struct server *srv)
{
	if (!srv)
		return NULL;
	connection_context_deinit(&srv->conn);
	free(srv->socket_path);
	free(srv);
	return NULL;
}
