/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What bench-streams and bench-iceoryx share: their options, the processes
 * they fork (one producer, 1 to 32 consumers, each pinned to its CPU), the
 * shared words those processes meet on, and the result lines they print.
 *
 * Every measurement runs the same two loops, whatever carries the frames:
 *
 *   latency     the producer waits --pace-us, stamps CLOCK_MONOTONIC into
 *               the frame, publishes it, and waits for the consumer's
 *               acknowledgement; the consumer reads the clock when its
 *               receive returns: one-way ns per frame, so a consumer that
 *               sleeps is asleep at every frame
 *   tput        the producer publishes --frames frames as fast as they go,
 *               losslessly; each consumer receives and gives back every one;
 *               frames/s from the producer's start to the last consumer's end
 *
 * A system plugs in a struct harness_ops; its callbacks return 0 or -errno
 * and run in the forked processes.
 */

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HARNESS_MAX_CONSUMERS 32
#define HARNESS_MAX_LATENCY 100000 /* latency frames at most */
#define HARNESS_MAX_KILLS 1000
#define HARNESS_LINE 64

enum harness_test {
	TEST_LATENCY,
	TEST_TPUT,
	TEST_RECLAIM,
};

struct harness_options {
	const char *system; /* "ring", "ksalloc", "iceoryx": printed in the result line */
	enum harness_test test;
	int cpu_producer;                        /* -1: not pinned */
	int cpu_consumer[HARNESS_MAX_CONSUMERS]; /* consumer k runs on cpu_consumer[k % n] */
	unsigned n_cpu_consumer;                 /* 0: not pinned */
	unsigned consumers;                      /* 1..HARNESS_MAX_CONSUMERS */
	unsigned long long frames;               /* latency: 10000; tput: 1000000 */
	unsigned long long spin_us;              /* a consumer spins this long before it sleeps */
	unsigned long long pace_us;              /* latency: between frames */
	unsigned long long gap_ns; /* tput: the producer busy-waits this long between frames */
	unsigned long long kills;  /* reclaim */
	bool quiet;                /* no result line (counting runs) */
};

/* The words the processes share (an anonymous MAP_SHARED mapping made before they fork). */
struct harness_shared {
	alignas(HARNESS_LINE) _Atomic uint32_t ready; /* processes set up and waiting to start */
	_Atomic uint32_t go;                          /* the producer's start */
	_Atomic uint32_t failed;                      /* somebody failed: everyone stops */
	_Atomic uint32_t created;                     /* the producer made what consumers open */
	alignas(HARNESS_LINE) _Atomic uint32_t ack;   /* latency: frames the consumer has taken */
	alignas(HARNESS_LINE) _Atomic uint32_t finished; /* consumers done receiving */
	_Atomic uint32_t measured; /* the producer has read what it reads after the run */
	int64_t start_ns;
	int64_t end_ns[HARNESS_MAX_CONSUMERS];
	/* Counted by each process in its own loop, added up at its end. */
	_Atomic uint64_t consumer_sleeps; /* FUTEX_WAITs (or waits of the system's own) */
	_Atomic uint64_t producer_sleeps;
	_Atomic uint64_t wakes;  /* FUTEX_WAKEs */
	int64_t daemon_requests; /* ksalloc: requests the daemon answered during the run; -1: n/a */
	/* Reclaim: one round per kill. */
	_Atomic uint32_t round;
	_Atomic uint32_t opened;
	_Atomic uint32_t holding;
	_Atomic uint32_t reclaimed;
	_Atomic int32_t victim;
	double reclaim_ns[HARNESS_MAX_KILLS];
	double reclaim_daemon_ns[HARNESS_MAX_KILLS]; /* to the daemon's last_reclaim_ns, if stamped */
	double reclaim_reaped_ns[HARNESS_MAX_KILLS]; /* to the parent's waitpid() of the victim */
	_Atomic int64_t kill_ns;
	int64_t latency_ns[HARNESS_MAX_LATENCY];
	void *system; /* the system's own shared words, after this in the mapping */
};

struct harness_ops {
	/* Bytes of the system's own shared words (h->system), zeroed before fork. */
	size_t shared_size;
	/* In the parent, before the fork (ksalloc: starts the daemon). May be NULL. */
	int (*setup)(struct harness_shared *h, const struct harness_options *o);
	/* In the parent, after every process has exited. May be NULL. */
	void (*teardown)(struct harness_shared *h, const struct harness_options *o);
	/* Producer and consumer processes: set up, harness_ready(), loop, return. */
	int (*producer)(struct harness_shared *h, const struct harness_options *o);
	int (*consumer)(struct harness_shared *h, const struct harness_options *o, unsigned k);
	/* Reclaim: run in the parent in place of the usual processes. May be NULL. */
	int (*reclaim)(struct harness_shared *h, const struct harness_options *o);
};

/*
 * Parses `MODE [options]` after argv[0]: MODE is "latency", "tput" or
 * "reclaim", optionally prefixed by "SYSTEM-" (which must then be one of
 * @systems, NULL-terminated). Sets o->system to the system named (or
 * @systems[0]). Returns 0, or -EINVAL after printing the usage on stderr.
 */
int harness_parse(int argc, char **argv, const char *const *systems, struct harness_options *o);

/*
 * Runs the test @o asks for with @ops (the system called o->system) and
 * prints its result line. Returns 0, or -errno after printing why.
 */
int harness_run(const struct harness_ops *ops, const struct harness_options *o);

/* Pins the calling process to @cpu (-1: leaves it). Returns 0 or -errno. */
int harness_pin(int cpu);

/* Where consumer @k runs; -1: anywhere. */
int harness_consumer_cpu(const struct harness_options *o, unsigned k);

/*
 * Counts the calling process in h->ready, then waits for the producer's go
 * (consumers) or for every consumer to be ready, then gives the go and
 * stamps start_ns (the producer). Returns 0, or -ECANCELED when another
 * process failed, -ETIMEDOUT after 60 s.
 */
int harness_ready(struct harness_shared *h, const struct harness_options *o, bool producer);

/* Waits until *@word >= @value (not timed: polls), 60 s at most, -ECANCELED on failure. */
int harness_wait_word(struct harness_shared *h, _Atomic uint32_t *word, uint32_t value);

/* The latency loop's acknowledgement: the consumer says it took frame @i; the producer waits. */
void harness_ack(struct harness_shared *h, uint32_t i);
void harness_wait_ack(struct harness_shared *h, uint32_t i);

/* The pause before each latency frame. */
void harness_pace(const struct harness_options *o);

/*
 * Throughput: waits --gap-ns after @last_ns (a now_ns() reading) without a
 * system call, so that a consumer keeps up; returns the time it ends.
 */
int64_t harness_gap(const struct harness_options *o, int64_t last_ns);

/* Shared futexes (words in memory several processes map). */
void harness_futex_wait(_Atomic uint32_t *word, uint32_t value);
void harness_futex_wake(_Atomic uint32_t *word);

static inline void harness_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}
