/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-wire: the wire decoder. The input is one datagram, decoded as a
 * ksalloc.Request (what the daemon does with every datagram, connection.c) and as
 * a ksalloc.Reply (what the client library does with every answer), each with
 * the arena allocator the daemon uses and with protobuf-c's default one.
 *
 * Whatever decodes must pack again, and the packed bytes must decode and pack
 * to the same bytes (a round trip): what the daemon accepts it can also
 * describe, and what it sends the client can read.
 *
 * The hand-written status codec (fastpath.c) must agree with protobuf-c: a
 * datagram it parses, protobuf-c decodes to the same request or reply (it may
 * leave any datagram to protobuf-c, never read one differently), and what it
 * packs, from values taken from the input, is protobuf-c's packing to the byte.
 *
 * The datagram also goes through a socketpair, with wire_send() and
 * wire_recv(), carrying 0 to 3 fds (the first byte's bits 0-1) to a receiver
 * that keeps 0 to 3 of them (bits 2-3) into a buffer of its size or one byte
 * short (bit 4): the bytes arrive whole or the datagram is refused, and every
 * fd is either handed over or closed.
 */
#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "proto/arena.h"
#include "proto/fastpath.h"
#include "fuzz/fuzz.h"
#include "proto/validate.h"
#include "proto/wire.h"

/* Small, so that larger messages take the arena's spill path too. */
#define ARENA_BYTES 512

static struct arena arena;
static int sv[2]; /* a connected SOCK_SEQPACKET pair, empty between inputs */
static uint8_t rx[1 << 20];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int sndbuf = 4 << 20;

	fuzz_keep_stderr();
	fuzz_check(arena_init(&arena, ARENA_BYTES) == 0, "arena_init");
	fuzz_check(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	/* Room for the largest input libFuzzer makes with -max_len up to 1 MiB. */
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	return 0;
}

/* The datagram through wire_send() and wire_recv(), with fds attached. */
static void through_socket(const uint8_t *data, size_t size)
{
	uint8_t how = size ? data[0] : 0;
	size_t n_fds = how & 3, max_fds = (how >> 2) & 3, n_got = 99, n_dropped = 99;
	bool short_buffer = size > 0 && (how & 0x10);
	size_t buf_size = short_buffer ? size - 1 : size;
	int fds[3], got[3];
	ssize_t n;
	int r;

	if (size > sizeof(rx))
		return;
	for (size_t i = 0; i < n_fds; i++) {
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		fuzz_check(fds[i] >= 0, "open /dev/null");
	}
	r = wire_send(sv[0], data, size, fds, n_fds);
	/* The kernel dup'ed them into the message: ours are still ours. */
	wire_close_fds(fds, n_fds);
	if (r == -EMSGSIZE || r == -ENOBUFS)
		return; /* larger than the socket takes: nothing was queued */
	fuzz_check(r == 0, "wire_send of %zu bytes: %s", size, strerror(-r));

	n = wire_recv(sv[1], rx, buf_size, got, max_fds, &n_got, &n_dropped);
	fuzz_check(n_got + n_dropped == n_fds, "%zu fds sent, %zu kept and %zu closed", n_fds,
		   n_got, n_dropped);
	if (size == 0) {
		/* Linux cannot tell an empty datagram from a hang-up. */
		fuzz_check(n == 0, "empty datagram: %zd", n);
	} else if (short_buffer) {
		fuzz_check(n == -EMSGSIZE && n_got == 0, "%zu bytes into %zu: %zd, %zu fds kept",
			   size, buf_size, n, n_got);
	} else {
		fuzz_check(n == (ssize_t)size && memcmp(rx, data, size) == 0,
			   "%zu bytes sent, %zd received", size, n);
		fuzz_check(n_got == (n_fds < max_fds ? n_fds : max_fds), "%zu fds of %zu kept",
			   n_got, n_fds);
	}
	for (size_t i = 0; i < n_got; i++)
		fuzz_check(fcntl(got[i], F_GETFD) == FD_CLOEXEC, "received fd %d not CLOEXEC",
			   got[i]);
	wire_close_fds(got, n_got);
}

/*
 * protobuf-c (1.4.1) refuses field number 0 only when its tag is one byte: a
 * longer encoding of it (0x80 0x00) decodes as an unknown field, which then
 * packs as the one-byte tag 0 that it refuses. Nothing of ksalloc packs a
 * decoded message's unknown fields (the daemon builds every reply afresh, the
 * client never sends back what it got), so these are taken out before the
 * round trip, which then holds for everything else, unknown fields included.
 * @heap: the message was unpacked with malloc, so its fields' bytes are freed.
 */
static void drop_field_zero(ProtobufCMessage *m, bool heap)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	unsigned kept = 0;

	for (unsigned i = 0; i < m->n_unknown_fields; i++) {
		if (m->unknown_fields[i].tag != 0)
			m->unknown_fields[kept++] = m->unknown_fields[i];
		else if (heap)
			free(m->unknown_fields[i].data);
	}
	m->n_unknown_fields = kept;

	for (unsigned f = 0; f < d->n_fields; f++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[f];
		char *at = (char *)m + fd->offset;

		if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(size_t *)((char *)m + fd->quantifier_offset);
			ProtobufCMessage **items = *(ProtobufCMessage ***)at;

			for (size_t k = 0; k < n; k++)
				drop_field_zero(items[k], heap);
		} else if (*(ProtobufCMessage **)at) {
			/* A oneof member that is not the chosen one shares the chosen one's pointer. */
			if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
			    *(uint32_t *)((char *)m + fd->quantifier_offset) != fd->id)
				continue;
			drop_field_zero(*(ProtobufCMessage **)at, heap);
		}
	}
}

/* Packs @m into a malloc'ed buffer, checking wire_pack() against the packed size. */
static uint8_t *pack(const ProtobufCMessage *m, size_t *ret_len)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);
	ssize_t n;

	fuzz_check(buf, "out of memory");
	if (len > 0)
		fuzz_check(wire_pack(m, buf, len - 1) == -EMSGSIZE,
			   "wire_pack into %zu bytes of a %zu-byte message did not refuse", len - 1,
			   len);
	n = wire_pack(m, buf, len);
	fuzz_check(n == (ssize_t)len, "wire_pack gave %zd bytes, packed size is %zu", n, len);
	*ret_len = len;
	return buf;
}

static void round_trip(const ProtobufCMessageDescriptor *d, const uint8_t *data, size_t size)
{
	ProtobufCMessage *in_arena, *in_heap, *again;
	uint8_t *bytes, *bytes_arena, *bytes_again;
	size_t len, len_arena, len_again;

	in_arena = protobuf_c_message_unpack(d, &arena.allocator, size, data);
	in_heap = protobuf_c_message_unpack(d, NULL, size, data);
	fuzz_check(!in_arena == !in_heap, "%s: the arena and malloc decode %s", d->name,
		   in_arena ? "it and do not" : "do not and malloc does");
	if (!in_heap) {
		arena_reset(&arena);
		return;
	}
	fuzz_check(protobuf_c_message_check(in_heap), "%s: decoded but fails its own check",
		   d->name);
	drop_field_zero(in_heap, true);
	drop_field_zero(in_arena, false);

	bytes = pack(in_heap, &len);
	bytes_arena = pack(in_arena, &len_arena);
	fuzz_check(len == len_arena && memcmp(bytes, bytes_arena, len) == 0,
		   "%s: the arena's copy packs differently", d->name);

	again = protobuf_c_message_unpack(d, NULL, len, bytes);
	fuzz_check(again, "%s: its own packing (%zu bytes) does not decode", d->name, len);
	bytes_again = pack(again, &len_again);
	fuzz_check(len == len_again && memcmp(bytes, bytes_again, len) == 0,
		   "%s: packing is not a fixed point (%zu then %zu bytes)", d->name, len,
		   len_again);

	free(bytes_again);
	protobuf_c_message_free_unpacked(again, NULL);
	free(bytes_arena);
	free(bytes);
	protobuf_c_message_free_unpacked(in_heap, NULL);
	/* As connection.c: nothing unpacked into the arena outlives its datagram. */
	arena_reset(&arena);
}

/* A datagram the fast path parses is the request protobuf-c decodes, field for field. */
static void fast_request_agrees(const uint8_t *data, size_t size)
{
	uint32_t id, pool_id;
	Ksalloc__Request *req;

	if (!fastpath_parse_status_request(data, size, &id, &pool_id))
		return;
	req = ksalloc__request__unpack(NULL, size, data);
	fuzz_check(req, "the fast path parses a request that protobuf-c refuses");
	fuzz_check(req->body_case == KSALLOC__REQUEST__BODY_GET_STATUS && req->id == id &&
			   req->get_status->pool_id == pool_id && !req->get_status->name[0] &&
			   !req->get_status->extended && req->base.n_unknown_fields == 0 &&
			   req->get_status->base.n_unknown_fields == 0,
		   "the fast path reads status(id %u, pool %u), protobuf-c body %d id %u", id,
		   pool_id, (int)req->body_case, req->id);
	ksalloc__request__free_unpacked(req, NULL);
}

static void fast_reply_agrees(const uint8_t *data, size_t size)
{
	const Ksalloc__GetStatusReply *st;
	Ksalloc__Reply *reply;
	uint32_t id, allocated;
	struct framing f, g = { 0 };

	if (!fastpath_parse_status_reply(data, size, &id, &f, &allocated))
		return;
	reply = ksalloc__reply__unpack(NULL, size, data);
	fuzz_check(reply, "the fast path parses a reply that protobuf-c refuses");
	fuzz_check(reply->body_case == KSALLOC__REPLY__BODY_GET_STATUS && reply->id == id &&
			   reply->hresult == 0 && !reply->message[0] &&
			   reply->base.n_unknown_fields == 0,
		   "the fast path reads a status reply, protobuf-c body %d id %u hresult 0x%x",
		   (int)reply->body_case, reply->id, (unsigned)reply->hresult);
	st = reply->get_status;
	if (st->framing)
		g = (struct framing){ st->framing->options_flags, st->framing->pool_type,
				      st->framing->frames, st->framing->frame_size,
				      st->framing->file_alignment };
	fuzz_check(memcmp(&f, &g, sizeof(f)) == 0 && allocated == st->allocated_frames,
		   "the fast path reads framing %u/%u/%u/%u/%u allocated %u, protobuf-c "
		   "%u/%u/%u/%u/%u allocated %u",
		   f.options_flags, f.pool_type, f.frames, f.frame_size, f.file_alignment,
		   allocated, g.options_flags, g.pool_type, g.frames, g.frame_size,
		   g.file_alignment, st->allocated_frames);
	/* Nothing of the extended status: the fast path would drop it. */
	fuzz_check(!st->free_frames && !st->peak_frames && !st->waiters && !st->acquisitions &&
			   !st->timeouts && !st->reclaimed && !st->committed && !st->backend[0] &&
			   !st->n_holders && !st->sessions && !st->last_reclaim_ns &&
			   !st->last_reclaim_frames && !st->base.n_unknown_fields &&
			   (!st->framing || !st->framing->base.n_unknown_fields),
		   "the fast path parses a status reply with more in it");
	ksalloc__reply__free_unpacked(reply, NULL);
}

/* What the fast path packs from values of the input is protobuf-c's packing, and parses back. */
static void fast_packs_agree(const uint8_t *data, size_t size)
{
	struct fuzz_reader in = { data, size };
	uint32_t id = fuzz_u32(&in), pool_id = fuzz_u32(&in), allocated = fuzz_u32(&in);
	uint32_t got_id, got_pool, got_allocated;
	struct framing f, got_f;
	uint8_t a[128], b[128];
	ssize_t la, lb;

	f = (struct framing){ fuzz_u32(&in), fuzz_u32(&in), fuzz_u32(&in), fuzz_u32(&in),
			      fuzz_u32(&in) };
	{
		Ksalloc__Request req = KSALLOC__REQUEST__INIT;
		Ksalloc__GetStatusRequest get = KSALLOC__GET_STATUS_REQUEST__INIT;

		req.id = id;
		get.pool_id = pool_id;
		req.body_case = KSALLOC__REQUEST__BODY_GET_STATUS;
		req.get_status = &get;
		la = wire_pack(&req.base, a, sizeof(a));
		lb = fastpath_pack_status_request(b, sizeof(b), id, pool_id);
		fuzz_check(la > 0 && la == lb && memcmp(a, b, (size_t)la) == 0,
			   "status request (id %u, pool %u): protobuf-c %zd bytes, fast path %zd",
			   id, pool_id, la, lb);
		fuzz_check(fastpath_pack_status_request(b, (size_t)lb - 1, id, pool_id) ==
				   -EMSGSIZE,
			   "status request packed into too small a buffer");
		/* By name (pool 0) is protobuf-c's to decode. */
		fuzz_check(fastpath_parse_status_request(b, (size_t)lb, &got_id, &got_pool) ==
					   (pool_id != 0) &&
				   (!pool_id || (got_id == id && got_pool == pool_id)),
			   "status request (id %u, pool %u) does not parse back", id, pool_id);
	}
	{
		Ksalloc__Reply reply = KSALLOC__REPLY__INIT;
		Ksalloc__GetStatusReply get = KSALLOC__GET_STATUS_REPLY__INIT;
		Ksalloc__Framing w = KSALLOC__FRAMING__INIT;

		w.options_flags = f.options_flags;
		w.pool_type = f.pool_type;
		w.frames = f.frames;
		w.frame_size = f.frame_size;
		w.file_alignment = f.file_alignment;
		get.framing = &w;
		get.allocated_frames = allocated;
		reply.id = id;
		reply.body_case = KSALLOC__REPLY__BODY_GET_STATUS;
		reply.get_status = &get;
		la = wire_pack(&reply.base, a, sizeof(a));
		lb = fastpath_pack_status_reply(b, sizeof(b), id, &f, allocated);
		fuzz_check(la > 0 && la == lb && memcmp(a, b, (size_t)la) == 0,
			   "status reply: protobuf-c %zd bytes, fast path %zd", la, lb);
		fuzz_check(fastpath_parse_status_reply(b, (size_t)lb, &got_id, &got_f,
						       &got_allocated) &&
				   got_id == id && got_allocated == allocated &&
				   memcmp(&got_f, &f, sizeof(f)) == 0,
			   "status reply does not parse back");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int lowest_fd = fuzz_lowest_free_fd();

	round_trip(&ksalloc__request__descriptor, data, size);
	round_trip(&ksalloc__reply__descriptor, data, size);
	/* Any bytes at all: transport looks for NULs in every request that decodes. */
	(void)validate_find_nul_string(&ksalloc__request__descriptor, data, size);
	fast_request_agrees(data, size);
	fast_reply_agrees(data, size);
	fast_packs_agree(data, size);
	through_socket(data, size);
	fuzz_check(fuzz_lowest_free_fd() == lowest_fd, "an fd leaked");
	return 0;
}
