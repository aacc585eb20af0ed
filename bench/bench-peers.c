/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-peers: the real ksallocd, started here on temporary sockets with
 * configs made here, measured where a client cannot see it work: after a
 * crash, under a thousand sessions and pools, and against the peer users
 * would otherwise pick, in the same run.
 *
 *   crash reclaim  a child holding N frames of a 1024-frame pool is killed
 *                  with SIGKILL; from just before kill() to the daemon's own
 *                  CLOCK_MONOTONIC stamp of the reclaim (last_reclaim_ns of
 *                  the extended status). Baseline: a child holding the only
 *                  frame of a 1-frame pool, the least reclaim there is.
 *   scale          1,000 pools and 1,000 idle sessions: the daemon's RSS and
 *                  threads, and one more client's status queries (p50, p99)
 *                  against the same with no idle session.
 *   peer           the same status query as a D-Bus method call to a small
 *                  sd-bus service through a private dbus-daemon, against
 *                  ksalloc_pool_status().
 *
 * Every measurement runs with every process involved on one CPU (the judged
 * rows, docs/architecture.md) and unpinned; the variants alternate within each
 * repetition, so that drift hits a figure and its baseline alike.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ksalloc/ksalloc.h>
#include <systemd/sd-bus.h>

#include "bench/bench-util.h"
#include "tests/lib/daemon.h"
#include "tests/lib/files.h"

#define MAX_REPS 51
#define CRASHES_PER_REP 5
#define MAX_SAMPLES (MAX_REPS * CRASHES_PER_REP) /* per row */
#define MAX_CALLS 100000

#define DEFAULT_REPS 7
#define DEFAULT_CALLS 5000
#define DEFAULT_SESSIONS 1000
#define DEFAULT_POOLS 1000
#define MAX_SESSIONS 4000
#define MAX_POOLS 4000

#define BAR_RECLAIM_NS 10e6
#define RECLAIM_POOL_FRAMES 1024
#define DEADLINE_NS 10000000000LL /* anything the daemon should do at once */

#define BUS_NAME "org.ksalloc.BenchPeers"
#define BUS_PATH "/org/ksalloc/BenchPeers"
#define BUS_INTERFACE "org.ksalloc.BenchPeers"

enum place {
	P_ONE_CPU, /* every process involved on the first CPU (taskset -c 0) */
	P_FREE,    /* wherever the scheduler puts them */
	N_PLACES,
	P_NONE = N_PLACES, /* a figure no placement applies to (memory) */
};

struct bench {
	const char *daemon_path;
	cpu_set_t all_cpus; /* the affinity we were started with */
	int cpu_a;          /* the first CPU in it */
	unsigned reps, calls, sessions, pools;
	bool keep; /* false during the warm-up: figures are thrown away */

	/* Processes placed with us: daemons, dbus-daemon, the D-Bus service, idle sessions. */
	pid_t placed[8];
	unsigned n_placed;
};

/* ------------------------------------------------------------------------ */
/* Placement */

static void placed_add(struct bench *b, pid_t pid)
{
	if (b->n_placed < sizeof(b->placed) / sizeof(b->placed[0]))
		b->placed[b->n_placed++] = pid;
}

static void placed_remove(struct bench *b, pid_t pid)
{
	for (unsigned i = 0; i < b->n_placed; i++)
		if (b->placed[i] == pid) {
			b->placed[i] = b->placed[--b->n_placed];
			return;
		}
}

/* Us and every process placed with us: on the first CPU, or on all we were given. */
static int place_all(struct bench *b, enum place place)
{
	cpu_set_t set;
	int r;

	if (place == P_ONE_CPU) {
		CPU_ZERO(&set);
		CPU_SET(b->cpu_a, &set);
	} else {
		set = b->all_cpus;
	}
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		return -errno;
	for (unsigned i = 0; i < b->n_placed; i++) {
		r = set_affinity(b->placed[i], &set);
		if (r < 0)
			return r;
	}
	return 0;
}

static const char *place_name(const struct bench *b, enum place place)
{
	static char buf[32];

	switch (place) {
	case P_ONE_CPU:
		snprintf(buf, sizeof(buf), "all on CPU %d", b->cpu_a);
		return buf;
	case P_FREE:
		return "unpinned";
	default:
		return "-";
	}
}

/* ------------------------------------------------------------------------ */
/* ksallocd */

/* Prints the end of the daemon's log, for a failure that may be its doing. */
static void daemon_show_log(const struct test_daemon *d)
{
	char buf[2048];
	FILE *f = fopen(d->log_path, "re");
	size_t n;

	if (!f)
		return;
	if (fseek(f, -(long)(sizeof(buf) - 1), SEEK_END) < 0)
		rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	fprintf(stderr, "bench-peers: the end of ksallocd's log:\n%s\n", buf);
}

/*
 * Starts b->daemon_path on a socket in a fresh folder with @config, and
 * waits for READY=1 (tests/lib/daemon.h). It may run on every CPU we were
 * given, wherever we are placed now. Returns 0 or -errno (-ECHILD: it exited).
 */
static int daemon_start(struct bench *b, const char *config, struct test_daemon *d)
{
	struct test_daemon_options o;
	int r;

	test_daemon_options_init(&o);
	o.program = b->daemon_path;
	o.dir_prefix = "ksalloc-bench-peers";
	o.cpus = &b->all_cpus;
	r = test_daemon_start_with(d, config, &o);
	if (r < 0) {
		daemon_show_log(d);
		test_daemon_kill(d);
		return r;
	}
	/* Nobody reads its notifications from here on: gone, they cannot stall it. */
	test_daemon_close_notify(d);
	placed_add(b, d->pid);
	return 0;
}

/*
 * SIGTERM, and the exit it should lead to. Returns 0, or -EIO (-ETIMEDOUT)
 * when it did not exit cleanly (in time); its log is on stderr then.
 */
static int daemon_stop(struct bench *b, struct test_daemon *d)
{
	int r;

	if (d->pid <= 0)
		return 0;
	placed_remove(b, d->pid);
	r = test_daemon_stop(d);
	if (r < 0)
		fprintf(stderr, "bench-peers: ksallocd did not exit cleanly\n");
	return r;
}

static int client_open(const char *socket_path, const char *name, struct ksalloc_client **ret)
{
	struct ksalloc_client_options opts;

	ksalloc_client_options_init(&opts);
	opts.socket_path = socket_path;
	opts.client_name = name;
	return ksalloc_client_open(&opts, ret);
}

/* What /proc/PID/status says of a process's memory (KiB) and threads. */
struct proc_usage {
	double vm_rss_kib, rss_anon_kib, rss_file_kib, rss_shmem_kib;
	double threads;
	double fds;
};

static int proc_usage_read(pid_t pid, struct proc_usage *ret)
{
	struct proc_usage u = { 0 };
	char path[64], line[256];
	struct dirent *e;
	FILE *f;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		static const struct {
			const char *key;
			size_t offset;
		} keys[] = {
			{ "VmRSS:", offsetof(struct proc_usage, vm_rss_kib) },
			{ "RssAnon:", offsetof(struct proc_usage, rss_anon_kib) },
			{ "RssFile:", offsetof(struct proc_usage, rss_file_kib) },
			{ "RssShmem:", offsetof(struct proc_usage, rss_shmem_kib) },
			{ "Threads:", offsetof(struct proc_usage, threads) },
		};

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strncmp(line, keys[i].key, strlen(keys[i].key)) == 0)
				*(double *)((char *)&u + keys[i].offset) =
					strtod(line + strlen(keys[i].key), NULL);
	}
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		u.fds += e->d_name[0] != '.';
	closedir(d);
	*ret = u;
	return 0;
}

/* @calls status queries of @pool, one after the other; each one's time in @samples. */
static int status_batch(struct ksalloc_pool *pool, unsigned calls, double *samples)
{
	struct ksalloc_status st;

	for (unsigned i = 0; i < calls; i++) {
		int64_t t0 = now_ns();
		int r = ksalloc_pool_status(pool, &st);

		if (r < 0)
			return r;
		samples[i] = (double)(now_ns() - t0);
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The table */

enum unit {
	U_NS,  /* printed in µs */
	U_KIB, /* printed in KiB or MiB */
	U_COUNT,
};

enum judge {
	J_NONE,         /* reported only */
	J_MAX_BELOW,    /* every repetition below the bar */
	J_SAME_AS_BASE, /* the figure equals its baseline in every repetition */
};

/* One row of the table: a ksalloc figure (the peer's, for the peer rows) and its baseline. */
struct row {
	const char *what;
	enum place place;
	enum unit unit;
	enum judge judge;
	double bar;
	double v[MAX_SAMPLES];
	double base[MAX_SAMPLES];
	unsigned n;
};

enum {
	R_RECLAIM_1_ONE,
	R_RECLAIM_16_ONE,
	R_RECLAIM_256_ONE,
	R_RECLAIM_1024_ONE,
	R_RECLAIM_1_FREE,
	R_RECLAIM_16_FREE,
	R_RECLAIM_256_FREE,
	R_RECLAIM_1024_FREE,
	R_RSS_POOLS,
	R_RSS_SESSIONS,
	R_THREADS,
	R_SCALE_P50_ONE,
	R_SCALE_P99_ONE,
	R_SCALE_P50_FREE,
	R_SCALE_P99_FREE,
	R_DBUS_P50_ONE,
	R_DBUS_P99_ONE,
	R_DBUS_P50_FREE,
	R_DBUS_P99_FREE,
	N_ROWS,
};

#define RECLAIM_NAME(n) \
	"crash reclaim, " #n " of 1024 frames held: SIGKILL to frames back (daemon clock)"
/* A row initializer stays on one line (clang-format would unfold it). */
/* clang-format off */
#define RECLAIM(w, p) \
	{ .what = (w), .place = (p), .unit = U_NS, .judge = J_MAX_BELOW, .bar = BAR_RECLAIM_NS }
#define REPORTED(w, p, u) { .what = (w), .place = (p), .unit = (u), .judge = J_NONE }
/* clang-format on */

static struct row rows[N_ROWS] = {
	[R_RECLAIM_1_ONE] = RECLAIM(RECLAIM_NAME(1), P_ONE_CPU),
	[R_RECLAIM_16_ONE] = RECLAIM(RECLAIM_NAME(16), P_ONE_CPU),
	[R_RECLAIM_256_ONE] = RECLAIM(RECLAIM_NAME(256), P_ONE_CPU),
	[R_RECLAIM_1024_ONE] = RECLAIM(RECLAIM_NAME(1024), P_ONE_CPU),
	[R_RECLAIM_1_FREE] = RECLAIM(RECLAIM_NAME(1), P_FREE),
	[R_RECLAIM_16_FREE] = RECLAIM(RECLAIM_NAME(16), P_FREE),
	[R_RECLAIM_256_FREE] = RECLAIM(RECLAIM_NAME(256), P_FREE),
	[R_RECLAIM_1024_FREE] = RECLAIM(RECLAIM_NAME(1024), P_FREE),
	/* The scale rows are named by name_rows(), with the counts of the run. */
	[R_RSS_POOLS] = REPORTED(NULL, P_NONE, U_KIB),
	[R_RSS_SESSIONS] = REPORTED(NULL, P_NONE, U_KIB),
	[R_THREADS] = { .place = P_NONE, .unit = U_COUNT, .judge = J_SAME_AS_BASE },
	[R_SCALE_P50_ONE] = REPORTED(NULL, P_ONE_CPU, U_NS),
	[R_SCALE_P99_ONE] = REPORTED(NULL, P_ONE_CPU, U_NS),
	[R_SCALE_P50_FREE] = REPORTED(NULL, P_FREE, U_NS),
	[R_SCALE_P99_FREE] = REPORTED(NULL, P_FREE, U_NS),
	[R_DBUS_P50_ONE] = REPORTED("peer: D-Bus GetStatus via dbus-daemon, p50", P_ONE_CPU, U_NS),
	[R_DBUS_P99_ONE] = REPORTED("peer: D-Bus GetStatus via dbus-daemon, p99", P_ONE_CPU, U_NS),
	[R_DBUS_P50_FREE] = REPORTED("peer: D-Bus GetStatus via dbus-daemon, p50", P_FREE, U_NS),
	[R_DBUS_P99_FREE] = REPORTED("peer: D-Bus GetStatus via dbus-daemon, p99", P_FREE, U_NS),
};

/* The scale rows name their counts of pools and sessions. */
static void name_rows(const struct bench *b)
{
	static char rss_pools[64], rss_sessions[64], threads[64], p50[80], p99[80];

	snprintf(rss_pools, sizeof(rss_pools), "daemon RSS, %u pools, no session yet", b->pools);
	snprintf(rss_sessions, sizeof(rss_sessions), "daemon RSS, %u pools, %u idle sessions",
		 b->pools, b->sessions);
	snprintf(threads, sizeof(threads), "daemon threads, %u pools, %u idle sessions", b->pools,
		 b->sessions);
	snprintf(p50, sizeof(p50), "status query p50, %u idle sessions, %u pools", b->sessions,
		 b->pools);
	snprintf(p99, sizeof(p99), "status query p99, %u idle sessions, %u pools", b->sessions,
		 b->pools);
	rows[R_RSS_POOLS].what = rss_pools;
	rows[R_RSS_SESSIONS].what = rss_sessions;
	rows[R_THREADS].what = threads;
	rows[R_SCALE_P50_ONE].what = rows[R_SCALE_P50_FREE].what = p50;
	rows[R_SCALE_P99_ONE].what = rows[R_SCALE_P99_FREE].what = p99;
}

static void row_add(struct row *rw, double v, double base)
{
	if (rw->n >= MAX_SAMPLES)
		return;
	rw->v[rw->n] = v;
	rw->base[rw->n++] = base;
}

static void format_value(char *buf, size_t size, enum unit unit, double v)
{
	switch (unit) {
	case U_NS:
		if (v < 10000)
			snprintf(buf, size, "%.1f µs", v / 1000);
		else
			snprintf(buf, size, "%.0f µs", v / 1000);
		break;
	case U_KIB:
		if (v < 10240)
			snprintf(buf, size, "%.0f KiB", v);
		else
			snprintf(buf, size, "%.1f MiB", v / 1024);
		break;
	case U_COUNT:
		snprintf(buf, size, "%.0f", v);
		break;
	}
}

static void print_row(const struct bench *b, const struct row *rw)
{
	char med[32], lo[32], hi[32], base[32], bar[48], verdict[16];
	double s[MAX_SAMPLES], m, bm;
	bool judged = rw->place != P_FREE, pass = true;

	if (rw->n == 0)
		return;
	memcpy(s, rw->v, rw->n * sizeof(*s));
	qsort(s, rw->n, sizeof(*s), cmp_double);
	m = median(rw->v, rw->n);
	bm = median(rw->base, rw->n);
	format_value(med, sizeof(med), rw->unit, m);
	format_value(lo, sizeof(lo), rw->unit, s[0]);
	format_value(hi, sizeof(hi), rw->unit, s[rw->n - 1]);
	format_value(base, sizeof(base), rw->unit, bm);
	switch (rw->judge) {
	case J_MAX_BELOW:
		pass = s[rw->n - 1] < rw->bar;
		snprintf(bar, sizeof(bar), judged ? "every one < %.0f ms" : "(every one < %.0f ms)",
			 rw->bar / 1e6);
		break;
	case J_SAME_AS_BASE:
		for (unsigned i = 0; i < rw->n; i++)
			pass = pass && rw->v[i] == rw->base[i];
		snprintf(bar, sizeof(bar), "= baseline (no thread per client)");
		break;
	case J_NONE:
		snprintf(bar, sizeof(bar), "-");
		break;
	}
	if (rw->judge == J_NONE)
		snprintf(verdict, sizeof(verdict), "-");
	else
		snprintf(verdict, sizeof(verdict), "%s",
			 judged ? (pass ? "pass" : "FAIL") : (pass ? "(pass)" : "(fail)"));
	printf("| %s | %s | %s | %s | %s | %s | %.2f | %s | %s |\n", rw->what,
	       place_name(b, rw->place), med, lo, hi, base, bm > 0 ? m / bm : 0.0, bar, verdict);
}

/* ------------------------------------------------------------------------ */
/* Crash reclaim */

enum reclaim_variant {
	RV_SINGLE, /* the baseline: the only frame of a 1-frame pool */
	RV_1,
	RV_16,
	RV_256,
	RV_1024,
	RV_NONE, /* no frame: the session leaving the pool, seen by polling only */
	RV_EXIT, /* no session at all: the process's exit alone, seen by waitpid() */
	N_RV,
};

static const struct {
	const char *pool;
	unsigned hold;
} reclaim_variants[N_RV] = {
	[RV_SINGLE] = { "single", 1 },
	[RV_1] = { "reclaim", 1 },
	[RV_16] = { "reclaim", 16 },
	[RV_256] = { "reclaim", 256 },
	[RV_1024] = { "reclaim", RECLAIM_POOL_FRAMES },
	[RV_NONE] = { "reclaim", 0 },
	[RV_EXIT] = { NULL, 0 },
};

/* One crash, from just before kill(). */
struct crash {
	double daemon_ns; /* to the daemon's stamp of the reclaim (0 when no frame was held) */
	double reaped_ns; /* to waitpid()'s return: the process is gone, its socket closed */
	double seen_ns;   /* to the first status reply that showed the frames (or session) gone */
};

/* Per placement and variant, every crash of every repetition, for the notes. */
static struct crash crashes[N_PLACES][N_RV][MAX_SAMPLES];
static unsigned n_crashes[N_PLACES][N_RV];

/* The killed child: opens @pool_name in a session of its own and takes @hold frames. */
static int reclaim_child(const char *socket_path, const char *pool_name, unsigned hold)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *pool;
	struct ksalloc_frame frame;
	int r;

	r = client_open(socket_path, "bench-peers victim", &c);
	if (r < 0)
		return r;
	r = ksalloc_pool_open(c, pool_name, &pool);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < hold; i++) {
		r = ksalloc_pool_acquire(pool, 0, &frame);
		if (r < 0)
			return r;
	}
	/* Everything stays held and open: the kernel closes the session when SIGKILL comes. */
	return 0;
}

/*
 * One crash: a child takes @hold frames of @pool_name and says so on a pipe;
 * we note the time, SIGKILL it, reap it, and ask for the pool's extended
 * status until its frames are back (or, holding none, until its session has
 * left the pool). Nothing of ours talks to the daemon between kill() and the
 * reaping, so the daemon's own figure is not slowed by our asking.
 */
static int reclaim_once(const struct test_daemon *d, struct ksalloc_client *obs,
			const char *pool_name, unsigned hold, struct crash *ret)
{
	struct ksalloc_pool_stats st;
	int fds[2], r, child_r = 0;
	int64_t t0, t_reaped, t;
	ssize_t n;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(fds[0]);
		close(fds[1]);
		return r;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(fds[0]);
		r = pool_name ? reclaim_child(d->socket_path, pool_name, hold) : 0;
		if (write(fds[1], &r, sizeof(r)) != sizeof(r) || r < 0)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	n = read(fds[0], &child_r, sizeof(child_r));
	close(fds[0]);
	r = n == sizeof(child_r) ? child_r : -EIO;
	if (r < 0) {
		fprintf(stderr, "bench-peers: the child holding %u frames of %s: %s\n", hold,
			pool_name ? pool_name : "no pool", strerror(-r));
		goto fail;
	}
	if (!pool_name) {
		/* No session: the process's exit alone, none of the daemon's business. */
		t0 = now_ns();
		kill(pid, SIGKILL);
		if (waitpid(pid, NULL, 0) != pid)
			return -errno;
		*ret = (struct crash){ .reaped_ns = (double)(now_ns() - t0) };
		return 0;
	}
	/* The frames are held as the daemon sees it, and nobody else has the pool open. */
	r = ksalloc_client_pool_stats(obs, pool_name, &st);
	if (r < 0)
		goto fail;
	free(st.holders);
	if (st.status.allocated_frames != hold || st.sessions != 1) {
		fprintf(stderr,
			"bench-peers: pool %s: %u frames held by %u sessions, not %u by 1\n",
			pool_name, st.status.allocated_frames, st.sessions, hold);
		r = -EPROTO;
		goto fail;
	}

	t0 = now_ns();
	kill(pid, SIGKILL);
	if (waitpid(pid, NULL, 0) != pid)
		return -errno;
	t_reaped = now_ns();
	for (;;) {
		r = ksalloc_client_pool_stats(obs, pool_name, &st);
		t = now_ns();
		if (r < 0)
			return r;
		free(st.holders);
		if (hold == 0 && st.sessions == 0)
			break;
		if (hold > 0 && st.status.allocated_frames == 0 &&
		    st.last_reclaim_ns > (uint64_t)t0)
			break;
		if (t - t0 > DEADLINE_NS) {
			fprintf(stderr,
				"bench-peers: pool %s: %u frames still held %lld s after "
				"SIGKILL\n",
				pool_name, st.status.allocated_frames,
				(long long)(DEADLINE_NS / 1000000000));
			return -ETIMEDOUT;
		}
	}
	if (hold > 0 && st.last_reclaim_frames != hold) {
		fprintf(stderr, "bench-peers: pool %s: the daemon reclaimed %u frames, not %u\n",
			pool_name, st.last_reclaim_frames, hold);
		return -EPROTO;
	}
	ret->daemon_ns = hold > 0 ? (double)(st.last_reclaim_ns - (uint64_t)t0) : 0;
	ret->reaped_ns = (double)(t_reaped - t0);
	ret->seen_ns = (double)(t - t0);
	return 0;
fail:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return r;
}

/* CRASHES_PER_REP rounds of every variant, each round starting at another one. */
static int reclaim_rep(struct bench *b, const struct test_daemon *d, struct ksalloc_client *obs,
		       unsigned rep)
{
	/* The variants with a row of their own; the others are the baseline and the notes'. */
	_Static_assert(N_RV == 7, "row_of[] names every variant");
	static const int row_of[N_PLACES][N_RV] = {
		[P_ONE_CPU] = { [RV_SINGLE] = -1,
				[RV_1] = R_RECLAIM_1_ONE,
				[RV_16] = R_RECLAIM_16_ONE,
				[RV_256] = R_RECLAIM_256_ONE,
				[RV_1024] = R_RECLAIM_1024_ONE,
				[RV_NONE] = -1,
				[RV_EXIT] = -1 },
		[P_FREE] = { [RV_SINGLE] = -1,
			     [RV_1] = R_RECLAIM_1_FREE,
			     [RV_16] = R_RECLAIM_16_FREE,
			     [RV_256] = R_RECLAIM_256_FREE,
			     [RV_1024] = R_RECLAIM_1024_FREE,
			     [RV_NONE] = -1,
			     [RV_EXIT] = -1 },
	};

	for (unsigned k = 0; k < N_PLACES; k++) {
		enum place place = (enum place)((k + rep) % N_PLACES);
		int r;

		r = place_all(b, place);
		if (r < 0)
			return r;
		for (unsigned round = 0; round < CRASHES_PER_REP; round++) {
			struct crash c[N_RV];

			for (unsigned j = 0; j < N_RV; j++) {
				unsigned v = (j + rep * CRASHES_PER_REP + round) % N_RV;

				r = reclaim_once(d, obs, reclaim_variants[v].pool,
						 reclaim_variants[v].hold, &c[v]);
				if (r < 0)
					return r;
			}
			if (!b->keep)
				continue;
			for (unsigned v = 0; v < N_RV; v++) {
				if (n_crashes[place][v] < MAX_SAMPLES)
					crashes[place][v][n_crashes[place][v]++] = c[v];
				if (row_of[place][v] >= 0)
					row_add(&rows[row_of[place][v]], c[v].daemon_ns,
						c[RV_SINGLE].daemon_ns);
			}
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Scale */

/* Per repetition, for the notes. */
struct scale_rep {
	struct proc_usage one_pool; /* a 1-pool daemon, no session */
	struct proc_usage fresh;    /* the many-pool daemon, no session yet */
	struct proc_usage before;   /* with the observer's session only */
	struct proc_usage with;     /* with the idle sessions too */
	struct proc_usage after;    /* after the idle sessions left */
	double connect_ns;          /* opening all the idle sessions */
	double one_pool_p50[N_PLACES], one_pool_p99[N_PLACES];
	double none_p99[N_PLACES];
};

static struct scale_rep scale_reps[MAX_REPS];
static unsigned n_scale_reps;

/* What the idle-session child reports once every session is open. */
struct idle_ready {
	int r;
	int64_t connect_ns;
};

/* One fd per session, and a few more: raised as far as the hard limit, and that too as root. */
static int raise_fd_limit(unsigned need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	if (rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max < need)
		rl.rlim_max = need; /* root may; anyone else gets EPERM below */
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	return 0;
}

static int idle_sessions_open(const char *socket_path, unsigned n, int64_t *ret_connect_ns)
{
	struct ksalloc_client *c;
	int64_t t0;
	int r;

	r = raise_fd_limit(n + 64);
	if (r < 0)
		return r;
	t0 = now_ns();
	for (unsigned i = 0; i < n; i++) {
		/* Never closed: the process holds them until it is killed. */
		r = client_open(socket_path, "bench-peers idle", &c);
		if (r < 0)
			return r;
	}
	*ret_connect_ns = now_ns() - t0;
	return 0;
}

/* Forks a child that opens @n sessions and waits; returns its pid once they are open. */
static int idle_start(struct bench *b, const struct test_daemon *d, unsigned n, pid_t *ret_pid,
		      int64_t *ret_connect_ns)
{
	struct idle_ready ready = { .r = -EIO };
	int fds[2], r;
	ssize_t len;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(fds[0]);
		close(fds[1]);
		return r;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(fds[0]);
		ready.r = idle_sessions_open(d->socket_path, n, &ready.connect_ns);
		if (write(fds[1], &ready, sizeof(ready)) != sizeof(ready) || ready.r < 0)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	len = read(fds[0], &ready, sizeof(ready));
	close(fds[0]);
	r = len == sizeof(ready) ? ready.r : -EIO;
	if (r < 0) {
		fprintf(stderr, "bench-peers: opening %u idle sessions: %s\n", n, strerror(-r));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return r;
	}
	placed_add(b, pid);
	*ret_pid = pid;
	*ret_connect_ns = ready.connect_ns;
	return 0;
}

/* Waits until the daemon counts @want sessions. */
static int wait_sessions(struct ksalloc_client *obs, size_t want)
{
	int64_t deadline = now_ns() + DEADLINE_NS;

	for (;;) {
		struct ksalloc_session_info *s = NULL;
		size_t n = 0;
		int r = ksalloc_client_list_sessions(obs, &s, &n);

		free(s);
		if (r < 0)
			return r;
		if (n == want)
			return 0;
		if (now_ns() > deadline) {
			fprintf(stderr, "bench-peers: the daemon counts %zu sessions, not %zu\n", n,
				want);
			return -ETIMEDOUT;
		}
		/* The daemon is busy closing the others: ask again in a while. */
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
}

static void idle_stop(struct bench *b, pid_t pid)
{
	placed_remove(b, pid);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/*
 * "[pool p0000]" ... "[pool pNNNN]", 2 frames of 4096 bytes each, and room
 * for @sessions idle sessions and a few more, all of one uid (root has no
 * per-uid limit, anyone else would meet max_sessions_per_uid at 512).
 */
static char *pools_config(unsigned n, unsigned sessions)
{
	unsigned room = sessions + 8;
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	if (!f)
		return NULL;
	fprintf(f, "[daemon]\nmax_sessions = %u\nmax_sessions_per_uid = %u\n",
		room > 1024 ? room : 1024, room);
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "[pool p%04u]\nframes = 2\nframe_size = 4096\n", i);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* p50 and p99 of one batch of status queries, placed as @place. */
static int scale_batch(struct bench *b, struct ksalloc_pool *pool, enum place place,
		       double *samples, double *ret_p50, double *ret_p99)
{
	int r = place_all(b, place);

	if (r == 0)
		r = status_batch(pool, b->calls, samples);
	if (r < 0)
		return r;
	*ret_p50 = percentile(samples, b->calls, 0.50);
	*ret_p99 = percentile(samples, b->calls, 0.99);
	return 0;
}

/* Status latency of one client of a 1-pool daemon, for the notes. */
static int scale_one_pool(struct bench *b, const char *config, struct scale_rep *sr,
			  double *samples)
{
	struct ksalloc_client *obs = NULL;
	struct ksalloc_pool *pool = NULL;
	struct test_daemon d;
	int r;

	r = daemon_start(b, config, &d);
	if (r < 0)
		return r;
	r = proc_usage_read(d.pid, &sr->one_pool);
	if (r == 0)
		r = client_open(d.socket_path, "bench-peers", &obs);
	if (r == 0)
		r = ksalloc_pool_open(obs, "p0000", &pool);
	for (unsigned k = 0; k < N_PLACES && r == 0; k++)
		r = scale_batch(b, pool, (enum place)k, samples, &sr->one_pool_p50[k],
				&sr->one_pool_p99[k]);
	ksalloc_pool_close(pool);
	ksalloc_client_close(obs);
	r = r ?: place_all(b, P_FREE);
	return daemon_stop(b, &d) ?: r;
}

static int scale_rep(struct bench *b, const char *one_config, const char *many_config, unsigned rep)
{
	static double samples[MAX_CALLS];
	struct scale_rep sr = { 0 };
	struct ksalloc_client *obs = NULL;
	struct ksalloc_pool *pool = NULL;
	double p50[2][N_PLACES], p99[2][N_PLACES];
	struct test_daemon d;
	int64_t connect_ns = 0;
	pid_t idle = 0;
	int r;

	r = place_all(b, P_FREE);
	if (r == 0)
		r = scale_one_pool(b, one_config, &sr, samples);
	if (r < 0)
		return r;
	r = daemon_start(b, many_config, &d);
	if (r < 0)
		return r;
	r = proc_usage_read(d.pid, &sr.fresh);
	if (r == 0)
		r = client_open(d.socket_path, "bench-peers", &obs);
	if (r == 0)
		r = ksalloc_pool_open(obs, "p0000", &pool);
	/* with = 0: the observer alone; 1: with the idle sessions; in turns, first one or other. */
	for (unsigned j = 0; j < 2 && r == 0; j++) {
		unsigned with = (j + rep) % 2;

		if (with) {
			r = place_all(b, P_FREE);
			if (r == 0)
				r = proc_usage_read(d.pid, &sr.before);
			if (r == 0)
				r = idle_start(b, &d, b->sessions, &idle, &connect_ns);
			if (r == 0)
				r = wait_sessions(obs, b->sessions + 1);
			if (r == 0)
				r = proc_usage_read(d.pid, &sr.with);
			sr.connect_ns = (double)connect_ns;
		}
		for (unsigned k = 0; k < N_PLACES && r == 0; k++) {
			enum place place = (enum place)((k + rep) % N_PLACES);

			r = scale_batch(b, pool, place, samples, &p50[with][place],
					&p99[with][place]);
		}
		if (with && idle > 0) {
			r = r ?: place_all(b, P_FREE);
			idle_stop(b, idle);
			idle = 0;
			r = r ?: wait_sessions(obs, 1);
			r = r ?: proc_usage_read(d.pid, &sr.after);
		}
	}
	ksalloc_pool_close(pool);
	ksalloc_client_close(obs);
	r = r ?: place_all(b, P_FREE);
	r = daemon_stop(b, &d) ?: r;
	if (r < 0 || !b->keep)
		return r;

	row_add(&rows[R_RSS_POOLS], sr.fresh.vm_rss_kib, sr.one_pool.vm_rss_kib);
	row_add(&rows[R_RSS_SESSIONS], sr.with.vm_rss_kib, sr.before.vm_rss_kib);
	row_add(&rows[R_THREADS], sr.with.threads, sr.before.threads);
	row_add(&rows[R_SCALE_P50_ONE], p50[1][P_ONE_CPU], p50[0][P_ONE_CPU]);
	row_add(&rows[R_SCALE_P99_ONE], p99[1][P_ONE_CPU], p99[0][P_ONE_CPU]);
	row_add(&rows[R_SCALE_P50_FREE], p50[1][P_FREE], p50[0][P_FREE]);
	row_add(&rows[R_SCALE_P99_FREE], p99[1][P_FREE], p99[0][P_FREE]);
	for (unsigned k = 0; k < N_PLACES; k++)
		sr.none_p99[k] = p99[0][k];
	if (n_scale_reps < MAX_REPS)
		scale_reps[n_scale_reps++] = sr;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The peer: D-Bus through a private dbus-daemon */

struct peer {
	char dir[64];
	pid_t bus_pid;     /* dbus-daemon */
	pid_t service_pid; /* our sd-bus service */
	char address[256]; /* as dbus-daemon printed it */
	sd_bus *bus;       /* our client connection */
};

static int bus_connect(const char *address, sd_bus **ret_bus)
{
	sd_bus *bus = NULL;
	int r;

	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, address);
	if (r >= 0)
		r = sd_bus_set_bus_client(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0) {
		sd_bus_unref(bus);
		return r;
	}
	*ret_bus = bus;
	return 0;
}

/* GetStatus: what KsGetAllocatorStatus answers, from the service's own memory. */
static int on_get_status(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	const struct ksalloc_status *st = userdata;

	return sd_bus_reply_method_return(m, "(uuuuu)u", st->framing.options_flags,
					  st->framing.pool_type, st->framing.frames,
					  st->framing.frame_size, st->framing.file_alignment,
					  st->allocated_frames);
}

static const sd_bus_vtable service_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("GetStatus", "", "(uuuuu)u", on_get_status, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

/* The service's process: takes its name, says so on @ready_fd, serves until killed. */
static int service_run(const char *address, const struct ksalloc_status *st, int ready_fd)
{
	sd_bus *bus = NULL;
	int r;

	r = bus_connect(address, &bus);
	if (r >= 0)
		r = sd_bus_add_object_vtable(bus, NULL, BUS_PATH, BUS_INTERFACE, service_vtable,
					     (void *)st);
	if (r >= 0)
		r = sd_bus_request_name(bus, BUS_NAME, 0);
	if (write(ready_fd, &r, sizeof(r)) != sizeof(r) || r < 0)
		return r < 0 ? r : -EIO;
	for (;;) {
		r = sd_bus_process(bus, NULL);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		r = sd_bus_wait(bus, UINT64_MAX);
		if (r < 0 && r != -EINTR)
			return r;
	}
}

static void peer_stop(struct bench *b, struct peer *p)
{
	sd_bus_flush_close_unref(p->bus);
	p->bus = NULL;
	if (p->service_pid > 0) {
		placed_remove(b, p->service_pid);
		kill(p->service_pid, SIGKILL);
		waitpid(p->service_pid, NULL, 0);
	}
	if (p->bus_pid > 0) {
		placed_remove(b, p->bus_pid);
		kill(p->bus_pid, SIGTERM);
		waitpid(p->bus_pid, NULL, 0);
	}
	p->service_pid = p->bus_pid = 0;
	if (p->dir[0])
		test_dir_remove(p->dir);
	p->dir[0] = 0;
}

/*
 * A private dbus-daemon, with a session bus's kind of config that lets us do
 * everything, listening in a folder of its own; then the service that answers
 * GetStatus with @st, and our own connection to the bus.
 */
static int peer_start(struct bench *b, const struct ksalloc_status *st, struct peer *p)
{
	static const char config_fmt[] =
		"<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration "
		"1.0//EN\"\n"
		" \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
		"<busconfig>\n"
		"  <type>session</type>\n"
		"  <listen>unix:path=%s/bus</listen>\n"
		"  <auth>EXTERNAL</auth>\n"
		"  <policy context=\"default\">\n"
		"    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
		"    <allow eavesdrop=\"true\"/>\n"
		"    <allow own=\"*\"/>\n"
		"  </policy>\n"
		"</busconfig>\n";
	char config[1024], config_path[128], log_path[128], arg[160];
	int fds[2], r, service_r = -EIO;
	size_t len = 0;
	ssize_t n;

	memset(p, 0, sizeof(*p));
	r = test_dir_new("ksalloc-bench-peers", p->dir, sizeof(p->dir));
	if (r < 0)
		return r;
	snprintf(config, sizeof(config), config_fmt, p->dir);
	snprintf(config_path, sizeof(config_path), "%s/bus.conf", p->dir);
	snprintf(log_path, sizeof(log_path), "%s/bus.log", p->dir);
	r = test_file_write(config_path, config);
	if (r < 0)
		goto fail;

	/* dbus-daemon prints its address on the pipe once it listens. */
	if (pipe2(fds, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}
	fflush(stdout);
	p->bus_pid = fork();
	if (p->bus_pid < 0) {
		r = -errno;
		p->bus_pid = 0;
		close(fds[0]);
		close(fds[1]);
		goto fail;
	}
	if (p->bus_pid == 0) {
		int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sched_setaffinity(0, sizeof(b->all_cpus), &b->all_cpus);
		/* Its warnings (it cannot raise its fd limit past ours) go to a log. */
		if (log < 0 || dup2(log, STDERR_FILENO) < 0 || dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(127);
		snprintf(arg, sizeof(arg), "--config-file=%s", config_path);
		execlp("dbus-daemon", "dbus-daemon", arg, "--nofork", "--print-address",
		       (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while (len < sizeof(p->address) - 1 &&
	       (n = read(fds[0], p->address + len, sizeof(p->address) - 1 - len)) > 0) {
		len += (size_t)n;
		if (memchr(p->address, '\n', len))
			break;
	}
	close(fds[0]);
	p->address[len] = 0;
	p->address[strcspn(p->address, "\n")] = 0;
	if (!strstr(p->address, "unix:")) {
		char line[512];
		FILE *f = fopen(log_path, "re");

		fprintf(stderr, "bench-peers: dbus-daemon did not start (is it installed? "
				"apt-get install dbus)\n");
		while (f && fgets(line, sizeof(line), f))
			fputs(line, stderr);
		if (f)
			fclose(f);
		r = -ECHILD;
		goto fail;
	}
	placed_add(b, p->bus_pid);

	if (pipe2(fds, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}
	p->service_pid = fork();
	if (p->service_pid < 0) {
		r = -errno;
		p->service_pid = 0;
		close(fds[0]);
		close(fds[1]);
		goto fail;
	}
	if (p->service_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(fds[0]);
		r = service_run(p->address, st, fds[1]);
		if (r < 0)
			fprintf(stderr, "bench-peers: the D-Bus service: %s\n", strerror(-r));
		_exit(1);
	}
	close(fds[1]);
	n = read(fds[0], &service_r, sizeof(service_r));
	close(fds[0]);
	r = n == sizeof(service_r) ? service_r : -EIO;
	if (r < 0)
		goto fail;
	placed_add(b, p->service_pid);
	r = bus_connect(p->address, &p->bus);
	if (r < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "bench-peers: starting the D-Bus peer: %s\n", strerror(-r));
	peer_stop(b, p);
	return r;
}

/* @calls GetStatus calls through the bus; checks the first reply against @expect. */
static int dbus_batch(struct peer *p, unsigned calls, const struct ksalloc_status *expect,
		      double *samples)
{
	for (unsigned i = 0; i < calls; i++) {
		sd_bus_error error = SD_BUS_ERROR_NULL;
		sd_bus_message *reply = NULL;
		uint32_t f[6];
		int64_t t0 = now_ns();
		int r;

		r = sd_bus_call_method(p->bus, BUS_NAME, BUS_PATH, BUS_INTERFACE, "GetStatus",
				       &error, &reply, "");
		if (r >= 0)
			r = sd_bus_message_read(reply, "(uuuuu)u", &f[0], &f[1], &f[2], &f[3],
						&f[4], &f[5]);
		samples[i] = (double)(now_ns() - t0);
		sd_bus_message_unref(reply);
		if (r < 0) {
			fprintf(stderr, "bench-peers: GetStatus: %s\n",
				error.message ? error.message : strerror(-r));
			sd_bus_error_free(&error);
			return r;
		}
		sd_bus_error_free(&error);
		if (i == 0 &&
		    (f[2] != expect->framing.frames || f[3] != expect->framing.frame_size ||
		     f[5] != expect->allocated_frames)) {
			fprintf(stderr, "bench-peers: GetStatus answered another pool's status\n");
			return -EPROTO;
		}
	}
	return 0;
}

/* All samples of every repetition, for the notes' pooled percentiles. */
static double *peer_all[N_PLACES][2];
static unsigned n_peer_all[N_PLACES][2];

static void keep_samples(unsigned place, unsigned which, const double *samples, unsigned n)
{
	double *all = peer_all[place][which];

	if (!all)
		return;
	memcpy(all + n_peer_all[place][which], samples, n * sizeof(*samples));
	n_peer_all[place][which] += n;
}

static int peer_rep(struct bench *b, struct peer *p, struct ksalloc_pool *pool,
		    const struct ksalloc_status *st, unsigned rep)
{
	static const int p50_row[N_PLACES] = { R_DBUS_P50_ONE, R_DBUS_P50_FREE };
	static const int p99_row[N_PLACES] = { R_DBUS_P99_ONE, R_DBUS_P99_FREE };
	static double samples[MAX_CALLS];

	for (unsigned k = 0; k < N_PLACES; k++) {
		enum place place = (enum place)((k + rep) % N_PLACES);
		double p50[2], p99[2]; /* [0] ksalloc, [1] D-Bus */
		int r = place_all(b, place);

		if (r < 0)
			return r;
		for (unsigned j = 0; j < 2; j++) {
			unsigned which = (j + rep / 2) % 2;

			r = which ? dbus_batch(p, b->calls, st, samples) :
				    status_batch(pool, b->calls, samples);
			if (r < 0)
				return r;
			if (b->keep)
				keep_samples(place, which, samples, b->calls);
			p50[which] = percentile(samples, b->calls, 0.50);
			p99[which] = percentile(samples, b->calls, 0.99);
		}
		if (!b->keep)
			continue;
		row_add(&rows[p50_row[place]], p50[1], p50[0]);
		row_add(&rows[p99_row[place]], p99[1], p99[0]);
	}
	return 0;
}

/* ------------------------------------------------------------------------ */

static double med_of(double (*get)(const struct scale_rep *))
{
	double v[MAX_REPS];

	for (unsigned i = 0; i < n_scale_reps; i++)
		v[i] = get(&scale_reps[i]);
	return median(v, n_scale_reps);
}

#define SCALE_FIELD(name, expr)                        \
	static double name(const struct scale_rep *sr) \
	{                                              \
		return (expr);                         \
	}
SCALE_FIELD(sr_one_rss, sr->one_pool.vm_rss_kib)
SCALE_FIELD(sr_one_shmem, sr->one_pool.rss_shmem_kib)
SCALE_FIELD(sr_one_anon, sr->one_pool.rss_anon_kib)
SCALE_FIELD(sr_fresh_rss, sr->fresh.vm_rss_kib)
SCALE_FIELD(sr_fresh_shmem, sr->fresh.rss_shmem_kib)
SCALE_FIELD(sr_fresh_anon, sr->fresh.rss_anon_kib)
SCALE_FIELD(sr_fresh_fds, sr->fresh.fds)
SCALE_FIELD(sr_before_rss, sr->before.vm_rss_kib)
SCALE_FIELD(sr_before_anon, sr->before.rss_anon_kib)
SCALE_FIELD(sr_with_rss, sr->with.vm_rss_kib)
SCALE_FIELD(sr_with_anon, sr->with.rss_anon_kib)
SCALE_FIELD(sr_with_fds, sr->with.fds)
SCALE_FIELD(sr_after_rss, sr->after.vm_rss_kib)
SCALE_FIELD(sr_connect, sr->connect_ns)
SCALE_FIELD(sr_one_p50_one, sr->one_pool_p50[P_ONE_CPU])
SCALE_FIELD(sr_one_p99_one, sr->one_pool_p99[P_ONE_CPU])
SCALE_FIELD(sr_one_p50_free, sr->one_pool_p50[P_FREE])
SCALE_FIELD(sr_one_p99_free, sr->one_pool_p99[P_FREE])

/* The median of one field of the crashes of @place and @variant, in µs. */
static double crash_median_us(enum place place, unsigned variant, size_t offset)
{
	double v[MAX_SAMPLES];
	unsigned n = n_crashes[place][variant];

	for (unsigned i = 0; i < n; i++)
		v[i] = *(const double *)((const char *)&crashes[place][variant][i] + offset);
	return median(v, n) / 1000;
}

static void print_reclaim_notes(const struct bench *b)
{
	static const char *const names[N_RV] = {
		[RV_SINGLE] = "1 of 1 held (baseline)",
		[RV_1] = "1 of 1024 held",
		[RV_16] = "16 of 1024 held",
		[RV_256] = "256 of 1024 held",
		[RV_1024] = "1024 of 1024 held",
		[RV_NONE] = "the pool open, no frame held",
		[RV_EXIT] = "a child that never connected (its exit alone)",
	};

	if (n_crashes[P_ONE_CPU][RV_1] == 0)
		return;
	printf("- crash reclaim: a child opens the pool in a session of its own, acquires N "
	       "frames and says so on a pipe; the parent reads CLOCK_MONOTONIC, sends SIGKILL, "
	       "reaps the child (no request of ours reaches the daemon meanwhile), then asks "
	       "for the extended status until allocated_frames is 0 and last_reclaim_ns is "
	       "later than its reading; the figure is last_reclaim_ns minus that reading (one "
	       "clock, one machine). Each crash checks that the daemon reclaimed exactly N "
	       "frames. Pools of %u frames and of 1 frame, 4096 bytes each. %u crashes per N "
	       "and placement (%u per repetition, the Ns in turns); median, min and max over "
	       "them, judged on the slowest (the bar says every crash).\n",
	       RECLAIM_POOL_FRAMES, n_crashes[P_ONE_CPU][RV_1], CRASHES_PER_REP);
	printf("- where the time goes: the daemon stamps only the end of a reclaim "
	       "(pool_detach()), so \"hang-up noticed\" to \"frames freed\" cannot be split "
	       "without a daemon change. Medians in µs from before kill(): waitpid() returned "
	       "(the process is gone, its socket closed) / the daemon's stamp / the first "
	       "status reply showing it:\n");
	for (unsigned k = 0; k < N_PLACES; k++) {
		enum place place = (enum place)k;

		printf("  - %s:", place_name(b, place));
		for (unsigned v = 0; v < N_RV; v++) {
			printf(" %s: %.0f", names[v],
			       crash_median_us(place, v, offsetof(struct crash, reaped_ns)));
			if (v == RV_EXIT) {
				printf(" / - / -\n");
				continue;
			}
			if (v == RV_NONE)
				printf(" / -");
			else
				printf(" / %.0f",
				       crash_median_us(place, v,
						       offsetof(struct crash, daemon_ns)));
			printf(" / %.0f;",
			       crash_median_us(place, v, offsetof(struct crash, seen_ns)));
		}
	}
}

static void print_scale_notes(const struct bench *b)
{
	if (n_scale_reps == 0)
		return;
	printf("- scale: %u pools of 2 frames of 4096 bytes in the config; %u idle sessions "
	       "(ksalloc_client_open(), no pool open) held by one child process; one more "
	       "client (the observer) with pool p0000 open asks for its status, %u queries per "
	       "batch, with the idle sessions connected and with none, in turns; p50 and p99 "
	       "per batch, then median, min and max over %u repetitions. Each repetition starts "
	       "fresh daemons. Config: max_sessions = %u (the default, 1024, covers 1000 + 1), "
	       "max_sessions_per_uid = %u (default 512; root is exempt).\n",
	       b->pools, b->sessions, b->calls, b->reps,
	       b->sessions + 8 > 1024 ? b->sessions + 8 : 1024, b->sessions + 8);
	printf("- RSS is VmRSS of /proc/PID/status. Per pool: (%.1f MiB with %u pools - %.1f "
	       "MiB with 1) / %u = %.1f KiB (shared memory the daemon touched, RssShmem: %.0f "
	       "KiB against %.0f; anonymous memory %.0f KiB against %.0f; %.0f fds open). Per "
	       "idle session: (%.1f - %.1f MiB) / %u = %.1f KiB (anonymous: %.0f against %.0f "
	       "KiB; %.0f fds open; the kernel's socket memory is not in RSS); after they left: "
	       "%.1f MiB (the allocator keeps what it freed).\n",
	       med_of(sr_fresh_rss) / 1024, b->pools, med_of(sr_one_rss) / 1024, b->pools - 1,
	       (med_of(sr_fresh_rss) - med_of(sr_one_rss)) / (b->pools - 1), med_of(sr_fresh_shmem),
	       med_of(sr_one_shmem), med_of(sr_fresh_anon), med_of(sr_one_anon),
	       med_of(sr_fresh_fds), med_of(sr_with_rss) / 1024, med_of(sr_before_rss) / 1024,
	       b->sessions, (med_of(sr_with_rss) - med_of(sr_before_rss)) / b->sessions,
	       med_of(sr_with_anon), med_of(sr_before_anon), med_of(sr_with_fds),
	       med_of(sr_after_rss) / 1024);
	printf("- opening the %u idle sessions (connect and hello, one after the other, "
	       "unpinned) took %.0f ms (median).\n",
	       b->sessions, med_of(sr_connect) / 1e6);
	printf("- the same observer against a daemon with 1 pool and no other session: "
	       "p50 / p99 %.1f / %.1f µs on CPU %d, %.1f / %.1f µs unpinned.\n",
	       med_of(sr_one_p50_one) / 1000, med_of(sr_one_p99_one) / 1000, b->cpu_a,
	       med_of(sr_one_p50_free) / 1000, med_of(sr_one_p99_free) / 1000);
}

static void print_peer_notes(const struct bench *b)
{
	if (rows[R_DBUS_P50_ONE].n == 0)
		return;
	printf("- peer: a private dbus-daemon (a session bus's kind of config: EXTERNAL auth, "
	       "everything allowed, unix:path in a temporary folder); a forked sd-bus service "
	       "owning %s exports %s with GetStatus, returning \"(uuuuu)u\" (the framing's 5 "
	       "words and allocated_frames, as KsGetAllocatorStatus) from its own memory; our "
	       "client calls it with sd_bus_call_method() and reads the reply. Baseline: "
	       "ksalloc_pool_status() on an open pool of the same daemon run. Ratio: D-Bus / "
	       "ksalloc. %u calls of each per batch, in turns; p50 and p99 per batch, then "
	       "median, min and max over %u repetitions. docs/architecture.md puts D-Bus through "
	       "dbus-daemon at about 51 µs on this kind of machine, 9x a raw SOCK_SEQPACKET "
	       "round trip.\n",
	       BUS_NAME, BUS_PATH, b->calls, b->reps);
	for (unsigned k = 0; k < N_PLACES; k++) {
		double dp50, dp99, kp50, kp99;

		if (n_peer_all[k][0] == 0)
			continue;
		kp50 = percentile(peer_all[k][0], n_peer_all[k][0], 0.50);
		kp99 = percentile(peer_all[k][0], n_peer_all[k][0], 0.99);
		dp50 = percentile(peer_all[k][1], n_peer_all[k][1], 0.50);
		dp99 = percentile(peer_all[k][1], n_peer_all[k][1], 0.99);
		printf("- peer, %s, all %u samples of each: D-Bus p50 %.1f / p99 %.1f µs, "
		       "ksalloc p50 %.1f / p99 %.1f µs; D-Bus / ksalloc %.1fx at p50, "
		       "%.1fx at p99\n",
		       place_name(b, (enum place)k), n_peer_all[k][0], dp50 / 1000, dp99 / 1000,
		       kp50 / 1000, kp99 / 1000, dp50 / kp50, dp99 / kp99);
	}
}

static void print_table(const struct bench *b, double run_s)
{
	printf("| measurement | placement | median | min | max | baseline median | ratio | bar "
	       "| pass/fail |\n");
	printf("|---|---|---:|---:|---:|---:|---:|---|---|\n");
	for (int i = 0; i < N_ROWS; i++)
		print_row(b, &rows[i]);
	printf("\n");
	printf("- baselines: crash reclaim, a child holding the only frame of a 1-frame pool "
	       "(the least reclaim there is); RSS with %u pools, a daemon with 1 pool; RSS and "
	       "threads with %u idle sessions, the same daemon just before they connected "
	       "(the observer's session only); status queries with %u idle sessions, the same "
	       "observer with none; D-Bus, ksalloc_pool_status() in the same repetition.\n",
	       b->pools, b->sessions, b->sessions);
	printf("- ratio: median / baseline median, same run, same placement. Placement "
	       "\"all on CPU %d\": the daemon, every client, and for the peer dbus-daemon and "
	       "the service, pinned there (taskset -c %d); bars are judged there, and "
	       "parenthesised ones are unpinned rows, reported only. Unpinned figures are "
	       "bimodal: a round trip costs about 9 µs when the scheduler keeps both sides on "
	       "one CPU and about 50 µs when it wakes the other side on the other vCPU "
	       "(docs/architecture.md), so their medians and ratios move with its choices.\n",
	       b->cpu_a, b->cpu_a);
	print_reclaim_notes(b);
	print_scale_notes(b);
	print_peer_notes(b);
	printf("- bench-peers ran for %.0f s.\n", run_s);
}

/* ------------------------------------------------------------------------ */

enum part {
	PART_RECLAIM = 1 << 0,
	PART_SCALE = 1 << 1,
	PART_PEER = 1 << 2,
	PART_ALL = PART_RECLAIM | PART_SCALE | PART_PEER,
};

/* One daemon for crash reclaim and the peer: their pools, and one to ask the status of. */
static const char main_config[] = "[daemon]\n"
				  "[pool reclaim]\n"
				  "frames = 1024\n"
				  "frame_size = 4096\n"
				  "[pool single]\n"
				  "frames = 1\n"
				  "frame_size = 4096\n"
				  "[pool status]\n"
				  "frames = 8\n"
				  "frame_size = 4096\n";

static int run_main_daemon(struct bench *b, unsigned parts)
{
	struct ksalloc_client *obs = NULL;
	struct ksalloc_pool *pool = NULL;
	struct ksalloc_status st;
	struct peer peer = { .dir = "" };
	struct test_daemon d;
	int r;

	r = daemon_start(b, main_config, &d);
	if (r < 0)
		return r;
	r = client_open(d.socket_path, "bench-peers", &obs);
	if (r == 0)
		r = ksalloc_pool_open(obs, "status", &pool);
	if (r == 0)
		r = ksalloc_pool_status(pool, &st);
	if (r == 0 && (parts & PART_PEER))
		r = peer_start(b, &st, &peer);
	/* The warm-up: a repetition with a tenth of the calls, thrown away. */
	for (unsigned rep = 0; rep <= b->reps && r == 0; rep++) {
		unsigned calls = b->calls;

		b->keep = rep > 0;
		if (!b->keep)
			b->calls = calls / 10 ? calls / 10 : 1;
		if (parts & PART_RECLAIM)
			r = reclaim_rep(b, &d, obs, rep);
		if (r == 0 && (parts & PART_PEER))
			r = peer_rep(b, &peer, pool, &st, rep);
		b->calls = calls;
	}
	if (r < 0)
		fprintf(stderr, "bench-peers: %s\n", strerror(-r));
	peer_stop(b, &peer);
	ksalloc_pool_close(pool);
	if (r < 0 && obs)
		fprintf(stderr, "bench-peers: %s\n", ksalloc_client_error(obs));
	ksalloc_client_close(obs);
	r = r ?: place_all(b, P_FREE);
	return daemon_stop(b, &d) ?: r;
}

static int run_scale(struct bench *b)
{
	char *one = pools_config(1, b->sessions), *many = pools_config(b->pools, b->sessions);
	int r = one && many ? 0 : -ENOMEM;

	for (unsigned rep = 0; rep <= b->reps && r == 0; rep++) {
		unsigned calls = b->calls;

		b->keep = rep > 0;
		if (!b->keep)
			b->calls = calls / 10 ? calls / 10 : 1;
		r = scale_rep(b, one, many, rep);
		b->calls = calls;
	}
	if (r < 0)
		fprintf(stderr, "bench-peers: scale: %s\n", strerror(-r));
	free(one);
	free(many);
	return r;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: bench-peers [OPTIONS]\n"
		"Starts ksallocd and measures crash reclaim, 1,000 sessions and pools, and the\n"
		"status query against D-Bus through a private dbus-daemon; prints a Markdown\n"
		"table.\n"
		"\n"
		"  --daemon PATH   ksallocd to start (default: ksallocd beside this program)\n"
		"  --reps N        repetitions after the warm-up, at most %d (default %d)\n"
		"  --calls N       status queries per batch, at most %d (default %d)\n"
		"  --sessions N    idle sessions for the scale part, at most %d (default %d)\n"
		"  --pools N       pools for the scale part, 2 .. %d (default %d)\n"
		"  --only PART     reclaim, scale or peer\n"
		"  -h, --help      this text\n",
		MAX_REPS, DEFAULT_REPS, MAX_CALLS, DEFAULT_CALLS, MAX_SESSIONS, DEFAULT_SESSIONS,
		MAX_POOLS, DEFAULT_POOLS);
}

/* An option's value into a count of ours. */
static int parse_count(const char *s, unsigned min, unsigned max, unsigned *ret)
{
	unsigned long long v;
	int r = parse_uint(s, min, max, &v);

	if (r == 0)
		*ret = (unsigned)v;
	return r;
}

int main(int argc, char **argv)
{
	static const struct option options[] = { { "daemon", required_argument, NULL, 'd' },
						 { "reps", required_argument, NULL, 'r' },
						 { "calls", required_argument, NULL, 'c' },
						 { "sessions", required_argument, NULL, 's' },
						 { "pools", required_argument, NULL, 'p' },
						 { "only", required_argument, NULL, 'o' },
						 { "help", no_argument, NULL, 'h' },
						 {} };
	struct bench b = { .reps = DEFAULT_REPS,
			   .calls = DEFAULT_CALLS,
			   .sessions = DEFAULT_SESSIONS,
			   .pools = DEFAULT_POOLS,
			   .cpu_a = -1 };
	unsigned parts = PART_ALL;
	int64_t start = now_ns();
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		r = 0;
		switch (c) {
		case 'd':
			b.daemon_path = optarg;
			break;
		case 'r':
			r = parse_count(optarg, 1, MAX_REPS, &b.reps);
			break;
		case 'c':
			r = parse_count(optarg, 1, MAX_CALLS, &b.calls);
			break;
		case 's':
			r = parse_count(optarg, 1, MAX_SESSIONS, &b.sessions);
			break;
		case 'p':
			r = parse_count(optarg, 2, MAX_POOLS, &b.pools);
			break;
		case 'o':
			if (strcmp(optarg, "reclaim") == 0)
				parts = PART_RECLAIM;
			else if (strcmp(optarg, "scale") == 0)
				parts = PART_SCALE;
			else if (strcmp(optarg, "peer") == 0)
				parts = PART_PEER;
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
			fprintf(stderr, "bench-peers: bad value '%s'\n", optarg);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (!b.daemon_path)
		b.daemon_path = daemon_beside_me();
	if (access(b.daemon_path, X_OK) < 0) {
		fprintf(stderr,
			"bench-peers: %s: %s (build the ksallocd target, or say --daemon)\n",
			b.daemon_path, strerror(errno));
		return 1;
	}
	if (sched_getaffinity(0, sizeof(b.all_cpus), &b.all_cpus) < 0) {
		perror("bench-peers: sched_getaffinity");
		return 1;
	}
	for (int cpu = 0; cpu < CPU_SETSIZE && b.cpu_a < 0; cpu++)
		if (CPU_ISSET(cpu, &b.all_cpus))
			b.cpu_a = cpu;
	/* A session gone wrong must not kill us with SIGPIPE: the library sends without it. */
	signal(SIGPIPE, SIG_IGN);
	for (unsigned k = 0; k < N_PLACES; k++)
		for (unsigned w = 0; w < 2; w++) {
			peer_all[k][w] = calloc((size_t)b.reps * b.calls, sizeof(double));
			if (!peer_all[k][w]) {
				fprintf(stderr, "bench-peers: out of memory\n");
				return 1;
			}
		}

	name_rows(&b);
	printf("bench-peers: %s; %u repetitions after a warm-up, %u status queries per batch; "
	       "%u pools and %u idle sessions for scale\n\n",
	       b.daemon_path, b.reps, b.calls, b.pools, b.sessions);
	fflush(stdout);

	r = 0;
	if (parts & (PART_RECLAIM | PART_PEER))
		r = run_main_daemon(&b, parts);
	if (r == 0 && (parts & PART_SCALE))
		r = run_scale(&b);
	if (r < 0)
		return 1;
	print_table(&b, (double)(now_ns() - start) / 1e9);
	for (unsigned k = 0; k < N_PLACES; k++)
		for (unsigned w = 0; w < 2; w++)
			free(peer_all[k][w]);
	return 0;
}
