/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-restart: how long clients wait when ksallocd restarts under a
 * service manager with a file descriptor store (issue 13), against the
 * fastest start there is without one, in the same run.
 *
 *   restart     ksallocd runs under the fake service manager of
 *               tests/lib/fake-manager.h (a listening socket of its own, a
 *               notify socket, a store kept as systemd 252 keeps it) with a
 *               client process connected and holding a frame. The daemon is
 *               sent SIGKILL (a crash) or SIGTERM (systemctl restart); once
 *               the manager has reaped it, the holder calls
 *               ksalloc_pool_status() on its open pool, on its own
 *               connection, which the store keeps, while the manager starts
 *               the next daemon with LISTEN_FDS. Measured from just before
 *               kill() to the return of the first call that succeeds.
 *   cold start  the baseline: the same manager stops the daemon (the store
 *               closes), then starts one with no store, and a fresh client
 *               process connects (to the manager's socket, so it need not
 *               wait for one to exist) and asks for the status: from the
 *               spawn to that answer. Every frame and connection is lost
 *               this way; no restart without a store is faster.
 *
 * Every trial runs with every process involved (us and the manager's thread,
 * the daemons, the clients) on one CPU, and unpinned; the placements take
 * turns within each repetition, so that drift hits a figure and its baseline
 * alike.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ksalloc/ksalloc.h>

#include "bench/bench-util.h"
#include "tests/lib/fake-manager.h"

#define MAX_REPS 101
#define DEFAULT_REPS 20
/* How long a client keeps calling before the trial counts as failed. */
#define DEADLINE_NS 30000000000LL
#define STORE_WAIT_MS 10000

#define POOL_NAME "bench"
#define POOL_FRAMES 8
#define POOL_FRAME_SIZE 4096

/* A pattern the holder writes into its frame and checks after each restart. */
#define CANARY 0x6b73616c6c6f6321ull

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

static const char config[] =
	"[pool " POOL_NAME "]\n"
	"frames = " STRINGIFY(POOL_FRAMES) "\n"
					   "frame_size = " STRINGIFY(POOL_FRAME_SIZE) "\n";

enum place {
	P_ONE_CPU, /* every process involved on the first CPU (taskset -c 0) */
	P_FREE,    /* wherever the scheduler puts them */
	N_PLACES,
};

enum kind {
	K_KILL, /* SIGKILL: a crash, or a watchdog kill */
	K_TERM, /* SIGTERM: systemctl restart, a graceful hand-over */
	K_COLD, /* the baseline: a start without a store */
	N_KINDS,
};

static const char *const kind_signal[N_KINDS] = { "SIGKILL", "SIGTERM", "-" };

/* One trial; times from just before kill() (restarts) or the spawn (cold start). */
struct trial {
	double status_ns;       /* to the first status answered */
	double exited_ns;       /* to the old daemon reaped (restarts) */
	double spawn_ns;        /* to the new daemon's fork */
	double ready_ns;        /* to READY=1, as the manager saw it */
	double sent_ns;         /* to the client's first call (restarts) or connect (cold) */
	unsigned attempts;      /* calls made, the one answered included */
	unsigned timeouts;      /* of them, calls that gave up after the library's 5 s */
	bool sent_before_spawn; /* the first call was sent before the new daemon was forked */
	bool sent_before_ready; /* ... before it said READY=1 */
};

static struct trial trials[N_PLACES][N_KINDS][MAX_REPS];
static unsigned n_trials[N_PLACES][N_KINDS];
/* `ksallocd --version` from fork to its exit reaped: what any start of the binary costs. */
static double exec_ns[N_PLACES][MAX_REPS];
static unsigned n_exec[N_PLACES];

struct bench {
	struct fake_manager m;
	const char *daemon_path;
	cpu_set_t all_cpus;
	int cpu_a;
	unsigned reps;
	bool keep; /* false during the warm-up */
	/* The check that a call sent while no daemon runs waits for the next one. */
	int waited_check; /* 1 passed, 0 failed, -1 not made */
};

/* What a client process reports of its calls, on a pipe. */
struct report {
	int r;               /* 0, or the -errno that ended it */
	unsigned attempts;   /* calls made, the successful one included */
	unsigned timeouts;   /* calls that returned -ETIME */
	int other_error;     /* the first failure other than -ETIME, 0 if none */
	int64_t sent_ns;     /* CLOCK_MONOTONIC just before the first call */
	int64_t answered_ns; /* just after the call that succeeded */
	uint32_t allocated;  /* allocated_frames in that answer */
};

/* A client process and its two pipes. */
struct child {
	pid_t pid;
	int cmd_fd;    /* ours to write: 'g' (go) and 'q' (quit) */
	int report_fd; /* ours to read: struct report */
};

/* ------------------------------------------------------------------------ */
/* Placement */

/* Us (every thread: the manager's too) and the running daemon. Children inherit it. */
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
	r = set_affinity(getpid(), &set);
	if (r == 0 && b->m.pid > 0)
		r = set_affinity(b->m.pid, &set);
	return r;
}

static const char *place_name(const struct bench *b, enum place place)
{
	static char buf[32];

	if (place == P_FREE)
		return "unpinned";
	snprintf(buf, sizeof(buf), "all on CPU %d", b->cpu_a);
	return buf;
}

/* ------------------------------------------------------------------------ */
/* Client processes */

static int write_all(int fd, const void *buf, size_t len)
{
	ssize_t n = write(fd, buf, len);

	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

static int read_all(int fd, void *buf, size_t len)
{
	ssize_t n = read(fd, buf, len);

	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

/* Waits for 'g' or 'q' on @fd; returns it, or 0 when the parent went away. */
static char wait_command(int fd)
{
	char c;

	return read(fd, &c, 1) == 1 ? c : 0;
}

/*
 * The restart's client: calls ksalloc_pool_status() on @pool until one
 * succeeds. A call that times out (the library's 5 s) is tried again; any
 * other failure ends it, since the library would then make a new connection,
 * and the trial would not be the one measured.
 */
static void holder_status(struct ksalloc_pool *pool, struct report *rep)
{
	struct ksalloc_status st;
	int64_t deadline;

	*rep = (struct report){ .sent_ns = now_ns() };
	deadline = rep->sent_ns + DEADLINE_NS;
	for (;;) {
		int r = ksalloc_pool_status(pool, &st);

		rep->attempts++;
		if (r == 0) {
			rep->answered_ns = now_ns();
			rep->allocated = st.allocated_frames;
			return;
		}
		if (r == -ETIME)
			rep->timeouts++;
		else if (!rep->other_error)
			rep->other_error = r;
		if (r != -ETIME || now_ns() > deadline) {
			rep->r = r;
			return;
		}
	}
}

/*
 * The holder: opens the pool, takes a frame and writes the canary into it,
 * reports, then answers each 'g' with a status measurement until 'q', when it
 * checks the canary and releases the frame, whose result it reports last.
 */
static int holder_main(int cmd_fd, int report_fd)
{
	struct ksalloc_client *c = NULL;
	struct ksalloc_pool *pool = NULL;
	struct ksalloc_frame frame;
	struct report rep = { 0 };
	char cmd;

	rep.r = ksalloc_client_open(NULL, &c);
	if (rep.r == 0)
		rep.r = ksalloc_pool_open(c, POOL_NAME, &pool);
	if (rep.r == 0)
		rep.r = ksalloc_pool_acquire(pool, 0, &frame);
	if (rep.r == 0)
		*(volatile uint64_t *)frame.data = CANARY;
	if (write_all(report_fd, &rep, sizeof(rep)) < 0 || rep.r < 0)
		return 1;
	while ((cmd = wait_command(cmd_fd)) == 'g') {
		holder_status(pool, &rep);
		/* The frame's memory is the old daemon's memfd, kept by the store: still ours. */
		if (rep.r == 0 && *(volatile uint64_t *)frame.data != CANARY)
			rep.r = -EBADMSG;
		if (write_all(report_fd, &rep, sizeof(rep)) < 0)
			return 1;
	}
	if (cmd != 'q')
		return 1;
	rep = (struct report){ 0 };
	rep.r = *(volatile uint64_t *)frame.data == CANARY ? 0 : -EBADMSG;
	if (rep.r == 0)
		rep.r = ksalloc_pool_release(pool, &frame);
	ksalloc_pool_close(pool);
	ksalloc_client_close(c);
	return write_all(report_fd, &rep, sizeof(rep)) < 0 ? 1 : 0;
}

/*
 * The cold start's client: on 'g', from scratch, ksalloc_client_open()
 * (connect and hello) and ksalloc_client_pool_status() until both succeed.
 */
static int fresh_main(int cmd_fd, int report_fd)
{
	struct ksalloc_client *c = NULL;
	struct ksalloc_status st;
	struct report rep = { 0 };
	int64_t deadline;

	if (wait_command(cmd_fd) != 'g')
		return 1;
	rep.sent_ns = now_ns();
	deadline = rep.sent_ns + DEADLINE_NS;
	for (;;) {
		int r = c ? 0 : ksalloc_client_open(NULL, &c);

		if (r == 0)
			r = ksalloc_client_pool_status(c, POOL_NAME, &st);
		rep.attempts++;
		if (r == 0) {
			rep.answered_ns = now_ns();
			rep.allocated = st.allocated_frames;
			break;
		}
		if (r == -ETIME)
			rep.timeouts++;
		else if (!rep.other_error)
			rep.other_error = r;
		if (now_ns() > deadline) {
			rep.r = r;
			break;
		}
		/* Not connected: open again. A refusal would spin, hence the pause. */
		if (r != -ETIME) {
			ksalloc_client_close(c);
			c = NULL;
			poll(NULL, 0, 1);
		}
	}
	ksalloc_client_close(c);
	return write_all(report_fd, &rep, sizeof(rep)) < 0 ? 1 : 0;
}

/* Forks a client running @fn; it dies with us. */
static int child_spawn(int (*fn)(int, int), struct child *ret)
{
	int cmd[2], rep[2];
	pid_t pid;

	if (pipe2(cmd, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(rep, O_CLOEXEC) < 0) {
		int r = -errno;

		close(cmd[0]);
		close(cmd[1]);
		return r;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		int r = -errno;

		close(cmd[0]);
		close(cmd[1]);
		close(rep[0]);
		close(rep[1]);
		return r;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(cmd[1]);
		close(rep[0]);
		_exit(fn(cmd[0], rep[1]));
	}
	close(cmd[0]);
	close(rep[1]);
	*ret = (struct child){ .pid = pid, .cmd_fd = cmd[1], .report_fd = rep[0] };
	return 0;
}

/* Reaps the child (killing it first unless @wait) and closes its pipes; 0 if it exited 0. */
static int child_end(struct child *ch, bool wait)
{
	int status = 0;

	if (ch->pid <= 0)
		return 0;
	if (!wait)
		kill(ch->pid, SIGKILL);
	if (waitpid(ch->pid, &status, 0) != ch->pid)
		status = -1;
	close(ch->cmd_fd);
	close(ch->report_fd);
	ch->pid = 0;
	return wait && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

/* ------------------------------------------------------------------------ */
/* The trials */

static void show_log(const struct bench *b)
{
	char *log = fake_manager_log(&b->m);
	size_t len = log ? strlen(log) : 0;

	fprintf(stderr, "bench-restart: the end of ksallocd's log:\n%s\n",
		log ? log + (len > 2000 ? len - 2000 : 0) : "(none)");
	free(log);
}

static const char *report_error(const struct report *rep)
{
	return strerror(-(rep->other_error ? rep->other_error : rep->r));
}

/*
 * One restart: @signum to the daemon with the holder connected and its frame
 * held; once the manager reaped it, 'g' to the holder, and the next daemon
 * started with the store.
 */
static int restart_trial(struct bench *b, struct child *holder, enum kind kind, int signum,
			 struct trial *ret)
{
	int64_t t0, t_exited, t_spawn, t_ready;
	struct report rep;
	int r;

	/* The holder's connection is in the store: the daemon stored it before its hello reply. */
	r = fake_manager_wait_store(&b->m, "ksalloc-conn-", 1, STORE_WAIT_MS);
	if (r < 0) {
		fprintf(stderr, "bench-restart: the holder's connection is not in the store\n");
		return r;
	}
	t0 = now_ns();
	r = fake_manager_kill(&b->m, signum);
	t_exited = now_ns();
	if (r < 0)
		return r;
	if (b->m.exit_status != (signum == SIGKILL ? 128 + SIGKILL : 0)) {
		fprintf(stderr, "bench-restart: ksallocd ended with status %d after %s\n",
			b->m.exit_status, kind_signal[kind]);
		show_log(b);
		return -EIO;
	}
	r = write_all(holder->cmd_fd, "g", 1);
	if (r < 0)
		return r;
	t_spawn = now_ns();
	r = fake_manager_restart(&b->m);
	t_ready = now_ns();
	if (r < 0) {
		fprintf(stderr, "bench-restart: ksallocd did not come back after %s: %s\n",
			kind_signal[kind], strerror(-r));
		show_log(b);
		return r;
	}
	r = read_all(holder->report_fd, &rep, sizeof(rep));
	if (r < 0)
		return r;
	if (rep.r < 0 || rep.other_error) {
		fprintf(stderr, "bench-restart: the holder's status call after %s: %s\n",
			kind_signal[kind], report_error(&rep));
		return rep.r < 0 ? rep.r : rep.other_error;
	}
	if (rep.allocated != 1) {
		fprintf(stderr, "bench-restart: after %s the pool has %u frames held, not 1\n",
			kind_signal[kind], rep.allocated);
		return -EPROTO;
	}
	*ret = (struct trial){
		.status_ns = (double)(rep.answered_ns - t0),
		.exited_ns = (double)(t_exited - t0),
		.spawn_ns = (double)(t_spawn - t0),
		.ready_ns = (double)(t_ready - t0),
		.sent_ns = (double)(rep.sent_ns - t0),
		.attempts = rep.attempts,
		.timeouts = rep.timeouts,
		.sent_before_spawn = rep.sent_ns < t_spawn,
		.sent_before_ready = rep.sent_ns < t_ready,
	};
	return 0;
}

/* The baseline: a stop (the store closes), then a start with none, and a fresh client. */
static int cold_trial(struct bench *b, struct trial *ret)
{
	struct child fresh = { 0 };
	struct report rep;
	int64_t t0, t_ready;
	int r;

	r = fake_manager_stop(&b->m);
	if (r != 0) {
		fprintf(stderr, "bench-restart: ksallocd's stop: %s\n",
			r < 0 ? strerror(-r) : "a non-zero exit status");
		show_log(b);
		return r < 0 ? r : -EIO;
	}
	r = child_spawn(fresh_main, &fresh);
	if (r < 0)
		return r;
	t0 = now_ns();
	r = write_all(fresh.cmd_fd, "g", 1);
	if (r == 0)
		r = fake_manager_restart(&b->m);
	t_ready = now_ns();
	if (r < 0) {
		fprintf(stderr, "bench-restart: ksallocd's cold start: %s\n", strerror(-r));
		show_log(b);
		child_end(&fresh, false);
		return r;
	}
	r = read_all(fresh.report_fd, &rep, sizeof(rep));
	if (r == 0)
		r = child_end(&fresh, true);
	else
		child_end(&fresh, false);
	if (r < 0)
		return r;
	if (rep.r < 0 || rep.other_error) {
		fprintf(stderr, "bench-restart: the fresh client's status after a cold start: %s\n",
			report_error(&rep));
		return rep.r < 0 ? rep.r : rep.other_error;
	}
	if (rep.allocated != 0) {
		fprintf(stderr, "bench-restart: a cold start's pool has %u frames held\n",
			rep.allocated);
		return -EPROTO;
	}
	*ret = (struct trial){
		.status_ns = (double)(rep.answered_ns - t0),
		.ready_ns = (double)(t_ready - t0),
		.sent_ns = (double)(rep.sent_ns - t0),
		.attempts = rep.attempts,
		.timeouts = rep.timeouts,
		.sent_before_ready = rep.sent_ns < t_ready,
	};
	/* Its connection leaves the store as it hangs up: the holder's is then the only one. */
	return fake_manager_wait_store(&b->m, "ksalloc-conn-", 0, STORE_WAIT_MS);
}

static int holder_start(struct child *holder)
{
	struct report rep;
	int r = child_spawn(holder_main, holder);

	if (r < 0)
		return r;
	r = read_all(holder->report_fd, &rep, sizeof(rep));
	if (r == 0 && rep.r < 0) {
		fprintf(stderr, "bench-restart: the holder could not take a frame: %s\n",
			strerror(-rep.r));
		r = rep.r;
	}
	if (r < 0)
		child_end(holder, false);
	return r;
}

/* 'q': the holder checks its frame and releases it; that must succeed on the latest daemon. */
static int holder_stop(struct child *holder)
{
	struct report rep;
	int r = write_all(holder->cmd_fd, "q", 1);

	if (r == 0)
		r = read_all(holder->report_fd, &rep, sizeof(rep));
	if (r == 0 && rep.r < 0) {
		fprintf(stderr, "bench-restart: the held frame's release after the restarts: %s\n",
			strerror(-rep.r));
		r = rep.r;
	}
	if (r == 0)
		return child_end(holder, true);
	child_end(holder, false);
	return r;
}

/* The floor under every start: fork, exec and dynamic loading of the same binary, no work. */
static int exec_trial(const struct bench *b, double *ret_ns)
{
	int64_t t0 = now_ns();
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
			_exit(127);
		execl(b->daemon_path, b->daemon_path, "--version", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	*ret_ns = (double)(now_ns() - t0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench-restart: %s --version failed\n", b->daemon_path);
		return -EIO;
	}
	return 0;
}

static void keep(struct bench *b, enum place place, enum kind kind, const struct trial *t)
{
	if (b->keep && n_trials[place][kind] < MAX_REPS)
		trials[place][kind][n_trials[place][kind]++] = *t;
}

/* One repetition in @place: both restarts (in turns of order) with a holder, then a cold start. */
static int rep_in(struct bench *b, enum place place, unsigned rep)
{
	struct child holder = { 0 };
	struct trial t;
	double exec = 0;
	int r;

	r = place_all(b, place);
	if (r == 0)
		r = holder_start(&holder);
	for (unsigned i = 0; i < 2 && r == 0; i++) {
		enum kind kind = (i + rep) % 2 ? K_TERM : K_KILL;

		r = restart_trial(b, &holder, kind, kind == K_KILL ? SIGKILL : SIGTERM, &t);
		if (r == 0)
			keep(b, place, kind, &t);
	}
	if (holder.pid > 0) {
		if (r == 0)
			r = holder_stop(&holder);
		else
			child_end(&holder, false);
	}
	if (r == 0)
		r = cold_trial(b, &t);
	if (r == 0)
		keep(b, place, K_COLD, &t);
	if (r == 0)
		r = exec_trial(b, &exec);
	if (r == 0 && b->keep && n_exec[place] < MAX_REPS)
		exec_ns[place][n_exec[place]++] = exec;
	return r;
}

/*
 * Whether a status call made while no daemon runs waits in the connection and
 * is answered by the next daemon: SIGKILL, 'g', then, before any restart, the
 * stored connection must have the request to read; the next daemon must then
 * answer that very call (the first attempt, within the library's 5 s).
 */
static int check_waiting_request(struct bench *b)
{
	struct child holder = { 0 };
	struct report rep;
	char name[64];
	int r, readable;

	r = holder_start(&holder);
	if (r < 0)
		return r;
	r = fake_manager_wait_store(&b->m, "ksalloc-conn-", 1, STORE_WAIT_MS);
	if (r == 0)
		r = fake_manager_store_find(&b->m, "ksalloc-conn-", name, sizeof(name));
	if (r == 0)
		r = fake_manager_kill(&b->m, SIGKILL);
	if (r == 0)
		r = write_all(holder.cmd_fd, "g", 1);
	if (r < 0) {
		child_end(&holder, false);
		return r;
	}
	readable = fake_manager_wait_readable(&b->m, name, 2000);
	r = fake_manager_restart(&b->m);
	if (r == 0)
		r = read_all(holder.report_fd, &rep, sizeof(rep));
	if (r == 0)
		r = holder_stop(&holder);
	else
		child_end(&holder, false);
	if (r < 0)
		return r;
	b->waited_check = readable == 0 && rep.r == 0 && rep.attempts == 1 && rep.allocated == 1;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The table */

static void format_ms(char *buf, size_t size, double ns)
{
	snprintf(buf, size, ns < 10e6 ? "%.2f ms" : "%.1f ms", ns / 1e6);
}

/* The figure @off of every trial of @place and @kind, in @v; returns how many. */
static unsigned figures(enum place place, enum kind kind, size_t off, double *v)
{
	unsigned n = n_trials[place][kind];

	for (unsigned i = 0; i < n; i++)
		v[i] = *(const double *)((const char *)&trials[place][kind][i] + off);
	return n;
}

static double median_of(enum place place, enum kind kind, size_t off)
{
	double v[MAX_REPS];

	return median(v, figures(place, kind, off, v));
}

/*
 * A row: @kind's figure, from the signal or from the new daemon's spawn,
 * against the cold start's spawn to first status.
 */
static void print_row(const struct bench *b, enum place place, enum kind kind, bool from_spawn)
{
	double v[MAX_REPS], base, m;
	char med[32], lo[32], hi[32], bm[32], what[160];
	unsigned n = figures(place, kind, offsetof(struct trial, status_ns), v);

	if (n == 0)
		return;
	if (from_spawn)
		for (unsigned i = 0; i < n; i++)
			v[i] -= trials[place][kind][i].spawn_ns;
	qsort(v, n, sizeof(*v), cmp_double);
	m = median(v, n);
	base = median_of(place, K_COLD, offsetof(struct trial, status_ns));
	format_ms(med, sizeof(med), m);
	format_ms(lo, sizeof(lo), v[0]);
	format_ms(hi, sizeof(hi), v[n - 1]);
	format_ms(bm, sizeof(bm), base);
	snprintf(what, sizeof(what), "restart after %s (%s): %s to the first status answered",
		 kind_signal[kind], kind == K_KILL ? "a crash" : "systemctl restart",
		 from_spawn ? "the new daemon's spawn" : "signal");
	printf("| %s | %s | %s | %s | %s | %s | %.2f | - | - |\n", what, place_name(b, place), med,
	       lo, hi, bm, base > 0 ? m / base : 0.0);
}

/* Where @kind's time went in @place: medians of its steps, in ms, on one line. */
static void print_breakdown(enum place place, enum kind kind)
{
	double status = median_of(place, kind, offsetof(struct trial, status_ns));
	double ready = median_of(place, kind, offsetof(struct trial, ready_ns));
	double sent = median_of(place, kind, offsetof(struct trial, sent_ns));

	if (kind == K_COLD) {
		printf("cold start: first connect %.2f / READY=1 %.2f / first status %.2f",
		       sent / 1e6, ready / 1e6, status / 1e6);
		return;
	}
	printf("%s: old daemon reaped %.2f / first call sent %.2f / new daemon forked %.2f / "
	       "READY=1 %.2f / first status %.2f",
	       kind_signal[kind], median_of(place, kind, offsetof(struct trial, exited_ns)) / 1e6,
	       sent / 1e6, median_of(place, kind, offsetof(struct trial, spawn_ns)) / 1e6,
	       ready / 1e6, status / 1e6);
}

static void print_counts(const struct bench *b)
{
	for (unsigned k = 0; k < N_PLACES; k++) {
		unsigned n = 0, first = 0, timeouts = 0, before_spawn = 0, before_ready = 0;

		for (unsigned kind = K_KILL; kind <= K_TERM; kind++)
			for (unsigned i = 0; i < n_trials[k][kind]; i++) {
				const struct trial *t = &trials[k][kind][i];

				n++;
				first += t->attempts == 1;
				timeouts += t->timeouts;
				before_spawn += t->sent_before_spawn;
				before_ready += t->sent_before_ready;
			}
		printf("- restarts %s: the first call was answered (no retry) in %u of %u, sent "
		       "before the new daemon was forked in %u and before its READY=1 in %u; "
		       "calls timed out: %u\n",
		       place_name(b, (enum place)k), first, n, before_spawn, before_ready,
		       timeouts);
	}
}

static void print_table(const struct bench *b, double run_s)
{
	printf("| measurement | placement | median | min | max | baseline median | ratio | bar "
	       "| pass/fail |\n");
	printf("|---|---|---:|---:|---:|---:|---:|---|---|\n");
	for (unsigned k = 0; k < N_PLACES; k++)
		for (int from_spawn = 0; from_spawn < 2; from_spawn++)
			for (unsigned kind = K_KILL; kind <= K_TERM; kind++)
				print_row(b, (enum place)k, (enum kind)kind, from_spawn);
	printf("\n");
	printf("- restart, signal to the first status answered: ksallocd serves pool \"%s\" (%u "
	       "frames of %u bytes) under the fake service manager of "
	       "tests/lib/fake-manager.h, with one client process connected (its session in "
	       "the store) and holding one frame. From just before kill() of the daemon to the "
	       "return of the first ksalloc_pool_status() of that client that succeeds. The "
	       "client makes its first call once the manager has reaped the old daemon, on "
	       "its own connection (adopted by the next daemon, not made again), while the "
	       "manager starts the next daemon at once with the listening socket and the store "
	       "(LISTEN_FDS, LISTEN_FDNAMES); a call that times out would be made again. "
	       "SIGKILL: a crash or a watchdog kill; SIGTERM: systemctl restart, the daemon "
	       "hands over and exits.\n",
	       POOL_NAME, POOL_FRAMES, POOL_FRAME_SIZE);
	printf("- restart, the new daemon's spawn to the first status answered: the same "
	       "trials, from the manager's fork of the next daemon: the same span as the "
	       "baseline's, so its ratio compares the starts themselves (taking the store over "
	       "against making the pools).\n");
	printf("- baseline (cold start): the same manager stops the daemon (SIGTERM; the "
	       "store closes, as a stop does) and starts one with only the listening socket; "
	       "a fresh client process connects and calls ksalloc_client_open() (connect and "
	       "hello) and ksalloc_client_pool_status() until both succeed: from the spawn to "
	       "that answer. The fastest a restart without a store could be, and one that "
	       "loses every frame held and every connection. Its first answer takes two round "
	       "trips (hello, status), the restarts' one.\n");
	printf("- ratio: median / baseline median, same run, same placement; %u repetitions "
	       "after a warm-up, each making one of each trial in each placement (the "
	       "placements and the two restarts in turns of order). Placement \"all on CPU "
	       "%d\": this program with the manager's thread, every daemon and every client "
	       "pinned there (taskset -c %d); unpinned: wherever the scheduler puts them. No "
	       "bar in docs/architecture.md: reported only.\n",
	       b->reps, b->cpu_a, b->cpu_a);
	printf("- checked in every restart: the answer shows the held frame still held "
	       "(allocated_frames 1) and the client's frame still holds what it wrote; at the "
	       "end of each repetition the client releases it with success on the latest "
	       "daemon.\n");
	if (b->waited_check >= 0)
		printf("- a call sent while no daemon runs waits in the socket: after SIGKILL, "
		       "with the next daemon not started, the client's request became readable "
		       "in its stored connection, and the next daemon answered that very call "
		       "(its first attempt, frame still held): %s. The library gives a call %u "
		       "ms: a restart slower than that would see the call fail with -ETIME "
		       "(counted below) and answered by the next one.\n",
		       b->waited_check ? "yes" : "NO", KSALLOC_DEFAULT_TIMEOUT_MS);
	print_counts(b);
	for (unsigned k = 0; k < N_PLACES; k++) {
		printf("- where the time goes, %s, medians in ms from the signal (cold start: "
		       "from the spawn): ",
		       place_name(b, (enum place)k));
		for (unsigned kind = 0; kind < N_KINDS; kind++) {
			print_breakdown((enum place)k, (enum kind)kind);
			printf("; ");
		}
		printf("`ksallocd --version` from fork to its exit reaped (exec and dynamic "
		       "loading, the floor under any start of the binary): %.2f\n",
		       median(exec_ns[k], n_exec[k]) / 1e6);
	}
	printf("- not in these figures: systemd's RestartSec= (100 ms by default; "
	       "ksallocd.service sets none, so a crash restart under systemd waits that long "
	       "before the spawn; SIGTERM by systemctl restart does not) and systemd's own "
	       "work around the spawn (cgroup, sandbox set-up of ksallocd.service).\n");
	printf("- bench-restart ran for %.0f s.\n", run_s);
}

/* ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: bench-restart [OPTIONS]\n"
		"Restarts ksallocd under a fake service manager with a file descriptor store,\n"
		"by SIGKILL and SIGTERM, with a client holding a frame, against a cold start;\n"
		"prints a Markdown table.\n"
		"\n"
		"  --daemon PATH   the ksallocd to run (default: ksallocd beside this program);\n"
		"                  its file name must be ksallocd\n"
		"  --reps N        repetitions after the warm-up, at most %d (default %d)\n"
		"  -h, --help      this text\n",
		MAX_REPS, DEFAULT_REPS);
}

int main(int argc, char **argv)
{
	static const struct option options[] = { { "daemon", required_argument, NULL, 'd' },
						 { "reps", required_argument, NULL, 'r' },
						 { "help", no_argument, NULL, 'h' },
						 {} };
	struct bench b = { .reps = DEFAULT_REPS, .cpu_a = -1, .waited_check = -1 };
	const char *daemon_path = NULL;
	char dir[PATH_MAX];
	unsigned long long v;
	int64_t start = now_ns();
	int c, r = 0;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'd':
			daemon_path = optarg;
			break;
		case 'r':
			if (parse_uint(optarg, 1, MAX_REPS, &v) < 0) {
				fprintf(stderr, "bench-restart: bad value '%s'\n", optarg);
				return 2;
			}
			b.reps = (unsigned)v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (!daemon_path)
		daemon_path = daemon_beside_me();
	b.daemon_path = daemon_path;
	if (access(daemon_path, X_OK) < 0) {
		fprintf(stderr,
			"bench-restart: %s: %s (build the ksallocd target, or say --daemon)\n",
			daemon_path, strerror(errno));
		return 1;
	}
	/* The fake manager runs test_binary("ksallocd"): the one in KSALLOC_TEST_BIN_DIR. */
	snprintf(dir, sizeof(dir), "%s", daemon_path);
	if (strcmp(basename(dir), "ksallocd") != 0) {
		fprintf(stderr, "bench-restart: %s: the daemon's file name must be ksallocd\n",
			daemon_path);
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s", daemon_path);
	setenv("KSALLOC_TEST_BIN_DIR", dirname(dir), 1);
	if (sched_getaffinity(0, sizeof(b.all_cpus), &b.all_cpus) < 0) {
		perror("bench-restart: sched_getaffinity");
		return 1;
	}
	for (int cpu = 0; cpu < CPU_SETSIZE && b.cpu_a < 0; cpu++)
		if (CPU_ISSET(cpu, &b.all_cpus))
			b.cpu_a = cpu;
	/* A connection gone wrong must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);

	printf("bench-restart: %s, pool \"%s\" of %u frames of %u bytes, one client holding a "
	       "frame; %u repetitions after a warm-up\n\n",
	       daemon_path, POOL_NAME, POOL_FRAMES, POOL_FRAME_SIZE, b.reps);
	fflush(stdout);

	r = fake_manager_start(&b.m, config);
	if (r < 0) {
		fprintf(stderr, "bench-restart: ksallocd under the fake manager: %s\n",
			strerror(-r));
		show_log(&b);
		fake_manager_free(&b.m);
		return 1;
	}
	r = check_waiting_request(&b);
	/* The warm-up: repetition 0, thrown away. */
	for (unsigned rep = 0; rep <= b.reps && r == 0; rep++) {
		b.keep = rep > 0;
		for (unsigned k = 0; k < N_PLACES && r == 0; k++)
			r = rep_in(&b, (enum place)((k + rep) % N_PLACES), rep);
	}
	if (r < 0)
		fprintf(stderr, "bench-restart: %s\n", strerror(-r));
	if (r == 0)
		r = place_all(&b, P_FREE);
	if (r == 0 && fake_manager_stop(&b.m) != 0) {
		fprintf(stderr, "bench-restart: ksallocd did not stop cleanly\n");
		show_log(&b);
		r = -EIO;
	}
	fake_manager_free(&b.m);
	if (r < 0)
		return 1;
	print_table(&b, (double)(now_ns() - start) / 1e9);
	return 0;
}
