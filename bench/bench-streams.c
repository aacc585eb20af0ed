/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-streams: ksalloc streams (a producer publishing pool frames to
 * consumer processes) against the raw ring the streams design was measured
 * against, in one binary: forked processes pinned where the options say.
 *
 *   ring-latency, ring-tput    the baseline: per consumer a shared-memory
 *       SPSC ring of 64 32-bit frame indexes; a consumer that finds it empty
 *       announces that it will sleep and the producer wakes it (FUTEX_WAKE)
 *       only then, taking the announcement back; a producer that finds a ring
 *       full sleeps the same way and is woken when half of it is free. No
 *       pool: the frames are 64 slots of 64 bytes in the mapping, used in turn.
 *   ksalloc-latency, ksalloc-tput    the same loops through the library, on
 *       the ksallocd beside this program (started on a socket of its own):
 *       the producer creates a memfd pool and a stream on it; each consumer
 *       opens the stream (policy BLOCK, depth 64); a frame goes
 *       acquire(INFINITE) -> fill -> publish(INFINITE) -> receive -> release.
 *   ksalloc-reclaim    --kills times: a consumer holding 16 frames with 16
 *       more queued for it is SIGKILLed; the time until the pool has every
 *       frame back, asking the daemon for its extended status in a loop.
 *
 * The loops, the options and the result lines are streams-harness.h's, shared
 * with bench-iceoryx. --spin-us S: a consumer that finds nothing tries again
 * for up to S µs before it sleeps (ksalloc: receive with timeout 0).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench-util.h"
#include "bench/streams-harness.h"
#include "tests/lib/daemon.h"

#include <ksalloc/ksalloc.h>

#define RING_DEPTH 64u
#define RING_FRAMES 64u
#define FRAME_SIZE 64u

/* ksalloc: twice the queue, so that a full queue, not an empty pool, stops the producer. */
#define POOL_FRAMES (2 * RING_DEPTH)
#define POOL_NAME "bench-streams"
#define STREAM_NAME "bench-streams"

#define RECLAIM_HELD 16u   /* frames the victim holds */
#define RECLAIM_QUEUED 16u /* and has queued for it */
#define RECLAIM_POOL_FRAMES 64u
#define RECLAIM_DEADLINE_NS 10000000000LL

/* ---- the raw ring ------------------------------------------------------------------------ */

/* One consumer's ring: each word that one side writes on a cache line of its own. */
struct ring {
	alignas(HARNESS_LINE) _Atomic uint32_t head; /* written by the producer */
	alignas(HARNESS_LINE) _Atomic uint32_t tail; /* written by the consumer */
	/* 1: the consumer announced it sleeps on this word; the producer takes it back. */
	alignas(HARNESS_LINE) _Atomic uint32_t consumer_sleeping;
	/* 1: the producer found this ring full and sleeps on this word. */
	alignas(HARNESS_LINE) _Atomic uint32_t producer_sleeping;
	alignas(HARNESS_LINE) uint32_t entry[RING_DEPTH];
};

struct ring_shared {
	alignas(HARNESS_LINE) uint8_t frames[RING_FRAMES][FRAME_SIZE];
	struct ring rings[HARNESS_MAX_CONSUMERS];
};

/* What one process counts of its own sleeps and wakes; added to the shared totals at its end. */
struct counts {
	uint64_t consumer_sleeps, producer_sleeps, wakes;
};

static void counts_add(struct harness_shared *h, const struct counts *c)
{
	atomic_fetch_add(&h->consumer_sleeps, c->consumer_sleeps);
	atomic_fetch_add(&h->producer_sleeps, c->producer_sleeps);
	atomic_fetch_add(&h->wakes, c->wakes);
}

/*
 * Wakes whoever announced a sleep on @word, taking the announcement back, so
 * that each sleep costs one FUTEX_WAKE at most. The caller has published what
 * the sleeper waits for and fenced (seq_cst) before this load, and the
 * sleeper announces before it looks again: one of the two sees the other.
 */
static void ring_wake(_Atomic uint32_t *word, struct counts *c)
{
	if (atomic_load_explicit(word, memory_order_relaxed) &&
	    atomic_exchange_explicit(word, 0, memory_order_relaxed)) {
		harness_futex_wake(word);
		c->wakes++;
	}
}

static void ring_push(struct ring *r, uint32_t index, struct counts *c)
{
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);

	for (;;) {
		if (head - atomic_load_explicit(&r->tail, memory_order_acquire) < RING_DEPTH)
			break;
		atomic_store(&r->producer_sleeping, 1);
		if (head - atomic_load(&r->tail) < RING_DEPTH) {
			atomic_exchange(&r->producer_sleeping, 0);
			break;
		}
		harness_futex_wait(&r->producer_sleeping, 1);
		c->producer_sleeps++;
	}
	r->entry[head % RING_DEPTH] = index;
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	atomic_thread_fence(memory_order_seq_cst);
	ring_wake(&r->consumer_sleeping, c);
}

/* The next index; spins up to @spin_ns on an empty ring before it sleeps. */
static uint32_t ring_pop(struct ring *r, int64_t spin_ns, struct counts *c)
{
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed), index;
	int64_t spin_until = spin_ns ? now_ns() + spin_ns : 0;

	for (;;) {
		if (atomic_load_explicit(&r->head, memory_order_acquire) != tail)
			break;
		if (spin_until && now_ns() < spin_until) {
			harness_cpu_relax();
			continue;
		}
		atomic_store(&r->consumer_sleeping, 1);
		if (atomic_load(&r->head) != tail) {
			atomic_exchange(&r->consumer_sleeping, 0);
			break;
		}
		harness_futex_wait(&r->consumer_sleeping, 1);
		c->consumer_sleeps++;
	}
	index = r->entry[tail % RING_DEPTH];
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	atomic_thread_fence(memory_order_seq_cst);
	/* A producer asleep on a full ring is woken when half of it is free. */
	if (atomic_load_explicit(&r->producer_sleeping, memory_order_relaxed) &&
	    atomic_load_explicit(&r->head, memory_order_relaxed) - (tail + 1) <= RING_DEPTH / 2)
		ring_wake(&r->producer_sleeping, c);
	return index;
}

static int ring_producer(struct harness_shared *h, const struct harness_options *o)
{
	struct ring_shared *rs = h->system;
	struct counts c = { 0 };
	int64_t last_ns;
	int r;

	r = harness_ready(h, o, true);
	if (r < 0)
		return r;
	last_ns = now_ns();
	for (uint64_t i = 0; i < o->frames; i++) {
		uint32_t index = (uint32_t)(i % RING_FRAMES);
		int64_t t;

		if (o->test == TEST_LATENCY)
			harness_pace(o);
		else if (o->gap_ns)
			last_ns = harness_gap(o, last_ns);
		t = now_ns();
		memcpy(rs->frames[index], &t, sizeof(t));
		for (unsigned k = 0; k < o->consumers; k++)
			ring_push(&rs->rings[k], index, &c);
		if (o->test == TEST_LATENCY)
			harness_wait_ack(h, (uint32_t)i);
		if (atomic_load_explicit(&h->failed, memory_order_relaxed))
			return -ECANCELED;
	}
	counts_add(h, &c);
	return 0;
}

static int ring_consumer(struct harness_shared *h, const struct harness_options *o, unsigned k)
{
	struct ring_shared *rs = h->system;
	struct ring *ring = &rs->rings[k];
	int64_t spin_ns = (int64_t)o->spin_us * 1000;
	struct counts c = { 0 };
	int64_t sum = 0;
	int r;

	r = harness_ready(h, o, false);
	if (r < 0)
		return r;
	for (uint64_t i = 0; i < o->frames; i++) {
		uint32_t index = ring_pop(ring, spin_ns, &c);
		int64_t t = now_ns(), stamp;

		memcpy(&stamp, rs->frames[index], sizeof(stamp));
		if (o->test == TEST_LATENCY) {
			h->latency_ns[i] = t - stamp;
			harness_ack(h, (uint32_t)i);
		}
		sum += stamp;
	}
	h->end_ns[k] = now_ns();
	counts_add(h, &c);
	/* The frames' contents were read: the compiler is to keep the reads. */
	__asm__ volatile("" : : "r"(sum));
	return 0;
}

static const struct harness_ops ring_ops = {
	.shared_size = sizeof(struct ring_shared),
	.producer = ring_producer,
	.consumer = ring_consumer,
};

/* ---- ksalloc streams ------------------------------------------------------------------------ */

/*
 * The daemon, started by the parent before it forks: the children read its
 * socket path from their copy. Not in the shared mapping: the forks that start
 * it would write their own return values into it.
 */
static struct test_daemon ks_daemon;

static int ks_setup(struct harness_shared *h, const struct harness_options *o)
{
	struct test_daemon_options dopt;
	int r;

	(void)h;
	(void)o;
	test_daemon_options_init(&dopt);
	dopt.program = daemon_beside_me();
	dopt.dir_prefix = "bench-streams";
	r = test_daemon_start_with(&ks_daemon, "[daemon]\nlog_level = warning\n", &dopt);
	if (r < 0) {
		char *log = test_daemon_log(&ks_daemon);

		fprintf(stderr, "bench-streams: %s did not start; its log:\n%s", dopt.program,
			log ? log : "");
		free(log);
		test_daemon_kill(&ks_daemon);
		return r;
	}
	/* Nobody reads its notifications: gone, they cannot stall it. */
	test_daemon_close_notify(&ks_daemon);
	/* For strace -ff counts that leave the daemon out (bench/run-streams.sh). */
	printf("daemon_pid=%d\n", (int)ks_daemon.pid);
	fflush(stdout);
	return 0;
}

static void ks_teardown(struct harness_shared *h, const struct harness_options *o)
{
	(void)h;
	(void)o;
	if (test_daemon_stop(&ks_daemon) < 0)
		fprintf(stderr, "bench-streams: ksallocd did not exit cleanly\n");
}

static int ks_client(const char *name, struct ksalloc_client **ret)
{
	struct ksalloc_client_options opts;
	int r;

	ksalloc_client_options_init(&opts);
	opts.socket_path = ks_daemon.socket_path;
	opts.client_name = name;
	r = ksalloc_client_open(&opts, ret);
	if (r < 0)
		fprintf(stderr, "bench-streams: %s: %s\n", name, ksalloc_client_open_error());
	return r;
}

/*
 * Requests the daemon has answered so far, all types (one reading is a request
 * itself). With @prev, a reading of before, the types that moved since
 * (other than these readings) are printed on stderr, to say what the
 * requests of a run were.
 */
static int ks_requests(struct ksalloc_client *c, const struct ksalloc_daemon_stats *prev,
		       struct ksalloc_daemon_stats *ret_stats, int64_t *ret)
{
	struct ksalloc_daemon_stats st;
	int64_t n = 0;
	int r;

	r = ksalloc_client_daemon_stats(c, &st);
	if (r < 0)
		return r;
	for (size_t i = 0; i < st.n_requests; i++) {
		uint64_t now = st.requests[i].ok + st.requests[i].failed, then = 0;

		n += (int64_t)now;
		for (size_t j = 0; prev && j < prev->n_requests; j++)
			if (strcmp(prev->requests[j].type, st.requests[i].type) == 0)
				then = prev->requests[j].ok + prev->requests[j].failed;
		/* The reading itself is taken away by the caller. */
		if (prev && now != then && strcmp(st.requests[i].type, "get_daemon_stats") != 0)
			fprintf(stderr, "bench-streams: during the run: %llu %s requests\n",
				(unsigned long long)(now - then), st.requests[i].type);
	}
	*ret = n;
	if (ret_stats)
		*ret_stats = st;
	else
		free(st.requests);
	return 0;
}

static int ks_pool_and_stream(struct harness_shared *h, uint32_t frames, struct ksalloc_client **c,
			      struct ksalloc_pool **pool, struct ksalloc_stream **stream)
{
	struct ksalloc_framing framing = {
		.frames = frames,
		.frame_size = FRAME_SIZE,
		.file_alignment = 0,
	};
	int r;

	r = ks_client("bench-streams producer", c);
	if (r < 0)
		return r;
	r = ksalloc_pool_create(*c, POOL_NAME, &framing, pool);
	if (r < 0) {
		fprintf(stderr, "bench-streams: pool: %s\n", ksalloc_client_error(*c));
		return r;
	}
	r = ksalloc_stream_create(*pool, STREAM_NAME, NULL, stream);
	if (r < 0) {
		fprintf(stderr, "bench-streams: stream: %s\n", ksalloc_client_error(*c));
		return r;
	}
	atomic_store(&h->created, 1);
	return 0;
}

static int ks_producer(struct harness_shared *h, const struct harness_options *o)
{
	struct ksalloc_stream *stream = NULL;
	struct ksalloc_client *c = NULL;
	struct ksalloc_pool *pool = NULL;
	struct ksalloc_daemon_stats before = { 0 };
	int64_t req0, req1, req2, last_ns;
	struct counts cnt = { 0 };
	int r;

	r = ks_pool_and_stream(h, POOL_FRAMES, &c, &pool, &stream);
	if (r < 0)
		goto out;
	/*
	 * Every consumer connected and attached, then two readings back to back:
	 * what one reading adds, to take away below.
	 */
	r = harness_wait_word(h, &h->ready, o->consumers);
	if (r < 0)
		goto out;
	r = ks_requests(c, NULL, NULL, &req0);
	if (r >= 0)
		r = ks_requests(c, NULL, &before, &req1);
	if (r < 0)
		goto out;
	r = harness_ready(h, o, true);
	if (r < 0)
		goto out;
	last_ns = now_ns();
	for (uint64_t i = 0; i < o->frames; i++) {
		struct ksalloc_frame f;
		int64_t t;

		if (o->test == TEST_LATENCY)
			harness_pace(o);
		else if (o->gap_ns)
			last_ns = harness_gap(o, last_ns);
		r = ksalloc_pool_acquire(pool, KSALLOC_INFINITE, &f);
		if (r < 0)
			goto out;
		t = now_ns();
		memcpy(f.data, &t, sizeof(t));
		r = ksalloc_stream_publish(stream, &f, NULL, KSALLOC_INFINITE);
		if (r < 0)
			goto out;
		if (r != (int)o->consumers) {
			fprintf(stderr, "bench-streams: frame %llu reached %d consumers, not %u\n",
				(unsigned long long)i, r, o->consumers);
			r = -EPROTO;
			goto out;
		}
		if (o->test == TEST_LATENCY)
			harness_wait_ack(h, (uint32_t)i);
		if (atomic_load_explicit(&h->failed, memory_order_relaxed)) {
			r = -ECANCELED;
			goto out;
		}
	}
	/* Every consumer done, none closed yet: the requests of the frames alone. */
	r = harness_wait_word(h, &h->finished, o->consumers);
	if (r < 0)
		goto out;
	r = ks_requests(c, &before, NULL, &req2);
	if (r < 0)
		goto out;
	h->daemon_requests = req2 - req1 - (req1 - req0);
	atomic_store(&h->measured, 1);
	counts_add(h, &cnt);
out:
	if (r < 0 && r != -ECANCELED && c)
		fprintf(stderr, "bench-streams: producer: %s (%s)\n", strerror(-r),
			ksalloc_client_error(c));
	free(before.requests);
	ksalloc_stream_close(stream);
	ksalloc_pool_close(pool);
	ksalloc_client_close(c);
	return r < 0 ? r : 0;
}

static int ks_open(struct harness_shared *h, uint32_t depth, uint32_t max_held,
		   struct ksalloc_client **c, struct ksalloc_stream **stream)
{
	struct ksalloc_stream_open_options so = {
		.policy = KSALLOC_STREAM_BLOCK,
		.depth = depth,
		.max_held = max_held,
	};
	int r;

	r = harness_wait_word(h, &h->created, 1);
	if (r < 0)
		return r;
	r = ks_client("bench-streams consumer", c);
	if (r < 0)
		return r;
	r = ksalloc_stream_open(*c, STREAM_NAME, &so, stream);
	if (r < 0)
		fprintf(stderr, "bench-streams: opening the stream: %s\n",
			ksalloc_client_error(*c));
	return r;
}

/*
 * Receive, spinning with timeout 0 for up to @spin_ns first; without a spin, a
 * plain blocking receive, as a consumer would call it. The sleeps are the
 * library's own business: counted here are the blocking receives a spin
 * ended in (strace counts the FUTEX_WAITs: bench/run-streams.sh).
 */
static int ks_receive(struct ksalloc_stream *stream, int64_t spin_ns, struct ksalloc_frame *f,
		      struct counts *c)
{
	int64_t until;
	int r;

	if (!spin_ns)
		return ksalloc_stream_receive(stream, KSALLOC_INFINITE, f, NULL);
	until = now_ns() + spin_ns;
	do {
		r = ksalloc_stream_receive(stream, 0, f, NULL);
		if (r != -EAGAIN)
			return r;
		harness_cpu_relax();
	} while (now_ns() < until);
	c->consumer_sleeps++;
	return ksalloc_stream_receive(stream, KSALLOC_INFINITE, f, NULL);
}

static int ks_consumer(struct harness_shared *h, const struct harness_options *o, unsigned k)
{
	int64_t spin_ns = (int64_t)o->spin_us * 1000, sum = 0;
	struct ksalloc_stream *stream = NULL;
	struct ksalloc_client *c = NULL;
	struct counts cnt = { 0 };
	int r;

	r = ks_open(h, RING_DEPTH, 0, &c, &stream);
	if (r < 0)
		goto out;
	r = harness_ready(h, o, false);
	if (r < 0)
		goto out;
	for (uint64_t i = 0; i < o->frames; i++) {
		struct ksalloc_frame f;
		int64_t t, stamp;

		r = ks_receive(stream, spin_ns, &f, &cnt);
		t = now_ns();
		if (r < 0)
			goto out;
		memcpy(&stamp, f.data, sizeof(stamp));
		r = ksalloc_stream_release(stream, &f);
		if (r < 0)
			goto out;
		if (o->test == TEST_LATENCY) {
			h->latency_ns[i] = t - stamp;
			harness_ack(h, (uint32_t)i);
		}
		sum += stamp;
	}
	h->end_ns[k] = now_ns();
	counts_add(h, &cnt);
	atomic_fetch_add(&h->finished, 1);
	/* Closing is a request: after the producer has counted the run's. */
	r = harness_wait_word(h, &h->measured, 1);
	__asm__ volatile("" : : "r"(sum));
out:
	if (r < 0 && r != -ECANCELED && c)
		fprintf(stderr, "bench-streams: consumer %u: %s (%s)\n", k, strerror(-r),
			ksalloc_client_error(c));
	ksalloc_stream_close(stream);
	ksalloc_client_close(c);
	return r < 0 ? r : 0;
}

/*
 * Reclaim. The parent forks the producer once and a victim per kill (the
 * parent opens no client itself, so nothing of the library crosses a fork).
 * Per round: the victim opens the stream, receives and holds RECLAIM_HELD
 * frames, and waits while RECLAIM_QUEUED more are queued for it; the producer
 * SIGKILLs it and asks for the pool's extended status until no frame is
 * allocated.
 */
static int ks_reclaim_victim(struct harness_shared *h, uint32_t round)
{
	struct ksalloc_stream *stream = NULL;
	struct ksalloc_client *c = NULL;
	int r;

	r = ks_open(h, RECLAIM_QUEUED, RECLAIM_HELD, &c, &stream);
	if (r < 0)
		return r;
	atomic_store(&h->victim, getpid());
	atomic_store(&h->opened, round);
	for (unsigned i = 0; i < RECLAIM_HELD; i++) {
		struct ksalloc_frame f;

		r = ksalloc_stream_receive(stream, KSALLOC_INFINITE, &f, NULL);
		if (r < 0)
			return r;
	}
	atomic_store(&h->holding, round);
	/* Held and queued stay so: the kernel closes the session when SIGKILL comes. */
	for (;;)
		pause();
}

static int ks_reclaim_producer(struct harness_shared *h, const struct harness_options *o)
{
	struct ksalloc_stream *stream = NULL;
	struct ksalloc_client *c = NULL;
	struct ksalloc_pool *pool = NULL;
	int r;

	r = ks_pool_and_stream(h, RECLAIM_POOL_FRAMES, &c, &pool, &stream);
	if (r < 0)
		goto out;
	for (uint32_t round = 1; round <= o->kills; round++) {
		struct ksalloc_pool_stats st;
		int64_t t0, t;
		pid_t victim;

		r = harness_wait_word(h, &h->opened, round);
		if (r < 0)
			goto out;
		for (unsigned i = 0; i < RECLAIM_HELD + RECLAIM_QUEUED; i++) {
			struct ksalloc_frame f;

			r = ksalloc_pool_acquire(pool, KSALLOC_INFINITE, &f);
			if (r < 0)
				goto out;
			r = ksalloc_stream_publish(stream, &f, NULL, KSALLOC_INFINITE);
			if (r < 0)
				goto out;
		}
		r = harness_wait_word(h, &h->holding, round);
		if (r < 0)
			goto out;
		victim = atomic_load(&h->victim);
		r = ksalloc_client_pool_stats(c, POOL_NAME, &st);
		if (r < 0)
			goto out;
		free(st.holders);
		if (st.status.allocated_frames != RECLAIM_HELD + RECLAIM_QUEUED) {
			fprintf(stderr, "bench-streams: round %u: %u frames allocated, not %u\n",
				round, st.status.allocated_frames, RECLAIM_HELD + RECLAIM_QUEUED);
			r = -EPROTO;
			goto out;
		}
		t0 = now_ns();
		atomic_store(&h->kill_ns, t0);
		kill(victim, SIGKILL);
		for (;;) {
			r = ksalloc_client_pool_stats(c, POOL_NAME, &st);
			t = now_ns();
			if (r < 0)
				goto out;
			free(st.holders);
			if (st.status.allocated_frames == 0)
				break;
			if (t - t0 > RECLAIM_DEADLINE_NS) {
				fprintf(stderr,
					"bench-streams: round %u: %u frames still allocated 10 s "
					"after SIGKILL\n",
					round, st.status.allocated_frames);
				r = -ETIMEDOUT;
				goto out;
			}
		}
		h->reclaim_ns[round - 1] = (double)(t - t0);
		h->reclaim_daemon_ns[round - 1] =
			st.last_reclaim_ns > (uint64_t)t0 ?
				(double)(st.last_reclaim_ns - (uint64_t)t0) :
				0;
		atomic_store(&h->reclaimed, round);
	}
out:
	if (r < 0 && r != -ECANCELED && c)
		fprintf(stderr, "bench-streams: reclaim producer: %s (%s)\n", strerror(-r),
			ksalloc_client_error(c));
	ksalloc_stream_close(stream);
	ksalloc_pool_close(pool);
	ksalloc_client_close(c);
	return r < 0 ? r : 0;
}

/* A child running @fn (producer: round 0), pinned; exits 0 or 1. */
static pid_t reclaim_spawn(struct harness_shared *h, const struct harness_options *o,
			   uint32_t round)
{
	pid_t pid;
	int r;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	r = harness_pin(round ? harness_consumer_cpu(o, 0) : o->cpu_producer);
	if (r >= 0)
		r = round ? ks_reclaim_victim(h, round) : ks_reclaim_producer(h, o);
	if (r < 0) {
		if (r != -ECANCELED)
			fprintf(stderr, "bench-streams: reclaim %s: %s\n",
				round ? "victim" : "producer", strerror(-r));
		atomic_store(&h->failed, 1);
	}
	_exit(r < 0 ? 1 : 0);
}

static int ks_reclaim(struct harness_shared *h, const struct harness_options *o)
{
	pid_t producer, victim;
	int status, r = 0;

	producer = reclaim_spawn(h, o, 0);
	if (producer < 0)
		return -errno;
	for (uint32_t round = 1; round <= o->kills && r >= 0; round++) {
		victim = reclaim_spawn(h, o, round);
		if (victim < 0) {
			r = -errno;
			break;
		}
		if (waitpid(victim, &status, 0) != victim) {
			r = -errno;
			break;
		}
		h->reclaim_reaped_ns[round - 1] = (double)(now_ns() - atomic_load(&h->kill_ns));
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
			r = -ECHILD;
			break;
		}
		r = harness_wait_word(h, &h->reclaimed, round);
	}
	if (r < 0) {
		atomic_store(&h->failed, 1);
		kill(producer, SIGKILL);
	}
	if (waitpid(producer, &status, 0) == producer && r >= 0 &&
	    (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		r = -ECHILD;
	return r;
}

static const struct harness_ops ksalloc_ops = {
	.setup = ks_setup,
	.teardown = ks_teardown,
	.producer = ks_producer,
	.consumer = ks_consumer,
	.reclaim = ks_reclaim,
};

int main(int argc, char **argv)
{
	static const char *const systems[] = { "ring", "ksalloc", NULL };
	struct harness_options o;
	int r;

	r = harness_parse(argc, argv, systems, &o);
	if (r < 0)
		return 2;
	if (o.test == TEST_RECLAIM && strcmp(o.system, "ksalloc") != 0) {
		fprintf(stderr, "bench-streams: reclaim is ksalloc's alone\n");
		return 2;
	}
	r = harness_run(strcmp(o.system, "ring") == 0 ? &ring_ops : &ksalloc_ops, &o);
	return r < 0 ? 1 : 0;
}
