/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ksalloc GStreamer plugin: ksallocsink publishes buffers into a ksalloc
 * stream (upstream writing straight into the stream's frames through the
 * pool it proposes), ksallocsrc receives them in other processes without a
 * copy.
 */
#include "gst/common.h"
#include "gst/ksallocsink.h"
#include "gst/ksallocsrc.h"

static gboolean plugin_init(GstPlugin *plugin)
{
	GST_DEBUG_CATEGORY_INIT(ksalloc_gst_debug, "ksalloc", 0, "ksalloc elements");
	return gst_element_register(plugin, "ksallocsink", GST_RANK_NONE, GST_TYPE_KSALLOC_SINK) &&
	       gst_element_register(plugin, "ksallocsrc", GST_RANK_NONE, GST_TYPE_KSALLOC_SRC);
}

/* GStreamer's macro leaves the descriptor's reserved words to their zero default. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, ksalloc,
		  "Zero-copy video between processes through ksallocd's shared-memory streams",
		  plugin_init, PACKAGE_VERSION, "LGPL", "ksalloc", "https://github.com/ksalloc")
#pragma GCC diagnostic pop
