/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/rpc/handlers.h"

#include <errno.h>
#include <stdarg.h>

#include "daemon/storage/access.h"
#include "daemon/util/log.h"
#include "shm/layout.h"

void call_fail(struct rpc_call *c, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rpc_reply_verror(c->reply, c->arena, c->request->id, error, fmt, ap);
	va_end(ap);
}

void call_fail_oom(struct rpc_call *c)
{
	call_fail(c, -ENOMEM, "daemon out of memory");
}

Ksalloc__Reply *call_succeed(struct rpc_call *c, Ksalloc__Reply__BodyCase body)
{
	rpc_reply_ok(c->reply, c->request->id, body);
	return &c->reply->msg;
}

bool call_allows(struct rpc_call *c, const struct pool *p, uint32_t what, const char *request)
{
	const struct session *s = c->session;
	const char *verb = what == ACCESS_READ ? "see" : "open";
	struct peer peer = session_peer(s);
	char mode[8];

	if (access_allows(&p->access, &peer, what))
		return true;
	access_mode_string(p->access.mode, mode);
	log_warning("refused: uid %u (pid %d, %s) may not %s pool %s (owner %u, group %u, mode %s)",
		    (unsigned)s->uid, (int)s->pid, s->name, verb, p->name,
		    (unsigned)p->access.owner, (unsigned)p->access.group, mode);
	call_fail(c, -EACCES, "%s: uid %u may not %s pool %s (owner %u, group %u, mode %s)",
		  request, (unsigned)s->uid, verb, p->name, (unsigned)p->access.owner,
		  (unsigned)p->access.group, mode);
	return false;
}

struct pool *call_pool_by_name(struct rpc_call *c, const char *name, const char *what)
{
	const char *problem = shm_name_problem(name);
	struct pool *p;

	/* Only a valid name is quoted back: it is known to be printable. */
	if (problem) {
		call_fail(c, -EINVAL, "%s: %s", what, problem);
		return NULL;
	}
	p = storage_find(c->rpc->storage, name);
	if (!p)
		call_fail(c, -ENOENT, "%s: no pool named \"%s\" (ksallocctl list shows the pools)",
			  what, name);
	return p;
}

struct pool *call_pool_by_id_bound(struct rpc_call *c, uint32_t pool_id, const char *what)
{
	struct pool *p = storage_get(c->rpc->storage, pool_id);

	if (!p) {
		call_fail(c, -ENOENT,
			  "%s: no pool with id %u (it was destroyed, or the id is from another "
			  "daemon)",
			  what, pool_id);
		return NULL;
	}
	if (!session_find_binding(c->session, pool_id)) {
		call_fail(c, -EPROTO, "%s: pool %s is not open in this session", what, p->name);
		return NULL;
	}
	/* Rights can change on a reload after the pool was opened. */
	if (!call_allows(c, p, ACCESS_WRITE, what))
		return NULL;
	return p;
}
