/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/rpc/rpc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/macro.h"
#include "daemon/rpc/marshal.h"
#include "daemon/util/log.h"

#ifndef KSALLOC_VERSION
#define KSALLOC_VERSION "unknown"
#endif

/* Room kept for the Reply envelope (id, hresult, oneof tag) around a list. */
#define RPC_ENVELOPE_BYTES 64u

void rpc_init(struct rpc *rpc, struct storage *storage, const struct rpc_limits *limits,
	      const struct rpc_policy *policy)
{
	*rpc = (struct rpc){
		.storage = storage,
		.limits = *limits,
		.policy = *policy,
		.next_session_id = 1,
		.started_ms = pool_now_ms(),
	};
	list_init(&rpc->sessions);
	events_init(&rpc->events, storage, &rpc->sessions);
}

void rpc_count_undecodable(struct rpc *rpc)
{
	rpc->undecodable++;
}

static void count_request(struct rpc *rpc, int type, bool ok)
{
	if (type <= 0 || type >= RPC_REQUEST_TYPES)
		return;
	if (ok)
		rpc->requests_ok[type]++;
	else
		rpc->requests_failed[type]++;
}

void rpc_configure(struct rpc *rpc, const struct rpc_limits *limits,
		   const struct rpc_policy *policy)
{
	rpc->limits = *limits;
	rpc->policy = *policy;
}

int rpc_add_session(struct rpc *rpc, struct session *s, pid_t pid, uid_t uid, gid_t gid,
		    const gid_t *groups, size_t n_groups)
{
	int r = session_init(s, rpc->next_session_id, pid, uid, gid, groups, n_groups);

	if (r < 0)
		return r;
	/* 0 means "free" in an ownership word: never a session's id. */
	if (++rpc->next_session_id == 0)
		rpc->next_session_id = 1;
	list_add(&rpc->sessions, &s->link);
	rpc->n_sessions++;
	return 0;
}

void rpc_remove_session(struct rpc *rpc, struct session *s)
{
	for (uint32_t i = 0; i < s->n_bindings; i++) {
		struct pool *p = storage_get(rpc->storage, s->bindings[i].pool_id);
		uint32_t reclaimed;

		if (!p)
			continue;
		reclaimed = pool_detach(p, s->bindings[i].slot);
		if (reclaimed)
			events_note_reclaim(&rpc->events, s, p, reclaimed);
		if (reclaimed)
			log_info("session %u (%s, pid %d) closed holding %u frames of pool %s: "
				 "reclaimed",
				 s->id, s->name, (int)s->pid, reclaimed, p->name);
		if ((!p->persistent && p->n_attached == 0) ||
		    (p->removing && pool_allocated_frames(p) == 0)) {
			log_info("pool %s: %s, destroying it", p->name,
				 p->removing ? "removed, and no frame is held any more" :
					       "last session closed");
			storage_remove(rpc->storage, p->id);
		}
	}
	events_unsubscribe(&rpc->events, s);
	list_remove(&s->link);
	rpc->n_sessions--;
	session_deinit(s);
}

bool rpc_pool_remove(struct rpc *rpc, struct pool *p)
{
	p->removing = true;
	if (pool_allocated_frames(p) != 0)
		return false;
	log_info("pool %s: removed, no frame held: destroyed", p->name);
	storage_remove(rpc->storage, p->id);
	return true;
}

void rpc_collect(struct rpc *rpc, void (*evict)(struct session *s, void *data), void *data)
{
	uint32_t quota = rpc->limits.max_frames_per_session;
	struct session *s, *next;
	struct pool *p;
	uint32_t id = 0;

	while ((p = storage_next(rpc->storage, &id)))
		if (p->removing)
			rpc_pool_remove(rpc, p);
	if (!quota)
		return;
	/* @evict closes s, which takes it off the list: next was read first. */
	list_for_each_entry_safe(s, next, &rpc->sessions, link) {
		uint32_t held;

		if (s->uid == 0 || (held = session_frames_held(s, rpc->storage)) <= quota)
			continue;
		log_warning("session %u (%s, pid %d, uid %u) holds %u frames, more than "
			    "max_frames_per_session (%u): closing it",
			    s->id, s->name, (int)s->pid, (unsigned)s->uid, held, quota);
		evict(s, data);
	}
}

/*
 * Whether session @s may do @what with pool @p. When not, the reply and a log
 * line say who was refused what, and which owner, group and mode decided it.
 */
static bool allowed(const struct session *s, const struct pool *p, uint32_t what,
		    const char *request, struct arena *arena, uint32_t id, struct rpc_reply *out)
{
	const char *verb = what == ACCESS_READ ? "see" : "open";
	struct peer peer = session_peer(s);
	char mode[8];

	if (access_allows(&p->access, &peer, what))
		return true;
	access_mode_string(p->access.mode, mode);
	log_warning("refused: uid %u (pid %d, %s) may not %s pool %s (owner %u, group %u, mode %s)",
		    (unsigned)s->uid, (int)s->pid, s->name, verb, p->name,
		    (unsigned)p->access.owner, (unsigned)p->access.group, mode);
	rpc_reply_error(out, arena, id, -EACCES,
			"%s: uid %u may not %s pool %s (owner %u, group %u, mode %s)", request,
			(unsigned)s->uid, verb, p->name, (unsigned)p->access.owner,
			(unsigned)p->access.group, mode);
	return false;
}

#define REPLY_OOM(out, arena, id) rpc_reply_error(out, arena, id, -ENOMEM, "daemon out of memory")

/* Copies @in as printable ASCII, so a client name can go into log lines safely. */
static void copy_printable(char *dst, size_t size, const char *in)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < size; i++)
		dst[i] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
	dst[i] = 0;
}

static void handle_hello(struct rpc *rpc, struct session *s, const Ksalloc__Request *req,
			 struct arena *arena, struct rpc_reply *out)
{
	const Ksalloc__HelloRequest *hello = req->hello;
	Ksalloc__HelloReply *r;
	Ksalloc__Limits *limits;

	if (hello->protocol_version == 0) {
		rpc_reply_error(out, arena, req->id, -EINVAL,
				"hello: protocol_version 0 is invalid (this daemon speaks %u)",
				WIRE_PROTOCOL_VERSION);
		return;
	}
	if (s->greeted) {
		rpc_reply_error(out, arena, req->id, -EPROTO, "hello: this session already said hello");
		return;
	}
	r = ARENA_NEW(arena, Ksalloc__HelloReply, ksalloc__hello_reply__init);
	limits = ARENA_NEW(arena, Ksalloc__Limits, ksalloc__limits__init);
	if (!r || !limits) {
		REPLY_OOM(out, arena, req->id);
		return;
	}
	if (hello->client_name[0])
		copy_printable(s->name, sizeof(s->name), hello->client_name);
	s->greeted = true;
	log_debug("session %u: hello from \"%s\" (pid %d, uid %u), protocol %u", s->id, s->name,
		  (int)s->pid, (unsigned)s->uid, hello->protocol_version);

	limits->max_message_size = rpc->limits.max_message_size;
	limits->max_pool_frames = rpc->limits.framing.max_pool_frames;
	limits->max_frame_size = rpc->limits.framing.max_frame_size;
	limits->max_sessions = rpc->limits.max_sessions;
	limits->max_pool_sessions = rpc->limits.max_pool_sessions;
	limits->max_frames_per_session = s->uid == 0 ? 0 : rpc->limits.max_frames_per_session;
	r->protocol_version = WIRE_PROTOCOL_VERSION;
	r->daemon_version = (char *)KSALLOC_VERSION;
	r->limits = limits;
	r->session_token = s->token;
	r->session_id = s->id;

	rpc_reply_ok(out, req->id, KSALLOC__REPLY__BODY_HELLO);
	out->msg.hello = r;
}

static void handle_list_pools(struct rpc *rpc, const struct session *s,
			      const Ksalloc__Request *req, struct arena *arena, struct rpc_reply *out)
{
	size_t budget = rpc->limits.max_message_size - RPC_ENVELOPE_BYTES, total = 0;
	uint32_t skip = req->list_pools->offset;
	struct peer peer = session_peer(s);
	Ksalloc__ListPoolsReply *r;
	struct pool *p;
	uint32_t id = 0;

	/* A session sees the pools it may read, and only those. */
	while ((p = storage_next(rpc->storage, &id)))
		total += access_allows(&p->access, &peer, ACCESS_READ);
	id = 0;

	r = ARENA_NEW(arena, Ksalloc__ListPoolsReply, ksalloc__list_pools_reply__init);
	if (r)
		r->pools = arena_alloc(arena, (total ? total : 1) * sizeof(*r->pools));
	if (!r || !r->pools) {
		REPLY_OOM(out, arena, req->id);
		return;
	}
	r->total = (uint32_t)total;
	/* Page by offset: as many pools as fit in one datagram; the client asks for more. */
	while ((p = storage_next(rpc->storage, &id))) {
		Ksalloc__PoolInfo *info;
		size_t size;

		if (!access_allows(&p->access, &peer, ACCESS_READ))
			continue;
		if (skip) {
			skip--;
			continue;
		}
		info = pool_info_to_wire(arena, p);
		if (!info) {
			REPLY_OOM(out, arena, req->id);
			return;
		}
		/* Tag, a length varint of at most 3 bytes (budget < 2^21), the entry. */
		size = 1 + 3 + ksalloc__pool_info__get_packed_size(info);
		if (size > budget)
			break;
		budget -= size;
		r->pools[r->n_pools++] = info;
	}

	rpc_reply_ok(out, req->id, KSALLOC__REPLY__BODY_LIST_POOLS);
	out->msg.list_pools = r;
}

/* Looks a pool up by name for request @what; on failure the reply says why. */
static struct pool *pool_by_name(struct rpc *rpc, const char *name, const char *what,
				 struct arena *arena, uint32_t id, struct rpc_reply *out)
{
	const char *problem = shm_name_problem(name);
	struct pool *p;

	/* Only a valid name is quoted back: it is known to be printable. */
	if (problem) {
		rpc_reply_error(out, arena, id, -EINVAL, "%s: %s", what, problem);
		return NULL;
	}
	p = storage_find(rpc->storage, name);
	if (!p)
		rpc_reply_error(out, arena, id, -ENOENT,
				"%s: no pool named \"%s\" (ksallocctl list shows the pools)", what,
				name);
	return p;
}

/* Looks a pool up by id for request @what, and requires session @s to have it open. */
static struct pool *pool_by_id_bound(struct rpc *rpc, const struct session *s, uint32_t pool_id,
				     const char *what, struct arena *arena, uint32_t id,
				     struct rpc_reply *out)
{
	struct pool *p = storage_get(rpc->storage, pool_id);

	if (!p) {
		rpc_reply_error(out, arena, id, -ENOENT,
				"%s: no pool with id %u (it was destroyed, or the id is from "
				"another daemon)",
				what, pool_id);
		return NULL;
	}
	if (!session_find_binding(s, pool_id)) {
		rpc_reply_error(out, arena, id, -EPROTO, "%s: pool %s is not open in this session",
				what, p->name);
		return NULL;
	}
	/* Rights can change on a reload after the pool was opened. */
	if (!allowed(s, p, ACCESS_WRITE, what, arena, id, out))
		return NULL;
	return p;
}

/* Binds @p to @s and fills an OpenPoolReply carrying the pool's memory. */
static Ksalloc__OpenPoolReply *reply_open(struct rpc *rpc, struct session *s, struct pool *p,
					  const char *what, struct arena *arena, uint32_t id,
					  struct rpc_reply *out)
{
	Ksalloc__OpenPoolReply *r;
	uint32_t slot;
	int err;

	err = session_bind(s, p, &slot);
	if (err == -EUSERS) {
		rpc_reply_error(out, arena, id, -EUSERS,
				"%s: pool %s is open in %u sessions already, the daemon's "
				"max_pool_sessions",
				what, p->name, p->n_attached);
		return NULL;
	}
	if (err < 0) {
		REPLY_OOM(out, arena, id);
		return NULL;
	}
	r = ARENA_NEW(arena, Ksalloc__OpenPoolReply, ksalloc__open_pool_reply__init);
	if (r)
		r->pool = pool_info_to_wire(arena, p);
	if (!r || !r->pool) {
		REPLY_OOM(out, arena, id);
		return NULL;
	}
	r->slot = slot;
	out->fds = &p->fd;
	out->n_fds = 1;
	log_debug("session %u (%s): %s pool %s, slot %u", s->id, s->name, what, p->name, slot);
	return r;
}

static void handle_open_pool(struct rpc *rpc, struct session *s, const Ksalloc__Request *req,
			     struct arena *arena, struct rpc_reply *out)
{
	struct pool *p = pool_by_name(rpc, req->open_pool->name, "open", arena, req->id, out);
	Ksalloc__OpenPoolReply *r;

	if (!p)
		return;
	if (p->removing) {
		rpc_reply_error(out, arena, req->id, -ENOENT,
				"open: pool %s is being removed: it takes no new opens", p->name);
		return;
	}
	if (!allowed(s, p, ACCESS_WRITE, "open", arena, req->id, out))
		return;
	rpc_reply_ok(out, req->id, KSALLOC__REPLY__BODY_OPEN_POOL);
	r = reply_open(rpc, s, p, "open", arena, req->id, out);
	if (r)
		out->msg.open_pool = r;
}

static bool framing_equal(const struct framing *a, const struct framing *b)
{
	return a->options_flags == b->options_flags && a->pool_type == b->pool_type &&
	       a->frames == b->frames && a->frame_size == b->frame_size &&
	       a->file_alignment == b->file_alignment;
}

/* Checks a framing from a client: the reply says which field breaks which rule. */
static bool framing_acceptable(struct rpc *rpc, const struct framing *f, const char *what,
			       struct arena *arena, uint32_t id, struct rpc_reply *out)
{
	const char *field, *reason;

	if (framing_validate(f, &rpc->limits.framing, &field, &reason) == 0)
		return true;
	rpc_reply_error(out, arena, id, -EINVAL, "%s: %s (Frames=%u FrameSize=%u "
			"FileAlignment=0x%x OptionsFlags=0x%x PoolType=%u; limits: max_pool_frames "
			"%u, max_frame_size %u)",
			what, reason, f->frames, f->frame_size, f->file_alignment, f->options_flags,
			f->pool_type, rpc->limits.framing.max_pool_frames,
			rpc->limits.framing.max_frame_size);
	return false;
}

/* Whether @s may create one more pool of framing @f: max_pools_per_uid, max_pool_bytes_per_uid. */
static bool within_creation_quota(struct rpc *rpc, const struct session *s,
				  const struct framing *f, struct arena *arena, uint32_t id,
				  struct rpc_reply *out)
{
	uint64_t bytes = 0, more;
	uint32_t pools = 0;
	struct shm_layout layout;
	struct pool *p;
	uint32_t pid = 0;

	if (s->uid == 0)
		return true;
	while ((p = storage_next(rpc->storage, &pid))) {
		if (p->from_config || p->access.owner != s->uid)
			continue;
		pools++;
		bytes += pool_bytes(p);
	}
	more = shm_layout_compute(f, rpc->limits.max_pool_sessions, 0, POOL_MAX_SIZE_BYTES,
				  &layout) == 0 ? layout.size_bytes : UINT64_MAX;
	if (pools >= rpc->limits.max_pools_per_uid) {
		log_warning("refused: uid %u (pid %d, %s) has created %u pools: max_pools_per_uid",
			    (unsigned)s->uid, (int)s->pid, s->name, pools);
		rpc_reply_error(out, arena, id, -EDQUOT,
				"create: uid %u has %u pools already, the daemon's "
				"max_pools_per_uid",
				(unsigned)s->uid, pools);
		return false;
	}
	if (more > rpc->limits.max_pool_bytes_per_uid - bytes ||
	    bytes > rpc->limits.max_pool_bytes_per_uid) {
		log_warning("refused: uid %u (pid %d, %s): pools of %llu bytes and %llu more would "
			    "pass max_pool_bytes_per_uid",
			    (unsigned)s->uid, (int)s->pid, s->name, (unsigned long long)bytes,
			    (unsigned long long)more);
		rpc_reply_error(out, arena, id, -EDQUOT,
				"create: uid %u has pools of %llu bytes; %llu more would pass the "
				"daemon's max_pool_bytes_per_uid (%llu)",
				(unsigned)s->uid, (unsigned long long)bytes,
				(unsigned long long)more,
				(unsigned long long)rpc->limits.max_pool_bytes_per_uid);
		return false;
	}
	return true;
}

static void handle_create_pool(struct rpc *rpc, struct session *s, const Ksalloc__Request *req,
			       struct arena *arena, struct rpc_reply *out)
{
	const Ksalloc__CreatePoolRequest *q = req->create_pool;
	struct framing f = framing_from_wire(q->framing);
	const char *problem = shm_name_problem(q->name);
	const char *backend = q->backend[0] ? q->backend : backend_memfd.name;
	struct backend_error why;
	Ksalloc__OpenPoolReply *r;
	struct backend b;
	struct pool *p;
	int err;

	if (problem) {
		rpc_reply_error(out, arena, req->id, -EINVAL, "create: %s", problem);
		return;
	}
	/* A backend is named, not resolved, here: "device" is resolved by the pool. */
	if (strcmp(backend, BACKEND_DEVICE) != 0 && backend_parse(backend, &b, &why) < 0) {
		rpc_reply_error(out, arena, req->id, -EINVAL, "create: pool %s: %s", q->name,
				why.message);
		return;
	}
	if (rpc->policy.create_group_set && s->uid != 0) {
		struct peer peer = session_peer(s);

		if (!peer_in_group(&peer, rpc->policy.create_group)) {
			log_warning("refused: uid %u (pid %d, %s) may not create pool %s: not in "
				    "group %u (create_group)",
				    (unsigned)s->uid, (int)s->pid, s->name, q->name,
				    (unsigned)rpc->policy.create_group);
			rpc_reply_error(out, arena, req->id, -EACCES,
					"create: uid %u may not create pools: only members of "
					"group %u (the daemon's create_group) may",
					(unsigned)s->uid, (unsigned)rpc->policy.create_group);
			return;
		}
	}
	if (!framing_acceptable(rpc, &f, "create", arena, req->id, out))
		return;
	p = storage_find(rpc->storage, q->name);
	if (p && p->removing) {
		rpc_reply_error(out, arena, req->id, -EBUSY,
				"create: pool %s is being removed; create it again once it is gone",
				p->name);
		return;
	}
	if (p && !allowed(s, p, ACCESS_WRITE, "create", arena, req->id, out))
		return;
	if (p && !framing_equal(&p->framing, &f)) {
		rpc_reply_error(out, arena, req->id, -EEXIST,
				"create: pool %s exists with another framing (Frames=%u "
				"FrameSize=%u FileAlignment=0x%x)",
				p->name, p->framing.frames, p->framing.frame_size,
				p->framing.file_alignment);
		return;
	}
	if (p && (strcmp(backend, BACKEND_DEVICE) == 0 ? !backend_has_dmabuf_frames(&p->backend) :
							  strcmp(backend, p->backend.name) != 0)) {
		rpc_reply_error(out, arena, req->id, -EEXIST,
				"create: pool %s exists on backend %s, not %s", p->name,
				p->backend.name, backend);
		return;
	}
	if (!p && !within_creation_quota(rpc, s, &f, arena, req->id, out))
		return;
	if (!p) {
		/* Its creator's, as a file belongs to whoever creates it. */
		err = storage_add(rpc->storage,
				  &(struct pool_options){
					  .name = q->name,
					  .framing = f,
					  .backend = backend,
					  .n_slots = rpc->limits.max_pool_sessions,
					  .persistent = rpc->policy.keep_created_pools,
					  .locked = q->locked,
					  .access = { .owner = s->uid,
						      .group = s->gid,
						      .mode = rpc->policy.created_pool_mode },
					  .error = &why,
				  },
				  &p);
		if (err < 0) {
			log_warning("session %u (%s, pid %d) could not create pool %s: %s", s->id,
				    s->name, (int)s->pid, q->name, why.message);
			rpc_reply_error(out, arena, req->id, err == -EOVERFLOW ? -EINVAL : err,
					"create: cannot create pool %s: %s", q->name, why.message);
			return;
		}
		log_info("session %u (%s, pid %d) created pool %s: %u frames of %u bytes, %s%s",
			 s->id, s->name, (int)s->pid, p->name, f.frames, f.frame_size,
			 p->backend.name, p->locked ? ", locked" : "");
	}
	rpc_reply_ok(out, req->id, KSALLOC__REPLY__BODY_CREATE_POOL);
	r = reply_open(rpc, s, p, "create", arena, req->id, out);
	if (r)
		out->msg.create_pool = r;
	else if (p->n_attached == 0 && !p->persistent)
		storage_remove(rpc->storage, p->id);
}

static void handle_set_committed(struct rpc *rpc, struct session *s,
				 const Ksalloc__Request *req, struct arena *arena,
				 struct rpc_reply *out)
{
	const Ksalloc__SetCommittedRequest *q = req->set_committed;
	const char *what = q->committed ? "commit" : "decommit";
	struct pool *p = pool_by_id_bound(rpc, s, q->pool_id, what, arena, req->id, out);
	Ksalloc__SetCommittedReply *r;

	if (!p)
		return;
	r = ARENA_NEW(arena, Ksalloc__SetCommittedReply, ksalloc__set_committed_reply__init);
	if (!r) {
		REPLY_OOM(out, arena, req->id);
		return;
	}
	if (p->committed != q->committed) {
		pool_set_committed(p, q->committed);
		log_info("session %u (%s, pid %d) %sed pool %s", s->id, s->name, (int)s->pid, what,
			 p->name);
	}
	rpc_reply_ok(out, req->id, KSALLOC__REPLY__BODY_SET_COMMITTED);
	out->msg.set_committed = r;
}

static void handle_reshape_pool(struct rpc *rpc, struct session *s,
				const Ksalloc__Request *req, struct arena *arena,
				struct rpc_reply *out)
{
	const Ksalloc__ReshapePoolRequest *q = req->reshape_pool;
	struct framing f = framing_from_wire(q->framing);
	struct pool *p = pool_by_id_bound(rpc, s, q->pool_id, "reshape", arena, req->id, out);
	Ksalloc__OpenPoolReply *r;
	uint32_t owned;
	int err;

	if (!p || !framing_acceptable(rpc, &f, "reshape", arena, req->id, out))
		return;
	if (p->from_config) {
		rpc_reply_error(out, arena, req->id, -EPERM,
				"reshape: pool %s is kept by the daemon (its config); only pools "
				"that clients create can change their framing",
				p->name);
		return;
	}
	if (p->committed) {
		rpc_reply_error(out, arena, req->id, -EBUSY,
				"reshape: pool %s is committed: decommit it first", p->name);
		return;
	}
	if (p->n_attached > 1) {
		rpc_reply_error(out, arena, req->id, -EBUSY,
				"reshape: pool %s is open in %u other sessions", p->name,
				p->n_attached - 1);
		return;
	}
	owned = pool_allocated_frames(p);
	if (owned) {
		rpc_reply_error(out, arena, req->id, -EBUSY, "reshape: %u frames of pool %s are held",
				owned, p->name);
		return;
	}
	if (!framing_equal(&p->framing, &f)) {
		struct backend_error why;

		err = pool_reshape(p, &f, &why);
		if (err < 0) {
			rpc_reply_error(out, arena, req->id, err == -EOVERFLOW ? -EINVAL : err,
					"reshape: %s", why.message);
			return;
		}
		log_info("session %u (%s) reshaped pool %s: %u frames of %u bytes", s->id, s->name,
			 p->name, f.frames, f.frame_size);
	}
	rpc_reply_ok(out, req->id, KSALLOC__REPLY__BODY_RESHAPE_POOL);
	r = reply_open(rpc, s, p, "reshape", arena, req->id, out);
	if (r)
		out->msg.reshape_pool = r;
}

int rpc_status_fast(struct rpc *rpc, const struct session *s, uint32_t pool_id,
		    struct framing *ret_framing, uint32_t *ret_allocated)
{
	struct peer peer = session_peer(s);
	struct pool *p;

	if (!s->greeted)
		return -EPROTO;
	p = storage_get(rpc->storage, pool_id);
	if (!p)
		return -ENOENT;
	if (!access_allows(&p->access, &peer, ACCESS_READ))
		return -EACCES;
	*ret_framing = p->framing;
	*ret_allocated = pool_allocated_frames(p);
	count_request(rpc, KSALLOC__REQUEST__BODY_GET_STATUS, true);
	return 0;
}

static void handle_get_status(struct rpc *rpc, const struct session *s,
			      const Ksalloc__Request *req, struct arena *arena, struct rpc_reply *out)
{
	const Ksalloc__GetStatusRequest *q = req->get_status;
	Ksalloc__GetStatusReply *r;
	struct pool *p;

	if (q->pool_id) {
		p = storage_get(rpc->storage, q->pool_id);
		if (!p) {
			rpc_reply_error(out, arena, req->id, -ENOENT,
					"status: no pool with id %u (it was destroyed, or the id "
					"is from another daemon)",
					q->pool_id);
			return;
		}
	} else {
		p = pool_by_name(rpc, q->name, "status", arena, req->id, out);
		if (!p)
			return;
	}
	if (!allowed(s, p, ACCESS_READ, "status", arena, req->id, out))
		return;
	if (q->extended) {
		r = extended_status_to_wire(arena, p, &rpc->sessions);
	} else {
		r = ARENA_NEW(arena, Ksalloc__GetStatusReply, ksalloc__get_status_reply__init);
		if (r)
			r->framing = framing_to_wire(arena, &p->framing);
		/* The KsGetAllocatorStatus path: one pass over the ownership words, nothing more. */
		if (r)
			r->allocated_frames = pool_allocated_frames(p);
	}
	if (!r || !r->framing) {
		REPLY_OOM(out, arena, req->id);
		return;
	}
	rpc_reply_ok(out, req->id, KSALLOC__REPLY__BODY_GET_STATUS);
	out->msg.get_status = r;
}

static void handle_destroy_pool(struct rpc *rpc, struct session *s,
				const Ksalloc__Request *req, struct arena *arena,
				struct rpc_reply *out)
{
	struct pool *p = pool_by_name(rpc, req->destroy_pool->name, "destroy", arena, req->id, out);
	Ksalloc__DestroyPoolReply *r;

	if (!p)
		return;
	if (s->uid != 0 && s->uid != p->access.owner) {
		log_warning("refused: uid %u (pid %d, %s) may not destroy pool %s (owner %u)",
			    (unsigned)s->uid, (int)s->pid, s->name, p->name,
			    (unsigned)p->access.owner);
		rpc_reply_error(out, arena, req->id, -EACCES,
				"destroy: uid %u may not destroy pool %s: only its owner (uid %u) "
				"and root may",
				(unsigned)s->uid, p->name, (unsigned)p->access.owner);
		return;
	}
	r = ARENA_NEW(arena, Ksalloc__DestroyPoolReply, ksalloc__destroy_pool_reply__init);
	if (!r) {
		REPLY_OOM(out, arena, req->id);
		return;
	}
	log_info("session %u (%s, uid %u) destroys pool %s", s->id, s->name, (unsigned)s->uid,
		 p->name);
	r->destroyed = rpc_pool_remove(rpc, p);
	rpc_reply_ok(out, req->id, KSALLOC__REPLY__BODY_DESTROY_POOL);
	out->msg.destroy_pool = r;
}

static void handle_list_sessions(struct rpc *rpc, const Ksalloc__Request *req,
				 struct arena *arena, struct rpc_reply *out)
{
	size_t budget = rpc->limits.max_message_size - RPC_ENVELOPE_BYTES;
	uint32_t skip = req->list_sessions->offset;
	uint64_t now = pool_now_ms();
	Ksalloc__ListSessionsReply *r;
	struct session *s;

	r = ARENA_NEW(arena, Ksalloc__ListSessionsReply, ksalloc__list_sessions_reply__init);
	if (r)
		r->sessions = arena_alloc(arena, (rpc->n_sessions + 1) * sizeof(*r->sessions));
	if (!r || !r->sessions) {
		REPLY_OOM(out, arena, req->id);
		return;
	}
	r->total = rpc->n_sessions;
	/* Oldest first: the list is kept newest first. */
	list_for_each_entry_reverse(s, &rpc->sessions, link) {
		Ksalloc__SessionInfo *info;
		size_t size;

		if (skip) {
			skip--;
			continue;
		}
		info = ARENA_NEW(arena, Ksalloc__SessionInfo, ksalloc__session_info__init);
		if (!info) {
			REPLY_OOM(out, arena, req->id);
			return;
		}
		info->session_id = s->id;
		info->pid = (uint32_t)s->pid;
		info->uid = (uint32_t)s->uid;
		info->gid = (uint32_t)s->gid;
		info->name = s->name;
		info->pools_open = s->n_bindings;
		info->frames_held = session_frames_held(s, rpc->storage);
		info->connected_ms = now - s->connected_ms;
		size = 1 + 3 + ksalloc__session_info__get_packed_size(info);
		if (size > budget)
			break;
		budget -= size;
		r->sessions[r->n_sessions++] = info;
	}
	rpc_reply_ok(out, req->id, KSALLOC__REPLY__BODY_LIST_SESSIONS);
	out->msg.list_sessions = r;
}

static void handle_get_frame_fds(struct rpc *rpc, struct session *s,
				 const Ksalloc__Request *req, struct arena *arena,
				 struct rpc_reply *out)
{
	const Ksalloc__GetFrameFdsRequest *q = req->get_frame_fds;
	struct pool *p = pool_by_id_bound(rpc, s, q->pool_id, "frame fds", arena, req->id, out);
	Ksalloc__GetFrameFdsReply *r;
	uint32_t count;

	if (!p)
		return;
	if (!p->frame_fds) {
		rpc_reply_error(out, arena, req->id, -EINVAL,
				"frame fds: the frames of pool %s (backend %s) are not dma-bufs",
				p->name, p->backend.name);
		return;
	}
	if (q->offset >= p->framing.frames) {
		rpc_reply_error(out, arena, req->id, -EINVAL,
				"frame fds: pool %s has %u frames, none from %u", p->name,
				p->framing.frames, q->offset);
		return;
	}
	r = ARENA_NEW(arena, Ksalloc__GetFrameFdsReply, ksalloc__get_frame_fds_reply__init);
	if (!r) {
		REPLY_OOM(out, arena, req->id);
		return;
	}
	count = p->framing.frames - q->offset;
	if (count > WIRE_MAX_FDS)
		count = WIRE_MAX_FDS;
	r->offset = q->offset;
	r->count = count;
	rpc_reply_ok(out, req->id, KSALLOC__REPLY__BODY_GET_FRAME_FDS);
	out->msg.get_frame_fds = r;
	out->fds = p->frame_fds + q->offset;
	out->n_fds = count;
}

static void handle_list_backends(struct arena *arena, uint32_t id, struct rpc_reply *out)
{
	struct backend list[16];
	size_t n = backend_list(list, ELEMENTSOF(list));
	Ksalloc__ListBackendsReply *r;

	if (n > ELEMENTSOF(list))
		n = ELEMENTSOF(list);
	r = ARENA_NEW(arena, Ksalloc__ListBackendsReply, ksalloc__list_backends_reply__init);
	if (r)
		r->backends = arena_alloc(arena, n * sizeof(*r->backends));
	if (!r || !r->backends) {
		REPLY_OOM(out, arena, id);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		Ksalloc__BackendInfo *w = ARENA_NEW(arena, Ksalloc__BackendInfo,
						    ksalloc__backend_info__init);
		struct backend_error why;

		if (!w || !(w->name = arena_strdup(arena, list[i].name))) {
			REPLY_OOM(out, arena, id);
			return;
		}
		w->description = (char *)list[i].ops->description;
		/* The row names the backend: the reason needs not say it again. */
		w->available = backend_check(&list[i], &why) == 0;
		w->dmabuf_frames = backend_has_dmabuf_frames(&list[i]);
		if (!w->available && !(w->reason = arena_strdup(arena, why.message))) {
			REPLY_OOM(out, arena, id);
			return;
		}
		r->backends[r->n_backends++] = w;
	}
	rpc_reply_ok(out, id, KSALLOC__REPLY__BODY_LIST_BACKENDS);
	out->msg.list_backends = r;
}

static void handle_get_daemon_stats(struct rpc *rpc, struct arena *arena, uint32_t id,
				   struct rpc_reply *out)
{
	const ProtobufCMessageDescriptor *d = &ksalloc__request__descriptor;
	Ksalloc__GetDaemonStatsReply *r;

	r = ARENA_NEW(arena, Ksalloc__GetDaemonStatsReply, ksalloc__get_daemon_stats_reply__init);
	if (r)
		r->requests = arena_alloc(arena, d->n_fields * sizeof(*r->requests));
	if (!r || !r->requests) {
		REPLY_OOM(out, arena, id);
		return;
	}
	r->version = (char *)KSALLOC_VERSION;
	r->uptime_ms = pool_now_ms() - rpc->started_ms;
	r->sessions = rpc->n_sessions;
	r->pools = (uint32_t)storage_count(rpc->storage);
	r->undecodable = rpc->undecodable;
	/* Every request type of the body, by its field name; "id" is no type. */
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		Ksalloc__RequestCount *c;

		if (f->id < 10 || f->id >= RPC_REQUEST_TYPES)
			continue;
		c = ARENA_NEW(arena, Ksalloc__RequestCount, ksalloc__request_count__init);
		if (!c) {
			REPLY_OOM(out, arena, id);
			return;
		}
		c->type = (char *)f->name;
		c->ok = rpc->requests_ok[f->id];
		c->failed = rpc->requests_failed[f->id];
		r->requests[r->n_requests++] = c;
	}
	rpc_reply_ok(out, id, KSALLOC__REPLY__BODY_GET_DAEMON_STATS);
	out->msg.get_daemon_stats = r;
}

static void handle_subscribe(struct rpc *rpc, struct session *s, const Ksalloc__Request *req,
			     struct arena *arena, struct rpc_reply *out)
{
	const Ksalloc__SubscribeRequest *q = req->subscribe;
	const char *problem = q->name[0] ? shm_name_problem(q->name) : NULL;
	struct peer peer = session_peer(s);
	Ksalloc__SubscribeReply *r;
	struct pool *p;
	uint32_t id = 0;

	if (problem) {
		rpc_reply_error(out, arena, req->id, -EINVAL, "subscribe: %s", problem);
		return;
	}
	p = q->name[0] ? storage_find(rpc->storage, q->name) : NULL;
	if (q->name[0] && (!p || !access_allows(&p->access, &peer, ACCESS_READ))) {
		/* Not there and not to be seen are one answer, as for status. */
		rpc_reply_error(out, arena, req->id, -ENOENT,
				"subscribe: no pool named \"%s\" (ksallocctl list shows the pools)",
				q->name);
		return;
	}
	r = ARENA_NEW(arena, Ksalloc__SubscribeReply, ksalloc__subscribe_reply__init);
	if (!r || events_subscribe(&rpc->events, s, q->name, q->interval_ms,
				   q->hold_threshold_ms) < 0) {
		REPLY_OOM(out, arena, req->id);
		return;
	}
	while ((p = storage_next(rpc->storage, &id)))
		r->pools += !q->name[0] ? access_allows(&p->access, &peer, ACCESS_READ) :
					  strcmp(p->name, q->name) == 0;
	rpc_reply_ok(out, req->id, KSALLOC__REPLY__BODY_SUBSCRIBE);
	out->msg.subscribe = r;
}

static void dispatch(struct rpc *rpc, struct session *s, const Ksalloc__Request *req,
		     struct arena *arena, struct rpc_reply *out);

void rpc_dispatch(struct rpc *rpc, struct session *s, const Ksalloc__Request *req,
		  struct arena *arena, struct rpc_reply *out)
{
	dispatch(rpc, s, req, arena, out);
	count_request(rpc, (int)req->body_case, out->msg.hresult >= 0);
}

static void dispatch(struct rpc *rpc, struct session *s, const Ksalloc__Request *req,
		     struct arena *arena, struct rpc_reply *out)
{
	if (req->body_case == KSALLOC__REQUEST__BODY__NOT_SET) {
		/* A newer client's request, or garbage that happened to decode. */
		rpc_reply_error(out, arena, req->id, -EOPNOTSUPP,
				"unknown request: this daemon speaks protocol version %u",
				WIRE_PROTOCOL_VERSION);
		return;
	}
	if (!s->greeted && req->body_case != KSALLOC__REQUEST__BODY_HELLO) {
		rpc_reply_error(out, arena, req->id, -EPROTO,
				"the first request of a session must be hello");
		return;
	}

	switch (req->body_case) {
	case KSALLOC__REQUEST__BODY_HELLO:
		handle_hello(rpc, s, req, arena, out);
		break;
	case KSALLOC__REQUEST__BODY_LIST_POOLS:
		handle_list_pools(rpc, s, req, arena, out);
		break;
	case KSALLOC__REQUEST__BODY_OPEN_POOL:
		handle_open_pool(rpc, s, req, arena, out);
		break;
	case KSALLOC__REQUEST__BODY_GET_STATUS:
		handle_get_status(rpc, s, req, arena, out);
		break;
	case KSALLOC__REQUEST__BODY_CREATE_POOL:
		handle_create_pool(rpc, s, req, arena, out);
		break;
	case KSALLOC__REQUEST__BODY_SET_COMMITTED:
		handle_set_committed(rpc, s, req, arena, out);
		break;
	case KSALLOC__REQUEST__BODY_RESHAPE_POOL:
		handle_reshape_pool(rpc, s, req, arena, out);
		break;
	case KSALLOC__REQUEST__BODY_LIST_SESSIONS:
		handle_list_sessions(rpc, req, arena, out);
		break;
	case KSALLOC__REQUEST__BODY_DESTROY_POOL:
		handle_destroy_pool(rpc, s, req, arena, out);
		break;
	case KSALLOC__REQUEST__BODY_GET_FRAME_FDS:
		handle_get_frame_fds(rpc, s, req, arena, out);
		break;
	case KSALLOC__REQUEST__BODY_LIST_BACKENDS:
		handle_list_backends(arena, req->id, out);
		break;
	case KSALLOC__REQUEST__BODY_GET_DAEMON_STATS:
		handle_get_daemon_stats(rpc, arena, req->id, out);
		break;
	case KSALLOC__REQUEST__BODY_SUBSCRIBE:
		handle_subscribe(rpc, s, req, arena, out);
		break;
	default:
		rpc_reply_error(out, arena, req->id, -EOPNOTSUPP, "unknown request type %d",
				(int)req->body_case);
		break;
	}
}
