/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-events: what subscriptions cost and how fast they tell, on the real
 * ksallocd (from beside this program, bin/ksallocd), started here.
 *
 *   cost      the daemon's CPU time per second, and a client's status query
 *             latency (p50, p99), with 0 (the baseline), 1 and 16 processes
 *             subscribed to every one of 200 pools, while another process
 *             acquires and releases a frame of one pool in a loop (so that
 *             pool changes at every look).
 *   latency   from a child's acquire of the only frame of a pool (its own
 *             CLOCK_MONOTONIC stamp, sent through a pipe) to the DRY event
 *             read by a subscriber of that pool: p50, p99, worst, against
 *             the daemon's 20 ms look period.
 *
 * Prints a Markdown table on stdout. Figures on this machine kind are noisy:
 * the variants alternate within each repetition.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ksalloc/ksalloc.h>

#include "bench/bench-util.h"
#include "tests/lib/daemon.h"

#define POOLS 200
#define REPS 5
#define WINDOW_NS 2000000000LL /* each cost measurement */
#define CALLS 2000             /* status queries per measurement */
#define LATENCY_SAMPLES 60
#define TICK_MS 20 /* RPC_TICK_MS of the daemon */

/* ksallocd with 200 pools of 8 frames and one of 1, started as the tests start it. */
static int daemon_start(const char *daemon_path, struct test_daemon *d)
{
	struct test_daemon_options o;
	char *config = NULL;
	size_t size = 0;
	FILE *f;
	int r;

	f = open_memstream(&config, &size);
	if (!f)
		return -errno;
	fprintf(f, "[daemon]\nmax_sessions = 256\nlog_level = warning\n");
	fprintf(f, "[pool one]\nframes = 1\nframe_size = 4K\n");
	for (int i = 0; i < POOLS; i++)
		fprintf(f, "[pool p%03d]\nframes = 8\nframe_size = 4K\n", i);
	if (fclose(f) != 0) {
		free(config);
		return -ENOMEM;
	}
	test_daemon_options_init(&o);
	o.program = daemon_path;
	o.dir_prefix = "bench-events";
	/* Started means READY=1, as systemd sees it; it sets KSALLOC_SOCKET for the clients. */
	r = test_daemon_start_with(d, config, &o);
	free(config);
	if (r < 0) {
		char *log = test_daemon_log(d);

		fprintf(stderr, "bench-events: ksallocd's log:\n%s", log);
		free(log);
		test_daemon_kill(d);
		return r;
	}
	/* Nobody reads its notifications from here on: gone, they cannot stall it. */
	test_daemon_close_notify(d);
	return 0;
}

/* The daemon's user + system CPU time so far, in ns (/proc/PID/stat, clock ticks). */
static double cpu_ns(pid_t pid)
{
	unsigned long long utime = 0, stime = 0;
	char path[64], buf[1024], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f)
			fclose(f);
		return 0;
	}
	fclose(f);
	/* After the command's closing parenthesis: state, then fields 4..; utime is 14, stime 15. */
	p = strrchr(buf, ')');
	if (p)
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
		       &stime);
	return (double)(utime + stime) * 1e9 / (double)sysconf(_SC_CLK_TCK);
}

/* A subscriber to every pool that reads what comes until killed. */
static pid_t subscriber_start(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		const struct ksalloc_subscription_options o = { .interval_ms = 100 };
		struct ksalloc_subscription *s;
		struct ksalloc_event e;

		if (ksalloc_subscription_open(NULL, &o, &s) < 0)
			_exit(1);
		for (;;) {
			struct pollfd p = { .fd = ksalloc_subscription_get_fd(s),
					    .events = POLLIN };

			poll(&p, 1, -1);
			while (ksalloc_subscription_read(s, &e) == 0)
				ksalloc_event_clear(&e);
		}
	}
	return pid;
}

/* A client that acquires and releases a frame of pool p000 as fast as it can. */
static pid_t churn_start(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct ksalloc_client *c;
		struct ksalloc_pool *p;
		struct ksalloc_frame f;

		if (ksalloc_client_open(NULL, &c) < 0 || ksalloc_pool_open(c, "p000", &p) < 0)
			_exit(1);
		for (;;)
			if (ksalloc_pool_acquire(p, 0, &f) == 0)
				ksalloc_pool_release(p, &f);
	}
	return pid;
}

static void stop_all(pid_t *pids, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	for (unsigned i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
}

/* One cost measurement: daemon CPU per second over WINDOW_NS, then CALLS status queries. */
static int measure(const struct test_daemon *d, struct ksalloc_pool *pool, double *ret_cpu,
		   double *ret_p50, double *ret_p99)
{
	static double samples[CALLS];
	double c0 = cpu_ns(d->pid), c1;
	int64_t t0 = now_ns(), t1;
	struct ksalloc_status st;

	/* Idle here: the daemon's CPU is what it spends for the others. */
	while ((t1 = now_ns()) - t0 < WINDOW_NS)
		usleep(100000);
	c1 = cpu_ns(d->pid);
	*ret_cpu = (c1 - c0) * 1e9 / (double)(t1 - t0); /* ns of CPU per second */
	for (unsigned i = 0; i < CALLS; i++) {
		int64_t s = now_ns();

		if (ksalloc_pool_status(pool, &st) < 0)
			return -EIO;
		samples[i] = (double)(now_ns() - s);
	}
	qsort(samples, CALLS, sizeof(samples[0]), cmp_double);
	*ret_p50 = samples[CALLS / 2];
	*ret_p99 = samples[CALLS * 99 / 100];
	return 0;
}

static int bench_cost(const struct test_daemon *d)
{
	static const unsigned counts[] = { 0, 1, 16 };
	double cpu[3][REPS], p50[3][REPS], p99[3][REPS];
	struct ksalloc_client *c;
	struct ksalloc_pool *pool;
	pid_t churn;

	if (ksalloc_client_open(NULL, &c) < 0 || ksalloc_pool_open(c, "p199", &pool) < 0)
		return -EIO;
	churn = churn_start();
	for (unsigned rep = 0; rep < REPS; rep++) {
		for (unsigned k = 0; k < 3; k++) {
			unsigned v = (k + rep) % 3; /* in turns, first one or another */
			pid_t subs[16];

			for (unsigned i = 0; i < counts[v]; i++)
				subs[i] = subscriber_start();
			if (measure(d, pool, &cpu[v][rep], &p50[v][rep], &p99[v][rep]) < 0)
				return -EIO;
			stop_all(subs, counts[v]);
		}
	}
	stop_all(&churn, 1);
	ksalloc_pool_close(pool);
	ksalloc_client_close(c);

	printf("| figure | value (median of %d) | baseline: no subscriber | ratio |\n", REPS);
	printf("|---|---|---|---|\n");
	for (unsigned v = 1; v < 3; v++) {
		double mc = median(cpu[v], REPS), bc = median(cpu[0], REPS);
		double m50 = median(p50[v], REPS), b50 = median(p50[0], REPS);
		double m99 = median(p99[v], REPS), b99 = median(p99[0], REPS);

		printf("| daemon CPU, %u subscriber%s to %d pools (one churning) | %.2f%% | %.2f%% | "
		       "+%.2f points |\n",
		       counts[v], counts[v] > 1 ? "s" : "", POOLS, mc / 1e7, bc / 1e7,
		       (mc - bc) / 1e7);
		printf("| status query p50, %u subscriber%s | %.1f µs | %.1f µs | %.2fx |\n",
		       counts[v], counts[v] > 1 ? "s" : "", m50 / 1e3, b50 / 1e3, m50 / b50);
		printf("| status query p99, %u subscriber%s | %.1f µs | %.1f µs | %.2fx |\n",
		       counts[v], counts[v] > 1 ? "s" : "", m99 / 1e3, b99 / 1e3, m99 / b99);
	}
	return 0;
}

/* From a child's acquire of the only frame of "one" to the DRY event here. */
static int bench_latency(void)
{
	const struct ksalloc_subscription_options o = { .pool = "one", .interval_ms = 10 };
	double lat[LATENCY_SAMPLES];
	struct ksalloc_subscription *s;
	unsigned n = 0;

	if (ksalloc_subscription_open(NULL, &o, &s) < 0)
		return -EIO;
	while (n < LATENCY_SAMPLES) {
		struct ksalloc_event e;
		int fds[2], status;
		int64_t t_acquired = 0;
		bool dry = false;
		pid_t child;

		if (pipe(fds) < 0)
			return -errno;
		child = fork();
		if (child == 0) {
			struct ksalloc_client *c;
			struct ksalloc_pool *p;
			struct ksalloc_frame f;
			int64_t t;

			if (ksalloc_client_open(NULL, &c) < 0 ||
			    ksalloc_pool_open(c, "one", &p) < 0)
				_exit(1);
			t = now_ns();
			if (ksalloc_pool_acquire(p, 5000, &f) < 0)
				_exit(2);
			if (write(fds[1], &t, sizeof(t)) != sizeof(t))
				_exit(3);
			pause();
		}
		close(fds[1]);
		if (read(fds[0], &t_acquired, sizeof(t_acquired)) != sizeof(t_acquired))
			return -EIO;
		close(fds[0]);
		while (!dry) {
			struct pollfd p = { .fd = ksalloc_subscription_get_fd(s),
					    .events = POLLIN };

			if (poll(&p, 1, 5000) <= 0)
				return -ETIMEDOUT;
			while (!dry && ksalloc_subscription_read(s, &e) == 0) {
				dry = e.kind == KSALLOC_EVENT_DRY;
				ksalloc_event_clear(&e);
			}
		}
		lat[n++] = (double)(now_ns() - t_acquired);
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
		/*
		 * The frame comes back with the child's session: the next round starts once the
		 * subscriber has seen the pool with it free, or the daemon's look could miss
		 * the pool running dry again (it looks every 20 ms).
		 */
		for (bool back = false; !back;) {
			struct pollfd p = { .fd = ksalloc_subscription_get_fd(s),
					    .events = POLLIN };

			if (poll(&p, 1, 5000) <= 0)
				return -ETIMEDOUT;
			while (!back && ksalloc_subscription_read(s, &e) == 0) {
				back = e.kind == KSALLOC_EVENT_STATUS &&
				       e.stats.status.allocated_frames == 0;
				ksalloc_event_clear(&e);
			}
		}
	}
	ksalloc_subscription_close(s);
	qsort(lat, n, sizeof(lat[0]), cmp_double);
	printf("| DRY event after the last frame's acquire, p50 | %.1f ms | %d ms (the look period) "
	       "| %.2fx |\n",
	       lat[n / 2] / 1e6, TICK_MS, lat[n / 2] / 1e6 / TICK_MS);
	printf("| DRY event after the last frame's acquire, p99 | %.1f ms | %d ms | %.2fx |\n",
	       lat[n * 99 / 100] / 1e6, TICK_MS, lat[n * 99 / 100] / 1e6 / TICK_MS);
	printf("| DRY event after the last frame's acquire, worst of %u | %.1f ms | %d ms | %.2fx |\n",
	       n, lat[n - 1] / 1e6, TICK_MS, lat[n - 1] / 1e6 / TICK_MS);
	return 0;
}

int main(void)
{
	const char *daemon_path = daemon_beside_me();
	struct test_daemon d;
	int r;

	r = daemon_start(daemon_path, &d);
	if (r < 0) {
		fprintf(stderr, "bench-events: cannot start %s: %s\n", daemon_path, strerror(-r));
		return 1;
	}
	printf("bench-events: %s, %d pools of 8 frames, subscribers at a 100 ms interval\n\n",
	       daemon_path, POOLS);
	r = bench_cost(&d);
	if (r == 0)
		r = bench_latency();
	/* How it stopped is on stderr if not cleanly; the figures stand. */
	test_daemon_stop(&d);
	if (r < 0) {
		fprintf(stderr, "bench-events: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}
