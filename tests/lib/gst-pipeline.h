/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * What the GStreamer tests share: a buffer as a line of text, pipelines run here or in a
 * child process, and the children's lines as they come. Assertions are Check's.
 */
#include <sys/types.h>

#include <gst/gst.h>

#include "tests/lib/harness.h"

/*
 * First thing in main(): runs a --pipeline child to its end and returns its exit
 * status; otherwise points GStreamer at @plugin_dir (unless GST_PLUGIN_PATH is set) and a
 * registry of its own, initializes it, and returns -1 (go on) or 1 (no ksalloc plugin).
 */
int gst_test_init(int argc, char **argv, const char *plugin_dir);

/* Last thing in main(): removes the registry gst_test_init() made. */
void gst_test_cleanup(void);

/* "PTS DURATION FLAGS SHA1" of @buffer (FLAGS: D for DISCONT, else -), malloc'ed. */
gchar *gst_test_describe(GstBuffer *buffer);

/*
 * Runs @desc here until EOS: the lines of the buffers its appsink "out" got
 * (NULL-terminated; g_strfreev()).
 */
gchar **gst_test_run_here(const char *desc);

/*
 * This binary with --pipeline @desc: it prints "started" once set playing (a consumer's
 * stream is open then), a line per buffer its appsink "out" gets, "copies N" at the end
 * where its element "sink" counts copies; exits 0 at EOS, 2 on an error (on stderr).
 */
struct test_child gst_test_spawn(const char *desc);

/* The child's next line, without its newline (g_free()); NULL at its end. */
gchar *gst_test_next_line(struct test_child *c);

/* The next line must be @want. */
void gst_test_expect_line(struct test_child *c, const char *want);

/*
 * Whether a frame received (@got) is the one sent: the whole line, or where the producer
 * was live (its timestamps are its clock's, a reference's are not) the pixels alone.
 */
gboolean gst_test_same_frame(const char *got, const char *sent, gboolean live);

/* The rest of the child's lines must be @want[@from...], in order, to its end: the count. */
int gst_test_expect_frames(struct test_child *c, gchar **want, int from, gboolean live);
