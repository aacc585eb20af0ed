/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ksallocctl watch and top: what the daemon pushes to a subscription
 * (ksalloc_subscription_open()), as lines for scripts and as a live
 * full-screen table for people, like pw-top. top draws with plain ANSI
 * sequences (alternate screen, cursor home, erase): no curses needed for one
 * table that is redrawn whole.
 */
#include "tools/ksallocctl/top.h"
#include "tools/ksallocctl/streams.h"
#include "tools/ksallocctl/util.h"

#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

/* The signal that asks us to stop (SIGINT, SIGTERM, SIGHUP), or 0. */
static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t resized;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static void on_resize(int sig)
{
	(void)sig;
	resized = 1;
}

/* Handlers without SA_RESTART: poll() returns EINTR and the loop looks at the flags. */
static void catch_signals(bool with_resize)
{
	struct sigaction sa = { .sa_handler = on_stop };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (with_resize) {
		sa.sa_handler = on_resize;
		sigaction(SIGWINCH, &sa, NULL);
	}
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void format_bytes(uint64_t n, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static const char *kind_name(enum ksalloc_event_kind kind)
{
	switch (kind) {
	case KSALLOC_EVENT_STATUS:
		return "status";
	case KSALLOC_EVENT_DRY:
		return "dry";
	case KSALLOC_EVENT_HELD_TOO_LONG:
		return "held-too-long";
	case KSALLOC_EVENT_RECLAIMED:
		return "reclaimed";
	case KSALLOC_EVENT_GONE:
		return "gone";
	case KSALLOC_EVENT_STREAM_PRODUCER_GONE:
		return "stream-producer-gone";
	case KSALLOC_EVENT_STREAM_CONSUMER_GONE:
		return "stream-consumer-gone";
	case KSALLOC_EVENT_STREAM_DROPS:
		return "stream-drops";
	}
	return "unknown";
}

/* ---- watch -------------------------------------------------------------------------------- */

/* Local wall-clock time, to the millisecond: "14:03:07.219". */
static void format_clock(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	snprintf(buf, size, "%02d:%02d:%02d.%03ld", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 ts.tv_nsec / 1000000);
}

static void print_event_json(const struct ksalloc_event *e, const char *clock)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "time", json_object_new_string(clock));
	json_object_object_add(o, "daemon_time_ms", json_object_new_uint64(e->time_ms));
	json_object_object_add(o, "pool", json_object_new_string(e->pool));
	json_object_object_add(o, "event", json_object_new_string(kind_name(e->kind)));
	switch (e->kind) {
	case KSALLOC_EVENT_STATUS:
	case KSALLOC_EVENT_DRY: {
		const struct ksalloc_pool_stats *st = &e->stats;

		json_object_object_add(o, "frames", json_object_new_uint64(e->frames_total));
		json_object_object_add(o, "allocated_frames",
				       json_object_new_uint64(st->status.allocated_frames));
		ctl_pool_counters_to_json(o, st);
		json_object_object_add(o, "holders", ctl_holders_to_json(st));
		break;
	}
	case KSALLOC_EVENT_HELD_TOO_LONG:
		json_object_object_add(o, "holder", ctl_holder_to_json(&e->holder));
		break;
	case KSALLOC_EVENT_RECLAIMED:
		json_object_object_add(o, "holder", ctl_holder_to_json(&e->holder));
		json_object_object_add(o, "frames", json_object_new_uint64(e->frames));
		break;
	case KSALLOC_EVENT_GONE:
		break;
	case KSALLOC_EVENT_STREAM_PRODUCER_GONE:
	case KSALLOC_EVENT_STREAM_CONSUMER_GONE:
	case KSALLOC_EVENT_STREAM_DROPS:
		json_object_object_add(o, "stream", json_object_new_string(e->stream));
		json_object_object_add(o, "holder", ctl_holder_to_json(&e->holder));
		if (e->kind != KSALLOC_EVENT_STREAM_PRODUCER_GONE)
			json_object_object_add(o, "frames", json_object_new_uint64(e->frames));
		break;
	}
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void print_event_text(const struct ksalloc_event *e, const char *clock)
{
	const struct ksalloc_pool_stats *st = &e->stats;
	char age[32];

	printf("%s %s %s", clock, e->pool, kind_name(e->kind));
	switch (e->kind) {
	case KSALLOC_EVENT_STATUS:
	case KSALLOC_EVENT_DRY:
		printf(" in-use %u/%u free %u peak %u waiters %u acquisitions %llu timeouts %llu "
		       "reclaimed %llu",
		       st->status.allocated_frames, e->frames_total, st->free_frames,
		       st->peak_frames, st->waiters, (unsigned long long)st->acquisitions,
		       (unsigned long long)st->timeouts, (unsigned long long)st->reclaimed);
		for (size_t i = 0; i < st->n_holders; i++)
			printf("%s%u:%s:%u", i ? "," : " holders ", st->holders[i].pid,
			       st->holders[i].name, st->holders[i].frames_held);
		break;
	case KSALLOC_EVENT_HELD_TOO_LONG:
		ctl_format_age(e->holder.oldest_hold_ms, age, sizeof(age));
		printf(" session %u pid %u name %s frames %u for %s", e->holder.session_id,
		       e->holder.pid, e->holder.name, e->holder.frames_held, age);
		break;
	case KSALLOC_EVENT_RECLAIMED:
		printf(" session %u pid %u name %s frames %u", e->holder.session_id, e->holder.pid,
		       e->holder.name, e->frames);
		break;
	case KSALLOC_EVENT_GONE:
		break;
	case KSALLOC_EVENT_STREAM_PRODUCER_GONE:
	case KSALLOC_EVENT_STREAM_CONSUMER_GONE:
	case KSALLOC_EVENT_STREAM_DROPS:
		printf(" stream %s session %u pid %u name %s", e->stream, e->holder.session_id,
		       e->holder.pid, e->holder.name);
		if (e->kind != KSALLOC_EVENT_STREAM_PRODUCER_GONE)
			printf(" frames %u", e->frames);
		break;
	}
	putchar('\n');
}

int ctl_watch(const struct ksalloc_client_options *opts, const char *pool, bool json,
	      uint32_t interval_ms, uint32_t hold_ms)
{
	const struct ksalloc_subscription_options so = { .pool = pool,
							 .interval_ms = interval_ms,
							 .hold_threshold_ms = hold_ms };
	struct ksalloc_subscription *sub;
	int r;

	r = ksalloc_subscription_open(opts, &so, &sub);
	if (r < 0) {
		fprintf(stderr, "ksallocctl: watch: %s\n", ksalloc_client_open_error());
		return 1;
	}
	catch_signals(false);
	while (!stop_signal) {
		struct pollfd pfd = { .fd = ksalloc_subscription_get_fd(sub), .events = POLLIN };
		struct ksalloc_event e;
		char clock[32];

		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			break;
		while ((r = ksalloc_subscription_read(sub, &e)) == 0) {
			format_clock(clock, sizeof(clock));
			if (json)
				print_event_json(&e, clock);
			else
				print_event_text(&e, clock);
			ksalloc_event_clear(&e);
		}
		/* Line by line for the script at the other end of the pipe. */
		fflush(stdout);
		if (r != -EAGAIN) {
			fprintf(stderr, "ksallocctl: watch: %s\n", ksalloc_subscription_error(sub));
			ksalloc_subscription_close(sub);
			return 1;
		}
	}
	ksalloc_subscription_close(sub);
	return 0;
}

/* ---- top ---------------------------------------------------------------------------------- */

struct top_pool {
	char name[KSALLOC_POOL_NAME_MAX];
	struct ksalloc_pool_stats stats; /* its holders are ours */
	uint32_t frames;
	uint64_t size_bytes;
	uint64_t received_ms; /* our clock, when its last status came */
	uint64_t daemon_ms;   /* the daemon's, of that status */
	double rate;          /* acquisitions per second, between its last two statuses */
};

/* A stream as top shows it: its last sample, and its rates since the one before. */
struct top_stream {
	struct ksalloc_stream_info info;
	double published_rate; /* frames per second */
	double dropped_rate;   /* frames per second, all its consumers' */
};

struct top {
	struct top_pool *pools;
	size_t n_pools;
	/* Streams are not in the subscription's events: a client of their own lists them. */
	struct ksalloc_client *client;
	struct top_stream *streams;
	size_t n_streams;
	uint64_t streams_ms;       /* our clock, when they were last listed; 0: never */
	uint32_t streams_every_ms; /* how often they are listed */
	char message[320];         /* the last reclaim or long hold, shown under the table */
	struct termios saved;
	bool terminal_changed;
};

static struct top *top_for_exit; /* what restore_terminal() restores, whatever the exit */

static void restore_terminal(void)
{
	static const char leave[] = "\033[?1049l\033[?25h";

	if (!top_for_exit || !top_for_exit->terminal_changed)
		return;
	/* Back from the alternate screen to what was there before, the cursor shown again. */
	if (write(STDOUT_FILENO, leave, sizeof(leave) - 1) < 0) {
		/* Nothing better to do: the terminal is gone. */
	}
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &top_for_exit->saved);
	top_for_exit->terminal_changed = false;
}

static int setup_terminal(struct top *t)
{
	static const char enter[] = "\033[?1049h\033[?25l\033[H\033[2J";
	struct termios raw;

	if (tcgetattr(STDIN_FILENO, &t->saved) < 0)
		return -errno;
	raw = t->saved;
	/* Keys one at a time, not echoed; ^C still raises SIGINT. */
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) < 0)
		return -errno;
	t->terminal_changed = true;
	top_for_exit = t;
	atexit(restore_terminal);
	if (write(STDOUT_FILENO, enter, sizeof(enter) - 1) < 0)
		return -errno;
	return 0;
}

static struct top_pool *top_find(struct top *t, const char *name, bool add)
{
	struct top_pool *grown;

	for (size_t i = 0; i < t->n_pools; i++)
		if (strcmp(t->pools[i].name, name) == 0)
			return &t->pools[i];
	if (!add || !(grown = reallocarray(t->pools, t->n_pools + 1, sizeof(*grown))))
		return NULL;
	t->pools = grown;
	memset(&grown[t->n_pools], 0, sizeof(*grown));
	snprintf(grown[t->n_pools].name, sizeof(grown->name), "%s", name);
	return &grown[t->n_pools++];
}

/* Takes @e's status (and its holders) for its pool. */
static void top_update(struct top *t, struct ksalloc_event *e)
{
	struct top_pool *p;
	char age[32];

	switch (e->kind) {
	case KSALLOC_EVENT_STATUS:
	case KSALLOC_EVENT_DRY:
		p = top_find(t, e->pool, true);
		if (!p)
			break;
		if (p->daemon_ms && e->time_ms > p->daemon_ms)
			p->rate = (double)(e->stats.acquisitions - p->stats.acquisitions) * 1000.0 /
				  (double)(e->time_ms - p->daemon_ms);
		free(p->stats.holders);
		p->stats = e->stats;
		e->stats.holders = NULL; /* ours now */
		e->stats.n_holders = 0;
		p->frames = e->frames_total;
		p->size_bytes = e->size_bytes;
		p->daemon_ms = e->time_ms;
		p->received_ms = now_ms();
		break;
	case KSALLOC_EVENT_GONE:
		p = top_find(t, e->pool, false);
		if (p) {
			free(p->stats.holders);
			*p = t->pools[--t->n_pools];
		}
		break;
	case KSALLOC_EVENT_RECLAIMED:
		snprintf(t->message, sizeof(t->message),
			 "%s: %u frames reclaimed from pid %u (%s), which ended holding them",
			 e->pool, e->frames, e->holder.pid, e->holder.name);
		break;
	case KSALLOC_EVENT_HELD_TOO_LONG:
		ctl_format_age(e->holder.oldest_hold_ms, age, sizeof(age));
		snprintf(t->message, sizeof(t->message), "%s: pid %u (%s) has held a frame for %s",
			 e->pool, e->holder.pid, e->holder.name, age);
		break;
	case KSALLOC_EVENT_STREAM_PRODUCER_GONE:
		snprintf(t->message, sizeof(t->message),
			 "%s: stream %s lost its producer, pid %u (%s)", e->pool, e->stream,
			 e->holder.pid, e->holder.name);
		break;
	case KSALLOC_EVENT_STREAM_CONSUMER_GONE:
		snprintf(t->message, sizeof(t->message),
			 "%s: stream %s lost consumer pid %u (%s); %u frames back", e->pool,
			 e->stream, e->holder.pid, e->holder.name, e->frames);
		break;
	case KSALLOC_EVENT_STREAM_DROPS:
		snprintf(t->message, sizeof(t->message),
			 "%s: stream %s dropped %u frames for pid %u (%s), which lags", e->pool,
			 e->stream, e->frames, e->holder.pid, e->holder.name);
		break;
	}
}

/*
 * Lists the streams again, at most every streams_every_ms, with each one's
 * rates since the last list (none for a stream that is new). A failure is
 * shown under the table; the last list stays, without rates.
 */
static void top_sample_streams(struct top *t)
{
	struct ksalloc_stream_info *list;
	struct top_stream *streams;
	uint64_t now = now_ms(), elapsed = now - t->streams_ms;
	size_t n;
	int r;

	if (t->streams_ms && elapsed < t->streams_every_ms)
		return;
	r = ksalloc_client_list_streams(t->client, &list, &n);
	if (r < 0) {
		snprintf(t->message, sizeof(t->message), "streams: %s",
			 ksalloc_client_error(t->client));
		/* The counts stay as they were listed last; no rate is known now. */
		for (size_t i = 0; i < t->n_streams; i++)
			t->streams[i].published_rate = t->streams[i].dropped_rate = 0;
		t->streams_ms = now;
		return;
	}
	streams = calloc(n ? n : 1, sizeof(*streams));
	if (!streams) {
		free(list);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ksalloc_stream_info *prev = NULL;

		streams[i].info = list[i];
		for (size_t j = 0; j < t->n_streams && !prev; j++)
			if (strcmp(t->streams[j].info.name, list[i].name) == 0)
				prev = &t->streams[j].info;
		if (!prev || !t->streams_ms || elapsed == 0)
			continue;
		streams[i].published_rate = (double)ctl_stream_published_since(prev, &list[i]) *
					    1000.0 / (double)elapsed;
		streams[i].dropped_rate =
			(double)ctl_stream_dropped_since(prev, &list[i]) * 1000.0 / (double)elapsed;
	}
	free(list);
	free(t->streams);
	t->streams = streams;
	t->n_streams = n;
	t->streams_ms = now;
}

/* Streams dropping frames first, then those publishing the most, then by name. */
static int stream_order(const void *a, const void *b)
{
	const struct top_stream *x = a, *y = b;

	if (x->dropped_rate != y->dropped_rate)
		return x->dropped_rate > y->dropped_rate ? -1 : 1;
	if (x->published_rate != y->published_rate)
		return x->published_rate > y->published_rate ? -1 : 1;
	return strcmp(x->info.name, y->info.name);
}

/* What matters most first: pools with waiters, then the fullest, then by name. */
static int pool_order(const void *a, const void *b)
{
	const struct top_pool *x = a, *y = b;
	uint64_t fx = x->frames ? (uint64_t)x->stats.status.allocated_frames * 1000 / x->frames : 0;
	uint64_t fy = y->frames ? (uint64_t)y->stats.status.allocated_frames * 1000 / y->frames : 0;

	if (x->stats.waiters != y->stats.waiters)
		return x->stats.waiters > y->stats.waiters ? -1 : 1;
	if (fx != fy)
		return fx > fy ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The biggest holders first, then the longest-holding. */
static int holder_order(const void *a, const void *b)
{
	const struct ksalloc_holder *x = a, *y = b;

	if (x->frames_held != y->frames_held)
		return x->frames_held > y->frames_held ? -1 : 1;
	if (x->oldest_hold_ms != y->oldest_hold_ms)
		return x->oldest_hold_ms > y->oldest_hold_ms ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static void user_name(uint32_t uid, char *buf, size_t size)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		snprintf(buf, size, "%s", pw->pw_name);
	else
		snprintf(buf, size, "%u", uid);
}

/* One line of the screen: cut to the width, the rest of the line erased. */
static void emit(FILE *out, unsigned width, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void emit(FILE *out, unsigned width, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (width < sizeof(line)) {
		/* Not in the middle of a character: µ is two bytes. */
		while (width > 0 && ((unsigned char)line[width] & 0xc0) == 0x80)
			width--;
		line[width] = 0;
	}
	fprintf(out, "%s\033[K\r\n", line);
}

static void top_draw(struct top *t)
{
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	unsigned rows, width, used = 0, in_use = 0, total = 0;
	uint64_t now = now_ms();
	char *screen = NULL;
	size_t screen_size = 0;
	FILE *out;

	ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws);
	rows = ws.ws_row ? ws.ws_row : 24;
	width = ws.ws_col ? ws.ws_col : 80;
	out = open_memstream(&screen, &screen_size);
	if (!out)
		return;
	if (t->n_pools)
		qsort(t->pools, t->n_pools, sizeof(*t->pools), pool_order);
	for (size_t i = 0; i < t->n_pools; i++) {
		in_use += t->pools[i].stats.status.allocated_frames;
		total += t->pools[i].frames;
	}
	fputs("\033[H", out);
	{
		char head[128];
		int len = snprintf(head, sizeof(head),
				   "ksalloc top: %zu pools, %u of %u frames in use", t->n_pools,
				   in_use, total);

		if (t->n_streams && len < (int)sizeof(head))
			len += snprintf(head + len, sizeof(head) - (size_t)len, ", %zu stream%s",
					t->n_streams, t->n_streams == 1 ? "" : "s");

		/* "q quits" at the right edge, where there is room for it. */
		emit(out, width, "%s%*s", head, len + 9 < (int)width ? (int)width - len : 0,
		     len + 9 < (int)width ? "q quits" : "");
	}
	emit(out, width, "%s", "");
	emit(out, width, "%-24s %-16s %7s %10s %7s %6s %6s %5s %9s %9s", "POOL", "BACKEND",
	     "FRAMES", "SIZE", "IN USE", "FREE", "PEAK", "WAIT", "ACQ/S", "TIMEOUTS");
	used = 3;
	/*
	 * Fewer lines than rows, the blank line and the message under the table
	 * counted: the newline after a full screen's last line would scroll the
	 * heading off.
	 */
	for (size_t i = 0; i < t->n_pools && used + 3 < rows; i++) {
		struct top_pool *p = &t->pools[i];
		char size[32];
		/* No status for a while means nothing changed: no acquisitions either. */
		double rate = now - p->received_ms > 1000 ? 0 : p->rate;

		format_bytes(p->size_bytes, size, sizeof(size));
		emit(out, width, "%-24s %-16s %7u %10s %7u %6u %6u %5u %9.1f %9llu", p->name,
		     p->stats.backend, p->frames, size, p->stats.status.allocated_frames,
		     p->stats.free_frames, p->stats.peak_frames, p->stats.waiters, rate,
		     (unsigned long long)p->stats.timeouts);
		used++;
		if (p->stats.n_holders)
			qsort(p->stats.holders, p->stats.n_holders, sizeof(*p->stats.holders),
			      holder_order);
		for (size_t h = 0; h < p->stats.n_holders && used + 3 < rows; h++) {
			const struct ksalloc_holder *o = &p->stats.holders[h];
			char user[32], age[32];

			user_name(o->uid, user, sizeof(user));
			ctl_format_age(o->oldest_hold_ms + (now - p->received_ms), age,
				       sizeof(age));
			emit(out, width, "  pid %-8u %-16s user %-10s holds %u, oldest for %s",
			     o->pid, o->name, user, o->frames_held, age);
			used++;
		}
	}
	/* The streams under the pools, where there is room for the heading and one at least. */
	if (t->n_streams && used + 5 < rows) {
		char line[512];

		qsort(t->streams, t->n_streams, sizeof(*t->streams), stream_order);
		emit(out, width, "%s", "");
		ctl_format_top_stream_header(line, sizeof(line));
		emit(out, width, "%s", line);
		used += 2;
		for (size_t i = 0; i < t->n_streams && used + 3 < rows; i++) {
			const struct top_stream *s = &t->streams[i];

			ctl_format_top_stream_row(&s->info, s->published_rate, s->dropped_rate,
						  line, sizeof(line));
			emit(out, width, "%s", line);
			used++;
		}
	}
	emit(out, width, "%s", "");
	emit(out, width, "%s", t->message);
	fputs("\033[J", out);
	fclose(out);
	if (screen && write(STDOUT_FILENO, screen, screen_size) < 0) {
		/* The terminal went away: the next poll says so. */
	}
	free(screen);
}

/* What top shows, once, as JSON: every pool with its status and holders. */
static int top_json(const struct ksalloc_client_options *opts)
{
	json_object *array = json_object_new_array();
	struct ksalloc_pool_info *pools = NULL;
	struct ksalloc_client *c;
	size_t n = 0;
	int r;

	r = ksalloc_client_open(opts, &c);
	if (r < 0) {
		fprintf(stderr, "ksallocctl: top: %s\n", ksalloc_client_open_error());
		json_object_put(array);
		return 1;
	}
	r = ksalloc_client_list_pools(c, &pools, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct ksalloc_pool_stats st;
		json_object *o;

		/* A pool destroyed since the list is no longer to be shown. */
		r = ksalloc_client_pool_stats(c, pools[i].name, &st);
		if (r == -ENOENT) {
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		o = ctl_pool_to_json(&pools[i], &st);
		json_object_array_add(array, o);
		free(st.holders);
	}
	if (r < 0)
		fprintf(stderr, "ksallocctl: top: %s\n", ksalloc_client_error(c));
	else
		puts(json_object_to_json_string_ext(array, JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(array);
	free(pools);
	ksalloc_client_close(c);
	return r < 0 ? 1 : 0;
}

int ctl_top(const struct ksalloc_client_options *opts, uint32_t interval_ms, bool json)
{
	const struct ksalloc_subscription_options so = { .interval_ms = interval_ms };
	struct ksalloc_subscription *sub;
	struct top t = { 0 };
	int r, ret = 0;

	if (json)
		return top_json(opts);
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "ksallocctl: top needs a terminal; scripts can use watch, status "
				"or metrics\n");
		return 1;
	}
	r = ksalloc_subscription_open(opts, &so, &sub);
	if (r < 0) {
		fprintf(stderr, "ksallocctl: top: %s\n", ksalloc_client_open_error());
		return 1;
	}
	r = ksalloc_client_open(opts, &t.client);
	if (r < 0) {
		fprintf(stderr, "ksallocctl: top: %s\n", ksalloc_client_open_error());
		ksalloc_subscription_close(sub);
		return 1;
	}
	/* As often as the pools' statuses may come, and not more than 4 times a second. */
	t.streams_every_ms = interval_ms > 250 ? interval_ms : 250;
	catch_signals(true);
	r = setup_terminal(&t);
	if (r < 0) {
		restore_terminal();
		fprintf(stderr, "ksallocctl: top: cannot set up the terminal: %s\n", strerror(-r));
		ksalloc_client_close(t.client);
		ksalloc_subscription_close(sub);
		return 1;
	}
	top_sample_streams(&t);
	top_draw(&t);
	while (!stop_signal) {
		struct pollfd pfd[2] = {
			{ .fd = ksalloc_subscription_get_fd(sub), .events = POLLIN },
			{ .fd = STDIN_FILENO, .events = POLLIN },
		};
		struct ksalloc_event e;
		bool quit = false;
		char key;

		/* Once a second at least: the ages of holds go on. */
		if (poll(pfd, 2, 1000) < 0 && errno != EINTR)
			break;
		while (read(STDIN_FILENO, &key, 1) == 1)
			quit |= key == 'q' || key == 'Q';
		if (quit)
			break;
		while ((r = ksalloc_subscription_read(sub, &e)) == 0) {
			top_update(&t, &e);
			ksalloc_event_clear(&e);
		}
		if (r != -EAGAIN) {
			restore_terminal();
			fprintf(stderr, "ksallocctl: top: %s\n", ksalloc_subscription_error(sub));
			ret = 1;
			break;
		}
		resized = 0;
		top_sample_streams(&t);
		top_draw(&t);
	}
	restore_terminal();
	for (size_t i = 0; i < t.n_pools; i++)
		free(t.pools[i].stats.holders);
	free(t.pools);
	free(t.streams);
	ksalloc_client_close(t.client);
	ksalloc_subscription_close(sub);
	return ret;
}
