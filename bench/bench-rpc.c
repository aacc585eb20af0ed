/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-rpc: the status RPC and many clients at once, measured on the real
 * ksallocd against raw sockets answering the same message sizes, in the
 * same run (docs/architecture.md, Bars).
 *
 *   status RPC    one client process calls IKsAllocator_KsGetAllocatorStatus
 *                 on a pool of ksallocd; baseline: a blocking SOCK_SEQPACKET
 *                 ping-pong (write, read) with a blocking server (read,
 *                 write) of the request's and reply's packed sizes.
 *                 p50, p99 and p99.9 over every call of a repetition.
 *   many clients  1, 4, 16 and 64 client processes make the same call at
 *                 once for a fixed time; baseline: a single-threaded epoll
 *                 server (level-triggered, non-blocking, one recv and one
 *                 send per readiness) answering the same sizes. Aggregate
 *                 queries per second and p99.
 *   first reply   under the 64-client load, a new process connects, says
 *                 hello and asks for a status (ksalloc_client_open +
 *                 ksalloc_client_pool_status); baseline: connect and one
 *                 ping-pong with the epoll server under its own 64 clients.
 *   ladders       where the time goes, with everything on one CPU: from the
 *                 raw ping-pong (and from the epoll baseline at 16 and 64
 *                 clients) to ksalloc, one change per step: the system calls
 *                 as libksalloc and ksallocd make them (proto/wire.c), an
 *                 epoll server instead of a blocking one, the protobuf-c work
 *                 of both sides, then ksalloc itself.
 *
 * The daemon is started here on a temporary socket with a pool of 8 frames,
 * and counts as started when it sends READY=1 to our own NOTIFY_SOCKET: the
 * integration tests' own code does it (tests/lib/daemon.h), and lets the
 * benchmark run under valgrind too. The raw servers are forked children. Every
 * client is a forked process using the public API. Placements: everything
 * on the first CPU (taskset -c 0: the judged rows), or wherever the
 * scheduler likes; a server is moved with sched_setaffinity() before each
 * run. ksalloc and its baseline alternate within each repetition, in turn
 * first, so that drift hits both.
 *
 * Beside the latencies, each run reads what the server spent on the CPU
 * (/proc/PID/task/TID/schedstat) and how often it slept (voluntary context
 * switches), and what the clients spent (CLOCK_PROCESS_CPUTIME_ID): per
 * query, that is where the time goes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ksalloc/ksalloc.h>
#include <ksalloc/ksproxy.h>

#include "bench/bench-util.h"

#include "proto/arena.h"
#include "proto/ksalloc.pb-c.h"
#include "proto/wire.h"
#include "tests/lib/daemon.h"

#define POOL_NAME "bench"
#define POOL_FRAMES 8
#define POOL_FRAME_SIZE 4096

#define MAX_CLIENTS 64
#define MAX_REPS 51
#define PROBES_PER_RUN 10
#define WARMUP_CALLS 200 /* per client process, before the start barrier */
#define BARRIER_TIMEOUT_MS 60000

#define DEFAULT_REPS 5
#define DEFAULT_CALLS 20000
#define DEFAULT_DURATION_MS 1000

#define BAR_P50_RATIO 1.3
#define BAR_P99_RATIO 2.0
#define BAR_QPS_RATIO 0.8

static const unsigned client_counts[] = { 1, 4, 16, 64 };
#define N_COUNTS (sizeof(client_counts) / sizeof(client_counts[0]))
#define N_JUDGED_FROM 2 /* client_counts[2] and on (16, 64) carry the throughput bar */

enum server {
	S_KSALLOC, /* ksallocd */
	S_RAW,     /* blocking ping-pong server: the status RPC's baseline */
	S_EPOLL,   /* epoll server, recv() and send(): the many clients' baseline */
	/* The ladder from raw to ksalloc (where the status RPC's time goes): */
	S_EPOLL_WIRE, /* epoll server with ksallocd's calls: wire_recv(), wire_send() */
	S_EPOLL_PB,   /* the same, and protobuf-c as ksallocd uses it: unpack, pack */
	N_SERVERS,
};

enum client_kind {
	C_KS,      /* KsOpenAllocator, IKsAllocator_KsGetAllocatorStatus */
	C_RAW,     /* write(), read() */
	C_WIRE,    /* libksalloc's calls: wire_send(), wire_recv(), SO_RCVTIMEO */
	C_WIRE_PB, /* the same, and protobuf-c as libksalloc uses it: pack, unpack */
};

enum place {
	P_ONE_CPU, /* everything on the first CPU */
	P_FREE,    /* wherever the scheduler puts it */
	N_PLACES,
};

/*
 * Latency histogram: exact below 256 ns, then 128 buckets per power of two
 * (under 0.8 % apart), up to 2^40 ns.
 */
#define HIST_SUB 128
#define HIST_MAX_LOG2 40
#define HIST_BUCKETS ((HIST_MAX_LOG2 - 6) * HIST_SUB)

struct hist {
	uint64_t count;
	uint64_t bucket[HIST_BUCKETS];
};

/* What the kernel says a server spent, summed over its threads. */
struct proc_stats {
	int64_t cpu_ns;
	uint64_t sleeps; /* voluntary context switches */
};

struct client_result {
	alignas(64) uint64_t calls; /* timed calls, completed within the window */
	int64_t cpu_ns;             /* the process's CPU time over its timed loop */
	struct hist hist;
};

/* Shared with the children (MAP_SHARED | MAP_ANONYMOUS, made before any fork). */
struct shared {
	alignas(64) _Atomic uint32_t ready; /* children that reached the start barrier */
	alignas(64) _Atomic uint32_t go;    /* futex: 1 starts the timed part */
	_Atomic uint32_t abort;             /* a child failed: everyone stops */
	int64_t start_ns, deadline_ns;      /* time-bound runs: the window */
	/* Count-bound runs: the server's stats around the one client's timed loop. */
	struct proc_stats server_before, server_after;
	uint32_t n_probes;
	int64_t probe_ns[PROBES_PER_RUN];
	struct client_result client[MAX_CLIENTS];
};

/* One run: its clients, its server, its placement. Set before the children fork. */
struct run {
	enum server server;
	enum client_kind client;
	enum place place;
	unsigned n_clients;
	uint64_t max_calls;  /* count-bound: calls per client; 0: time-bound */
	int64_t duration_ns; /* time-bound: the window */
	bool probe;          /* a new client's first reply, measured beside the load */
};

struct run_result {
	double p50_us, p99_us, p999_us;
	double qps;
	double client_cpu_us; /* per query, all clients together */
	double server_cpu_us; /* per query */
	double server_sleeps; /* per query */
	double probe_p50_us, probe_max_us;
};

struct bench {
	/* ksallocd; the raw servers' sockets are in its folder too. */
	struct test_daemon daemon;
	bool daemon_up;
	/* Sockets' paths fit in sockaddr_un: the folder is short. */
	char socket[N_SERVERS][108];
	const char *daemon_path;
	pid_t pid[N_SERVERS]; /* pid[S_KSALLOC]: the daemon */
	cpu_set_t all_cpus;
	int cpu0;
	/* The packed GetStatus request and reply: what the raw servers exchange. */
	uint8_t request[256], reply[256];
	size_t request_size, reply_size;
	uint32_t pool_id;
	Ksalloc__Framing framing;
	struct shared *sh;
	size_t sh_size;
	struct run run; /* the current run, as the children see it */
};

/* Where the signal handler finds what to remove. */
static struct bench *cleanup_bench;

static void sleep_until(int64_t t_ns)
{
	struct timespec ts = { .tv_sec = t_ns / 1000000000, .tv_nsec = t_ns % 1000000000 };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Shared futexes: the words live in memory that forked processes share. */
static int futex_wait(_Atomic uint32_t *word, uint32_t value, int timeout_ms)
{
	struct timespec ts = { .tv_sec = timeout_ms / 1000,
			       .tv_nsec = (timeout_ms % 1000) * 1000000L };

	if (syscall(SYS_futex, word, FUTEX_WAIT, value, timeout_ms >= 0 ? &ts : NULL, NULL, 0) < 0)
		return -errno;
	return 0;
}

static void futex_wake_all(_Atomic uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static unsigned hist_index(uint64_t v)
{
	unsigned e;

	if (v < 2 * HIST_SUB)
		return (unsigned)v;
	e = 63 - (unsigned)__builtin_clzll(v);
	if (e >= HIST_MAX_LOG2)
		return HIST_BUCKETS - 1;
	return (e - 6) * HIST_SUB + (unsigned)((v >> (e - 7)) & (HIST_SUB - 1));
}

/* The middle of bucket @i, in ns. */
static double hist_value(unsigned i)
{
	unsigned e, m;
	uint64_t width;

	if (i < 2 * HIST_SUB)
		return i;
	e = i / HIST_SUB + 6;
	m = i % HIST_SUB;
	width = (uint64_t)1 << (e - 7);
	return (double)((HIST_SUB + m) * width) + (double)(width - 1) / 2;
}

static void hist_add(struct hist *h, int64_t ns)
{
	h->bucket[hist_index(ns > 0 ? (uint64_t)ns : 0)]++;
	h->count++;
}

static void hist_merge(struct hist *into, const struct hist *h)
{
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		into->bucket[i] += h->bucket[i];
	into->count += h->count;
}

/* The @p quantile (nearest rank), in ns. */
static double hist_quantile(const struct hist *h, double p)
{
	uint64_t rank, seen = 0;

	if (h->count == 0)
		return 0;
	rank = (uint64_t)(p * (double)h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank)
			return hist_value(i);
	}
	return hist_value(HIST_BUCKETS - 1);
}

/* Sums one number out of /proc/PID/task/TID/@file for every thread of @pid. */
static int read_task_files(pid_t pid, struct proc_stats *ret)
{
	struct proc_stats st = { 0 };
	char path[320], line[256];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		unsigned long long v;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat", (int)pid, e->d_name);
		f = fopen(path, "re");
		if (f) {
			if (fscanf(f, "%llu", &v) == 1)
				st.cpu_ns += (int64_t)v;
			fclose(f);
		}
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int)pid, e->d_name);
		f = fopen(path, "re");
		if (f) {
			while (fgets(line, sizeof(line), f))
				if (sscanf(line, "voluntary_ctxt_switches: %llu", &v) == 1)
					st.sleeps += v;
			fclose(f);
		}
	}
	closedir(d);
	*ret = st;
	return 0;
}

static void place_set(const struct bench *b, enum place place, cpu_set_t *set)
{
	if (place == P_ONE_CPU) {
		CPU_ZERO(set);
		CPU_SET(b->cpu0, set);
	} else {
		*set = b->all_cpus;
	}
}

/* Only unlink() and _exit(): what a signal handler may call. */
static void on_signal(int sig)
{
	struct bench *b = cleanup_bench;

	if (b) {
		unlink(b->daemon.config_path);
		unlink(b->daemon.log_path);
		unlink(b->daemon.notify_path);
		for (int i = 0; i < N_SERVERS; i++)
			unlink(b->socket[i]);
		rmdir(b->daemon.dir);
	}
	_exit(128 + sig);
}

/* A listening SOCK_SEQPACKET socket at @path; @flags: SOCK_NONBLOCK or 0. */
static int listen_at(const char *path, int flags)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | flags, 0);
	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, SOMAXCONN) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* The raw baseline's call: the packed request out, a reply back. Blocking. */
static int raw_call(const struct bench *b, int fd)
{
	uint8_t buf[512];
	ssize_t n;

	if (write(fd, b->request, b->request_size) != (ssize_t)b->request_size)
		return -EIO;
	n = read(fd, buf, sizeof(buf));
	if (n != (ssize_t)b->reply_size)
		return n < 0 ? -errno : -EPIPE;
	return 0;
}

/*
 * The status RPC's baseline server: one connection at a time, blocking read
 * and write. Takes @listen_fd. Runs until killed.
 */
static void raw_server(const struct bench *b, int listen_fd)
{
	uint8_t buf[512];

	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		ssize_t n;

		if (fd < 0)
			continue;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (write(fd, b->reply, b->reply_size) != (ssize_t)b->reply_size)
				break;
		close(fd);
	}
}

/* What a ladder server does with one request; @rx and @tx are max-message buffers. */
static int serve_wire(const struct bench *b, enum server kind, int fd, uint8_t *rx, uint8_t *tx,
		      struct arena *arena)
{
	Ksalloc__Reply reply = KSALLOC__REPLY__INIT;
	Ksalloc__GetStatusReply *status;
	Ksalloc__Framing *framing;
	Ksalloc__Request *req;
	size_t n_dropped = 0;
	ssize_t n, len;
	int r;

	n = wire_recv(fd, rx, WIRE_DEFAULT_MAX_MESSAGE, NULL, 0, NULL, &n_dropped);
	if (n <= 0)
		return n == -EAGAIN ? 0 : -EPIPE;
	if (kind == S_EPOLL_WIRE)
		return wire_send(fd, b->reply, b->reply_size, NULL, 0);
	/* As ksallocd: unpack into the arena, build the reply there, pack, send, reset. */
	req = ksalloc__request__unpack(&arena->allocator, (size_t)n, rx);
	if (!req || req->body_case != KSALLOC__REQUEST__BODY_GET_STATUS)
		return -EBADMSG;
	status = arena_alloc(arena, sizeof(*status));
	framing = arena_alloc(arena, sizeof(*framing));
	if (!status || !framing)
		return -ENOMEM;
	ksalloc__get_status_reply__init(status);
	*framing = b->framing;
	status->framing = framing;
	reply.id = req->id;
	reply.body_case = KSALLOC__REPLY__BODY_GET_STATUS;
	reply.get_status = status;
	len = wire_pack(&reply.base, tx, WIRE_DEFAULT_MAX_MESSAGE);
	r = len < 0 ? (int)len : wire_send(fd, tx, (size_t)len, NULL, 0);
	arena_reset(arena);
	return r;
}

/*
 * The many clients' baseline server: one thread, one level-triggered epoll
 * set, non-blocking sockets, one recv and one send per readiness, as
 * ksallocd's transport does with uv_poll_t. Takes @listen_fd (non-blocking).
 * @kind S_EPOLL answers with recv() and send(); the ladder's kinds with
 * ksallocd's own calls (S_EPOLL_WIRE) and its protobuf-c work (S_EPOLL_PB).
 */
static void epoll_server(const struct bench *b, enum server kind, int listen_fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = listen_fd }, events[64];
	uint8_t *rx = malloc(WIRE_DEFAULT_MAX_MESSAGE), *tx = malloc(WIRE_DEFAULT_MAX_MESSAGE);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct arena arena;

	if (!rx || !tx || arena_init(&arena, 2 * (size_t)WIRE_DEFAULT_MAX_MESSAGE) < 0 || ep < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev) < 0)
		_exit(1);
	for (;;) {
		int n = epoll_wait(ep, events, 64, -1);

		for (int i = 0; i < n; i++) {
			int fd = events[i].data.fd;
			ssize_t len;

			if (fd == listen_fd) {
				int c;

				while ((c = accept4(listen_fd, NULL, NULL,
						    SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
					ev = (struct epoll_event){ .events = EPOLLIN,
								   .data.fd = c };
					if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) < 0)
						close(c);
				}
				continue;
			}
			if (kind != S_EPOLL) {
				if (serve_wire(b, kind, fd, rx, tx, &arena) == 0)
					continue;
			} else {
				len = recv(fd, rx, WIRE_DEFAULT_MAX_MESSAGE, 0);
				if (len > 0) {
					if (send(fd, b->reply, b->reply_size, MSG_NOSIGNAL) ==
					    (ssize_t)b->reply_size)
						continue;
				} else if (len < 0 && errno == EAGAIN) {
					continue;
				}
			}
			epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
			close(fd);
		}
	}
}

/* Forks the server of @kind, listening at its socket. */
static int spawn_server(struct bench *b, enum server kind)
{
	int listen_fd = listen_at(b->socket[kind], kind == S_RAW ? 0 : SOCK_NONBLOCK);
	pid_t pid;

	if (listen_fd < 0)
		return listen_fd;
	pid = fork();
	if (pid < 0) {
		close(listen_fd);
		return -errno;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (kind == S_RAW)
			raw_server(b, listen_fd);
		else
			epoll_server(b, kind, listen_fd);
		_exit(0);
	}
	close(listen_fd);
	b->pid[kind] = pid;
	return 0;
}

static int start_daemon(struct bench *b)
{
	struct test_daemon_options o;
	char config[512];
	int r;

	snprintf(config, sizeof(config),
		 "[daemon]\n"
		 "log_level = warning\n"
		 /* 64 clients and a prober have the pool open at once, plus stragglers. */
		 "max_pool_sessions = 1024\n"
		 "\n"
		 "[pool " POOL_NAME "]\n"
		 "frames = %d\n"
		 "frame_size = %d\n",
		 POOL_FRAMES, POOL_FRAME_SIZE);
	test_daemon_options_init(&o);
	o.program = b->daemon_path;
	o.dir_prefix = "bench-rpc";
	r = test_daemon_start_with(&b->daemon, config, &o);
	if (r < 0)
		return r;
	b->daemon_up = true;
	b->pid[S_KSALLOC] = b->daemon.pid;
	/*
	 * Nobody reads the notify socket from here on, and ksallocd keeps sending
	 * STATUS= lines as sessions come and go: gone, the socket cannot stall it.
	 */
	test_daemon_close_notify(&b->daemon);
	return 0;
}

static void print_daemon_log(const struct bench *b)
{
	FILE *f = fopen(b->daemon.log_path, "re");
	char line[512];

	if (!f)
		return;
	fprintf(stderr, "bench-rpc: ksallocd's log:\n");
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "  %s", line);
	fclose(f);
}

/* Kills the raw servers and stops the daemon (saying so if not cleanly), removing its folder. */
static void stop_children(struct bench *b)
{
	int status;

	for (int i = S_KSALLOC + 1; i < N_SERVERS; i++) {
		if (b->pid[i] > 0) {
			kill(b->pid[i], SIGKILL);
			waitpid(b->pid[i], &status, 0);
			b->pid[i] = 0;
		}
	}
	if (b->daemon_up && test_daemon_stop(&b->daemon) == -ETIMEDOUT)
		fprintf(stderr, "bench-rpc: ksallocd did not stop on SIGTERM\n");
	else if (!b->daemon_up)
		test_daemon_kill(&b->daemon);
	b->daemon_up = false;
	b->pid[S_KSALLOC] = 0;
}

/*
 * Packs the GetStatus request and reply that a KsGetAllocatorStatus of the
 * pool makes, so that the raw servers exchange exactly their sizes (and
 * bytes). The pool's id and framing come from the daemon itself. Request ids
 * are those of the timed calls: two varint bytes.
 */
static int pack_messages(struct bench *b)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__GetStatusRequest get = KSALLOC__GET_STATUS_REQUEST__INIT;
	Ksalloc__Reply reply = KSALLOC__REPLY__INIT;
	Ksalloc__GetStatusReply status = KSALLOC__GET_STATUS_REPLY__INIT;
	Ksalloc__Framing framing = KSALLOC__FRAMING__INIT;
	struct ksalloc_client_options opts;
	const struct ksalloc_pool_info *info;
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	int r;

	ksalloc_client_options_init(&opts);
	opts.socket_path = b->socket[S_KSALLOC];
	opts.client_name = "bench-rpc";
	r = ksalloc_client_open(&opts, &c);
	if (r < 0) {
		fprintf(stderr, "bench-rpc: %s\n", ksalloc_client_open_error());
		return r;
	}
	r = ksalloc_pool_open(c, POOL_NAME, &p);
	if (r < 0) {
		fprintf(stderr, "bench-rpc: opening pool %s: %s\n", POOL_NAME,
			ksalloc_client_error(c));
		ksalloc_client_close(c);
		return r;
	}
	info = ksalloc_pool_get_info(p);
	get.pool_id = info->pool_id;
	req.id = 1000;
	req.body_case = KSALLOC__REQUEST__BODY_GET_STATUS;
	req.get_status = &get;
	framing.options_flags = info->status.framing.options_flags;
	framing.pool_type = info->status.framing.pool_type;
	framing.frames = info->status.framing.frames;
	framing.frame_size = info->status.framing.frame_size;
	framing.file_alignment = info->status.framing.file_alignment;
	status.framing = &framing;
	status.allocated_frames = 0; /* nobody holds a frame here */
	reply.id = req.id;
	reply.hresult = S_OK;
	reply.body_case = KSALLOC__REPLY__BODY_GET_STATUS;
	reply.get_status = &status;
	ksalloc_pool_close(p);
	ksalloc_client_close(c);

	b->request_size = ksalloc__request__get_packed_size(&req);
	b->reply_size = ksalloc__reply__get_packed_size(&reply);
	if (b->request_size > sizeof(b->request) || b->reply_size > sizeof(b->reply))
		return -EMSGSIZE;
	ksalloc__request__pack(&req, b->request);
	ksalloc__reply__pack(&reply, b->reply);
	b->pool_id = get.pool_id;
	b->framing = framing;
	return 0;
}

static bool aborted(const struct bench *b)
{
	return atomic_load(&b->sh->abort) != 0;
}

/* Counts the caller in, then sleeps until the parent says go. */
static int barrier(const struct bench *b)
{
	struct shared *sh = b->sh;

	atomic_fetch_add(&sh->ready, 1);
	futex_wake_all(&sh->ready);
	while (atomic_load(&sh->go) == 0) {
		if (aborted(b))
			return -ECANCELED;
		futex_wait(&sh->go, 0, 1000);
	}
	return aborted(b) ? -ECANCELED : 0;
}

/* A client's connection: the KS allocator, or a socket of its own. */
struct conn {
	enum client_kind kind;
	IKsAllocatorEx *alloc;
	IKsAllocator *base;
	int fd;
	/* C_WIRE, C_WIRE_PB: as libksalloc's client has them. */
	uint8_t *buf;
	struct arena arena;
	uint32_t next_id;
};

static void conn_close(struct conn *c)
{
	if (c->base)
		IKsAllocator_Release(c->base);
	if (c->alloc)
		IKsAllocatorEx_Release(c->alloc);
	if (c->fd >= 0)
		close(c->fd);
	if (c->buf) {
		free(c->buf);
		arena_deinit(&c->arena);
	}
	*c = (struct conn){ .fd = -1 };
}

/* As libksalloc sets them: every blocking call waits at most the default timeout. */
static int set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = KSALLOC_DEFAULT_TIMEOUT_MS / 1000,
			      .tv_usec = (KSALLOC_DEFAULT_TIMEOUT_MS % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

static int conn_open(const struct bench *b, enum server server, enum client_kind kind,
		     struct conn *c)
{
	HRESULT hr;

	*c = (struct conn){ .kind = kind, .fd = -1 };
	if (kind != C_KS) {
		c->fd = connect_to(b->socket[server]);
		if (c->fd < 0 || kind == C_RAW)
			return c->fd < 0 ? c->fd : 0;
		c->buf = malloc(WIRE_DEFAULT_MAX_MESSAGE);
		if (!c->buf || arena_init(&c->arena, 2 * (size_t)WIRE_DEFAULT_MAX_MESSAGE) < 0) {
			free(c->buf);
			c->buf = NULL;
			return -ENOMEM;
		}
		return set_timeouts(c->fd);
	}
	/* $KSALLOC_SOCKET names the daemon's socket, as a real client finds it. */
	hr = KsOpenAllocator(POOL_NAME, &c->alloc);
	if (FAILED(hr)) {
		fprintf(stderr, "bench-rpc: KsOpenAllocator: HRESULT 0x%08x\n", (unsigned)hr);
		return -EIO;
	}
	hr = IKsAllocatorEx_QueryInterface(c->alloc, &IID_IKsAllocator, (void **)&c->base);
	if (FAILED(hr)) {
		fprintf(stderr, "bench-rpc: QueryInterface(IKsAllocator): HRESULT 0x%08x\n",
			(unsigned)hr);
		return -EIO;
	}
	return 0;
}

/*
 * The ladder's clients: libksalloc's system calls (wire_send(), wire_recv()
 * with room for an fd, on a socket with SO_RCVTIMEO), and for C_WIRE_PB its
 * protobuf-c work too (arena reset, pack the request, unpack the reply).
 */
static int wire_call(const struct bench *b, struct conn *c)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__GetStatusRequest get = KSALLOC__GET_STATUS_REQUEST__INIT;
	Ksalloc__Reply *reply;
	size_t n_fds = 0;
	ssize_t n;
	int fd = -1, r;

	if (c->kind == C_WIRE) {
		r = wire_send(c->fd, b->request, b->request_size, NULL, 0);
	} else {
		arena_reset(&c->arena);
		get.pool_id = b->pool_id;
		req.id = ++c->next_id;
		req.body_case = KSALLOC__REQUEST__BODY_GET_STATUS;
		req.get_status = &get;
		n = wire_pack(&req.base, c->buf, WIRE_DEFAULT_MAX_MESSAGE);
		r = n < 0 ? (int)n : wire_send(c->fd, c->buf, (size_t)n, NULL, 0);
	}
	if (r < 0)
		return r;
	n = wire_recv(c->fd, c->buf, WIRE_DEFAULT_MAX_MESSAGE, &fd, 1, &n_fds, NULL);
	if (n <= 0)
		return n < 0 ? (int)n : -EPIPE;
	if (n_fds)
		close(fd);
	if (c->kind == C_WIRE)
		return 0;
	reply = ksalloc__reply__unpack(&c->arena.allocator, (size_t)n, c->buf);
	if (!reply || reply->id != req.id || reply->body_case != KSALLOC__REPLY__BODY_GET_STATUS ||
	    !reply->get_status->framing || reply->get_status->framing->frames != POOL_FRAMES)
		return -EBADMSG;
	return 0;
}

/* One status query. */
static int conn_call(const struct bench *b, struct conn *c)
{
	KSSTREAMALLOCATOR_STATUS st;
	HRESULT hr;

	switch (c->kind) {
	case C_RAW:
		return raw_call(b, c->fd);
	case C_WIRE:
	case C_WIRE_PB:
		return wire_call(b, c);
	case C_KS:
		break;
	}
	hr = IKsAllocator_KsGetAllocatorStatus(c->base, &st);
	if (FAILED(hr)) {
		fprintf(stderr, "bench-rpc: KsGetAllocatorStatus: HRESULT 0x%08x\n", (unsigned)hr);
		return -EIO;
	}
	return st.Framing.Frames == POOL_FRAMES ? 0 : -EBADMSG;
}

/* A client process: connect, warm up, wait for the others, then the timed calls. */
static int client_main(const struct bench *b, unsigned who)
{
	const struct run *run = &b->run;
	struct client_result *res = &b->sh->client[who];
	bool count_bound = run->max_calls > 0;
	struct conn c;
	int64_t cpu0, deadline = INT64_MAX;
	int r;

	r = conn_open(b, run->server, run->client, &c);
	for (unsigned i = 0; i < WARMUP_CALLS && r == 0; i++)
		r = conn_call(b, &c);
	if (r < 0) {
		/* Counted in all the same, so that the parent is not left waiting. */
		atomic_store(&b->sh->abort, 1);
		atomic_fetch_add(&b->sh->ready, 1);
		futex_wake_all(&b->sh->ready);
		conn_close(&c);
		return r;
	}
	r = barrier(b);
	if (r < 0) {
		conn_close(&c);
		return r;
	}
	if (!count_bound)
		deadline = b->sh->deadline_ns;
	else if (who == 0)
		read_task_files(b->pid[run->server], &b->sh->server_before);

	cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	for (;;) {
		int64_t t0 = now_ns(), t1;

		r = conn_call(b, &c);
		t1 = now_ns();
		if (r < 0 || t1 > deadline)
			break;
		hist_add(&res->hist, t1 - t0);
		if (++res->calls == run->max_calls || aborted(b))
			break;
	}
	res->cpu_ns = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	if (count_bound && who == 0)
		read_task_files(b->pid[run->server], &b->sh->server_after);
	conn_close(&c);
	return r;
}

/*
 * A new client's first reply, PROBES_PER_RUN times spread over the window:
 * connect, hello and a status by name (ksalloc), or connect and one
 * ping-pong (the epoll baseline), each from a fresh connection.
 */
static int probe_once(const struct bench *b)
{
	struct ksalloc_client_options opts;
	struct ksalloc_client *c;
	struct ksalloc_status st;
	int fd, r;

	if (b->run.server != S_KSALLOC) {
		fd = connect_to(b->socket[S_EPOLL]);
		if (fd < 0)
			return fd;
		r = raw_call(b, fd);
		close(fd);
		return r;
	}
	ksalloc_client_options_init(&opts);
	opts.client_name = "bench-rpc-probe";
	r = ksalloc_client_open(&opts, &c);
	if (r < 0) {
		fprintf(stderr, "bench-rpc: probe: %s\n", ksalloc_client_open_error());
		return r;
	}
	r = ksalloc_client_pool_status(c, POOL_NAME, &st);
	if (r < 0)
		fprintf(stderr, "bench-rpc: probe: %s\n", ksalloc_client_error(c));
	ksalloc_client_close(c);
	return r;
}

static int prober_main(const struct bench *b)
{
	struct shared *sh = b->sh;
	int64_t spacing;
	int r;

	r = barrier(b);
	if (r < 0)
		return r;
	spacing = (sh->deadline_ns - sh->start_ns) / (PROBES_PER_RUN + 1);
	for (unsigned k = 1; k <= PROBES_PER_RUN && !aborted(b); k++) {
		int64_t t0;

		sleep_until(sh->start_ns + (int64_t)k * spacing);
		t0 = now_ns();
		r = probe_once(b);
		if (r < 0)
			return r;
		sh->probe_ns[sh->n_probes++] = now_ns() - t0;
	}
	return 0;
}

static pid_t server_pid(const struct bench *b, enum server server)
{
	return b->pid[server];
}

/*
 * Runs b->run: places its server, forks its clients (and the prober) on the
 * same placement, starts them together, reaps them, and sums up. Returns 0,
 * -ECHILD when a child failed (it said why on stderr), or -errno.
 */
static int run_once(struct bench *b, struct run_result *ret)
{
	const struct run *run = &b->run;
	struct shared *sh = b->sh;
	unsigned n_children = run->n_clients + (run->probe ? 1 : 0);
	pid_t pid[MAX_CLIENTS + 1];
	struct proc_stats before = { 0 }, after = { 0 };
	struct hist *all;
	uint64_t calls = 0;
	int64_t client_cpu = 0, waited = 0;
	cpu_set_t set;
	unsigned forked;
	int r = 0;

	memset(sh, 0, offsetof(struct shared, client));
	memset(sh->client, 0, run->n_clients * sizeof(sh->client[0]));
	place_set(b, run->place, &set);
	r = set_affinity(server_pid(b, run->server), &set);
	if (r < 0)
		return r;

	for (forked = 0; forked < n_children; forked++) {
		pid[forked] = fork();
		if (pid[forked] < 0) {
			r = -errno;
			atomic_store(&sh->abort, 1);
			break;
		}
		if (pid[forked] == 0) {
			/* A benchmark interrupted must not leave its clients behind. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (sched_setaffinity(0, sizeof(set), &set) < 0)
				r = -errno;
			else if (forked < run->n_clients)
				r = client_main(b, forked);
			else
				r = prober_main(b);
			if (r < 0 && r != -ECANCELED) {
				fprintf(stderr, "bench-rpc: child %u: %s\n", forked, strerror(-r));
				atomic_store(&sh->abort, 1);
			}
			_exit(r < 0 ? 1 : 0);
		}
	}

	/* Everyone connected and warmed up: start the window. */
	while (r == 0) {
		uint32_t ready = atomic_load(&sh->ready);

		if (ready >= n_children || aborted(b))
			break;
		if (waited > BARRIER_TIMEOUT_MS) {
			fprintf(stderr, "bench-rpc: clients did not get ready within %d ms\n",
				BARRIER_TIMEOUT_MS);
			r = -ETIMEDOUT;
			break;
		}
		futex_wait(&sh->ready, ready, 10);
		waited += 10;
	}
	if (r < 0 || aborted(b))
		atomic_store(&sh->abort, 1);
	if (r == 0 && run->max_calls == 0)
		read_task_files(server_pid(b, run->server), &before);
	sh->start_ns = now_ns();
	sh->deadline_ns = run->max_calls ? INT64_MAX : sh->start_ns + run->duration_ns;
	atomic_store(&sh->go, 1);
	futex_wake_all(&sh->go);
	if (r == 0 && run->max_calls == 0) {
		sleep_until(sh->deadline_ns);
		read_task_files(server_pid(b, run->server), &after);
	}

	for (unsigned i = 0; i < forked; i++) {
		int status;

		if (waitpid(pid[i], &status, 0) < 0)
			r = -errno;
		else if ((!WIFEXITED(status) || WEXITSTATUS(status) != 0) && r == 0)
			r = -ECHILD;
	}
	if (r < 0)
		return r;

	if (run->max_calls) {
		before = sh->server_before;
		after = sh->server_after;
	}
	all = calloc(1, sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (unsigned i = 0; i < run->n_clients; i++) {
		hist_merge(all, &sh->client[i].hist);
		calls += sh->client[i].calls;
		client_cpu += sh->client[i].cpu_ns;
	}
	*ret = (struct run_result){
		.p50_us = hist_quantile(all, 0.50) / 1000,
		.p99_us = hist_quantile(all, 0.99) / 1000,
		.p999_us = hist_quantile(all, 0.999) / 1000,
		.qps = run->max_calls ? 0 : (double)calls * 1e9 / (double)run->duration_ns,
	};
	free(all);
	if (calls) {
		ret->client_cpu_us = (double)client_cpu / (double)calls / 1000;
		ret->server_cpu_us = (double)(after.cpu_ns - before.cpu_ns) / (double)calls / 1000;
		ret->server_sleeps = (double)(after.sleeps - before.sleeps) / (double)calls;
	}
	if (sh->n_probes) {
		double v[PROBES_PER_RUN];

		for (unsigned i = 0; i < sh->n_probes; i++)
			v[i] = (double)sh->probe_ns[i] / 1000;
		ret->probe_p50_us = median(v, sh->n_probes);
		qsort(v, sh->n_probes, sizeof(v[0]), cmp_double);
		ret->probe_max_us = v[sh->n_probes - 1];
	}
	return 0;
}

/* Every repetition's results: [place][0 ksalloc, 1 baseline][rep]. */
static struct run_result status_results[N_PLACES][2][MAX_REPS];
static struct run_result client_results[N_PLACES][N_COUNTS][2][MAX_REPS];
static unsigned n_reps_done;

/*
 * The ladder from the raw ping-pong to ksalloc, both on one CPU: each step
 * changes one thing. Its first and last steps are the status RPC's pinned
 * rows; these are the ones between.
 */
enum {
	L_WIRE,  /* the client makes libksalloc's system calls; blocking raw server */
	L_EPOLL, /* and the server is an epoll loop making ksallocd's calls */
	L_PB,    /* and both do the protobuf-c work */
	N_LADDER,
};

static const struct {
	enum server server;
	enum client_kind client;
} ladder_steps[N_LADDER] = {
	[L_WIRE] = { S_RAW, C_WIRE },
	[L_EPOLL] = { S_EPOLL_WIRE, C_WIRE },
	[L_PB] = { S_EPOLL_PB, C_WIRE_PB },
};

static struct run_result ladder_results[N_LADDER][MAX_REPS];

/*
 * The same for the judged many-clients rows (16 and 64 clients on one CPU),
 * where the baseline is the epoll server already: both sides make ksalloc's
 * system calls, then both also do its protobuf-c work.
 */
enum {
	LC_WIRE,
	LC_PB,
	N_CLIENT_LADDER,
};

static const struct {
	enum server server;
	enum client_kind client;
} client_ladder_steps[N_CLIENT_LADDER] = {
	[LC_WIRE] = { S_EPOLL_WIRE, C_WIRE },
	[LC_PB] = { S_EPOLL_PB, C_WIRE_PB },
};

static struct run_result client_ladder_results[N_COUNTS][N_CLIENT_LADDER][MAX_REPS];

struct options {
	unsigned reps;
	uint64_t calls;
	int64_t duration_ns;
	bool status, clients;  /* which parts run */
	bool places[N_PLACES]; /* which placements run */
	const char *data_path;
};

/* ksalloc and its baseline, back to back, the one first that @rep says. */
static int run_pair(struct bench *b, enum server base, unsigned rep, struct run_result *ret_k,
		    struct run_result *ret_base)
{
	int r = 0;

	for (unsigned i = 0; i < 2 && r == 0; i++) {
		bool ksalloc_now = (i + rep) % 2 == 0;

		b->run.server = ksalloc_now ? S_KSALLOC : base;
		b->run.client = ksalloc_now ? C_KS : C_RAW;
		r = run_once(b, ksalloc_now ? ret_k : ret_base);
	}
	return r;
}

/* One repetition of everything; @rep < 0 is the warm-up, scaled down and thrown away. */
static int run_rep(struct bench *b, const struct options *o, int rep)
{
	unsigned turn = rep < 0 ? 0 : (unsigned)rep;
	struct run_result k, base;
	int r = 0;

	for (int place = 0; place < N_PLACES && r == 0; place++) {
		if (!o->places[place])
			continue;
		if (o->status) {
			b->run = (struct run){
				.place = (enum place)place,
				.n_clients = 1,
				.max_calls = rep < 0 ? o->calls / 4 + 1 : o->calls,
			};
			r = run_pair(b, S_RAW, turn, &k, &base);
			if (r == 0 && rep >= 0) {
				status_results[place][0][rep] = k;
				status_results[place][1][rep] = base;
			}
			/* The steps between, in turns too. */
			for (unsigned i = 0; i < N_LADDER && place == P_ONE_CPU && r == 0; i++) {
				unsigned step = (i + turn) % N_LADDER;

				b->run.server = ladder_steps[step].server;
				b->run.client = ladder_steps[step].client;
				r = run_once(b, &k);
				if (r == 0 && rep >= 0)
					ladder_results[step][rep] = k;
			}
		}
		for (unsigned ci = 0; ci < N_COUNTS && o->clients && r == 0; ci++) {
			b->run = (struct run){
				.place = (enum place)place,
				.n_clients = client_counts[ci],
				.duration_ns = rep < 0 ? o->duration_ns / 4 : o->duration_ns,
				.probe = client_counts[ci] == MAX_CLIENTS,
			};
			r = run_pair(b, S_EPOLL, turn + ci, &k, &base);
			if (r == 0 && rep >= 0) {
				client_results[place][ci][0][rep] = k;
				client_results[place][ci][1][rep] = base;
			}
			for (unsigned i = 0; i < N_CLIENT_LADDER && place == P_ONE_CPU &&
					     ci >= N_JUDGED_FROM && r == 0;
			     i++) {
				unsigned step = (i + turn) % N_CLIENT_LADDER;

				b->run.server = client_ladder_steps[step].server;
				b->run.client = client_ladder_steps[step].client;
				b->run.probe = false;
				r = run_once(b, &k);
				if (r == 0 && rep >= 0)
					client_ladder_results[ci][step][rep] = k;
			}
		}
	}
	return r;
}

/* Median, min and max of one field of @n results. */
struct summary {
	double med, min, max;
};

static struct summary summarize(const struct run_result *res, unsigned n, size_t field)
{
	double v[MAX_REPS];
	struct summary s = { 0 };

	if (n == 0)
		return s;
	for (unsigned i = 0; i < n; i++)
		memcpy(&v[i], (const char *)&res[i] + field, sizeof(double));
	qsort(v, n, sizeof(v[0]), cmp_double);
	s.med = median(v, n);
	s.min = v[0];
	s.max = v[n - 1];
	return s;
}

static const char *fmt_num(char *buf, size_t size, double v)
{
	if (v >= 1000)
		snprintf(buf, size, "%.0f", v);
	else if (v >= 100)
		snprintf(buf, size, "%.0f", v);
	else if (v >= 10)
		snprintf(buf, size, "%.1f", v);
	else
		snprintf(buf, size, "%.2f", v);
	return buf;
}

static const char *place_name(const struct bench *b, enum place place, unsigned n_processes)
{
	static char buf[64];

	if (place == P_FREE)
		return "unpinned";
	if (n_processes <= 2)
		snprintf(buf, sizeof(buf), "both on CPU %d", b->cpu0);
	else
		snprintf(buf, sizeof(buf), "all on CPU %d", b->cpu0);
	return buf;
}

enum bar_kind {
	BAR_NONE,
	BAR_AT_MOST,  /* ratio <= bar */
	BAR_AT_LEAST, /* ratio >= bar */
};

/* A row: ksalloc's figure over reps, its baseline's median, the ratio, the bar. */
static void print_row(const struct bench *b, const char *what, enum place place,
		      unsigned n_processes, const struct run_result *k,
		      const struct run_result *base, unsigned n, size_t field, enum bar_kind kind,
		      double bar)
{
	struct summary s = summarize(k, n, field), sb = summarize(base, n, field);
	char med[32], lo[32], hi[32], bm[32], bar_text[32], verdict[16], ratio_text[16];
	double ratio = sb.med > 0 ? s.med / sb.med : 0;
	bool judged = place == P_ONE_CPU;

	/* A third decimal where two would round a ratio onto its bar and hide its side. */
	snprintf(ratio_text, sizeof(ratio_text), "%.2f", ratio);
	if (kind != BAR_NONE && ratio != bar && strtod(ratio_text, NULL) == bar)
		snprintf(ratio_text, sizeof(ratio_text), "%.3f", ratio);

	if (kind == BAR_NONE) {
		snprintf(bar_text, sizeof(bar_text), "-");
		snprintf(verdict, sizeof(verdict), "-");
	} else {
		bool pass = kind == BAR_AT_MOST ? ratio <= bar : ratio >= bar;

		snprintf(bar_text, sizeof(bar_text), judged ? "%s %.1fx" : "(%s %.1fx)",
			 kind == BAR_AT_MOST ? "≤" : "≥", bar);
		snprintf(verdict, sizeof(verdict), "%s",
			 judged ? (pass ? "pass" : "FAIL") : (pass ? "(pass)" : "(fail)"));
	}
	printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", what,
	       place_name(b, place, n_processes), fmt_num(med, sizeof(med), s.med),
	       fmt_num(lo, sizeof(lo), s.min), fmt_num(hi, sizeof(hi), s.max),
	       fmt_num(bm, sizeof(bm), sb.med), ratio_text, bar_text, verdict);
}

#define FIELD(f) offsetof(struct run_result, f)

static void print_status_table(const struct bench *b, const struct options *o)
{
	unsigned n = n_reps_done;

	printf("## Status RPC: KsGetAllocatorStatus against a raw SOCK_SEQPACKET ping-pong\n\n");
	printf("| measurement | placement | median µs | min | max | baseline median µs | ratio "
	       "| bar | pass/fail |\n");
	printf("|---|---|---:|---:|---:|---:|---:|---|---|\n");
	for (int place = 0; place < N_PLACES; place++) {
		const struct run_result *k = status_results[place][0];
		const struct run_result *base = status_results[place][1];

		if (!o->places[place])
			continue;
		print_row(b, "round trip p50", (enum place)place, 2, k, base, n, FIELD(p50_us),
			  BAR_AT_MOST, BAR_P50_RATIO);
		print_row(b, "round trip p99", (enum place)place, 2, k, base, n, FIELD(p99_us),
			  BAR_AT_MOST, BAR_P99_RATIO);
		print_row(b, "round trip p99.9", (enum place)place, 2, k, base, n, FIELD(p999_us),
			  BAR_NONE, 0);
		print_row(b, "client CPU per call", (enum place)place, 2, k, base, n,
			  FIELD(client_cpu_us), BAR_NONE, 0);
		print_row(b, "server CPU per call", (enum place)place, 2, k, base, n,
			  FIELD(server_cpu_us), BAR_NONE, 0);
	}
	printf("\n");
	printf("- round trip: CLOCK_MONOTONIC around each IKsAllocator_KsGetAllocatorStatus() "
	       "(KsOpenAllocator, QueryInterface for IKsAllocator) of one client process; "
	       "percentiles over all %llu calls of a repetition (after %d warm-up calls), then "
	       "median, min and max over %u repetitions.\n",
	       (unsigned long long)o->calls, WARMUP_CALLS, n);
	printf("- baseline: a client process doing write() + read() of the same %zu and %zu "
	       "bytes (the packed GetStatus request and reply) against a forked server doing "
	       "read() + write(), blocking, on its own SOCK_SEQPACKET socket.\n",
	       b->request_size, b->reply_size);
	printf("- CPU per call: the client's CLOCK_PROCESS_CPUTIME_ID and the server's "
	       "schedstat run time over the timed calls, divided by the calls.\n");
	printf("- ratio: ksalloc median / baseline median, same run, same placement. Bars "
	       "(docs/architecture.md) judged with both processes on CPU %d; parenthesised "
	       "ones are unpinned rows, reported only. Unpinned figures are bimodal: a round "
	       "trip takes about 9 µs when the scheduler keeps both sides on one CPU and about "
	       "50 µs when it wakes the other side on the other vCPU (docs/architecture.md), so "
	       "their medians and ratios move with its choices.\n",
	       b->cpu0);
}

static void print_clients_table(const struct bench *b, const struct options *o)
{
	unsigned n = n_reps_done;
	char what[96];

	printf("## Many clients: aggregate queries/s and p99 against a raw epoll server\n\n");
	printf("| measurement | placement | median | min | max | baseline median | ratio | bar "
	       "| pass/fail |\n");
	printf("|---|---|---:|---:|---:|---:|---:|---|---|\n");
	for (int place = 0; place < N_PLACES; place++) {
		if (!o->places[place])
			continue;
		for (unsigned ci = 0; ci < N_COUNTS; ci++) {
			snprintf(what, sizeof(what), "queries/s, %u client%s", client_counts[ci],
				 client_counts[ci] == 1 ? "" : "s");
			print_row(b, what, (enum place)place, client_counts[ci] + 1,
				  client_results[place][ci][0], client_results[place][ci][1], n,
				  FIELD(qps), ci >= N_JUDGED_FROM ? BAR_AT_LEAST : BAR_NONE,
				  BAR_QPS_RATIO);
		}
		for (unsigned ci = 0; ci < N_COUNTS; ci++) {
			snprintf(what, sizeof(what), "p99 µs, %u client%s", client_counts[ci],
				 client_counts[ci] == 1 ? "" : "s");
			print_row(b, what, (enum place)place, client_counts[ci] + 1,
				  client_results[place][ci][0], client_results[place][ci][1], n,
				  FIELD(p99_us), BAR_NONE, 0);
		}
		print_row(b, "a new client's first reply, p50 µs, under 64 clients",
			  (enum place)place, MAX_CLIENTS + 2,
			  client_results[place][N_COUNTS - 1][0],
			  client_results[place][N_COUNTS - 1][1], n, FIELD(probe_p50_us), BAR_NONE,
			  0);
		print_row(b, "a new client's first reply, max µs, under 64 clients",
			  (enum place)place, MAX_CLIENTS + 2,
			  client_results[place][N_COUNTS - 1][0],
			  client_results[place][N_COUNTS - 1][1], n, FIELD(probe_max_us), BAR_NONE,
			  0);
	}
	printf("\n");
	printf("- queries/s: N client processes, each connected (KsOpenAllocator) and warmed "
	       "up (%d calls), start together and call IKsAllocator_KsGetAllocatorStatus() in "
	       "a loop for %.0f ms; calls completed within that window, all clients together, "
	       "per second. p99: over every call of every client of the run. Median, min and "
	       "max over %u repetitions.\n",
	       WARMUP_CALLS, (double)o->duration_ns / 1e6, n);
	printf("- baseline: the same client processes doing write() + read() of the same "
	       "%zu and %zu bytes against a single-threaded epoll server (level-triggered, "
	       "non-blocking, one recv() + one send() per readiness, as ksallocd's uv_poll_t "
	       "transport does).\n",
	       b->request_size, b->reply_size);
	printf("- a new client's first reply: while the 64 clients run, another process "
	       "connects %d times, spread over the window, each time from scratch: "
	       "ksalloc_client_open() (connect + hello) + ksalloc_client_pool_status(); "
	       "baseline: connect + one ping-pong with the epoll server under its own 64 "
	       "clients. Per repetition the median and the largest of the %d; then median, "
	       "min and max over repetitions. ksalloc's first reply takes two round trips "
	       "(hello, then the status), the baseline's one; on one CPU each waits its turn "
	       "behind the 64 clients (compare the p99 of a call at 64 clients).\n",
	       PROBES_PER_RUN, PROBES_PER_RUN);
	printf("- ratio: ksalloc / baseline; for queries/s higher is better, so the bar is "
	       "a floor. Bars judged with the server and every client on CPU %d; "
	       "parenthesised ones are unpinned rows, reported only.\n",
	       b->cpu0);
}

static void print_cpu_table(const struct bench *b, const struct options *o)
{
	unsigned n = n_reps_done;

	printf("\nWhere the time goes: medians over the same repetitions, per query.\n\n");
	printf("| run | placement | ksalloc: client CPU µs | ksallocd CPU µs | ksallocd sleeps "
	       "| baseline: client CPU µs | server CPU µs | server sleeps |\n");
	printf("|---|---|---:|---:|---:|---:|---:|---:|\n");
	for (int place = 0; place < N_PLACES; place++) {
		if (!o->places[place])
			continue;
		for (int ci = -1; ci < (int)N_COUNTS; ci++) {
			const struct run_result *k, *base;
			char what[64], v[6][32];
			unsigned procs;

			if (ci < 0 && !o->status)
				continue;
			if (ci >= 0 && !o->clients)
				continue;
			if (ci < 0) {
				k = status_results[place][0];
				base = status_results[place][1];
				snprintf(what, sizeof(what), "status RPC (raw ping-pong)");
				procs = 2;
			} else {
				k = client_results[place][ci][0];
				base = client_results[place][ci][1];
				snprintf(what, sizeof(what), "%u client%s (epoll)",
					 client_counts[ci], client_counts[ci] == 1 ? "" : "s");
				procs = client_counts[ci] + 1;
			}
			printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", what,
			       place_name(b, (enum place)place, procs),
			       fmt_num(v[0], 32, summarize(k, n, FIELD(client_cpu_us)).med),
			       fmt_num(v[1], 32, summarize(k, n, FIELD(server_cpu_us)).med),
			       fmt_num(v[2], 32, summarize(k, n, FIELD(server_sleeps)).med),
			       fmt_num(v[3], 32, summarize(base, n, FIELD(client_cpu_us)).med),
			       fmt_num(v[4], 32, summarize(base, n, FIELD(server_cpu_us)).med),
			       fmt_num(v[5], 32, summarize(base, n, FIELD(server_sleeps)).med));
		}
	}
	printf("\n- client CPU: all client processes' CLOCK_PROCESS_CPUTIME_ID over their "
	       "timed loops, divided by the queries; server CPU: the server's run time "
	       "(/proc/PID/task/*/schedstat) over the window; sleeps: the server's voluntary "
	       "context switches per query (1 means it went to sleep after every reply; less "
	       "means it found more requests waiting when it woke).\n");
}

/* The ladder: the pinned status RPC from raw to ksalloc, one change per step. */
static void print_ladder(const struct bench *b, const struct options *o)
{
	static const char *const what[N_LADDER + 2] = {
		"raw ping-pong: write() + read(), blocking server read() + write()",
		("client makes libksalloc's calls: wire_send() + wire_recv() (sendmsg, recvmsg "
		 "with room for an fd), SO_RCVTIMEO and SO_SNDTIMEO set"),
		("server is an epoll loop making ksallocd's calls: epoll_wait, wire_recv(), "
		 "wire_send(), one of each per readiness"),
		("both do libksalloc's and ksallocd's protobuf-c work: client arena reset, pack, "
		 "unpack; server unpack into an arena, build and pack the reply, arena reset"),
		("ksalloc: IKsAllocator_KsGetAllocatorStatus() against ksallocd (adds libuv, the "
		 "request handler, libksalloc's lock and checks, the KS shim)"),
	};
	const struct run_result *res[N_LADDER + 2] = {
		status_results[P_ONE_CPU][1], ladder_results[L_WIRE],       ladder_results[L_EPOLL],
		ladder_results[L_PB],         status_results[P_ONE_CPU][0],
	};
	unsigned n = n_reps_done;
	double before = 0;

	printf("\nWhere the status RPC's time goes, both processes on CPU %d: from the raw "
	       "ping-pong to ksalloc, one change per step, the same %llu-call runs as above "
	       "in turns with them; medians over the same repetitions.\n\n",
	       b->cpu0, (unsigned long long)o->calls);
	printf("| step | p50 µs | min | max | change from the step before | client CPU µs "
	       "| server CPU µs |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|\n");
	for (int i = 0; i < N_LADDER + 2; i++) {
		struct summary p50 = summarize(res[i], n, FIELD(p50_us));
		char v[6][32], delta[40];

		if (i == 0)
			snprintf(delta, sizeof(delta), "-");
		else
			snprintf(delta, sizeof(delta), "%+.2f", p50.med - before);
		before = p50.med;
		printf("| %d. %s | %s | %s | %s | %s | %s | %s |\n", i + 1, what[i],
		       fmt_num(v[0], 32, p50.med), fmt_num(v[1], 32, p50.min),
		       fmt_num(v[2], 32, p50.max), delta,
		       fmt_num(v[3], 32, summarize(res[i], n, FIELD(client_cpu_us)).med),
		       fmt_num(v[4], 32, summarize(res[i], n, FIELD(server_cpu_us)).med));
	}
}

/* The ladder of the judged many-clients rows, from the epoll baseline to ksalloc. */
static void print_client_ladder(const struct bench *b, const struct options *o)
{
	static const char *const what[N_CLIENT_LADDER + 2] = {
		"epoll baseline: clients write() + read(), server recv() + send()",
		("both make ksalloc's calls: clients wire_send() + wire_recv() with SO_RCVTIMEO, "
		 "server wire_recv() + wire_send()"),
		"both also do ksalloc's protobuf-c work (pack, unpack, arenas)",
		"ksalloc: IKsAllocator_KsGetAllocatorStatus() against ksallocd",
	};
	unsigned n = n_reps_done;

	printf("\nWhere the many clients' time goes, server and clients all on CPU %d: from "
	       "the epoll baseline to ksalloc, one change per step, %.0f ms runs in turns with "
	       "the ones above; medians over the same repetitions. On one CPU, queries/s is "
	       "1 / (client CPU + server CPU) per query.\n\n",
	       b->cpu0, (double)o->duration_ns / 1e6);
	printf("| step | clients | queries/s | min | max | ratio to the baseline | client CPU "
	       "µs/query | server CPU µs/query |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (unsigned ci = N_JUDGED_FROM; ci < N_COUNTS; ci++) {
		const struct run_result *res[N_CLIENT_LADDER + 2] = {
			client_results[P_ONE_CPU][ci][1],
			client_ladder_results[ci][LC_WIRE],
			client_ladder_results[ci][LC_PB],
			client_results[P_ONE_CPU][ci][0],
		};
		double base = summarize(res[0], n, FIELD(qps)).med;

		for (int i = 0; i < N_CLIENT_LADDER + 2; i++) {
			struct summary q = summarize(res[i], n, FIELD(qps));
			char v[5][32];

			printf("| %d. %s | %u | %s | %s | %s | %.2f | %s | %s |\n", i + 1, what[i],
			       client_counts[ci], fmt_num(v[0], 32, q.med),
			       fmt_num(v[1], 32, q.min), fmt_num(v[2], 32, q.max),
			       base > 0 ? q.med / base : 0,
			       fmt_num(v[3], 32, summarize(res[i], n, FIELD(client_cpu_us)).med),
			       fmt_num(v[4], 32, summarize(res[i], n, FIELD(server_cpu_us)).med));
		}
	}
}

/* The many-clients figures for gnuplot: one block per placement, two blank lines apart. */
static int write_data(const struct options *o)
{
	FILE *f = fopen(o->data_path, "we");
	unsigned n = n_reps_done;

	if (!f)
		return -errno;
	fprintf(f, "# bench-rpc, many clients: medians (min, max) over %u repetitions\n", n);
	fprintf(f, "# placement\tclients\tksalloc_qps\tmin\tmax\tepoll_qps\tmin\tmax"
		   "\tksalloc_p99_us\tmin\tmax\tepoll_p99_us\tmin\tmax\n");
	for (int place = 0; place < N_PLACES; place++) {
		if (!o->places[place])
			continue;
		for (unsigned ci = 0; ci < N_COUNTS; ci++) {
			const struct run_result *k = client_results[place][ci][0];
			const struct run_result *base = client_results[place][ci][1];
			struct summary s[4] = {
				summarize(k, n, FIELD(qps)),
				summarize(base, n, FIELD(qps)),
				summarize(k, n, FIELD(p99_us)),
				summarize(base, n, FIELD(p99_us)),
			};

			fprintf(f, "%s\t%u", place == P_ONE_CPU ? "one-cpu" : "unpinned",
				client_counts[ci]);
			for (int i = 0; i < 4; i++)
				fprintf(f, "\t%.1f\t%.1f\t%.1f", s[i].med, s[i].min, s[i].max);
			fprintf(f, "\n");
		}
		fprintf(f, "\n\n");
	}
	return fclose(f) == 0 ? 0 : -errno;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: bench-rpc [OPTIONS]\n"
		"Measures KsGetAllocatorStatus against a raw SOCK_SEQPACKET ping-pong, and 1 to 64\n"
		"concurrent clients against a raw epoll server, on a ksallocd of its own, and\n"
		"prints Markdown tables.\n"
		"\n"
		"  --daemon PATH       ksallocd to start (default: ksallocd next to bench-rpc)\n"
		"  --reps N            repetitions after the warm-up, 1 to %d (default %d)\n"
		"  --calls N           status RPC calls per run (default %d)\n"
		"  --duration-ms N     many clients: the timed window per run (default %d)\n"
		"  --only WHAT         status or clients: run one part only\n"
		"  --place P           one-cpu or free: run one placement only\n"
		"  --data FILE         write the many-clients figures there, for gnuplot\n"
		"  -h, --help          this text\n",
		MAX_REPS, DEFAULT_REPS, DEFAULT_CALLS, DEFAULT_DURATION_MS);
}

static int setup(struct bench *b)
{
	const char *dir = b->daemon.dir;
	int r;

	cleanup_bench = b;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

	b->sh_size = sizeof(struct shared);
	b->sh = mmap(NULL, b->sh_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (b->sh == MAP_FAILED) {
		b->sh = NULL;
		return -errno;
	}

	/* It sets KSALLOC_SOCKET for the clients. */
	r = start_daemon(b);
	if (r < 0) {
		fprintf(stderr, "bench-rpc: %s did not start: %s\n", b->daemon_path, strerror(-r));
		print_daemon_log(b);
		return r;
	}
	snprintf(b->socket[S_KSALLOC], sizeof(b->socket[S_KSALLOC]), "%s", b->daemon.socket_path);
	snprintf(b->socket[S_RAW], sizeof(b->socket[S_RAW]), "%s/raw.sock", dir);
	snprintf(b->socket[S_EPOLL], sizeof(b->socket[S_EPOLL]), "%s/epoll.sock", dir);
	snprintf(b->socket[S_EPOLL_WIRE], sizeof(b->socket[S_EPOLL_WIRE]), "%s/epoll-wire.sock",
		 dir);
	snprintf(b->socket[S_EPOLL_PB], sizeof(b->socket[S_EPOLL_PB]), "%s/epoll-pb.sock", dir);
	r = pack_messages(b);
	if (r < 0)
		return r;
	for (int kind = S_KSALLOC + 1; kind < N_SERVERS && r == 0; kind++)
		r = spawn_server(b, (enum server)kind);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option long_options[] = { { "daemon", required_argument, NULL, 'd' },
						      { "reps", required_argument, NULL, 'r' },
						      { "calls", required_argument, NULL, 'c' },
						      { "duration-ms", required_argument, NULL,
							't' },
						      { "only", required_argument, NULL, 'o' },
						      { "place", required_argument, NULL, 'P' },
						      { "data", required_argument, NULL, 'D' },
						      { "help", no_argument, NULL, 'h' },
						      {} };
	struct bench b = { .daemon = { .pidfd = -1, .notify_fd = -1 }, .cpu0 = -1 };
	struct options o = {
		.reps = DEFAULT_REPS,
		.calls = DEFAULT_CALLS,
		.duration_ns = (int64_t)DEFAULT_DURATION_MS * 1000000,
		.status = true,
		.clients = true,
		.places = { true, true },
	};
	unsigned long long v;
	int c, r;

	b.daemon_path = daemon_beside_me();
	while ((c = getopt_long(argc, argv, "h", long_options, NULL)) >= 0) {
		r = 0;
		switch (c) {
		case 'd':
			b.daemon_path = optarg;
			break;
		case 'r':
			r = parse_uint(optarg, 1, MAX_REPS, &v);
			o.reps = (unsigned)v;
			break;
		case 'c':
			r = parse_uint(optarg, 1, UINT32_MAX, &v);
			o.calls = v;
			break;
		case 't':
			r = parse_uint(optarg, 10, 3600000, &v);
			o.duration_ns = (int64_t)v * 1000000;
			break;
		case 'o':
			if (strcmp(optarg, "status") == 0)
				o.clients = false;
			else if (strcmp(optarg, "clients") == 0)
				o.status = false;
			else
				r = -EINVAL;
			break;
		case 'P':
			if (strcmp(optarg, "one-cpu") == 0)
				o.places[P_FREE] = false;
			else if (strcmp(optarg, "free") == 0)
				o.places[P_ONE_CPU] = false;
			else
				r = -EINVAL;
			break;
		case 'D':
			o.data_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (r < 0) {
			fprintf(stderr, "bench-rpc: bad value '%s'\n", optarg);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}

	if (sched_getaffinity(0, sizeof(b.all_cpus), &b.all_cpus) < 0) {
		perror("bench-rpc: sched_getaffinity");
		return 1;
	}
	for (int cpu = 0; cpu < CPU_SETSIZE && b.cpu0 < 0; cpu++)
		if (CPU_ISSET(cpu, &b.all_cpus))
			b.cpu0 = cpu;

	r = setup(&b);
	if (r == 0) {
		printf("bench-rpc: %s, pool \"%s\" of %d frames of %d bytes; GetStatus request "
		       "%zu bytes, reply %zu bytes; status RPC %llu calls per run, many clients "
		       "%.0f ms per run; %u repetitions after a warm-up\n\n",
		       b.daemon_path, POOL_NAME, POOL_FRAMES, POOL_FRAME_SIZE, b.request_size,
		       b.reply_size, (unsigned long long)o.calls, (double)o.duration_ns / 1e6,
		       o.reps);
		fflush(stdout);
		r = run_rep(&b, &o, -1);
	}
	for (unsigned i = 0; i < o.reps && r == 0; i++) {
		r = run_rep(&b, &o, (int)i);
		if (r == 0)
			n_reps_done++;
	}
	if (r == 0) {
		if (o.status)
			print_status_table(&b, &o);
		if (o.status && o.clients)
			printf("\n");
		if (o.clients)
			print_clients_table(&b, &o);
		print_cpu_table(&b, &o);
		if (o.status && o.places[P_ONE_CPU])
			print_ladder(&b, &o);
		if (o.clients && o.places[P_ONE_CPU])
			print_client_ladder(&b, &o);
		if (o.data_path && o.clients)
			r = write_data(&o);
		if (r < 0)
			fprintf(stderr, "bench-rpc: writing %s: %s\n", o.data_path, strerror(-r));
	} else {
		fprintf(stderr, "bench-rpc: %s\n",
			r == -ECHILD ? "a measurement failed" : strerror(-r));
	}
	stop_children(&b);
	if (b.sh)
		munmap(b.sh, b.sh_size);
	return r < 0 ? 1 : 0;
}
