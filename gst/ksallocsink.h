/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* ksallocsink: publishes buffers into a ksalloc stream, upstream writing into its frames. */
#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS
#define GST_TYPE_KSALLOC_SINK (gst_ksalloc_sink_get_type())
G_DECLARE_FINAL_TYPE(GstKsallocSink, gst_ksalloc_sink, GST, KSALLOC_SINK, GstBaseSink)
G_END_DECLS
