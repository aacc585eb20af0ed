/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A daemon that goes away without a store (killed, or stopped): what its clients see. A
 * blocked acquire returns -ESHUTDOWN, acquire fails with -ESHUTDOWN until the library has
 * reopened the pool from a new daemon, a frame of the dead pool releases with -ESTALE, and
 * after a graceful stop the frames held stay valid memory. The same through the KS shim
 * and IMemAllocator. Every wait is on an event (a byte on a pipe, a process's exit, a
 * status value), never on time.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ksalloc/ksalloc.h>
#include <ksalloc/ksproxy.h>

#include "tests/lib/harness-client.h"
#include "tests/lib/harness.h"
#include "tests/lib/ksalloc-check.h"

#define ck_assert_hr_eq(hr, expected) ck_assert_uint_eq((uint32_t)(hr), (uint32_t)(expected))

static const char config[] = "[pool dry]\n"
			     "frames = 1\n"
			     "frame_size = 4096\n"
			     "\n"
			     "[pool video]\n"
			     "frames = 4\n"
			     "frame_size = 4096\n";

static struct test_daemon daemon_;

static struct ksalloc_client *client(void)
{
	struct ksalloc_client *c = NULL;

	ck_assert_msg(ksalloc_client_open(NULL, &c) == 0, "%s", ksalloc_client_open_error());
	return c;
}

static void get_stats(struct ksalloc_client *c, const char *name, struct ksalloc_pool_stats *st)
{
	ck_assert_msg(ksalloc_client_pool_stats(c, name, st) == 0, "%s", ksalloc_client_error(c));
	free(st->holders);
	st->holders = NULL;
}

/* Waits (30 s at most) until the daemon's stats of @name satisfy @ok. */
static void until_stats(struct ksalloc_client *c, const char *name,
			bool (*ok)(const struct ksalloc_pool_stats *st, uint64_t arg), uint64_t arg,
			const char *what)
{
	struct timespec start, now;
	struct ksalloc_pool_stats st;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		get_stats(c, name, &st);
		if (ok(&st, arg))
			return;
		clock_gettime(CLOCK_MONOTONIC, &now);
		ck_assert_msg(now.tv_sec - start.tv_sec < 30, "%s never had %s", name, what);
		sched_yield();
	}
}

static bool has_waiters(const struct ksalloc_pool_stats *st, uint64_t n)
{
	return st->waiters >= n;
}

static bool has_allocated(const struct ksalloc_pool_stats *st, uint64_t n)
{
	return st->status.allocated_frames == n;
}

static bool has_acquisitions(const struct ksalloc_pool_stats *st, uint64_t n)
{
	return st->acquisitions >= n;
}

/* A child's report: an int on a pipe. The parent's go-ahead: a byte on another. */
struct link {
	int up[2];   /* child -> parent */
	int down[2]; /* parent -> child */
	pid_t child;
};

static void link_open(struct link *l)
{
	ck_assert_int_eq(pipe2(l->up, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(l->down, O_CLOEXEC), 0);
}

/* After the fork, in the parent: the child's ends go, so a child that dies is heard as EOF. */
static void link_parent(struct link *l)
{
	close(l->up[1]);
	close(l->down[0]);
}

static void link_close(struct link *l)
{
	close(l->up[0]);
	close(l->down[1]);
}

static void child_say(struct link *l, int value)
{
	if (write(l->up[1], &value, sizeof(value)) != sizeof(value))
		_exit(90);
}

static void child_wait(struct link *l)
{
	char b;

	if (read(l->down[0], &b, 1) != 1)
		_exit(91);
}

static int parent_hear(struct link *l)
{
	int value = 0, status = 0;

	if (read(l->up[0], &value, sizeof(value)) == sizeof(value))
		return value;
	waitpid(l->child, &status, 0);
	ck_abort_msg("the child died before it said anything: status %#x", status);
	return 0;
}

static void parent_go(struct link *l)
{
	ck_assert_int_eq(write(l->down[1], "g", 1), 1);
}

static void reap(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child ended with %#x",
		      status);
}

/*
 * Acquires from @p until it works, through -ESHUTDOWN while the library has not reopened
 * the pool from the new daemon (the reconnect backoff spaces the attempts). Returns the
 * last result.
 */
static int acquire_until_back(struct ksalloc_pool *p, struct ksalloc_frame *f)
{
	struct timespec start, now;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		r = ksalloc_pool_acquire(p, 0, f);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (r == -ESHUTDOWN && now.tv_sec - start.tv_sec < 30);
	return r;
}

/*
 * The first scenario: A holds the only frame, B waits for ever; the daemon is
 * killed. B's wait returns -ESHUTDOWN; after a restart (and A's death) B acquires from the
 * new daemon's pool, which counts it.
 */
static int blocked_waiter(struct link *l)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	struct ksalloc_frame f;
	int r;

	if (ksalloc_client_open(NULL, &c) < 0 || ksalloc_pool_open(c, "dry", &p) < 0)
		return 10;
	child_say(l, ksalloc_pool_acquire(p, KSALLOC_INFINITE, &f));
	child_wait(l);
	r = acquire_until_back(p, &f);
	child_say(l, r);
	child_wait(l);
	if (r == 0 && ksalloc_pool_release(p, &f) < 0)
		return 11;
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	return 0;
}

START_TEST(
	test_blocked_acquire_returns_eshutdown_when_the_daemon_dies_and_serves_again_after_a_restart)
{
	struct ksalloc_client *c;
	struct link l;
	pid_t a, b;

	test_daemon_up(&daemon_, config);
	link_open(&l);
	a = test_spawn_holder("A", "dry", 1);
	b = fork();
	ck_assert_int_ge(b, 0);
	if (b == 0)
		_exit(blocked_waiter(&l));
	l.child = b;
	link_parent(&l);
	c = client();
	until_stats(c, "dry", has_waiters, 1, "a waiter");
	ksalloc_client_close(c);

	test_daemon_crash(&daemon_);
	ck_assert_int_eq(parent_hear(&l), -ESHUTDOWN);
	ck_assert_int_eq(test_daemon_restart(&daemon_), 0);
	kill(a, SIGKILL);
	ck_assert_int_eq(waitpid(a, NULL, 0), a);
	parent_go(&l);
	ck_assert_int_eq(parent_hear(&l), 0);
	c = client();
	until_stats(c, "dry", has_allocated, 1, "B's frame");
	parent_go(&l);
	reap(b);
	until_stats(c, "dry", has_allocated, 0, "no frame");
	ksalloc_client_close(c);
	link_close(&l);
	test_daemon_down(&daemon_);
}
END_TEST

/*
 * The second scenario: a process that only acquires and releases. After the kill
 * its acquire fails with -ESHUTDOWN, the frame it held since before releases with -ESTALE,
 * and after the restart it cycles in the new daemon's pool.
 */
#define CYCLES 1000

static int cycler(struct link *l)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	struct ksalloc_frame held, f;
	int r;

	if (ksalloc_client_open(NULL, &c) < 0 || ksalloc_pool_open(c, "video", &p) < 0)
		return 10;
	if (ksalloc_pool_acquire(p, 0, &held) < 0)
		return 11;
	for (int i = 0; i < CYCLES; i++) {
		if (ksalloc_pool_acquire(p, 0, &f) < 0 || ksalloc_pool_release(p, &f) < 0)
			return 12;
	}
	child_say(l, 0);
	/*
	 * Cycles until the daemon's loss shows: at an acquire, or at a release (of a frame
	 * of the dead pool: -ESTALE), after which acquire fails.
	 */
	while ((r = ksalloc_pool_acquire(p, 0, &f)) == 0) {
		r = ksalloc_pool_release(p, &f);
		if (r == -ESTALE)
			continue;
		if (r < 0)
			return 13;
	}
	child_say(l, r);
	child_say(l, ksalloc_pool_release(p, &held));
	child_wait(l);
	r = acquire_until_back(p, &f);
	if (r == 0)
		r = ksalloc_pool_release(p, &f);
	for (int i = 0; r == 0 && i < CYCLES; i++) {
		r = ksalloc_pool_acquire(p, 0, &f);
		if (r == 0)
			r = ksalloc_pool_release(p, &f);
	}
	child_say(l, r);
	child_wait(l);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	return 0;
}

START_TEST(test_cycling_process_gets_eshutdown_then_cycles_in_the_new_daemons_pool)
{
	struct ksalloc_client *c;
	struct link l;
	pid_t child;

	test_daemon_up(&daemon_, config);
	link_open(&l);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0)
		_exit(cycler(&l));
	l.child = child;
	link_parent(&l);
	ck_assert_int_eq(parent_hear(&l), 0);
	test_daemon_crash(&daemon_);
	ck_assert_int_eq(parent_hear(&l), -ESHUTDOWN);
	ck_assert_int_eq(parent_hear(&l), -ESTALE);
	ck_assert_int_eq(test_daemon_restart(&daemon_), 0);
	parent_go(&l);
	ck_assert_int_eq(parent_hear(&l), 0);
	c = client();
	/* The new daemon saw the cycles: they happened in its pool. */
	until_stats(c, "video", has_acquisitions, CYCLES + 1, "the cycles");
	parent_go(&l);
	reap(child);
	ksalloc_client_close(c);
	link_close(&l);
	test_daemon_down(&daemon_);
}
END_TEST

/*
 * A daemon that does not beat while its connections stand (busy, or restarting with them
 * kept in systemd's fd store; here: stopped with SIGSTOP) makes no client fail: a stale
 * heartbeat over a live connection is no loss. The child cycles until the heartbeat is
 * well past stale (SHM_HEARTBEAT_STALE_MS, 500 ms), every call succeeding.
 */
static int cycle_while_stopped(struct link *l)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	struct ksalloc_frame f;
	struct timespec start, now;

	if (ksalloc_client_open(NULL, &c) < 0 || ksalloc_pool_open(c, "video", &p) < 0)
		return 10;
	child_say(l, 0);
	child_wait(l);
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		if (ksalloc_pool_acquire(p, 0, &f) < 0)
			return 11;
		if (ksalloc_pool_release(p, &f) < 0)
			return 12;
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 <
		 1500);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	return 0;
}

START_TEST(test_daemon_that_stops_beating_with_its_connections_standing_fails_no_client)
{
	struct link l;
	pid_t child;

	test_daemon_up(&daemon_, config);
	link_open(&l);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0)
		_exit(cycle_while_stopped(&l));
	l.child = child;
	link_parent(&l);
	ck_assert_int_eq(parent_hear(&l), 0);
	ck_assert_int_eq(kill(daemon_.pid, SIGSTOP), 0);
	parent_go(&l);
	reap(child);
	ck_assert_int_eq(kill(daemon_.pid, SIGCONT), 0);
	link_close(&l);
	test_daemon_down(&daemon_);
}
END_TEST

/*
 * A graceful stop (SIGTERM) leaves the frames live clients hold as valid memory, and their
 * release says the pool is gone (-ESTALE), not "released twice" (-EALREADY).
 */
START_TEST(test_frame_held_at_a_graceful_stop_stays_valid_memory_and_releases_with_estale)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	struct ksalloc_frame f, g;
	int fds;

	fds = test_count_fds();
	test_daemon_up(&daemon_, config);
	c = client();
	ck_assert_int_eq(ksalloc_pool_open(c, "video", &p), 0);
	ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f), 0);
	memset(f.data, 0x5a, f.size);
	test_daemon_down(&daemon_);

	ck_assert_uint_eq(((unsigned char *)f.data)[f.size - 1], 0x5a);
	memset(f.data, 0xa5, f.size);
	ck_assert_uint_eq(((unsigned char *)f.data)[0], 0xa5);
	ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &g), -ESHUTDOWN);
	ck_assert_int_eq(ksalloc_pool_release(p, &f), -ESTALE);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	ck_assert_int_eq(test_count_fds(), fds);
}
END_TEST

/* ---- KS ------------------------------------------------------------------------------ */

struct ks_waiter {
	IKsAllocatorEx *allocator;
	HRESULT hr;
	KSALLOC_FRAME frame;
};

static void *ks_wait(void *arg)
{
	struct ks_waiter *w = arg;

	w->hr = KsAllocateFrame(w->allocator, INFINITE, &w->frame);
	return NULL;
}

START_TEST(test_ks_allocate_returns_vfw_e_not_committed_and_free_e_handle_when_the_daemon_dies)
{
	struct ks_waiter w = { 0 };
	struct ksalloc_client *c;
	IKsAllocatorEx *holder;
	KSALLOC_FRAME f;
	pthread_t t;

	test_daemon_up(&daemon_, config);
	ck_assert_hr_eq(KsOpenAllocator("dry", &holder), S_OK);
	ck_assert_hr_eq(KsOpenAllocator("dry", &w.allocator), S_OK);
	ck_assert_hr_eq(KsAllocateFrame(holder, 0, &f), S_OK);
	pthread_create(&t, NULL, ks_wait, &w);
	c = client();
	until_stats(c, "dry", has_waiters, 1, "a waiter");
	ksalloc_client_close(c);

	test_daemon_crash(&daemon_);
	pthread_join(t, NULL);
	ck_assert_hr_eq(w.hr, VFW_E_NOT_COMMITTED);
	ck_assert_hr_eq(KsFreeFrame(holder, &f), E_HANDLE);
	IKsAllocatorEx_Release(w.allocator);
	IKsAllocatorEx_Release(holder);
	ck_assert_int_eq(test_daemon_restart(&daemon_), 0);
	test_daemon_down(&daemon_);
}
END_TEST

struct mem_waiter {
	IMemAllocator *mem;
	HRESULT hr;
	IMediaSample *sample;
};

static void *mem_wait(void *arg)
{
	struct mem_waiter *w = arg;

	w->hr = IMemAllocator_GetBuffer(w->mem, &w->sample, NULL, NULL, 0);
	return NULL;
}

START_TEST(test_get_buffer_returns_vfw_e_not_committed_when_the_daemon_dies)
{
	struct mem_waiter w = { 0 };
	struct ksalloc_client *c;
	IKsAllocatorEx *ex, *holder;
	IMediaSample *held = NULL;
	pthread_t t;

	test_daemon_up(&daemon_, config);
	ck_assert_hr_eq(KsOpenAllocator("dry", &holder), S_OK);
	ck_assert_hr_eq(KsOpenAllocator("dry", &ex), S_OK);
	ck_assert_hr_eq(IKsAllocatorEx_QueryInterface(ex, &IID_IMemAllocator, (void **)&w.mem),
			S_OK);
	{
		IMemAllocator *hm = NULL;

		ck_assert_hr_eq(IKsAllocatorEx_QueryInterface(holder, &IID_IMemAllocator,
							      (void **)&hm),
				S_OK);
		ck_assert_hr_eq(IMemAllocator_GetBuffer(hm, &held, NULL, NULL, 0), S_OK);
		IMemAllocator_Release(hm);
	}
	pthread_create(&t, NULL, mem_wait, &w);
	c = client();
	until_stats(c, "dry", has_waiters, 1, "a waiter");
	ksalloc_client_close(c);

	test_daemon_crash(&daemon_);
	pthread_join(t, NULL);
	ck_assert_hr_eq(w.hr, VFW_E_NOT_COMMITTED);
	ck_assert_ptr_null(w.sample);
	IMediaSample_Release(held);
	IMemAllocator_Release(w.mem);
	IKsAllocatorEx_Release(ex);
	IKsAllocatorEx_Release(holder);
	ck_assert_int_eq(test_daemon_restart(&daemon_), 0);
	test_daemon_down(&daemon_);
}
END_TEST

static Suite *liveness_suite(void)
{
	Suite *s = suite_create("liveness");
	TCase *tc;

	tc = tcase_create("killed");
	tcase_set_timeout(tc, 120);
	tcase_add_test(
		tc,
		test_blocked_acquire_returns_eshutdown_when_the_daemon_dies_and_serves_again_after_a_restart);
	tcase_add_test(tc, test_cycling_process_gets_eshutdown_then_cycles_in_the_new_daemons_pool);
	tcase_add_test(
		tc, test_daemon_that_stops_beating_with_its_connections_standing_fails_no_client);
	suite_add_tcase(s, tc);

	tc = tcase_create("stopped");
	tcase_set_timeout(tc, 120);
	tcase_add_test(
		tc, test_frame_held_at_a_graceful_stop_stays_valid_memory_and_releases_with_estale);
	suite_add_tcase(s, tc);

	tc = tcase_create("ks");
	tcase_set_timeout(tc, 120);
	tcase_add_test(
		tc,
		test_ks_allocate_returns_vfw_e_not_committed_and_free_e_handle_when_the_daemon_dies);
	tcase_add_test(tc, test_get_buffer_returns_vfw_e_not_committed_when_the_daemon_dies);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ksalloc_check_run(liveness_suite());
}
