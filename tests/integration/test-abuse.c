/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hostile and broken clients. In every test a well-behaved client keeps
 * querying and using a pool of its own throughout, and must get correct
 * answers all along; afterwards the daemon's open fds are back where they
 * started.
 */
#include <check.h>
#include <dirent.h>
#include <grp.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ksalloc/ksalloc.h>

#include "tests/lib/harness.h"
#include "tests/lib/ksalloc-check.h"
#include "shm/frame.h"
#include "proto/wire.h"

static const char config[] = "[daemon]\n"
			     "max_sessions = 32\n"
			     "max_sessions_per_uid = 24\n"
			     "max_frames_per_session = 3\n"
			     "max_pools_per_uid = 2\n"
			     "max_pool_bytes_per_uid = 1M\n"
			     "[pool calm]\nframes = 2\nframe_size = 4096\nmode = 0666\n"
			     "[pool busy]\nframes = 8\nframe_size = 4096\nmode = 0666\n"
			     "[pool other]\nframes = 8\nframe_size = 4096\nmode = 0666\n";

static struct test_daemon daemon_;
static pid_t watcher;
static int watcher_stop = -1;
static int baseline_fds;

/*
 * The well-behaved client: status and a frame of pool "calm" in a loop, each
 * answer checked, until its pipe closes. Exits 0 if every answer was right.
 */
static int watch(int stop_fd, int ready_fd)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	unsigned long rounds = 0;

	if (ksalloc_client_open(NULL, &c) < 0 || ksalloc_pool_open(c, "calm", &p) < 0)
		return 10;
	for (;;) {
		struct pollfd pfd = { .fd = stop_fd, .events = POLLIN };
		struct ksalloc_status st;
		struct ksalloc_frame f;

		if (poll(&pfd, 1, 0) > 0)
			break;
		if (ksalloc_pool_status(p, &st) < 0 || st.framing.frames != 2 ||
		    st.framing.frame_size != 4096)
			return 11;
		if (ksalloc_pool_acquire(p, 5000, &f) < 0)
			return 12;
		memset(f.data, (int)rounds, 64);
		if (ksalloc_pool_release(p, &f) < 0)
			return 13;
		/* Up and answered once: the test may start abusing. */
		if (rounds++ == 0 && write(ready_fd, "r", 1) != 1)
			return 15;
	}
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	return rounds > 0 ? 0 : 14;
}

static void start(void)
{
	int stop[2], ready[2];
	char byte;

	test_daemon_up(&daemon_, config);
	ck_assert_int_eq(pipe2(stop, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	watcher = fork();
	if (watcher == 0) {
		close(stop[1]);
		close(ready[0]);
		_exit(watch(stop[0], ready[1]));
	}
	close(stop[0]);
	close(ready[1]);
	watcher_stop = stop[1];
	ck_assert_int_eq(read(ready[0], &byte, 1), 1);
	close(ready[0]);
	/*
	 * The watcher's session is part of the baseline: wait until it is in. Our
	 * own session, there while we count, is one fd that is not.
	 */
	for (;;) {
		struct ksalloc_session_info *s;
		struct ksalloc_client *c;
		size_t n = 0;

		ck_assert_int_eq(ksalloc_client_open(NULL, &c), 0);
		ck_assert_int_eq(ksalloc_client_list_sessions(c, &s, &n), 0);
		free(s);
		if (n == 2)
			baseline_fds = test_daemon_count_fds(&daemon_) - 1;
		ksalloc_client_close(c);
		if (n == 2)
			break;
		sched_yield();
	}
}

/* The daemon closes what abusers leave behind as it notices: wait for its fds to come back. */
static void fds_back_to_baseline(void)
{
	test_daemon_wait_fds(&daemon_, baseline_fds);
}

static void stop(void)
{
	int status;

	fds_back_to_baseline();
	close(watcher_stop);
	ck_assert_int_eq(waitpid(watcher, &status, 0), watcher);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "the well-behaved client failed: status 0x%x", status);
	test_daemon_down(&daemon_);
}

static int raw_socket(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 10 };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	strcpy(sa.sun_path, daemon_.socket_path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* ---- bytes ------------------------------------------------------------------------- */

START_TEST(test_random_datagrams_get_error_replies)
{
	unsigned seed = 7;
	uint8_t buf[4096], reply[65536];

	start();
	for (int conn = 0; conn < 20; conn++) {
		int fd = raw_socket();

		for (int i = 0; i < 50; i++) {
			size_t len = 1 + rand_r(&seed) % sizeof(buf);
			ssize_t n;

			for (size_t k = 0; k < len; k++)
				buf[k] = (uint8_t)rand_r(&seed);
			if (send(fd, buf, len, MSG_NOSIGNAL) < 0)
				break;
			/* An answer or a hang-up, never silence. */
			n = recv(fd, reply, sizeof(reply), 0);
			ck_assert_int_ge(n, 0);
			if (n == 0)
				break;
			Ksalloc__Reply *r = ksalloc__reply__unpack(NULL, (size_t)n, reply);

			ck_assert_ptr_nonnull(r);
			ksalloc__reply__free_unpacked(r, NULL);
		}
		close(fd);
	}
	stop();
}
END_TEST

START_TEST(test_empty_truncated_and_oversized_datagrams)
{
	static uint8_t huge[200000];
	uint8_t reply[65536], hello[64];
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__HelloRequest h = KSALLOC__HELLO_REQUEST__INIT;
	size_t len;
	int fd;

	start();
	h.protocol_version = 1;
	h.client_name = "truncated";
	req.id = 1;
	req.body_case = KSALLOC__REQUEST__BODY_HELLO;
	req.hello = &h;
	len = ksalloc__request__pack(&req, hello);

	/* Truncated at every length: each gets a reply, or (cut after the id) E_NOTIMPL. */
	fd = raw_socket();
	for (size_t cut = 1; cut < len; cut++) {
		ck_assert_int_eq(send(fd, hello, cut, 0), (ssize_t)cut);
		ck_assert_int_gt(recv(fd, reply, sizeof(reply), 0), 0);
	}
	/* Oversized: dropped with a reply. */
	ck_assert_int_eq(send(fd, huge, sizeof(huge), 0), (ssize_t)sizeof(huge));
	ck_assert_int_gt(recv(fd, reply, sizeof(reply), 0), 0);
	/* Empty: Linux cannot tell it from a hang-up, so the daemon hangs up. */
	ck_assert_int_eq(send(fd, hello, 0, 0), 0);
	ck_assert_int_eq(recv(fd, reply, sizeof(reply), 0), 0);
	close(fd);
	stop();
}
END_TEST

START_TEST(test_client_that_never_reads_is_closed_after_its_queue)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__HelloRequest h = KSALLOC__HELLO_REQUEST__INIT;
	Ksalloc__GetStatusRequest get = KSALLOC__GET_STATUS_REQUEST__INIT;
	uint8_t buf[256];
	size_t len;
	int fd, sent = 0;
	char *log;

	start();
	fd = raw_socket();
	h.protocol_version = 1;
	req.body_case = KSALLOC__REQUEST__BODY_HELLO;
	req.hello = &h;
	len = ksalloc__request__pack(&req, buf);
	ck_assert_int_eq(send(fd, buf, len, 0), (ssize_t)len);
	get.name = "calm";
	get.extended = true; /* larger replies fill the socket sooner */
	req.body_case = KSALLOC__REQUEST__BODY_GET_STATUS;
	req.get_status = &get;
	len = ksalloc__request__pack(&req, buf);
	/* Send until the daemon hangs up on us: its queue is bounded. */
	for (;;) {
		if (send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN) {
				struct pollfd p = { .fd = fd, .events = POLLOUT };

				ck_assert_int_ge(poll(&p, 1, 30000), 1);
				if (p.revents & (POLLHUP | POLLERR))
					break;
				continue;
			}
			ck_assert_msg(errno == EPIPE || errno == ECONNRESET, "%s", strerror(errno));
			break;
		}
		sent++;
		ck_assert_int_lt(sent, 1000000);
	}
	close(fd);
	fds_back_to_baseline();
	log = test_daemon_log(&daemon_);
	ck_assert_msg(strstr(log, "replies unread; closing it"), "%s", log);
	free(log);
	stop();
}
END_TEST

/* ---- limits ------------------------------------------------------------------------ */

START_TEST(test_connections_beyond_the_limits_are_refused_with_a_reason)
{
	struct ksalloc_client *c[40];
	int n = 0, r = 0;

	start();
	/* As root nothing per uid applies: max_sessions (32, the watcher is one) does. */
	while (n < 40 && (r = ksalloc_client_open(NULL, &c[n])) == 0)
		n++;
	ck_assert_int_eq(r, -EUSERS);
	ck_assert_int_eq(n, 31);
	ck_assert_ptr_nonnull(strstr(ksalloc_client_open_error(), "max_sessions"));
	while (n > 0)
		ksalloc_client_close(c[--n]);
	stop();
}
END_TEST

static int per_uid_sessions(void)
{
	struct ksalloc_client *c[30];
	int n = 0, r = 0;

	while (n < 30 && (r = ksalloc_client_open(NULL, &c[n])) == 0)
		n++;
	if (r != -EUSERS || n != 24 || !strstr(ksalloc_client_open_error(), "max_sessions_per_uid"))
		return 10 + n;
	while (n > 0)
		ksalloc_client_close(c[--n]);
	return 0;
}

static int create_beyond_quota(void)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *p[3];
	struct ksalloc_framing f = { .frames = 2, .frame_size = 4096 };
	struct ksalloc_framing big = { .frames = 4, .frame_size = 512 << 10 };

	if (ksalloc_client_open(NULL, &c) < 0)
		return 10;
	/* Bytes first: 2 MiB is more than max_pool_bytes_per_uid (1M). */
	if (ksalloc_pool_create(c, "big", &big, &p[0]) != -EDQUOT ||
	    !strstr(ksalloc_client_error(c), "max_pool_bytes_per_uid"))
		return 11;
	if (ksalloc_pool_create(c, "mine-1", &f, &p[0]) < 0 ||
	    ksalloc_pool_create(c, "mine-2", &f, &p[1]) < 0)
		return 12;
	if (ksalloc_pool_create(c, "mine-3", &f, &p[2]) != -EDQUOT ||
	    !strstr(ksalloc_client_error(c), "max_pools_per_uid"))
		return 13;
	ksalloc_pool_close(p[0]);
	ksalloc_pool_close(p[1]);
	ksalloc_client_close(c);
	return 0;
}

/* Opens every pool and never frees: held to max_frames_per_session (3). */
static int hoard(void)
{
	static const char *const names[] = { "busy", "other" };
	struct ksalloc_client *c;
	struct ksalloc_frame f;
	int held = 0;

	if (ksalloc_client_open(NULL, &c) < 0)
		return 10;
	for (int i = 0; i < 2; i++) {
		struct ksalloc_pool *p;

		if (ksalloc_pool_open(c, names[i], &p) < 0)
			return 11;
		while (ksalloc_pool_acquire(p, 0, &f) == 0)
			held++;
	}
	return held == 3 ? 0 : 20 + held;
}

static void until_no_sessions_of(uint32_t uid)
{
	struct ksalloc_client *c;
	bool any;

	ck_assert_int_eq(ksalloc_client_open(NULL, &c), 0);
	do {
		struct ksalloc_session_info *s;
		size_t n;

		ck_assert_int_eq(ksalloc_client_list_sessions(c, &s, &n), 0);
		any = false;
		for (size_t i = 0; i < n; i++)
			any |= s[i].uid == uid;
		free(s);
		sched_yield();
	} while (any);
	ksalloc_client_close(c);
}

static int as_user(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(4243) < 0 || setuid(4243) < 0)
			_exit(100);
		_exit(fn());
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

START_TEST(test_per_uid_and_per_session_limits_bite)
{
	if (geteuid() != 0) {
		printf("skipped: per-uid limits need a client of another uid, which takes root\n");
		return;
	}
	start();
	ck_assert_int_eq(as_user(per_uid_sessions), 0);
	/* The daemon closes those sessions as it sees them hang up: wait, or the next is refused. */
	until_no_sessions_of(4243);
	ck_assert_int_eq(as_user(create_beyond_quota), 0);
	until_no_sessions_of(4243);
	ck_assert_int_eq(as_user(hoard), 0);
	stop();
}
END_TEST

/* Goes around the library: takes frames straight from shared memory, past its quota. */
START_TEST(test_session_that_takes_more_than_its_quota_is_closed)
{
	struct ksalloc_client *c;
	struct ksalloc_status st;
	unsigned char *map;
	size_t size;
	int sock, status;
	pid_t pid;

	if (geteuid() != 0) {
		printf("skipped: needs a client of another uid, which takes root\n");
		return;
	}
	start();
	pid = fork();
	if (pid == 0) {
		struct shm_layout layout;
		struct frame_pool fp;
		const char *reason;
		uint32_t hint = 0, index, generation;
		int got = 0;

		if (setgroups(0, NULL) < 0 || setgid(4243) < 0 || setuid(4243) < 0)
			_exit(100);
		if (test_raw_open_pool(daemon_.socket_path, "busy", &sock, &map, &size) < 0 ||
		    shm_header_check(map, size, &layout, &reason) < 0)
			_exit(101);
		frame_pool_init(&fp, map, &layout, ((struct shm_header *)map)->frames);
		/* Our session id is the daemon's last one: read it off a slot it gave us. */
		for (uint32_t i = 0; i < layout.n_slots; i++) {
			uint32_t session = frame_slot_tenant(&fp.slots[i]);

			if (session && frame_try_acquire(&fp, session, &fp.slots[i], &hint, &index,
							 &generation) == 0)
				got++;
			while (session && got < 6 &&
			       frame_try_acquire(&fp, session, &fp.slots[i], &hint, &index,
						 &generation) == 0)
				got++;
			if (got)
				break;
		}
		if (got != 6)
			_exit(102);
		/* Wait for the daemon to notice and hang up. */
		char byte;

		_exit(recv(sock, &byte, 1, 0) == 0 ? 0 : 103);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x", status);
	c = NULL;
	ck_assert_int_eq(ksalloc_client_open(NULL, &c), 0);
	ck_assert_int_eq(ksalloc_client_pool_status(c, "busy", &st), 0);
	ck_assert_uint_eq(st.allocated_frames, 0);
	ksalloc_client_close(c);
	{
		char *log = test_daemon_log(&daemon_);

		ck_assert_msg(strstr(log, "more than max_frames_per_session (3): closing it"), "%s",
			      log);
		free(log);
	}
	stop();
}
END_TEST

/* ---- shared memory ----------------------------------------------------------------- */

START_TEST(test_scribbling_while_others_use_the_pool_hurts_no_other_pool)
{
	unsigned char *map;
	size_t size;
	int sock, status;
	pid_t user;

	start();
	/* Someone uses pool "busy" hard while we scribble over its control block. */
	user = fork();
	if (user == 0) {
		struct ksalloc_client *c;
		struct ksalloc_pool *p;

		if (ksalloc_client_open(NULL, &c) < 0 || ksalloc_pool_open(c, "busy", &p) < 0)
			_exit(10);
		for (int i = 0; i < 20000; i++) {
			struct ksalloc_frame f;

			/* Disturbed answers are allowed here; a crash is not. */
			if (ksalloc_pool_acquire(p, 0, &f) == 0)
				ksalloc_pool_release(p, &f);
		}
		_exit(0);
	}
	ck_assert_int_eq(test_raw_open_pool(daemon_.socket_path, "busy", &sock, &map, &size), 0);
	for (unsigned seed = 1; seed < 2000; seed++) {
		size_t at = rand_r(&seed) % 16384;

		map[at] = (unsigned char)rand_r(&seed);
	}
	ck_assert_int_eq(waitpid(user, &status, 0), user);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x", status);
	munmap(map, size);
	close(sock);
	stop();
}
END_TEST

START_TEST(test_fds_sent_are_closed_and_counted)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__HelloRequest h = KSALLOC__HELLO_REQUEST__INIT;
	uint8_t buf[64], reply[4096];
	int fd, pipes[2];
	size_t len;

	start();
	fd = raw_socket();
	h.protocol_version = 1;
	req.body_case = KSALLOC__REQUEST__BODY_HELLO;
	req.hello = &h;
	len = ksalloc__request__pack(&req, buf);
	ck_assert_int_eq(pipe2(pipes, O_CLOEXEC), 0);
	for (int i = 0; i < 100; i++) {
		int many[8] = { pipes[0], pipes[1], pipes[0], pipes[1],
				pipes[0], pipes[1], pipes[0], pipes[1] };

		ck_assert_int_eq(wire_send(fd, buf, len, many, 8), 0);
		ck_assert_int_gt(recv(fd, reply, sizeof(reply), 0), 0);
	}
	close(pipes[0]);
	close(pipes[1]);
	close(fd);
	/* 800 fds came in; none stayed. */
	stop();
}
END_TEST

static Suite *abuse_suite(void)
{
	Suite *s = suite_create("abuse");
	TCase *tc;

	tc = tcase_create("bytes");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_random_datagrams_get_error_replies);
	tcase_add_test(tc, test_empty_truncated_and_oversized_datagrams);
	tcase_add_test(tc, test_client_that_never_reads_is_closed_after_its_queue);
	tcase_add_test(tc, test_fds_sent_are_closed_and_counted);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_connections_beyond_the_limits_are_refused_with_a_reason);
	tcase_add_test(tc, test_per_uid_and_per_session_limits_bite);
	tcase_add_test(tc, test_session_that_takes_more_than_its_quota_is_closed);
	suite_add_tcase(s, tc);

	tc = tcase_create("shm");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_scribbling_while_others_use_the_pool_hurts_no_other_pool);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ksalloc_check_run(abuse_suite());
}
