/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ksallocctl streams and the streams' metrics against the real daemon: a
 * stream with a producer and two consumers of different policies, after a
 * few frames, as the table, as JSON, as a Prometheus scrape (promtool), and
 * as a row of top in a real terminal (tmux).
 */
#include <check.h>
#include <errno.h>
#include <json-c/json.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ksalloc/ksalloc.h>

#include "tests/lib/harness.h"
#include "tests/lib/ksalloc-check.h"

#define PROMTOOL "/usr/bin/promtool"

static const char config[] = "[pool video]\nframes = 8\nframe_size = 4K\n";

static struct test_daemon daemon_;

static struct ksalloc_client *client(const char *name)
{
	struct ksalloc_client_options opts;
	struct ksalloc_client *c = NULL;

	ksalloc_client_options_init(&opts);
	opts.client_name = name;
	ck_assert_msg(ksalloc_client_open(&opts, &c) == 0, "%s", ksalloc_client_open_error());
	return c;
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no key \"%s\" in %s", key,
		      json_object_to_json_string(o));
	return v;
}

static uint64_t get_u64(json_object *o, const char *key)
{
	return json_object_get_uint64(get(o, key));
}

/* The consumer of @stream (JSON) whose name is @name. */
static json_object *consumer(json_object *stream, const char *name)
{
	json_object *a = get(stream, "consumers");

	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *c = json_object_array_get_idx(a, i);

		if (strcmp(json_object_get_string(get(c, "name")), name) == 0)
			return c;
	}
	ck_abort_msg("no consumer %s in %s", name, json_object_to_json_string(stream));
	return NULL;
}

/* `promtool check metrics` on @text: its exit status; what it said in *ret_said. */
static int promtool_check(const char *text, char **ret_said)
{
	char path[] = "/tmp/ksalloc-ctl-streams-XXXXXX";
	char *argv[] = { "/bin/sh", "-c", "exec " PROMTOOL " check metrics < \"$1\"",
			 "sh",      path, NULL };
	char *out = NULL, *err = NULL;
	int fd, r;

	ck_assert_msg(access(PROMTOOL, X_OK) == 0,
		      PROMTOOL " is missing: install the package prometheus (scripts/test does)");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	r = test_run(argv, &out, &err);
	unlink(path);
	ck_assert_int_eq(asprintf(ret_said, "%s%s", out, err) >= 0, 1);
	free(out);
	free(err);
	return r;
}

/*
 * The workload: "cam" on video, produced by "camera"; "encoder" (block,
 * depth 4) has received one frame of three and holds it; "preview"
 * (drop-newest, depth 1, read-only) has one queued and two dropped.
 */
struct workload {
	struct ksalloc_client *producer_client, *encoder_client, *preview_client;
	struct ksalloc_pool *pool;
	struct ksalloc_stream *producer, *encoder, *preview;
	struct ksalloc_frame held;
};

static void workload_start(struct workload *w)
{
	const struct ksalloc_stream_open_options encoder_opts = { .policy = KSALLOC_STREAM_BLOCK,
								  .depth = 4 };
	const struct ksalloc_stream_open_options preview_opts = {
		.policy = KSALLOC_STREAM_DROP_NEWEST, .depth = 1, .read_only = true
	};
	static const char format[] = "video/x-raw,format=NV12,width=64,height=32";

	w->producer_client = client("camera");
	w->encoder_client = client("encoder");
	w->preview_client = client("preview");
	ck_assert_int_eq(ksalloc_pool_open(w->producer_client, "video", &w->pool), 0);
	ck_assert_int_eq(ksalloc_stream_create(w->pool, "cam", NULL, &w->producer), 0);
	ck_assert_int_eq(ksalloc_stream_set_format(w->producer, format, strlen(format)), 0);
	ck_assert_int_eq(ksalloc_stream_open(w->encoder_client, "cam", &encoder_opts, &w->encoder),
			 0);
	ck_assert_int_eq(ksalloc_stream_open(w->preview_client, "cam", &preview_opts, &w->preview),
			 0);
	for (int i = 0; i < 3; i++) {
		struct ksalloc_frame f;
		const struct ksalloc_frame_meta meta = { .data_used = 16 };

		ck_assert_int_eq(ksalloc_pool_acquire(w->pool, 1000, &f), 0);
		ck_assert_int_ge(ksalloc_stream_publish(w->producer, &f, &meta, 1000), 1);
	}
	ck_assert_int_eq(ksalloc_stream_receive(w->encoder, 1000, &w->held, NULL), 0);
}

static void workload_stop(struct workload *w)
{
	ck_assert_int_eq(ksalloc_stream_release(w->encoder, &w->held), 0);
	ksalloc_stream_close(w->preview);
	ksalloc_stream_close(w->encoder);
	ksalloc_stream_close(w->producer);
	ksalloc_pool_close(w->pool);
	ksalloc_client_close(w->preview_client);
	ksalloc_client_close(w->encoder_client);
	ksalloc_client_close(w->producer_client);
}

START_TEST(test_streams_shows_the_producer_and_each_consumer)
{
	struct workload w;
	json_object *all, *s, *c;
	char *text, *err, producer[64], line[256], said_slot[16];
	const int pid = (int)getpid();
	uint64_t preview_slot;

	test_daemon_up(&daemon_, config);
	workload_start(&w);

	/* The table: the stream, then a line per consumer. */
	text = CTL("streams");
	snprintf(producer, sizeof(producer), "%d camera", pid);
	assert_line(text, "%-24s %-24s %-13s %6u %6u %s %-24s %10u %7s", "cam", "video", "flowing",
		    (unsigned)getuid(), (unsigned)getgid(), "0660", producer, 3u, "42 B");
	ck_assert_msg(strstr(text, "  SLOT      PID NAME "), "%s", text);
	snprintf(line, sizeof(line), " %8d %-16s %-11s %5u %6u %4u %10u %8u %-3s ", pid, "encoder",
		 "block", 4u, 2u, 1u, 1u, 0u, "no");
	ck_assert_msg(strstr(text, line), "no \"%s\" in:\n%s", line, text);
	snprintf(line, sizeof(line), " %8d %-16s %-11s %5u %6u %4u %10u %8u %-3s %8s %8s\n", pid,
		 "preview", "drop-newest", 1u, 1u, 0u, 0u, 2u, "yes", "-", "-");
	ck_assert_msg(strstr(text, line), "no \"%s\" in:\n%s", line, text);
	free(text);

	/* JSON, the stream by its name. */
	text = CTL("--json", "streams", "cam");
	all = json_tokener_parse(text);
	ck_assert_msg(all && json_object_array_length(all) == 1, "%s", text);
	s = json_object_array_get_idx(all, 0);
	ck_assert_str_eq(json_object_get_string(get(s, "name")), "cam");
	ck_assert_str_eq(json_object_get_string(get(s, "pool")), "video");
	ck_assert_str_eq(json_object_get_string(get(s, "state")), "flowing");
	ck_assert_str_eq(json_object_get_string(get(s, "mode")), "0660");
	ck_assert_uint_eq(get_u64(s, "published"), 3);
	ck_assert_uint_eq(get_u64(s, "format_size"), 42);
	ck_assert_uint_eq(get_u64(get(s, "producer"), "pid"), (uint64_t)pid);
	ck_assert_str_eq(json_object_get_string(get(get(s, "producer"), "name")), "camera");
	ck_assert_uint_eq(json_object_array_length(get(s, "consumers")), 2);
	c = consumer(s, "encoder");
	ck_assert_str_eq(json_object_get_string(get(c, "policy")), "block");
	ck_assert_uint_eq(get_u64(c, "depth"), 4);
	ck_assert_uint_eq(get_u64(c, "max_held"), 8);
	ck_assert_uint_eq(get_u64(c, "queued"), 2);
	ck_assert_uint_eq(get_u64(c, "held"), 1);
	ck_assert_uint_eq(get_u64(c, "delivered"), 1);
	ck_assert_uint_eq(get_u64(c, "dropped"), 0);
	ck_assert(!json_object_get_boolean(get(c, "read_only")));
	/* It received a frame: its latencies are known, in buckets of 1 µs and up. */
	ck_assert_uint_ge(get_u64(c, "latency_p50_ns"), 1000);
	ck_assert_uint_ge(get_u64(c, "latency_p99_ns"), get_u64(c, "latency_p50_ns"));
	c = consumer(s, "preview");
	ck_assert_str_eq(json_object_get_string(get(c, "policy")), "drop-newest");
	ck_assert_uint_eq(get_u64(c, "queued"), 1);
	ck_assert_uint_eq(get_u64(c, "dropped"), 2);
	ck_assert(json_object_get_boolean(get(c, "read_only")));
	ck_assert_ptr_null(get(c, "latency_p99_ns"));
	preview_slot = get_u64(c, "slot");
	json_object_put(all);
	free(text);

	/* A stream that is not there: 1, and what is wrong. */
	free(test_ctl_run(1, &err, (const char *const[]){ "streams", "nosuch", NULL }));
	ck_assert_str_eq(err, "ksallocctl: streams: no stream named \"nosuch\" (ksallocctl "
			      "streams shows the streams)\n");
	free(err);

	/* The metrics: the same numbers, and a scrape takes them. */
	text = CTL("metrics");
	assert_line(text, "ksalloc_stream_published_total{stream=\"cam\",pool=\"video\"} 3");
	assert_line(text, "ksalloc_stream_consumers{stream=\"cam\",pool=\"video\"} 2");
	assert_line(text, "ksalloc_stream_producer_attached{stream=\"cam\",pool=\"video\"} 1");
	snprintf(said_slot, sizeof(said_slot), "%llu", (unsigned long long)preview_slot);
	assert_line(text,
		    "ksalloc_stream_consumer_dropped_total{stream=\"cam\",slot=\"%s\",pid=\"%d\","
		    "name=\"preview\"} 2",
		    said_slot, pid);
	assert_line(text,
		    "ksalloc_stream_consumer_queued{stream=\"cam\",slot=\"%s\",pid=\"%d\","
		    "name=\"preview\"} 1",
		    said_slot, pid);
	ck_assert_msg(strstr(text, "\nksalloc_stream_consumer_latency_p99_seconds{stream=\"cam\","),
		      "%s", text);
	{
		char *said;

		ck_assert_msg(promtool_check(text, &said) == 0 && said[0] == '\0',
			      "promtool check metrics: %s\n%s", said, text);
		free(said);
	}
	free(text);

	/* The producer goes without ending it. */
	w.producer = ksalloc_stream_close(w.producer);
	text = CTL("--json", "streams", "cam");
	all = json_tokener_parse(text);
	ck_assert_msg(all && json_object_array_length(all) == 1, "%s", text);
	s = json_object_array_get_idx(all, 0);
	ck_assert_str_eq(json_object_get_string(get(s, "state")), "producer-gone");
	ck_assert_ptr_null(get(s, "producer"));
	json_object_put(all);
	free(text);
	text = CTL("metrics");
	assert_line(text, "ksalloc_stream_producer_attached{stream=\"cam\",pool=\"video\"} 0");
	free(text);

	workload_stop(&w);
	test_daemon_down(&daemon_);
}
END_TEST

/*
 * The daemon names a stream consumer holding frames of a pool "stream S
 * consumer NAME", after its client: two consumers of one session are one
 * series of ksalloc_pool_holder_frames, their frames added up, since a
 * scrape takes a label set once.
 */
START_TEST(test_metrics_has_one_holder_series_per_label_set)
{
	const struct ksalloc_stream_open_options opts = { .policy = KSALLOC_STREAM_BLOCK,
							  .depth = 4 };
	struct ksalloc_client *producer_client, *viewer_client;
	struct ksalloc_stream *producer, *a, *b;
	struct ksalloc_pool *pool;
	const char *p, *needle = "\nksalloc_pool_holder_frames{pool=\"video\",";
	char *text, line[256];
	size_t n = 0;

	test_daemon_up(&daemon_, config);
	producer_client = client("camera");
	viewer_client = client("viewer");
	ck_assert_int_eq(ksalloc_pool_open(producer_client, "video", &pool), 0);
	ck_assert_int_eq(ksalloc_stream_create(pool, "cam", NULL, &producer), 0);
	ck_assert_int_eq(ksalloc_stream_open(viewer_client, "cam", &opts, &a), 0);
	ck_assert_int_eq(ksalloc_stream_open(viewer_client, "cam", &opts, &b), 0);
	for (int i = 0; i < 2; i++) {
		struct ksalloc_frame f;

		ck_assert_int_eq(ksalloc_pool_acquire(pool, 1000, &f), 0);
		ck_assert_int_eq(ksalloc_stream_publish(producer, &f, NULL, 1000), 2);
	}

	text = CTL("metrics");
	for (p = text; (p = strstr(p, needle)); p++)
		n++;
	ck_assert_msg(n == 1, "%zu series of ksalloc_pool_holder_frames:\n%.1500s", n,
		      strstr(text, needle));
	snprintf(line, sizeof(line),
		 "ksalloc_pool_holder_frames{pool=\"video\",session=\"%u\",pid=\"%d\","
		 "name=\"stream cam consumer viewer\"} 4",
		 ksalloc_client_session_id(viewer_client), (int)getpid());
	assert_line(text, "%s", line);
	free(text);

	ksalloc_stream_close(b);
	ksalloc_stream_close(a);
	ksalloc_stream_close(producer);
	ksalloc_pool_close(pool);
	ksalloc_client_close(viewer_client);
	ksalloc_client_close(producer_client);
	test_daemon_down(&daemon_);
}
END_TEST

/* ---- top, in tmux ------------------------------------------------------------------------- */

static char tmux_server[64];

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Runs tmux on our own server with @args; returns its stdout (malloc'ed) and fails on error. */
static char *tmux(const char *const *args)
{
	const char *argv[16] = { "/usr/bin/tmux", "-L", tmux_server, "-f", "/dev/null" };
	char *out = NULL, *err = NULL;
	size_t n = 5;
	int r;

	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	r = test_run((char *const *)argv, &out, &err);
	ck_assert_msg(r == 0, "tmux %s: %d: %s", argv[5], r, err);
	free(err);
	return out;
}

/* What the pane shows once it contains every string of @needles (10 s at most). */
static char *pane_once_it_shows(const char *const *needles)
{
	static const char *const capture[] = { "capture-pane", "-p", "-t", "top", NULL };
	uint64_t deadline = now_ms() + 10000;

	for (;;) {
		char *text = tmux(capture);
		bool all = true;

		for (const char *const *n = needles; *n; n++)
			all &= strstr(text, *n) != NULL;
		if (all)
			return text;
		ck_assert_msg(now_ms() < deadline, "the pane never showed all it should:\n%s",
			      text);
		free(text);
		sched_yield();
	}
}

/* Fixtures of the parent process: the server goes even when the test fails. */
static void tmux_name(void)
{
	snprintf(tmux_server, sizeof(tmux_server), "ksalloc-streams-%d", (int)getpid());
}

static void kill_tmux(void)
{
	const char *argv[] = { "/usr/bin/tmux", "-L", tmux_server, "kill-server", NULL };

	test_run((char *const *)argv, NULL, NULL);
}

START_TEST(test_top_shows_a_row_per_stream)
{
	char command[512], row[256], producer[64];
	const char *needles[] = { "1 stream", "STREAM", "WORST Q", row, NULL };
	struct workload w;
	char *text;

	if (access("/usr/bin/tmux", X_OK) < 0)
		ck_abort_msg("tmux is not installed (scripts/test installs it)");
	test_daemon_up(&daemon_, config);
	workload_start(&w);
	/* Its producer, 2 consumers, nothing published since top started, preview's queue full. */
	snprintf(producer, sizeof(producer), "%d camera", (int)getpid());
	snprintf(row, sizeof(row), "%-24s %-24s %9s %9s %9s %9s ", "cam", producer, "2", "0.0",
		 "0.0", "1/1");
	snprintf(command, sizeof(command),
		 "KSALLOC_SOCKET=%s %s top --interval 20; echo \"top exited: $?\"; exec sleep 600",
		 daemon_.socket_path, test_binary("ksallocctl"));
	{
		const char *const args[] = { "new-session", "-d", "-s", "top",   "-x",
					     "132",         "-y", "30", command, NULL };

		free(tmux(args));
	}
	text = pane_once_it_shows(needles);
	/* Under the pools. */
	ck_assert_msg(strstr(text, "POOL") < strstr(text, "STREAM"), "%s", text);
	free(text);
	{
		const char *const keys[] = { "send-keys", "-t", "top", "q", NULL };
		const char *const exited[] = { "top exited: 0", NULL };

		free(tmux(keys));
		free(pane_once_it_shows(exited));
	}
	workload_stop(&w);
	test_daemon_down(&daemon_);
}
END_TEST

static Suite *ctl_streams_suite(void)
{
	Suite *s = suite_create("ctl-streams");
	TCase *tc = tcase_create("streams");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, tmux_name, kill_tmux);
	tcase_add_test(tc, test_streams_shows_the_producer_and_each_consumer);
	tcase_add_test(tc, test_metrics_has_one_holder_series_per_label_set);
	tcase_add_test(tc, test_top_shows_a_row_per_stream);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ksalloc_check_run(ctl_streams_suite());
}
