/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ksallocsink: the producer of a ksalloc stream. It answers upstream's
 * allocation query with a GstKsallocBufferPool bounded to the stream's pool,
 * so upstream writes into the frames and render() only publishes them; a
 * buffer from elsewhere is copied into a frame, and counted. The caps are the
 * stream's format (a caps string, with its NUL); EOS ends the stream.
 *
 * Without pool= the sink uses the pool of the stream where the stream exists
 * (the daemon's config may declare it), and otherwise creates a pool named as
 * the stream, of raw video frames as the caps size them.
 */
#include <errno.h>
#include <string.h>

#include <gst/video/video.h>

#include "gst/common.h"
#include "gst/ksallocpool.h"
#include "gst/ksallocsink.h"

#define GST_CAT_DEFAULT ksalloc_gst_debug

/*
 * Frames of a pool the sink creates: upstream filling one and sending one,
 * the sink publishing one, one spare, and two consumers' default queue (4).
 */
#define DEFAULT_FRAMES 12

enum {
	PROP_0,
	PROP_STREAM,
	PROP_POOL,
	PROP_SOCKET,
	PROP_FRAMES,
	PROP_PUBLISHED,
	PROP_COPIES,
};

struct _GstKsallocSink {
	GstBaseSink parent;

	/* Properties: set under the object lock, read in start() and after. */
	gchar *stream_name;
	gchar *pool_name;
	gchar *socket;
	guint frames;

	/* Made in start(); the pool and stream once caps come (ensure_stream()). */
	KsallocGstSession *session;
	GstBufferPool *pool;
	gboolean ended; /* EOS ended the stream: the next buffer makes it again */
	GMutex lock;    /* the session's pool and stream, and pool, as they are made */

	guint64 published; /* atomic */
	guint64 copies;    /* atomic */
};

G_DEFINE_TYPE(GstKsallocSink, gst_ksalloc_sink, GST_TYPE_BASE_SINK)

static GstStaticPadTemplate sink_template =
	GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static const char *client_error(GstKsallocSink *self)
{
	return ksalloc_client_error(self->session->client);
}

/* The pool the stream is on, if the stream exists: its name into @name. */
static gboolean find_stream_pool(GstKsallocSink *self, gchar *name, gsize size)
{
	struct ksalloc_stream_info *streams = NULL;
	size_t n = 0;
	gboolean found = FALSE;

	if (ksalloc_client_list_streams(self->session->client, &streams, &n) < 0)
		return FALSE;
	for (size_t i = 0; i < n && !found; i++)
		if (strcmp(streams[i].name, self->stream_name) == 0) {
			g_strlcpy(name, streams[i].pool, size);
			found = TRUE;
		}
	free(streams);
	return found;
}

/* Opens pool=, the stream's pool, or creates one for raw video of @caps. */
static gboolean open_pool(GstKsallocSink *self, GstCaps *caps)
{
	struct ksalloc_framing framing = { .frames = self->frames ? self->frames : DEFAULT_FRAMES };
	gchar name[KSALLOC_POOL_NAME_MAX];
	GstVideoInfo info;
	int r;

	if (self->pool_name || find_stream_pool(self, name, sizeof(name))) {
		if (self->pool_name)
			g_strlcpy(name, self->pool_name, sizeof(name));
		r = ksalloc_pool_open(self->session->client, name, &self->session->pool);
		if (r < 0)
			GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ_WRITE,
					  ("Cannot open ksalloc pool \"%s\"", name),
					  ("%s", client_error(self)));
		return r == 0;
	}
	if (!gst_video_info_from_caps(&info, caps) || info.size > UINT32_MAX) {
		GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
				  ("Stream \"%s\" needs a pool for caps that are not raw video",
				   self->stream_name),
				  ("name one with pool=; caps %" GST_PTR_FORMAT, caps));
		return FALSE;
	}
	framing.frame_size = (uint32_t)info.size;
	r = ksalloc_pool_create(self->session->client, self->stream_name, &framing,
				&self->session->pool);
	if (r < 0) {
		GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ_WRITE,
				  ("Cannot create a ksalloc pool of %u frames of %u bytes for "
				   "stream \"%s\"",
				   framing.frames, framing.frame_size, self->stream_name),
				  ("%s", client_error(self)));
		return FALSE;
	}
	GST_INFO_OBJECT(self, "created pool %s: %u frames of %u bytes", self->stream_name,
			framing.frames, framing.frame_size);
	return TRUE;
}

static gboolean create_stream(GstKsallocSink *self)
{
	int r = ksalloc_stream_create(self->session->pool, self->stream_name, NULL,
				      &self->session->stream);

	if (r == 0) {
		self->ended = FALSE;
		return TRUE;
	}
	GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
			  ("Cannot produce ksalloc stream \"%s\"", self->stream_name),
			  ("%s", r == -EBUSY ? "it has a producer already" :
				 r == -EXDEV ? "it is on another pool than pool=" :
					       client_error(self)));
	return FALSE;
}

/*
 * The pool, the buffer pool and the stream, made the first time caps come
 * (in the allocation query or with the CAPS event, whichever is first), and
 * the stream again after EOS ended it. Checks that a frame holds @caps.
 */
static gboolean ensure_stream(GstKsallocSink *self, GstCaps *caps)
{
	const struct ksalloc_pool_info *pool_info;
	gboolean ok = TRUE;
	GstVideoInfo info;

	g_mutex_lock(&self->lock);
	if (!self->session->pool && !open_pool(self, caps))
		ok = FALSE;
	if (ok && !self->pool)
		self->pool = gst_ksalloc_buffer_pool_new(self->session);
	if (ok && self->ended)
		self->session->stream = ksalloc_stream_close(self->session->stream);
	if (ok && !self->session->stream)
		ok = create_stream(self);
	g_mutex_unlock(&self->lock);
	if (!ok)
		return FALSE;
	pool_info = ksalloc_pool_get_info(self->session->pool);
	if (gst_video_info_from_caps(&info, caps) &&
	    info.size > pool_info->status.framing.frame_size) {
		GST_ELEMENT_ERROR(
			self, RESOURCE, SETTINGS,
			("A frame of %" G_GSIZE_FORMAT " bytes does not fit pool \"%s\"'s "
			 "frames of %u bytes",
			 info.size, pool_info->name, pool_info->status.framing.frame_size),
			("caps %" GST_PTR_FORMAT, caps));
		return FALSE;
	}
	return TRUE;
}

static gboolean sink_set_caps(GstBaseSink *sink, GstCaps *caps)
{
	GstKsallocSink *self = GST_KSALLOC_SINK(sink);
	gchar *format;
	int r;

	if (!ensure_stream(self, caps))
		return FALSE;
	format = gst_caps_to_string(caps);
	r = ksalloc_stream_set_format(self->session->stream, format, strlen(format) + 1);
	if (r < 0)
		GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
				  ("Cannot set stream \"%s\"'s format", self->stream_name),
				  ("caps of %zu bytes (at most %u): %s", strlen(format) + 1,
				   KSALLOC_STREAM_FORMAT_MAX, format));
	else
		GST_DEBUG_OBJECT(self, "stream %s: format %s", self->stream_name, format);
	g_free(format);
	return r == 0;
}

/* Upstream writes into our frames: the pool, bounded to them, and video metas for strides. */
static gboolean sink_propose_allocation(GstBaseSink *sink, GstQuery *query)
{
	GstKsallocSink *self = GST_KSALLOC_SINK(sink);
	const struct ksalloc_pool_info *pool_info;
	gboolean need_pool;
	GstStructure *config;
	GstVideoInfo info;
	GstCaps *caps;
	guint size;

	gst_query_parse_allocation(query, &caps, &need_pool);
	if (!caps || !ensure_stream(self, caps))
		return FALSE;
	pool_info = ksalloc_pool_get_info(self->session->pool);
	size = gst_video_info_from_caps(&info, caps) ? (guint)info.size :
						       pool_info->status.framing.frame_size;
	if (!gst_buffer_pool_is_active(self->pool)) {
		config = gst_buffer_pool_get_config(self->pool);
		gst_buffer_pool_config_set_params(config, caps, size, 0,
						  pool_info->status.framing.frames);
		if (!gst_buffer_pool_set_config(self->pool, config))
			return FALSE;
	}
	gst_query_add_allocation_pool(query, self->pool, size, 0, pool_info->status.framing.frames);
	gst_query_add_allocation_meta(query, GST_VIDEO_META_API_TYPE, NULL);
	return TRUE;
}

static GstFlowReturn publish(GstKsallocSink *self, GstBuffer *buffer, struct ksalloc_frame *f)
{
	struct ksalloc_frame_meta meta;
	int r;

	ksalloc_gst_meta_from_buffer(buffer, gst_buffer_get_size(buffer), &meta);
	r = ksalloc_stream_publish(self->session->stream, f, &meta, KSALLOC_INFINITE);
	if (r >= 0) {
		g_atomic_pointer_add(&self->published, 1);
		return GST_FLOW_OK;
	}
	if (r != -ECANCELED)
		GST_ELEMENT_ERROR(self, RESOURCE, WRITE,
				  ("Cannot publish into ksalloc stream \"%s\"", self->stream_name),
				  ("%s", client_error(self)));
	return ksalloc_gst_flow_from_errno(r);
}

/* A buffer that is not one of our frames: into a frame of the pool, then published. */
static GstFlowReturn publish_copy(GstKsallocSink *self, GstBuffer *buffer)
{
	gsize size = gst_buffer_get_size(buffer);
	struct ksalloc_frame f;
	GstFlowReturn ret;
	int r;

	if (g_atomic_pointer_add(&self->copies, 1) == 0)
		GST_INFO_OBJECT(self, "upstream did not take the pool: buffers are copied into "
				      "frames");
	r = ksalloc_pool_acquire(self->session->pool, KSALLOC_INFINITE, &f);
	if (r < 0) {
		if (r != -ECANCELED)
			GST_ELEMENT_ERROR(self, RESOURCE, WRITE,
					  ("Cannot acquire a frame for stream \"%s\"",
					   self->stream_name),
					  ("%s", client_error(self)));
		return ksalloc_gst_flow_from_errno(r);
	}
	if (size > f.size) {
		ksalloc_pool_release(self->session->pool, &f);
		GST_ELEMENT_ERROR(self, STREAM, FAILED,
				  ("A buffer of %" G_GSIZE_FORMAT
				   " bytes does not fit a frame of %u",
				   size, f.size),
				  (NULL));
		return GST_FLOW_ERROR;
	}
	gst_buffer_extract(buffer, 0, f.data, size);
	ret = publish(self, buffer, &f);
	if (ret != GST_FLOW_OK)
		ksalloc_pool_release(self->session->pool, &f);
	return ret;
}

static GstFlowReturn sink_render(GstBaseSink *sink, GstBuffer *buffer)
{
	GstKsallocSink *self = GST_KSALLOC_SINK(sink);
	struct ksalloc_frame f;
	GstFlowReturn ret;

	if (self->ended) {
		GstCaps *caps = gst_pad_get_current_caps(GST_BASE_SINK_PAD(sink));
		gboolean ok = caps && sink_set_caps(sink, caps);

		gst_clear_caps(&caps);
		if (!ok)
			return GST_FLOW_ERROR;
	}
	if (!self->session->stream) {
		GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("No caps before the first buffer"),
				  (NULL));
		return GST_FLOW_NOT_NEGOTIATED;
	}
	if (!gst_ksalloc_buffer_pool_get_frame(self->pool, buffer, &f))
		return publish_copy(self, buffer);
	ret = publish(self, buffer, &f);
	if (ret == GST_FLOW_OK)
		gst_ksalloc_buffer_pool_frame_given(buffer);
	return ret;
}

static gboolean sink_event(GstBaseSink *sink, GstEvent *event)
{
	GstKsallocSink *self = GST_KSALLOC_SINK(sink);

	if (GST_EVENT_TYPE(event) == GST_EVENT_EOS && self->session->stream && !self->ended) {
		ksalloc_stream_end(self->session->stream);
		self->ended = TRUE;
		GST_DEBUG_OBJECT(self, "stream %s ended after %" G_GUINT64_FORMAT " frames",
				 self->stream_name,
				 (guint64)g_atomic_pointer_get(&self->published));
	}
	return GST_BASE_SINK_CLASS(gst_ksalloc_sink_parent_class)->event(sink, event);
}

/* Wakes render's waits (for a frame, or for a BLOCK consumer's room) on a flush or a stop. */
static gboolean sink_unlock(GstBaseSink *sink)
{
	GstKsallocSink *self = GST_KSALLOC_SINK(sink);

	g_mutex_lock(&self->lock);
	ksalloc_gst_session_set_flushing(self->session, TRUE);
	g_mutex_unlock(&self->lock);
	return TRUE;
}

static gboolean sink_unlock_stop(GstBaseSink *sink)
{
	GstKsallocSink *self = GST_KSALLOC_SINK(sink);

	g_mutex_lock(&self->lock);
	ksalloc_gst_session_set_flushing(self->session, FALSE);
	g_mutex_unlock(&self->lock);
	return TRUE;
}

static gboolean sink_start(GstBaseSink *sink)
{
	GstKsallocSink *self = GST_KSALLOC_SINK(sink);
	GError *error = NULL;

	if (!self->stream_name || !*self->stream_name) {
		GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("No stream name: set stream="),
				  (NULL));
		return FALSE;
	}
	self->session = ksalloc_gst_session_new(self->socket, GST_OBJECT_NAME(self), &error);
	if (!self->session) {
		GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ_WRITE, ("%s", error->message), (NULL));
		g_error_free(error);
		return FALSE;
	}
	self->ended = FALSE;
	g_atomic_pointer_set(&self->published, 0);
	g_atomic_pointer_set(&self->copies, 0);
	return TRUE;
}

/*
 * The stream goes now (consumers see its end, or its producer gone); the pool
 * and the client when the buffer pool, which upstream may hold a while yet,
 * lets the session go.
 */
static gboolean sink_stop(GstBaseSink *sink)
{
	GstKsallocSink *self = GST_KSALLOC_SINK(sink);

	GST_DEBUG_OBJECT(self,
			 "stopping: %" G_GUINT64_FORMAT " published, %" G_GUINT64_FORMAT " copied",
			 (guint64)g_atomic_pointer_get(&self->published),
			 (guint64)g_atomic_pointer_get(&self->copies));
	g_mutex_lock(&self->lock);
	self->session->stream = ksalloc_stream_close(self->session->stream);
	gst_clear_object(&self->pool);
	g_mutex_unlock(&self->lock);
	g_clear_pointer(&self->session, ksalloc_gst_session_unref);
	return TRUE;
}

static void sink_set_property(GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
	GstKsallocSink *self = GST_KSALLOC_SINK(object);

	GST_OBJECT_LOCK(self);
	switch (id) {
	case PROP_STREAM:
		g_free(self->stream_name);
		self->stream_name = g_value_dup_string(value);
		break;
	case PROP_POOL:
		g_free(self->pool_name);
		self->pool_name = g_value_dup_string(value);
		break;
	case PROP_SOCKET:
		g_free(self->socket);
		self->socket = g_value_dup_string(value);
		break;
	case PROP_FRAMES:
		self->frames = g_value_get_uint(value);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
	GST_OBJECT_UNLOCK(self);
}

static void sink_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
	GstKsallocSink *self = GST_KSALLOC_SINK(object);

	GST_OBJECT_LOCK(self);
	switch (id) {
	case PROP_STREAM:
		g_value_set_string(value, self->stream_name);
		break;
	case PROP_POOL:
		g_value_set_string(value, self->pool_name);
		break;
	case PROP_SOCKET:
		g_value_set_string(value, self->socket);
		break;
	case PROP_FRAMES:
		g_value_set_uint(value, self->frames);
		break;
	case PROP_PUBLISHED:
		g_value_set_uint64(value, (guint64)g_atomic_pointer_get(&self->published));
		break;
	case PROP_COPIES:
		g_value_set_uint64(value, (guint64)g_atomic_pointer_get(&self->copies));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
	GST_OBJECT_UNLOCK(self);
}

static void sink_finalize(GObject *object)
{
	GstKsallocSink *self = GST_KSALLOC_SINK(object);

	g_free(self->stream_name);
	g_free(self->pool_name);
	g_free(self->socket);
	g_mutex_clear(&self->lock);
	G_OBJECT_CLASS(gst_ksalloc_sink_parent_class)->finalize(object);
}

static void gst_ksalloc_sink_class_init(GstKsallocSinkClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
	GstBaseSinkClass *sink_class = GST_BASE_SINK_CLASS(klass);
	const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY;
	const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

	object_class->set_property = sink_set_property;
	object_class->get_property = sink_get_property;
	object_class->finalize = sink_finalize;
	g_object_class_install_property(object_class, PROP_STREAM,
					g_param_spec_string("stream", "Stream",
							    "Name of the ksalloc stream to produce",
							    NULL, rw));
	g_object_class_install_property(
		object_class, PROP_POOL,
		g_param_spec_string("pool", "Pool",
				    "ksalloc pool of the frames (NULL: the stream's, or one "
				    "created for the caps, named as the stream)",
				    NULL, rw));
	g_object_class_install_property(
		object_class, PROP_SOCKET,
		g_param_spec_string("socket", "Socket",
				    "ksallocd's socket (NULL: $KSALLOC_SOCKET, else the default)",
				    NULL, rw));
	g_object_class_install_property(
		object_class, PROP_FRAMES,
		g_param_spec_uint(
			"frames", "Frames",
			"Frames of a pool the sink creates (0: " G_STRINGIFY(DEFAULT_FRAMES) ")", 0,
			1024, 0, rw));
	g_object_class_install_property(object_class, PROP_PUBLISHED,
					g_param_spec_uint64("published", "Published",
							    "Buffers published", 0, G_MAXUINT64, 0,
							    ro));
	g_object_class_install_property(
		object_class, PROP_COPIES,
		g_param_spec_uint64("copies", "Copies",
				    "Buffers copied into a frame (upstream wrote elsewhere)", 0,
				    G_MAXUINT64, 0, ro));

	gst_element_class_add_static_pad_template(element_class, &sink_template);
	gst_element_class_set_static_metadata(
		element_class, "ksalloc stream sink", "Sink/Video",
		"Publishes buffers into a ksalloc stream, upstream writing into its shared "
		"frames",
		"ksalloc");

	sink_class->start = sink_start;
	sink_class->stop = sink_stop;
	sink_class->set_caps = sink_set_caps;
	sink_class->propose_allocation = sink_propose_allocation;
	sink_class->render = sink_render;
	sink_class->event = sink_event;
	sink_class->unlock = sink_unlock;
	sink_class->unlock_stop = sink_unlock_stop;
}

static void gst_ksalloc_sink_init(GstKsallocSink *self)
{
	g_mutex_init(&self->lock);
	/* The last sample would keep a published frame's buffer, whose frame is the stream's. */
	gst_base_sink_set_last_sample_enabled(GST_BASE_SINK(self), FALSE);
}
