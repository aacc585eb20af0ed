/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-frames: the frame fast path of shm/frame.c, measured on a pool's
 * shared memory against the obvious alternative, a process-shared pthread
 * mutex guarding a free list of the same frames, in the same run.
 *
 * The pool is made here as the daemon makes it (memfd, layout, control block,
 * two attached sessions), without a daemon: the fast path never talks to it.
 * Every measurement runs in forked children that share the mapping, placed on
 * one CPU, on two CPUs, or where the scheduler likes (docs/architecture.md, Bars).
 * The variants alternate within each repetition, so that drift hits the
 * figure and its baseline alike.
 *
 *   pairs      acquire + release in a loop, one process or two at once
 *   hand-off   a release that finds a waiter asleep in frame_acquire() and
 *              gives it the frame; baseline: FUTEX_WAKE of a waiter asleep
 *              in FUTEX_WAIT on a shared word, in the same protocol
 *   liveness   pairs with the client's liveness check before acquire and
 *              release (shm/liveness.h, the library's own inline code), a
 *              thread beating as the daemon does; baseline: the plain pair
 *   loss       the real ksallocd (beside this program) killed with SIGKILL
 *              while a client waits in ksalloc_pool_acquire(INFINITE): the
 *              time to that acquire's return; baseline: the 1 s bound
 *
 * `--only WHAT` runs one measurement once, for counting its system calls
 * from outside (bench/run-frames.sh runs it under strace).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench-util.h"

#include "shm/frame.h"
#include "shm/framing.h"
#include "shm/layout.h"
#include "shm/liveness.h"
#include "tests/lib/daemon.h"

#include <ksalloc/ksalloc.h>

#define N_FRAMES 8
#define FRAME_SIZE 4096
#define N_SLOTS 4
#define MAX_REPS 51
#define MAX_ROUNDS 10000

#define DEFAULT_PAIRS 2000000
#define DEFAULT_REPS 7
#define DEFAULT_ROUNDS 200

#define BAR_UNCONTENDED_NS 50.0
#define BAR_CONTENDED_NS 150.0
#define BAR_LOSS_NS 1e9 /* clients hear of the daemon's loss within 1 s */
#define DEFAULT_LOSS_REPS 5

enum variant {
	V_KSALLOC, /* shm/frame.c */
	V_MUTEX,   /* the baseline for pairs: pthread mutex around a free list */
	V_FUTEX,   /* the baseline for hand-offs: a raw futex word */
	/* Parts of a pair, timed alone to see where its time goes. */
	V_RMW,   /* one locked read-modify-write on a word of the mapping */
	V_CLOCK, /* clock_gettime(CLOCK_MONOTONIC_COARSE), as note_acquired() calls it */
	V_LIVE,  /* V_KSALLOC with the client's liveness check before acquire and release */
};

enum place {
	P_ONE_CPU, /* every child on the first CPU (taskset -c 0) */
	P_SPLIT,   /* child 0 on the first CPU, child 1 on the second */
	P_FREE,    /* wherever the scheduler puts them */
};

/* The baseline's pool: a stack of free frame indexes under one lock. */
struct freelist {
	pthread_mutex_t lock;
	uint32_t top;
	uint32_t stack[N_FRAMES];
};

struct child_result {
	alignas(SHM_CACHELINE) int64_t wall_ns;
	int64_t cpu_ns;
};

/*
 * The benchmark's own words, in the same memfd after the pool. Each group that
 * one side writes and the other reads sits on its own cache line.
 */
struct bench_shared {
	alignas(SHM_CACHELINE) struct freelist fl;
	alignas(SHM_CACHELINE) _Atomic uint32_t ready; /* start barrier: children arrived */
	_Atomic uint32_t abort;                        /* a child failed: everyone stops */
	_Atomic int32_t waiter_pid;
	alignas(SHM_CACHELINE) _Atomic uint32_t round; /* hand-off: written by the releaser */
	alignas(SHM_CACHELINE) _Atomic uint32_t armed; /* hand-off: written by the waiter */
	_Atomic uint32_t done;
	_Atomic int64_t woke_ns;
	alignas(SHM_CACHELINE) _Atomic uint32_t futex_word; /* the raw futex baseline */
	alignas(SHM_CACHELINE) _Atomic uint64_t scratch;    /* V_RMW's word */
	struct child_result result[2];
	int64_t latency_ns[MAX_ROUNDS]; /* release to the waiter's return */
	int64_t release_ns[MAX_ROUNDS]; /* the releaser's own call */
};

struct bench {
	int fd;
	uint8_t *map;
	size_t map_size;
	struct framing framing;
	struct shm_layout layout;
	struct frame_pool fp; /* each child's copy points into the shared mapping */
	struct bench_shared *bs;
	cpu_set_t all_cpus; /* the affinity we were started with */
	int cpu_a, cpu_b;   /* the first two CPUs in it; cpu_b -1 if there is only one */

	/* What the children are to do, set by the parent before it forks them. */
	enum variant variant;
	unsigned n_children;
	uint64_t pairs;
	uint32_t rounds;
	uint32_t first_hint[2]; /* where each child's first acquire looks */
};

/* Shared futexes, as frame.c uses: the word lives in memory two processes map. */
static void raw_futex_wait(_Atomic uint32_t *word, uint32_t value)
{
	syscall(SYS_futex, word, FUTEX_WAIT, value, NULL, NULL, 0);
}

static void raw_futex_wake(_Atomic uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/*
 * Makes the pool's memfd as daemon/storage/backend-memfd.c does (sealed against
 * resizing), with the benchmark's words in the pages after the pool.
 */
static int bench_open(struct bench *b)
{
	size_t extra = (sizeof(struct bench_shared) + SHM_PAGE_SIZE - 1) & ~(SHM_PAGE_SIZE - 1);
	int r;

	b->framing = (struct framing){
		.frames = N_FRAMES,
		.frame_size = FRAME_SIZE,
		.file_alignment = FRAME_SIZE - 1,
	};
	r = shm_layout_compute(&b->framing, N_SLOTS, 0, UINT64_MAX, &b->layout);
	if (r < 0)
		return r;
	b->map_size = b->layout.size_bytes + extra;
	b->fd = memfd_create("bench-frames", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (b->fd < 0)
		return -errno;
	if (ftruncate(b->fd, (off_t)b->map_size) < 0)
		return -errno;
	if (fcntl(b->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		return -errno;
	b->map = mmap(NULL, b->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
	if (b->map == MAP_FAILED)
		return -errno;
	b->bs = (struct bench_shared *)(b->map + b->layout.size_bytes);
	frame_pool_init(&b->fp, b->map, &b->layout, N_FRAMES);
	return 0;
}

/* Slot @slot to @session, the way daemon/storage/pool.c's pool_attach() hands one out. */
static void bench_attach(struct bench *b, uint32_t slot, uint32_t session)
{
	frame_slot_assign(&b->fp.slots[slot], session);
	if (atomic_load(&b->fp.shared->slots_used) <= slot)
		atomic_store(&b->fp.shared->slots_used, slot + 1);
}

/* A fresh pool and free list before each measurement: every frame free, no waiters. */
static int bench_reset(struct bench *b)
{
	struct bench_shared *bs = b->bs;
	pthread_mutexattr_t attr;
	int r;

	shm_header_write(b->map, &b->layout, 1, "bench", &b->framing);
	bench_attach(b, 0, 1);
	bench_attach(b, 1, 2);

	memset(bs, 0, sizeof(*bs));
	r = pthread_mutexattr_init(&attr);
	if (r == 0)
		r = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	if (r == 0)
		r = pthread_mutex_init(&bs->fl.lock, &attr);
	pthread_mutexattr_destroy(&attr);
	if (r != 0)
		return -r;
	for (uint32_t i = 0; i < N_FRAMES; i++)
		bs->fl.stack[i] = i;
	bs->fl.top = N_FRAMES;
	return 0;
}

static bool aborted(const struct bench *b)
{
	return atomic_load_explicit(&b->bs->abort, memory_order_relaxed) != 0;
}

/*
 * Waits for *@word to reach @value. Yields while it waits: on one CPU the
 * other side can only get there if we let it run.
 */
static int wait_for(const struct bench *b, _Atomic uint32_t *word, uint32_t value)
{
	while (atomic_load(word) != value) {
		if (aborted(b))
			return -ECANCELED;
		sched_yield();
	}
	return 0;
}

/* Both children start their loops together. */
static int barrier(const struct bench *b)
{
	atomic_fetch_add(&b->bs->ready, 1);
	return wait_for(b, &b->bs->ready, b->n_children);
}

/* @who's own session and slot: sessions 1 and 2 in slots 0 and 1. */
static int loop_ksalloc(struct bench *b, unsigned who)
{
	struct frame_pool *fp = &b->fp;
	struct shm_slot *slot = &fp->slots[who];
	uint32_t session = who + 1, hint = b->first_hint[who], index, generation;

	for (uint64_t i = 0; i < b->pairs; i++) {
		if (frame_try_acquire(fp, session, slot, &hint, &index, &generation) < 0)
			return -EAGAIN;
		if (frame_release(fp, session, index, generation) < 0)
			return -EIO;
		/* As ksalloc_pool_release() does: the frame just freed is warm, take it next. */
		hint = index;
	}
	return 0;
}

/*
 * The client's epoch (struct ksalloc_client's): process-private memory, as in the library.
 * Never moves here: the daemon lives.
 */
static _Atomic uint32_t client_epoch;

/* loop_ksalloc() with the check the library makes before each acquire and release. */
static int loop_live(struct bench *b, unsigned who)
{
	struct frame_pool *fp = &b->fp;
	struct shm_slot *slot = &fp->slots[who];
	uint32_t session = who + 1, hint = b->first_hint[who], index, generation;

	for (uint64_t i = 0; i < b->pairs; i++) {
		/* As ksalloc_pool_acquire(): one clock read for the check and acquired_ms. */
		uint64_t now_ms = shm_now_coarse_ms();

		if (!shm_liveness_fresh_at(fp->shared, &client_epoch, 0, now_ms))
			return -ESHUTDOWN;
		if (frame_try_acquire_at(fp, session, slot, &hint, now_ms, &index, &generation) < 0)
			return -EAGAIN;
		if (!shm_liveness_fresh_at(fp->shared, &client_epoch, 0, shm_now_coarse_ms()))
			return -ESHUTDOWN;
		if (frame_release(fp, session, index, generation) < 0)
			return -EIO;
		hint = index;
	}
	return 0;
}

static int loop_rmw(struct bench *b)
{
	for (uint64_t i = 0; i < b->pairs; i++)
		atomic_fetch_add(&b->bs->scratch, 1);
	return 0;
}

static int loop_clock(struct bench *b)
{
	struct timespec ts;
	uint64_t sum = 0;

	for (uint64_t i = 0; i < b->pairs; i++) {
		clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
		sum += (uint64_t)ts.tv_nsec;
	}
	/* The sum goes somewhere, so that nothing is left out. */
	atomic_store_explicit(&b->bs->scratch, sum, memory_order_relaxed);
	return 0;
}

static int loop_mutex(struct bench *b, unsigned who)
{
	struct freelist *fl = &b->bs->fl;
	uint32_t index;

	for (uint64_t i = 0; i < b->pairs; i++) {
		pthread_mutex_lock(&fl->lock);
		if (fl->top == 0) {
			pthread_mutex_unlock(&fl->lock);
			return -EAGAIN;
		}
		index = fl->stack[--fl->top];
		pthread_mutex_unlock(&fl->lock);

		pthread_mutex_lock(&fl->lock);
		fl->stack[fl->top++] = index;
		pthread_mutex_unlock(&fl->lock);
	}
	return 0;
}

/* A child of a pairs measurement: wait for the other, then time its own loop. */
static int child_pairs(struct bench *b, unsigned who)
{
	struct child_result *res = &b->bs->result[who];
	int64_t wall, cpu;
	int r;

	r = barrier(b);
	if (r < 0)
		return r;
	wall = clock_ns(CLOCK_MONOTONIC);
	cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	switch (b->variant) {
	case V_KSALLOC:
		r = loop_ksalloc(b, who);
		break;
	case V_MUTEX:
		r = loop_mutex(b, who);
		break;
	case V_RMW:
		r = loop_rmw(b);
		break;
	case V_CLOCK:
		r = loop_clock(b);
		break;
	case V_LIVE:
		r = loop_live(b, who);
		break;
	default:
		r = -EINVAL;
		break;
	}
	res->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu;
	res->wall_ns = clock_ns(CLOCK_MONOTONIC) - wall;
	return r;
}

/* The state letter of the process whose /proc/PID/stat is open at @fd, or -1. */
static int proc_state(int fd)
{
	char buf[256], *p;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -1;
	return p[2];
}

/*
 * Waits until the waiter of round @k has counted itself in (in its slot, or in
 * bs->armed for the raw futex) and the kernel says it sleeps: the release then
 * has to wake it, not merely beat it to the frame.
 */
static int wait_asleep(const struct bench *b, int stat_fd, uint32_t k)
{
	for (;;) {
		bool counted = b->variant == V_KSALLOC ? frame_slot_waiting(&b->fp.slots[1]) == 1 :
							 atomic_load(&b->bs->armed) == k;

		if (aborted(b))
			return -ECANCELED;
		if (counted && proc_state(stat_fd) == 'S')
			return 0;
		sched_yield();
	}
}

/*
 * The releaser (child 0, session 1) holds every frame, and in each round
 * releases one to the waiter (child 1, session 2) asleep in frame_acquire(),
 * then takes it back once the waiter has let it go again.
 */
static int handoff_releaser(struct bench *b)
{
	struct bench_shared *bs = b->bs;
	struct frame_pool *fp = &b->fp;
	uint32_t index[N_FRAMES], generation[N_FRAMES], hint = 0;
	char path[64];
	int stat_fd, r = 0;

	if (b->variant == V_KSALLOC)
		for (uint32_t i = 0; i < N_FRAMES; i++)
			if (frame_try_acquire(fp, 1, &fp->slots[0], &hint, &index[i],
					      &generation[i]) < 0)
				return -EAGAIN;
	r = barrier(b);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)atomic_load(&bs->waiter_pid));
	stat_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (stat_fd < 0)
		return -errno;

	for (uint32_t k = 1; k <= b->rounds && r == 0; k++) {
		uint32_t j = k % N_FRAMES;
		int64_t t0, t1;

		atomic_store(&bs->round, k);
		r = wait_asleep(b, stat_fd, k);
		if (r < 0)
			break;
		t0 = clock_ns(CLOCK_MONOTONIC);
		if (b->variant == V_KSALLOC) {
			r = frame_release(fp, 1, index[j], generation[j]);
		} else {
			atomic_store(&bs->futex_word, k);
			raw_futex_wake(&bs->futex_word);
		}
		t1 = clock_ns(CLOCK_MONOTONIC);
		if (r == 0)
			r = wait_for(b, &bs->done, k);
		if (r < 0)
			break;
		bs->latency_ns[k - 1] = atomic_load(&bs->woke_ns) - t0;
		bs->release_ns[k - 1] = t1 - t0;
		/* The waiter has freed the frame it was handed: the only free one. */
		if (b->variant == V_KSALLOC &&
		    frame_try_acquire(fp, 1, &fp->slots[0], &hint, &index[j], &generation[j]) < 0)
			r = -EAGAIN;
	}
	close(stat_fd);
	return r;
}

static int handoff_waiter(struct bench *b)
{
	struct bench_shared *bs = b->bs;
	struct frame_pool *fp = &b->fp;
	uint32_t hint = 0, index, generation, v;
	int r;

	atomic_store(&bs->waiter_pid, (int32_t)getpid());
	r = barrier(b);
	for (uint32_t k = 1; k <= b->rounds && r == 0; k++) {
		r = wait_for(b, &bs->round, k);
		if (r < 0)
			break;
		if (b->variant == V_KSALLOC) {
			r = frame_acquire(fp, 2, &fp->slots[1], &hint, FRAME_INFINITE, &index,
					  &generation);
			atomic_store(&bs->woke_ns, clock_ns(CLOCK_MONOTONIC));
			if (r == 0)
				r = frame_release(fp, 2, index, generation);
		} else {
			atomic_store(&bs->armed, k);
			while ((v = atomic_load(&bs->futex_word)) != k)
				raw_futex_wait(&bs->futex_word, v);
			atomic_store(&bs->woke_ns, clock_ns(CLOCK_MONOTONIC));
		}
		atomic_store(&bs->done, k);
	}
	return r;
}

static int child_handoff(struct bench *b, unsigned who)
{
	return who == 0 ? handoff_releaser(b) : handoff_waiter(b);
}

static int place_cpu(const struct bench *b, enum place place, unsigned who)
{
	switch (place) {
	case P_ONE_CPU:
		return b->cpu_a;
	case P_SPLIT:
		return who == 0 ? b->cpu_a : b->cpu_b;
	case P_FREE:
		break;
	}
	return -1;
}

/*
 * Forks b->n_children children that share the mapping, places them, runs
 * @fn(b, who) in each and reaps them. Returns 0, -ECHILD when a child failed
 * (it said why on stderr), or -errno.
 */
static int run_children(struct bench *b, enum place place, int (*fn)(struct bench *, unsigned))
{
	pid_t pid[2];
	int r = 0;

	for (unsigned who = 0; who < b->n_children; who++) {
		pid[who] = fork();
		if (pid[who] < 0) {
			r = -errno;
			atomic_store(&b->bs->abort, 1);
			b->n_children = who;
			break;
		}
		if (pid[who] == 0) {
			int cpu = place_cpu(b, place, who);
			cpu_set_t set;

			/* A benchmark interrupted must not leave spinning children behind. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (cpu >= 0) {
				CPU_ZERO(&set);
				CPU_SET(cpu, &set);
			} else {
				set = b->all_cpus;
			}
			if (sched_setaffinity(0, sizeof(set), &set) < 0)
				r = -errno;
			else
				r = fn(b, who);
			if (r < 0) {
				if (r != -ECANCELED)
					fprintf(stderr, "bench-frames: child %u: %s\n", who,
						strerror(-r));
				atomic_store(&b->bs->abort, 1);
			}
			_exit(r < 0 ? 1 : 0);
		}
	}
	for (unsigned who = 0; who < b->n_children; who++) {
		int status;

		if (waitpid(pid[who], &status, 0) < 0)
			r = -errno;
		else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			r = -ECHILD;
	}
	return r;
}

/* The daemon's heartbeat timer, as a thread of the parent: beats until told to stop. */
struct beater {
	pthread_t thread;
	struct shm_shared *shared;
	_Atomic bool stop;
};

static void *beat(void *arg)
{
	struct beater *bt = arg;
	struct timespec period = { .tv_nsec = SHM_HEARTBEAT_MS * 1000000L };

	while (!atomic_load(&bt->stop)) {
		shm_heartbeat_beat(bt->shared, shm_now_coarse_ms());
		nanosleep(&period, NULL);
	}
	return NULL;
}

/* ns per pair of @n processes doing b->pairs each: per process, mean over them. */
static int measure_pairs(struct bench *b, enum variant v, unsigned n, enum place place,
			 double *ret_wall_ns, double *ret_cpu_ns)
{
	struct beater bt = { .shared = b->fp.shared };
	double wall = 0, cpu = 0;
	int r;

	r = bench_reset(b);
	if (r < 0)
		return r;
	b->variant = v;
	b->n_children = n;
	/* Only for the liveness rows: the others stay free of the thread's system calls. */
	shm_heartbeat_beat(b->fp.shared, shm_now_coarse_ms());
	if (v == V_LIVE && pthread_create(&bt.thread, NULL, beat, &bt) != 0)
		return -EAGAIN;
	r = run_children(b, place, child_pairs);
	if (v == V_LIVE) {
		atomic_store(&bt.stop, true);
		pthread_join(bt.thread, NULL);
	}
	if (r < 0)
		return r;
	for (unsigned who = 0; who < n && b->pairs > 0; who++) {
		wall += (double)b->bs->result[who].wall_ns / (double)b->pairs / n;
		cpu += (double)b->bs->result[who].cpu_ns / (double)b->pairs / n;
	}
	*ret_wall_ns = wall;
	*ret_cpu_ns = cpu;
	return 0;
}

/* A hand-off run of b->rounds rounds; the medians of its latencies and release times. */
static int measure_handoff(struct bench *b, enum variant v, enum place place,
			   double *ret_latency_ns, double *ret_release_ns, double *all_latency,
			   unsigned *n_all)
{
	double lat[MAX_ROUNDS], rel[MAX_ROUNDS];
	int r;

	r = bench_reset(b);
	if (r < 0)
		return r;
	b->variant = v;
	b->n_children = 2;
	r = run_children(b, place, child_handoff);
	if (r < 0)
		return r;
	for (uint32_t k = 0; k < b->rounds; k++) {
		lat[k] = (double)b->bs->latency_ns[k];
		rel[k] = (double)b->bs->release_ns[k];
		if (all_latency && *n_all < MAX_ROUNDS)
			all_latency[(*n_all)++] = lat[k];
	}
	*ret_latency_ns = median(lat, b->rounds);
	*ret_release_ns = median(rel, b->rounds);
	return 0;
}

/* One row of the table: a ksalloc figure and its baseline, per repetition. */
struct row {
	const char *what;
	enum place place;
	double bar_ns;      /* 0: no bar */
	bool judged;        /* the bar is judged on this row (one CPU), else reported only */
	double k[MAX_REPS]; /* ksalloc */
	double base[MAX_REPS];
	unsigned n;
	/* Hand-off rows: every sample of every repetition, for percentiles. */
	double *samples_k, *samples_base;
	unsigned n_samples_k, n_samples_base;
};

enum {
	R_UNC_ONE,
	R_UNC_FREE,
	R_CON_ONE,
	R_CON_ONE_CPU,
	R_CON_SPLIT,
	R_CON_FREE,
	R_HO_ONE,
	R_HO_SPLIT,
	R_HO_FREE,
	R_REL_ONE,
	R_REL_SPLIT,
	R_REL_FREE,
	R_LIVE_UNC,
	R_LIVE_CON,
	R_LOSS,
	N_ROWS,
};

#define PAIRS(w, p, bar, j)                                               \
	{                                                                 \
		.what = (w), .place = (p), .bar_ns = (bar), .judged = (j) \
	}
#define HANDOFF(w, p)                     \
	{                                 \
		.what = (w), .place = (p) \
	}

static struct row rows[N_ROWS] = {
	[R_UNC_ONE] = PAIRS("pair, 1 process", P_ONE_CPU, BAR_UNCONTENDED_NS, true),
	[R_UNC_FREE] = PAIRS("pair, 1 process", P_FREE, BAR_UNCONTENDED_NS, false),
	[R_CON_ONE] = PAIRS("pair, 2 processes contending", P_ONE_CPU, BAR_CONTENDED_NS, true),
	[R_CON_ONE_CPU] = PAIRS("pair, 2 processes contending, on-CPU time", P_ONE_CPU,
				BAR_CONTENDED_NS, true),
	[R_CON_SPLIT] = PAIRS("pair, 2 processes contending", P_SPLIT, BAR_CONTENDED_NS, false),
	[R_CON_FREE] = PAIRS("pair, 2 processes contending", P_FREE, BAR_CONTENDED_NS, false),
	[R_HO_ONE] = HANDOFF("hand-off: release to sleeping waiter's return", P_ONE_CPU),
	[R_HO_SPLIT] = HANDOFF("hand-off: release to sleeping waiter's return", P_SPLIT),
	[R_HO_FREE] = HANDOFF("hand-off: release to sleeping waiter's return", P_FREE),
	[R_REL_ONE] = HANDOFF("hand-off: the releasing call itself", P_ONE_CPU),
	[R_REL_SPLIT] = HANDOFF("hand-off: the releasing call itself", P_SPLIT),
	[R_REL_FREE] = HANDOFF("hand-off: the releasing call itself", P_FREE),
	[R_LIVE_UNC] = PAIRS("pair with the liveness check, 1 process", P_ONE_CPU,
			     BAR_UNCONTENDED_NS, true),
	[R_LIVE_CON] = PAIRS("pair with the liveness check, 2 processes contending", P_ONE_CPU,
			     BAR_CONTENDED_NS, true),
	[R_LOSS] = PAIRS("daemon SIGKILL to a blocked acquire's -ESHUTDOWN", P_FREE, BAR_LOSS_NS,
			 true),
};

static double all_samples[6][MAX_ROUNDS];

static bool have_place(const struct bench *b, enum place place)
{
	return place != P_SPLIT || b->cpu_b >= 0;
}

static int rep_pairs(struct bench *b, unsigned n, enum place place, int row, int cpu_row, bool keep)
{
	double kw, kc, bw, bc;
	int r;

	if (!have_place(b, place))
		return 0;
	r = measure_pairs(b, V_KSALLOC, n, place, &kw, &kc);
	if (r == 0)
		r = measure_pairs(b, V_MUTEX, n, place, &bw, &bc);
	if (r < 0 || !keep)
		return r;
	rows[row].k[rows[row].n] = kw;
	rows[row].base[rows[row].n++] = bw;
	if (cpu_row >= 0) {
		rows[cpu_row].k[rows[cpu_row].n] = kc;
		rows[cpu_row].base[rows[cpu_row].n++] = bc;
	}
	return 0;
}

static int rep_handoff(struct bench *b, enum place place, int row, int rel_row, bool keep)
{
	struct row *rw = &rows[row];
	double kl, kr, bl, br;
	int r;

	if (!have_place(b, place))
		return 0;
	r = measure_handoff(b, V_KSALLOC, place, &kl, &kr, keep ? rw->samples_k : NULL,
			    &rw->n_samples_k);
	if (r == 0)
		r = measure_handoff(b, V_FUTEX, place, &bl, &br, keep ? rw->samples_base : NULL,
				    &rw->n_samples_base);
	if (r < 0 || !keep)
		return r;
	rw->k[rw->n] = kl;
	rw->base[rw->n++] = bl;
	rows[rel_row].k[rows[rel_row].n] = kr;
	rows[rel_row].base[rows[rel_row].n++] = br;
	return 0;
}

/* The liveness check's cost: pairs with it against plain pairs, back to back. */
static int rep_live(struct bench *b, unsigned n, int row, bool keep)
{
	double lw, lc, kw, kc;
	int r;

	r = measure_pairs(b, V_LIVE, n, P_ONE_CPU, &lw, &lc);
	if (r == 0)
		r = measure_pairs(b, V_KSALLOC, n, P_ONE_CPU, &kw, &kc);
	if (r < 0 || !keep)
		return r;
	rows[row].k[rows[row].n] = lw;
	rows[row].base[rows[row].n++] = kw;
	return 0;
}

/*
 * Where an uncontended pair's time goes, and how much of the contended one
 * comes from sharing a cache line of frame descriptors: per repetition.
 */
enum {
	A_RMW,        /* ns per locked read-modify-write, CPU A */
	A_CLOCK,      /* ns per clock_gettime(CLOCK_MONOTONIC_COARSE), CPU A */
	A_SPLIT_SAME, /* ns per pair, CPUs A and B, both children starting at frame 0 */
	N_ANATOMY,
};

static double anatomy[N_ANATOMY][MAX_REPS];
static unsigned n_anatomy;

static int rep_anatomy(struct bench *b, bool keep)
{
	double v[N_ANATOMY] = { 0 }, cpu;
	int r;

	r = measure_pairs(b, V_RMW, 1, P_ONE_CPU, &v[A_RMW], &cpu);
	if (r == 0)
		r = measure_pairs(b, V_CLOCK, 1, P_ONE_CPU, &v[A_CLOCK], &cpu);
	if (r == 0 && have_place(b, P_SPLIT)) {
		/* What the client's per-slot first hint saves: both on one frame at first. */
		b->first_hint[1] = 0;
		r = measure_pairs(b, V_KSALLOC, 2, P_SPLIT, &v[A_SPLIT_SAME], &cpu);
		b->first_hint[1] = 1;
	}
	if (r < 0 || !keep)
		return r;
	for (int i = 0; i < N_ANATOMY; i++)
		anatomy[i][n_anatomy] = v[i];
	n_anatomy++;
	return 0;
}

/* One repetition of everything, ksalloc and its baseline back to back. */
static int run_rep(struct bench *b, bool keep)
{
	int r = 0;

	r = r ?: rep_pairs(b, 1, P_ONE_CPU, R_UNC_ONE, -1, keep);
	r = r ?: rep_pairs(b, 1, P_FREE, R_UNC_FREE, -1, keep);
	r = r ?: rep_pairs(b, 2, P_ONE_CPU, R_CON_ONE, R_CON_ONE_CPU, keep);
	r = r ?: rep_pairs(b, 2, P_SPLIT, R_CON_SPLIT, -1, keep);
	r = r ?: rep_pairs(b, 2, P_FREE, R_CON_FREE, -1, keep);
	r = r ?: rep_handoff(b, P_ONE_CPU, R_HO_ONE, R_REL_ONE, keep);
	r = r ?: rep_handoff(b, P_SPLIT, R_HO_SPLIT, R_REL_SPLIT, keep);
	r = r ?: rep_handoff(b, P_FREE, R_HO_FREE, R_REL_FREE, keep);
	r = r ?: rep_live(b, 1, R_LIVE_UNC, keep);
	r = r ?: rep_live(b, 2, R_LIVE_CON, keep);
	r = r ?: rep_anatomy(b, keep);
	return r;
}

static const char *place_name(const struct bench *b, enum place place, unsigned n_children)
{
	static char buf[64];

	switch (place) {
	case P_ONE_CPU:
		if (n_children == 1)
			snprintf(buf, sizeof(buf), "CPU %d", b->cpu_a);
		else
			snprintf(buf, sizeof(buf), "both on CPU %d", b->cpu_a);
		return buf;
	case P_SPLIT:
		snprintf(buf, sizeof(buf), "CPUs %d and %d", b->cpu_a, b->cpu_b);
		return buf;
	case P_FREE:
		break;
	}
	return "unpinned";
}

static void format_ns(char *buf, size_t size, double ns)
{
	if (ns < 1000)
		snprintf(buf, size, "%.1f", ns);
	else
		snprintf(buf, size, "%.0f", ns);
}

static void print_row(const struct bench *b, const struct row *rw, unsigned n_children)
{
	char med[32], lo[32], hi[32], base[32], bar[32], verdict[16];
	double s[MAX_REPS], m, bm;

	if (rw->n == 0)
		return;
	memcpy(s, rw->k, rw->n * sizeof(*s));
	qsort(s, rw->n, sizeof(*s), cmp_double);
	m = median(rw->k, rw->n);
	bm = median(rw->base, rw->n);
	format_ns(med, sizeof(med), m);
	format_ns(lo, sizeof(lo), s[0]);
	format_ns(hi, sizeof(hi), s[rw->n - 1]);
	format_ns(base, sizeof(base), bm);
	if (rw->bar_ns > 0) {
		bool pass = m < rw->bar_ns;

		snprintf(bar, sizeof(bar), rw->judged ? "< %.0f ns" : "(< %.0f ns)", rw->bar_ns);
		snprintf(verdict, sizeof(verdict), "%s",
			 rw->judged ? (pass ? "pass" : "FAIL") : (pass ? "(pass)" : "(fail)"));
	} else {
		snprintf(bar, sizeof(bar), "-");
		snprintf(verdict, sizeof(verdict), "-");
	}
	printf("| %s | %s | %s | %s | %s | %s | %.2f | %s | %s |\n", rw->what,
	       place_name(b, rw->place, n_children), med, lo, hi, base, bm > 0 ? m / bm : 0.0, bar,
	       verdict);
}

static void print_table(const struct bench *b, unsigned reps)
{
	printf("| measurement | placement | median ns | min | max | baseline median ns | ratio "
	       "| bar | pass/fail |\n");
	printf("|---|---|---:|---:|---:|---:|---:|---|---|\n");
	for (int i = 0; i < N_ROWS; i++)
		print_row(b, &rows[i],
			  i == R_UNC_ONE || i == R_UNC_FREE || i == R_LIVE_UNC ? 1 : 2);
	printf("\n");
	printf("- pair: ns per frame_try_acquire() + frame_release(), keeping the hint as the "
	       "client does; median, min and max over %u repetitions of %llu pairs per process; "
	       "2 processes: the mean of each one's own loop (CLOCK_MONOTONIC), at once on the "
	       "same pool.\n",
	       reps, (unsigned long long)b->pairs);
	printf("- on-CPU time: the same loops by CLOCK_THREAD_CPUTIME_ID. On one CPU the two "
	       "processes take turns, so each one's wall time also counts the other's turns.\n");
	printf("- baseline for pairs: a PTHREAD_PROCESS_SHARED mutex (default type) in the same "
	       "memfd around a stack of the same %d frame indexes: lock, pop, unlock, lock, "
	       "push, unlock.\n",
	       N_FRAMES);
	printf("- hand-off: the waiter sleeps in frame_acquire(FRAME_INFINITE) on an exhausted "
	       "pool (checked in /proc), the other process releases one frame; latency from "
	       "just before frame_release() to frame_acquire()'s return in the waiter; median "
	       "of %u hand-offs per repetition, then median, min and max over repetitions. "
	       "Baseline: the same protocol with FUTEX_WAIT / FUTEX_WAKE on a shared word.\n",
	       (unsigned)b->rounds);
	printf("- the releasing call itself: frame_release() with a waiter (hand-over and one "
	       "FUTEX_WAKE), against a store and FUTEX_WAKE. On one CPU the woken waiter runs "
	       "before the releaser returns, so this also counts the waiter's return.\n");
	printf("- pair with the liveness check: the pair above with the library's check before "
	       "acquire and before release (shm/liveness.h: its epoch, a coarse clock read and the "
	       "heartbeat's load; acquire's clock read also serves as the frame's acquired_ms, "
	       "frame_try_acquire_at(), as in the library), a thread of the parent beating every "
	       "%u ms as the daemon does. "
	       "Baseline: the plain pair, in the same repetition.\n",
	       SHM_HEARTBEAT_MS);
	if (rows[R_LOSS].n)
		printf("- daemon SIGKILL to a blocked acquire's -ESHUTDOWN: the real ksallocd, a "
		       "pool of 1 frame held by this process, another process waiting in "
		       "ksalloc_pool_acquire(KSALLOC_INFINITE), killed a random 0 to %u ms after "
		       "it started waiting; from just before kill() to the waiter's return; %u "
		       "losses. Baseline: the 1 s bound.\n",
		       2 * SHM_HEARTBEAT_MS, rows[R_LOSS].n);
	printf("- ratio: ksalloc median / baseline median, same run, same placement.\n");
	printf("- bars from docs/architecture.md, judged with both sides on one CPU; "
	       "parenthesised ones are unpinned rows, reported only.\n");
	for (int i = R_HO_ONE; i <= R_HO_FREE; i++) {
		struct row *rw = &rows[i];

		if (rw->n == 0)
			continue;
		printf("- hand-off, %s, all %u samples: ksalloc p50 %.0f / p99 %.0f ns, "
		       "raw futex p50 %.0f / p99 %.0f ns\n",
		       place_name(b, rw->place, 2), rw->n_samples_k,
		       percentile(rw->samples_k, rw->n_samples_k, 0.5),
		       percentile(rw->samples_k, rw->n_samples_k, 0.99),
		       percentile(rw->samples_base, rw->n_samples_base, 0.5),
		       percentile(rw->samples_base, rw->n_samples_base, 0.99));
	}
	if (n_anatomy == 0)
		return;
	printf("\nWhere the time goes (medians over the same repetitions, ns):\n\n");
	printf("- one locked read-modify-write on the mapping, CPU %d: %.1f "
	       "(an uncontended pair makes 5: two compare-and-swaps, allocated +1 and -1, "
	       "the slot's acquisitions +1; the mutex baseline makes 4)\n",
	       b->cpu_a, median(anatomy[A_RMW], n_anatomy));
	printf("- clock_gettime(CLOCK_MONOTONIC_COARSE), CPU %d: %.1f (one per acquire, "
	       "for acquired_ms)\n",
	       b->cpu_a, median(anatomy[A_CLOCK], n_anatomy));
	if (b->cpu_b >= 0)
		printf("- pair, 2 processes on CPUs %d and %d, both starting at frame 0 (as if "
		       "the client did not start each session at its slot's frame): %.1f, against "
		       "%.1f starting at frames 0 and 1\n",
		       b->cpu_a, b->cpu_b, median(anatomy[A_SPLIT_SAME], n_anatomy),
		       median(rows[R_CON_SPLIT].k, rows[R_CON_SPLIT].n));
}

static const char loss_config[] = "[pool dry]\n"
				  "frames = 1\n"
				  "frame_size = 4096\n";

/* In a child: waits in acquire on the pool the parent holds; writes when it returned. */
static int loss_waiter(int fd)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	struct ksalloc_frame f;
	int64_t t;
	int r;

	if (ksalloc_client_open(NULL, &c) < 0 || ksalloc_pool_open(c, "dry", &p) < 0)
		return 1;
	r = ksalloc_pool_acquire(p, KSALLOC_INFINITE, &f);
	t = r == -ESHUTDOWN ? clock_ns(CLOCK_MONOTONIC) : -1;
	return write(fd, &t, sizeof(t)) == sizeof(t) ? 0 : 1;
}

/* One loss of the daemon @d, which runs: ns from SIGKILL to the waiter's return. */
static int measure_loss(struct test_daemon *d, double *ret_ns)
{
	struct ksalloc_pool_stats st = { 0 };
	struct ksalloc_client *c = NULL;
	struct ksalloc_pool *p = NULL;
	struct ksalloc_frame f;
	int64_t t0, t1 = -1;
	int fds[2], r, status;
	pid_t child;

	r = ksalloc_client_open(NULL, &c);
	if (r == 0)
		r = ksalloc_pool_open(c, "dry", &p);
	if (r == 0)
		r = ksalloc_pool_acquire(p, 0, &f);
	if (r == 0 && pipe2(fds, O_CLOEXEC) < 0)
		r = -errno;
	if (r < 0)
		goto out;
	child = fork();
	if (child == 0) {
		close(fds[0]);
		_exit(loss_waiter(fds[1]));
	}
	close(fds[1]);
	/* The daemon counts the waiter: it sleeps in the futex. */
	do {
		r = ksalloc_client_pool_stats(c, "dry", &st);
		free(st.holders);
	} while (r == 0 && st.waiters == 0 && sched_yield() == 0);
	/*
	 * The kill falls anywhere in the heartbeat's period and the waiter's slice, as a
	 * crash would: a random 0 to 2 periods after the waiter started.
	 */
	{
		long delay_ns = (long)(random() % (2 * SHM_HEARTBEAT_MS * 1000)) * 1000;
		struct timespec ts = { .tv_sec = delay_ns / 1000000000,
				       .tv_nsec = delay_ns % 1000000000 };

		nanosleep(&ts, NULL);
	}
	t0 = clock_ns(CLOCK_MONOTONIC);
	test_daemon_crash(d);
	if (read(fds[0], &t1, sizeof(t1)) != sizeof(t1) || t1 < 0)
		r = r ?: -EPROTO;
	close(fds[0]);
	if (child > 0)
		waitpid(child, &status, 0);
	*ret_ns = (double)(t1 - t0);
out:
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	return r;
}

/* @reps losses of a real ksallocd, restarted on the same socket in between. */
static int run_loss(unsigned reps)
{
	struct test_daemon_options o;
	struct test_daemon d;
	int r;

	test_daemon_options_init(&o);
	o.program = daemon_beside_me();
	o.dir_prefix = "ksalloc-bench-frames";
	if (access(o.program, X_OK) < 0) {
		fprintf(stderr, "bench-frames: %s: %s: no loss rows\n", o.program, strerror(errno));
		return 0;
	}
	r = test_daemon_start_with(&d, loss_config, &o);
	for (unsigned i = 0; r == 0 && i < reps; i++) {
		double ns;

		if (i > 0)
			r = test_daemon_restart(&d);
		if (r == 0)
			r = measure_loss(&d, &ns);
		if (r == 0) {
			rows[R_LOSS].k[rows[R_LOSS].n] = ns;
			rows[R_LOSS].base[rows[R_LOSS].n++] = BAR_LOSS_NS;
		}
	}
	if (r < 0)
		fprintf(stderr, "bench-frames: daemon loss: %s\n", strerror(-r));
	test_daemon_kill(&d);
	return r;
}

/* `--only WHAT`: one measurement, once, for counting its system calls from outside. */
static int run_only(struct bench *b, const char *what, enum place place)
{
	double wall, cpu, lat, rel;
	int r;

	if (!have_place(b, place)) {
		fprintf(stderr, "bench-frames: only one CPU: no split placement\n");
		return -ENODEV;
	}
	if (strcmp(what, "uncontended-ksalloc") == 0)
		r = measure_pairs(b, V_KSALLOC, 1, place, &wall, &cpu);
	else if (strcmp(what, "uncontended-live") == 0)
		r = measure_pairs(b, V_LIVE, 1, place, &wall, &cpu);
	else if (strcmp(what, "uncontended-mutex") == 0)
		r = measure_pairs(b, V_MUTEX, 1, place, &wall, &cpu);
	else if (strcmp(what, "contended-ksalloc") == 0)
		r = measure_pairs(b, V_KSALLOC, 2, place, &wall, &cpu);
	else if (strcmp(what, "contended-mutex") == 0)
		r = measure_pairs(b, V_MUTEX, 2, place, &wall, &cpu);
	else if (strcmp(what, "handoff-ksalloc") == 0 || strcmp(what, "handoff-futex") == 0) {
		r = measure_handoff(b, what[8] == 'k' ? V_KSALLOC : V_FUTEX, place, &lat, &rel,
				    NULL, NULL);
		if (r == 0)
			printf("%s, %s: %u hand-offs, median %.0f ns\n", what,
			       place_name(b, place, 2), (unsigned)b->rounds, lat);
		return r;
	} else {
		fprintf(stderr, "bench-frames: unknown measurement '%s'\n", what);
		return -EINVAL;
	}
	if (r == 0)
		printf("%s, %s: %llu pairs per process, %.1f ns/pair (on-CPU %.1f)\n", what,
		       place_name(b, place, what[0] == 'u' ? 1 : 2), (unsigned long long)b->pairs,
		       wall, cpu);
	return r;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: bench-frames [OPTIONS]\n"
		"Measures acquire + release of a frame (shm/frame.c) in shared memory against\n"
		"a process-shared pthread mutex, and hand-offs to a sleeping waiter against a raw\n"
		"futex, and prints a Markdown table.\n"
		"\n"
		"  --pairs N     pairs per process per run (default %d)\n"
		"  --reps N      repetitions after the warm-up, at most %d (default %d)\n"
		"  --rounds N    hand-offs per run, at most %d (default %d)\n"
		"  --loss N      daemon losses to time on the real ksallocd (default %d; 0: none)\n"
		"  --only WHAT   run one measurement once: uncontended-ksalloc, uncontended-live,\n"
		"                uncontended-mutex, contended-ksalloc, contended-mutex,\n"
		"                handoff-ksalloc, handoff-futex\n"
		"  --place P     where --only runs: one-cpu (default), split, free\n"
		"  -h, --help    this text\n",
		DEFAULT_PAIRS, MAX_REPS, DEFAULT_REPS, MAX_ROUNDS, DEFAULT_ROUNDS,
		DEFAULT_LOSS_REPS);
}

int main(int argc, char **argv)
{
	static const struct option options[] = { { "pairs", required_argument, NULL, 'p' },
						 { "reps", required_argument, NULL, 'r' },
						 { "rounds", required_argument, NULL, 'n' },
						 { "only", required_argument, NULL, 'o' },
						 { "loss", required_argument, NULL, 'l' },
						 { "place", required_argument, NULL, 'P' },
						 { "help", no_argument, NULL, 'h' },
						 {} };
	/* Each child starts looking at its slot's frame, as client/pool.c does. */
	struct bench b = {
		.fd = -1, .map = MAP_FAILED, .cpu_a = -1, .cpu_b = -1, .first_hint = { 0, 1 }
	};
	unsigned long long pairs = DEFAULT_PAIRS, reps = DEFAULT_REPS, rounds = DEFAULT_ROUNDS,
			   loss = DEFAULT_LOSS_REPS;
	const char *only = NULL;
	enum place only_place = P_ONE_CPU;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		r = 0;
		switch (c) {
		case 'p':
			r = parse_uint(optarg, 0, UINT64_MAX, &pairs);
			break;
		case 'r':
			r = parse_uint(optarg, 1, MAX_REPS, &reps);
			break;
		case 'n':
			r = parse_uint(optarg, 0, MAX_ROUNDS, &rounds);
			break;
		case 'o':
			only = optarg;
			break;
		case 'l':
			r = parse_uint(optarg, 0, MAX_REPS, &loss);
			break;
		case 'P':
			if (strcmp(optarg, "one-cpu") == 0)
				only_place = P_ONE_CPU;
			else if (strcmp(optarg, "split") == 0)
				only_place = P_SPLIT;
			else if (strcmp(optarg, "free") == 0)
				only_place = P_FREE;
			else
				r = -EINVAL;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (r < 0) {
			fprintf(stderr, "bench-frames: bad value '%s'\n", optarg);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}

	if (sched_getaffinity(0, sizeof(b.all_cpus), &b.all_cpus) < 0) {
		perror("bench-frames: sched_getaffinity");
		return 1;
	}
	for (int cpu = 0; cpu < CPU_SETSIZE && b.cpu_b < 0; cpu++) {
		if (!CPU_ISSET(cpu, &b.all_cpus))
			continue;
		if (b.cpu_a < 0)
			b.cpu_a = cpu;
		else
			b.cpu_b = cpu;
	}
	r = bench_open(&b);
	if (r < 0) {
		fprintf(stderr, "bench-frames: making the pool: %s\n", strerror(-r));
		return 1;
	}
	b.pairs = pairs;
	b.rounds = (uint32_t)rounds;
	if (only) {
		r = run_only(&b, only, only_place);
		return r < 0 ? 1 : 0;
	}

	for (int i = R_HO_ONE; i <= R_HO_FREE; i++) {
		rows[i].samples_k = all_samples[2 * (i - R_HO_ONE)];
		rows[i].samples_base = all_samples[2 * (i - R_HO_ONE) + 1];
	}
	printf("bench-frames: %d frames of %d bytes, %d slots; %llu pairs per process, "
	       "%u hand-offs per run; %llu repetitions after a warm-up\n\n",
	       N_FRAMES, FRAME_SIZE, N_SLOTS, pairs, (unsigned)rounds, reps);
	fflush(stdout);

	/* The warm-up: a quarter of everything, thrown away. */
	b.pairs = pairs / 4;
	b.rounds = (uint32_t)(rounds / 4 ? rounds / 4 : 1);
	r = run_rep(&b, false);
	b.pairs = pairs;
	b.rounds = (uint32_t)rounds;
	for (unsigned i = 0; i < reps && r == 0; i++)
		r = run_rep(&b, true);
	if (r < 0) {
		fprintf(stderr, "bench-frames: %s\n",
			r == -ECHILD ? "a measurement failed" : strerror(-r));
		return 1;
	}
	if (loss > 0 && run_loss((unsigned)loss) < 0)
		return 1;
	print_table(&b, (unsigned)reps);
	return 0;
}
