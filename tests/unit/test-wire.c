/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/arena.h"
#include "proto/wire.h"
#include "tests/lib/ksalloc-check.h"

static int sv[2];

static void setup(void)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

static void teardown(void)
{
	close(sv[0]);
	close(sv[1]);
}

static size_t pack_status_request(uint8_t *buf, size_t size, uint32_t id, const char *name)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__GetStatusRequest get = KSALLOC__GET_STATUS_REQUEST__INIT;
	ssize_t n;

	get.name = (char *)name;
	req.id = id;
	req.body_case = KSALLOC__REQUEST__BODY_GET_STATUS;
	req.get_status = &get;
	n = wire_pack(&req.base, buf, size);
	ck_assert_int_gt(n, 0);
	return (size_t)n;
}

START_TEST(test_wire_round_trips_one_message_per_datagram)
{
	uint8_t buf[256], rx[256];
	struct arena arena;
	Ksalloc__Request *req;
	size_t len;
	ssize_t n;

	ck_assert_int_eq(arena_init(&arena, 4096), 0);
	for (uint32_t id = 1; id <= 3; id++) {
		len = pack_status_request(buf, sizeof(buf), id, "video");
		ck_assert_int_eq(wire_send(sv[0], buf, len, NULL, 0), 0);
	}
	for (uint32_t id = 1; id <= 3; id++) {
		n = wire_recv(sv[1], rx, sizeof(rx), NULL, 0, NULL, NULL);
		ck_assert_int_eq(n, (ssize_t)len);
		req = ksalloc__request__unpack(&arena.allocator, (size_t)n, rx);
		ck_assert_ptr_nonnull(req);
		ck_assert_uint_eq(req->id, id);
		ck_assert_int_eq(req->body_case, KSALLOC__REQUEST__BODY_GET_STATUS);
		ck_assert_str_eq(req->get_status->name, "video");
		arena_reset(&arena);
	}
	arena_deinit(&arena);
}
END_TEST

START_TEST(test_wire_pack_refuses_a_message_larger_than_the_buffer)
{
	uint8_t buf[8], big[64];
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__GetStatusRequest get = KSALLOC__GET_STATUS_REQUEST__INIT;

	get.name = "a-name-longer-than-eight-bytes";
	req.body_case = KSALLOC__REQUEST__BODY_GET_STATUS;
	req.get_status = &get;
	ck_assert_int_eq(wire_pack(&req.base, buf, sizeof(buf)), -EMSGSIZE);
	/* Exactly enough room is enough. */
	ck_assert_int_eq(wire_pack(&req.base, big, protobuf_c_message_get_packed_size(&req.base)),
			 (ssize_t)protobuf_c_message_get_packed_size(&req.base));
}
END_TEST

START_TEST(test_wire_recv_drops_an_oversized_datagram_whole)
{
	uint8_t big[1000], small[64], rx[100];
	size_t len;

	memset(big, 0x08, sizeof(big));
	ck_assert_int_eq(wire_send(sv[0], big, sizeof(big), NULL, 0), 0);
	len = pack_status_request(small, sizeof(small), 7, "audio");
	ck_assert_int_eq(wire_send(sv[0], small, len, NULL, 0), 0);

	ck_assert_int_eq(wire_recv(sv[1], rx, sizeof(rx), NULL, 0, NULL, NULL), -EMSGSIZE);
	/* The rest of the big one is gone: the next read is the next message. */
	ck_assert_int_eq(wire_recv(sv[1], rx, sizeof(rx), NULL, 0, NULL, NULL), (ssize_t)len);
	ck_assert_int_eq(memcmp(rx, small, len), 0);
}
END_TEST

START_TEST(test_wire_rejects_truncated_and_garbage_messages)
{
	static const uint8_t garbage[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					   0xff, 0xff, 0xff, 0xff, 0x01 };
	uint8_t buf[128];
	size_t len = pack_status_request(buf, sizeof(buf), 300, "a-long-enough-pool-name");
	Ksalloc__Request *req;

	/*
	 * Cut inside a field, a message does not decode. Cut between fields it
	 * does (protobuf cannot tell): after "id = 300" (3 bytes) it is a request
	 * with no body, which the daemon answers with E_NOTIMPL.
	 */
	for (size_t cut = 1; cut < len; cut++) {
		req = ksalloc__request__unpack(NULL, cut, buf);
		if (cut != 3) {
			ck_assert_msg(req == NULL, "cut at %zu decoded", cut);
			continue;
		}
		ck_assert_ptr_nonnull(req);
		ck_assert_uint_eq(req->id, 300);
		ck_assert_int_eq(req->body_case, KSALLOC__REQUEST__BODY__NOT_SET);
		ksalloc__request__free_unpacked(req, NULL);
	}
	ck_assert_ptr_null(ksalloc__request__unpack(NULL, sizeof(garbage), garbage));
}
END_TEST

START_TEST(test_wire_passes_fds_and_closes_the_ones_not_wanted)
{
	uint8_t msg[1] = { 0x08 }, rx[16];
	int pipes[2][2], got[1];
	size_t n_fds = 9, n_dropped = 9;
	char c;

	ck_assert_int_eq(pipe2(pipes[0], O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(pipes[1], O_CLOEXEC), 0);
	/* Send both write ends, then drop ours: only the receiver holds them now. */
	ck_assert_int_eq(wire_send(sv[0], msg, 1, (int[]){ pipes[0][1], pipes[1][1] }, 2), 0);
	close(pipes[0][1]);
	close(pipes[1][1]);

	ck_assert_int_eq(wire_recv(sv[1], rx, sizeof(rx), got, 1, &n_fds, &n_dropped), 1);
	ck_assert_uint_eq(n_fds, 1);
	ck_assert_uint_eq(n_dropped, 1);
	ck_assert_int_ne(fcntl(got[0], F_GETFD) & FD_CLOEXEC, 0);
	ck_assert_int_eq(write(got[0], "x", 1), 1);
	ck_assert_int_eq(read(pipes[0][0], &c, 1), 1);
	/* The dropped one was closed: its pipe reads end of file. */
	ck_assert_int_eq(read(pipes[1][0], &c, 1), 0);
	close(got[0]);
	close(pipes[0][0]);
	close(pipes[1][0]);
}
END_TEST

START_TEST(test_wire_recv_reports_hang_up_and_send_never_raises_sigpipe)
{
	uint8_t rx[16];

	signal(SIGPIPE, SIG_DFL);
	close(sv[0]);
	ck_assert_int_eq(wire_recv(sv[1], rx, sizeof(rx), NULL, 0, NULL, NULL), 0);
	ck_assert_int_eq(wire_send(sv[1], rx, 1, NULL, 0), -EPIPE);
	sv[0] = open("/dev/null", O_RDONLY | O_CLOEXEC); /* for teardown */
}
END_TEST

START_TEST(test_wire_recv_on_an_empty_nonblocking_socket_is_eagain)
{
	uint8_t rx[16];

	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	ck_assert_int_eq(wire_recv(sv[1], rx, sizeof(rx), NULL, 0, NULL, NULL), -EAGAIN);
}
END_TEST

START_TEST(test_arena_spills_large_allocations_and_reset_frees_them)
{
	struct arena a;
	uint8_t *small, *large;

	ck_assert_int_eq(arena_init(&a, 128), 0);
	small = arena_alloc(&a, 100);
	ck_assert_ptr_nonnull(small);
	large = arena_alloc(&a, 10000);
	ck_assert_ptr_nonnull(large);
	memset(large, 1, 10000);
	for (int i = 0; i < 100; i++)
		ck_assert_uint_eq(small[i], 0);
	arena_reset(&a);
	/* After a reset the first block is reused from its start. */
	ck_assert_ptr_eq(arena_alloc(&a, 8), small);
	arena_deinit(&a);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_create("codec");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_wire_round_trips_one_message_per_datagram);
	tcase_add_test(tc, test_wire_pack_refuses_a_message_larger_than_the_buffer);
	tcase_add_test(tc, test_wire_recv_drops_an_oversized_datagram_whole);
	tcase_add_test(tc, test_wire_rejects_truncated_and_garbage_messages);
	tcase_add_test(tc, test_wire_passes_fds_and_closes_the_ones_not_wanted);
	tcase_add_test(tc, test_wire_recv_reports_hang_up_and_send_never_raises_sigpipe);
	tcase_add_test(tc, test_wire_recv_on_an_empty_nonblocking_socket_is_eagain);
	tcase_add_test(tc, test_arena_spills_large_allocations_and_reset_frees_them);
	suite_add_tcase(s, tc);
	return ksalloc_check_run(s);
}
