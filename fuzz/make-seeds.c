/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writes the seed corpus of the fuzz harnesses: a few meaningful inputs each,
 * from which libFuzzer finds its way into every request and reply, the
 * dispatcher's scripts, the config keys and a pool's control block.
 *
 *   fuzz-make-seeds CORPUS_DIR SHIPPED_CONFIG
 *
 * writes CORPUS_DIR/{wire,dispatch,config,shm}/<seed>; SHIPPED_CONFIG (the
 * systemd/ksallocd.conf of the source tree) is copied in as a config seed.
 * The corpus is checked in; run this again when the protocol or a harness's
 * input format changes, and commit what changed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "shm/layout.h"
#include "proto/wire.h"

static const char *corpus;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz-make-seeds: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void write_seed(const char *harness, const char *name, const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", corpus, harness);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die("mkdir %s: %m", path);
	snprintf(path, sizeof(path), "%s/%s/%s", corpus, harness, name);
	f = fopen(path, "we");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		die("writing %s: %m", path);
}

/* Packs @m into @buf (a static buffer of 4096 bytes); returns the length. */
static size_t pack(const ProtobufCMessage *m, uint8_t *buf)
{
	ssize_t n = wire_pack(m, buf, 4096);

	if (n < 0)
		die("packing a %s: too large", m->descriptor->name);
	return (size_t)n;
}

/* ---- requests ---- */

static Ksalloc__Framing framing_of(uint32_t frames, uint32_t frame_size, uint32_t mask)
{
	Ksalloc__Framing f = KSALLOC__FRAMING__INIT;

	f.frames = frames;
	f.frame_size = frame_size;
	f.file_alignment = mask;
	return f;
}

enum req_kind {
	REQ_HELLO,
	REQ_LIST_POOLS,
	REQ_OPEN,
	REQ_CREATE,
	REQ_STATUS,
	REQ_STATUS_EXTENDED,
	REQ_SET_COMMITTED,
	REQ_RESHAPE,
	REQ_DESTROY,
	REQ_LIST_SESSIONS,
	REQ_CREATE_LOCKED_HUGETLB,
	REQ_FRAME_FDS,
	REQ_LIST_BACKENDS,
	REQ_SUBSCRIBE,
	REQ_DAEMON_STATS,
};

/*
 * Packs request @id of @kind into @buf: @name for the ones by name, @pool_id and
 * @arg (offset, committed, frames) for the others.
 */
static size_t pack_request(uint8_t *buf, enum req_kind kind, uint32_t id, const char *name,
			   uint32_t pool_id, uint32_t arg)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__HelloRequest hello = KSALLOC__HELLO_REQUEST__INIT;
	Ksalloc__ListPoolsRequest list = KSALLOC__LIST_POOLS_REQUEST__INIT;
	Ksalloc__OpenPoolRequest open = KSALLOC__OPEN_POOL_REQUEST__INIT;
	Ksalloc__CreatePoolRequest create = KSALLOC__CREATE_POOL_REQUEST__INIT;
	Ksalloc__GetStatusRequest status = KSALLOC__GET_STATUS_REQUEST__INIT;
	Ksalloc__SetCommittedRequest commit = KSALLOC__SET_COMMITTED_REQUEST__INIT;
	Ksalloc__ReshapePoolRequest reshape = KSALLOC__RESHAPE_POOL_REQUEST__INIT;
	Ksalloc__DestroyPoolRequest destroy = KSALLOC__DESTROY_POOL_REQUEST__INIT;
	Ksalloc__ListSessionsRequest sessions = KSALLOC__LIST_SESSIONS_REQUEST__INIT;
	Ksalloc__GetFrameFdsRequest frame_fds = KSALLOC__GET_FRAME_FDS_REQUEST__INIT;
	Ksalloc__ListBackendsRequest backends = KSALLOC__LIST_BACKENDS_REQUEST__INIT;
	Ksalloc__SubscribeRequest subscribe = KSALLOC__SUBSCRIBE_REQUEST__INIT;
	Ksalloc__GetDaemonStatsRequest daemon_stats = KSALLOC__GET_DAEMON_STATS_REQUEST__INIT;
	Ksalloc__Framing f = framing_of(arg ? arg : 4, 4096, 63);

	req.id = id;
	switch (kind) {
	case REQ_HELLO:
		hello.protocol_version = WIRE_PROTOCOL_VERSION;
		hello.client_name = (char *)(name ? name : "seed");
		req.body_case = KSALLOC__REQUEST__BODY_HELLO;
		req.hello = &hello;
		break;
	case REQ_LIST_POOLS:
		list.offset = arg;
		req.body_case = KSALLOC__REQUEST__BODY_LIST_POOLS;
		req.list_pools = &list;
		break;
	case REQ_OPEN:
		open.name = (char *)name;
		req.body_case = KSALLOC__REQUEST__BODY_OPEN_POOL;
		req.open_pool = &open;
		break;
	case REQ_CREATE:
		create.name = (char *)name;
		create.framing = &f;
		req.body_case = KSALLOC__REQUEST__BODY_CREATE_POOL;
		req.create_pool = &create;
		break;
	case REQ_STATUS:
	case REQ_STATUS_EXTENDED:
		status.pool_id = pool_id;
		status.name = (char *)(name ? name : "");
		status.extended = kind == REQ_STATUS_EXTENDED;
		req.body_case = KSALLOC__REQUEST__BODY_GET_STATUS;
		req.get_status = &status;
		break;
	case REQ_SET_COMMITTED:
		commit.pool_id = pool_id;
		commit.committed = arg;
		req.body_case = KSALLOC__REQUEST__BODY_SET_COMMITTED;
		req.set_committed = &commit;
		break;
	case REQ_RESHAPE:
		reshape.pool_id = pool_id;
		reshape.framing = &f;
		req.body_case = KSALLOC__REQUEST__BODY_RESHAPE_POOL;
		req.reshape_pool = &reshape;
		break;
	case REQ_DESTROY:
		destroy.name = (char *)name;
		req.body_case = KSALLOC__REQUEST__BODY_DESTROY_POOL;
		req.destroy_pool = &destroy;
		break;
	case REQ_LIST_SESSIONS:
		sessions.offset = arg;
		req.body_case = KSALLOC__REQUEST__BODY_LIST_SESSIONS;
		req.list_sessions = &sessions;
		break;
	case REQ_CREATE_LOCKED_HUGETLB:
		create.name = (char *)name;
		create.framing = &f;
		create.backend = "hugetlb";
		create.locked = true;
		req.body_case = KSALLOC__REQUEST__BODY_CREATE_POOL;
		req.create_pool = &create;
		break;
	case REQ_FRAME_FDS:
		frame_fds.pool_id = pool_id;
		frame_fds.offset = arg;
		req.body_case = KSALLOC__REQUEST__BODY_GET_FRAME_FDS;
		req.get_frame_fds = &frame_fds;
		break;
	case REQ_LIST_BACKENDS:
		req.body_case = KSALLOC__REQUEST__BODY_LIST_BACKENDS;
		req.list_backends = &backends;
		break;
	case REQ_SUBSCRIBE:
		subscribe.name = (char *)(name ? name : "");
		subscribe.interval_ms = 10;
		subscribe.hold_threshold_ms = arg;
		req.body_case = KSALLOC__REQUEST__BODY_SUBSCRIBE;
		req.subscribe = &subscribe;
		break;
	case REQ_DAEMON_STATS:
		req.body_case = KSALLOC__REQUEST__BODY_GET_DAEMON_STATS;
		req.get_daemon_stats = &daemon_stats;
		break;
	}
	return pack(&req.base, buf);
}

static void wire_seeds(void)
{
	static const struct {
		const char *file;
		enum req_kind kind;
		const char *name;
		uint32_t pool_id, arg;
	} requests[] = {
		{ "request-hello", REQ_HELLO, "ksallocctl", 0, 0 },
		{ "request-list-pools", REQ_LIST_POOLS, NULL, 0, 2 },
		{ "request-open-pool", REQ_OPEN, "video", 0, 0 },
		{ "request-create-pool", REQ_CREATE, "camera0", 0, 8 },
		{ "request-get-status", REQ_STATUS, NULL, 1, 0 },
		{ "request-get-status-extended", REQ_STATUS_EXTENDED, "video", 0, 0 },
		{ "request-set-committed", REQ_SET_COMMITTED, NULL, 1, 1 },
		{ "request-reshape-pool", REQ_RESHAPE, NULL, 5, 16 },
		{ "request-destroy-pool", REQ_DESTROY, "camera0", 0, 0 },
		{ "request-list-sessions", REQ_LIST_SESSIONS, NULL, 0, 1 },
		{ "request-create-locked-hugetlb", REQ_CREATE_LOCKED_HUGETLB, "huge", 0, 2 },
		{ "request-get-frame-fds", REQ_FRAME_FDS, NULL, 1, 253 },
		{ "request-list-backends", REQ_LIST_BACKENDS, NULL, 0, 0 },
		{ "request-subscribe", REQ_SUBSCRIBE, "video", 0, 1 },
		{ "request-get-daemon-stats", REQ_DAEMON_STATS, NULL, 0, 0 },
	};
	uint8_t buf[4096];

	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		write_seed("wire", requests[i].file, buf,
			   pack_request(buf, requests[i].kind, 7 + (uint32_t)i, requests[i].name,
					requests[i].pool_id, requests[i].arg));

	/* Replies: what the client library decodes. */
	{
		Ksalloc__Reply reply = KSALLOC__REPLY__INIT;
		Ksalloc__HelloReply hello = KSALLOC__HELLO_REPLY__INIT;
		Ksalloc__Limits limits = KSALLOC__LIMITS__INIT;

		limits.max_message_size = 65536;
		limits.max_pool_frames = 4096;
		limits.max_frame_size = 256u << 20;
		limits.max_sessions = 1024;
		limits.max_pool_sessions = 64;
		hello.protocol_version = 1;
		hello.daemon_version = (char *)"0.1.0";
		hello.limits = &limits;
		hello.session_token = UINT64_C(0x0123456789abcdef);
		hello.session_id = 3;
		reply.id = 1;
		reply.body_case = KSALLOC__REPLY__BODY_HELLO;
		reply.hello = &hello;
		write_seed("wire", "reply-hello", buf, pack(&reply.base, buf));
	}
	{
		Ksalloc__Reply reply = KSALLOC__REPLY__INIT;

		reply.id = 9;
		reply.hresult = (int32_t)0x80070002u; /* ENOENT, as hresult.c maps it */
		reply.message =
			(char *)"open: no pool named \"vide\" (ksallocctl list shows the pools)";
		write_seed("wire", "reply-error", buf, pack(&reply.base, buf));
	}
	{
		Ksalloc__Reply reply = KSALLOC__REPLY__INIT;
		Ksalloc__OpenPoolReply open = KSALLOC__OPEN_POOL_REPLY__INIT;
		Ksalloc__PoolInfo info = KSALLOC__POOL_INFO__INIT, *infos[2] = { &info, &info };
		Ksalloc__ListPoolsReply list = KSALLOC__LIST_POOLS_REPLY__INIT;
		Ksalloc__Framing f = framing_of(8, 3110400, 63);

		info.name = (char *)"video";
		info.pool_id = 1;
		info.framing = &f;
		info.allocated_frames = 2;
		info.backend = (char *)"memfd";
		info.size_bytes = 24903680;
		info.committed = true;
		info.persistent = true;
		info.owner = 1000;
		info.group = 44;
		info.mode = 0660;
		open.pool = &info;
		open.slot = 1;
		reply.id = 2;
		reply.body_case = KSALLOC__REPLY__BODY_OPEN_POOL;
		reply.open_pool = &open;
		write_seed("wire", "reply-open-pool", buf, pack(&reply.base, buf));

		list.pools = infos;
		list.n_pools = 2;
		list.total = 3;
		reply.body_case = KSALLOC__REPLY__BODY_LIST_POOLS;
		reply.list_pools = &list;
		write_seed("wire", "reply-list-pools", buf, pack(&reply.base, buf));
	}
	{
		Ksalloc__Reply reply = KSALLOC__REPLY__INIT;
		Ksalloc__GetStatusReply status = KSALLOC__GET_STATUS_REPLY__INIT;
		Ksalloc__Holder holder = KSALLOC__HOLDER__INIT, *holders[1] = { &holder };
		Ksalloc__Framing f = framing_of(8, 3110400, 63);

		holder.session_id = 4;
		holder.pid = 1234;
		holder.uid = 1000;
		holder.name = (char *)"gst-launch-1.0";
		holder.frames_held = 2;
		holder.oldest_hold_ms = 15;
		status.framing = &f;
		status.allocated_frames = 2;
		status.free_frames = 6;
		status.peak_frames = 5;
		status.waiters = 1;
		status.acquisitions = 1000;
		status.timeouts = 3;
		status.reclaimed = 4;
		status.committed = true;
		status.backend = (char *)"memfd";
		status.holders = holders;
		status.n_holders = 1;
		status.sessions = 2;
		status.last_reclaim_ns = UINT64_C(123456789012);
		status.last_reclaim_frames = 4;
		reply.id = 3;
		reply.body_case = KSALLOC__REPLY__BODY_GET_STATUS;
		reply.get_status = &status;
		write_seed("wire", "reply-get-status", buf, pack(&reply.base, buf));

		/* What KsGetAllocatorStatus gets, in the shape the fast path parses. */
		ksalloc__get_status_reply__init(&status);
		status.framing = &f;
		status.allocated_frames = 2;
		write_seed("wire", "reply-get-status-fast", buf, pack(&reply.base, buf));
	}
	{
		Ksalloc__Reply reply = KSALLOC__REPLY__INIT;
		Ksalloc__ListSessionsReply list = KSALLOC__LIST_SESSIONS_REPLY__INIT;
		Ksalloc__SessionInfo info = KSALLOC__SESSION_INFO__INIT, *infos[1] = { &info };

		info.session_id = 4;
		info.pid = 1234;
		info.uid = 1000;
		info.gid = 1000;
		info.name = (char *)"gst-launch-1.0";
		info.pools_open = 1;
		info.frames_held = 2;
		info.connected_ms = 60000;
		list.sessions = infos;
		list.n_sessions = 1;
		list.total = 1;
		reply.id = 4;
		reply.body_case = KSALLOC__REPLY__BODY_LIST_SESSIONS;
		reply.list_sessions = &list;
		write_seed("wire", "reply-list-sessions", buf, pack(&reply.base, buf));
	}
}

/* ---- dispatch scripts (fuzz-dispatch.c describes the format) ---- */

enum {
	OP_REQUEST = 0,
	OP_RELOAD = 3,
	OP_CLOSE = 4,
	OP_ACQUIRE = 5,
	OP_SCRIBBLE = 6,
	OP_RELEASE = 7
};

struct script {
	uint8_t buf[8192];
	size_t len;
	uint32_t next_id;
};

static void script_start(struct script *s, uint8_t flags, uint8_t quotas)
{
	s->buf[0] = flags;
	s->buf[1] = quotas;
	s->len = 2;
	s->next_id = 2;
}

static void script_op(struct script *s, int session, int op, const void *data, size_t len)
{
	if (s->len + 3 + len > sizeof(s->buf))
		die("script too long");
	s->buf[s->len++] = (uint8_t)(op | session << 3);
	s->buf[s->len++] = (uint8_t)len;
	s->buf[s->len++] = (uint8_t)(len >> 8);
	if (len)
		memcpy(s->buf + s->len, data, len);
	s->len += len;
}

static void script_request(struct script *s, int session, enum req_kind kind, const char *name,
			   uint32_t pool_id, uint32_t arg)
{
	uint8_t buf[4096];

	script_op(s, session, OP_REQUEST, buf,
		  pack_request(buf, kind, s->next_id++, name, pool_id, arg));
}

static void dispatch_seeds(void)
{
	struct script s;
	uint8_t args[16];

	/* Every request, in an order that succeeds: config pools are ids 1-4, the new one 5. */
	script_start(&s, 0x00, 0x00);
	script_request(&s, 0, REQ_LIST_POOLS, NULL, 0, 0);
	script_request(&s, 0, REQ_OPEN, "video", 0, 0);
	script_request(&s, 0, REQ_STATUS, "video", 0, 0);
	script_request(&s, 0, REQ_STATUS_EXTENDED, NULL, 1, 0);
	script_request(&s, 0, REQ_CREATE, "camera0", 0, 4);
	script_request(&s, 0, REQ_SET_COMMITTED, NULL, 5, 0);
	script_request(&s, 0, REQ_RESHAPE, NULL, 5, 8);
	script_request(&s, 0, REQ_SET_COMMITTED, NULL, 5, 1);
	script_request(&s, 1, REQ_OPEN, "public", 0, 0);
	script_request(&s, 1, REQ_LIST_SESSIONS, NULL, 0, 0);
	script_request(&s, 0, REQ_DESTROY, "camera0", 0, 0);
	script_request(&s, 0, REQ_LIST_POOLS, NULL, 0, 1);
	script_request(&s, 0, REQ_LIST_BACKENDS, NULL, 0, 0);
	script_request(&s, 0, REQ_FRAME_FDS, NULL, 1, 0);
	script_request(&s, 0, REQ_CREATE_LOCKED_HUGETLB, "huge", 0, 2);
	write_seed("dispatch", "every-request", s.buf, s.len);

	/* Frames held while the daemon answers, then a session closing with them. */
	script_start(&s, 0x00, 0x00);
	script_request(&s, 0, REQ_OPEN, "public", 0, 0);
	script_request(&s, 1, REQ_OPEN, "public", 0, 0);
	args[0] = 0;
	args[1] = 2; /* three frames */
	script_op(&s, 0, OP_ACQUIRE, args, 2);
	args[1] = 0;
	script_op(&s, 1, OP_ACQUIRE, args, 2);
	script_request(&s, 1, REQ_STATUS_EXTENDED, "public", 0, 0);
	script_request(&s, 1, REQ_LIST_SESSIONS, NULL, 0, 0);
	script_request(&s, 1, REQ_DESTROY, "public", 0, 0);
	memset(args, 0, sizeof(args));
	args[1] = 1; /* release every frame it holds */
	script_op(&s, 1, OP_RELEASE, args, 10);
	script_op(&s, 0, OP_CLOSE, NULL, 0);
	script_request(&s, 1, REQ_STATUS_EXTENDED, NULL, 4, 0);
	script_request(&s, 1, REQ_LIST_POOLS, NULL, 0, 0);
	write_seed("dispatch", "frames-held", s.buf, s.len);

	/* A client scribbles over the block of a pool the daemon then reads. */
	script_start(&s, 0x00, 0x00);
	script_request(&s, 0, REQ_OPEN, "public", 0, 0);
	args[0] = 0;
	args[1] = 1;
	script_op(&s, 0, OP_ACQUIRE, args, 2);
	{
		uint8_t scribble[3 + 128];

		scribble[0] = 3; /* the fourth pool: public */
		scribble[1] = 0; /* at SHM_SHARED_OFFSET */
		scribble[2] = 1;
		memset(scribble + 3, 0xff, 128);
		script_op(&s, 0, OP_SCRIBBLE, scribble, sizeof(scribble));
	}
	script_request(&s, 0, REQ_STATUS_EXTENDED, "public", 0, 0);
	script_request(&s, 0, REQ_SET_COMMITTED, NULL, 4, 0);
	script_request(&s, 0, REQ_LIST_SESSIONS, NULL, 0, 0);
	script_op(&s, 0, OP_CLOSE, NULL, 0);
	write_seed("dispatch", "scribbled-block", s.buf, s.len);

	/* Subscribers, one to a pool and one to all, while frames are held, scribbled and dropped. */
	script_start(&s, 0x00, 0x00);
	script_request(&s, 0, REQ_SUBSCRIBE, NULL, 0, 0);
	script_request(&s, 1, REQ_SUBSCRIBE, "public", 0, 1);
	script_request(&s, 1, REQ_OPEN, "public", 0, 0);
	args[0] = 0;
	args[1] = 3; /* every frame: dry */
	script_op(&s, 1, OP_ACQUIRE, args, 2);
	script_request(&s, 0, REQ_CREATE, "fleeting", 0, 2);
	script_request(&s, 0, REQ_DAEMON_STATS, NULL, 0, 0);
	script_op(&s, 1, OP_CLOSE, NULL, 0);
	script_op(&s, 0, OP_ACQUIRE, args, 2);
	script_op(&s, 0, OP_CLOSE, NULL, 0);
	write_seed("dispatch", "subscribers", s.buf, s.len);

	/* No hello: refused until it comes, and a second one refused too. */
	script_start(&s, 0x01, 0x00);
	script_request(&s, 0, REQ_LIST_POOLS, NULL, 0, 0);
	script_request(&s, 0, REQ_HELLO, "late", 0, 0);
	script_request(&s, 0, REQ_HELLO, "again", 0, 0);
	script_op(&s, 1, OP_REQUEST, "\x08\x01\x52\x00\xff", 5);
	write_seed("dispatch", "hello-rules", s.buf, s.len);

	/* Small datagrams, root, created pools kept, one session per pool: paging and limits. */
	script_start(&s, 0x3a, 0x00);
	for (int i = 0; i < 24; i++) {
		char name[16];

		snprintf(name, sizeof(name), "pool-%02d", i);
		script_request(&s, 1, REQ_CREATE, name, 0, 1 + (uint32_t)i);
	}
	script_request(&s, 0, REQ_OPEN, "pool-00", 0, 0);
	script_request(&s, 1, REQ_LIST_POOLS, NULL, 0, 0);
	script_request(&s, 1, REQ_LIST_POOLS, NULL, 0, 20);
	script_request(&s, 1, REQ_LIST_SESSIONS, NULL, 0, 1);
	write_seed("dispatch", "many-pools", s.buf, s.len);

	/* create_group: session 0 is in group 44, session 1 is not. */
	script_start(&s, 0x04, 0x00);
	script_request(&s, 1, REQ_CREATE, "denied", 0, 2);
	script_request(&s, 0, REQ_CREATE, "allowed", 0, 2);
	script_request(&s, 1, REQ_OPEN, "allowed", 0, 0);
	script_request(&s, 1, REQ_DESTROY, "allowed", 0, 0);
	script_request(&s, 1, REQ_OPEN, "secret", 0, 0);
	script_request(&s, 0, REQ_STATUS, "audio", 0, 0);
	write_seed("dispatch", "access", s.buf, s.len);

	/* Quotas: one pool of at most 1M per uid, one frame per session (over it: closed). */
	script_start(&s, 0x00, 0x1e);
	script_request(&s, 0, REQ_CREATE, "first", 0, 2);
	script_request(&s, 0, REQ_CREATE, "second", 0, 2);
	script_request(&s, 0, REQ_OPEN, "video", 0, 0);
	args[0] = 1;
	args[1] = 1; /* two frames of video */
	script_op(&s, 0, OP_ACQUIRE, args, 2);
	script_request(&s, 0, REQ_STATUS_EXTENDED, NULL, 1, 0);
	script_request(&s, 1, REQ_LIST_SESSIONS, NULL, 0, 0);
	write_seed("dispatch", "quotas", s.buf, s.len);

	/* A reload: one session per pool from now on, video leaves the config while held. */
	script_start(&s, 0x00, 0x00);
	script_request(&s, 0, REQ_OPEN, "video", 0, 0);
	args[0] = 0;
	args[1] = 0;
	script_op(&s, 0, OP_ACQUIRE, args, 2);
	args[0] = 0x02; /* flags: max_pool_sessions 1 */
	args[1] = 0x00; /* quotas: the defaults */
	args[2] = 0;    /* video leaves the config */
	script_op(&s, 0, OP_RELOAD, args, 3);
	script_request(&s, 0, REQ_OPEN, "video", 0, 0);
	script_request(&s, 0, REQ_STATUS_EXTENDED, NULL, 1, 0);
	script_request(&s, 1, REQ_CREATE, "after-reload", 0, 2);
	script_request(&s, 0, REQ_OPEN, "after-reload", 0, 0);
	memset(args, 0, sizeof(args));
	args[1] = 1;
	script_op(&s, 0, OP_RELEASE, args, 10);
	script_request(&s, 0, REQ_LIST_POOLS, NULL, 0, 0);
	write_seed("dispatch", "reload", s.buf, s.len);
}

/* ---- configs ---- */

static void config_seeds(const char *shipped)
{
	static const struct {
		const char *file, *text;
	} configs[] = {
		{ "daemon-every-key", "[daemon]\n"
				      "socket = /run/ksallocd/test.sock\n"
				      "max_sessions = 16\n"
				      "max_message_size = 4K\n"
				      "max_pool_frames = 64\n"
				      "max_frame_size = 1MiB\n"
				      "log_level = debug\n"
				      "max_pool_sessions = 8\n"
				      "keep_created_pools = yes\n"
				      "max_sessions_per_uid = 4\n"
				      "max_pools_per_uid = 2\n"
				      "max_pool_bytes_per_uid = 3GiB\n"
				      "max_frames_per_session = 16\n"
				      "create_group = video\n"
				      "created_pool_mode = 0640\n" },
		{ "pool-every-key", "[pool video]\n"
				    "frames = 8\n"
				    "frame_size = 3110400\n"
				    "alignment = 64\n"
				    "backend = memfd\n"
				    "owner = root\n"
				    "group = 0\n"
				    "mode = 0660\n" },
		{ "two-pools", "; comment\n"
			       "# another\n"
			       "[daemon]\n"
			       "max_pool_frames = 16\n"
			       "create_group = 44\n"
			       "\n"
			       "[pool a]\n"
			       "frames = 4\n"
			       "frame_size = 4k\n"
			       "owner = 1000\n"
			       "[pool b.1_x-y]\n"
			       "frames = 16\n"
			       "frame_size = 1G\n"
			       "alignment = 4096\n"
			       "mode = 600\n" },
		{ "errors", "\xEF\xBB\xBF[daemon]\n"
			    "max_sessions = 0\n"
			    "bogus = 1\n"
			    "[pool]\n"
			    "[pool x]\n"
			    "frames = 4\n" },
	};

	for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++)
		write_seed("config", configs[i].file, configs[i].text, strlen(configs[i].text));

	{
		char buf[16384];
		size_t n;
		FILE *f = fopen(shipped, "re");

		if (!f)
			die("%s: %m", shipped);
		n = fread(buf, 1, sizeof(buf), f);
		if (ferror(f) || !feof(f))
			die("%s: unreadable or larger than %zu bytes", shipped, sizeof(buf));
		fclose(f);
		write_seed("config", "shipped-ksallocd.conf", buf, n);
	}
}

/* ---- control blocks (fuzz-shm.c describes the format) ---- */

static void shm_seed(const char *file, bool busy)
{
	/* 4 frames of 4096 bytes, 64-byte aligned, 4 slots; sessions 1 and 2 attach. */
	struct framing f = { .frames = 4, .frame_size = 4096, .file_alignment = 63 };
	const uint8_t header[11] = { 3, 0xff, 0x0f, 6, 3, 0x04, 3, 0, 0, 0, 0x0b };
	static uint8_t input[sizeof(header) + 65536];
	/* Built aligned, as a mapping is, then copied behind the header bytes. */
	static _Alignas(4096) uint8_t block[65536];
	struct shm_layout l;
	struct shm_shared *shared;
	struct shm_slot *slots;
	struct shm_frame *frames;

	if (shm_layout_compute(&f, 4, 0, UINT64_MAX, &l) < 0 || l.data_offset > 65536)
		die("layout");
	memset(block, 0, sizeof(block));
	memcpy(input, header, sizeof(header));
	/* What pool_new() writes for pool 1, "fuzz", and pool_attach() for the two sessions. */
	shm_header_write(block, &l, 1, "fuzz", &f);
	shared = (struct shm_shared *)(block + SHM_SHARED_OFFSET);
	slots = (struct shm_slot *)(block + l.slots_offset);
	frames = (struct shm_frame *)(block + l.descriptors_offset);
	atomic_store(&slots[0].tenant, UINT64_C(1) << 32);
	atomic_store(&slots[1].tenant, UINT64_C(2) << 32);
	atomic_store(&shared->slots_used, 2);
	if (busy) {
		/* Session 1 holds a frame and waits for another, one was handed to session 2. */
		atomic_store(&frames[0].owner, shm_owner(1, 1));
		atomic_store(&frames[1].owner, shm_owner(2, 3 | SHM_HANDOFF));
		atomic_store(&frames[2].owner, shm_owner(9, 5)); /* a session long gone */
		atomic_store(&slots[0].tenant, UINT64_C(1) << 32 | 1);
		atomic_store(&slots[1].handed, 1);
		atomic_store(&shared->waiters, 1);
		atomic_store(&shared->allocated, 3);
		atomic_store(&shared->peak, 3);
	}
	memcpy(input + sizeof(header), block, l.data_offset);
	write_seed("shm", file, input, sizeof(header) + l.data_offset);
}

/* ---- streams on a pool (fuzz-shm.c, byte 10 bit 7: the script it describes) ---- */

static void stream_seed(const char *file, const uint8_t *script, size_t n)
{
	/*
	 * 8 frames of 256 bytes, 4 slots; producer session 1, three consumers:
	 * BLOCK depth 4 max_held 4, DROP_OLDEST depth 2 max_held 2, LATEST.
	 */
	const uint8_t header[11] = { 7, 0xff, 0x00, 6, 3, 0x20, 0x6c, 0x26, 0x03, 0x00, 0x80 };
	static uint8_t input[sizeof(header) + 1024];

	if (n > sizeof(input) - sizeof(header))
		die("stream seed %s too long", file);
	memcpy(input, header, sizeof(header));
	memcpy(input + sizeof(header), script, n);
	write_seed("shm", file, input, sizeof(header) + n);
}

/* clang-format off */
static void stream_seeds(void)
{
	/* Frames flow, the format changes, the producer goes and comes back, a consumer goes. */
	static const uint8_t flow[] = {
		2, 100, 2, 101, 2, 102, 2, 103,		/* four publishes */
		3, 0, 3, 0, 3, 1, 3, 1, 3, 2, 3, 2,	/* receives */
		4, 0, 4, 0,				/* two releases */
		11, 5, 0, 'c', 'a', 'p', 's', '!',	/* a format */
		10, 0x00, 0x10,				/* the daemon's reads */
		2, 10, 2, 11, 7, 3, 0, 8, 2, 12, 3, 0,	/* the producer goes and comes back */
		5, 1, 6, 0x26, 2, 13, 9, 13, 14,	/* a consumer goes, another comes */
		12, 3, 0, 3, 0,				/* the end */
		15, 2, 1,				/* dropped, made again */
	};
	/* Words scribbled: a consumer's tail far behind its head, a ring entry, the journal. */
	static const uint8_t scribbled[] = {
		2, 1, 2, 2,
		1, 2, 1, 0x20, 0, 0xff, 0xff, 0xff, 0x7f,	/* consumer 1's tail */
		2, 3, 3, 1, 3, 0,
		1, 3, 0, 0, 0, 0x05, 0, 0, 0xc0,		/* consumer 0's first entry */
		1, 1, 0, 0x14, 0, 0x01, 0, 0, 0x00,		/* the journal: frame 1 */
		1, 1, 0, 0x15, 0, 0x00, 0, 0, 0x80,		/* at generation 1, valid */
		2, 4, 7, 10, 0, 1, 5, 0, 5, 1,
	};

	stream_seed("stream-flow", flow, sizeof(flow));
	stream_seed("stream-scribbled", scribbled, sizeof(scribbled));
}
/* clang-format on */

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s CORPUS_DIR SHIPPED_CONFIG\n", argv[0]);
		return 2;
	}
	corpus = argv[1];
	if (mkdir(corpus, 0755) < 0 && errno != EEXIST)
		die("mkdir %s: %m", corpus);
	wire_seeds();
	dispatch_seeds();
	config_seeds(argv[2]);
	shm_seed("fresh-block", false);
	shm_seed("busy-block", true);
	stream_seeds();
	return 0;
}
