/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hand-written status codec must be protobuf-c's wire format to the
 * byte: both directions, for values of every varint length and for zeros
 * (which proto3 leaves out), and it must leave every other shape alone.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/fastpath.h"
#include "tests/lib/ksalloc-check.h"
#include "proto/wire.h"

/* Values that cover each varint length and the proto3 default. */
static uint32_t sample(unsigned *seed)
{
	static const uint32_t edges[] = { 0,       1,       127,       128,       16383,     16384,
					  2097151, 2097152, 268435455, 268435456, UINT32_MAX };
	unsigned pick = (unsigned)rand_r(seed);

	if (pick % 3)
		return edges[pick % (sizeof(edges) / sizeof(edges[0]))];
	return (uint32_t)rand_r(seed) << 16 ^ (uint32_t)rand_r(seed);
}

START_TEST(test_fastpath_request_is_protobuf_c_to_the_byte)
{
	unsigned seed = 1;

	for (int i = 0; i < 20000; i++) {
		Ksalloc__Request req = KSALLOC__REQUEST__INIT;
		Ksalloc__GetStatusRequest get = KSALLOC__GET_STATUS_REQUEST__INIT;
		uint8_t a[128], b[128];
		uint32_t id, pool_id;
		ssize_t la, lb;

		req.id = sample(&seed);
		get.pool_id = sample(&seed) | 1;
		req.body_case = KSALLOC__REQUEST__BODY_GET_STATUS;
		req.get_status = &get;
		la = wire_pack(&req.base, a, sizeof(a));
		lb = fastpath_pack_status_request(b, sizeof(b), req.id, get.pool_id);
		ck_assert_int_eq(la, lb);
		ck_assert_int_eq(memcmp(a, b, (size_t)la), 0);
		ck_assert(fastpath_parse_status_request(a, (size_t)la, &id, &pool_id));
		ck_assert_uint_eq(id, req.id);
		ck_assert_uint_eq(pool_id, get.pool_id);
	}
}
END_TEST

START_TEST(test_fastpath_reply_is_protobuf_c_to_the_byte)
{
	unsigned seed = 2;

	for (int i = 0; i < 20000; i++) {
		Ksalloc__Reply reply = KSALLOC__REPLY__INIT;
		Ksalloc__GetStatusReply get = KSALLOC__GET_STATUS_REPLY__INIT;
		Ksalloc__Framing wf = KSALLOC__FRAMING__INIT;
		struct framing f = {
			.options_flags = sample(&seed), .pool_type = sample(&seed),
			.frames = sample(&seed), .frame_size = sample(&seed),
			.file_alignment = sample(&seed),
		}, back;
		uint8_t a[128], b[128];
		uint32_t id, allocated;
		ssize_t la, lb;

		wf.options_flags = f.options_flags;
		wf.pool_type = f.pool_type;
		wf.frames = f.frames;
		wf.frame_size = f.frame_size;
		wf.file_alignment = f.file_alignment;
		get.framing = &wf;
		get.allocated_frames = sample(&seed);
		reply.id = sample(&seed);
		reply.body_case = KSALLOC__REPLY__BODY_GET_STATUS;
		reply.get_status = &get;
		la = wire_pack(&reply.base, a, sizeof(a));
		lb = fastpath_pack_status_reply(b, sizeof(b), reply.id, &f, get.allocated_frames);
		ck_assert_int_eq(la, lb);
		ck_assert_int_eq(memcmp(a, b, (size_t)la), 0);
		ck_assert(fastpath_parse_status_reply(a, (size_t)la, &id, &back, &allocated));
		ck_assert_uint_eq(id, reply.id);
		ck_assert_uint_eq(allocated, get.allocated_frames);
		ck_assert_int_eq(memcmp(&back, &f, sizeof(f)), 0);
	}
}
END_TEST

static size_t pack(const ProtobufCMessage *m, uint8_t *buf)
{
	ssize_t n = wire_pack(m, buf, 256);

	ck_assert_int_gt(n, 0);
	return (size_t)n;
}

START_TEST(test_fastpath_leaves_every_other_shape_to_protobuf_c)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__GetStatusRequest get = KSALLOC__GET_STATUS_REQUEST__INIT;
	Ksalloc__Reply reply = KSALLOC__REPLY__INIT;
	Ksalloc__GetStatusReply st = KSALLOC__GET_STATUS_REPLY__INIT;
	Ksalloc__Framing wf = KSALLOC__FRAMING__INIT;
	struct framing f;
	uint8_t buf[256];
	uint32_t id, pool_id, allocated;
	size_t n;

	req.id = 5;
	req.body_case = KSALLOC__REQUEST__BODY_GET_STATUS;
	req.get_status = &get;
	get.name = "video"; /* by name */
	n = pack(&req.base, buf);
	ck_assert(!fastpath_parse_status_request(buf, n, &id, &pool_id));
	get.name = "";
	get.pool_id = 7;
	get.extended = true;
	n = pack(&req.base, buf);
	ck_assert(!fastpath_parse_status_request(buf, n, &id, &pool_id));
	get.extended = false;
	n = pack(&req.base, buf);
	ck_assert(fastpath_parse_status_request(buf, n, &id, &pool_id));
	/* Cut anywhere: not taken (protobuf-c then says what is wrong). */
	for (size_t cut = 0; cut < n; cut++)
		ck_assert(!fastpath_parse_status_request(buf, cut, &id, &pool_id));
	buf[0] = 0x10; /* another field */
	ck_assert(!fastpath_parse_status_request(buf, n, &id, &pool_id));

	/* An error reply (hresult, message) and an extended status are not taken. */
	reply.id = 5;
	reply.hresult = (int32_t)0x80070002;
	reply.message = "no pool";
	n = pack(&reply.base, buf);
	ck_assert(!fastpath_parse_status_reply(buf, n, &id, &f, &allocated));
	reply.hresult = 0;
	reply.message = "";
	reply.body_case = KSALLOC__REPLY__BODY_GET_STATUS;
	reply.get_status = &st;
	st.framing = &wf;
	st.free_frames = 3;
	n = pack(&reply.base, buf);
	ck_assert(!fastpath_parse_status_reply(buf, n, &id, &f, &allocated));
	/* A varint that runs off the end. */
	ck_assert(!fastpath_parse_status_reply((const uint8_t[]){ 0x08, 0xff, 0xff }, 3, &id, &f,
					       &allocated));
	/* Framing twice (found by fuzz-wire): the wire merges them, protobuf-c its own way. */
	ck_assert(!fastpath_parse_status_reply((const uint8_t[]){ 0x6a, 0x08, 0x0a, 0x02, 0x18,
								  0x10, 0x0a, 0x02, 0x20, 0x10 },
					       10, &id, &f, &allocated));
	ck_assert(fastpath_parse_status_reply(
		(const uint8_t[]){ 0x6a, 0x04, 0x0a, 0x02, 0x18, 0x10 }, 6, &id, &f, &allocated));
	ck_assert_uint_eq(f.frames, 16);
	ck_assert_int_eq(fastpath_pack_status_request(buf, 3, 300, 300), -EMSGSIZE);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fastpath");
	TCase *tc = tcase_create("codec");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_fastpath_request_is_protobuf_c_to_the_byte);
	tcase_add_test(tc, test_fastpath_reply_is_protobuf_c_to_the_byte);
	tcase_add_test(tc, test_fastpath_leaves_every_other_shape_to_protobuf_c);
	suite_add_tcase(s, tc);
	return ksalloc_check_run(s);
}
