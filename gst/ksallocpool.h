/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * GstKsallocBufferPool: the buffer pool ksallocsink proposes upstream, whose
 * buffers are the frames of a ksalloc pool, one frame each, so that upstream
 * writes straight into shared memory. Acquiring a buffer acquires a frame
 * (waiting as long as it takes, until a flush); a buffer coming back releases
 * its frame, unless the sink published it (the frame is the stream's then).
 */
#include <gst/gst.h>

#include "gst/common.h"

G_BEGIN_DECLS
#define GST_TYPE_KSALLOC_BUFFER_POOL (gst_ksalloc_buffer_pool_get_type())
G_DECLARE_FINAL_TYPE(GstKsallocBufferPool, gst_ksalloc_buffer_pool, GST, KSALLOC_BUFFER_POOL,
		     GstBufferPool)

/* A pool over @session's ksalloc pool (session->pool), which it keeps a reference to. */
GstBufferPool *gst_ksalloc_buffer_pool_new(KsallocGstSession *session);

/*
 * The frame @buffer is, if it is a buffer of @pool holding its frame's memory
 * as handed out (upstream did not replace it): TRUE and *@ret_frame.
 */
gboolean gst_ksalloc_buffer_pool_get_frame(GstBufferPool *pool, GstBuffer *buffer,
					   struct ksalloc_frame *ret_frame);

/* @buffer's frame was published: the stream has it, and the buffer's return does not release it. */
void gst_ksalloc_buffer_pool_frame_given(GstBuffer *buffer);
G_END_DECLS
