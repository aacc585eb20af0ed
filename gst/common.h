/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * What ksallocsink and ksallocsrc share: their connection to ksallocd, which
 * outlives an element's stop while buffers it made are still out, and how a
 * GstBuffer's timing and flags travel in a frame's KSSTREAM_HEADER fields.
 */
#include <gst/gst.h>

#include <ksalloc/ksalloc.h>

GST_DEBUG_CATEGORY_EXTERN(ksalloc_gst_debug);

/*
 * An element's client, and the pool and stream it opened through it. Every
 * buffer that holds a frame holds a reference, so a buffer freed after the
 * element stopped still gives its frame back; the last reference closes the
 * stream, the pool (where the session opened it: a producer's) and the
 * client, in that order.
 */
typedef struct {
	gint refcount;
	struct ksalloc_client *client;
	struct ksalloc_pool *pool; /* a producer's: its own; NULL for a consumer */
	struct ksalloc_stream *stream;
} KsallocGstSession;

/*
 * Connects to ksallocd at @socket (NULL: $KSALLOC_SOCKET, else the default)
 * as @name (the element's, shown by ksallocctl). NULL with @error set when
 * it cannot.
 */
KsallocGstSession *ksalloc_gst_session_new(const char *socket, const char *name, GError **error);
KsallocGstSession *ksalloc_gst_session_ref(KsallocGstSession *session);
void ksalloc_gst_session_unref(KsallocGstSession *session);

/*
 * Flushing for the session's pool and stream, those it has (NULL: nothing): their waits
 * (acquire, publish, receive) in this process end with -ECANCELED, and do not start.
 */
void ksalloc_gst_session_set_flushing(KsallocGstSession *session, gboolean flushing);

/*
 * Timing and flags, both ways: the PTS and the duration exactly, in ns, as
 * KSTIME with numerator 1 and denominator 100 (KSSTREAM_HEADER's Duration is
 * in PresentationTime's units); DELTA_UNIT as the absence of SPLICEPOINT,
 * DISCONT as DATADISCONTINUITY. A received frame's DATADISCONTINUITY (frames
 * were dropped for this consumer) becomes DISCONT. DTS, offsets and metas do
 * not travel.
 */
void ksalloc_gst_meta_from_buffer(GstBuffer *buffer, gsize data_used,
				  struct ksalloc_frame_meta *ret_meta);
void ksalloc_gst_buffer_set_meta(GstBuffer *buffer, const struct ksalloc_frame_meta *meta);

/* A negative errno of libksalloc as GStreamer's flow return. */
GstFlowReturn ksalloc_gst_flow_from_errno(int r);
