/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The GStreamer elements, with the real daemon: ksallocsink under GstHarness
 * with videotestsrc upstream (zero copies when upstream takes the pool, every
 * buffer counted when it does not); ksallocsrc under GstHarness (caps,
 * timestamps, EOS, a flush that wakes it); and pipelines in separate
 * processes (this binary run again with --pipeline: a child that execs, so
 * that no GStreamer thread is forked) whose every frame is compared with the
 * same videotestsrc in one process: 4 consumers, a consumer killed and
 * started again, a producer killed (an error naming the stream, then a new
 * producer's frames), a consumer started before the producer, and 100 runs
 * in a row that all finish. Every wait is on an event (a buffer, a bus
 * message, a line from a child, a child's exit) with a bound, never on time.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gst/app/gstappsink.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>

#include <ksalloc/ksalloc.h>

#include "tests/lib/gst-pipeline.h"
#include "tests/lib/harness.h"
#include "tests/lib/ksalloc-check.h"

#define CAPS "video/x-raw,format=I420,width=320,height=240,framerate=30/1"
#define FRAME_SIZE (320 * 240 * 3 / 2)

/* Streams of the config exist before either side: a consumer started first misses nothing. */
static const char config[] = "[pool video]\n"
			     "frames = 12\n"
			     "frame_size = 115200\n"
			     "\n"
			     "[pool small]\n"
			     "frames = 2\n"
			     "frame_size = 115200\n"
			     "\n"
			     "[stream cam]\n"
			     "pool = video\n"
			     "\n"
			     "[stream blocked]\n"
			     "pool = small\n";

static struct test_daemon daemon_;

static void start(void)
{
	test_daemon_up(&daemon_, config);
}

static void stop(void)
{
	test_daemon_down(&daemon_);
}

static gchar **reference(const char *pattern, int n)
{
	gchar *desc = g_strdup_printf("videotestsrc pattern=%s num-buffers=%d ! " CAPS
				      " ! appsink name=out sync=false",
				      pattern, n);
	gchar **lines = gst_test_run_here(desc);

	g_free(desc);
	return lines;
}

static struct test_child producer(const char *pattern, int n, const char *extra)
{
	gchar *desc = g_strdup_printf("videotestsrc pattern=%s num-buffers=%d %s ! " CAPS
				      " ! ksallocsink stream=cam name=sink",
				      pattern, n, extra);
	struct test_child c = gst_test_spawn(desc);

	g_free(desc);
	return c;
}

static struct test_child consumer(const char *props)
{
	gchar *desc =
		g_strdup_printf("ksallocsrc stream=cam %s ! appsink name=out sync=false", props);
	struct test_child c = gst_test_spawn(desc);

	g_free(desc);
	gst_test_expect_line(&c, "started");
	return c;
}

/* ---- the sink ------------------------------------------------------------------------------ */

static void sink_run(const char *upstream, int n, guint64 want_copies)
{
	GstHarness *h = gst_harness_new_parse("ksallocsink stream=cam sync=false");
	struct ksalloc_client *c = NULL;
	struct ksalloc_stream *s = NULL;
	struct ksalloc_frame_meta meta;
	struct ksalloc_frame f;
	gchar *src = g_strdup_printf("%s ! capsfilter caps=\"" CAPS "\"", upstream);
	gchar **want = reference("ball", n);
	guint64 copies, published;
	GstElement *sink;

	ck_assert_int_eq(ksalloc_client_open(NULL, &c), 0);
	ck_assert_int_eq(ksalloc_stream_open(c, "cam", NULL, &s), 0);
	gst_harness_add_src_parse(h, src, FALSE);
	for (int i = 0; i < n; i++) {
		gchar *sum;

		ck_assert_int_eq(gst_harness_push_from_src(h), GST_FLOW_OK);
		ck_assert_int_eq(ksalloc_stream_receive(s, 10000, &f, &meta), 0);
		ck_assert_uint_eq(meta.data_used, FRAME_SIZE);
		ck_assert(meta.options_flags & KSALLOC_FRAME_TIMEVALID);
		sum = g_compute_checksum_for_data(G_CHECKSUM_SHA1, f.data, meta.data_used);
		ck_assert_msg(strstr(want[i], sum), "frame %d: %s, sent %s", i, sum, want[i]);
		g_free(sum);
		ck_assert_int_eq(ksalloc_stream_release(s, &f), 0);
	}
	sink = gst_harness_find_element(h, "ksallocsink");
	g_object_get(sink, "copies", &copies, "published", &published, NULL);
	gst_object_unref(sink);
	ck_assert_uint_eq(published, n);
	ck_assert_uint_eq(copies, want_copies);
	gst_harness_teardown(h);
	ksalloc_stream_close(s);
	ksalloc_client_close(c);
	g_strfreev(want);
	g_free(src);
}

START_TEST(test_gst_sink_upstream_writes_into_frames)
{
	start();
	sink_run("videotestsrc pattern=ball", 20, 0);
	stop();
}
END_TEST

START_TEST(test_gst_sink_copies_and_counts_other_buffers)
{
	start();
	sink_run("videotestsrc pattern=ball ! identity drop-allocation=true", 20, 20);
	stop();
}
END_TEST

/* ---- the source ---------------------------------------------------------------------------- */

START_TEST(test_gst_src_caps_timestamps_and_eos)
{
	GstHarness *h;
	gchar **want = reference("smpte", 30);
	GstCaps *caps, *sent;
	GstMapInfo map;
	struct test_child p;
	GstEvent *e;
	int i;

	start();
	h = gst_harness_new_parse("ksallocsrc stream=cam");
	gst_harness_play(h);
	p = producer("smpte", 30, "");
	for (i = 0; want[i]; i++) {
		GstBuffer *b = gst_harness_pull(h);
		gchar *line;

		ck_assert_ptr_nonnull(b);
		line = gst_test_describe(b);
		ck_assert_msg(strcmp(line, want[i]) == 0, "frame %d: got %s, sent %s", i, line,
			      want[i]);
		g_free(line);
		/* The frame is the producer's memory, shared: read-only (a buffer map copies). */
		ck_assert(!gst_memory_map(gst_buffer_peek_memory(b, 0), &map, GST_MAP_WRITE));
		gst_buffer_unref(b);
	}
	/* The producer's caps, as its videotestsrc fixated them. */
	caps = gst_pad_get_current_caps(h->sinkpad);
	sent = gst_caps_from_string(CAPS ",pixel-aspect-ratio=1/1,interlace-mode=progressive");
	ck_assert_msg(gst_caps_is_subset(caps, sent), "caps %" GST_PTR_FORMAT, caps);
	gst_caps_unref(sent);
	gst_caps_unref(caps);
	while ((e = gst_harness_pull_event(h)) && GST_EVENT_TYPE(e) != GST_EVENT_EOS)
		gst_event_unref(e);
	ck_assert_ptr_nonnull(e);
	gst_event_unref(e);
	ck_assert_int_eq(test_child_finish(&p), 0);
	gst_harness_teardown(h);
	g_strfreev(want);
	stop();
}
END_TEST

/* A sink fed by the test itself: caps @caps, then buffers of @size bytes filled with @seed. */
static GstHarness *sink_harness(const char *stream, const char *caps)
{
	gchar *desc = g_strdup_printf("ksallocsink stream=%s sync=false", stream);
	GstHarness *h = gst_harness_new_parse(desc);

	g_free(desc);
	gst_harness_set_src_caps_str(h, caps);
	return h;
}

static void push_frame(GstHarness *h, gsize size, guint8 seed, GstClockTime pts)
{
	GstBuffer *b = gst_harness_create_buffer(h, size);

	gst_buffer_memset(b, 0, seed, size);
	GST_BUFFER_PTS(b) = pts;
	GST_BUFFER_DURATION(b) = 40 * GST_MSECOND;
	ck_assert_int_eq(gst_harness_push(h, b), GST_FLOW_OK);
}

static GstHarness *src_harness(const char *props)
{
	gchar *desc = g_strdup_printf("ksallocsrc stream=cam %s", props);
	GstHarness *h = gst_harness_new_parse(desc);

	g_free(desc);
	gst_harness_play(h);
	return h;
}

/* The consumer's next buffer: its frame's size, time and flag, in the caps of its frame. */
static GstBuffer *expect_frame_in(GstHarness *cons, const char *caps_string, gsize size,
				  GstClockTime pts, gboolean discont)
{
	GstBuffer *b = gst_harness_pull(cons);
	GstCaps *caps, *want = gst_caps_from_string(caps_string);
	gchar *got;

	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(gst_buffer_get_size(b), size);
	ck_assert_uint_eq(GST_BUFFER_PTS(b), pts);
	ck_assert_msg(GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DISCONT) == discont,
		      "the frame of %s at %" G_GUINT64_FORMAT ": DISCONT %d", caps_string, pts,
		      !discont);
	caps = gst_pad_get_current_caps(cons->sinkpad);
	got = gst_caps_to_string(caps);
	ck_assert_msg(gst_caps_is_subset(caps, want), "the frame of %s came in caps %s",
		      caps_string, got);
	g_free(got);
	gst_caps_unref(want);
	gst_caps_unref(caps);
	return b;
}

/*
 * The producer's new caps reach the consumer before the first frame in them. A frame
 * whose caps were replaced before the consumer got to it (the stream keeps only the
 * current format) is dropped rather than passed on in caps that are not its own.
 */
START_TEST(test_gst_src_renegotiates_when_the_caps_change)
{
	static const char gray_64[] = "video/x-raw,format=GRAY8,width=64,height=64,framerate=25/1";
	static const char gray_128[] =
		"video/x-raw,format=GRAY8,width=128,height=32,framerate=25/1";
	static const char gray_32[] = "video/x-raw,format=GRAY8,width=32,height=32,framerate=25/1";
	GstHarness *prod, *cons;
	GstBuffer *held;

	start();
	/* max-held=1: while the test holds a buffer, the source cannot take the next frame. */
	cons = src_harness("max-held=1");
	prod = sink_harness("cam", gray_64);
	push_frame(prod, 64 * 64, 1, 0);
	/* GstBaseSrc marks its first buffer DISCONT. */
	gst_buffer_unref(expect_frame_in(cons, gray_64, 64 * 64, 0, TRUE));
	gst_harness_set_src_caps_str(prod, gray_128);
	push_frame(prod, 128 * 32, 2, 40 * GST_MSECOND);
	held = expect_frame_in(cons, gray_128, 128 * 32, 40 * GST_MSECOND, FALSE);

	/* Two changes before the consumer can look: the frame between is dropped. */
	gst_harness_set_src_caps_str(prod, gray_64);
	push_frame(prod, 64 * 64, 3, 80 * GST_MSECOND);
	gst_harness_set_src_caps_str(prod, gray_32);
	push_frame(prod, 32 * 32, 4, 120 * GST_MSECOND);
	gst_buffer_unref(held);
	gst_buffer_unref(expect_frame_in(cons, gray_32, 32 * 32, 120 * GST_MSECOND, TRUE));
	gst_harness_teardown(prod);
	gst_harness_teardown(cons);
	stop();
}
END_TEST

/*
 * A consumer of policy latest that downstream keeps busy (it holds its one frame,
 * max-held=1) gets the newest frame next, marked DISCONT: the ones between were dropped.
 */
START_TEST(test_gst_src_marks_discont_after_drops)
{
	static const char gray[] = "video/x-raw,format=GRAY8,width=64,height=64,framerate=25/1";
	GstHarness *prod, *cons;
	GstBuffer *first, *b;

	start();
	cons = src_harness("policy=latest max-held=1");
	prod = sink_harness("cam", gray);
	push_frame(prod, 64 * 64, 0, 0);
	first = gst_harness_pull(cons);
	ck_assert_ptr_nonnull(first);
	/* The source waits for its frame back: these meet a queue of one. */
	for (guint8 i = 1; i <= 5; i++)
		push_frame(prod, 64 * 64, i, i * 40 * GST_MSECOND);
	gst_buffer_unref(first);
	b = gst_harness_pull(cons);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(GST_BUFFER_PTS(b), 5 * 40 * GST_MSECOND);
	ck_assert(GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DISCONT));
	gst_buffer_unref(b);
	gst_harness_teardown(prod);
	gst_harness_teardown(cons);
	stop();
}
END_TEST

/* A source waiting for a frame that never comes stops at once when told to. */
START_TEST(test_gst_src_stop_wakes_its_wait)
{
	GstElement *pipeline;

	start();
	pipeline = gst_parse_launch("ksallocsrc stream=cam ! fakesink", NULL);
	ck_assert_int_eq(gst_element_set_state(pipeline, GST_STATE_PLAYING),
			 GST_STATE_CHANGE_ASYNC);
	ck_assert_int_eq(gst_element_set_state(pipeline, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
	gst_object_unref(pipeline);
	stop();
}
END_TEST

/* A sink waiting for a frame (the pool's two are held) stops at once when told to. */
START_TEST(test_gst_sink_stop_wakes_its_acquire)
{
	struct ksalloc_client *c = NULL;
	struct ksalloc_pool *p = NULL;
	struct ksalloc_frame held[2];
	GstElement *pipeline;
	GstBus *bus;
	GstMessage *m;

	start();
	ck_assert_int_eq(ksalloc_client_open(NULL, &c), 0);
	ck_assert_int_eq(ksalloc_pool_open(c, "small", &p), 0);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(ksalloc_pool_acquire(p, 0, &held[i]), 0);
	pipeline = gst_parse_launch("videotestsrc ! " CAPS " ! ksallocsink stream=blocked", NULL);
	bus = gst_element_get_bus(pipeline);
	ck_assert_int_eq(gst_element_set_state(pipeline, GST_STATE_PLAYING),
			 GST_STATE_CHANGE_ASYNC);
	/* The stream made, upstream's acquire waits: the pool is exhausted. */
	m = gst_bus_timed_pop_filtered(bus, 10 * GST_SECOND, GST_MESSAGE_STREAM_START);
	ck_assert_ptr_nonnull(m);
	gst_message_unref(m);
	ck_assert_int_eq(gst_element_set_state(pipeline, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
	gst_object_unref(bus);
	gst_object_unref(pipeline);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(ksalloc_pool_release(p, &held[i]), 0);
	ksalloc_pool_close(p);
	ksalloc_client_close(c);
	stop();
}
END_TEST

/* ---- across processes ----------------------------------------------------------------------- */

START_TEST(test_gst_four_consumer_processes_get_every_frame)
{
	gchar **want = reference("ball", 60);
	struct test_child cons[4], p;

	start();
	for (int i = 0; i < 4; i++)
		cons[i] = consumer("");
	p = producer("ball", 60, "");
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(gst_test_expect_frames(&cons[i], want, 0, FALSE), 60);
		ck_assert_int_eq(test_child_finish(&cons[i]), 0);
	}
	ck_assert_int_eq(test_child_finish(&p), 0);
	g_strfreev(want);
	stop();
}
END_TEST

/* Consumer started first on a stream nobody declared: it waits for the producer. */
START_TEST(test_gst_consumer_started_before_the_stream_exists)
{
	struct test_child cons, p;
	gchar *line;
	int n = 0;

	start();
	cons = gst_test_spawn("ksallocsrc stream=adhoc ! appsink name=out sync=false");
	gst_test_expect_line(&cons, "started");
	p = gst_test_spawn("videotestsrc is-live=true num-buffers=30 ! " CAPS
			   " ! ksallocsink stream=adhoc");
	while ((line = gst_test_next_line(&cons))) {
		n++;
		g_free(line);
	}
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(test_child_finish(&cons), 0);
	ck_assert_int_eq(test_child_finish(&p), 0);
	stop();
}
END_TEST

/* A consumer killed mid-stream; another started in its place gets the rest, the producer ends. */
START_TEST(test_gst_consumer_killed_and_started_again)
{
	gchar **want = reference("ball", 90);
	struct test_child c1, c2, p;
	gchar *line, *first;
	int i;

	start();
	c1 = consumer("");
	p = producer("ball", 90, "is-live=true");
	for (i = 0; i < 5; i++) {
		line = gst_test_next_line(&c1);
		ck_assert_msg(gst_test_same_frame(line, want[i], TRUE), "got %s, sent %s", line,
			      want[i]);
		g_free(line);
	}
	kill(c1.pid, SIGKILL);
	ck_assert_int_eq(test_child_finish(&c1), 128 + SIGKILL);
	c2 = consumer("");
	/* It starts where the stream is: find that frame, then every one after it. */
	first = gst_test_next_line(&c2);
	ck_assert_ptr_nonnull(first);
	for (i = 5; want[i] && !gst_test_same_frame(first, want[i], TRUE); i++)
		;
	ck_assert_msg(want[i], "its first frame was never sent: %s", first);
	g_free(first);
	ck_assert_int_eq(gst_test_expect_frames(&c2, want, i + 1, TRUE), 90);
	ck_assert_int_eq(test_child_finish(&c2), 0);
	ck_assert_int_eq(test_child_finish(&p), 0);
	g_strfreev(want);
	stop();
}
END_TEST

/* The producer killed: an error naming the stream; then, started again, a new producer's frames. */
START_TEST(test_gst_producer_killed_then_a_new_one)
{
	GstElement *pipeline, *out;
	gchar **want = reference("ball", 30);
	GstSample *sample;
	GError *error = NULL;
	GstMessage *m;
	struct test_child p;
	GstBus *bus;
	int i;

	start();
	pipeline = gst_parse_launch("ksallocsrc stream=cam ! appsink name=out sync=false", NULL);
	out = gst_bin_get_by_name(GST_BIN(pipeline), "out");
	bus = gst_element_get_bus(pipeline);
	gst_element_set_state(pipeline, GST_STATE_PLAYING);
	p = producer("ball", 1000000, "is-live=true");
	sample = gst_app_sink_try_pull_sample(GST_APP_SINK(out), 10 * GST_SECOND);
	ck_assert_ptr_nonnull(sample);
	gst_sample_unref(sample);
	kill(p.pid, SIGKILL);
	ck_assert_int_eq(test_child_finish(&p), 128 + SIGKILL);
	m = gst_bus_timed_pop_filtered(bus, 10 * GST_SECOND, GST_MESSAGE_ERROR);
	ck_assert_ptr_nonnull(m);
	gst_message_parse_error(m, &error, NULL);
	ck_assert_msg(strstr(error->message, "\"cam\"") && strstr(error->message, "gone"),
		      "the error: %s", error->message);
	g_error_free(error);
	gst_message_unref(m);

	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_element_set_state(pipeline, GST_STATE_PLAYING);
	p = producer("ball", 30, "");
	for (i = 0; want[i]; i++) {
		gchar *line;

		sample = gst_app_sink_try_pull_sample(GST_APP_SINK(out), 10 * GST_SECOND);
		ck_assert_msg(sample, "frame %d of the new producer did not come", i);
		line = gst_test_describe(gst_sample_get_buffer(sample));
		ck_assert_str_eq(line, want[i]);
		g_free(line);
		gst_sample_unref(sample);
	}
	ck_assert_int_eq(test_child_finish(&p), 0);
	ck_assert_ptr_null(gst_app_sink_try_pull_sample(GST_APP_SINK(out), 10 * GST_SECOND));
	ck_assert(gst_app_sink_is_eos(GST_APP_SINK(out)));
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(bus);
	gst_object_unref(out);
	gst_object_unref(pipeline);
	g_strfreev(want);
	stop();
}
END_TEST

/*
 * The README's two terminals, with gst-launch-1.0 itself: the consumer (started first, its
 * stream open once it prerolls) counts every buffer the producer sent, and both end.
 */
START_TEST(test_gst_launch_two_terminals)
{
	struct test_child cons, p;
	gchar *line;
	int n = 0;

	if (KSALLOC_SANITIZED) {
		printf("skipped: gst-launch-1.0 cannot load a sanitizer build's plugin\n");
		return;
	}
	start();
	cons = test_spawn((char *const[]){ "gst-launch-1.0", "ksallocsrc", "stream=cam", "!",
					   "fakesink", "silent=false", "-v", NULL });
	while ((line = gst_test_next_line(&cons)) && !strstr(line, "Pipeline is PREROLLING"))
		g_free(line);
	ck_assert_msg(line, "gst-launch-1.0 ended before prerolling");
	g_free(line);
	p = test_spawn((char *const[]){ "gst-launch-1.0", "-q", "videotestsrc", "num-buffers=30",
					"!", CAPS, "!", "ksallocsink", "stream=cam", NULL });
	while ((line = gst_test_next_line(&cons))) {
		n += strstr(line, "last-message = chain") && strstr(line, "(115200 bytes");
		g_free(line);
	}
	ck_assert_int_eq(n, 30);
	ck_assert_int_eq(test_child_finish(&cons), 0);
	ck_assert_int_eq(test_child_finish(&p), 0);
	stop();
}
END_TEST

/* shmsink hangs in some runs of ten: 100 runs in a row, each finishing with every frame. */
START_TEST(test_gst_hundred_runs_all_finish)
{
	gchar **want = reference("ball", 10);
	int runs = getenv("KSALLOC_TEST_GST_RUNS") ? atoi(getenv("KSALLOC_TEST_GST_RUNS")) : 100;

	start();
	for (int run = 0; run < runs; run++) {
		struct test_child cons = consumer(""), p = producer("ball", 10, "");

		ck_assert_msg(gst_test_expect_frames(&cons, want, 0, FALSE) == 10, "run %d", run);
		ck_assert_int_eq(test_child_finish(&cons), 0);
		ck_assert_int_eq(test_child_finish(&p), 0);
	}
	g_strfreev(want);
	stop();
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s;
	TCase *tc;
	int r = gst_test_init(argc, argv, KSALLOC_GST_PLUGIN_DIR);

	if (r >= 0)
		return r;
	s = suite_create("gst");
	tc = tcase_create("gst");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_gst_sink_upstream_writes_into_frames);
	tcase_add_test(tc, test_gst_sink_copies_and_counts_other_buffers);
	tcase_add_test(tc, test_gst_src_caps_timestamps_and_eos);
	tcase_add_test(tc, test_gst_src_renegotiates_when_the_caps_change);
	tcase_add_test(tc, test_gst_src_marks_discont_after_drops);
	tcase_add_test(tc, test_gst_src_stop_wakes_its_wait);
	tcase_add_test(tc, test_gst_sink_stop_wakes_its_acquire);
	tcase_add_test(tc, test_gst_four_consumer_processes_get_every_frame);
	tcase_add_test(tc, test_gst_consumer_started_before_the_stream_exists);
	tcase_add_test(tc, test_gst_consumer_killed_and_started_again);
	tcase_add_test(tc, test_gst_producer_killed_then_a_new_one);
	tcase_add_test(tc, test_gst_launch_two_terminals);
	tcase_add_test(tc, test_gst_hundred_runs_all_finish);
	suite_add_tcase(s, tc);
	r = ksalloc_check_run(s);
	gst_test_cleanup();
	return r;
}
