/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The GStreamer elements over pools whose frames are dma-bufs (a DMA-BUF heap,
 * and udmabuf over a sealed memfd), on a kernel that has both (scripts/test-hw
 * runs it in qemu): videotestsrc writes into the frames through ksallocsink's
 * pool (no copy), and ksallocsrc in another process hands them on as
 * GstDmaBufMemory, every frame equal to videotestsrc's own in one process.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gst/allocators/gstdmabuf.h>
#include <gst/app/gstappsink.h>

#include "tests/lib/gst-pipeline.h"
#include "tests/lib/harness.h"
#include "tests/lib/ksalloc-check.h"

#define HEAP "/dev/dma_heap/system"
#define UDMABUF "/dev/udmabuf"
#define CAPS "video/x-raw,format=I420,width=320,height=240,framerate=30/1"
#define FRAMES 30

static const char config[] = "[pool heap]\n"
			     "frames = 12\n"
			     "frame_size = 115200\n"
			     "backend = dmaheap:system\n"
			     "\n"
			     "[pool udma]\n"
			     "frames = 12\n"
			     "frame_size = 115200\n"
			     "backend = udmabuf\n"
			     "\n"
			     "[stream heapcam]\n"
			     "pool = heap\n"
			     "\n"
			     "[stream udmacam]\n"
			     "pool = udma\n"
			     "\n"
			     "[pool heapv4l2]\n"
			     "frames = 8\n"
			     "frame_size = 460800\n"
			     "backend = dmaheap:system\n"
			     "\n"
			     "[stream v4l2cam]\n"
			     "pool = heapv4l2\n";

static struct test_daemon daemon_;

/* A producer process into @stream and a consumer here: every frame, as dma-buf memory. */
static void frames_travel_as_dmabufs(const char *stream)
{
	gchar **want = gst_test_run_here("videotestsrc pattern=ball num-buffers=30 ! " CAPS
					 " ! appsink name=out sync=false");
	gchar *desc = g_strdup_printf("ksallocsrc stream=%s ! appsink name=out sync=false", stream);
	GstElement *pipeline = gst_parse_launch(desc, NULL);
	GstElement *out = gst_bin_get_by_name(GST_BIN(pipeline), "out");
	struct test_child p;
	gchar *line;
	int i;

	test_daemon_up(&daemon_, config);
	ck_assert_int_ne(gst_element_set_state(pipeline, GST_STATE_PLAYING),
			 GST_STATE_CHANGE_FAILURE);
	g_free(desc);
	desc = g_strdup_printf("videotestsrc pattern=ball num-buffers=%d ! capsfilter caps=\"" CAPS
			       "\" ! ksallocsink name=sink stream=%s",
			       FRAMES, stream);
	p = gst_test_spawn(desc);
	for (i = 0; i < FRAMES; i++) {
		GstSample *s = gst_app_sink_try_pull_sample(GST_APP_SINK(out), 30 * GST_SECOND);
		GstBuffer *b;

		ck_assert_msg(s, "frame %d did not come", i);
		b = gst_sample_get_buffer(s);
		ck_assert_msg(gst_is_dmabuf_memory(gst_buffer_peek_memory(b, 0)),
			      "frame %d is not dma-buf memory", i);
		line = gst_test_describe(b);
		ck_assert_msg(strcmp(line, want[i]) == 0, "frame %d: got %s, sent %s", i, line,
			      want[i]);
		g_free(line);
		gst_sample_unref(s);
	}
	ck_assert_ptr_null(gst_app_sink_try_pull_sample(GST_APP_SINK(out), 30 * GST_SECOND));
	ck_assert(gst_app_sink_is_eos(GST_APP_SINK(out)));
	/* Upstream wrote into the dma-bufs: nothing was copied. */
	gst_test_expect_line(&p, "started");
	gst_test_expect_line(&p, "copies 0");
	ck_assert_int_eq(test_child_finish(&p), 0);

	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(out);
	gst_object_unref(pipeline);
	g_free(desc);
	g_strfreev(want);
	test_daemon_down(&daemon_);
}

START_TEST(test_gst_dmaheap_frames_travel)
{
	frames_travel_as_dmabufs("heapcam");
}
END_TEST

START_TEST(test_gst_udmabuf_frames_travel)
{
	frames_travel_as_dmabufs("udmacam");
}
END_TEST

/* vivid's capture node, by the name sysfs gives it ("vivid-000-vid-cap"), into @path. */
static gboolean find_vivid_capture(char *path, size_t size)
{
	for (int i = 0; i < 16; i++) {
		gchar *name_file = g_strdup_printf("/sys/class/video4linux/video%d/name", i);
		gchar *name = NULL;
		gboolean found = g_file_get_contents(name_file, &name, NULL, NULL) &&
				 strstr(name, "vid-cap") && strstr(name, "vivid");

		g_free(name_file);
		g_free(name);
		if (found) {
			snprintf(path, size, "/dev/video%d", i);
			return TRUE;
		}
	}
	return FALSE;
}

/*
 * A camera writes into the frames: v4l2src io-mode=dmabuf-import takes ksallocsink's pool
 * and queues its dma-bufs to vivid, and a consumer here gets the frames vivid filled.
 */
START_TEST(test_gst_v4l2src_captures_into_dmaheap_frames)
{
	GstElement *pipeline = gst_parse_launch("ksallocsrc stream=v4l2cam ! appsink name=out "
						"sync=false",
						NULL);
	GstElement *out = gst_bin_get_by_name(GST_BIN(pipeline), "out");
	struct test_child p;
	char device[32];
	gchar *desc;

	ck_assert_msg(find_vivid_capture(device, sizeof(device)), "no vivid capture node");
	test_daemon_up(&daemon_, config);
	ck_assert_int_ne(gst_element_set_state(pipeline, GST_STATE_PLAYING),
			 GST_STATE_CHANGE_FAILURE);
	desc = g_strdup_printf("v4l2src device=%s io-mode=dmabuf-import num-buffers=%d ! "
			       "video/x-raw,format=YUY2,width=640,height=360 ! ksallocsink "
			       "name=sink stream=v4l2cam",
			       device, FRAMES);
	p = gst_test_spawn(desc);
	for (int i = 0; i < FRAMES; i++) {
		GstSample *s = gst_app_sink_try_pull_sample(GST_APP_SINK(out), 30 * GST_SECOND);
		GstBuffer *b;

		ck_assert_msg(s, "frame %d did not come", i);
		b = gst_sample_get_buffer(s);
		ck_assert_uint_eq(gst_buffer_get_size(b), 640 * 360 * 2);
		ck_assert(gst_is_dmabuf_memory(gst_buffer_peek_memory(b, 0)));
		gst_sample_unref(s);
	}
	/* vivid wrote into the dma-bufs itself: nothing was copied. */
	gst_test_expect_line(&p, "started");
	gst_test_expect_line(&p, "copies 0");
	ck_assert_int_eq(test_child_finish(&p), 0);
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(out);
	gst_object_unref(pipeline);
	g_free(desc);
	test_daemon_down(&daemon_);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s;
	TCase *tc;
	int r = gst_test_init(argc, argv, KSALLOC_GST_PLUGIN_DIR);

	if (r >= 0)
		return r;
	if (access(HEAP, R_OK) < 0 || access(UDMABUF, R_OK | W_OK) < 0) {
		printf("test-hw-gst: skipped: needs %s and %s (%s); scripts/test-hw runs it in "
		       "qemu\n",
		       HEAP, UDMABUF, strerror(errno));
		gst_test_cleanup();
		return 77;
	}
	s = suite_create("hw-gst");
	tc = tcase_create("hw-gst");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_gst_dmaheap_frames_travel);
	tcase_add_test(tc, test_gst_udmabuf_frames_travel);
	tcase_add_test(tc, test_gst_v4l2src_captures_into_dmaheap_frames);
	suite_add_tcase(s, tc);
	r = ksalloc_check_run(s);
	gst_test_cleanup();
	return r;
}
