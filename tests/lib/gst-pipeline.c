/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the GStreamer tests share (tests/integration/test-gst.c, tests/hw/test-hw-gst.c):
 * a buffer as one line of text, pipelines run here or in a child process (the test binary
 * run again with --pipeline, which execs, so that no GStreamer thread is ever forked), and
 * the children's lines read as they come.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <gst/app/gstappsink.h>

#include "tests/lib/gst-pipeline.h"

static char self_path[4096];
static gchar *registry, *registry_dir;

/* "PTS DURATION FLAGS SHA1" of @buffer, as every comparison below makes it. */
gchar *gst_test_describe(GstBuffer *buffer)
{
	GstMapInfo map;
	gchar *sum, *line;

	/* Not ck_assert(): this also runs in --pipeline children, outside any Check test. */
	if (!gst_buffer_map(buffer, &map, GST_MAP_READ))
		return g_strdup("(a buffer that does not map)");
	sum = g_compute_checksum_for_data(G_CHECKSUM_SHA1, map.data, map.size);
	gst_buffer_unmap(buffer, &map);
	line = g_strdup_printf("%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %s %s",
			       GST_BUFFER_PTS(buffer), GST_BUFFER_DURATION(buffer),
			       GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DISCONT) ? "D" : "-",
			       sum);
	g_free(sum);
	return line;
}

/*
 * Runs @desc in this process until EOS: lines of the buffers its appsink "out" got
 * (NULL-terminated, g_strfreev()), the reference a consumer's frames are compared with.
 */
gchar **gst_test_run_here(const char *desc)
{
	GstElement *pipeline = gst_parse_launch(desc, NULL);
	GstElement *out = gst_bin_get_by_name(GST_BIN(pipeline), "out");
	GPtrArray *lines = g_ptr_array_new();
	GstSample *sample;

	ck_assert_ptr_nonnull(out);
	ck_assert_int_ne(gst_element_set_state(pipeline, GST_STATE_PLAYING),
			 GST_STATE_CHANGE_FAILURE);
	while ((sample = gst_app_sink_try_pull_sample(GST_APP_SINK(out), 30 * GST_SECOND))) {
		g_ptr_array_add(lines, gst_test_describe(gst_sample_get_buffer(sample)));
		gst_sample_unref(sample);
	}
	ck_assert(gst_app_sink_is_eos(GST_APP_SINK(out)));
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(out);
	gst_object_unref(pipeline);
	g_ptr_array_add(lines, NULL);
	return (gchar **)g_ptr_array_free(lines, FALSE);
}

/* "copies N" of the element named "sink", where it counts them (ksallocsink). */
static void print_copies(GstElement *pipeline)
{
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
	guint64 copies;

	if (sink && g_object_class_find_property(G_OBJECT_GET_CLASS(sink), "copies")) {
		g_object_get(sink, "copies", &copies, NULL);
		printf("copies %" G_GUINT64_FORMAT "\n", copies);
	}
	if (sink)
		gst_object_unref(sink);
}

/*
 * --pipeline DESC: runs DESC to its end; for each buffer its appsink "out" gets, prints
 * its line; prints "started" once it is set playing (a consumer's stream is open then).
 * Exits 0 at EOS, 2 with the error on stderr.
 */
static int pipeline_main(const char *desc)
{
	GError *error = NULL;
	GstElement *pipeline = gst_parse_launch(desc, &error), *out;
	GstMessage *msg;
	GstBus *bus;
	int status;

	if (!pipeline) {
		fprintf(stderr, "%s\n", error->message);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	bus = gst_element_get_bus(pipeline);
	out = gst_bin_get_by_name(GST_BIN(pipeline), "out");
	if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
		return 2;
	printf("started\n");
	if (out) {
		GstSample *sample;

		while ((sample = gst_app_sink_pull_sample(GST_APP_SINK(out)))) {
			gchar *line = gst_test_describe(gst_sample_get_buffer(sample));

			printf("%s\n", line);
			g_free(line);
			gst_sample_unref(sample);
		}
	}
	msg = gst_bus_timed_pop_filtered(bus, GST_CLOCK_TIME_NONE,
					 GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
	status = GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS ? 0 : 2;
	print_copies(pipeline);
	if (status) {
		gst_message_parse_error(msg, &error, NULL);
		fprintf(stderr, "error: %s\n", error->message);
		g_error_free(error);
	}
	gst_message_unref(msg);
	gst_element_set_state(pipeline, GST_STATE_NULL);
	if (out)
		gst_object_unref(out);
	gst_object_unref(bus);
	gst_object_unref(pipeline);
	return status;
}

/* This binary with --pipeline @desc. */
struct test_child gst_test_spawn(const char *desc)
{
	return test_spawn((char *const[]){ self_path, "--pipeline", (char *)desc, NULL });
}

/* The child's next line, without its newline; NULL at its end. */
gchar *gst_test_next_line(struct test_child *c)
{
	char *line = test_child_line(c);
	gchar *ret = g_strdup(line);

	free(line);
	return ret;
}

void gst_test_expect_line(struct test_child *c, const char *want)
{
	gchar *line = gst_test_next_line(c);

	ck_assert_msg(line && strcmp(line, want) == 0, "child %d said \"%s\", not \"%s\"",
		      (int)c->pid, line ? line : "(its end)", want);
	g_free(line);
}

/*
 * Whether a frame received is the one sent: the whole line, or where the producer was
 * live (its timestamps are its clock's, the reference's are not) the pixels alone.
 */
gboolean gst_test_same_frame(const char *got, const char *sent, gboolean live)
{
	if (!live)
		return strcmp(got, sent) == 0;
	return strcmp(strrchr(got, ' '), strrchr(sent, ' ')) == 0;
}

/* The rest of a consumer's lines must be @want[from...], in order, to its end. */
int gst_test_expect_frames(struct test_child *c, gchar **want, int from, gboolean live)
{
	gchar *line;
	int i = from;

	while ((line = gst_test_next_line(c))) {
		ck_assert_msg(want[i], "frame %d beyond the %d sent: %s", i, i, line);
		ck_assert_msg(gst_test_same_frame(line, want[i], live), "frame %d: got %s, sent %s",
			      i, line, want[i]);
		g_free(line);
		i++;
	}
	return i;
}

int gst_test_init(int argc, char **argv, const char *plugin_dir)
{
	gchar *dir;

	if (argc == 3 && strcmp(argv[1], "--pipeline") == 0) {
		gst_init(NULL, NULL);
		return pipeline_main(argv[2]);
	}
	if (readlink("/proc/self/exe", self_path, sizeof(self_path) - 1) <= 0) {
		perror("/proc/self/exe");
		return 1;
	}
	/*
	 * The plugin as built, and a registry of our own (unless the caller's environment,
	 * scripts/test-hw's guest, names them): no system-wide cache is read or written.
	 * Plugins are scanned in this process, not in gst-plugin-scanner: a sanitizer build's
	 * plugin loads only into a process with the sanitizer's runtime, as this one is.
	 */
	if (!g_getenv("GST_REGISTRY")) {
		dir = g_dir_make_tmp("ksalloc-gst-XXXXXX", NULL);
		registry = g_build_filename(dir, "registry.bin", NULL);
		registry_dir = dir;
		g_setenv("GST_REGISTRY", registry, TRUE);
	}
	if (!g_getenv("GST_PLUGIN_PATH"))
		g_setenv("GST_PLUGIN_PATH", plugin_dir, TRUE);
	g_setenv("GST_REGISTRY_FORK", "no", TRUE);
	gst_init(NULL, NULL);
	if (!gst_registry_find_plugin(gst_registry_get(), "ksalloc")) {
		fprintf(stderr, "the ksalloc plugin is not in %s\n", g_getenv("GST_PLUGIN_PATH"));
		return 1;
	}
	return -1;
}

void gst_test_cleanup(void)
{
	if (registry) {
		unlink(registry);
		rmdir(registry_dir);
	}
}

/*
 * LeakSanitizer's suppressions, for these binaries and their --pipeline children:
 * GStreamer, GLib and the libraries GStreamer's plugins load keep allocations for the
 * process's life (type registrations, the registry, fontconfig's and udev's) and never
 * free them. A suppression matches any frame of a stack, so a leak of ours through
 * g_malloc() would hide too: the tests count what the plugin holds otherwise (every
 * frame back in the pool, the daemon's sessions gone).
 */
const char *__lsan_default_suppressions(void);
__attribute__((visibility("default"), used)) const char *__lsan_default_suppressions(void)
{
	return "leak:libglib-2.0.so\n"
	       "leak:libgobject-2.0.so\n"
	       "leak:libgstreamer-1.0.so\n"
	       "leak:libfontconfig.so\n"
	       "leak:libstdc++.so\n"
	       "leak:libudev.so\n";
}
