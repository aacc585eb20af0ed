/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "gst/common.h"

GST_DEBUG_CATEGORY(ksalloc_gst_debug);
#define GST_CAT_DEFAULT ksalloc_gst_debug

KsallocGstSession *ksalloc_gst_session_new(const char *socket, const char *name, GError **error)
{
	struct ksalloc_client_options o = { .socket_path = socket, .client_name = name };
	KsallocGstSession *s = g_new0(KsallocGstSession, 1);
	int r;

	s->refcount = 1;
	r = ksalloc_client_open(&o, &s->client);
	if (r < 0) {
		g_set_error(error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ_WRITE,
			    "Cannot connect to ksallocd: %s", ksalloc_client_open_error());
		g_free(s);
		return NULL;
	}
	return s;
}

KsallocGstSession *ksalloc_gst_session_ref(KsallocGstSession *s)
{
	g_atomic_int_inc(&s->refcount);
	return s;
}

void ksalloc_gst_session_unref(KsallocGstSession *s)
{
	if (!s || !g_atomic_int_dec_and_test(&s->refcount))
		return;
	ksalloc_stream_close(s->stream);
	ksalloc_pool_close(s->pool);
	ksalloc_client_close(s->client);
	g_free(s);
}

void ksalloc_gst_session_set_flushing(KsallocGstSession *s, gboolean flushing)
{
	if (s && s->pool)
		ksalloc_pool_set_flushing(s->pool, flushing);
	if (s && s->stream)
		ksalloc_stream_set_flushing(s->stream, flushing);
}

void ksalloc_gst_meta_from_buffer(GstBuffer *b, gsize data_used, struct ksalloc_frame_meta *ret)
{
	*ret = (struct ksalloc_frame_meta){ .data_used = (uint32_t)data_used };
	/* Nanoseconds: 100-ns units scaled by 1/100, for PresentationTime and Duration alike. */
	ret->time_numerator = 1;
	ret->time_denominator = 100;
	if (GST_BUFFER_PTS_IS_VALID(b)) {
		ret->presentation_time = (int64_t)GST_BUFFER_PTS(b);
		ret->options_flags |= KSALLOC_FRAME_TIMEVALID;
	}
	if (GST_BUFFER_DURATION_IS_VALID(b)) {
		ret->duration = (int64_t)GST_BUFFER_DURATION(b);
		ret->options_flags |= KSALLOC_FRAME_DURATIONVALID;
	}
	if (!GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT))
		ret->options_flags |= KSALLOC_FRAME_SPLICEPOINT;
	if (GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DISCONT))
		ret->options_flags |= KSALLOC_FRAME_DATADISCONTINUITY;
}

void ksalloc_gst_buffer_set_meta(GstBuffer *b, const struct ksalloc_frame_meta *m)
{
	uint64_t num = m->time_numerator, den = m->time_denominator;

	/* KSTIME's 0/0 reads as 1/1; a ratio with one 0 is meaningless. */
	if (num == 0 && den == 0)
		num = den = 1;
	if ((m->options_flags & KSALLOC_FRAME_TIMEVALID) && m->presentation_time >= 0 && num && den)
		GST_BUFFER_PTS(b) =
			gst_util_uint64_scale((guint64)m->presentation_time, num * 100, den);
	if ((m->options_flags & KSALLOC_FRAME_DURATIONVALID) && m->duration >= 0 && num && den)
		GST_BUFFER_DURATION(b) =
			gst_util_uint64_scale((guint64)m->duration, num * 100, den);
	if (!(m->options_flags & KSALLOC_FRAME_SPLICEPOINT))
		GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DELTA_UNIT);
	if (m->options_flags & KSALLOC_FRAME_DATADISCONTINUITY)
		GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DISCONT);
}

GstFlowReturn ksalloc_gst_flow_from_errno(int r)
{
	switch (r) {
	case 0:
		return GST_FLOW_OK;
	case -ECANCELED:
		return GST_FLOW_FLUSHING;
	case -EPIPE:
		return GST_FLOW_EOS;
	default:
		return GST_FLOW_ERROR;
	}
}
