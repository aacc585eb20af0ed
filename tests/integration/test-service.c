/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ksallocd as a system service: socket activation, what it tells systemd,
 * reloading its config, and who may do what with a pool (clients of other
 * uids and groups, forked from this root test process).
 */
#include <check.h>
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ksalloc/ksalloc.h>
#include <ksalloc/ksproxy.h>

#include "tests/lib/harness.h"
#include "tests/lib/ksalloc-check.h"

static struct test_daemon daemon_;
static char note[1024];

static void stop(void)
{
	test_daemon_down(&daemon_);
}

static void notified(const char *needle)
{
	ck_assert_msg(test_daemon_notified(&daemon_, needle, 30000, note, sizeof(note)) == 0,
		      "the daemon never sent %s", needle);
}

static void log_has(const char *needle)
{
	char *log = test_daemon_log(&daemon_);

	ck_assert_msg(strstr(log, needle), "the log has no \"%s\":\n%s", needle, log);
	free(log);
}

static struct ksalloc_client *client(void)
{
	struct ksalloc_client *c = NULL;

	ck_assert_msg(ksalloc_client_open(NULL, &c) == 0, "%s", ksalloc_client_open_error());
	return c;
}

static int status(struct ksalloc_client *c, const char *pool, struct ksalloc_status *st)
{
	return ksalloc_client_pool_status(c, pool, st);
}

/* Sends SIGHUP and waits for the daemon to say it reloaded. */
static void reload_with(const char *config)
{
	test_daemon_rewrite_config(&daemon_, config);
	kill(daemon_.pid, SIGHUP);
	notified("RELOADING=1");
	notified("READY=1");
}

/* ---- systemd ----------------------------------------------------------------------- */

START_TEST(test_socket_activation_serves_a_client_that_came_first)
{
	struct ksalloc_status st;
	struct ksalloc_client *c;
	int r;

	r = test_daemon_start_activated(&daemon_, "[pool video]\nframes = 2\nframe_size = 4096\n");
	if (r == -ENOENT) {
		printf("skipped: no systemd-socket-activate\n");
		return;
	}
	ck_assert_int_eq(r, 0);
	/* Nothing runs ksallocd yet: this connection is what starts it. */
	c = client();
	ck_assert_int_eq(status(c, "video", &st), 0);
	ck_assert_uint_eq(st.framing.frames, 2);
	notified("READY=1");
	log_has("(socket from systemd)");
	ksalloc_client_close(c);

	kill(daemon_.pid, SIGTERM);
	ck_assert_int_eq(test_daemon_wait_exit(&daemon_), 0);
	ck_assert_int_eq(daemon_.exit_status, 0);
	/* The socket is systemd's: it stays for the next start. */
	ck_assert_int_eq(access(daemon_.socket_path, F_OK), 0);
	test_daemon_kill(&daemon_);
}
END_TEST

START_TEST(test_notify_tells_ready_status_watchdog_and_stopping)
{
	struct ksalloc_client *c;

	setenv("WATCHDOG_USEC", "200000", 1);
	test_daemon_up(&daemon_, "[pool a]\nframes = 1\nframe_size = 1\n[pool b]\nframes = 1\n"
				 "frame_size = 1\n");
	unsetenv("WATCHDOG_USEC");
	notified("STATUS=Serving 2 pools to 0 sessions");
	notified("WATCHDOG=1");
	notified("WATCHDOG=1");
	c = client();
	notified("STATUS=Serving 2 pools to 1 sessions");
	ksalloc_client_close(c);
	kill(daemon_.pid, SIGTERM);
	notified("STOPPING=1");
	ck_assert_int_eq(test_daemon_wait_exit(&daemon_), 0);
	ck_assert_int_eq(daemon_.exit_status, 0);
	test_daemon_kill(&daemon_);
}
END_TEST

START_TEST(test_an_unread_notify_socket_never_stops_the_daemon)
{
	struct ksalloc_client *c;
	struct ksalloc_status st;
	char config[4096] = "";
	size_t len = 0;

	test_daemon_up(&daemon_, "[pool p0]\nframes = 1\nframe_size = 1\n");
	c = client();
	/*
	 * Each reload sends RELOADING=1, READY=1 and STATUS=; nobody reads them
	 * here, so the socket's queue (10 datagrams) fills up after a few. A
	 * blocking send would stop the daemon for good, and the next pool would
	 * never appear.
	 */
	for (int i = 1; i <= 15; i++) {
		char name[16];

		for (int k = 0; k <= i; k++)
			len += (size_t)snprintf(config + len, sizeof(config) - len,
						"[pool p%d]\nframes = 1\nframe_size = 1\n", k);
		test_daemon_rewrite_config(&daemon_, config);
		len = 0;
		kill(daemon_.pid, SIGHUP);
		snprintf(name, sizeof(name), "p%d", i);
		while (status(c, name, &st) == -ENOENT)
			sched_yield();
		ck_assert_int_eq(status(c, name, &st), 0);
	}
	ksalloc_client_close(c);
	stop();
}
END_TEST

/* ---- reload ------------------------------------------------------------------------ */

START_TEST(test_reload_adds_removes_and_refuses_framing_changes)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *a, *other = NULL;
	struct ksalloc_frame f;
	struct ksalloc_status st;

	test_daemon_up(&daemon_, "[pool a]\nframes = 2\nframe_size = 4096\n"
				 "[pool b]\nframes = 4\nframe_size = 4096\n");
	c = client();
	ck_assert_int_eq(ksalloc_pool_open(c, "a", &a), 0);
	ck_assert_int_eq(ksalloc_pool_acquire(a, 0, &f), 0);

	reload_with("[pool b]\nframes = 8\nframe_size = 4096\n"
		    "[pool c]\nframes = 3\nframe_size = 1K\n");
	/* c is new. */
	ck_assert_int_eq(status(c, "c", &st), 0);
	ck_assert_uint_eq(st.framing.frames, 3);
	/* b's framing changed: refused, it keeps running as it was. */
	ck_assert_int_eq(status(c, "b", &st), 0);
	ck_assert_uint_eq(st.framing.frames, 4);
	log_has("[pool b]: framing, backend or lock changed");
	/* a left the config: no new opens, but its holder goes on. */
	ck_assert_int_eq(ksalloc_pool_open(c, "a", &other), -ENOENT);
	ck_assert_ptr_nonnull(strstr(ksalloc_client_error(c), "being removed"));
	memset(f.data, 1, f.size);
	ck_assert_int_eq(status(c, "a", &st), 0);
	ck_assert_uint_eq(st.allocated_frames, 1);
	/* Once its last frame is back, it goes. */
	ck_assert_int_eq(ksalloc_pool_release(a, &f), 0);
	for (struct timespec t0, now = { 0 }; status(c, "a", &st) != -ENOENT;) {
		if (now.tv_sec == 0)
			clock_gettime(CLOCK_MONOTONIC, &t0);
		clock_gettime(CLOCK_MONOTONIC, &now);
		ck_assert_msg(now.tv_sec - t0.tv_sec < 30, "pool a never went");
		sched_yield();
	}
	ksalloc_pool_close(a);
	ksalloc_client_close(c);
	stop();
}
END_TEST

START_TEST(test_reload_of_a_broken_config_changes_nothing)
{
	struct ksalloc_client *c;
	struct ksalloc_status st;

	test_daemon_up(&daemon_, "[pool a]\nframes = 2\nframe_size = 4096\n");
	reload_with("[pool a]\nframes = 2\nframe_size = 4096\n[pool b]\nframes = many\n");
	log_has("reload failed: the running configuration stays");
	log_has("[pool b] frames: expected a decimal number");
	c = client();
	ck_assert_int_eq(status(c, "a", &st), 0);
	ck_assert_int_eq(status(c, "b", &st), -ENOENT);
	/* A good config afterwards applies. */
	reload_with("[pool a]\nframes = 2\nframe_size = 4096\n[pool b]\nframes = 1\n"
		    "frame_size = 1\n");
	ck_assert_int_eq(status(c, "b", &st), 0);
	ksalloc_client_close(c);
	stop();
}
END_TEST

/* ---- access control ---------------------------------------------------------------- */

#define USER 4243
#define OTHER_USER 4244
#define GROUP 4242

/* Runs @fn in a child that has become uid @uid, gid @gid, with @group as its only extra group. */
static int as_user(uid_t uid, gid_t gid, gid_t group, int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		gid_t groups[1] = { group };

		if (setgroups(group ? 1 : 0, groups) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
			_exit(100);
		_exit(fn());
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static bool skip_unless_root(void)
{
	if (geteuid() == 0)
		return false;
	printf("skipped: access control tests switch uids, which takes root\n");
	return true;
}

static const char access_config[] = "[pool private]\nframes = 1\nframe_size = 64\n"
				    "owner = 0\ngroup = 0\nmode = 0600\n"
				    "[pool shared]\nframes = 1\nframe_size = 64\n"
				    "owner = 0\ngroup = 4242\nmode = 0660\n"
				    "[pool readable]\nframes = 1\nframe_size = 64\n"
				    "owner = 0\ngroup = 0\nmode = 0644\n";

/* Exit codes: 0 open allowed; 1 E_ACCESSDENIED; anything else a failure. */
static int open_one(const char *pool)
{
	IKsAllocatorEx *a;
	HRESULT hr = KsOpenAllocator(pool, &a);

	if (hr == E_ACCESSDENIED)
		return 1;
	if (FAILED(hr))
		return 10;
	IKsAllocatorEx_Release(a);
	return 0;
}

static int open_private(void)
{
	return open_one("private");
}
static int open_shared(void)
{
	return open_one("shared");
}
static int open_readable(void)
{
	return open_one("readable");
}

/* Lists what this uid may see, and reads the readable pool's status. */
static int see(void)
{
	struct ksalloc_client *c;
	struct ksalloc_pool_info *pools;
	struct ksalloc_status st;
	size_t n;

	if (ksalloc_client_open(NULL, &c) < 0 || ksalloc_client_list_pools(c, &pools, &n) < 0)
		return 10;
	/* readable (others r) is listed; private and shared are not, to a stranger. */
	if (n != 1 || strcmp(pools[0].name, "readable") != 0)
		return 11;
	free(pools);
	if (ksalloc_client_pool_status(c, "readable", &st) < 0)
		return 12;
	if (ksalloc_client_pool_status(c, "private", &st) != -EACCES)
		return 13;
	ksalloc_client_close(c);
	return 0;
}

START_TEST(test_pool_mode_decides_who_may_open_and_see)
{
	if (skip_unless_root())
		return;
	test_daemon_up(&daemon_, access_config);
	ck_assert_int_eq(open_private(), 0); /* root may do everything */
	ck_assert_int_eq(as_user(USER, USER, 0, open_private), 1);
	ck_assert_int_eq(as_user(USER, USER, 0, open_shared), 1);
	/* Group membership through a supplementary group (SO_PEERGROUPS) counts. */
	ck_assert_int_eq(as_user(USER, USER, GROUP, open_shared), 0);
	ck_assert_int_eq(as_user(USER, GROUP, 0, open_shared), 0);
	/* r without w: seen, not opened. */
	ck_assert_int_eq(as_user(USER, USER, 0, open_readable), 1);
	ck_assert_int_eq(as_user(USER, USER, 0, see), 0);
	log_has("refused: uid 4243");
	log_has("may not open pool private (owner 0, group 0, mode 0600)");
	stop();
}
END_TEST

static const char stream_config[] = "[pool feed]\nframes = 4\nframe_size = 4096\n"
				    "owner = 0\ngroup = 4242\nmode = 0660\n"
				    "[stream watch]\npool = feed\nowner = 0\ngroup = 4242\n"
				    "mode = 0640\n"
				    "[stream closed]\npool = feed\nowner = 0\ngroup = 0\n"
				    "mode = 0600\n";

/* Exit codes: 0 consumed read-only and refused to produce; 1 refused to consume. */
static int consume_watch(void)
{
	struct ksalloc_client *c = NULL;
	struct ksalloc_pool *p = NULL;
	struct ksalloc_stream *s = NULL;
	int r;

	if (ksalloc_client_open(NULL, &c) < 0)
		return 10;
	r = ksalloc_stream_open(c, "closed", NULL, &s);
	if (r != -EACCES || !strstr(ksalloc_client_error(c), "may not consume from stream closed"))
		return 11;
	r = ksalloc_stream_open(c, "watch", NULL, &s);
	if (r == -EACCES)
		return 1;
	if (r < 0)
		return 12;
	/* r-- for the group: it consumes, and may not produce. */
	if (ksalloc_pool_open(c, "feed", &p) < 0)
		return 13;
	r = ksalloc_stream_create(p, "watch", NULL, &(struct ksalloc_stream *){ NULL });
	if (r != -EACCES || !strstr(ksalloc_client_error(c), "may not produce into stream watch"))
		return 14;
	ksalloc_pool_close(p);
	ksalloc_stream_close(s);
	ksalloc_client_close(c);
	return 0;
}

START_TEST(test_stream_mode_decides_who_may_produce_and_consume)
{
	if (skip_unless_root())
		return;
	test_daemon_up(&daemon_, stream_config);
	/* Outside the group: neither the stream nor its pool. */
	ck_assert_int_eq(as_user(USER, USER, 0, consume_watch), 1);
	ck_assert_int_eq(as_user(USER, USER, GROUP, consume_watch), 0);
	stop();
}
END_TEST

static int create_pool(void)
{
	KSALLOCATOR_FRAMING f = { .Frames = 2, .FrameSize = 4096 };
	IKsAllocatorEx *a;
	HRESULT hr = KsCreateNamedAllocator("made", &f, &a);

	if (hr == E_ACCESSDENIED)
		return 1;
	if (FAILED(hr))
		return 10;
	/* Keep it open until the parent has looked: the parent kills us. */
	if (write(STDOUT_FILENO, "", 0) < 0)
		return 11;
	pause();
	return 0;
}

static int destroy_made(void)
{
	struct ksalloc_client *c;
	int r;

	if (ksalloc_client_open(NULL, &c) < 0)
		return 10;
	r = ksalloc_client_destroy_pool(c, "made");
	ksalloc_client_close(c);
	return r == -EACCES ? 1 : r >= 0 ? 0 : 11;
}

START_TEST(test_create_group_decides_who_may_create_and_owners_destroy)
{
	struct ksalloc_pool_info *pools;
	struct ksalloc_client *c;
	size_t n;
	pid_t creator;

	if (skip_unless_root())
		return;
	test_daemon_up(&daemon_, "[daemon]\ncreate_group = 4242\ncreated_pool_mode = 0640\n"
				 "keep_created_pools = yes\n");
	ck_assert_int_eq(as_user(USER, USER, 0, create_pool), 1);
	log_has("may not create pool made: not in group 4242");

	/* A member creates it, and owns it. */
	creator = fork();
	if (creator == 0) {
		if (setgroups(1, (gid_t[]){ GROUP }) < 0 || setgid(USER) < 0 || setuid(USER) < 0)
			_exit(100);
		_exit(create_pool());
	}
	c = client();
	for (;;) {
		ck_assert_int_eq(ksalloc_client_list_pools(c, &pools, &n), 0);
		if (n == 1)
			break;
		free(pools);
		sched_yield();
	}
	ck_assert_str_eq(pools[0].name, "made");
	ck_assert_uint_eq(pools[0].owner, USER);
	ck_assert_uint_eq(pools[0].group, USER);
	ck_assert_uint_eq(pools[0].mode, 0640);
	free(pools);
	kill(creator, SIGKILL);
	waitpid(creator, NULL, 0);

	/* Only its owner and root may destroy it. */
	ck_assert_int_eq(as_user(OTHER_USER, GROUP, 0, destroy_made), 1);
	ck_assert_int_eq(as_user(USER, USER, 0, destroy_made), 0);
	for (;;) {
		struct ksalloc_status st;

		if (ksalloc_client_pool_status(c, "made", &st) == -ENOENT)
			break;
		sched_yield();
	}
	ksalloc_client_close(c);
	stop();
}
END_TEST

START_TEST(test_reload_changes_access_at_once)
{
	if (skip_unless_root())
		return;
	test_daemon_up(&daemon_, access_config);
	ck_assert_int_eq(as_user(USER, USER, 0, open_private), 1);
	reload_with("[pool private]\nframes = 1\nframe_size = 64\nowner = 4243\nmode = 0600\n");
	ck_assert_int_eq(as_user(USER, USER, 0, open_private), 0);
	log_has("pool private: access now owner 4243");
	stop();
}
END_TEST

static Suite *service_suite(void)
{
	Suite *s = suite_create("service");
	TCase *tc;

	tc = tcase_create("systemd");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_socket_activation_serves_a_client_that_came_first);
	tcase_add_test(tc, test_notify_tells_ready_status_watchdog_and_stopping);
	tcase_add_test(tc, test_an_unread_notify_socket_never_stops_the_daemon);
	suite_add_tcase(s, tc);

	tc = tcase_create("reload");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_reload_adds_removes_and_refuses_framing_changes);
	tcase_add_test(tc, test_reload_of_a_broken_config_changes_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("access");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_pool_mode_decides_who_may_open_and_see);
	tcase_add_test(tc, test_stream_mode_decides_who_may_produce_and_consume);
	tcase_add_test(tc, test_create_group_decides_who_may_create_and_owners_destroy);
	tcase_add_test(tc, test_reload_changes_access_at_once);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ksalloc_check_run(service_suite());
}
