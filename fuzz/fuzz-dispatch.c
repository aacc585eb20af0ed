/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-dispatch: the request dispatcher (dispatch.c) against real pools, without
 * sockets. Each input builds a fresh daemon state (a storage with four pools
 * in memfds, an rpc, two sessions), plays a script of datagrams and client
 * actions against it, and ends every session, so no input leaves anything
 * behind for the next and every crash reproduces from its input alone.
 *
 * Input:
 *   0       flags: bit 0 clear: each session says hello first (prepended);
 *           1: max_pool_sessions 1 (else 4); 2: create_group set (gid 44);
 *           3: keep_created_pools; 4: session 1 is root (else uid 2000);
 *           5: max_message_size 4096 (else 65536); 6-7: created_pool_mode
 *   1       quotas: bits 0-1: max_pools_per_uid (64, 0, 1, 4); 2-3:
 *           max_pool_bytes_per_uid (4G, 0, 64K, 1M); 4-5: max_frames_per_session
 *           (0: none, 1, 2, 8)
 *   then chunks, up to 256 of them:
 *     1 byte  bit 3: which session; bits 0-2: what
 *               0-2  a request datagram (an empty one is a hang-up, as wire_recv()
 *                    sees it: the session closes and another client connects)
 *               3    the config is reloaded: payload bytes 0 and 1 are the flags
 *                    (bits 1-3, 6-7) and quotas above, byte 2 a config pool that
 *                    left the config (0-3; any other value: none)
 *               4    the session closes and another client connects
 *               5    the client acquires frames of a pool it opened (payload: which
 *                    of its pools, how many - 1), as libksalloc does
 *               6    a client scribbles on a pool's control block (payload: which
 *                    pool, a 2-byte offset, the bytes)
 *               7    the client releases frames (payload: which of its pools, bit 0
 *                    of the next byte: all it holds, else the 4-byte index and
 *                    4-byte generation that follow)
 *             after 5 and 7 the daemon does its housekeeping (events_tick() for the
 *             subscribers, every event packed and decoded, then rpc_collect()),
 *             which closes a session that holds more than its frame quota
 *     2 bytes length, little endian
 *     length bytes (what is left, if fewer)
 *
 * A request datagram goes the way connection.c takes it: unpacked into the
 * arena (one that does not decode, or is larger than max_message_size, gets
 * the error reply), rpc_dispatch(), wire_pack() of the reply into a buffer of
 * max_message_size (it must fit), arena_reset(). Every reply must echo the
 * request's id, carry a message when it fails, and carry the pool's (valid)
 * fd when it opens one; the client must be able to decode it.
 *
 * connection.c answers a status request by pool id by hand when it can
 * (proto/fastpath.h, rpc_status_fast()), and everything else through
 * protobuf-c. Here both paths answer every such request: where the fast one
 * answers, the full one must answer with the same bytes; where it declines,
 * the full one must answer with an error.
 *
 * Pool ids start at a random point in every storage (storage.c), so a pool id
 * in a request (status, commit, reshape) is taken as relative to the first
 * pool: 1 is "video", 5 the first pool a client creates. Everything else
 * goes to the dispatcher as it was decoded.
 */
#include <errno.h>
#include <sys/stat.h>

#include "common/macro.h"
#include "proto/fastpath.h"
#include "fuzz/fuzz.h"
#include "daemon/util/log.h"
#include "daemon/rpc/dispatch.h"
#include "daemon/rpc/rpc.h"
#include "proto/wire.h"

#define N_SESSIONS 2
#define MAX_CHUNKS 256
#define TX_BYTES 65536

enum {
	FLAG_NO_HELLO = 1 << 0,
	FLAG_ONE_POOL_SESSION = 1 << 1,
	FLAG_CREATE_GROUP = 1 << 2,
	FLAG_KEEP_CREATED = 1 << 3,
	FLAG_ROOT = 1 << 4,
	FLAG_SMALL_MESSAGES = 1 << 5,
};

enum {
	OP_RELOAD = 3,
	OP_CLOSE = 4,
	OP_ACQUIRE = 5,
	OP_SCRIBBLE = 6,
	OP_RELEASE = 7,
};

/* The daemon's config pools: ids 1 to 4, in this order. */
static const struct {
	const char *name;
	struct framing framing;
	struct pool_access access;
} config_pools[] = {
	{ "video", { .frames = 4, .frame_size = 4096, .file_alignment = 63 }, { 1000, 1000, 0660 } },
	{ "audio", { .frames = 2, .frame_size = 1000, .file_alignment = 0 }, { 0, 44, 0640 } },
	{ "secret", { .frames = 1, .frame_size = 64, .file_alignment = 4095 }, { 0, 0, 0600 } },
	{ "public", { .frames = 8, .frame_size = 100, .file_alignment = 7 }, { 2000, 2000, 0666 } },
};

static const gid_t session0_groups[] = { 44, 27 };

struct world {
	struct storage *storage;
	struct rpc rpc;
	struct session sessions[N_SESSIONS];
	bool live[N_SESSIONS];
	uint8_t flags;
	uint32_t max_message;
	uint32_t id_base; /* the first pool's id - 1 */
};

static struct arena arena;
static uint8_t tx[TX_BYTES], tx_fast[TX_BYTES];
static uint8_t hello[64];
static size_t hello_len;
static bool trace; /* $KSALLOC_FUZZ_TRACE: each step on stderr, to read a reproducer */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__HelloRequest h = KSALLOC__HELLO_REQUEST__INIT;
	ssize_t n;

	/*
	 * Every log line is formatted (a bad argument shows), and goes to stderr:
	 * scripts/fuzz and the tests pass -close_fd_mask=2, which sends it to /dev/null
	 * and keeps libFuzzer's and the sanitizers' reports.
	 */
	fuzz_keep_stderr();
	log_set_level(LOG_LEVEL_DEBUG);
	trace = getenv("KSALLOC_FUZZ_TRACE") != NULL;
	/* As transport's connection context: twice the largest datagram, kept across requests. */
	fuzz_check(arena_init(&arena, 2 * TX_BYTES) == 0, "arena_init");

	h.protocol_version = WIRE_PROTOCOL_VERSION;
	h.client_name = (char *)"fuzz-dispatch";
	req.id = 1;
	req.body_case = KSALLOC__REQUEST__BODY_HELLO;
	req.hello = &h;
	n = wire_pack(&req.base, hello, sizeof(hello));
	fuzz_check(n > 0, "packing hello");
	hello_len = (size_t)n;
	return 0;
}

static void add_session(struct world *w, int i)
{
	int r;

	if (i == 0)
		r = rpc_add_session(&w->rpc, &w->sessions[0], 100, 1000, 1000, session0_groups,
				    ELEMENTSOF(session0_groups));
	else if (w->flags & FLAG_ROOT)
		r = rpc_add_session(&w->rpc, &w->sessions[1], 101, 0, 0, NULL, 0);
	else
		r = rpc_add_session(&w->rpc, &w->sessions[1], 101, 2000, 2000, NULL, 0);
	fuzz_check(r == 0, "rpc_add_session: %s", strerror(-r));
	w->live[i] = true;
}

/* The config's limits and policy, as the flags and quotas bytes choose them. */
static void config_of(uint8_t flags, uint8_t quotas, struct rpc_limits *ret_limits,
		      struct rpc_policy *ret_policy)
{
	static const uint32_t modes[] = { 0660, 0600, 0666, 0640 };
	static const uint32_t pools_per_uid[] = { 64, 0, 1, 4 };
	static const uint64_t bytes_per_uid[] = { UINT64_C(4) << 30, 0, 65536, 1 << 20 };
	static const uint32_t frames_per_session[] = { 0, 1, 2, 8 };

	*ret_limits = (struct rpc_limits){
		.max_message_size = flags & FLAG_SMALL_MESSAGES ? 4096 : 65536,
		.max_sessions = 16,
		.max_pool_sessions = flags & FLAG_ONE_POOL_SESSION ? 1 : 4,
		.max_pools_per_uid = pools_per_uid[quotas & 3],
		.max_pool_bytes_per_uid = bytes_per_uid[(quotas >> 2) & 3],
		.max_frames_per_session = frames_per_session[(quotas >> 4) & 3],
		/* Small pools: a fuzz input may create many. */
		.framing = { .max_pool_frames = 64, .max_frame_size = 65536 },
	};
	*ret_policy = (struct rpc_policy){
		.create_group_set = flags & FLAG_CREATE_GROUP,
		.create_group = 44,
		.created_pool_mode = modes[flags >> 6],
		.keep_created_pools = flags & FLAG_KEEP_CREATED,
	};
}

static void world_init(struct world *w, uint8_t flags, uint8_t quotas)
{
	struct rpc_limits limits;
	struct rpc_policy policy;
	int r;

	config_of(flags, quotas, &limits, &policy);
	*w = (struct world){ .flags = flags, .max_message = limits.max_message_size };
	r = storage_new(&w->storage);
	fuzz_check(r == 0, "storage_new: %s", strerror(-r));
	for (size_t i = 0; i < ELEMENTSOF(config_pools); i++) {
		struct pool *p;
		struct pool_options o = {
			.name = config_pools[i].name,
			.framing = config_pools[i].framing,
			.backend = "memfd",
			.n_slots = limits.max_pool_sessions,
			.persistent = true,
			.from_config = true,
			.access = config_pools[i].access,
		};

		r = storage_add(w->storage, &o, &p);
		fuzz_check(r == 0, "storage_add %s: %s", o.name, strerror(-r));
		if (i == 0)
			w->id_base = p->id - 1;
	}
	rpc_init(&w->rpc, w->storage, &limits, &policy);
}

/* What holds between any two steps: the daemon's records of sessions and slots agree. */
static void world_check(const struct world *w)
{
	struct pool *p;
	uint32_t id = 0;

	while ((p = storage_next(w->storage, &id))) {
		uint32_t attached = 0;

		for (uint32_t slot = 0; slot < p->layout.n_slots; slot++) {
			uint32_t sid = p->slot_sessions[slot];
			bool found = false;

			if (!sid)
				continue;
			attached++;
			for (int i = 0; i < N_SESSIONS; i++) {
				const struct session *s = &w->sessions[i];

				if (!w->live[i] || s->id != sid)
					continue;
				for (uint32_t b = 0; b < s->n_bindings; b++)
					found |= s->bindings[b].pool_id == p->id &&
						 s->bindings[b].slot == slot;
			}
			fuzz_check(found, "pool %s: slot %u is session %u's, which has no binding",
				   p->name, slot, sid);
		}
		fuzz_check(attached == p->n_attached, "pool %s: n_attached %u, %u slots taken",
			   p->name, p->n_attached, attached);
	}
	for (int i = 0; i < N_SESSIONS; i++) {
		const struct session *s = &w->sessions[i];

		if (!w->live[i])
			continue;
		for (uint32_t b = 0; b < s->n_bindings; b++) {
			const struct pool *bp = storage_get(w->storage, s->bindings[b].pool_id);

			if (!bp)
				continue;
			fuzz_check(s->bindings[b].slot < bp->layout.n_slots &&
					   bp->slot_sessions[s->bindings[b].slot] == s->id,
				   "session %u: its slot %u in pool %s is not its own", s->id,
				   s->bindings[b].slot, bp->name);
		}
	}
}

static bool opens_a_pool(Ksalloc__Reply__BodyCase body)
{
	return body == KSALLOC__REPLY__BODY_OPEN_POOL || body == KSALLOC__REPLY__BODY_CREATE_POOL ||
	       body == KSALLOC__REPLY__BODY_RESHAPE_POOL;
}

/* What a successful reply says must agree with the daemon's state it describes. */
static void check_body(const struct world *w, const Ksalloc__Reply *m)
{
	if (m->body_case == KSALLOC__REPLY__BODY_LIST_POOLS) {
		const Ksalloc__ListPoolsReply *l = m->list_pools;

		fuzz_check(l->n_pools <= l->total, "%zu pools listed of %u", l->n_pools, l->total);
		for (size_t i = 0; i < l->n_pools; i++)
			fuzz_check(storage_get(w->storage, l->pools[i]->pool_id),
				   "listed pool %s (id %u) does not exist", l->pools[i]->name,
				   l->pools[i]->pool_id);
	} else if (m->body_case == KSALLOC__REPLY__BODY_LIST_SESSIONS) {
		const Ksalloc__ListSessionsReply *l = m->list_sessions;

		fuzz_check(l->total == w->rpc.n_sessions && l->n_sessions <= l->total,
			   "%zu sessions listed of %u (the daemon has %u)", l->n_sessions, l->total,
			   w->rpc.n_sessions);
	} else if (m->body_case == KSALLOC__REPLY__BODY_GET_STATUS) {
		const Ksalloc__GetStatusReply *st = m->get_status;
		uint32_t frames = st->framing ? st->framing->frames : 0, held = 0;

		fuzz_check(st->allocated_frames <= frames, "%u of %u frames allocated",
			   st->allocated_frames, frames);
		if (!st->backend || !st->backend[0])
			return; /* not extended */
		fuzz_check(st->free_frames == frames - st->allocated_frames &&
				   st->peak_frames <= frames,
			   "%u frames: %u allocated, %u free, peak %u", frames,
			   st->allocated_frames, st->free_frames, st->peak_frames);
		for (size_t i = 0; i < st->n_holders; i++)
			held += st->holders[i]->frames_held;
		fuzz_check(held <= st->allocated_frames, "holders hold %u of %u allocated frames",
			   held, st->allocated_frames);
	}
}

static void check_reply(const struct world *w, const Ksalloc__Request *req,
			const struct rpc_reply *out)
{
	const Ksalloc__Reply *m = &out->msg;
	uint32_t id = req ? req->id : 0;

	fuzz_check(m->id == id, "reply id %u to request %u", m->id, id);
	if (m->hresult != 0) {
		fuzz_check(m->message && m->message[0], "failure 0x%08x without a message",
			   (unsigned)m->hresult);
		fuzz_check(out->n_fds == 0, "a failure carries %zu fds", out->n_fds);
		return;
	}
	fuzz_check(m->body_case != KSALLOC__REPLY__BODY__NOT_SET, "success without a body");
	if (opens_a_pool(m->body_case)) {
		const Ksalloc__OpenPoolReply *open =
			m->body_case == KSALLOC__REPLY__BODY_OPEN_POOL   ? m->open_pool :
			m->body_case == KSALLOC__REPLY__BODY_CREATE_POOL ? m->create_pool :
									   m->reshape_pool;
		const struct pool *bound;
		struct stat st;

		fuzz_check(open && open->pool, "an open reply without its pool");
		fuzz_check(out->n_fds == 1 && out->fds[0] >= 0, "an open reply without its one fd");
		fuzz_check(fcntl(out->fds[0], F_GETFD) >= 0, "an open reply carries a closed fd %d",
			   out->fds[0]);
		/* What the client checks before it maps the pool (client/pool.c). */
		fuzz_check(fstat(out->fds[0], &st) == 0 &&
				   (uint64_t)st.st_size == open->pool->size_bytes,
			   "pool %s: memfd of %lld bytes, reply says %llu", open->pool->name,
			   (long long)st.st_size, (unsigned long long)open->pool->size_bytes);
		bound = storage_get(w->storage, open->pool->pool_id);
		fuzz_check(bound && bound->fd == out->fds[0] && open->slot < bound->layout.n_slots,
			   "pool %s: slot %u, or another pool's fd", open->pool->name, open->slot);
	} else if (m->body_case == KSALLOC__REPLY__BODY_GET_FRAME_FDS) {
		const struct pool *p = NULL;
		uint32_t id_ = 0;

		/* Only pools whose frames are dma-bufs have frame fds: their own, in order. */
		while ((p = storage_next(w->storage, &id_)))
			if (p->frame_fds && out->fds == p->frame_fds + m->get_frame_fds->offset)
				break;
		fuzz_check(p && out->n_fds == m->get_frame_fds->count && out->n_fds > 0 &&
				   out->n_fds <= WIRE_MAX_FDS,
			   "frame fds from no pool, or %zu of them", out->n_fds);
	} else {
		fuzz_check(out->n_fds == 0, "reply of body %d carries %zu fds", (int)m->body_case,
			   out->n_fds);
	}
	check_body(w, m);
}

/* Pool ids in requests count from the first pool (see the top of this file). */
static void relocate_pool_id(const struct world *w, Ksalloc__Request *req)
{
	uint32_t *id = NULL;

	if (req->body_case == KSALLOC__REQUEST__BODY_GET_STATUS)
		id = &req->get_status->pool_id;
	else if (req->body_case == KSALLOC__REQUEST__BODY_SET_COMMITTED)
		id = &req->set_committed->pool_id;
	else if (req->body_case == KSALLOC__REQUEST__BODY_RESHAPE_POOL)
		id = &req->reshape_pool->pool_id;
	/* 0 stays 0: a status request by name. */
	if (id && *id)
		*id += w->id_base;
}

/*
 * connection_serve_fast(): the fast path's answer to @data in tx_fast. Returns its
 * length; 0 when it leaves the datagram to the full path, -errno when it parsed
 * it but the daemon declined (the full path must then fail).
 */
static ssize_t serve_fast(struct world *w, int i, const uint8_t *data, size_t len)
{
	uint32_t id, pool_id, allocated;
	struct framing f;
	ssize_t n;
	int r;

	if (!fastpath_parse_status_request(data, len, &id, &pool_id))
		return 0;
	r = rpc_status_fast(&w->rpc, &w->sessions[i], pool_id + w->id_base, &f, &allocated);
	if (r < 0)
		return r;
	n = fastpath_pack_status_reply(tx_fast, w->max_message, id, &f, allocated);
	fuzz_check(n > 0, "the fast path's reply does not fit");
	return n;
}

/* One datagram from session @i, the way connection.c serves it. */
static void request(struct world *w, int i, const uint8_t *data, size_t len)
{
	struct session *s = &w->sessions[i];
	Ksalloc__Request *req = NULL;
	Ksalloc__Reply *back;
	struct rpc_reply out;
	ssize_t n, fast = len <= w->max_message ? serve_fast(w, i, data, len) : 0;

	if (len > w->max_message) {
		/* wire_recv() cuts it and says -EMSGSIZE: the datagram is dropped. */
		rpc_reply_error(&out, &arena, 0, -EMSGSIZE,
				"request larger than max_message_size (%u bytes): dropped",
				w->max_message);
	} else {
		req = ksalloc__request__unpack(&arena.allocator, len, data);
		if (!req) {
			rpc_reply_error(&out, &arena, 0, -EBADMSG,
					"request could not be decoded as a ksalloc.Request");
		} else {
			relocate_pool_id(w, req);
			rpc_dispatch(&w->rpc, s, req, &arena, &out);
		}
	}
	if (trace)
		fprintf(stderr, "session %u: request %d (id %u, %zu bytes): 0x%08x %s\n", s->id,
			req ? (int)req->body_case : -1, req ? req->id : 0, len,
			(unsigned)out.msg.hresult, out.msg.message ? out.msg.message : "");
	check_reply(w, req, &out);

	n = wire_pack(&out.msg.base, tx, w->max_message);
	fuzz_check(n >= 0, "reply (body %d, %zu bytes) larger than max_message_size %u",
		   (int)out.msg.body_case, protobuf_c_message_get_packed_size(&out.msg.base),
		   w->max_message);
	if (fast > 0)
		fuzz_check(fast == n && memcmp(tx, tx_fast, (size_t)n) == 0,
			   "status by id: the fast path's reply (%zd bytes) differs from the full "
			   "path's (%zd bytes, 0x%08x %s)",
			   fast, n, (unsigned)out.msg.hresult,
			   out.msg.message ? out.msg.message : "");
	else if (fast < 0)
		fuzz_check(out.msg.hresult != 0,
			   "the fast path declined (%s), the full path answered",
			   strerror((int)-fast));
	back = ksalloc__reply__unpack(NULL, (size_t)n, tx);
	fuzz_check(back, "the client cannot decode the reply");
	ksalloc__reply__free_unpacked(back, NULL);
	arena_reset(&arena);
}

/* server_evict(): the session is closed; a new one connects in its place afterwards. */
static void evict(struct session *s, void *data)
{
	struct world *w = data;
	int i = s == &w->sessions[0] ? 0 : 1;

	fuzz_check(s == &w->sessions[i] && w->live[i], "evicting a session that is not live");
	rpc_remove_session(&w->rpc, s);
	w->live[i] = false;
}

/* A client connects as session @i (again) and, unless the flags say not to, says hello. */
static void connect_session(struct world *w, int i)
{
	add_session(w, i);
	if (!(w->flags & FLAG_NO_HELLO))
		request(w, i, hello, hello_len);
}

/* Session @i hangs up (connection_close()), and a new client connects in its place. */
static void reconnect_session(struct world *w, int i)
{
	rpc_remove_session(&w->rpc, &w->sessions[i]);
	w->live[i] = false;
	connect_session(w, i);
}

/* connection_push(): every event a subscriber gets must pack, fit and decode as a client reads it. */
static int push_event(struct session *s, struct rpc_reply *out, bool droppable, void *data)
{
	static uint8_t tx[1u << 20];
	struct world *w = data;
	Ksalloc__Reply *back;
	ssize_t n;

	(void)droppable;
	fuzz_check(s == &w->sessions[0] || s == &w->sessions[1], "an event for no session");
	fuzz_check(out->msg.id == 0 && out->msg.body_case == KSALLOC__REPLY__BODY_EVENT &&
			   out->n_fds == 0,
		   "an event that is not one");
	n = wire_pack(&out->msg.base, tx, w->max_message);
	fuzz_check(n >= 0, "event (kind %d) larger than max_message_size %u",
		   (int)out->msg.event->kind, w->max_message);
	back = ksalloc__reply__unpack(NULL, (size_t)n, tx);
	fuzz_check(back && back->event, "the client cannot decode the event");
	ksalloc__reply__free_unpacked(back, NULL);
	return 0;
}

/* main.c's on_housekeeping(), and server.c's tick for the subscribers. */
static void housekeeping(struct world *w)
{
	static struct arena arena;

	if (!arena.first)
		fuzz_check(arena_init(&arena, 1u << 16) == 0, "arena_init");
	events_tick(&w->rpc.events, &arena, push_event, w);
	rpc_collect(&w->rpc, evict, w);
	for (int i = 0; i < N_SESSIONS; i++)
		if (!w->live[i])
			connect_session(w, i);
}

/* The pool of session @s's binding number @pick, or NULL; *ret_slot is its slot. */
static struct pool *bound_pool(struct world *w, const struct session *s, uint8_t pick,
			       uint32_t *ret_slot)
{
	const struct binding *b;
	struct pool *p;

	if (s->n_bindings == 0)
		return NULL;
	b = &s->bindings[pick % s->n_bindings];
	p = storage_get(w->storage, b->pool_id);
	if (!p || b->slot >= p->layout.n_slots)
		return NULL;
	*ret_slot = b->slot;
	return p;
}

/* The client of session @i acquires frames of a pool it opened, as libksalloc does. */
static void client_acquire(struct world *w, int i, struct fuzz_reader *in)
{
	const struct session *s = &w->sessions[i];
	uint8_t pick = fuzz_u8(in), count = 1 + fuzz_u8(in) % 4;
	uint32_t slot, hint = 0, index, generation;
	struct pool *p = bound_pool(w, s, pick, &slot);

	if (!p)
		return;
	for (uint8_t k = 0; k < count; k++)
		if (frame_acquire(&p->frames, s->id, &p->frames.slots[slot], &hint, 0, &index,
				  &generation) < 0)
			break;
}

/* The client of session @i releases one frame by handle, or every frame it holds. */
static void client_release(struct world *w, int i, struct fuzz_reader *in)
{
	const struct session *s = &w->sessions[i];
	uint8_t pick = fuzz_u8(in), how = fuzz_u8(in);
	uint32_t index = fuzz_u32(in), generation = fuzz_u32(in), slot;
	struct pool *p = bound_pool(w, s, pick, &slot);

	if (p && (how & 1)) {
		for (uint32_t f = 0; f < p->frames.n_frames; f++) {
			uint64_t owner = atomic_load(&p->frames.frames[f].owner);

			if (shm_owner_tenant(owner) == s->id)
				(void)frame_release(&p->frames, s->id, f,
						    shm_owner_generation(owner));
		}
	} else if (p) {
		(void)frame_release(&p->frames, s->id, index, generation);
	}
}

/* Any client that has a pool open can write anything into its control block. */
static void client_scribble(struct world *w, struct fuzz_reader *in)
{
	uint8_t pick = fuzz_u8(in);
	uint16_t offset = fuzz_u16(in);
	const uint8_t *bytes;
	struct pool *p, *chosen = NULL;
	uint32_t id = 0, n = 0;
	size_t len;

	while (storage_next(w->storage, &id))
		n++;
	if (n == 0)
		return;
	n = pick % n;
	for (id = 0; (p = storage_next(w->storage, &id)) && !chosen;)
		if (n-- == 0)
			chosen = p;
	bytes = fuzz_bytes(in, fuzz_left(in), &len);
	offset %= chosen->layout.data_offset;
	if (len > chosen->layout.data_offset - offset)
		len = chosen->layout.data_offset - offset;
	memcpy((uint8_t *)chosen->map + offset, bytes, len);
}

/*
 * main.c's reload(): new limits and policy (max_message_size takes a restart, so
 * it stays), and a config pool that left the config is removed (reload.c).
 */
static void reload(struct world *w, struct fuzz_reader *in)
{
	uint8_t flags = fuzz_u8(in), quotas = fuzz_u8(in), drop = fuzz_u8(in);
	struct rpc_limits limits;
	struct rpc_policy policy;

	config_of((uint8_t)((flags & ~FLAG_SMALL_MESSAGES) | (w->flags & FLAG_SMALL_MESSAGES)),
		  quotas, &limits, &policy);
	rpc_configure(&w->rpc, &limits, &policy);
	if (drop < ELEMENTSOF(config_pools)) {
		struct pool *p = storage_find(w->storage, config_pools[drop].name);

		if (p && p->from_config && !p->removing)
			rpc_pool_remove(&w->rpc, p);
	}
}

static void world_deinit(struct world *w)
{
	struct pool *p;
	uint32_t id = 0;

	for (int i = 0; i < N_SESSIONS; i++)
		if (w->live[i])
			rpc_remove_session(&w->rpc, &w->sessions[i]);
	fuzz_check(w->rpc.n_sessions == 0 && list_empty(&w->rpc.sessions), "%u sessions left",
		   w->rpc.n_sessions);
	/* rpc.h: a pool a client created goes with its last session, unless the config keeps them. */
	while ((p = storage_next(w->storage, &id)))
		fuzz_check(p->persistent, "pool %s, created by a client, outlived its sessions",
			   p->name);
	storage_free(w->storage);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_reader in = { data, size };
	int lowest_fd = fuzz_lowest_free_fd();
	struct world w;
	uint8_t flags = fuzz_u8(&in), quotas = fuzz_u8(&in);

	world_init(&w, flags, quotas);
	for (int i = 0; i < N_SESSIONS; i++)
		connect_session(&w, i);

	for (int chunk = 0; chunk < MAX_CHUNKS && fuzz_left(&in) > 0; chunk++) {
		uint8_t what = fuzz_u8(&in);
		uint16_t len = fuzz_u16(&in);
		int i = (what >> 3) & 1;
		struct fuzz_reader part;

		part.data = fuzz_bytes(&in, len, &part.size);
		if (trace && (what & 7) >= OP_RELOAD)
			fprintf(stderr, "session %u: op %d (%zu bytes)\n", w.sessions[i].id,
				what & 7, part.size);
		switch (what & 7) {
		case OP_RELOAD:
			reload(&w, &part);
			break;
		case OP_CLOSE:
			reconnect_session(&w, i);
			break;
		case OP_ACQUIRE:
			client_acquire(&w, i, &part);
			housekeeping(&w);
			break;
		case OP_SCRIBBLE:
			client_scribble(&w, &part);
			break;
		case OP_RELEASE:
			client_release(&w, i, &part);
			housekeeping(&w);
			break;
		default:
			/* wire_recv() cannot tell an empty datagram from a hang-up: both close. */
			if (part.size == 0)
				reconnect_session(&w, i);
			else
				request(&w, i, part.data, part.size);
			break;
		}
		world_check(&w);
	}

	world_deinit(&w);
	fuzz_check(fuzz_lowest_free_fd() == lowest_fd, "an fd leaked");
	return 0;
}
