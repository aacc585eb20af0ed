/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One GstBuffer per frame, built the first time its frame is acquired and kept
 * while it comes back. A published frame can be acquired again (its consumers
 * released it) before GStreamer returned the buffer that carried it: such an
 * acquire gets a new buffer for the frame, and the buffer that comes back last
 * is dropped.
 */
#include <errno.h>

#include <gst/allocators/gstdmabuf.h>
#include <gst/video/video.h>

#include "gst/ksallocpool.h"

#define GST_CAT_DEFAULT ksalloc_gst_debug

/* What a buffer of the pool carries: its frame, and whether the stream has it now. */
typedef struct {
	struct ksalloc_frame frame;
	GstMemory *memory; /* the frame's, as the buffer was made with it (a reference) */
	gboolean given;
} FrameState;

struct _GstKsallocBufferPool {
	GstBufferPool parent;
	KsallocGstSession *session;
	GstAllocator *dmabuf_allocator;
	guint size;       /* the configured buffer size: at most the frame size */
	GMutex lock;      /* idle */
	GstBuffer **idle; /* per frame index: its buffer, back and unused */
	guint n_frames;
};

G_DEFINE_TYPE(GstKsallocBufferPool, gst_ksalloc_buffer_pool, GST_TYPE_BUFFER_POOL)

static GQuark frame_quark;

static void frame_state_free(FrameState *state)
{
	gst_memory_unref(state->memory);
	g_free(state);
}

static FrameState *frame_state(GstBuffer *buffer)
{
	return gst_mini_object_get_qdata(GST_MINI_OBJECT(buffer), frame_quark);
}

static const gchar **pool_get_options(GstBufferPool *pool)
{
	static const gchar *options[] = { GST_BUFFER_POOL_OPTION_VIDEO_META, NULL };

	return options;
}

static gboolean pool_set_config(GstBufferPool *pool, GstStructure *config)
{
	GstKsallocBufferPool *self = GST_KSALLOC_BUFFER_POOL(pool);
	const struct ksalloc_pool_info *info = ksalloc_pool_get_info(self->session->pool);
	guint size, min, max;

	if (!gst_buffer_pool_config_get_params(config, NULL, &size, &min, &max))
		return FALSE;
	if (size > info->status.framing.frame_size) {
		GST_WARNING_OBJECT(pool, "buffers of %u bytes do not fit pool %s's frames of %u",
				   size, info->name, info->status.framing.frame_size);
		return FALSE;
	}
	/* Never more buffers than frames: a bounded pool, never a fallback to other memory. */
	if (max == 0 || max > info->status.framing.frames)
		max = info->status.framing.frames;
	gst_buffer_pool_config_set_params(config, NULL, size, MIN(min, max), max);
	self->size = size;
	return GST_BUFFER_POOL_CLASS(gst_ksalloc_buffer_pool_parent_class)->set_config(pool, config);
}

/* Frames are acquired one at a time as upstream asks: nothing to allocate up front. */
static gboolean pool_start(GstBufferPool *pool)
{
	return TRUE;
}

static gboolean pool_stop(GstBufferPool *pool)
{
	GstKsallocBufferPool *self = GST_KSALLOC_BUFFER_POOL(pool);

	g_mutex_lock(&self->lock);
	for (guint i = 0; i < self->n_frames; i++)
		gst_clear_buffer(&self->idle[i]);
	g_mutex_unlock(&self->lock);
	return TRUE;
}

static GstMemory *frame_memory(GstKsallocBufferPool *self, const struct ksalloc_frame *f)
{
	if (f->dmabuf_fd >= 0)
		return gst_dmabuf_allocator_alloc_with_flags(
			self->dmabuf_allocator, f->dmabuf_fd, f->size,
			GST_FD_MEMORY_FLAG_KEEP_MAPPED | GST_FD_MEMORY_FLAG_DONT_CLOSE);
	return gst_memory_new_wrapped(0, f->data, f->size, 0, f->size, NULL, NULL);
}

/* The buffer for frame @f: its idle one, or a new one (see the top). */
static GstBuffer *frame_buffer(GstKsallocBufferPool *self, const struct ksalloc_frame *f)
{
	GstBuffer *buffer = NULL;
	FrameState *state;

	g_mutex_lock(&self->lock);
	if (f->index < self->n_frames)
		buffer = g_steal_pointer(&self->idle[f->index]);
	g_mutex_unlock(&self->lock);
	/* A buffer of the frame from before the daemon came back maps the old memory. */
	if (buffer && frame_state(buffer)->frame.pool_id != f->pool_id)
		gst_clear_buffer(&buffer);
	if (buffer) {
		state = frame_state(buffer);
		state->frame = *f;
		state->given = FALSE;
		return buffer;
	}
	buffer = gst_buffer_new();
	state = g_new0(FrameState, 1);
	state->frame = *f;
	state->memory = frame_memory(self, f);
	gst_buffer_append_memory(buffer, gst_memory_ref(state->memory));
	gst_buffer_resize(buffer, 0, self->size);
	/* The state keeps its own reference: what it compares with stays that memory. */
	gst_mini_object_set_qdata(GST_MINI_OBJECT(buffer), frame_quark, state,
				  (GDestroyNotify)frame_state_free);
	return buffer;
}

static GstFlowReturn pool_acquire_buffer(GstBufferPool *pool, GstBuffer **ret_buffer,
					 GstBufferPoolAcquireParams *params)
{
	GstKsallocBufferPool *self = GST_KSALLOC_BUFFER_POOL(pool);
	gboolean dontwait = params && (params->flags & GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT);
	struct ksalloc_frame f;
	int r;

	r = ksalloc_pool_acquire(self->session->pool, dontwait ? 0 : KSALLOC_INFINITE, &f);
	if (r == -ETIMEDOUT && dontwait)
		return GST_FLOW_EOS; /* as GstBufferPool says "no buffer now" */
	if (r == -ECANCELED)
		return GST_FLOW_FLUSHING;
	if (r < 0) {
		GST_ERROR_OBJECT(pool, "cannot acquire a frame of pool %s: %s",
				 ksalloc_pool_get_info(self->session->pool)->name,
				 ksalloc_client_error(self->session->client));
		return GST_FLOW_ERROR;
	}
	*ret_buffer = frame_buffer(self, &f);
	return GST_FLOW_OK;
}

static void pool_release_buffer(GstBufferPool *pool, GstBuffer *buffer)
{
	GstKsallocBufferPool *self = GST_KSALLOC_BUFFER_POOL(pool);
	FrameState *state = frame_state(buffer);
	guint index = state->frame.index;
	int r;

	if (!state->given) {
		r = ksalloc_pool_release(self->session->pool, &state->frame);
		/* -ESTALE: its daemon is gone, and the frame with it. */
		if (r < 0 && r != -ESTALE)
			GST_WARNING_OBJECT(pool, "frame %u not released: %s", index,
					   g_strerror(-r));
	}
	/* Kept only with its memory as made: upstream may have replaced or resized it. */
	if (GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_TAG_MEMORY) ||
	    gst_buffer_n_memory(buffer) != 1 ||
	    gst_buffer_peek_memory(buffer, 0) != state->memory) {
		gst_buffer_unref(buffer);
		return;
	}
	g_mutex_lock(&self->lock);
	if (index < self->n_frames && !self->idle[index]) {
		self->idle[index] = buffer;
		buffer = NULL;
	}
	g_mutex_unlock(&self->lock);
	if (buffer)
		gst_buffer_unref(buffer);
}

static void pool_flush_start(GstBufferPool *pool)
{
	ksalloc_pool_set_flushing(GST_KSALLOC_BUFFER_POOL(pool)->session->pool, true);
}

static void pool_flush_stop(GstBufferPool *pool)
{
	ksalloc_pool_set_flushing(GST_KSALLOC_BUFFER_POOL(pool)->session->pool, false);
}

static void pool_finalize(GObject *object)
{
	GstKsallocBufferPool *self = GST_KSALLOC_BUFFER_POOL(object);

	pool_stop(GST_BUFFER_POOL(self));
	g_free(self->idle);
	g_mutex_clear(&self->lock);
	gst_object_unref(self->dmabuf_allocator);
	ksalloc_gst_session_unref(self->session);
	G_OBJECT_CLASS(gst_ksalloc_buffer_pool_parent_class)->finalize(object);
}

static void gst_ksalloc_buffer_pool_class_init(GstKsallocBufferPoolClass *klass)
{
	GstBufferPoolClass *pool_class = GST_BUFFER_POOL_CLASS(klass);

	frame_quark = g_quark_from_static_string("ksalloc-frame");
	G_OBJECT_CLASS(klass)->finalize = pool_finalize;
	pool_class->get_options = pool_get_options;
	pool_class->set_config = pool_set_config;
	pool_class->start = pool_start;
	pool_class->stop = pool_stop;
	pool_class->acquire_buffer = pool_acquire_buffer;
	pool_class->release_buffer = pool_release_buffer;
	pool_class->flush_start = pool_flush_start;
	pool_class->flush_stop = pool_flush_stop;
}

static void gst_ksalloc_buffer_pool_init(GstKsallocBufferPool *self)
{
	g_mutex_init(&self->lock);
}

GstBufferPool *gst_ksalloc_buffer_pool_new(KsallocGstSession *session)
{
	GstKsallocBufferPool *self = g_object_new(GST_TYPE_KSALLOC_BUFFER_POOL, NULL);
	const struct ksalloc_pool_info *info = ksalloc_pool_get_info(session->pool);

	/* A floating reference, as gst_buffer_pool_new() gives none: the caller's own. */
	gst_object_ref_sink(self);
	self->session = ksalloc_gst_session_ref(session);
	self->dmabuf_allocator = gst_dmabuf_allocator_new();
	self->n_frames = info->status.framing.frames;
	self->size = info->status.framing.frame_size;
	self->idle = g_new0(GstBuffer *, self->n_frames);
	gst_object_set_name(GST_OBJECT(self), info->name);
	return GST_BUFFER_POOL(self);
}

gboolean gst_ksalloc_buffer_pool_get_frame(GstBufferPool *pool, GstBuffer *buffer,
					   struct ksalloc_frame *ret_frame)
{
	FrameState *state;

	if (buffer->pool != pool || !(state = frame_state(buffer)) ||
	    gst_buffer_n_memory(buffer) != 1 || gst_buffer_peek_memory(buffer, 0) != state->memory)
		return FALSE;
	*ret_frame = state->frame;
	return TRUE;
}

void gst_ksalloc_buffer_pool_frame_given(GstBuffer *buffer)
{
	frame_state(buffer)->given = TRUE;
}
