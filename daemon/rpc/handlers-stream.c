/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Streams: a producer creates one (or attaches to one that waits), consumers
 * open it, either closes its role, anyone who may see it lists it. The
 * daemon only sets roles up and takes them down; frames travel in shared
 * memory (shm/stream.h).
 */
#include <errno.h>
#include <string.h>

#include "daemon/rpc/handlers.h"
#include "daemon/rpc/marshal.h"
#include "daemon/storage/access.h"
#include "daemon/util/log.h"
#include "shm/layout.h"
#include "shm/stream.h"

#define DEFAULT_DEPTH 4u
#define DEFAULT_MAX_HELD 8u

static const char *const policy_names[] = { "block", "drop-newest", "drop-oldest", "latest" };

/* Whether @c's session may do @what (ACCESS_READ: consume, ACCESS_WRITE: produce) on @st. */
static bool call_allows_stream(struct rpc_call *c, const struct stream *st, uint32_t what,
			       const char *request)
{
	const struct session *s = c->session;
	const char *verb = what == ACCESS_READ ? "consume from" : "produce into";
	struct peer peer = session_peer(s);
	char mode[8];

	if (access_allows(&st->access, &peer, what))
		return true;
	access_mode_string(st->access.mode, mode);
	log_warning("refused: uid %u (pid %d, %s) may not %s stream %s (owner %u, group %u, "
		    "mode %s)",
		    (unsigned)s->uid, (int)s->pid, s->name, verb, st->name,
		    (unsigned)st->access.owner, (unsigned)st->access.group, mode);
	call_fail(c, -EACCES, "%s: uid %u may not %s stream %s (owner %u, group %u, mode %s)",
		  request, (unsigned)s->uid, verb, st->name, (unsigned)st->access.owner,
		  (unsigned)st->access.group, mode);
	return false;
}

/* The stream named @name for request @what, or NULL and the reply says why. */
static struct stream *call_stream_by_name(struct rpc_call *c, const char *name, const char *what)
{
	const char *problem = shm_name_problem(name);
	struct stream *st;

	if (problem) {
		call_fail(c, -EINVAL, "%s: stream name: %s", what, problem);
		return NULL;
	}
	st = storage_find_stream(c->rpc->storage, name);
	if (!st)
		call_fail(c, -ENOENT,
			  "%s: no stream named \"%s\" (a producer creates it, or the daemon's "
			  "config declares it; ksallocctl streams shows them)",
			  what, name);
	return st;
}

void handle_create_stream(struct rpc_call *c)
{
	const Ksalloc__CreateStreamRequest *req = c->request->create_stream;
	struct session *s = c->session;
	Ksalloc__CreateStreamReply *r;
	const char *problem = shm_name_problem(req->name);
	struct stream *st;
	struct pool *p;
	int err;

	if (problem) {
		call_fail(c, -EINVAL, "create stream: stream name: %s", problem);
		return;
	}
	p = call_pool_by_id_bound(c, req->pool_id, "create stream");
	if (!p)
		return;
	if (req->mode & ~ACCESS_MODE_MASK) {
		call_fail(c, -EINVAL, "create stream %s: mode 0%o is not a file mode", req->name,
			  req->mode);
		return;
	}
	st = storage_find_stream(c->rpc->storage, req->name);
	if (st) {
		if (st->pool != p) {
			call_fail(c, -EXDEV, "create stream %s: it exists on pool %s, not on %s",
				  st->name, st->pool->name, p->name);
			return;
		}
		if (!call_allows_stream(c, st, ACCESS_WRITE, "create stream"))
			return;
	} else {
		struct pool_access access = {
			.owner = s->uid,
			.group = s->gid,
			.mode = req->mode ? req->mode : ACCESS_DEFAULT_MODE,
		};

		err = storage_add_stream(c->rpc->storage, req->name, p, &access, false, &st);
		if (err == -E2BIG) {
			call_fail(c, -E2BIG,
				  "create stream %s: pool %s has %u frames, more than a stream "
				  "can carry (%u)",
				  req->name, p->name, p->framing.frames, SHM_STREAM_MAX_FRAMES);
			return;
		}
		if (err < 0) {
			call_fail(c, err, "create stream %s: %s", req->name, strerror(-err));
			return;
		}
		log_info("stream %s: created on pool %s by session %u (%s, pid %d)", st->name,
			 p->name, s->id, s->name, (int)s->pid);
	}
	if (st->producer) {
		const struct session *other = session_find(&c->rpc->sessions, st->producer);

		call_fail(c, -EBUSY, "create stream %s: it has a producer already (pid %d, %s)",
			  st->name, other ? (int)other->pid : 0, other ? other->name : "?");
		return;
	}
	stream_set_producer(st, s->id);
	call_succeed(c, KSALLOC__REPLY__BODY_CREATE_STREAM);
	r = ARENA_NEW(c->arena, Ksalloc__CreateStreamReply, ksalloc__create_stream_reply__init);
	if (r)
		r->stream = stream_info_to_wire(c->arena, st, &c->rpc->sessions);
	if (!r || !r->stream) {
		stream_drop_producer(st);
		call_fail_oom(c);
		return;
	}
	c->reply->msg.create_stream = r;
	c->reply->fds = &st->fd;
	c->reply->n_fds = 1;
	log_info("stream %s: session %u (%s, pid %d) produces", st->name, s->id, s->name,
		 (int)s->pid);
}

void handle_open_stream(struct rpc_call *c)
{
	const Ksalloc__OpenStreamRequest *req = c->request->open_stream;
	struct session *s = c->session;
	struct peer peer = session_peer(s);
	Ksalloc__OpenStreamReply *r;
	struct stream *st = call_stream_by_name(c, req->name, "open stream");
	uint32_t slot, pool_slot, depth, max_held;
	bool read_only;
	int err;

	if (!st || !call_allows_stream(c, st, ACCESS_READ, "open stream"))
		return;
	/*
	 * A consumer's releases write the pool's control block (the last one frees
	 * the frame there), so it needs what opening the pool needs.
	 */
	if (!call_allows(c, st->pool, ACCESS_WRITE, "open stream"))
		return;
	if (req->policy > SHM_STREAM_LATEST) {
		call_fail(c, -EINVAL,
			  "open stream %s: policy %u is none of block (0), "
			  "drop-newest (1), drop-oldest (2), latest (3)",
			  st->name, req->policy);
		return;
	}
	depth = req->depth ? req->depth : DEFAULT_DEPTH;
	if (depth > SHM_STREAM_RING) {
		call_fail(c, -EINVAL, "open stream %s: depth %u is more than %u", st->name, depth,
			  SHM_STREAM_RING);
		return;
	}
	max_held = req->max_held ? req->max_held : DEFAULT_MAX_HELD;
	if (max_held > st->pool->framing.frames)
		max_held = st->pool->framing.frames;
	read_only = req->read_only || !access_allows(&st->access, &peer, ACCESS_WRITE);
	err = session_bind(s, st->pool, &pool_slot);
	if (err < 0) {
		call_fail(c, err, "open stream %s: cannot open its pool %s: %s", st->name,
			  st->pool->name,
			  err == -EUSERS ? "open in max_pool_sessions sessions already" :
					   strerror(-err));
		return;
	}
	err = stream_add_consumer(st, s->id, req->policy, depth, max_held, read_only, &slot);
	if (err < 0) {
		call_fail(c, -EUSERS,
			  "open stream %s: it has %u consumers already, the most a "
			  "stream has",
			  st->name, SHM_STREAM_CONSUMERS);
		return;
	}
	call_succeed(c, KSALLOC__REPLY__BODY_OPEN_STREAM);
	r = ARENA_NEW(c->arena, Ksalloc__OpenStreamReply, ksalloc__open_stream_reply__init);
	if (r) {
		r->stream = stream_info_to_wire(c->arena, st, &c->rpc->sessions);
		r->pool =
			ARENA_NEW(c->arena, Ksalloc__OpenPoolReply, ksalloc__open_pool_reply__init);
	}
	if (r && r->pool)
		r->pool->pool = pool_info_to_wire(c->arena, st->pool);
	if (!r || !r->stream || !r->pool || !r->pool->pool) {
		stream_remove_consumer(st, slot);
		call_fail_oom(c);
		return;
	}
	r->slot = slot;
	r->pool->slot = pool_slot;
	r->read_only = read_only;
	c->reply->msg.open_stream = r;
	c->reply->fd_buf[0] = st->fd;
	c->reply->fd_buf[1] = st->pool->fd;
	c->reply->fds = c->reply->fd_buf;
	c->reply->n_fds = 2;
	log_info("stream %s: session %u (%s, pid %d) consumes in slot %u (%s, depth %u, "
		 "max_held %u%s)",
		 st->name, s->id, s->name, (int)s->pid, slot, policy_names[req->policy], depth,
		 max_held, read_only ? ", read-only" : "");
}

void handle_close_stream(struct rpc_call *c)
{
	const Ksalloc__CloseStreamRequest *req = c->request->close_stream;
	struct stream *st = storage_get_stream(c->rpc->storage, req->stream_id);
	const struct session *s = c->session;
	uint32_t role = req->producer ? RPC_ROLE_PRODUCER : req->slot;

	if (!st || (req->producer ? st->producer != s->id :
				    req->slot >= SHM_STREAM_CONSUMERS ||
					    st->consumers[req->slot] != s->id)) {
		call_fail(c, -ENOENT, "close stream: this session is not %s of stream %u",
			  req->producer ? "the producer" : "that consumer", req->stream_id);
		return;
	}
	rpc_stream_leave(c->rpc, st, s, role, "closed");
	call_succeed(c, KSALLOC__REPLY__BODY_CLOSE_STREAM);
	c->reply->msg.close_stream =
		ARENA_NEW(c->arena, Ksalloc__CloseStreamReply, ksalloc__close_stream_reply__init);
	if (!c->reply->msg.close_stream)
		call_fail_oom(c);
}

void handle_list_streams(struct rpc_call *c)
{
	const struct session *s = c->session;
	struct peer peer = session_peer(s);
	Ksalloc__ListStreamsReply *r;
	uint32_t offset = c->request->list_streams->offset, i = 0, n = 0, total = 0;
	size_t budget = c->rpc->limits.max_message_size / 2, size = 0;
	struct stream *st;

	list_for_each_entry(st, storage_streams(c->rpc->storage), link)
		total += access_allows(&st->access, &peer, ACCESS_READ);
	call_succeed(c, KSALLOC__REPLY__BODY_LIST_STREAMS);
	r = ARENA_NEW(c->arena, Ksalloc__ListStreamsReply, ksalloc__list_streams_reply__init);
	if (!r || (total && !(r->streams = arena_alloc(c->arena, total * sizeof(*r->streams))))) {
		call_fail_oom(c);
		return;
	}
	r->total = total;
	list_for_each_entry(st, storage_streams(c->rpc->storage), link) {
		Ksalloc__StreamInfo *w;

		if (!access_allows(&st->access, &peer, ACCESS_READ) || i++ < offset)
			continue;
		w = stream_info_to_wire(c->arena, st, &c->rpc->sessions);
		if (!w) {
			call_fail_oom(c);
			return;
		}
		/* A page at most half the datagram: the client asks again from where it ends. */
		size += ksalloc__stream_info__get_packed_size(w) + 8;
		if (n > 0 && size > budget)
			break;
		r->streams[n++] = w;
	}
	r->n_streams = n;
	c->reply->msg.list_streams = r;
}
