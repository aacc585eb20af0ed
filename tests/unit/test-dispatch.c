/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rpc's dispatcher, driven as fuzz/fuzz-dispatch.c drives it: real pools in
 * memfds on a real storage, sessions added as transport adds them, requests
 * handed to rpc_dispatch() with no socket in between. Each case checks what a
 * client relies on: the HRESULT, and a message naming what is wrong.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include <ksalloc/winerror.h>

#include "common/macro.h"
#include "daemon/rpc/dispatch.h"
#include "daemon/rpc/rpc.h"
#include "tests/lib/ksalloc-check.h"
#include "tests/unit/rpc-fixture.h"

#define E_NOT_FOUND HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND)
#define E_EXISTS HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS)
#define E_QUOTA HRESULT_FROM_WIN32(ERROR_NOT_ENOUGH_QUOTA)
#define E_TOO_MANY HRESULT_FROM_WIN32(ERROR_REQ_NOT_ACCEP)

/* The config's pools: video is uid 1000's, secret root's, public everyone's. */
static const struct rpc_fixture_pool config_pools[] = {
	{ "video", { .frames = 4, .frame_size = 4096, .file_alignment = 63 }, { 1000, 1000, 0660 } },
	{ "secret", { .frames = 1, .frame_size = 64 }, { 0, 0, 0600 } },
	{ "public", { .frames = 2, .frame_size = 100 }, { 2000, 2000, 0666 } },
};

static const struct framing small = { .frames = 2, .frame_size = 4096 };

/* alice: uid 1000, also in group 44; bob: uid 2000; root. */
static const gid_t alice_groups[] = { 44 };

static struct {
	struct rpc_fixture fx;
	struct session alice, bob, root;
	struct rpc_reply out;
	uint32_t next_id;
} t;

static void setup(void)
{
	struct rpc_limits limits = {
		.max_message_size = 65536,
		.max_sessions = 16,
		.max_pool_sessions = 2,
		.max_pools_per_uid = 1,
		.max_pool_bytes_per_uid = UINT64_C(1) << 30,
		.framing = { .max_pool_frames = 64, .max_frame_size = 1 << 20 },
	};
	struct rpc_policy policy = { .created_pool_mode = 0660 };

	/* Each case from scratch, also when Check does not fork (CK_FORK=no). */
	memset(&t, 0, sizeof(t));
	rpc_fixture_init(&t.fx, config_pools, ELEMENTSOF(config_pools), &limits, &policy, 1 << 17);
	ck_assert_int_eq(rpc_add_session(&t.fx.rpc, &t.alice, 100, 1000, 1000, alice_groups,
					 ELEMENTSOF(alice_groups)),
			 0);
	ck_assert_int_eq(rpc_add_session(&t.fx.rpc, &t.bob, 101, 2000, 2000, NULL, 0), 0);
	ck_assert_int_eq(rpc_add_session(&t.fx.rpc, &t.root, 102, 0, 0, NULL, 0), 0);
	t.next_id = 1;
}

static void teardown(void)
{
	rpc_fixture_deinit(&t.fx);
}

/* Sends @req (its id set here) as session @s; the reply lives until the next call. */
static const Ksalloc__Reply *call(struct session *s, Ksalloc__Request *req)
{
	arena_reset(&t.fx.arena);
	req->id = t.next_id++;
	rpc_dispatch(&t.fx.rpc, s, req, &t.fx.arena, &t.out);
	ck_assert_uint_eq(t.out.msg.id, req->id);
	return &t.out.msg;
}

/* The request of each type, with its body in place (static: one call at a time). */
#define REQUEST(field, type, TYPE)                             \
	static Ksalloc__Request *field##_request(void)         \
	{                                                      \
		static Ksalloc__Request req;                   \
		static type body;                              \
                                                               \
		ksalloc__request__init(&req);                  \
		ksalloc__##field##_request__init(&body);       \
		req.body_case = KSALLOC__REQUEST__BODY_##TYPE; \
		req.field = &body;                             \
		return &req;                                   \
	}
REQUEST(hello, Ksalloc__HelloRequest, HELLO)
REQUEST(list_pools, Ksalloc__ListPoolsRequest, LIST_POOLS)
REQUEST(open_pool, Ksalloc__OpenPoolRequest, OPEN_POOL)
REQUEST(get_status, Ksalloc__GetStatusRequest, GET_STATUS)
REQUEST(create_pool, Ksalloc__CreatePoolRequest, CREATE_POOL)
REQUEST(set_committed, Ksalloc__SetCommittedRequest, SET_COMMITTED)
REQUEST(reshape_pool, Ksalloc__ReshapePoolRequest, RESHAPE_POOL)
REQUEST(list_sessions, Ksalloc__ListSessionsRequest, LIST_SESSIONS)
REQUEST(destroy_pool, Ksalloc__DestroyPoolRequest, DESTROY_POOL)
REQUEST(get_frame_fds, Ksalloc__GetFrameFdsRequest, GET_FRAME_FDS)
REQUEST(list_backends, Ksalloc__ListBackendsRequest, LIST_BACKENDS)
REQUEST(get_daemon_stats, Ksalloc__GetDaemonStatsRequest, GET_DAEMON_STATS)
REQUEST(subscribe, Ksalloc__SubscribeRequest, SUBSCRIBE)

static const Ksalloc__Reply *hello_as(struct session *s, const char *client_name)
{
	Ksalloc__Request *req = hello_request();

	req->hello->protocol_version = WIRE_PROTOCOL_VERSION;
	req->hello->client_name = (char *)client_name;
	return call(s, req);
}

static void greet(struct session *s)
{
	ck_assert_int_eq(hello_as(s, "test-dispatch")->hresult, 0);
}

static const Ksalloc__Reply *open_as(struct session *s, const char *name)
{
	Ksalloc__Request *req = open_pool_request();

	req->open_pool->name = (char *)name;
	return call(s, req);
}

/* Opens @name as @s, which must succeed; returns the pool's id. */
static uint32_t opened(struct session *s, const char *name)
{
	const Ksalloc__Reply *m = open_as(s, name);

	ck_assert_msg(m->hresult == 0, "open %s: %s", name, m->message);
	return m->open_pool->pool->pool_id;
}

static const Ksalloc__Reply *create_as(struct session *s, const char *name, const struct framing *f,
				       const char *backend)
{
	Ksalloc__Request *req = create_pool_request();
	static Ksalloc__Framing w;

	ksalloc__framing__init(&w);
	w.frames = f->frames;
	w.frame_size = f->frame_size;
	w.file_alignment = f->file_alignment;
	req->create_pool->name = (char *)name;
	req->create_pool->framing = &w;
	req->create_pool->backend = (char *)backend;
	return call(s, req);
}

static const Ksalloc__Reply *commit_as(struct session *s, uint32_t pool_id, bool committed)
{
	Ksalloc__Request *req = set_committed_request();

	req->set_committed->pool_id = pool_id;
	req->set_committed->committed = committed;
	return call(s, req);
}

static const Ksalloc__Reply *status_by_id(struct session *s, uint32_t pool_id)
{
	Ksalloc__Request *req = get_status_request();

	req->get_status->pool_id = pool_id;
	return call(s, req);
}

static const Ksalloc__Reply *subscribe_as(struct session *s, const char *name)
{
	Ksalloc__Request *req = subscribe_request();

	req->subscribe->name = (char *)name;
	return call(s, req);
}

static uint32_t pool_id_of(const char *name)
{
	struct pool *p = storage_find(t.fx.storage, name);

	ck_assert_ptr_nonnull(p);
	return p->id;
}

/* @m is a failure with HRESULT @hr whose message contains @words. */
#define ck_assert_refused(m, hr, words)                                                   \
	do {                                                                              \
		const Ksalloc__Reply *_m = (m);                                           \
		ck_assert_msg(_m->hresult == (hr), "HRESULT 0x%08x, not 0x%08x (%s)",     \
			      (unsigned)_m->hresult, (unsigned)(hr), _m->message);        \
		ck_assert_msg(strstr(_m->message, (words)), "\"%s\" does not say \"%s\"", \
			      _m->message, (words));                                      \
		ck_assert_uint_eq(t.out.n_fds, 0);                                        \
	} while (0)

/* ---- the table ---- */

START_TEST(test_every_request_type_has_a_handler)
{
	const ProtobufCMessageDescriptor *d = &ksalloc__request__descriptor;
	unsigned types = 0, rows = 0;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const struct rpc_handler *h;

		if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
			continue; /* id */
		types++;
		ck_assert_msg(f->id < RPC_REQUEST_TYPES,
			      "request %s is field %u: RPC_REQUEST_TYPES (%d) must grow", f->name,
			      f->id, RPC_REQUEST_TYPES);
		h = rpc_handler_for((int)f->id);
		ck_assert_msg(h, "request %s (field %u) has no handler", f->name, f->id);
		ck_assert_str_eq(h->name, f->name);
	}
	for (int type = 0; type < RPC_REQUEST_TYPES; type++)
		rows += rpc_handler_for(type) != NULL;
	ck_assert_uint_eq(rows, types);
	ck_assert_uint_gt(types, 0);
}
END_TEST

START_TEST(test_hello_is_the_only_request_allowed_before_hello)
{
	for (int type = 0; type < RPC_REQUEST_TYPES; type++) {
		const struct rpc_handler *h = rpc_handler_for(type);

		if (h)
			ck_assert_msg(!(h->flags & RPC_HANDLER_NEEDS_HELLO) ==
					      (type == KSALLOC__REQUEST__BODY_HELLO),
				      "request %s", h->name);
	}
}
END_TEST

START_TEST(test_request_without_a_body_is_refused_as_not_implemented)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;

	greet(&t.alice);
	ck_assert_refused(call(&t.alice, &req), E_NOTIMPL,
			  "unknown request: this daemon speaks protocol version 1");
}
END_TEST

/* ---- hello ---- */

START_TEST(test_request_before_hello_is_refused)
{
	ck_assert_refused(call(&t.alice, list_pools_request()), E_UNEXPECTED,
			  "the first request of a session must be hello");
	ck_assert_refused(open_as(&t.alice, "video"), E_UNEXPECTED,
			  "the first request of a session must be hello");
}
END_TEST

START_TEST(test_hello_twice_is_refused)
{
	greet(&t.alice);
	ck_assert_refused(hello_as(&t.alice, "again"), E_UNEXPECTED,
			  "hello: this session already said hello");
}
END_TEST

START_TEST(test_hello_with_protocol_version_0_is_refused_with_einval)
{
	Ksalloc__Request *req = hello_request();

	ck_assert_refused(call(&t.alice, req), E_INVALIDARG,
			  "hello: protocol_version 0 is invalid (this daemon speaks 1)");
	/* Not greeted: the next hello may still come. */
	greet(&t.alice);
}
END_TEST

START_TEST(test_hello_answers_the_session_id_token_and_limits)
{
	const Ksalloc__Reply *m = hello_as(&t.bob, "bob");

	ck_assert_int_eq(m->hresult, 0);
	ck_assert_int_eq(m->body_case, KSALLOC__REPLY__BODY_HELLO);
	ck_assert_uint_eq(m->hello->protocol_version, WIRE_PROTOCOL_VERSION);
	ck_assert_uint_eq(m->hello->session_id, t.bob.id);
	ck_assert_uint_eq(m->hello->session_token, t.bob.token);
	ck_assert_uint_eq(m->hello->limits->max_pool_sessions, 2);
	ck_assert_uint_eq(m->hello->limits->max_message_size, 65536);
}
END_TEST

START_TEST(test_hello_keeps_only_printable_characters_of_the_client_name)
{
	const Ksalloc__Reply *m;

	ck_assert_int_eq(hello_as(&t.alice, "cam\nera\x7f")->hresult, 0);
	m = call(&t.alice, list_sessions_request());
	ck_assert_int_eq(m->hresult, 0);
	ck_assert_uint_eq(m->list_sessions->n_sessions, 3);
	ck_assert_str_eq(m->list_sessions->sessions[0]->name, "cam?era?");
}
END_TEST

/* ---- pools ---- */

START_TEST(test_open_of_unknown_pool_is_refused_with_enoent)
{
	greet(&t.alice);
	ck_assert_refused(open_as(&t.alice, "nope"), E_NOT_FOUND,
			  "open: no pool named \"nope\" (ksallocctl list shows the pools)");
}
END_TEST

START_TEST(test_open_of_an_invalid_name_is_refused_with_einval)
{
	greet(&t.alice);
	ck_assert_refused(open_as(&t.alice, "../video"), E_INVALIDARG, "open: ");
	ck_assert_refused(open_as(&t.alice, ""), E_INVALIDARG, "open: ");
}
END_TEST

START_TEST(test_open_without_write_access_is_refused_naming_owner_group_and_mode)
{
	greet(&t.bob);
	ck_assert_refused(open_as(&t.bob, "video"), E_ACCESSDENIED,
			  "open: uid 2000 may not open pool video (owner 1000, group 1000, "
			  "mode 0660)");
}
END_TEST

START_TEST(test_open_hands_out_the_pools_memfd_and_a_slot)
{
	const struct pool *p = storage_find(t.fx.storage, "video");
	const Ksalloc__Reply *m;

	greet(&t.alice);
	m = open_as(&t.alice, "video");
	ck_assert_int_eq(m->hresult, 0);
	ck_assert_str_eq(m->open_pool->pool->name, "video");
	ck_assert_uint_eq(m->open_pool->pool->framing->frames, 4);
	ck_assert_uint_lt(m->open_pool->slot, 2);
	ck_assert_uint_eq(t.out.n_fds, 1);
	ck_assert_int_eq(t.out.fds[0], p->fd);
}
END_TEST

START_TEST(test_open_beyond_max_pool_sessions_is_refused_with_eusers)
{
	greet(&t.alice);
	greet(&t.bob);
	greet(&t.root);
	opened(&t.alice, "public");
	opened(&t.bob, "public");
	ck_assert_refused(open_as(&t.root, "public"), E_TOO_MANY,
			  "open: pool public is open in 2 sessions already, the daemon's "
			  "max_pool_sessions");
}
END_TEST

/* @s takes a frame of pool @name, which it has open, as libksalloc does in shared memory. */
static void take_a_frame(struct session *s, const char *name)
{
	struct pool *p = storage_find(t.fx.storage, name);
	uint32_t hint = 0, index, generation;
	const struct binding *b;

	ck_assert_ptr_nonnull(p);
	b = session_find_binding(s, p->id);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(frame_acquire(&p->frames, s->id, &p->frames.slots[b->slot], &hint, 0,
				       &index, &generation),
			 0);
}

START_TEST(test_open_of_a_pool_being_removed_is_refused_with_enoent)
{
	greet(&t.alice);
	greet(&t.root);
	opened(&t.alice, "video");
	take_a_frame(&t.alice, "video");
	/* A frame is held: the pool stays until it comes back, but takes no new opens. */
	ck_assert(!rpc_pool_remove(&t.fx.rpc, storage_find(t.fx.storage, "video")));
	ck_assert_refused(open_as(&t.root, "video"), E_NOT_FOUND,
			  "open: pool video is being removed: it takes no new opens");
	rpc_remove_session(&t.fx.rpc, &t.alice);
	ck_assert_ptr_null(storage_find(t.fx.storage, "video"));
}
END_TEST

START_TEST(test_commit_of_a_pool_not_open_in_the_session_is_refused)
{
	greet(&t.alice);
	ck_assert_refused(commit_as(&t.alice, pool_id_of("video"), false), E_UNEXPECTED,
			  "decommit: pool video is not open in this session");
}
END_TEST

START_TEST(test_commit_of_an_unknown_pool_id_is_refused_with_enoent)
{
	greet(&t.alice);
	ck_assert_refused(commit_as(&t.alice, pool_id_of("public") + 100, true), E_NOT_FOUND,
			  "(it was destroyed, or the id is from another daemon)");
}
END_TEST

START_TEST(test_decommit_of_an_open_pool_is_done)
{
	uint32_t id;

	greet(&t.alice);
	id = opened(&t.alice, "video");
	ck_assert_int_eq(commit_as(&t.alice, id, false)->hresult, 0);
	ck_assert(!storage_get(t.fx.storage, id)->committed);
}
END_TEST

START_TEST(test_create_with_a_bad_framing_names_the_field_and_the_limits)
{
	struct framing f = { .frames = 100, .frame_size = 4096 };

	greet(&t.alice);
	ck_assert_refused(create_as(&t.alice, "big", &f, ""), E_INVALIDARG, "create: ");
	ck_assert_refused(create_as(&t.alice, "big", &f, ""), E_INVALIDARG, "Frames=100");
	ck_assert_refused(create_as(&t.alice, "big", &f, ""), E_INVALIDARG,
			  "limits: max_pool_frames 64, max_frame_size 1048576");
	ck_assert_ptr_null(storage_find(t.fx.storage, "big"));
}
END_TEST

START_TEST(test_create_on_an_unknown_backend_is_refused_with_einval)
{
	greet(&t.alice);
	ck_assert_refused(create_as(&t.alice, "x", &small, "floppy"), E_INVALIDARG,
			  "create: pool x: ");
}
END_TEST

START_TEST(test_create_outside_create_group_is_refused_with_eaccess)
{
	struct rpc_policy policy = t.fx.rpc.policy;

	policy.create_group_set = true;
	policy.create_group = 44;
	rpc_configure(&t.fx.rpc, &t.fx.rpc.limits, &policy);
	greet(&t.alice);
	greet(&t.bob);
	ck_assert_refused(create_as(&t.bob, "x", &small, ""), E_ACCESSDENIED,
			  "create: uid 2000 may not create pools: only members of group 44 (the "
			  "daemon's create_group) may");
	/* alice is in group 44 as a supplementary group. */
	ck_assert_int_eq(create_as(&t.alice, "x", &small, "")->hresult, 0);
}
END_TEST

START_TEST(test_create_beyond_max_pools_per_uid_is_refused_with_edquot)
{
	greet(&t.alice);
	ck_assert_int_eq(create_as(&t.alice, "a", &small, "")->hresult, 0);
	ck_assert_refused(create_as(&t.alice, "b", &small, ""), E_QUOTA,
			  "create: uid 1000 has 1 pools already, the daemon's max_pools_per_uid");
}
END_TEST

START_TEST(test_create_of_a_pool_that_exists_with_another_framing_is_refused)
{
	greet(&t.alice);
	ck_assert_refused(create_as(&t.alice, "video", &small, ""), E_EXISTS,
			  "create: pool video exists with another framing (Frames=4 "
			  "FrameSize=4096 FileAlignment=0x3f)");
}
END_TEST

START_TEST(test_created_pool_goes_with_its_last_session)
{
	greet(&t.alice);
	ck_assert_int_eq(create_as(&t.alice, "mine", &small, "")->hresult, 0);
	ck_assert_uint_eq(t.out.n_fds, 1);
	ck_assert_ptr_nonnull(storage_find(t.fx.storage, "mine"));
	rpc_remove_session(&t.fx.rpc, &t.alice);
	ck_assert_ptr_null(storage_find(t.fx.storage, "mine"));
}
END_TEST

START_TEST(test_reshape_of_a_config_pool_is_refused_with_eperm)
{
	Ksalloc__Request *req = reshape_pool_request();
	Ksalloc__Framing w = KSALLOC__FRAMING__INIT;

	greet(&t.alice);
	w.frames = 2;
	w.frame_size = 4096;
	req->reshape_pool->pool_id = opened(&t.alice, "video");
	req->reshape_pool->framing = &w;
	ck_assert_refused(call(&t.alice, req), E_ACCESSDENIED,
			  "reshape: pool video is kept by the daemon (its config)");
}
END_TEST

START_TEST(test_reshape_of_a_committed_pool_is_refused_with_ebusy)
{
	Ksalloc__Request *req;
	Ksalloc__Framing w = KSALLOC__FRAMING__INIT;
	uint32_t id;

	greet(&t.alice);
	ck_assert_int_eq(create_as(&t.alice, "mine", &small, "")->hresult, 0);
	id = t.out.msg.create_pool->pool->pool_id;
	req = reshape_pool_request();
	w.frames = 3;
	w.frame_size = 4096;
	req->reshape_pool->pool_id = id;
	req->reshape_pool->framing = &w;
	ck_assert_refused(call(&t.alice, req), VFW_E_WRONG_STATE,
			  "reshape: pool mine is committed: decommit it first");
	ck_assert_int_eq(commit_as(&t.alice, id, false)->hresult, 0);
	req = reshape_pool_request();
	req->reshape_pool->pool_id = id;
	req->reshape_pool->framing = &w;
	ck_assert_int_eq(call(&t.alice, req)->hresult, 0);
	ck_assert_uint_eq(t.out.msg.reshape_pool->pool->framing->frames, 3);
}
END_TEST

START_TEST(test_destroy_by_another_uid_is_refused_with_eaccess)
{
	Ksalloc__Request *req = destroy_pool_request();

	greet(&t.bob);
	req->destroy_pool->name = (char *)"video";
	ck_assert_refused(call(&t.bob, req), E_ACCESSDENIED,
			  "destroy: uid 2000 may not destroy pool video: only its owner (uid 1000) "
			  "and root may");
	ck_assert_ptr_nonnull(storage_find(t.fx.storage, "video"));
}
END_TEST

START_TEST(test_frame_fds_of_a_memfd_pool_are_refused_with_einval)
{
	Ksalloc__Request *req = get_frame_fds_request();

	greet(&t.alice);
	req->get_frame_fds->pool_id = opened(&t.alice, "video");
	ck_assert_refused(call(&t.alice, req), E_INVALIDARG,
			  "frame fds: the frames of pool video (backend memfd) are not dma-bufs");
}
END_TEST

/* ---- queries ---- */

START_TEST(test_status_of_an_unknown_pool_id_is_refused_with_enoent)
{
	greet(&t.alice);
	ck_assert_refused(status_by_id(&t.alice, pool_id_of("public") + 100), E_NOT_FOUND,
			  "status: no pool with id");
}
END_TEST

START_TEST(test_status_of_a_pool_it_may_not_see_is_refused_with_eaccess)
{
	greet(&t.bob);
	ck_assert_refused(status_by_id(&t.bob, pool_id_of("secret")), E_ACCESSDENIED,
			  "status: uid 2000 may not see pool secret (owner 0, group 0, mode 0600)");
}
END_TEST

START_TEST(test_status_fast_path_answers_as_the_full_path_does)
{
	uint32_t id = pool_id_of("video"), allocated = 99;
	const Ksalloc__Reply *m;
	struct framing f;

	/* Declined, so that the full path answers with the error. */
	ck_assert_int_eq(rpc_status_fast(&t.fx.rpc, &t.alice, id, &f, &allocated), -EPROTO);
	greet(&t.alice);
	greet(&t.bob);
	ck_assert_int_eq(rpc_status_fast(&t.fx.rpc, &t.alice, id + 100, &f, &allocated), -ENOENT);
	ck_assert_int_eq(rpc_status_fast(&t.fx.rpc, &t.bob, id, &f, &allocated), -EACCES);

	ck_assert_int_eq(rpc_status_fast(&t.fx.rpc, &t.alice, id, &f, &allocated), 0);
	m = status_by_id(&t.alice, id);
	ck_assert_int_eq(m->hresult, 0);
	ck_assert_uint_eq(f.frames, m->get_status->framing->frames);
	ck_assert_uint_eq(f.frame_size, m->get_status->framing->frame_size);
	ck_assert_uint_eq(f.file_alignment, m->get_status->framing->file_alignment);
	ck_assert_uint_eq(allocated, m->get_status->allocated_frames);
}
END_TEST

START_TEST(test_list_pools_shows_only_the_pools_the_session_may_see)
{
	const Ksalloc__Reply *m;

	greet(&t.bob);
	m = call(&t.bob, list_pools_request());
	ck_assert_int_eq(m->hresult, 0);
	ck_assert_uint_eq(m->list_pools->total, 1);
	ck_assert_uint_eq(m->list_pools->n_pools, 1);
	ck_assert_str_eq(m->list_pools->pools[0]->name, "public");
}
END_TEST

START_TEST(test_list_sessions_lists_the_oldest_first)
{
	const Ksalloc__Reply *m;

	greet(&t.root);
	m = call(&t.root, list_sessions_request());
	ck_assert_int_eq(m->hresult, 0);
	ck_assert_uint_eq(m->list_sessions->total, 3);
	ck_assert_uint_eq(m->list_sessions->sessions[0]->session_id, t.alice.id);
	ck_assert_uint_eq(m->list_sessions->sessions[1]->session_id, t.bob.id);
	ck_assert_uint_eq(m->list_sessions->sessions[2]->session_id, t.root.id);
}
END_TEST

START_TEST(test_list_backends_lists_memfd_as_available)
{
	const Ksalloc__Reply *m;
	bool memfd = false;

	greet(&t.alice);
	m = call(&t.alice, list_backends_request());
	ck_assert_int_eq(m->hresult, 0);
	for (size_t i = 0; i < m->list_backends->n_backends; i++)
		memfd |= strcmp(m->list_backends->backends[i]->name, "memfd") == 0 &&
			 m->list_backends->backends[i]->available;
	ck_assert(memfd);
}
END_TEST

/* The counts GetDaemonStats gives for request type @name. */
static const Ksalloc__RequestCount *count_of(const Ksalloc__Reply *m, const char *name)
{
	for (size_t i = 0; i < m->get_daemon_stats->n_requests; i++)
		if (strcmp(m->get_daemon_stats->requests[i]->type, name) == 0)
			return m->get_daemon_stats->requests[i];
	ck_abort_msg("GetDaemonStats has no count for %s", name);
	return NULL;
}

START_TEST(test_daemon_stats_count_requests_by_type_and_result)
{
	uint32_t allocated;
	struct framing f;
	const Ksalloc__Reply *m;

	greet(&t.alice);
	ck_assert_int_ne(open_as(&t.alice, "nope")->hresult, 0);
	ck_assert_int_ne(open_as(&t.alice, "nope")->hresult, 0);
	opened(&t.alice, "video");
	ck_assert_int_eq(rpc_status_fast(&t.fx.rpc, &t.alice, pool_id_of("video"), &f, &allocated),
			 0);
	rpc_count_undecodable(&t.fx.rpc);

	m = call(&t.alice, get_daemon_stats_request());
	ck_assert_int_eq(m->hresult, 0);
	ck_assert_uint_eq(count_of(m, "hello")->ok, 1);
	ck_assert_uint_eq(count_of(m, "open_pool")->ok, 1);
	ck_assert_uint_eq(count_of(m, "open_pool")->failed, 2);
	ck_assert_uint_eq(count_of(m, "get_status")->ok, 1);
	ck_assert_uint_eq(count_of(m, "subscribe")->ok, 0);
	ck_assert_uint_eq(m->get_daemon_stats->undecodable, 1);
	ck_assert_uint_eq(m->get_daemon_stats->sessions, 3);
	ck_assert_uint_eq(m->get_daemon_stats->pools, 3);
}
END_TEST

START_TEST(test_subscribe_to_an_unknown_pool_is_refused_with_enoent)
{
	greet(&t.alice);
	ck_assert_refused(subscribe_as(&t.alice, "nope"), E_NOT_FOUND,
			  "subscribe: no pool named \"nope\" (ksallocctl list shows the pools)");
	ck_assert(!events_active(&t.fx.rpc.events));
}
END_TEST

START_TEST(test_subscribe_to_a_pool_it_may_not_see_is_refused_as_unknown)
{
	greet(&t.bob);
	ck_assert_refused(subscribe_as(&t.bob, "secret"), E_NOT_FOUND,
			  "subscribe: no pool named \"secret\" (ksallocctl list shows the pools)");
}
END_TEST

START_TEST(test_subscribe_with_an_invalid_name_is_refused_with_einval)
{
	greet(&t.alice);
	ck_assert_refused(subscribe_as(&t.alice, "a/b"), E_INVALIDARG, "subscribe: ");
}
END_TEST

START_TEST(test_subscribe_to_every_pool_counts_the_pools_it_may_see)
{
	const Ksalloc__Reply *m;

	greet(&t.bob);
	m = subscribe_as(&t.bob, "");
	ck_assert_int_eq(m->hresult, 0);
	ck_assert_uint_eq(m->subscribe->pools, 1);
	ck_assert(events_active(&t.fx.rpc.events));
	rpc_remove_session(&t.fx.rpc, &t.bob);
	ck_assert(!events_active(&t.fx.rpc.events));
}
END_TEST

static Suite *dispatch_suite(void)
{
	Suite *s = suite_create("dispatch");
	TCase *tc;

	tc = tcase_create("table");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_every_request_type_has_a_handler);
	tcase_add_test(tc, test_hello_is_the_only_request_allowed_before_hello);
	tcase_add_test(tc, test_request_without_a_body_is_refused_as_not_implemented);
	suite_add_tcase(s, tc);

	tc = tcase_create("hello");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_request_before_hello_is_refused);
	tcase_add_test(tc, test_hello_twice_is_refused);
	tcase_add_test(tc, test_hello_with_protocol_version_0_is_refused_with_einval);
	tcase_add_test(tc, test_hello_answers_the_session_id_token_and_limits);
	tcase_add_test(tc, test_hello_keeps_only_printable_characters_of_the_client_name);
	suite_add_tcase(s, tc);

	tc = tcase_create("pools");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_open_of_unknown_pool_is_refused_with_enoent);
	tcase_add_test(tc, test_open_of_an_invalid_name_is_refused_with_einval);
	tcase_add_test(tc, test_open_without_write_access_is_refused_naming_owner_group_and_mode);
	tcase_add_test(tc, test_open_hands_out_the_pools_memfd_and_a_slot);
	tcase_add_test(tc, test_open_beyond_max_pool_sessions_is_refused_with_eusers);
	tcase_add_test(tc, test_open_of_a_pool_being_removed_is_refused_with_enoent);
	tcase_add_test(tc, test_commit_of_a_pool_not_open_in_the_session_is_refused);
	tcase_add_test(tc, test_commit_of_an_unknown_pool_id_is_refused_with_enoent);
	tcase_add_test(tc, test_decommit_of_an_open_pool_is_done);
	tcase_add_test(tc, test_create_with_a_bad_framing_names_the_field_and_the_limits);
	tcase_add_test(tc, test_create_on_an_unknown_backend_is_refused_with_einval);
	tcase_add_test(tc, test_create_outside_create_group_is_refused_with_eaccess);
	tcase_add_test(tc, test_create_beyond_max_pools_per_uid_is_refused_with_edquot);
	tcase_add_test(tc, test_create_of_a_pool_that_exists_with_another_framing_is_refused);
	tcase_add_test(tc, test_created_pool_goes_with_its_last_session);
	tcase_add_test(tc, test_reshape_of_a_config_pool_is_refused_with_eperm);
	tcase_add_test(tc, test_reshape_of_a_committed_pool_is_refused_with_ebusy);
	tcase_add_test(tc, test_destroy_by_another_uid_is_refused_with_eaccess);
	tcase_add_test(tc, test_frame_fds_of_a_memfd_pool_are_refused_with_einval);
	suite_add_tcase(s, tc);

	tc = tcase_create("queries");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_status_of_an_unknown_pool_id_is_refused_with_enoent);
	tcase_add_test(tc, test_status_of_a_pool_it_may_not_see_is_refused_with_eaccess);
	tcase_add_test(tc, test_status_fast_path_answers_as_the_full_path_does);
	tcase_add_test(tc, test_list_pools_shows_only_the_pools_the_session_may_see);
	tcase_add_test(tc, test_list_sessions_lists_the_oldest_first);
	tcase_add_test(tc, test_list_backends_lists_memfd_as_available);
	tcase_add_test(tc, test_daemon_stats_count_requests_by_type_and_result);
	suite_add_tcase(s, tc);

	tc = tcase_create("subscribe");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_subscribe_to_an_unknown_pool_is_refused_with_enoent);
	tcase_add_test(tc, test_subscribe_to_a_pool_it_may_not_see_is_refused_as_unknown);
	tcase_add_test(tc, test_subscribe_with_an_invalid_name_is_refused_with_einval);
	tcase_add_test(tc, test_subscribe_to_every_pool_counts_the_pools_it_may_see);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return ksalloc_check_run(dispatch_suite());
}
