/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What changes a pool, or a session's hold on it: open, create, commit and
 * decommit, reshape, destroy, and the frames' dma-buf fds.
 */
#include <errno.h>
#include <string.h>

#include "daemon/rpc/handlers.h"
#include "daemon/rpc/marshal.h"
#include "daemon/storage/access.h"
#include "daemon/storage/backend.h"
#include "daemon/util/log.h"
#include "shm/layout.h"

/*
 * Binds @p to @c's session and fills an OpenPoolReply carrying the pool's
 * memory. The reply must already be a success: on failure it becomes the error.
 */
static Ksalloc__OpenPoolReply *reply_open(struct rpc_call *c, struct pool *p, const char *what)
{
	struct session *s = c->session;
	Ksalloc__OpenPoolReply *r;
	uint32_t slot;
	int err;

	err = session_bind(s, p, &slot);
	if (err == -EUSERS) {
		call_fail(c, -EUSERS,
			  "%s: pool %s is open in %u sessions already, the daemon's "
			  "max_pool_sessions",
			  what, p->name, p->n_attached);
		return NULL;
	}
	if (err < 0) {
		call_fail_oom(c);
		return NULL;
	}
	r = ARENA_NEW(c->arena, Ksalloc__OpenPoolReply, ksalloc__open_pool_reply__init);
	if (r)
		r->pool = pool_info_to_wire(c->arena, p);
	if (!r || !r->pool) {
		call_fail_oom(c);
		return NULL;
	}
	r->slot = slot;
	c->reply->fds = &p->fd;
	c->reply->n_fds = 1;
	log_debug("session %u (%s): %s pool %s, slot %u", s->id, s->name, what, p->name, slot);
	return r;
}

void handle_open_pool(struct rpc_call *c)
{
	struct pool *p = call_pool_by_name(c, c->request->open_pool->name, "open");
	Ksalloc__OpenPoolReply *r;

	if (!p)
		return;
	if (p->removing) {
		call_fail(c, -ENOENT, "open: pool %s is being removed: it takes no new opens",
			  p->name);
		return;
	}
	if (!call_allows(c, p, ACCESS_WRITE, "open"))
		return;
	call_succeed(c, KSALLOC__REPLY__BODY_OPEN_POOL);
	r = reply_open(c, p, "open");
	if (r)
		c->reply->msg.open_pool = r;
}

/* Checks a framing from a client: the reply says which field breaks which rule. */
static bool framing_acceptable(struct rpc_call *c, const struct framing *f, const char *what)
{
	const struct framing_limits *limits = &c->rpc->limits.framing;
	const char *field, *reason;

	if (framing_validate(f, limits, &field, &reason) == 0)
		return true;
	call_fail(c, -EINVAL,
		  "%s: %s (Frames=%u FrameSize=%u FileAlignment=0x%x OptionsFlags=0x%x "
		  "PoolType=%u; limits: max_pool_frames %u, max_frame_size %u)",
		  what, reason, f->frames, f->frame_size, f->file_alignment, f->options_flags,
		  f->pool_type, limits->max_pool_frames, limits->max_frame_size);
	return false;
}

/*
 * Whether @c's session may create one more pool of framing @f: the daemon's
 * max_pools_per_uid and max_pool_bytes_per_uid.
 */
static bool within_creation_quota(struct rpc_call *c, const struct framing *f)
{
	const struct rpc_limits *limits = &c->rpc->limits;
	const struct session *s = c->session;
	uint64_t bytes = 0, more;
	uint32_t pools = 0;
	struct shm_layout layout;
	struct pool *p;
	uint32_t pid = 0;

	if (s->uid == 0)
		return true;
	while ((p = storage_next(c->rpc->storage, &pid))) {
		if (p->from_config || p->access.owner != s->uid)
			continue;
		pools++;
		bytes += pool_bytes(p);
	}
	more = shm_layout_compute(f, limits->max_pool_sessions, 0, POOL_MAX_SIZE_BYTES, &layout) ==
			       0 ?
		       layout.size_bytes :
		       UINT64_MAX;
	if (pools >= limits->max_pools_per_uid) {
		log_warning("refused: uid %u (pid %d, %s) has created %u pools: max_pools_per_uid",
			    (unsigned)s->uid, (int)s->pid, s->name, pools);
		call_fail(c, -EDQUOT,
			  "create: uid %u has %u pools already, the daemon's max_pools_per_uid",
			  (unsigned)s->uid, pools);
		return false;
	}
	if (more > limits->max_pool_bytes_per_uid - bytes ||
	    bytes > limits->max_pool_bytes_per_uid) {
		log_warning("refused: uid %u (pid %d, %s): pools of %llu bytes and %llu more would "
			    "pass max_pool_bytes_per_uid",
			    (unsigned)s->uid, (int)s->pid, s->name, (unsigned long long)bytes,
			    (unsigned long long)more);
		call_fail(c, -EDQUOT,
			  "create: uid %u has pools of %llu bytes; %llu more would pass the "
			  "daemon's max_pool_bytes_per_uid (%llu)",
			  (unsigned)s->uid, (unsigned long long)bytes, (unsigned long long)more,
			  (unsigned long long)limits->max_pool_bytes_per_uid);
		return false;
	}
	return true;
}

/* Whether @c's session may create pools at all: the daemon's create_group. */
static bool may_create(struct rpc_call *c, const char *name)
{
	const struct rpc_policy *policy = &c->rpc->policy;
	const struct session *s = c->session;
	struct peer peer = session_peer(s);

	if (!policy->create_group_set || s->uid == 0 || peer_in_group(&peer, policy->create_group))
		return true;
	log_warning("refused: uid %u (pid %d, %s) may not create pool %s: not in group %u "
		    "(create_group)",
		    (unsigned)s->uid, (int)s->pid, s->name, name, (unsigned)policy->create_group);
	call_fail(c, -EACCES,
		  "create: uid %u may not create pools: only members of group %u (the daemon's "
		  "create_group) may",
		  (unsigned)s->uid, (unsigned)policy->create_group);
	return false;
}

void handle_create_pool(struct rpc_call *c)
{
	const Ksalloc__CreatePoolRequest *q = c->request->create_pool;
	struct framing f = framing_from_wire(q->framing);
	const char *problem = shm_name_problem(q->name);
	const char *backend = q->backend[0] ? q->backend : backend_memfd.name;
	struct rpc *rpc = c->rpc;
	struct session *s = c->session;
	struct backend_error why;
	Ksalloc__OpenPoolReply *r;
	struct backend b;
	struct pool *p;
	int err;

	if (problem) {
		call_fail(c, -EINVAL, "create: %s", problem);
		return;
	}
	/* A backend is named, not resolved, here: "device" is resolved by the pool. */
	if (strcmp(backend, BACKEND_DEVICE) != 0 && backend_parse(backend, &b, &why) < 0) {
		call_fail(c, -EINVAL, "create: pool %s: %s", q->name, why.message);
		return;
	}
	if (!may_create(c, q->name) || !framing_acceptable(c, &f, "create"))
		return;
	p = storage_find(rpc->storage, q->name);
	if (p && p->removing) {
		call_fail(c, -EBUSY,
			  "create: pool %s is being removed; create it again once it is gone",
			  p->name);
		return;
	}
	if (p && !call_allows(c, p, ACCESS_WRITE, "create"))
		return;
	if (p && !pool_has_framing(p, &f)) {
		call_fail(c, -EEXIST,
			  "create: pool %s exists with another framing (Frames=%u FrameSize=%u "
			  "FileAlignment=0x%x)",
			  p->name, p->framing.frames, p->framing.frame_size,
			  p->framing.file_alignment);
		return;
	}
	if (p && (strcmp(backend, BACKEND_DEVICE) == 0 ? !backend_has_dmabuf_frames(&p->backend) :
							 strcmp(backend, p->backend.name) != 0)) {
		call_fail(c, -EEXIST, "create: pool %s exists on backend %s, not %s", p->name,
			  p->backend.name, backend);
		return;
	}
	if (!p && !within_creation_quota(c, &f))
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
			call_fail(c, err == -EOVERFLOW ? -EINVAL : err,
				  "create: cannot create pool %s: %s", q->name, why.message);
			return;
		}
		log_info("session %u (%s, pid %d) created pool %s: %u frames of %u bytes, %s%s",
			 s->id, s->name, (int)s->pid, p->name, f.frames, f.frame_size,
			 p->backend.name, p->locked ? ", locked" : "");
	}
	call_succeed(c, KSALLOC__REPLY__BODY_CREATE_POOL);
	r = reply_open(c, p, "create");
	if (r)
		c->reply->msg.create_pool = r;
	else if (p->n_attached == 0 && !p->persistent)
		storage_remove(rpc->storage, p->id);
}

void handle_set_committed(struct rpc_call *c)
{
	const Ksalloc__SetCommittedRequest *q = c->request->set_committed;
	const char *what = q->committed ? "commit" : "decommit";
	struct pool *p = call_pool_by_id_bound(c, q->pool_id, what);
	const struct session *s = c->session;
	Ksalloc__SetCommittedReply *r;

	if (!p)
		return;
	r = ARENA_NEW(c->arena, Ksalloc__SetCommittedReply, ksalloc__set_committed_reply__init);
	if (!r) {
		call_fail_oom(c);
		return;
	}
	if (p->committed != q->committed) {
		pool_set_committed(p, q->committed);
		log_info("session %u (%s, pid %d) %sed pool %s", s->id, s->name, (int)s->pid, what,
			 p->name);
	}
	call_succeed(c, KSALLOC__REPLY__BODY_SET_COMMITTED)->set_committed = r;
}

void handle_reshape_pool(struct rpc_call *c)
{
	const Ksalloc__ReshapePoolRequest *q = c->request->reshape_pool;
	struct framing f = framing_from_wire(q->framing);
	struct pool *p = call_pool_by_id_bound(c, q->pool_id, "reshape");
	const struct session *s = c->session;
	Ksalloc__OpenPoolReply *r;
	struct stream *st;
	uint32_t owned;
	int err;

	if (!p || !framing_acceptable(c, &f, "reshape"))
		return;
	if (p->from_config) {
		call_fail(c, -EPERM,
			  "reshape: pool %s is kept by the daemon (its config); only pools that "
			  "clients create can change their framing",
			  p->name);
		return;
	}
	if (p->committed) {
		call_fail(c, -EBUSY, "reshape: pool %s is committed: decommit it first", p->name);
		return;
	}
	if (p->n_attached > 1) {
		call_fail(c, -EBUSY, "reshape: pool %s is open in %u other sessions", p->name,
			  p->n_attached - 1);
		return;
	}
	owned = pool_allocated_frames(p);
	if (owned) {
		call_fail(c, -EBUSY, "reshape: %u frames of pool %s are held", owned, p->name);
		return;
	}
	list_for_each_entry(st, storage_streams(c->rpc->storage), link)
		if (st->pool == p) {
			/* A stream's memory is sized by its pool's frames. */
			call_fail(c, -EBUSY, "reshape: stream %s is on pool %s", st->name, p->name);
			return;
		}
	if (!pool_has_framing(p, &f)) {
		struct backend_error why;

		err = pool_reshape(p, &f, &why);
		if (err < 0) {
			call_fail(c, err == -EOVERFLOW ? -EINVAL : err, "reshape: %s", why.message);
			return;
		}
		log_info("session %u (%s) reshaped pool %s: %u frames of %u bytes", s->id, s->name,
			 p->name, f.frames, f.frame_size);
	}
	call_succeed(c, KSALLOC__REPLY__BODY_RESHAPE_POOL);
	r = reply_open(c, p, "reshape");
	if (r)
		c->reply->msg.reshape_pool = r;
}

void handle_destroy_pool(struct rpc_call *c)
{
	struct pool *p = call_pool_by_name(c, c->request->destroy_pool->name, "destroy");
	const struct session *s = c->session;
	Ksalloc__DestroyPoolReply *r;

	if (!p)
		return;
	if (s->uid != 0 && s->uid != p->access.owner) {
		log_warning("refused: uid %u (pid %d, %s) may not destroy pool %s (owner %u)",
			    (unsigned)s->uid, (int)s->pid, s->name, p->name,
			    (unsigned)p->access.owner);
		call_fail(c, -EACCES,
			  "destroy: uid %u may not destroy pool %s: only its owner (uid %u) and "
			  "root may",
			  (unsigned)s->uid, p->name, (unsigned)p->access.owner);
		return;
	}
	r = ARENA_NEW(c->arena, Ksalloc__DestroyPoolReply, ksalloc__destroy_pool_reply__init);
	if (!r) {
		call_fail_oom(c);
		return;
	}
	log_info("session %u (%s, uid %u) destroys pool %s", s->id, s->name, (unsigned)s->uid,
		 p->name);
	r->destroyed = rpc_pool_remove(c->rpc, p);
	call_succeed(c, KSALLOC__REPLY__BODY_DESTROY_POOL)->destroy_pool = r;
}

void handle_get_frame_fds(struct rpc_call *c)
{
	const Ksalloc__GetFrameFdsRequest *q = c->request->get_frame_fds;
	struct pool *p = call_pool_by_id_bound(c, q->pool_id, "frame fds");
	Ksalloc__GetFrameFdsReply *r;
	uint32_t count;

	if (!p)
		return;
	if (!p->frame_fds) {
		call_fail(c, -EINVAL,
			  "frame fds: the frames of pool %s (backend %s) are not dma-bufs", p->name,
			  p->backend.name);
		return;
	}
	if (q->offset >= p->framing.frames) {
		call_fail(c, -EINVAL, "frame fds: pool %s has %u frames, none from %u", p->name,
			  p->framing.frames, q->offset);
		return;
	}
	r = ARENA_NEW(c->arena, Ksalloc__GetFrameFdsReply, ksalloc__get_frame_fds_reply__init);
	if (!r) {
		call_fail_oom(c);
		return;
	}
	count = p->framing.frames - q->offset;
	if (count > WIRE_MAX_FDS)
		count = WIRE_MAX_FDS;
	r->offset = q->offset;
	r->count = count;
	call_succeed(c, KSALLOC__REPLY__BODY_GET_FRAME_FDS)->get_frame_fds = r;
	c->reply->fds = p->frame_fds + q->offset;
	c->reply->n_fds = count;
}
