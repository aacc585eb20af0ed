/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Restarts under a service manager with a file descriptor store (the fake one
 * of tests/lib/fake-manager.h, which keeps the store as systemd 252 does):
 * by SIGTERM (systemctl restart), SIGKILL and SIGABRT (a crash, a watchdog
 * kill), under a load of client processes of each API. Pools, held frames,
 * waiters, connections and subscriptions to events survive; forged fds in
 * the store are dropped.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ksalloc/ksalloc.h>
#include <ksalloc/ksproxy.h>

#include "proto/protocol.h"
#include "tests/lib/fake-manager.h"
#include "tests/lib/harness-client.h"
#include "tests/lib/harness.h"

static const char config[] = "[pool load]\n"
			     "frames = 3\n"
			     "frame_size = 4096\n"
			     "\n"
			     "[pool dry]\n"
			     "frames = 1\n"
			     "frame_size = 4096\n";

static struct fake_manager manager;

static void up(void)
{
	int r = fake_manager_start(&manager, config);

	if (r < 0) {
		char *log = fake_manager_log(&manager);

		ck_abort_msg("ksallocd under the fake manager did not start: %s\n%s", strerror(-r),
			     log);
	}
}

static void restart_by(int signum)
{
	int r;

	ck_assert_int_eq(fake_manager_kill(&manager, signum), 0);
	r = fake_manager_restart(&manager);
	if (r < 0) {
		char *log = fake_manager_log(&manager);

		ck_abort_msg("ksallocd did not come back after SIG%s: %s\n%s", sigabbrev_np(signum),
			     strerror(-r), log);
	}
}

static bool log_has(const char *needle)
{
	char *log = fake_manager_log(&manager);
	bool found = strstr(log, needle) != NULL;

	free(log);
	return found;
}

static struct ksalloc_client *client(void)
{
	struct ksalloc_client *c = NULL;

	ck_assert_msg(ksalloc_client_open(NULL, &c) == 0, "%s", ksalloc_client_open_error());
	return c;
}

static uint32_t allocated(const char *pool)
{
	struct ksalloc_client *c = client();
	struct ksalloc_status st;

	ck_assert_int_eq(ksalloc_client_pool_status(c, pool, &st), 0);
	ksalloc_client_close(c);
	return st.allocated_frames;
}

/* Waits (10 s at most) for the daemon to count @n frames of @pool held: it reclaims as it notices. */
static void wait_allocated(const char *pool, uint32_t n)
{
	uint32_t have = 0;

	for (int i = 0; i < 2000 && (have = allocated(pool)) != n; i++)
		poll(NULL, 0, 5);
	ck_assert_uint_eq(have, n);
}

static void kill_and_reap(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

/* Reaps @pid and returns its exit status (-signal when killed). */
static int reap(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

START_TEST(test_a_held_frame_stays_held_across_each_kind_of_restart)
{
	static const int signals[] = { SIGTERM, SIGKILL, SIGABRT };
	pid_t holder;

	up();
	holder = test_spawn_holder("holder", "load", 2);
	ck_assert_uint_eq(allocated("load"), 2);
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		restart_by(signals[i]);
		ck_assert_uint_eq(allocated("load"), 2);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		/* Not a benchmark (the fake manager's fork and exec are in it): an order of magnitude. */
		fprintf(stderr, "SIG%s to the first status answered: %.1f ms\n",
			sigabbrev_np(signals[i]),
			(double)(t1.tv_sec - t0.tv_sec) * 1e3 +
				(double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
		ck_assert(log_has("took over 2 of 2 pools"));
	}
	/* Still the holder's session: its death gives the frames back, as before any restart. */
	kill_and_reap(holder);
	wait_allocated("load", 0);
	ck_assert_int_eq(fake_manager_stop(&manager), 0);
	fake_manager_free(&manager);
}
END_TEST

/* Waits (10 s at most) for @n threads waiting in acquire on pool dry. */
static void wait_waiters(struct ksalloc_client *c, uint32_t n)
{
	struct ksalloc_pool_stats st = { 0 };

	for (int i = 0; i < 2000; i++) {
		int r = ksalloc_client_pool_stats(c, "dry", &st);

		free(st.holders);
		st.holders = NULL;
		if (r == 0 && st.waiters == n)
			return;
		poll(NULL, 0, 5);
	}
	ck_abort_msg("dry has %u waiters, not %u", st.waiters, n);
}

/* A child that acquires the only frame of dry, waiting, and exits 0 once it has it. */
static pid_t spawn_waiter(int ready_fd)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct ksalloc_client *c = NULL;
		struct ksalloc_pool *p = NULL;
		struct ksalloc_frame f;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (ksalloc_client_open(NULL, &c) < 0 || ksalloc_pool_open(c, "dry", &p) < 0)
			_exit(10);
		if (write(ready_fd, "r", 1) != 1)
			_exit(11);
		if (ksalloc_pool_acquire(p, KSALLOC_INFINITE, &f) < 0)
			_exit(12);
		memset(f.data, 0x5a, f.size);
		_exit(ksalloc_pool_release(p, &f) == 0 ? 0 : 13);
	}
	return pid;
}

START_TEST(test_a_blocked_acquire_gets_the_frame_released_after_a_crash)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *p = NULL;
	struct ksalloc_frame f;
	int ready[2];
	char byte;
	pid_t waiter;

	up();
	c = client();
	ck_assert_int_eq(ksalloc_pool_open(c, "dry", &p), 0);
	ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f), 0);
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	waiter = spawn_waiter(ready[1]);
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &byte, 1), 1);
	close(ready[0]);
	/* The waiter sleeps in acquire once the pool counts it. */
	wait_waiters(c, 1);
	restart_by(SIGKILL);
	restart_by(SIGTERM);
	/* The daemon that serves now sees what the clients do: one frame held, one waiter. */
	wait_waiters(c, 1);
	ck_assert_uint_eq(allocated("dry"), 1);
	/* Released to the waiter in shared memory, with the new daemon serving the pool. */
	ck_assert_int_eq(ksalloc_pool_release(p, &f), 0);
	ck_assert_int_eq(reap(waiter), 0);
	ck_assert_uint_eq(allocated("dry"), 0);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	ck_assert_int_eq(fake_manager_stop(&manager), 0);
	fake_manager_free(&manager);
}
END_TEST

/* What the load's workers share with the test. */
struct load {
	atomic_bool stop;
	atomic_ulong cycles[8];
	atomic_ulong status_timeouts; /* RPCs whose request a dying daemon took: the docs allow it */
};

enum worker_kind { WORKER_NATIVE, WORKER_KS, WORKER_MEM };

/* Writes the canary, lets others run, and checks nobody else wrote the frame meanwhile. */
static bool canary_holds(void *data, size_t size, unsigned long seq)
{
	unsigned long *words = data, mark = ((unsigned long)getpid() << 32) ^ seq;
	size_t n = size / sizeof(*words) < 16 ? size / sizeof(*words) : 16;

	for (size_t i = 0; i < n; i++)
		words[i] = mark + i;
	sched_yield();
	for (size_t i = 0; i < n; i++)
		if (words[i] != mark + i)
			return false;
	return true;
}

static int native_worker(struct load *l, unsigned idx)
{
	struct ksalloc_client *c = NULL;
	struct ksalloc_pool *p = NULL;

	if (ksalloc_client_open(NULL, &c) < 0 || ksalloc_pool_open(c, "load", &p) < 0)
		return 10;
	for (unsigned long seq = 0; !atomic_load(&l->stop); seq++) {
		struct ksalloc_frame f;
		struct ksalloc_status st;
		int r = ksalloc_pool_acquire(p, 20000, &f);

		if (r < 0)
			return 11;
		if (!canary_holds(f.data, f.size, seq))
			return 12;
		if (ksalloc_pool_release(p, &f) < 0)
			return 13;
		atomic_fetch_add(&l->cycles[idx], 1);
		if (seq % 64 == 0) {
			r = ksalloc_pool_status(p, &st);
			if (r == -ETIME)
				atomic_fetch_add(&l->status_timeouts, 1);
			else if (r < 0)
				return 14;
		}
	}
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	return 0;
}

static int ks_worker(struct load *l, unsigned idx)
{
	IKsAllocatorEx *alloc = NULL;

	if (KsOpenAllocator("load", &alloc) != S_OK)
		return 20;
	for (unsigned long seq = 0; !atomic_load(&l->stop); seq++) {
		KSSTREAMALLOCATOR_STATUS st;
		KSALLOC_FRAME f;
		HRESULT hr;

		if (KsAllocateFrame(alloc, 20000, &f) != S_OK)
			return 21;
		if (!canary_holds(f.Data, f.Size, seq))
			return 22;
		if (KsFreeFrame(alloc, &f) != S_OK)
			return 23;
		atomic_fetch_add(&l->cycles[idx], 1);
		if (seq % 64 == 0) {
			hr = IKsAllocatorEx_KsGetAllocatorStatus(alloc, &st);
			if (hr == HRESULT_FROM_WIN32(ERROR_TIMEOUT))
				atomic_fetch_add(&l->status_timeouts, 1);
			else if (hr != S_OK)
				return 24;
		}
	}
	IKsAllocatorEx_Release(alloc);
	return 0;
}

static int mem_worker(struct load *l, unsigned idx)
{
	IKsAllocatorEx *ex = NULL;
	IMemAllocator *mem = NULL;

	if (KsOpenAllocator("load", &ex) != S_OK ||
	    IKsAllocatorEx_QueryInterface(ex, &IID_IMemAllocator, (void **)&mem) != S_OK ||
	    IMemAllocator_Commit(mem) != S_OK)
		return 30;
	for (unsigned long seq = 0; !atomic_load(&l->stop); seq++) {
		IMediaSample *sample = NULL;
		BYTE *data = NULL;

		if (IMemAllocator_GetBuffer(mem, &sample, NULL, NULL, 0) != S_OK)
			return 31;
		if (IMediaSample_GetPointer(sample, &data) != S_OK ||
		    !canary_holds(data, 4096, seq))
			return 32;
		if (IMediaSample_Release(sample) != 0)
			return 33;
		atomic_fetch_add(&l->cycles[idx], 1);
	}
	IMemAllocator_Release(mem);
	IKsAllocatorEx_Release(ex);
	return 0;
}

static pid_t spawn_worker(struct load *l, unsigned idx, enum worker_kind kind)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(kind == WORKER_NATIVE ? native_worker(l, idx) :
		      kind == WORKER_KS     ? ks_worker(l, idx) :
					      mem_worker(l, idx));
	}
	return pid;
}

static unsigned long total_cycles(struct load *l, unsigned n)
{
	unsigned long sum = 0;

	for (unsigned i = 0; i < n; i++)
		sum += atomic_load(&l->cycles[i]);
	return sum;
}

/* Waits (60 s at most) until every worker has cycled @more times since @since. */
static void wait_each_cycles(struct load *l, unsigned n, const unsigned long *since,
			     unsigned long more)
{
	for (int t = 0; t < 12000; t++) {
		unsigned i;

		for (i = 0; i < n && atomic_load(&l->cycles[i]) >= since[i] + more; i++)
			;
		if (i == n)
			return;
		poll(NULL, 0, 5);
	}
	ck_abort_msg("workers stopped cycling: %lu cycles in all", total_cycles(l, n));
}

START_TEST(test_clients_of_every_api_keep_cycling_through_restarts)
{
	static const int signals[] = { SIGTERM, SIGKILL, SIGABRT, SIGKILL, SIGTERM };
	static const enum worker_kind kinds[] = { WORKER_NATIVE, WORKER_NATIVE, WORKER_KS,
						  WORKER_KS,     WORKER_MEM,    WORKER_MEM };
	enum { N = sizeof(kinds) / sizeof(kinds[0]) };
	struct load *l;
	unsigned long since[N];
	pid_t workers[N];
	char name[64];

	l = mmap(NULL, sizeof(*l), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(l, MAP_FAILED);
	up();
	/* Six clients on three frames: at any time some of them wait in acquire. */
	for (unsigned i = 0; i < N; i++)
		workers[i] = spawn_worker(l, i, kinds[i]);
	ck_assert_int_eq(fake_manager_wait_store(&manager, "ksalloc-conn-", N, 30000), 0);
	for (size_t s = 0; s < sizeof(signals) / sizeof(signals[0]); s++) {
		for (unsigned i = 0; i < N; i++)
			since[i] = atomic_load(&l->cycles[i]);
		wait_each_cycles(l, N, since, 50);
		restart_by(signals[s]);
		ck_assert(log_has("took over 6 of 6 sessions"));
	}
	for (unsigned i = 0; i < N; i++)
		since[i] = atomic_load(&l->cycles[i]);
	wait_each_cycles(l, N, since, 50);
	atomic_store(&l->stop, true);
	for (unsigned i = 0; i < N; i++)
		ck_assert_msg(reap(workers[i]) == 0, "worker %u failed", i);
	/* Every frame came back, and the daemon that serves now knows it. */
	wait_allocated("load", 0);
	ck_assert_int_eq(fake_manager_wait_store(&manager, "ksalloc-conn-", 0, 30000), 0);
	ck_assert_int_eq(fake_manager_store_find(&manager, "ksalloc-pool-", name, sizeof(name)), 0);
	fprintf(stderr, "%lu cycles, %lu status calls timed out\n", total_cycles(l, N),
		(unsigned long)atomic_load(&l->status_timeouts));
	ck_assert_int_eq(fake_manager_stop(&manager), 0);
	fake_manager_free(&manager);
	munmap(l, sizeof(*l));
}
END_TEST

START_TEST(test_forged_fds_in_the_store_are_dropped_and_the_daemon_starts)
{
	char pool_name[64], conn_name[64], frame_name[96], far_frame_name[96], expected[160];
	int forged_pool, stream[2], pipe_fds[2], bad_state;
	struct {
		uint32_t magic, version;
		uint64_t generation, len, checksum;
	} header = { 0x5453534bu, 1, 1000, 0, 1 };
	pid_t holder;

	up();
	holder = test_spawn_holder("holder", "load", 1);
	ck_assert_int_eq(fake_manager_wait_store(&manager, "ksalloc-conn-", 1, 30000), 0);
	ck_assert_int_eq(fake_manager_store_find(&manager, "ksalloc-pool-", pool_name,
						 sizeof(pool_name)),
			 0);
	ck_assert_int_eq(fake_manager_store_find(&manager, "ksalloc-conn-", conn_name,
						 sizeof(conn_name)),
			 0);

	/* The same name as a real pool, but unsealed: tried first (the newest), refused. */
	forged_pool = memfd_create("forged", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ck_assert_int_ge(forged_pool, 0);
	ck_assert_int_eq(ftruncate(forged_pool, 65536), 0);
	ck_assert_int_eq(fake_manager_store_add(&manager, pool_name, forged_pool), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, stream), 0);
	/* The holder's connection's name, on a stream socket: refused, then the real one taken. */
	ck_assert_int_eq(fake_manager_store_add(&manager, conn_name, stream[0]), 0);
	ck_assert_int_eq(pipe2(pipe_fds, O_CLOEXEC), 0);
	ck_assert_int_eq(fake_manager_store_add(&manager, "ksalloc-conn-4000001", pipe_fds[0]), 0);
	bad_state = memfd_create("state", MFD_CLOEXEC);
	ck_assert_int_ge(bad_state, 0);
	ck_assert_int_eq(ftruncate(bad_state, 2 * 65536), 0);
	ck_assert_int_eq(pwrite(bad_state, &header, sizeof(header), 0), (ssize_t)sizeof(header));
	ck_assert_int_eq(fake_manager_store_add(&manager, "ksalloc-state-99", bad_state), 0);
	ck_assert_int_eq(fake_manager_store_add(&manager, "unknown-thing", pipe_fds[1]), 0);
	/* Frames' names for a pool whose frames are not dma-bufs, one with an index far out. */
	snprintf(frame_name, sizeof(frame_name), "%s-frame-0", pool_name);
	ck_assert_int_eq(fake_manager_store_add(&manager, frame_name, pipe_fds[1]), 0);
	snprintf(far_frame_name, sizeof(far_frame_name), "%s-frame-99999999", pool_name);
	ck_assert_int_eq(fake_manager_store_add(&manager, far_frame_name, pipe_fds[1]), 0);

	restart_by(SIGKILL);
	ck_assert(log_has("its seals are not a pool's"));
	ck_assert(log_has("not an AF_UNIX SOCK_SEQPACKET socket"));
	ck_assert(log_has("stored fd ksalloc-conn-4000001: not named by the state image"));
	ck_assert(log_has("stored fd ksalloc-state-99: neither slot holds an image"));
	ck_assert(log_has("\"unknown-thing\""));
	snprintf(expected, sizeof(expected), "stored fd %s: not named by the state image",
		 frame_name);
	ck_assert(log_has(expected));
	snprintf(expected, sizeof(expected), "stored fd %s: not named by the state image",
		 far_frame_name);
	ck_assert(log_has(expected));
	/* The real pool was adopted all the same, with the holder's frame. */
	ck_assert_uint_eq(allocated("load"), 1);
	ck_assert(log_has("took over 1 of 1 sessions"));
	/* Forgeries leave the store; the real pool is stored again under its name. */
	ck_assert_int_eq(fake_manager_wait_store(&manager, "ksalloc-state-", 1, 30000), 0);
	ck_assert_int_eq(fake_manager_wait_store(&manager, "ksalloc-conn-", 1, 30000), 0);
	ck_assert_int_eq(fake_manager_wait_store(&manager, pool_name, 1, 30000), 0);
	ck_assert_int_eq(fake_manager_wait_store(&manager, "ksalloc-pool-", 2, 30000), 0);
	/* And the next restart takes it over again. */
	restart_by(SIGKILL);
	ck_assert_uint_eq(allocated("load"), 1);

	kill_and_reap(holder);
	wait_allocated("load", 0);
	ck_assert_int_eq(fake_manager_stop(&manager), 0);
	fake_manager_free(&manager);
	close(forged_pool);
	close(stream[0]);
	close(stream[1]);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	close(bad_state);
}
END_TEST

START_TEST(test_a_stop_closes_the_store_and_clients_see_the_hang_up)
{
	struct ksalloc_client *c;
	struct ksalloc_status st;

	up();
	c = client();
	ck_assert_int_eq(ksalloc_client_pool_status(c, "load", &st), 0);
	ck_assert_int_eq(fake_manager_wait_store(&manager, "ksalloc-conn-", 1, 30000), 0);
	ck_assert_int_eq(fake_manager_stop(&manager), 0);
	ck_assert_uint_eq(fake_manager_store_count(&manager, ""), 0);
	/* Nobody holds the socket any more: the call finds the daemon gone. */
	ck_assert_int_eq(ksalloc_client_pool_status(c, "load", &st), -EPIPE);
	ksalloc_client_close(c);
	fake_manager_free(&manager);
}
END_TEST

START_TEST(test_a_request_sent_while_no_daemon_runs_is_answered_by_the_next)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *p = NULL;
	int go[2], ready[2];
	char byte, name[64];
	pid_t child;

	up();
	ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		struct ksalloc_status st;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		c = NULL;
		if (ksalloc_client_open(NULL, &c) < 0 || ksalloc_pool_open(c, "load", &p) < 0)
			_exit(10);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &byte, 1) != 1)
			_exit(11);
		/* Sent with no daemon running: it waits in the socket for the next one. */
		_exit(ksalloc_pool_status(p, &st) == 0 && st.framing.frames == 3 ? 0 : 12);
	}
	close(go[0]);
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &byte, 1), 1);
	ck_assert_int_eq(fake_manager_wait_store(&manager, "ksalloc-conn-", 1, 30000), 0);
	ck_assert_int_eq(fake_manager_store_find(&manager, "ksalloc-conn-", name, sizeof(name)), 0);
	ck_assert_int_eq(fake_manager_kill(&manager, SIGKILL), 0);
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	ck_assert_int_eq(fake_manager_wait_readable(&manager, name, 30000), 0);
	ck_assert_int_eq(fake_manager_restart(&manager), 0);
	ck_assert_int_eq(reap(child), 0);
	close(go[1]);
	close(ready[0]);
	ck_assert_int_eq(fake_manager_stop(&manager), 0);
	fake_manager_free(&manager);
}
END_TEST

START_TEST(test_the_next_daemon_tells_each_connection_it_took_it_over)
{
	struct timeval tv = { .tv_sec = 30 };
	unsigned char *map, buf[4096];
	Ksalloc__Reply *reply;
	char name[64];
	size_t size;
	ssize_t n;
	int fd;

	up();
	ck_assert_int_eq(test_raw_open_pool(manager.socket_path, "load", &fd, &map, &size), 0);
	ck_assert_int_eq(fake_manager_wait_store(&manager, "ksalloc-conn-", 1, 30000), 0);
	ck_assert_int_eq(fake_manager_store_find(&manager, "ksalloc-conn-", name, sizeof(name)), 0);
	restart_by(SIGKILL);
	/* Unasked, with id 0: whatever this client was waiting for, it sends again. */
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	n = recv(fd, buf, sizeof(buf), 0);
	ck_assert_int_gt(n, 0);
	reply = ksalloc__reply__unpack(NULL, (size_t)n, buf);
	ck_assert_ptr_nonnull(reply);
	ck_assert_uint_eq(reply->id, 0);
	ck_assert_int_eq(reply->hresult, 0);
	ck_assert_int_eq(reply->body_case, KSALLOC__REPLY__BODY_RESUMED);
	ksalloc__reply__free_unpacked(reply, NULL);
	munmap(map, size);
	close(fd);
	ck_assert_int_eq(fake_manager_stop(&manager), 0);
	fake_manager_free(&manager);
}
END_TEST

START_TEST(test_a_created_and_reshaped_pool_survives_with_its_new_memory)
{
	struct ksalloc_framing f = { .frames = 2, .frame_size = 4096 };
	struct ksalloc_client *c;
	struct ksalloc_pool *p = NULL;
	struct ksalloc_status st;
	struct ksalloc_frame frame;

	up();
	c = client();
	ck_assert_int_eq(ksalloc_pool_create(c, "made", &f, &p), 0);
	ck_assert_int_eq(ksalloc_pool_set_committed(p, false), 0);
	f.frames = 5;
	ck_assert_msg(ksalloc_pool_reshape(p, &f) == 0, "%s", ksalloc_client_error(c));
	ck_assert_int_eq(ksalloc_pool_set_committed(p, true), 0);
	ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &frame), 0);
	restart_by(SIGKILL);
	/* The new memfd was stored in place of the old one: the next daemon has the new framing. */
	ck_assert_int_eq(ksalloc_pool_status(p, &st), 0);
	ck_assert_uint_eq(st.framing.frames, 5);
	ck_assert_uint_eq(st.allocated_frames, 1);
	ck_assert_int_eq(ksalloc_pool_release(p, &frame), 0);
	ck_assert_uint_eq(allocated("made"), 0);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	ck_assert_int_eq(fake_manager_stop(&manager), 0);
	fake_manager_free(&manager);
}
END_TEST

START_TEST(test_an_inherited_invocation_id_is_no_store)
{
	struct test_daemon d;
	struct ksalloc_client *c;
	char *log;

	/* What a test run from inside a systemd unit passes on to the daemon it starts. */
	setenv("INVOCATION_ID", "0123456789abcdef0123456789abcdef", 1);
	setenv("SYSTEMD_EXEC_PID", "1", 1);
	test_daemon_up(&d, config);
	c = client();
	kill(d.pid, SIGTERM);
	ck_assert_int_eq(test_daemon_wait_exit(&d), 0);
	ck_assert_int_eq(d.exit_status, 0);
	/* A clean stop, as without systemd: the session was closed, nothing handed over. */
	log = test_daemon_log(&d);
	ck_assert_ptr_null(strstr(log, "next ksallocd"));
	ck_assert_ptr_nonnull(strstr(log, "shutting down"));
	free(log);
	ksalloc_client_close(c);
	test_daemon_kill(&d);
}
END_TEST

/* Asserts that the subscription's fd has not reported a hang-up or an error. */
static void assert_no_hang_up(struct ksalloc_subscription *s)
{
	struct pollfd pfd = { .fd = ksalloc_subscription_get_fd(s), .events = POLLIN };

	ck_assert_int_ge(poll(&pfd, 1, 0), 0);
	ck_assert_msg(!(pfd.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL)),
		      "the subscription's fd reported 0x%x", (unsigned)pfd.revents);
}

/*
 * Waits (on the fd, 10 s at most) for the next event of @kind about pool dry
 * with @allocated frames held; the others are read and dropped. Every poll
 * also checks that the fd never hangs up.
 */
static void next_dry_event(struct ksalloc_subscription *s, enum ksalloc_event_kind kind,
			   uint32_t allocated)
{
	for (int i = 0; i < 1000; i++) {
		struct pollfd pfd = { .fd = ksalloc_subscription_get_fd(s),
				      .events = POLLIN | POLLRDHUP };
		struct ksalloc_event e;
		int r;

		ck_assert_int_ge(poll(&pfd, 1, 10), 0);
		ck_assert_msg(!(pfd.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL)),
			      "the subscription's fd reported 0x%x", (unsigned)pfd.revents);
		while ((r = ksalloc_subscription_read(s, &e)) == 0) {
			bool found = e.kind == kind && strcmp(e.pool, "dry") == 0 &&
				     e.stats.status.allocated_frames == allocated;

			ksalloc_event_clear(&e);
			if (found)
				return;
		}
		ck_assert_msg(r == -EAGAIN, "read: %d, %s", r, ksalloc_subscription_error(s));
	}
	ck_abort_msg("no event %d about dry with %u held within 10 s", kind, allocated);
}

/*
 * The stream's producer: makes the stream, says so on @ready_fd, and once a
 * byte comes on @go_fd publishes frames numbered from 1, each its number
 * inside, until killed.
 */
static pid_t spawn_stream_producer(int ready_fd, int go_fd)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct ksalloc_framing fr = { .frames = 8, .frame_size = 4096 };
		struct ksalloc_client *c = NULL;
		struct ksalloc_pool *p = NULL;
		struct ksalloc_stream *s = NULL;
		char seq0;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (ksalloc_client_open(NULL, &c) < 0 ||
		    ksalloc_pool_create(c, "vid", &fr, &p) < 0 ||
		    ksalloc_stream_create(p, "cam", NULL, &s) < 0)
			_exit(10);
		if (write(ready_fd, "r", 1) != 1 || read(go_fd, &seq0, 1) != 1)
			_exit(11);
		for (uint64_t seq = 1;; seq++) {
			struct ksalloc_frame f;

			if (ksalloc_pool_acquire(p, KSALLOC_INFINITE, &f) < 0)
				_exit(12);
			memcpy(f.data, &seq, sizeof(seq));
			if (ksalloc_stream_publish(s, &f, NULL, KSALLOC_INFINITE) != 1)
				_exit(13);
		}
	}
	return pid;
}

/*
 * The consumer: checks that frame n holds n and that none is missing; writes a
 * byte to @progress_fd every 100 frames; exits 0 when the producer goes.
 */
static pid_t spawn_stream_consumer(int progress_fd)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct ksalloc_stream_open_options o = { .depth = 8, .max_held = 2 };
		struct ksalloc_client *c = NULL;
		struct ksalloc_stream *s = NULL;
		uint64_t expect = 1;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (ksalloc_client_open(NULL, &c) < 0 || ksalloc_stream_open(c, "cam", &o, &s) < 0)
			_exit(20);
		if (write(progress_fd, "r", 1) != 1)
			_exit(21);
		for (;;) {
			struct ksalloc_frame_meta m;
			struct ksalloc_frame f;
			uint64_t seq;
			int r = ksalloc_stream_receive(s, KSALLOC_INFINITE, &f, &m);

			if (r == -ECONNRESET)
				_exit(0);
			if (r < 0)
				_exit(22);
			memcpy(&seq, f.data, sizeof(seq));
			if (seq != expect || m.sequence != expect ||
			    (m.options_flags & KSALLOC_FRAME_DATADISCONTINUITY))
				_exit(23);
			if (ksalloc_stream_release(s, &f) < 0)
				_exit(24);
			if (expect++ % 100 == 0 && write(progress_fd, "p", 1) != 1)
				_exit(21);
		}
	}
	return pid;
}

START_TEST(test_a_stream_keeps_flowing_across_restarts)
{
	static const int signals[] = { SIGTERM, SIGKILL, SIGABRT };
	struct ksalloc_stream_info *info;
	struct ksalloc_client *c;
	int ready[2], go[2], progress[2];
	pid_t producer, consumer;
	size_t n;
	char b;

	up();
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(progress, O_CLOEXEC), 0);
	producer = spawn_stream_producer(ready[1], go[0]);
	ck_assert_int_eq(read(ready[0], &b, 1), 1);
	consumer = spawn_stream_consumer(progress[1]);
	close(ready[1]);
	close(go[0]);
	close(progress[1]);
	ck_assert_int_eq(read(progress[0], &b, 1), 1);
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	close(go[1]);
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		/* Frames flow before, while and after the daemon restarts: 300 more each time. */
		ck_assert_int_eq(read(progress[0], &b, 1), 1);
		restart_by(signals[i]);
		for (int k = 0; k < 3; k++)
			ck_assert_int_eq(read(progress[0], &b, 1), 1);
		ck_assert(log_has("took over 1 of 1 streams"));
	}
	/* The daemon that serves now knows the roles: the producer, one consumer. */
	c = client();
	ck_assert_int_eq(ksalloc_client_list_streams(c, &info, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(info[0].state, KSALLOC_STREAM_FLOWING);
	ck_assert_uint_eq(info[0].producer_pid, (uint32_t)producer);
	ck_assert_uint_eq(info[0].n_consumers, 1);
	ck_assert_uint_eq(info[0].consumers[0].pid, (uint32_t)consumer);
	free(info);
	ksalloc_client_close(c);
	/* Its producer killed: the consumer drains and hears of it (exit 0). */
	kill_and_reap(producer);
	ck_assert_int_eq(reap(consumer), 0);
	close(ready[0]);
	close(progress[0]);
	ck_assert_int_eq(fake_manager_stop(&manager), 0);
	fake_manager_free(&manager);
}
END_TEST

START_TEST(test_a_subscriber_keeps_receiving_events_across_restarts)
{
	static const int signals[] = { SIGKILL, SIGTERM, SIGABRT };
	struct ksalloc_subscription_options o = { .pool = "dry", .interval_ms = 10 };
	struct ksalloc_subscription *s = NULL;
	struct ksalloc_client *c;
	struct ksalloc_pool *p = NULL;
	struct ksalloc_stream *st = NULL;
	bool producer_gone = false;

	up();
	ck_assert_msg(ksalloc_subscription_open(NULL, &o, &s) == 0, "%s",
		      ksalloc_client_open_error());
	next_dry_event(s, KSALLOC_EVENT_STATUS, 0);
	c = client();
	ck_assert_int_eq(ksalloc_pool_open(c, "dry", &p), 0);
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		struct ksalloc_frame f;

		restart_by(signals[i]);
		assert_no_hang_up(s);
		/* Changes made after the restart reach the subscriber in order: DRY, then STATUS. */
		ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f), 0);
		next_dry_event(s, KSALLOC_EVENT_DRY, 1);
		ck_assert_int_eq(ksalloc_pool_release(p, &f), 0);
		next_dry_event(s, KSALLOC_EVENT_STATUS, 0);
	}
	ck_assert_msg(log_has("took over 2 of 2 sessions"), "the subscriber's session was dropped");
	assert_no_hang_up(s);
	/* It asked for the streams' events (the library always does): it still has them. */
	ck_assert_int_eq(ksalloc_stream_create(p, "after", NULL, &st), 0);
	ksalloc_stream_close(st);
	for (int i = 0; !producer_gone; i++) {
		struct pollfd pfd = { .fd = ksalloc_subscription_get_fd(s), .events = POLLIN };
		struct ksalloc_event e;
		int r;

		ck_assert_msg(i < 1000, "no STREAM_PRODUCER_GONE within 10 s");
		ck_assert_int_ge(poll(&pfd, 1, 10), 0);
		while (!producer_gone && (r = ksalloc_subscription_read(s, &e)) == 0) {
			producer_gone = e.kind == KSALLOC_EVENT_STREAM_PRODUCER_GONE &&
					strcmp(e.stream, "after") == 0;
			ksalloc_event_clear(&e);
		}
	}
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	ksalloc_subscription_close(s);
	ck_assert_int_eq(fake_manager_stop(&manager), 0);
	fake_manager_free(&manager);
}
END_TEST

static Suite *restart_suite(void)
{
	Suite *s = suite_create("restart");
	TCase *tc = tcase_create("store");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_a_held_frame_stays_held_across_each_kind_of_restart);
	tcase_add_test(tc, test_a_blocked_acquire_gets_the_frame_released_after_a_crash);
	tcase_add_test(tc, test_clients_of_every_api_keep_cycling_through_restarts);
	tcase_add_test(tc, test_forged_fds_in_the_store_are_dropped_and_the_daemon_starts);
	tcase_add_test(tc, test_a_stop_closes_the_store_and_clients_see_the_hang_up);
	tcase_add_test(tc, test_a_request_sent_while_no_daemon_runs_is_answered_by_the_next);
	tcase_add_test(tc, test_the_next_daemon_tells_each_connection_it_took_it_over);
	tcase_add_test(tc, test_a_created_and_reshaped_pool_survives_with_its_new_memory);
	tcase_add_test(tc, test_an_inherited_invocation_id_is_no_store);
	tcase_add_test(tc, test_a_subscriber_keeps_receiving_events_across_restarts);
	tcase_add_test(tc, test_a_stream_keeps_flowing_across_restarts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(restart_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
