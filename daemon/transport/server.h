/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Transport: the listening socket and its connections on a libuv loop. With
 * connection.c, the only code that includes uv.h. It moves datagrams and fds
 * (through proto/wire.h) and hands decoded requests to rpc.
 *
 * The server accepts, owns the list of connections and the events' timer;
 * each connection tells it through struct connection_callbacks when it
 * closes and when the timer may be needed.
 */

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/list.h"
#include "daemon/rpc/rpc.h"
#include "daemon/rpc/session.h"
#include "daemon/transport/connection.h"

struct server_options {
	/*
	 * A listening SOCK_SEQPACKET socket to serve (from socket activation; the
	 * server takes it and never unlinks its path), or -1 to bind socket_path.
	 */
	int listen_fd;
	const char *socket_path; /* where to bind and listen, or the activated socket's path */
	uint32_t max_sessions;
	uint32_t max_sessions_per_uid; /* root has no such limit */
	uint32_t max_message_size;     /* bytes, both directions */
	/*
	 * Called (with @changed_data) when a request changed the state, before
	 * its reply is sent (connection_callbacks.changed); may be NULL.
	 */
	void (*changed)(void *changed_data);
	void *changed_data;
};

struct server {
	uv_loop_t *loop;
	struct rpc *rpc;                /* borrowed */
	struct connection_context conn; /* what its connections share */
	uv_poll_t listen_poll;
	uv_timer_t accept_timer; /* resumes accepting after EMFILE */
	uv_timer_t tick_timer;   /* events_tick(), while any session is subscribed */
	int listen_fd;
	char *socket_path;
	bool owns_path; /* bound by us: unlinked at close */
	uint32_t max_sessions;
	uint32_t max_sessions_per_uid;

	struct list connections; /* struct connection, newest first */
	uint32_t n_connections;
	bool closing;
	void (*changed)(void *changed_data);
	void *changed_data;
};

/*
 * Serves @opts->listen_fd, or binds @opts->socket_path (replacing a stale
 * socket file, refusing one that another daemon still listens on), and starts
 * accepting on @loop. Returns 0 and *ret_server, or -errno; -ENOTSOCK when
 * listen_fd is not a listening SOCK_SEQPACKET AF_UNIX socket.
 */
int server_new(uv_loop_t *loop, const struct server_options *opts, struct rpc *rpc,
	       struct server **ret_server);

/*
 * Stops accepting, closes every connection and unlinks the socket file. The
 * handles finish closing on the next loop iterations; call server_free()
 * once uv_run() has returned.
 */
void server_close(struct server *srv);

/* Applies new session limits (a reload); sessions already in are not closed. */
void server_set_max_sessions(struct server *srv, uint32_t max_sessions,
			     uint32_t max_sessions_per_uid);

/* Closes the connection of session @s: rpc_collect()'s evict callback (@data: the server). */
void server_evict(struct session *s, void *data);

/*
 * Serves @fd, a connection a daemon before this one served (the file
 * descriptor store), as session @r. It must be a connected AF_UNIX
 * SOCK_SEQPACKET socket whose peer's credentials (SO_PEERCRED) are @r's pid,
 * uid and gid. Takes ownership of @fd in every case. Returns 0, or -errno
 * with *ret_reason a sentence for the log.
 */
int server_adopt(struct server *srv, int fd, const struct session_restore *r,
		 const char **ret_reason);

/* Connections (each one client's session) open right now. */
uint32_t server_connection_count(const struct server *srv);

/* Frees a server after server_close() and the loop has run. Accepts NULL; returns NULL. */
struct server *server_free(struct server *srv);
