/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A kill storm on a stream, through the library and the real daemon: round
 * after round, a producer process and three consumer processes run, and
 * SIGKILL takes some of them at moments a seeded PRNG picks, counted in
 * frames the consumers report (never in time). Each consumer checks every
 * frame it gets: intact (a checksum, read again just before it gives the
 * frame back: nobody wrote it meanwhile), its stream sequence strictly rising
 * (none delivered twice), the producer's own count rising within a producer,
 * and exactly one -ECONNRESET for each producer killed between two frames it
 * gets (one between the last frame of a killed producer and the first of the
 * next; more where a producer went before any of its frames reached it). A consumer that sees a violation exits with a status
 * saying which. After each round every process is killed or ended, and the
 * whole pool must come back. Every wait is on an event (a pipe, a process's
 * exit, a frame coming back to the pool); the only time limits are the
 * guards that turn a hang into a failure.
 *
 * $KSALLOC_STORM_SEED picks another seed; $KSALLOC_STORM_ROUNDS another count.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ksalloc/ksalloc.h>

#include "tests/lib/harness.h"
#include "tests/lib/ksalloc-check.h"

static const char config[] = "[pool video]\n"
			     "frames = 16\n"
			     "frame_size = 4096\n"
			     "\n"
			     "[pool small]\n"
			     "frames = 4\n"
			     "frame_size = 4096\n";

#define STREAM "storm"
#define CONSUMERS 3
#define GUARD_MS 30000 /* a hang becomes a failure after this long */

/* What a child's exit status says (0: ended cleanly; SIGKILL: the storm). */
enum {
	EXIT_SETUP = 2,    /* could not open the client, pool or stream */
	EXIT_TWICE = 3,    /* a stream sequence did not rise: delivered twice, or out of order */
	EXIT_CHECKSUM = 4, /* the bytes are not what the producer wrote */
	EXIT_WRITER = 5,   /* the bytes changed while the consumer held the frame */
	EXIT_RESET = 6,    /* not one -ECONNRESET for each producer gone between two frames */
	EXIT_ERRNO = 7,    /* receive, release or publish failed unexpectedly */
	EXIT_STALL = 8,    /* the producer waited GUARD_MS for a frame or for room */
};

static const char *const exit_names[] = {
	[EXIT_SETUP] = "setup failed",
	[EXIT_TWICE] = "a frame delivered twice or out of order",
	[EXIT_CHECKSUM] = "a frame's bytes are not the producer's",
	[EXIT_WRITER] = "a frame written while a consumer held it",
	[EXIT_RESET] = "not one -ECONNRESET for each producer gone between two frames",
	[EXIT_ERRNO] = "an unexpected errno",
	[EXIT_STALL] = "the producer stalled",
};

static struct test_daemon daemon_;

static struct ksalloc_client *client(void)
{
	struct ksalloc_client *c = NULL;

	ck_assert_msg(ksalloc_client_open(NULL, &c) == 0, "%s", ksalloc_client_open_error());
	return c;
}

static struct ksalloc_pool *pool_open(struct ksalloc_client *c, const char *name)
{
	struct ksalloc_pool *p = NULL;

	ck_assert_msg(ksalloc_pool_open(c, name, &p) == 0, "%s", ksalloc_client_error(c));
	return p;
}

/* xorshift64*: the storm's moments, reproducible from the seed. */
static uint64_t rng_state;
static uint64_t seed;   /* the run's */
static uint32_t round_; /* the round under way: its moments come from seed and its number */

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * UINT64_C(2685821657736338717)) >> 32) % n;
}

/* A frame's bytes: the producer's generation and count, then bytes that depend on both. */
struct header {
	uint32_t gen;
	uint32_t pad;
	uint64_t seq;
};

static uint8_t pattern(const struct header *h, uint32_t i)
{
	return (uint8_t)(h->seq * 31 + h->gen * 7 + i);
}

static void fill(struct ksalloc_frame *f, uint32_t gen, uint64_t seq, uint32_t used)
{
	struct header h = { .gen = gen, .seq = seq };
	uint8_t *d = f->data;

	memcpy(d, &h, sizeof(h));
	for (uint32_t i = sizeof(h); i < used; i++)
		d[i] = pattern(&h, i);
}

static bool intact(const struct ksalloc_frame *f, uint32_t used, struct header *ret)
{
	const volatile uint8_t *d = f->data;

	if (used < sizeof(*ret))
		return false;
	for (size_t i = 0; i < sizeof(*ret); i++)
		((uint8_t *)ret)[i] = d[i];
	for (uint32_t i = sizeof(*ret); i < used; i++)
		if (d[i] != pattern(ret, i))
			return false;
	return true;
}

/* A byte to the parent, waiting for room: the pipe is non-blocking for frame reports. */
static void say(int fd, char b)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	while (write(fd, &b, 1) != 1)
		if (errno != EAGAIN || poll(&pfd, 1, GUARD_MS) != 1)
			_exit(EXIT_SETUP);
}

/*
 * The producer, generation @gen: makes or takes over the stream, says 'p' on
 * @ready, then publishes until @stop is readable, when it ends the stream.
 */
static void run_producer(uint32_t gen, int ready, int stop)
{
	struct ksalloc_client *c = NULL;
	struct ksalloc_pool *p = NULL;
	struct ksalloc_stream *s = NULL;
	struct pollfd pfd = { .fd = stop, .events = POLLIN };
	int r;

	if (ksalloc_client_open(NULL, &c) < 0 || ksalloc_pool_open(c, "video", &p) < 0)
		_exit(EXIT_SETUP);
	/*
	 * -EBUSY: the daemon has not read the hang-up of the producer before us
	 * yet (SIGKILLed, and waited for, an instant ago). Each try is a round
	 * trip to the daemon, which reads it meanwhile.
	 */
	for (uint32_t tries = 0; (r = ksalloc_stream_create(p, STREAM, NULL, &s)) == -EBUSY;
	     tries++)
		if (tries > 100000)
			_exit(EXIT_SETUP);
	if (r < 0)
		_exit(EXIT_SETUP);
	say(ready, 'p');
	for (uint64_t seq = 1;; seq++) {
		struct ksalloc_frame_meta meta = {
			.presentation_time = (int64_t)seq,
			.data_used = 256 + (uint32_t)(seq * 97 % 3000),
		};
		struct ksalloc_frame f;

		if (poll(&pfd, 1, 0) == 1) {
			if (ksalloc_stream_end(s) < 0)
				_exit(EXIT_ERRNO);
			ksalloc_stream_close(s);
			ksalloc_pool_close(p);
			ksalloc_client_close(c);
			_exit(0);
		}
		r = ksalloc_pool_acquire(p, GUARD_MS, &f);
		if (r < 0)
			_exit(r == -ETIMEDOUT ? EXIT_STALL : EXIT_ERRNO);
		fill(&f, gen, seq, meta.data_used);
		/* A killed BLOCK consumer's room comes with the daemon's repair, not a timeout. */
		r = ksalloc_stream_publish(s, &f, &meta, GUARD_MS);
		if (r < 0)
			_exit(r == -ETIMEDOUT ? EXIT_STALL : EXIT_ERRNO);
	}
}

static const struct {
	enum ksalloc_stream_policy policy;
	uint32_t depth, max_held;
} shapes[] = {
	{ KSALLOC_STREAM_BLOCK, 4, 4 },       { KSALLOC_STREAM_BLOCK, 2, 1 },
	{ KSALLOC_STREAM_DROP_OLDEST, 2, 2 }, { KSALLOC_STREAM_LATEST, 1, 1 },
	{ KSALLOC_STREAM_DROP_NEWEST, 3, 2 },
};

/*
 * Consumer @i: opens the stream as shape @shape says, says 'r' on @events,
 * then checks every frame, reporting 'a' + i for each, 'A' + i for each
 * -ECONNRESET, and 'Z' when the stream ended (then it exits 0).
 */
static void run_consumer(uint32_t i, uint32_t shape, int events)
{
	struct ksalloc_stream_open_options o = {
		.policy = shapes[shape].policy,
		.depth = shapes[shape].depth,
		.max_held = shapes[shape].max_held,
	};
	struct ksalloc_client *c = NULL;
	struct ksalloc_stream *s = NULL;
	struct header last = { 0 };
	uint64_t last_sequence = 0;
	uint32_t resets = 0;
	char frame_report = (char)('a' + i);

	if (ksalloc_client_open(NULL, &c) < 0 || ksalloc_stream_open(c, STREAM, &o, &s) < 0)
		_exit(EXIT_SETUP);
	say(events, 'r');
	for (;;) {
		struct ksalloc_frame_meta meta;
		struct ksalloc_frame f;
		struct header h, again;
		int r = ksalloc_stream_receive(s, KSALLOC_INFINITE, &f, &meta);

		if (r == -ECONNRESET) {
			resets++;
			say(events, (char)('A' + i));
			continue;
		}
		if (r == -EPIPE) {
			ksalloc_stream_close(s);
			ksalloc_client_close(c);
			say(events, 'Z');
			_exit(0);
		}
		if (r < 0)
			_exit(EXIT_ERRNO);
		if (!intact(&f, meta.data_used, &h) || meta.presentation_time != (int64_t)h.seq)
			_exit(EXIT_CHECKSUM);
		if (meta.sequence <= last_sequence || h.gen < last.gen ||
		    (h.gen == last.gen && h.seq <= last.seq))
			_exit(EXIT_TWICE);
		/*
		 * Producers gen+1, gen+2, ... were all started while this consumer was
		 * attached, and each was killed (the parent starts the next only once
		 * every live consumer saw the reset): one reset each, even for a
		 * producer none of whose frames reached this consumer.
		 */
		if (last.gen != 0 && resets != h.gen - last.gen)
			_exit(EXIT_RESET);
		resets = 0;
		last = h;
		last_sequence = meta.sequence;
		/* Non-blocking: a full pipe only means the parent is not counting now. */
		(void)!write(events, &frame_report, 1);
		if (!intact(&f, meta.data_used, &again) || memcmp(&h, &again, sizeof(h)) != 0)
			_exit(EXIT_WRITER);
		if (ksalloc_stream_release(s, &f) < 0)
			_exit(EXIT_ERRNO);
	}
}

struct round {
	int events[2]; /* consumers -> parent; the write end non-blocking */
	int ready[2];  /* producer -> parent */
	int stop[2];   /* parent -> producer: end the stream */
	pid_t producer;
	pid_t consumers[CONSUMERS];
	uint32_t resets[CONSUMERS]; /* -ECONNRESETs each reported */
	uint32_t frames;            /* frames reported by any consumer */
	uint32_t ended;             /* 'Z's */
	uint32_t reset_reports;     /* 'A's */
	uint32_t gen;
	uint32_t kills;
};

static int wait_exit(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The child's end: killed by the storm, or ended cleanly; anything else names a violation. */
static void reap(pid_t pid, const char *who)
{
	int st = wait_exit(pid);

	ck_assert_msg(st == 0 || st == 128 + SIGKILL, "%s %d exited %d: %s (seed %llu round %u)",
		      who, (int)pid, st,
		      st > 0 && st < (int)(sizeof(exit_names) / sizeof(exit_names[0])) &&
				      exit_names[st] ?
			      exit_names[st] :
			      "?",
		      (unsigned long long)seed, round_);
}

/* Reads one report from the consumers, counting it; fails after GUARD_MS of silence. */
static char read_event(struct round *r)
{
	struct pollfd pfd = { .fd = r->events[0], .events = POLLIN };
	char b;

	ck_assert_msg(poll(&pfd, 1, GUARD_MS) == 1,
		      "no report from any consumer for %d ms (seed %llu round %u)", GUARD_MS,
		      (unsigned long long)seed, round_);
	ck_assert_int_eq(read(r->events[0], &b, 1), 1);
	if (b >= 'a' && b < 'a' + CONSUMERS)
		r->frames++;
	else if (b >= 'A' && b < 'A' + CONSUMERS) {
		r->resets[b - 'A']++;
		r->reset_reports++;
	} else if (b == 'Z')
		r->ended++;
	else
		ck_assert_msg(b == 'r', "report '%c'", b);
	return b;
}

static uint32_t consumers_alive(const struct round *r)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < CONSUMERS; i++)
		n += r->consumers[i] > 0;
	return n;
}

static void spawn_producer(struct round *r)
{
	pid_t pid;
	char b;

	r->gen++;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		run_producer(r->gen, r->ready[1], r->stop[0]);
	ck_assert_int_eq(read(r->ready[0], &b, 1), 1);
	r->producer = pid;
}

static void spawn_consumer(struct round *r, uint32_t i)
{
	uint32_t shape = rnd(sizeof(shapes) / sizeof(shapes[0]));
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		run_consumer(i, shape, r->events[1]);
	/* Its 'r' (consumers are started one at a time): it is attached. */
	while (read_event(r) != 'r')
		;
	r->consumers[i] = pid;
	r->resets[i] = 0;
}

static void kill_producer(struct round *r)
{
	kill(r->producer, SIGKILL);
	reap(r->producer, "producer");
	r->producer = 0;
	r->kills++;
}

static void kill_consumer(struct round *r, uint32_t i)
{
	kill(r->consumers[i], SIGKILL);
	reap(r->consumers[i], "consumer");
	r->consumers[i] = 0;
	r->kills++;
}

/* Waits until the consumers reported @n more frames (any of them). */
static void wait_frames(struct round *r, uint32_t n)
{
	uint32_t until = r->frames + n;

	while (r->frames < until)
		read_event(r);
}

/* Every frame of the pool back: acquired all at once (each waits for one), then released. */
static void assert_all_frames_back(struct ksalloc_pool *p)
{
	uint32_t n = ksalloc_pool_get_info(p)->status.framing.frames;
	struct ksalloc_frame f[16];

	for (uint32_t i = 0; i < n; i++)
		ck_assert_msg(ksalloc_pool_acquire(p, GUARD_MS, &f[i]) == 0,
			      "frame %u of %u not back (seed %llu round %u)", i, n,
			      (unsigned long long)seed, round_);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_int_eq(ksalloc_pool_release(p, &f[i]), 0);
}

/*
 * One round: a producer and three consumers; then one to three times, after
 * a number of frames, SIGKILL for some of them, and whoever is missing comes
 * again (a new producer only once every live consumer saw the reset); then
 * the rest are killed or end cleanly.
 */
struct totals {
	uint32_t kills, frames, producers, resets, clean_ends;
};

static void storm_round(struct round *r, struct totals *t)
{
	uint32_t phases = 1 + rnd(3);

	*r = (struct round){ .producer = 0 };
	ck_assert_int_eq(pipe(r->events), 0);
	ck_assert_int_eq(pipe(r->ready), 0);
	ck_assert_int_eq(pipe(r->stop), 0);
	ck_assert_int_eq(fcntl(r->events[1], F_SETFL, O_NONBLOCK), 0);

	for (uint32_t ph = 0; ph < phases; ph++) {
		uint32_t what;
		bool producer_killed = false;

		if (!r->producer)
			spawn_producer(r);
		for (uint32_t i = 0; i < CONSUMERS; i++)
			if (!r->consumers[i] && (ph == 0 || rnd(2)))
				spawn_consumer(r, i);
		if (consumers_alive(r))
			wait_frames(r, 1 + rnd(40));
		what = rnd(4);
		if (what == 0 || what == 2 || what == 3) {
			kill_producer(r);
			producer_killed = true;
		}
		for (uint32_t i = 0; i < CONSUMERS; i++)
			if (r->consumers[i] && (what == 3 || ((what == 1 || what == 2) && rnd(2))))
				kill_consumer(r, i);
		if (producer_killed) {
			/* Each live consumer reports the producer's end once, before a new one comes. */
			for (uint32_t i = 0; i < CONSUMERS; i++) {
				while (r->consumers[i] && r->resets[i] == 0)
					read_event(r);
				r->resets[i] = 0;
			}
		}
	}
	/* A killed producer's live consumers get the new one's frames after their reset. */
	if (!r->producer && consumers_alive(r)) {
		spawn_producer(r);
		wait_frames(r, 1 + rnd(8));
	}
	if (r->producer && rnd(2)) {
		/* The clean end: the producer ends the stream; each live consumer drains and exits 0. */
		uint32_t alive = consumers_alive(r);

		ck_assert_int_eq(write(r->stop[1], "s", 1), 1);
		t->clean_ends++;
		while (r->ended < alive)
			read_event(r);
		for (uint32_t i = 0; i < CONSUMERS; i++)
			if (r->consumers[i]) {
				reap(r->consumers[i], "consumer");
				r->consumers[i] = 0;
			}
		reap(r->producer, "producer");
		r->producer = 0;
	} else {
		if (r->producer)
			kill_producer(r);
		for (uint32_t i = 0; i < CONSUMERS; i++)
			if (r->consumers[i])
				kill_consumer(r, i);
	}
	for (int k = 0; k < 2; k++) {
		close(r->events[k]);
		close(r->ready[k]);
		close(r->stop[k]);
	}
	t->kills += r->kills;
	t->frames += r->frames;
	t->producers += r->gen;
	t->resets += r->reset_reports;
}

START_TEST(test_stream_storm_kills_at_random_moments)
{
	const char *env_seed = getenv("KSALLOC_STORM_SEED"),
		   *env_rounds = getenv("KSALLOC_STORM_ROUNDS");
	uint32_t rounds = env_rounds ? (uint32_t)strtoul(env_rounds, NULL, 0) : 200;
	struct totals t = { 0 };
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	struct round r;

	seed = env_seed ? strtoull(env_seed, NULL, 0) : UINT64_C(0x5eed5707);
	test_daemon_up(&daemon_, config);
	c = client();
	p = pool_open(c, "video");
	for (round_ = 0; round_ < rounds; round_++) {
		/* Each round's moments from the seed and its number alone (splitmix64). */
		uint64_t z = seed + (round_ + 1) * UINT64_C(0x9e3779b97f4a7c15);

		z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
		z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
		rng_state = (z ^ (z >> 31)) | 1;
		storm_round(&r, &t);
		/* Every process of the round is gone: the whole pool is free again. */
		assert_all_frames_back(p);
	}
	fprintf(stderr,
		"storm: %u rounds, %u kills, %u producers, %u clean ends, %u frames and %u "
		"resets reported (seed %llu)\n",
		rounds, t.kills, t.producers, t.clean_ends, t.frames, t.resets,
		(unsigned long long)seed);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	test_daemon_down(&daemon_);
}
END_TEST

/*
 * A consumer holding every frame of the pool is killed while another process
 * waits in the pool's acquire: the acquire returns with the frames, because
 * the daemon's repair hands them on (no timeout involved: it waits forever).
 */
START_TEST(test_stream_killed_consumer_wakes_a_blocked_acquire)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	struct ksalloc_stream *s = NULL;
	struct ksalloc_frame f;
	int ready[2];
	pid_t holder, waiter;
	char b;

	test_daemon_up(&daemon_, config);
	c = client();
	p = pool_open(c, "small");
	ck_assert_int_eq(ksalloc_stream_create(p, "held", NULL, &s), 0);
	ck_assert_int_eq(pipe(ready), 0);
	holder = fork();
	ck_assert_int_ge(holder, 0);
	if (holder == 0) {
		struct ksalloc_stream_open_options o = { .policy = KSALLOC_STREAM_BLOCK,
							 .depth = 4,
							 .max_held = 4 };
		struct ksalloc_client *cc = NULL;
		struct ksalloc_stream *x = NULL;

		if (ksalloc_client_open(NULL, &cc) < 0 ||
		    ksalloc_stream_open(cc, "held", &o, &x) < 0 || write(ready[1], "r", 1) != 1)
			_exit(EXIT_SETUP);
		for (int i = 0; i < 4; i++)
			if (ksalloc_stream_receive(x, KSALLOC_INFINITE, &f, NULL) < 0)
				_exit(EXIT_ERRNO);
		if (write(ready[1], "h", 1) != 1)
			_exit(EXIT_SETUP);
		pause();
		_exit(0);
	}
	ck_assert_int_eq(read(ready[0], &b, 1), 1);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f), 0);
		ck_assert_int_eq(ksalloc_stream_publish(s, &f, NULL, 0), 1);
	}
	ck_assert_int_eq(read(ready[0], &b, 1), 1);
	ck_assert_int_eq(b, 'h');
	/* The holder has the whole pool. */
	ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f), -ETIMEDOUT);

	waiter = fork();
	ck_assert_int_ge(waiter, 0);
	if (waiter == 0) {
		struct ksalloc_client *wc = NULL;
		struct ksalloc_pool *wp = NULL;
		struct ksalloc_frame got[4];

		if (ksalloc_client_open(NULL, &wc) < 0 || ksalloc_pool_open(wc, "small", &wp) < 0)
			_exit(EXIT_SETUP);
		/* Nothing free yet: this is a wait, not a grab. */
		if (ksalloc_pool_acquire(wp, 0, &got[0]) != -ETIMEDOUT)
			_exit(EXIT_ERRNO);
		if (write(ready[1], "w", 1) != 1)
			_exit(EXIT_SETUP);
		for (int i = 0; i < 4; i++)
			if (ksalloc_pool_acquire(wp, KSALLOC_INFINITE, &got[i]) < 0)
				_exit(EXIT_ERRNO);
		_exit(0);
	}
	ck_assert_int_eq(read(ready[0], &b, 1), 1);
	ck_assert_int_eq(b, 'w');
	kill(holder, SIGKILL);
	ck_assert_int_eq(wait_exit(holder), 128 + SIGKILL);
	/* The waiter got all four and exited: its own frames go back with it. */
	ck_assert_int_eq(wait_exit(waiter), 0);
	close(ready[0]);
	close(ready[1]);
	ck_assert_int_eq(ksalloc_pool_acquire(p, GUARD_MS, &f), 0);
	ck_assert_int_eq(ksalloc_pool_release(p, &f), 0);
	ksalloc_stream_close(s);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	test_daemon_down(&daemon_);
}
END_TEST

/*
 * Another session leaving the pool (here: opening and closing it; in the storm:
 * any process killed) leaves the frames a live consumer holds with it: they
 * are the stream's, not orphans of a session gone.
 */
START_TEST(test_stream_frames_stay_held_when_another_session_leaves_the_pool)
{
	struct ksalloc_client *c, *cc, *other;
	struct ksalloc_pool *p, *op;
	struct ksalloc_stream *s = NULL, *a;
	struct ksalloc_stream_open_options o = { .policy = KSALLOC_STREAM_BLOCK,
						 .depth = 4,
						 .max_held = 4 };
	struct ksalloc_frame f, got[4];
	struct header h;

	test_daemon_up(&daemon_, config);
	c = client();
	cc = client();
	p = pool_open(c, "small");
	ck_assert_int_eq(ksalloc_stream_create(p, "held", NULL, &s), 0);
	ck_assert_int_eq(ksalloc_stream_open(cc, "held", &o, &a), 0);
	for (uint32_t i = 0; i < 4; i++) {
		struct ksalloc_frame_meta meta = { .data_used = 512 };

		ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f), 0);
		fill(&f, 1, i + 1, meta.data_used);
		ck_assert_int_eq(ksalloc_stream_publish(s, &f, &meta, 0), 1);
		ck_assert_int_eq(ksalloc_stream_receive(a, 0, &got[i], NULL), 0);
	}
	other = client();
	op = pool_open(other, "small");
	ksalloc_pool_close(op);
	ksalloc_client_close(other);
	/* A round trip after the close: the daemon has handled it. */
	ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f), -ETIMEDOUT);
	for (uint32_t i = 0; i < 4; i++) {
		ck_assert(intact(&got[i], 512, &h));
		ck_assert_uint_eq(h.seq, i + 1);
		ck_assert_int_eq(ksalloc_stream_release(a, &got[i]), 0);
	}
	ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &f), 0);
	ck_assert_int_eq(ksalloc_pool_release(p, &f), 0);
	ksalloc_stream_close(a);
	ksalloc_stream_close(s);
	ksalloc_pool_close(p);
	ksalloc_client_close(cc);
	ksalloc_client_close(c);
	test_daemon_down(&daemon_);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stream-storm");
	TCase *tc = tcase_create("storm");

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_stream_storm_kills_at_random_moments);
	tcase_add_test(tc, test_stream_killed_consumer_wakes_a_blocked_acquire);
	tcase_add_test(tc, test_stream_frames_stay_held_when_another_session_leaves_the_pool);
	suite_add_tcase(s, tc);

	return ksalloc_check_run(s);
}
