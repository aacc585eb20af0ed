/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The processes, options and result lines of bench-streams and bench-iceoryx
 * (streams-harness.h).
 */
#include "bench/streams-harness.h"

#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
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

#define WAIT_LIMIT_NS 60000000000LL

#define DEFAULT_LATENCY_FRAMES 10000
#define DEFAULT_TPUT_FRAMES 1000000
#define DEFAULT_PACE_US 100
#define DEFAULT_KILLS 50

void harness_futex_wait(_Atomic uint32_t *word, uint32_t value)
{
	syscall(SYS_futex, word, FUTEX_WAIT, value, NULL, NULL, 0);
}

void harness_futex_wake(_Atomic uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

int harness_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		return -errno;
	return 0;
}

int harness_consumer_cpu(const struct harness_options *o, unsigned k)
{
	return o->n_cpu_consumer ? o->cpu_consumer[k % o->n_cpu_consumer] : -1;
}

int harness_wait_word(struct harness_shared *h, _Atomic uint32_t *word, uint32_t value)
{
	int64_t deadline = now_ns() + WAIT_LIMIT_NS;

	while (atomic_load(word) < value) {
		if (atomic_load(&h->failed))
			return -ECANCELED;
		if (now_ns() > deadline)
			return -ETIMEDOUT;
		usleep(20);
	}
	return 0;
}

int harness_ready(struct harness_shared *h, const struct harness_options *o, bool producer)
{
	int r;

	atomic_fetch_add(&h->ready, 1);
	if (!producer)
		return harness_wait_word(h, &h->go, 1);
	r = harness_wait_word(h, &h->ready, o->consumers + 1);
	if (r < 0)
		return r;
	h->start_ns = now_ns();
	atomic_store(&h->go, 1);
	return 0;
}

/*
 * The acknowledgement is no part of what is timed: the consumer always wakes,
 * the producer sleeps until the count reaches its frame.
 */
void harness_ack(struct harness_shared *h, uint32_t i)
{
	atomic_store(&h->ack, i + 1);
	harness_futex_wake(&h->ack);
}

void harness_wait_ack(struct harness_shared *h, uint32_t i)
{
	uint32_t v;

	while ((v = atomic_load(&h->ack)) < i + 1 && !atomic_load(&h->failed))
		harness_futex_wait(&h->ack, v);
}

void harness_pace(const struct harness_options *o)
{
	struct timespec ts = {
		.tv_sec = (time_t)(o->pace_us / 1000000),
		.tv_nsec = (long)(o->pace_us % 1000000) * 1000,
	};

	if (o->pace_us)
		clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
}

int64_t harness_gap(const struct harness_options *o, int64_t last_ns)
{
	int64_t t = now_ns();

	while (t - last_ns < (int64_t)o->gap_ns) {
		harness_cpu_relax();
		t = now_ns();
	}
	return t;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [SYSTEM-]latency|tput|reclaim [--cpu-producer N] [--cpu-consumer "
		"N[,M...]]\n"
		"       [--consumers K] [--frames N] [--spin-us S] [--pace-us P] [--kills N] "
		"[--gap-ns G] [--quiet]\n",
		prog);
}

static int parse_cpus(const char *s, struct harness_options *o)
{
	char buf[256], *save = NULL, *tok;
	unsigned long long v;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	o->n_cpu_consumer = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->n_cpu_consumer == HARNESS_MAX_CONSUMERS || parse_uint(tok, 0, 4095, &v) < 0)
			return -EINVAL;
		o->cpu_consumer[o->n_cpu_consumer++] = (int)v;
	}
	return o->n_cpu_consumer ? 0 : -EINVAL;
}

int harness_parse(int argc, char **argv, const char *const *systems, struct harness_options *o)
{
	const char *mode, *dash;
	unsigned long long v;
	bool frames_set = false;
	int i;

	*o = (struct harness_options){
		.system = systems[0],
		.cpu_producer = -1,
		.consumers = 1,
		.pace_us = DEFAULT_PACE_US,
		.kills = DEFAULT_KILLS,
	};
	if (argc < 2)
		goto usage;
	mode = argv[1];
	dash = strrchr(mode, '-');
	if (dash) {
		size_t n = (size_t)(dash - mode);
		bool found = false;

		for (const char *const *s = systems; *s; s++)
			if (strlen(*s) == n && strncmp(*s, mode, n) == 0) {
				o->system = *s;
				found = true;
			}
		if (!found)
			goto usage;
		mode = dash + 1;
	}
	if (strcmp(mode, "latency") == 0)
		o->test = TEST_LATENCY;
	else if (strcmp(mode, "tput") == 0)
		o->test = TEST_TPUT;
	else if (strcmp(mode, "reclaim") == 0)
		o->test = TEST_RECLAIM;
	else
		goto usage;

	for (i = 2; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--quiet") == 0) {
			o->quiet = true;
			continue;
		}
		if (!val)
			goto usage;
		i++;
		if (strcmp(a, "--cpu-consumer") == 0) {
			if (parse_cpus(val, o) < 0)
				goto usage;
			continue;
		}
		if (parse_uint(val, 0, UINT32_MAX, &v) < 0)
			goto usage;
		if (strcmp(a, "--cpu-producer") == 0 && v < 4096)
			o->cpu_producer = (int)v;
		else if (strcmp(a, "--consumers") == 0 && v >= 1 && v <= HARNESS_MAX_CONSUMERS)
			o->consumers = (unsigned)v;
		else if (strcmp(a, "--frames") == 0) {
			o->frames = v;
			frames_set = true;
		} else if (strcmp(a, "--spin-us") == 0)
			o->spin_us = v;
		else if (strcmp(a, "--pace-us") == 0)
			o->pace_us = v;
		else if (strcmp(a, "--gap-ns") == 0)
			o->gap_ns = v;
		else if (strcmp(a, "--kills") == 0 && v >= 1 && v <= HARNESS_MAX_KILLS)
			o->kills = v;
		else
			goto usage;
	}
	if (!frames_set)
		o->frames = o->test == TEST_LATENCY ? DEFAULT_LATENCY_FRAMES : DEFAULT_TPUT_FRAMES;
	if (o->test == TEST_LATENCY && (o->frames > HARNESS_MAX_LATENCY || o->consumers != 1)) {
		fprintf(stderr, "%s: latency runs take 1 consumer and at most %d frames\n", argv[0],
			HARNESS_MAX_LATENCY);
		return -EINVAL;
	}
	return 0;
usage:
	usage(argv[0]);
	return -EINVAL;
}

/* A child: pinned, dies with the parent, runs @fn and exits 0 or 1. */
static pid_t spawn(const struct harness_ops *ops, struct harness_shared *h,
		   const struct harness_options *o, int k)
{
	pid_t pid;
	int r;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	r = harness_pin(k < 0 ? o->cpu_producer : harness_consumer_cpu(o, (unsigned)k));
	if (r >= 0)
		r = k < 0 ? ops->producer(h, o) : ops->consumer(h, o, (unsigned)k);
	if (r < 0) {
		if (r != -ECANCELED) {
			if (k < 0)
				fprintf(stderr, "%s: producer: %s\n", o->system, strerror(-r));
			else
				fprintf(stderr, "%s: consumer %d: %s\n", o->system, k,
					strerror(-r));
		}
		atomic_store(&h->failed, 1);
		/* Whoever sleeps on the ack or the barrier is to notice. */
		harness_futex_wake(&h->ack);
	}
	fflush(stdout);
	fflush(stderr);
	_exit(r < 0 ? 1 : 0);
}

/* Waits for @n children; the first that fails has the others killed. Returns 0 or -ECHILD. */
static int reap(pid_t *pids, unsigned n)
{
	unsigned left = n;
	int ret = 0;

	while (left > 0) {
		int status;
		pid_t pid = waitpid(-1, &status, 0);

		if (pid < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (unsigned i = 0; i < n; i++) {
			if (pids[i] != pid)
				continue;
			pids[i] = 0;
			left--;
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				ret = -ECHILD;
				for (unsigned j = 0; j < n; j++)
					if (pids[j] > 0)
						kill(pids[j], SIGKILL);
			}
		}
	}
	return ret;
}

static void print_head(const struct harness_options *o, const char *test)
{
	printf("result system=%s test=%s producer_cpu=%d consumer_cpus=", o->system, test,
	       o->cpu_producer);
	if (!o->n_cpu_consumer)
		printf("-1");
	for (unsigned i = 0; i < o->n_cpu_consumer; i++)
		printf("%s%d", i ? "," : "", o->cpu_consumer[i]);
	printf(" consumers=%u spin_us=%llu gap_ns=%llu frames=%llu", o->consumers, o->spin_us,
	       o->gap_ns, o->frames);
}

static void print_counts(struct harness_shared *h, const struct harness_options *o)
{
	double per_1k = o->frames ? 1000.0 / (double)o->frames : 0;

	printf(" consumer_sleeps_per_1k=%.2f producer_sleeps_per_1k=%.2f wakes_per_1k=%.2f",
	       (double)atomic_load(&h->consumer_sleeps) * per_1k,
	       (double)atomic_load(&h->producer_sleeps) * per_1k,
	       (double)atomic_load(&h->wakes) * per_1k);
	if (h->daemon_requests >= 0)
		printf(" daemon_requests=%lld", (long long)h->daemon_requests);
}

static void print_result(struct harness_shared *h, const struct harness_options *o)
{
	if (o->quiet)
		return;
	if (o->test == TEST_LATENCY) {
		unsigned n = (unsigned)o->frames;
		double *v = malloc(sizeof(*v) * (n ? n : 1));

		if (!v)
			return;
		for (unsigned i = 0; i < n; i++)
			v[i] = (double)h->latency_ns[i];
		print_head(o, "latency");
		printf(" p50_ns=%.0f p99_ns=%.0f", percentile(v, n, 0.5), percentile(v, n, 0.99));
		printf(" max_ns=%.0f", n ? v[n - 1] : 0);
		free(v);
	} else if (o->test == TEST_TPUT) {
		int64_t end = h->start_ns;
		double s;

		for (unsigned k = 0; k < o->consumers; k++)
			if (h->end_ns[k] > end)
				end = h->end_ns[k];
		s = (double)(end - h->start_ns) / 1e9;
		print_head(o, "tput");
		printf(" seconds=%.6f fps=%.0f", s, s > 0 ? (double)o->frames / s : 0);
	} else {
		unsigned n = (unsigned)o->kills;
		double *v = malloc(sizeof(*v) * n);

		if (!v)
			return;
		memcpy(v, h->reclaim_ns, sizeof(*v) * n);
		print_head(o, "reclaim");
		printf(" kills=%u median_ns=%.0f", n, median(v, n));
		qsort(v, n, sizeof(*v), cmp_double);
		printf(" min_ns=%.0f max_ns=%.0f", v[0], v[n - 1]);
		memcpy(v, h->reclaim_daemon_ns, sizeof(*v) * n);
		printf(" daemon_median_ns=%.0f", median(v, n));
		memcpy(v, h->reclaim_reaped_ns, sizeof(*v) * n);
		printf(" reaped_median_ns=%.0f", median(v, n));
		qsort(v, n, sizeof(*v), cmp_double);
		printf(" reaped_max_ns=%.0f", v[n - 1]);
		free(v);
	}
	if (o->test != TEST_RECLAIM)
		print_counts(h, o);
	printf("\n");
	fflush(stdout);
}

int harness_run(const struct harness_ops *ops, const struct harness_options *o)
{
	size_t base = (sizeof(struct harness_shared) + 4095) & ~(size_t)4095;
	size_t size = base + ops->shared_size;
	pid_t pids[HARNESS_MAX_CONSUMERS + 1];
	struct harness_shared *h;
	unsigned n = 0;
	int r;

	h = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (h == MAP_FAILED)
		return -errno;
	h->system = (uint8_t *)h + base;
	h->daemon_requests = -1;
	if (ops->setup) {
		r = ops->setup(h, o);
		if (r < 0) {
			fprintf(stderr, "%s: setting up: %s\n", o->system, strerror(-r));
			munmap(h, size);
			return r;
		}
	}
	if (o->test == TEST_RECLAIM) {
		r = ops->reclaim ? ops->reclaim(h, o) : -EOPNOTSUPP;
		if (r < 0)
			fprintf(stderr, "%s: reclaim: %s\n", o->system, strerror(-r));
	} else {
		pids[n++] = spawn(ops, h, o, -1);
		for (unsigned k = 0; k < o->consumers && pids[n - 1] > 0; k++)
			pids[n++] = spawn(ops, h, o, (int)k);
		if (pids[n - 1] < 0) {
			r = -errno;
			atomic_store(&h->failed, 1);
			n--;
			reap(pids, n);
		} else {
			r = reap(pids, n);
		}
		if (r < 0)
			fprintf(stderr, "%s: a process failed or was killed: %s\n", o->system,
				strerror(-r));
	}
	if (ops->teardown)
		ops->teardown(h, o);
	if (r >= 0)
		print_result(h, o);
	munmap(h, size);
	return r;
}
