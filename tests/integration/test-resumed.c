/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The library's side of a restart under systemd's fd store: a daemon that took
 * the connection over says so (Reply.resumed), and the request the daemon
 * before it had read and never answered is sent again, so the call is
 * answered instead of timing out. Played by a fake daemon on a temporary
 * socket, which reads the request, does not answer it, says "resumed", and
 * answers only the request sent again.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <ksalloc/ksalloc.h>

#include "proto/protocol.h"
#include "tests/lib/files.h"
#include "tests/lib/ksalloc-check.h"

struct fake {
	int listen_fd;
	char path[108];
	unsigned requests_seen; /* get_status requests read */
	bool skipped_one;       /* the first was read and left unanswered */
};

static Ksalloc__Request *receive(int fd, uint8_t *buf, size_t size)
{
	ssize_t n = recv(fd, buf, size, 0);

	return n > 0 ? ksalloc__request__unpack(NULL, (size_t)n, buf) : NULL;
}

static void send_reply(int fd, Ksalloc__Reply *reply)
{
	uint8_t buf[512];
	size_t len = ksalloc__reply__pack(reply, buf);

	(void)send(fd, buf, len, MSG_NOSIGNAL);
}

static void *fake_daemon(void *data)
{
	struct fake *f = data;
	uint8_t buf[4096];
	Ksalloc__Request *req;
	int fd = accept(f->listen_fd, NULL, NULL);

	while (fd >= 0 && (req = receive(fd, buf, sizeof(buf)))) {
		Ksalloc__Reply reply = KSALLOC__REPLY__INIT;
		Ksalloc__HelloReply hello = KSALLOC__HELLO_REPLY__INIT;
		Ksalloc__Limits limits = KSALLOC__LIMITS__INIT;
		Ksalloc__GetStatusReply status = KSALLOC__GET_STATUS_REPLY__INIT;
		Ksalloc__Framing framing = KSALLOC__FRAMING__INIT;
		Ksalloc__Resumed resumed = KSALLOC__RESUMED__INIT;

		reply.id = req->id;
		if (req->body_case == KSALLOC__REQUEST__BODY_HELLO) {
			limits.max_message_size = WIRE_DEFAULT_MAX_MESSAGE;
			hello.protocol_version = WIRE_PROTOCOL_VERSION;
			hello.session_id = 7;
			hello.limits = &limits;
			reply.body_case = KSALLOC__REPLY__BODY_HELLO;
			reply.hello = &hello;
		} else if (req->body_case == KSALLOC__REQUEST__BODY_GET_STATUS && !f->skipped_one) {
			/* The daemon "dies" with the request read: its successor says so. */
			f->requests_seen++;
			f->skipped_one = true;
			reply.id = 0;
			reply.body_case = KSALLOC__REPLY__BODY_RESUMED;
			reply.resumed = &resumed;
		} else if (req->body_case == KSALLOC__REQUEST__BODY_GET_STATUS) {
			f->requests_seen++;
			framing.frames = 3;
			framing.frame_size = 4096;
			status.framing = &framing;
			status.allocated_frames = 2;
			reply.body_case = KSALLOC__REPLY__BODY_GET_STATUS;
			reply.get_status = &status;
		}
		send_reply(fd, &reply);
		ksalloc__request__free_unpacked(req, NULL);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

START_TEST(test_request_read_by_a_dying_daemon_is_sent_again)
{
	struct ksalloc_client_options opts;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ksalloc_client *c;
	struct ksalloc_status st;
	struct fake f = { 0 };
	char dir[64];
	pthread_t thread;

	ck_assert_int_eq(test_dir_new("ksalloc-resumed", dir, sizeof(dir)), 0);
	snprintf(f.path, sizeof(f.path), "%s/fake.sock", dir);
	strcpy(sa.sun_path, f.path);
	f.listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(f.listen_fd, 0);
	ck_assert_int_eq(bind(f.listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(f.listen_fd, 1), 0);
	ck_assert_int_eq(pthread_create(&thread, NULL, fake_daemon, &f), 0);

	ksalloc_client_options_init(&opts);
	opts.socket_path = f.path;
	ck_assert_int_eq(ksalloc_client_open(&opts, &c), 0);
	/* Answered, not timed out: the request went twice and the second was answered. */
	ck_assert_int_eq(ksalloc_client_pool_status(c, "video", &st), 0);
	ck_assert_uint_eq(st.framing.frames, 3);
	ck_assert_uint_eq(st.allocated_frames, 2);
	ksalloc_client_close(c);
	pthread_join(thread, NULL);
	ck_assert_uint_eq(f.requests_seen, 2);
	close(f.listen_fd);
	test_dir_remove(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("resumed");
	TCase *tc = tcase_create("resumed");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_request_read_by_a_dying_daemon_is_sent_again);
	suite_add_tcase(s, tc);
	return ksalloc_check_run(s);
}
