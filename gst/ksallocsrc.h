/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* ksallocsrc: receives a ksalloc stream's frames as read-only GstBuffers, without a copy. */
#include <gst/base/gstpushsrc.h>

G_BEGIN_DECLS
#define GST_TYPE_KSALLOC_SRC (gst_ksalloc_src_get_type())
G_DECLARE_FINAL_TYPE(GstKsallocSrc, gst_ksalloc_src, GST, KSALLOC_SRC, GstPushSrc)
G_END_DECLS
