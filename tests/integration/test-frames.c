/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Frames end to end: the real daemon, real client processes acquiring and
 * releasing in shared memory, killed at random points, waiting, timing out,
 * scribbling over the control block.
 */
#include <check.h>
#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ksalloc/ksalloc.h>
#include <ksalloc/ksproxy.h>

#include "tests/lib/harness.h"
#include "tests/lib/harness-client.h"
#include "tests/lib/ksalloc-check.h"

static const char config[] = "[pool video]\n"
			     "frames = 4\n"
			     "frame_size = 64K\n"
			     "alignment = 64\n"
			     "\n"
			     "[pool one]\n"
			     "frames = 1\n"
			     "frame_size = 4096\n"
			     "\n"
			     "[pool other]\n"
			     "frames = 2\n"
			     "frame_size = 4096\n";

static struct test_daemon daemon_;

static void start_with(const char *text)
{
	test_daemon_up(&daemon_, text);
}

static void start(void)
{
	start_with(config);
}

static void stop(void)
{
	test_daemon_down(&daemon_);
}

static struct ksalloc_client *client(void)
{
	struct ksalloc_client *c = NULL;

	ck_assert_msg(ksalloc_client_open(NULL, &c) == 0, "%s", ksalloc_client_open_error());
	return c;
}

static struct ksalloc_pool *open_pool(struct ksalloc_client *c, const char *name)
{
	struct ksalloc_pool *p = NULL;

	ck_assert_msg(ksalloc_pool_open(c, name, &p) == 0, "%s", ksalloc_client_error(c));
	return p;
}

static uint32_t allocated(struct ksalloc_client *c, const char *name)
{
	struct ksalloc_status st;

	ck_assert_int_eq(ksalloc_client_pool_status(c, name, &st), 0);
	return st.allocated_frames;
}

/*
 * Waits until the daemon reports @want frames of @name allocated: reclaim
 * happens when the daemon sees a socket hang up, after the kill returned.
 */
static void until_allocated(struct ksalloc_client *c, const char *name, uint32_t want)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (allocated(c, name) != want) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ck_assert_msg(now.tv_sec - start.tv_sec < 30, "%s never got to %u allocated", name,
			      want);
		sched_yield();
	}
}

static void get_stats(struct ksalloc_client *c, const char *name, struct ksalloc_pool_stats *st)
{
	ck_assert_msg(ksalloc_client_pool_stats(c, name, st) == 0, "%s", ksalloc_client_error(c));
}

/* ---- storms ------------------------------------------------------------------------ */

/*
 * One storm process: @rounds acquisitions of @name's frames, each filled with
 * a pattern of its own (pid, round) and checked before release, so that two
 * owners of one frame at once, or a frame that is not shared memory, shows.
 */
static int storm(const char *name, int rounds)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	uint32_t mark_base = (uint32_t)getpid() << 12;

	if (ksalloc_client_open(NULL, &c) < 0 || ksalloc_pool_open(c, name, &p) < 0)
		return 10;
	for (int i = 0; i < rounds; i++) {
		struct ksalloc_frame f;
		uint32_t mark = mark_base | (uint32_t)(i & 0xfff), *words;
		size_t n;

		if (ksalloc_pool_acquire(p, KSALLOC_INFINITE, &f) < 0)
			return 11;
		words = f.data;
		n = f.size / sizeof(*words);
		for (size_t k = 0; k < n; k += 61)
			words[k] = mark;
		words[n - 1] = mark;
		sched_yield();
		for (size_t k = 0; k < n; k += 61)
			if (words[k] != mark)
				return 12;
		if (words[n - 1] != mark)
			return 12;
		if (ksalloc_pool_release(p, &f) < 0)
			return 13;
	}
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	return 0;
}

static void reap_all(pid_t *pids, int n)
{
	for (int i = 0; i < n; i++) {
		int status;

		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "process %d ended with status 0x%x", i, status);
	}
}

START_TEST(test_storm_of_processes_keeps_every_frame_exclusive)
{
	enum { N = 6, ROUNDS = 3000 };
	struct ksalloc_pool_stats st;
	struct ksalloc_client *c;
	pid_t pids[N];

	start();
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(storm(i % 2 ? "video" : "other", ROUNDS));
	}
	reap_all(pids, N);
	c = client();
	until_allocated(c, "video", 0);
	get_stats(c, "video", &st);
	ck_assert_uint_eq(st.acquisitions, N / 2 * ROUNDS);
	ck_assert_uint_le(st.peak_frames, 4);
	ck_assert_uint_eq(st.reclaimed, 0);
	ck_assert_uint_eq(st.waiters, 0);
	free(st.holders);
	ksalloc_client_close(c);
	stop();
}
END_TEST

START_TEST(test_frames_are_the_same_memory_in_every_process)
{
	struct ksalloc_client *c = NULL;
	struct ksalloc_pool *p = NULL;
	struct ksalloc_frame f;
	int pipe_fds[2], status;
	pid_t child;

	start();
	c = client();
	p = open_pool(c, "one");
	ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f), 0);
	memset(f.data, 0x5a, f.size);
	ck_assert_int_eq(ksalloc_pool_release(p, &f), 0);
	ck_assert_int_eq(pipe(pipe_fds), 0);

	child = fork();
	if (child == 0) {
		struct ksalloc_client *cc;
		struct ksalloc_pool *cp;
		struct ksalloc_frame cf;
		const unsigned char *bytes;

		if (ksalloc_client_open(NULL, &cc) < 0 || ksalloc_pool_open(cc, "one", &cp) < 0 ||
		    ksalloc_pool_acquire(cp, 5000, &cf) < 0)
			_exit(10);
		bytes = cf.data;
		for (uint32_t i = 0; i < cf.size; i++)
			if (bytes[i] != 0x5a)
				_exit(11);
		memset(cf.data, 0xa5, cf.size);
		ksalloc_pool_release(cp, &cf);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f), 0);
	ck_assert_uint_eq(((unsigned char *)f.data)[f.size - 1], 0xa5);
	ck_assert_int_eq(ksalloc_pool_release(p, &f), 0);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	stop();
}
END_TEST

/* ---- crash reclaim ----------------------------------------------------------------- */

/* A victim: tells the parent it is running, then acquires and releases until killed. */
static void victim(const char *name, int ready_fd, unsigned seed)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	struct ksalloc_frame held[4];
	int n = 0;

	if (ksalloc_client_open(NULL, &c) < 0 || ksalloc_pool_open(c, name, &p) < 0)
		_exit(10);
	if (write(ready_fd, "r", 1) != 1)
		_exit(11);
	for (;;) {
		/* Hold up to three frames at random, so kills land with 0..3 held. */
		if (n < 3 && (rand_r(&seed) & 1)) {
			if (ksalloc_pool_acquire(p, 1 + rand_r(&seed) % 3, &held[n]) == 0)
				n++;
		} else if (n > 0) {
			int k = (int)(rand_r(&seed) % (unsigned)n);

			if (ksalloc_pool_release(p, &held[k]) < 0)
				_exit(12);
			held[k] = held[--n];
		}
	}
}

START_TEST(test_sigkill_at_random_points_loses_no_frame)
{
	/* KSALLOC_TEST_KILLS: fewer rounds where the daemon runs slowly (under valgrind). */
	const char *env = getenv("KSALLOC_TEST_KILLS");
	const int KILLS = env ? atoi(env) : 2000;
	enum { FRAMES = 4 };
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	struct ksalloc_pool_stats st;
	struct ksalloc_frame f[FRAMES + 1];
	unsigned seed = 12345;
	int ready[2];

	start();
	c = client();
	ck_assert_int_eq(pipe(ready), 0);
	for (int k = 0; k < KILLS; k++) {
		pid_t a, b;
		char byte;
		int status;

		/* Two victims at once, so kills also land while one waits for the other. */
		a = fork();
		if (a == 0)
			victim("video", ready[1], seed + (unsigned)k * 2);
		b = fork();
		if (b == 0)
			victim("video", ready[1], seed + (unsigned)k * 2 + 1);
		ck_assert_int_eq(read(ready[0], &byte, 1), 1);
		ck_assert_int_eq(read(ready[0], &byte, 1), 1);
		/* A random point: spin a random while, then kill without warning. */
		for (volatile unsigned spin = rand_r(&seed) % 200000; spin; spin--)
			;
		kill(a, SIGKILL);
		kill(b, SIGKILL);
		ck_assert_int_eq(waitpid(a, &status, 0), a);
		ck_assert_msg(WIFSIGNALED(status), "victim exited on its own: 0x%x", status);
		ck_assert_int_eq(waitpid(b, &status, 0), b);
		ck_assert_msg(WIFSIGNALED(status), "victim exited on its own: 0x%x", status);
	}
	until_allocated(c, "video", 0);
	get_stats(c, "video", &st);
	ck_assert_uint_eq(st.waiters, 0);
	ck_assert_uint_eq(st.sessions, 0);
	ck_assert_uint_eq(st.n_holders, 0);
	ck_assert_uint_gt(st.reclaimed, 0);
	free(st.holders);

	/* The pool is whole: every frame can be taken exactly once. */
	p = open_pool(c, "video");
	for (int i = 0; i < FRAMES; i++)
		ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f[i]), 0);
	ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f[FRAMES]), -ETIMEDOUT);
	for (int i = 0; i < FRAMES; i++) {
		for (int j = 0; j < i; j++)
			ck_assert_uint_ne(f[i].index, f[j].index);
		ck_assert_int_eq(ksalloc_pool_release(p, &f[i]), 0);
	}
	close(ready[0]);
	close(ready[1]);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	stop();
}
END_TEST

START_TEST(test_killed_holder_is_listed_then_reclaimed)
{
	struct ksalloc_client *c;
	struct ksalloc_pool_stats st;
	int status;
	pid_t child;

	start();
	c = client();
	child = test_spawn_holder("holder", "video", 3);
	get_stats(c, "video", &st);
	ck_assert_uint_eq(st.status.allocated_frames, 3);
	ck_assert_uint_eq(st.n_holders, 1);
	ck_assert_uint_eq(st.holders[0].pid, (uint32_t)child);
	ck_assert_str_eq(st.holders[0].name, "holder");
	ck_assert_uint_eq(st.holders[0].frames_held, 3);
	free(st.holders);

	kill(child, SIGKILL);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	until_allocated(c, "video", 0);
	get_stats(c, "video", &st);
	ck_assert_uint_eq(st.reclaimed, 3);
	ck_assert_uint_eq(st.last_reclaim_frames, 3);
	ck_assert_uint_gt(st.last_reclaim_ns, 0);
	ck_assert_uint_eq(st.n_holders, 0);
	free(st.holders);
	ksalloc_client_close(c);
	stop();
}
END_TEST

/* ---- waiting ----------------------------------------------------------------------- */

START_TEST(test_ks_allocate_times_out_with_vfw_e_timeout)
{
	IKsAllocatorEx *a, *b;
	KSALLOC_FRAME fa, fb;

	start();
	ck_assert_int_eq(KsOpenAllocator("one", &a), S_OK);
	ck_assert_int_eq(KsOpenAllocator("one", &b), S_OK);
	ck_assert_int_eq(KsAllocateFrame(a, 0, &fa), S_OK);
	ck_assert_uint_eq(fa.Size, 4096);
	ck_assert_int_eq(KsAllocateFrame(b, 0, &fb), VFW_E_TIMEOUT);
	ck_assert_int_eq(KsAllocateFrame(b, 100, &fb), VFW_E_TIMEOUT);
	ck_assert_int_eq(KsFreeFrame(a, &fa), S_OK);
	ck_assert_int_eq(KsAllocateFrame(b, 0, &fb), S_OK);
	ck_assert_int_eq(KsFreeFrame(b, &fb), S_OK);
	IKsAllocatorEx_Release(a);
	IKsAllocatorEx_Release(b);
	stop();
}
END_TEST

struct ks_waiter {
	IKsAllocatorEx *allocator;
	ULONG timeout_ms;
	HRESULT hr;
	KSALLOC_FRAME frame;
};

static void *ks_wait(void *arg)
{
	struct ks_waiter *w = arg;

	w->hr = KsAllocateFrame(w->allocator, w->timeout_ms, &w->frame);
	return NULL;
}

/* Waits until the daemon counts @n waiters on @name. */
static void until_waiters(struct ksalloc_client *c, const char *name, uint32_t n)
{
	struct ksalloc_pool_stats st;

	for (;;) {
		get_stats(c, name, &st);
		free(st.holders);
		if (st.waiters >= n)
			return;
		sched_yield();
	}
}

START_TEST(test_ks_free_wakes_a_waiter_in_another_process)
{
	struct ksalloc_client *c;
	IKsAllocatorEx *a;
	KSALLOC_FRAME fa;
	int status;
	pid_t child;

	start();
	c = client();
	ck_assert_int_eq(KsOpenAllocator("one", &a), S_OK);
	ck_assert_int_eq(KsAllocateFrame(a, 0, &fa), S_OK);
	child = fork();
	if (child == 0) {
		IKsAllocatorEx *b;
		KSALLOC_FRAME fb;

		if (KsOpenAllocator("one", &b) != S_OK)
			_exit(10);
		if (KsAllocateFrame(b, INFINITE, &fb) != S_OK)
			_exit(11);
		_exit(fb.Index == 0 && fb.Generation == 2 ? 0 : 12);
	}
	until_waiters(c, "one", 1);
	ck_assert_int_eq(KsFreeFrame(a, &fa), S_OK);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	until_allocated(c, "one", 0);
	IKsAllocatorEx_Release(a);
	ksalloc_client_close(c);
	stop();
}
END_TEST

START_TEST(test_decommit_wakes_waiters_with_vfw_e_not_committed)
{
	struct ks_waiter w[2] = { { .timeout_ms = INFINITE }, { .timeout_ms = 60000 } };
	pthread_t t[2];
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	IKsAllocatorEx *holder;
	KSALLOC_FRAME f;

	start();
	c = client();
	p = open_pool(c, "one");
	ck_assert_int_eq(KsOpenAllocator("one", &holder), S_OK);
	ck_assert_int_eq(KsAllocateFrame(holder, 0, &f), S_OK);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(KsOpenAllocator("one", &w[i].allocator), S_OK);
		pthread_create(&t[i], NULL, ks_wait, &w[i]);
	}
	until_waiters(c, "one", 2);
	ck_assert_int_eq(ksalloc_pool_set_committed(p, false), 0);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(w[i].hr, VFW_E_NOT_COMMITTED);
	}
	/* The held frame stays valid and can be freed; nobody gets a new one until Commit. */
	memset(f.Data, 1, f.Size);
	ck_assert_int_eq(KsFreeFrame(holder, &f), S_OK);
	ck_assert_int_eq(KsAllocateFrame(holder, 0, &f), VFW_E_NOT_COMMITTED);
	ck_assert_int_eq(ksalloc_pool_set_committed(p, true), 0);
	ck_assert_int_eq(KsAllocateFrame(holder, 0, &f), S_OK);
	ck_assert_int_eq(KsFreeFrame(holder, &f), S_OK);
	for (int i = 0; i < 2; i++)
		IKsAllocatorEx_Release(w[i].allocator);
	IKsAllocatorEx_Release(holder);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	stop();
}
END_TEST

START_TEST(test_daemon_shutdown_wakes_waiters_with_vfw_e_not_committed)
{
	struct ks_waiter w = { .timeout_ms = INFINITE };
	struct ksalloc_client *c;
	IKsAllocatorEx *holder;
	KSALLOC_FRAME f;
	pthread_t t;

	start();
	c = client();
	ck_assert_int_eq(KsOpenAllocator("one", &holder), S_OK);
	ck_assert_int_eq(KsOpenAllocator("one", &w.allocator), S_OK);
	ck_assert_int_eq(KsAllocateFrame(holder, 0, &f), S_OK);
	pthread_create(&t, NULL, ks_wait, &w);
	until_waiters(c, "one", 1);
	ksalloc_client_close(c);
	stop();
	pthread_join(t, NULL);
	ck_assert_int_eq(w.hr, VFW_E_NOT_COMMITTED);
	/* Mapped memory stays valid in the client after the daemon is gone. */
	memset(f.Data, 2, f.Size);
	IKsAllocatorEx_Release(w.allocator);
	IKsAllocatorEx_Release(holder);
}
END_TEST

/* ---- refusals ---------------------------------------------------------------------- */

START_TEST(test_ks_free_refuses_foreign_stale_and_double_frees)
{
	IKsAllocatorEx *a, *b, *other;
	KSALLOC_FRAME fa, fb, old, fo;

	start();
	ck_assert_int_eq(KsOpenAllocator("video", &a), S_OK);
	ck_assert_int_eq(KsOpenAllocator("video", &b), S_OK);
	ck_assert_int_eq(KsOpenAllocator("other", &other), S_OK);
	ck_assert_int_eq(KsAllocateFrame(a, 0, &fa), S_OK);
	ck_assert_int_eq(KsAllocateFrame(other, 0, &fo), S_OK);

	/* Another session's frame, and a frame of another pool. */
	ck_assert_int_eq(KsFreeFrame(b, &fa), E_ACCESSDENIED);
	ck_assert_int_eq(KsFreeFrame(a, &fo), E_INVALIDARG);
	fb = fa;
	fb.Index = 99;
	ck_assert_int_eq(KsFreeFrame(a, &fb), E_INVALIDARG);
	ck_assert_int_eq(KsFreeFrame(a, NULL), E_POINTER);
	ck_assert_int_eq(KsAllocateFrame(a, 0, NULL), E_POINTER);

	/* Twice: the second time the frame is free. */
	old = fa;
	ck_assert_int_eq(KsFreeFrame(a, &fa), S_OK);
	ck_assert_int_eq(KsFreeFrame(a, &fa), HRESULT_FROM_WIN32(ERROR_NOT_OWNER));
	/* Stale: freed, then acquired again (the hint makes it the same frame). */
	ck_assert_int_eq(KsAllocateFrame(a, 0, &fa), S_OK);
	ck_assert_uint_eq(fa.Index, old.Index);
	ck_assert_int_eq(KsFreeFrame(a, &old), E_HANDLE);
	ck_assert_int_eq(KsFreeFrame(a, &fa), S_OK);
	ck_assert_int_eq(KsFreeFrame(other, &fo), S_OK);
	IKsAllocatorEx_Release(a);
	IKsAllocatorEx_Release(b);
	IKsAllocatorEx_Release(other);
	stop();
}
END_TEST

START_TEST(test_create_validates_framing_the_windows_way)
{
	KSALLOCATOR_FRAMING f = { .Frames = 4, .FrameSize = 4096, .FileAlignment = 63 };
	struct ksalloc_client *c;
	struct ksalloc_pool *p = NULL;
	IKsAllocatorEx *a = (IKsAllocatorEx *)1;

	start_with("[daemon]\nmax_pool_frames = 16\nmax_frame_size = 1M\n");
	f.FileAlignment = 64;
	ck_assert_int_eq(KsCreateNamedAllocator("created", &f, &a), E_INVALIDARG);
	ck_assert_ptr_null(a);
	f.FileAlignment = 63;
	f.Frames = 0;
	ck_assert_int_eq(KsCreateNamedAllocator("created", &f, &a), E_INVALIDARG);
	f.Frames = 17;
	ck_assert_int_eq(KsCreateNamedAllocator("created", &f, &a), E_INVALIDARG);
	f.Frames = 4;
	f.FrameSize = 0;
	ck_assert_int_eq(KsCreateNamedAllocator("created", &f, &a), E_INVALIDARG);
	f.FrameSize = 2u << 20;
	ck_assert_int_eq(KsCreateNamedAllocator("created", &f, &a), E_INVALIDARG);
	f.FrameSize = 4096;
	f.OptionsFlags = 0x4;
	ck_assert_int_eq(KsCreateNamedAllocator("created", &f, &a), E_INVALIDARG);
	f.OptionsFlags = KSALLOCATOR_OPTIONF_SYSTEM_MEMORY;
	f.Reserved = 1;
	ck_assert_int_eq(KsCreateNamedAllocator("created", &f, &a), E_INVALIDARG);
	f.Reserved = 0;
	ck_assert_int_eq(KsCreateNamedAllocator("created", NULL, &a), E_POINTER);

	/* The native API tells which rule broke. */
	c = client();
	ck_assert_int_eq(ksalloc_pool_create(c, "created",
					     &(struct ksalloc_framing){ .frames = 4,
									.frame_size = 4096,
									.file_alignment = 100 },
					     &p),
			 -EINVAL);
	ck_assert_msg(strstr(ksalloc_client_error(c), "FileAlignment must be a mask"), "%s",
		      ksalloc_client_error(c));
	ksalloc_client_close(c);
	stop();
}
END_TEST

START_TEST(test_created_pool_lives_while_a_session_has_it_open)
{
	KSALLOCATOR_FRAMING f = { .OptionsFlags = KSALLOCATOR_OPTIONF_SYSTEM_MEMORY,
				  .PoolType = 1,
				  .Frames = 3,
				  .FrameSize = 1000,
				  .FileAlignment = FILE_64_BYTE_ALIGNMENT };
	KSSTREAMALLOCATOR_STATUS st;
	struct ksalloc_client *c;
	IKsAllocatorEx *a, *b;
	KSALLOC_FRAME frame;

	start();
	ck_assert_int_eq(KsCreateNamedAllocator("created", &f, &a), S_OK);
	ck_assert_int_eq(IKsAllocatorEx_KsGetAllocatorStatus(a, &st), S_OK);
	ck_assert_uint_eq(st.Framing.Frames, 3);
	ck_assert_uint_eq(st.Framing.FrameSize, 1000);
	ck_assert_uint_eq(st.Framing.FileAlignment, 63);
	ck_assert_uint_eq(st.Framing.PoolType, 1);
	ck_assert_uint_eq(st.Framing.OptionsFlags, KSALLOCATOR_OPTIONF_SYSTEM_MEMORY);
	ck_assert_int_eq(KsAllocateFrame(a, 0, &frame), S_OK);
	ck_assert_uint_eq((uintptr_t)frame.Data % 64, 0);
	ck_assert_int_eq(KsFreeFrame(a, &frame), S_OK);

	/* Same framing: opened; another framing: refused. */
	ck_assert_int_eq(KsCreateNamedAllocator("created", &f, &b), S_OK);
	IKsAllocatorEx_Release(b);
	f.Frames = 5;
	ck_assert_int_eq(KsCreateNamedAllocator("created", &f, &b),
			 HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS));
	/* A config pool cannot be created again with another framing either. */
	ck_assert_int_eq(KsCreateNamedAllocator("video", &f, &b),
			 HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS));

	c = client();
	ck_assert_int_eq(allocated(c, "created"), 0);
	IKsAllocatorEx_Release(a);
	/* The last session that had it open is gone: so is the pool. */
	for (;;) {
		struct ksalloc_status s;
		int r = ksalloc_client_pool_status(c, "created", &s);

		if (r == -ENOENT)
			break;
		ck_assert_int_eq(r, 0);
		sched_yield();
	}
	ksalloc_client_close(c);
	stop();
}
END_TEST

START_TEST(test_created_pool_stays_when_the_config_keeps_created_pools)
{
	KSALLOCATOR_FRAMING f = { .Frames = 2, .FrameSize = 4096 };
	struct ksalloc_client *c;
	IKsAllocatorEx *a;
	struct ksalloc_pool_info *pools;
	size_t n;

	start_with("[daemon]\nkeep_created_pools = yes\n");
	ck_assert_int_eq(KsCreateNamedAllocator("kept", &f, &a), S_OK);
	IKsAllocatorEx_Release(a);
	c = client();
	ck_assert_int_eq(ksalloc_client_list_pools(c, &pools, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(pools[0].name, "kept");
	ck_assert(pools[0].persistent);
	free(pools);
	ksalloc_client_close(c);
	stop();
}
END_TEST

/* ---- hostile client ---------------------------------------------------------------- */

START_TEST(test_scribbled_control_block_does_not_hurt_the_daemon_or_other_pools)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *mine, *victim_pool;
	struct ksalloc_frame f;
	struct ksalloc_pool_stats st;
	size_t size;
	unsigned char *map;
	int sock;

	start();
	c = client();
	mine = open_pool(c, "other");
	victim_pool = open_pool(c, "video");
	ck_assert_int_eq(ksalloc_pool_acquire(victim_pool, 0, &f), 0);

	/* Not the library: a client that opens the pool by hand and writes garbage everywhere. */
	ck_assert_int_eq(test_raw_open_pool(daemon_.socket_path, "video", &sock, &map, &size), 0);
	for (int round = 0; round < 3; round++) {
		memset(map, round == 0 ? 0xff : round == 1 ? 0x00 : 0x5a, 16384);
		/* The daemon answers about the scribbled pool without trusting it... */
		get_stats(c, "video", &st);
		free(st.holders);
		/* ...and the other pools work as before. */
		for (int i = 0; i < 100; i++) {
			struct ksalloc_frame g;

			ck_assert_int_eq(ksalloc_pool_acquire(mine, 0, &g), 0);
			ck_assert_int_eq(ksalloc_pool_release(mine, &g), 0);
		}
		ck_assert_int_eq(allocated(c, "other"), 0);
	}
	memset(map, 0xff, 16384);
	munmap(map, size);
	close(sock);

	/*
	 * When the scribbler leaves, the daemon takes back frames owned by no session
	 * that has the pool open, and rewrites the state it owns in the control block.
	 */
	until_allocated(c, "video", 0);
	ck_assert_int_eq(ksalloc_pool_acquire(victim_pool, 0, &f), 0);
	ck_assert_int_eq(ksalloc_pool_release(victim_pool, &f), 0);
	ksalloc_pool_close(victim_pool);
	ksalloc_pool_close(mine);
	ksalloc_client_close(c);
	stop();
}
END_TEST

/* ---- ksallocctl -------------------------------------------------------------------- */

START_TEST(test_ksallocctl_shows_holders_and_clients)
{
	struct ksalloc_client_options o;
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	struct ksalloc_frame f[2];
	char *out, *err, pid[16];
	char *status_argv[] = { (char *)test_binary("ksallocctl"), "status", "video", NULL };
	char *clients_argv[] = { (char *)test_binary("ksallocctl"), "--json", "clients", NULL };
	json_object *array;

	start();
	ksalloc_client_options_init(&o);
	o.client_name = "camera";
	ck_assert_int_eq(ksalloc_client_open(&o, &c), 0);
	p = open_pool(c, "video");
	ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f[0]), 0);
	ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f[1]), 0);

	ck_assert_int_eq(test_run(status_argv, &out, &err), 0);
	snprintf(pid, sizeof(pid), " %d ", (int)getpid());
	ck_assert_msg(strstr(out, "allocated frames: 2\n"), "%s", out);
	ck_assert_msg(strstr(out, "free frames:      2\n"), "%s", out);
	ck_assert_msg(strstr(out, "camera"), "%s", out);
	ck_assert_msg(strstr(out, pid), "%s", out);
	free(out);
	free(err);

	ck_assert_int_eq(test_run(clients_argv, &out, &err), 0);
	array = json_tokener_parse(out);
	ck_assert_ptr_nonnull(array);
	/* This test's session and ksallocctl's own. */
	ck_assert_uint_eq(json_object_array_length(array), 2);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(
				 json_object_array_get_idx(array, 0), "name")),
			 "camera");
	ck_assert_int_eq(json_object_get_int(json_object_object_get(
				 json_object_array_get_idx(array, 0), "frames_held")),
			 2);
	json_object_put(array);
	free(out);
	free(err);

	ksalloc_pool_release(p, &f[0]);
	ksalloc_pool_release(p, &f[1]);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	stop();
}
END_TEST

static Suite *frames_suite(void)
{
	Suite *s = suite_create("frames");
	TCase *tc;

	tc = tcase_create("storm");
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_storm_of_processes_keeps_every_frame_exclusive);
	tcase_add_test(tc, test_frames_are_the_same_memory_in_every_process);
	suite_add_tcase(s, tc);

	tc = tcase_create("reclaim");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_sigkill_at_random_points_loses_no_frame);
	tcase_add_test(tc, test_killed_holder_is_listed_then_reclaimed);
	suite_add_tcase(s, tc);

	tc = tcase_create("waiting");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_ks_allocate_times_out_with_vfw_e_timeout);
	tcase_add_test(tc, test_ks_free_wakes_a_waiter_in_another_process);
	tcase_add_test(tc, test_decommit_wakes_waiters_with_vfw_e_not_committed);
	tcase_add_test(tc, test_daemon_shutdown_wakes_waiters_with_vfw_e_not_committed);
	suite_add_tcase(s, tc);

	tc = tcase_create("refusals");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_ks_free_refuses_foreign_stale_and_double_frees);
	tcase_add_test(tc, test_create_validates_framing_the_windows_way);
	tcase_add_test(tc, test_created_pool_lives_while_a_session_has_it_open);
	tcase_add_test(tc, test_created_pool_stays_when_the_config_keeps_created_pools);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_scribbled_control_block_does_not_hurt_the_daemon_or_other_pools);
	suite_add_tcase(s, tc);

	tc = tcase_create("ksallocctl");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_ksallocctl_shows_holders_and_clients);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ksalloc_check_run(frames_suite());
}
