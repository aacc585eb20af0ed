/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ksallocsrc: a consumer of a ksalloc stream. Each frame received becomes a
 * read-only GstBuffer whose memory is the frame itself (a GstFdMemory on the
 * pool's memfd, or the frame's dma-buf), and the frame goes back to the
 * stream when GStreamer frees that memory. The caps are the stream's format,
 * which ksallocsink sets to its caps as a string.
 *
 * Threads: create() runs in the streaming thread; unlock() and unlock_stop()
 * come from the thread that flushes or changes state; frames come back from
 * whichever thread frees the last reference to their memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <gst/allocators/allocators.h>

#include "gst/common.h"
#include "gst/ksallocsrc.h"

#define GST_CAT_DEFAULT ksalloc_gst_debug

/*
 * How often a source started before its stream exists tries to open it
 * again. The daemon has no event for "stream created" to wait on instead.
 */
#define OPEN_RETRY_MS 100

enum {
	PROP_0,
	PROP_STREAM,
	PROP_SOCKET,
	PROP_POLICY,
	PROP_DEPTH,
	PROP_MAX_HELD,
	PROP_IS_LIVE,
};

struct _GstKsallocSrc {
	GstPushSrc parent;

	/* Properties, under the object lock. */
	gchar *stream_name;
	gchar *socket;
	enum ksalloc_stream_policy policy;
	guint depth;
	guint max_held;

	/*
	 * From start() to stop(). The streaming thread owns all but session,
	 * whose pointer and stream unlock() read under lock.
	 */
	gchar *name; /* the stream's, as start() found the property */
	KsallocGstSession *session;
	GstAllocator *fd_allocator;
	GstAllocator *dmabuf_allocator;
	/*
	 * One memory per frame index of pool pool_id, mapped once: each buffer
	 * holds a share of it (mapped through it), so a frame costs no mmap.
	 */
	GPtrArray *memories;
	guint32 pool_id;
	gboolean have_format;
	guint32 format_generation;
	guint64 sequence; /* the last frame's, to count drops */
	gboolean discont; /* a frame was dropped here: the next buffer is DISCONT */

	GstCaps *caps; /* the stream's, once a frame brought them; under the object lock */

	GMutex lock;
	GCond cond;        /* flushing was set, or a frame came back */
	gboolean flushing; /* between unlock() and unlock_stop() */
	guint64 released;  /* frames given back by freed memories, ever */
};

G_DEFINE_TYPE(GstKsallocSrc, gst_ksalloc_src, GST_TYPE_PUSH_SRC)

static GstStaticPadTemplate src_template =
	GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static GQuark frame_quark;

#define GST_TYPE_KSALLOC_SRC_POLICY (gst_ksalloc_src_policy_get_type())
static GType gst_ksalloc_src_policy_get_type(void)
{
	static const GEnumValue values[] = {
		{ KSALLOC_STREAM_BLOCK, "Lossless: the producer waits for room", "block" },
		{ KSALLOC_STREAM_DROP_NEWEST, "A new frame skips a full queue", "drop-newest" },
		{ KSALLOC_STREAM_DROP_OLDEST, "The oldest queued frame makes room", "drop-oldest" },
		{ KSALLOC_STREAM_LATEST, "Only the newest frame waits (previews)", "latest" },
		{ 0, NULL, NULL },
	};
	static gsize type;

	if (g_once_init_enter(&type))
		g_once_init_leave(&type, g_enum_register_static("GstKsallocSrcPolicy", values));
	return type;
}

/*
 * A received frame, out in a GstMemory. It holds the session, so a memory
 * freed after stop() still gives the frame back to its stream, and the
 * element, whose create() may be waiting for a frame to come back.
 */
typedef struct {
	GstKsallocSrc *src;
	KsallocGstSession *session;
	struct ksalloc_frame frame;
} SrcFrame;

static void src_frame_free(gpointer data)
{
	SrcFrame *f = data;
	GstKsallocSrc *src = f->src;
	int r;

	r = ksalloc_stream_release(f->session->stream, &f->frame);
	if (r < 0)
		GST_WARNING_OBJECT(src, "cannot give frame %u back: %s", f->frame.index,
				   g_strerror(-r));
	ksalloc_gst_session_unref(f->session);

	g_mutex_lock(&src->lock);
	src->released++;
	g_cond_broadcast(&src->cond);
	g_mutex_unlock(&src->lock);

	gst_object_unref(src);
	g_free(f);
}

/* ---- opening the stream ----------------------------------------------------------------- */

/* Opens the stream as a consumer; 0, or a negative errno (-ENOENT: not created yet). */
static int src_open_stream(GstKsallocSrc *src)
{
	struct ksalloc_stream_open_options o;
	struct ksalloc_stream *stream;
	int r;

	GST_OBJECT_LOCK(src);
	/* read_only: these frames are only read, whatever rights this user has. */
	o = (struct ksalloc_stream_open_options){ .policy = src->policy,
						  .depth = src->depth,
						  .max_held = src->max_held,
						  .read_only = true };
	GST_OBJECT_UNLOCK(src);

	r = ksalloc_stream_open(src->session->client, src->name, &o, &stream);
	if (r < 0)
		return r;

	/* An unlock() that came before the stream was there still applies to it. */
	g_mutex_lock(&src->lock);
	src->session->stream = stream;
	if (src->flushing)
		ksalloc_stream_set_flushing(stream, true);
	g_mutex_unlock(&src->lock);

	GST_DEBUG_OBJECT(src, "opened ksalloc stream %s (policy %d, depth %u, max-held %u)",
			 src->name, o.policy, o.depth, o.max_held);
	return 0;
}

static void src_open_failed(GstKsallocSrc *src, int r)
{
	GST_ELEMENT_ERROR(src, RESOURCE, OPEN_READ,
			  ("Cannot open ksalloc stream \"%s\": %s", src->name,
			   ksalloc_client_error(src->session->client)),
			  ("ksalloc_stream_open: %s", g_strerror(-r)));
}

/* Sleeps @ms unless unlock() comes first; FALSE when it did. */
static gboolean src_sleep(GstKsallocSrc *src, guint ms)
{
	gint64 end = g_get_monotonic_time() + ms * G_TIME_SPAN_MILLISECOND;
	gboolean flushing;

	g_mutex_lock(&src->lock);
	while (!src->flushing && g_cond_wait_until(&src->cond, &src->lock, end))
		;
	flushing = src->flushing;
	g_mutex_unlock(&src->lock);
	return !flushing;
}

/* A stream start() did not find yet: waits for a producer to create it. */
static GstFlowReturn src_wait_for_stream(GstKsallocSrc *src)
{
	for (;;) {
		int r = src_open_stream(src);

		if (r == 0)
			return GST_FLOW_OK;
		if (r != -ENOENT) {
			src_open_failed(src, r);
			return GST_FLOW_ERROR;
		}
		if (!src_sleep(src, OPEN_RETRY_MS))
			return GST_FLOW_FLUSHING;
	}
}

/* ---- receiving ---------------------------------------------------------------------------- */

/*
 * Waits for a frame out in a memory to come back (downstream held max-held
 * of them), counting from @released; FALSE when unlock() came first.
 */
static gboolean src_wait_released(GstKsallocSrc *src, guint64 released)
{
	gboolean flushing;

	GST_LOG_OBJECT(src, "downstream holds max-held frames: waiting for one back");
	g_mutex_lock(&src->lock);
	while (!src->flushing && src->released == released)
		g_cond_wait(&src->cond, &src->lock);
	flushing = src->flushing;
	g_mutex_unlock(&src->lock);
	return !flushing;
}

/* What ksalloc_stream_receive()'s failure @r means for the pipeline. */
static GstFlowReturn src_receive_failed(GstKsallocSrc *src, int r)
{
	switch (r) {
	case -ECANCELED:
		break;
	case -EPIPE:
		GST_DEBUG_OBJECT(src, "ksalloc stream %s ended", src->name);
		break;
	case -ECONNRESET:
		GST_ELEMENT_ERROR(src, RESOURCE, READ,
				  ("The producer of ksalloc stream \"%s\" is gone", src->name),
				  ("it closed or died without ending the stream"));
		break;
	case -ESHUTDOWN:
		GST_ELEMENT_ERROR(src, RESOURCE, READ,
				  ("ksalloc stream \"%s\" was dropped, or ksallocd is gone",
				   src->name),
				  (NULL));
		break;
	default:
		GST_ELEMENT_ERROR(src, RESOURCE, READ,
				  ("Cannot receive from ksalloc stream \"%s\"", src->name),
				  ("ksalloc_stream_receive: %s", g_strerror(-r)));
		break;
	}
	return ksalloc_gst_flow_from_errno(r);
}

static GstFlowReturn src_receive(GstKsallocSrc *src, struct ksalloc_frame *ret_frame,
				 struct ksalloc_frame_meta *ret_meta)
{
	for (;;) {
		guint64 released;
		int r;

		/* Read before receiving, so a frame coming back meanwhile is not missed. */
		g_mutex_lock(&src->lock);
		released = src->released;
		g_mutex_unlock(&src->lock);

		r = ksalloc_stream_receive(src->session->stream, KSALLOC_INFINITE, ret_frame,
					   ret_meta);
		if (r == 0)
			return GST_FLOW_OK;
		if (r != -EDQUOT)
			return src_receive_failed(src, r);
		if (!src_wait_released(src, released))
			return GST_FLOW_FLUSHING;
	}
}

/* ---- caps --------------------------------------------------------------------------------- */

/* The stream's format as a string and its generation, or NULL (an element error posted). */
static gchar *src_read_format(GstKsallocSrc *src, guint32 *ret_generation)
{
	struct ksalloc_stream *stream = src->session->stream;
	gchar *format = NULL;
	int size, n;

	/* A producer setting a longer format in between: ask again. */
	do {
		g_free(format);
		format = NULL;
		size = ksalloc_stream_get_format(stream, NULL, 0);
		if (size <= 0)
			break;
		format = g_malloc((gsize)size + 1);
		n = ksalloc_stream_get_format_generation(stream, format, (size_t)size,
							 ret_generation);
	} while (n > size);
	if (size > 0 && n > 0) {
		format[n] = '\0';
		return format;
	}
	g_free(format);
	if (size > 0)
		size = n;
	GST_ELEMENT_ERROR(src, STREAM, FORMAT, ("ksalloc stream \"%s\" has no format", src->name),
			  ("ksalloc_stream_get_format: %s", size ? g_strerror(-size) : "none set"));
	return NULL;
}

/* The stream's format as fixed caps and its generation, or NULL (an element error posted). */
static GstCaps *src_read_caps(GstKsallocSrc *src, guint32 *ret_generation)
{
	gchar *format = src_read_format(src, ret_generation);
	GstCaps *caps;

	if (!format)
		return NULL;
	caps = gst_caps_from_string(format);
	if (!caps || !gst_caps_is_fixed(caps)) {
		gchar *escaped = g_strescape(format, NULL);

		GST_ELEMENT_ERROR(
			src, STREAM, FORMAT,
			("The format of ksalloc stream \"%s\" is not fixed GStreamer caps",
			 src->name),
			("format: \"%s\"", escaped));
		g_free(escaped);
		gst_clear_caps(&caps);
	}
	g_free(format);
	return caps;
}

/* The stream's caps, once a frame brought them: a reference, or NULL. */
static GstCaps *src_get_stream_caps(GstKsallocSrc *src)
{
	GstCaps *caps;

	GST_OBJECT_LOCK(src);
	caps = src->caps ? gst_caps_ref(src->caps) : NULL;
	GST_OBJECT_UNLOCK(src);
	return caps;
}

/*
 * Renegotiates before a frame in a new format (TYPECHANGED, or the first) goes out.
 * Returns GST_FLOW_CUSTOM_SUCCESS for a frame whose format the producer replaced before
 * we read it: the stream keeps only the current format, so that frame's caps are gone.
 */
static GstFlowReturn src_update_caps(GstKsallocSrc *src, const struct ksalloc_frame_meta *meta)
{
	guint32 generation = 0;
	GstCaps *caps;
	gboolean ok;

	if (src->have_format && !(meta->options_flags & KSALLOC_FRAME_TYPECHANGED) &&
	    meta->format_generation == src->format_generation)
		return GST_FLOW_OK;
	caps = src_read_caps(src, &generation);
	if (!caps)
		return GST_FLOW_ERROR;
	if (generation != meta->format_generation) {
		GST_DEBUG_OBJECT(src,
				 "frame %" G_GUINT64_FORMAT " is in format %u, replaced by %u "
				 "before it came: dropped",
				 meta->sequence, meta->format_generation, generation);
		gst_caps_unref(caps);
		return GST_FLOW_CUSTOM_SUCCESS;
	}
	GST_DEBUG_OBJECT(src, "ksalloc stream %s: format %u, caps %" GST_PTR_FORMAT, src->name,
			 meta->format_generation, caps);

	/* Stored first: get_caps answers the queries that setting them makes. */
	GST_OBJECT_LOCK(src);
	gst_caps_replace(&src->caps, caps);
	GST_OBJECT_UNLOCK(src);
	ok = gst_base_src_set_caps(GST_BASE_SRC(src), caps);
	gst_caps_unref(caps);
	if (!ok)
		return GST_FLOW_NOT_NEGOTIATED;
	src->have_format = TRUE;
	src->format_generation = meta->format_generation;
	return GST_FLOW_OK;
}

/* ---- frames as memory --------------------------------------------------------------------- */

/*
 * A dma-buf frame as memory of its own: a dup of the pool's fd, which the
 * memory closes, so a share downstream keeps after the stream closed still
 * maps. Not kept mapped: CPU access to a dma-buf is bracketed by syncs.
 */
static GstMemory *src_new_dmabuf_memory(GstKsallocSrc *src, const struct ksalloc_frame *frame)
{
	int fd = fcntl(frame->dmabuf_fd, F_DUPFD_CLOEXEC, 3);
	GstMemory *mem = NULL;

	if (fd >= 0)
		mem = gst_dmabuf_allocator_alloc_with_flags(src->dmabuf_allocator, fd, frame->size,
							    GST_FD_MEMORY_FLAG_NONE);
	if (!mem) {
		GST_ELEMENT_ERROR(src, RESOURCE, READ,
				  ("Cannot take frame %u of ksalloc stream \"%s\"", frame->index,
				   src->name),
				  ("%s", fd < 0 ? g_strerror(errno) : "not a dma-buf"));
		if (fd >= 0)
			close(fd);
	}
	return mem;
}

/*
 * A memfd frame as memory: the pool's memfd from its start to the frame's
 * end, resized to the frame (GstFdMemory has no offset of its own). Mapped
 * here, once, while the pool's fd is surely open, and kept mapped: neither
 * its shares nor a later map need the fd again.
 */
static GstMemory *src_new_memfd_memory(GstKsallocSrc *src, const struct ksalloc_frame *frame)
{
	struct ksalloc_pool *pool = ksalloc_stream_get_pool(src->session->stream);
	GstMemory *mem;
	GstMapInfo map;
	uint64_t offset;
	int fd, r;

	r = ksalloc_pool_get_memfd(pool, frame, &fd, &offset);
	if (r < 0 || offset > G_MAXSIZE - frame->size) {
		GST_ELEMENT_ERROR(src, RESOURCE, READ,
				  ("Cannot take frame %u of ksalloc stream \"%s\"", frame->index,
				   src->name),
				  ("ksalloc_pool_get_memfd: %s",
				   r < 0 ? g_strerror(-r) : "offset out of range"));
		return NULL;
	}
	mem = gst_fd_allocator_alloc(src->fd_allocator, fd, (gsize)offset + frame->size,
				     GST_FD_MEMORY_FLAG_KEEP_MAPPED |
					     GST_FD_MEMORY_FLAG_DONT_CLOSE);
	if (mem)
		gst_memory_resize(mem, (gssize)offset, frame->size);
	if (!mem || !gst_memory_map(mem, &map, GST_MAP_READ)) {
		GST_ELEMENT_ERROR(src, RESOURCE, READ,
				  ("Cannot map frame %u of ksalloc stream \"%s\"", frame->index,
				   src->name),
				  (NULL));
		if (mem)
			gst_memory_unref(mem);
		return NULL;
	}
	gst_memory_unmap(mem, &map);
	return mem;
}

/*
 * The cached memory of @frame's index, made on first use; the cache starts
 * over when the frames come from another pool. NULL: an element error.
 */
static GstMemory *src_frame_memory(GstKsallocSrc *src, const struct ksalloc_frame *frame)
{
	GstMemory *mem;

	if (frame->pool_id != src->pool_id && src->memories->len) {
		GST_DEBUG_OBJECT(src, "frames from pool %u now, not %u", frame->pool_id,
				 src->pool_id);
		g_ptr_array_set_size(src->memories, 0);
	}
	src->pool_id = frame->pool_id;
	if (frame->index >= src->memories->len)
		g_ptr_array_set_size(src->memories, (gint)frame->index + 1);
	mem = g_ptr_array_index(src->memories, frame->index);
	if (mem)
		return mem;

	if (frame->dmabuf_fd >= 0)
		mem = src_new_dmabuf_memory(src, frame);
	else
		mem = src_new_memfd_memory(src, frame);
	if (!mem)
		return NULL;
	GST_MINI_OBJECT_FLAG_SET(mem, GST_MEMORY_FLAG_READONLY);
	g_ptr_array_index(src->memories, frame->index) = mem;
	return mem;
}

/* Bytes of the frame that hold data: data_used, unless unset or beyond the frame. */
static gsize frame_data_size(const struct ksalloc_frame *frame,
			     const struct ksalloc_frame_meta *meta)
{
	if (meta->data_used && meta->data_used <= frame->size)
		return meta->data_used;
	return frame->size;
}

static void src_log_drops(GstKsallocSrc *src, const struct ksalloc_frame_meta *meta)
{
	if (meta->options_flags & KSALLOC_FRAME_DATADISCONTINUITY)
		GST_DEBUG_OBJECT(src,
				 "frames were dropped before frame %" G_GUINT64_FORMAT
				 " (the last was %" G_GUINT64_FORMAT "): DISCONT",
				 meta->sequence, src->sequence);
	src->sequence = meta->sequence;
}

/*
 * @frame as a buffer: a share of its cached memory, which gives the frame
 * back when freed. The frame travels with the memory rather than the buffer
 * so that a buffer copied to be made writable, which shares the memory,
 * still holds it. (A share of a part of it, as gst_buffer_copy_region()
 * makes, refers to the cached memory instead and does not.) On failure the
 * frame is still the caller's.
 */
static GstFlowReturn src_wrap_frame(GstKsallocSrc *src, const struct ksalloc_frame *frame,
				    const struct ksalloc_frame_meta *meta, GstBuffer **ret_buf)
{
	GstMemory *parent = src_frame_memory(src, frame), *mem;
	SrcFrame *f;

	if (!parent)
		return GST_FLOW_ERROR;
	mem = gst_memory_share(parent, 0, (gssize)frame_data_size(frame, meta));
	GST_MINI_OBJECT_FLAG_SET(mem, GST_MEMORY_FLAG_READONLY);

	f = g_new(SrcFrame, 1);
	*f = (SrcFrame){ .src = gst_object_ref(src),
			 .session = ksalloc_gst_session_ref(src->session),
			 .frame = *frame };
	gst_mini_object_set_qdata(GST_MINI_OBJECT_CAST(mem), frame_quark, f, src_frame_free);

	*ret_buf = gst_buffer_new();
	gst_buffer_append_memory(*ret_buf, mem);
	ksalloc_gst_buffer_set_meta(*ret_buf, meta);
	src_log_drops(src, meta);
	return GST_FLOW_OK;
}

/* ---- GstPushSrc and GstBaseSrc ------------------------------------------------------------ */

static GstFlowReturn gst_ksalloc_src_create(GstPushSrc *push, GstBuffer **ret_buf)
{
	GstKsallocSrc *src = GST_KSALLOC_SRC(push);
	struct ksalloc_frame_meta meta;
	struct ksalloc_frame frame;
	GstFlowReturn ret;

	if (!src->session->stream) {
		ret = src_wait_for_stream(src);
		if (ret != GST_FLOW_OK)
			return ret;
	}
	for (;;) {
		ret = src_receive(src, &frame, &meta);
		if (ret != GST_FLOW_OK)
			return ret;
		ret = src_update_caps(src, &meta);
		if (ret == GST_FLOW_OK)
			ret = src_wrap_frame(src, &frame, &meta, ret_buf);
		if (ret == GST_FLOW_OK)
			break;
		ksalloc_stream_release(src->session->stream, &frame);
		if (ret != GST_FLOW_CUSTOM_SUCCESS)
			return ret;
		/* A frame dropped for its lost format: the next one follows a gap. */
		src->discont = TRUE;
	}
	if (src->discont)
		GST_BUFFER_FLAG_SET(*ret_buf, GST_BUFFER_FLAG_DISCONT);
	src->discont = FALSE;
	return GST_FLOW_OK;
}

/* The memory cache's free function: indices never received have none. */
static void memory_unref(gpointer mem)
{
	if (mem)
		gst_memory_unref(mem);
}

/* Undoes start(), also a start() that failed half-way. */
static void src_teardown(GstKsallocSrc *src)
{
	KsallocGstSession *session;

	g_clear_pointer(&src->memories, g_ptr_array_unref);
	gst_clear_object(&src->fd_allocator);
	gst_clear_object(&src->dmabuf_allocator);

	/* Buffers still out hold the session, and close it when the last goes. */
	g_mutex_lock(&src->lock);
	session = src->session;
	src->session = NULL;
	g_mutex_unlock(&src->lock);
	ksalloc_gst_session_unref(session);

	GST_OBJECT_LOCK(src);
	gst_clear_caps(&src->caps);
	GST_OBJECT_UNLOCK(src);
	g_clear_pointer(&src->name, g_free);
	src->have_format = FALSE;
	src->discont = FALSE;
	src->sequence = 0;
}

static gboolean gst_ksalloc_src_start(GstBaseSrc *bsrc)
{
	GstKsallocSrc *src = GST_KSALLOC_SRC(bsrc);
	KsallocGstSession *session;
	GError *err = NULL;
	gchar *socket;
	int r;

	GST_OBJECT_LOCK(src);
	src->name = g_strdup(src->stream_name);
	socket = g_strdup(src->socket);
	GST_OBJECT_UNLOCK(src);
	if (!src->name) {
		GST_ELEMENT_ERROR(src, RESOURCE, NOT_FOUND, ("No ksalloc stream given"),
				  ("set the stream property"));
		g_free(socket);
		return FALSE;
	}

	session = ksalloc_gst_session_new(socket, GST_OBJECT_NAME(src), &err);
	g_free(socket);
	if (!session) {
		GST_ELEMENT_ERROR(src, RESOURCE, OPEN_READ_WRITE, ("%s", err->message), (NULL));
		g_error_free(err);
		g_clear_pointer(&src->name, g_free);
		return FALSE;
	}
	g_mutex_lock(&src->lock);
	src->session = session;
	g_mutex_unlock(&src->lock);
	src->fd_allocator = gst_fd_allocator_new();
	src->dmabuf_allocator = gst_dmabuf_allocator_new();
	src->memories = g_ptr_array_new_with_free_func(memory_unref);

	r = src_open_stream(src);
	if (r == -ENOENT) {
		GST_INFO_OBJECT(src, "no ksalloc stream %s yet: waiting for its producer",
				src->name);
	} else if (r < 0) {
		src_open_failed(src, r);
		src_teardown(src);
		return FALSE;
	}
	return TRUE;
}

static gboolean gst_ksalloc_src_stop(GstBaseSrc *bsrc)
{
	src_teardown(GST_KSALLOC_SRC(bsrc));
	return TRUE;
}

/* Wakes create() wherever it waits: for the stream, for a frame, or for one back. */
static gboolean gst_ksalloc_src_unlock(GstBaseSrc *bsrc)
{
	GstKsallocSrc *src = GST_KSALLOC_SRC(bsrc);

	g_mutex_lock(&src->lock);
	src->flushing = TRUE;
	ksalloc_gst_session_set_flushing(src->session, TRUE);
	g_cond_broadcast(&src->cond);
	g_mutex_unlock(&src->lock);
	return TRUE;
}

static gboolean gst_ksalloc_src_unlock_stop(GstBaseSrc *bsrc)
{
	GstKsallocSrc *src = GST_KSALLOC_SRC(bsrc);

	g_mutex_lock(&src->lock);
	src->flushing = FALSE;
	ksalloc_gst_session_set_flushing(src->session, FALSE);
	g_mutex_unlock(&src->lock);
	return TRUE;
}

/* Before the first frame the caps are unknown: nothing to negotiate yet, and no failure. */
static gboolean gst_ksalloc_src_negotiate(GstBaseSrc *bsrc)
{
	GstCaps *caps = src_get_stream_caps(GST_KSALLOC_SRC(bsrc));
	gboolean ok;

	if (!caps) {
		GST_DEBUG_OBJECT(bsrc, "no caps before the first frame");
		return TRUE;
	}
	ok = gst_base_src_set_caps(bsrc, caps);
	gst_caps_unref(caps);
	return ok;
}

static GstCaps *gst_ksalloc_src_get_caps(GstBaseSrc *bsrc, GstCaps *filter)
{
	GstCaps *caps = src_get_stream_caps(GST_KSALLOC_SRC(bsrc)), *filtered;

	if (!caps)
		return GST_BASE_SRC_CLASS(gst_ksalloc_src_parent_class)->get_caps(bsrc, filter);
	if (!filter)
		return caps;
	filtered = gst_caps_intersect_full(filter, caps, GST_CAPS_INTERSECT_FIRST);
	gst_caps_unref(caps);
	return filtered;
}

/* ---- GObject ------------------------------------------------------------------------------ */

static void gst_ksalloc_src_set_property(GObject *object, guint prop_id, const GValue *value,
					 GParamSpec *pspec)
{
	GstKsallocSrc *src = GST_KSALLOC_SRC(object);

	GST_OBJECT_LOCK(src);
	switch (prop_id) {
	case PROP_STREAM:
		g_free(src->stream_name);
		src->stream_name = g_value_dup_string(value);
		break;
	case PROP_SOCKET:
		g_free(src->socket);
		src->socket = g_value_dup_string(value);
		break;
	case PROP_POLICY:
		src->policy = (enum ksalloc_stream_policy)g_value_get_enum(value);
		break;
	case PROP_DEPTH:
		src->depth = g_value_get_uint(value);
		break;
	case PROP_MAX_HELD:
		src->max_held = g_value_get_uint(value);
		break;
	case PROP_IS_LIVE:
		/* Takes the object lock itself. */
		GST_OBJECT_UNLOCK(src);
		gst_base_src_set_live(GST_BASE_SRC(src), g_value_get_boolean(value));
		return;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
	GST_OBJECT_UNLOCK(src);
}

static void gst_ksalloc_src_get_property(GObject *object, guint prop_id, GValue *value,
					 GParamSpec *pspec)
{
	GstKsallocSrc *src = GST_KSALLOC_SRC(object);

	if (prop_id == PROP_IS_LIVE) {
		g_value_set_boolean(value, gst_base_src_is_live(GST_BASE_SRC(src)));
		return;
	}
	GST_OBJECT_LOCK(src);
	switch (prop_id) {
	case PROP_STREAM:
		g_value_set_string(value, src->stream_name);
		break;
	case PROP_SOCKET:
		g_value_set_string(value, src->socket);
		break;
	case PROP_POLICY:
		g_value_set_enum(value, (gint)src->policy);
		break;
	case PROP_DEPTH:
		g_value_set_uint(value, src->depth);
		break;
	case PROP_MAX_HELD:
		g_value_set_uint(value, src->max_held);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
	GST_OBJECT_UNLOCK(src);
}

static void gst_ksalloc_src_finalize(GObject *object)
{
	GstKsallocSrc *src = GST_KSALLOC_SRC(object);

	g_free(src->stream_name);
	g_free(src->socket);
	g_mutex_clear(&src->lock);
	g_cond_clear(&src->cond);
	G_OBJECT_CLASS(gst_ksalloc_src_parent_class)->finalize(object);
}

static void src_install_properties(GObjectClass *gobject_class)
{
	const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
				  GST_PARAM_MUTABLE_READY;

	g_object_class_install_property(gobject_class, PROP_STREAM,
					g_param_spec_string("stream", "Stream",
							    "Name of the ksalloc stream to consume",
							    NULL, flags));
	g_object_class_install_property(
		gobject_class, PROP_SOCKET,
		g_param_spec_string("socket", "Socket",
				    "ksallocd's socket (NULL: $KSALLOC_SOCKET, else the default)",
				    NULL, flags));
	g_object_class_install_property(
		gobject_class, PROP_POLICY,
		g_param_spec_enum("policy", "Policy",
				  "What the producer does when this consumer's queue is full",
				  GST_TYPE_KSALLOC_SRC_POLICY, KSALLOC_STREAM_BLOCK, flags));
	g_object_class_install_property(
		gobject_class, PROP_DEPTH,
		g_param_spec_uint("depth", "Depth",
				  "Frames queued for this consumer at most (0: the library's, 4)",
				  0, KSALLOC_STREAM_DEPTH_MAX, 0, flags));
	g_object_class_install_property(
		gobject_class, PROP_MAX_HELD,
		g_param_spec_uint("max-held", "Max held",
				  "Frames downstream may hold at once (0: the library's, 8); "
				  "below what downstream keeps (a sink keeps its last buffer) "
				  "the pipeline stalls",
				  0, G_MAXUINT32, 0, flags));
	g_object_class_install_property(gobject_class, PROP_IS_LIVE,
					g_param_spec_boolean("is-live", "Is live",
							     "Act as a live source", FALSE, flags));
}

static void gst_ksalloc_src_class_init(GstKsallocSrcClass *klass)
{
	GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
	GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
	GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS(klass);
	GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS(klass);

	frame_quark = g_quark_from_static_string("GstKsallocSrcFrame");

	gobject_class->set_property = gst_ksalloc_src_set_property;
	gobject_class->get_property = gst_ksalloc_src_get_property;
	gobject_class->finalize = gst_ksalloc_src_finalize;
	src_install_properties(gobject_class);

	gst_element_class_add_static_pad_template(element_class, &src_template);
	gst_element_class_set_static_metadata(
		element_class, "ksalloc stream source", "Source",
		"Receives the frames of a ksalloc stream from another process, without a copy",
		"ksalloc");

	basesrc_class->start = GST_DEBUG_FUNCPTR(gst_ksalloc_src_start);
	basesrc_class->stop = GST_DEBUG_FUNCPTR(gst_ksalloc_src_stop);
	basesrc_class->unlock = GST_DEBUG_FUNCPTR(gst_ksalloc_src_unlock);
	basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR(gst_ksalloc_src_unlock_stop);
	basesrc_class->negotiate = GST_DEBUG_FUNCPTR(gst_ksalloc_src_negotiate);
	basesrc_class->get_caps = GST_DEBUG_FUNCPTR(gst_ksalloc_src_get_caps);
	pushsrc_class->create = GST_DEBUG_FUNCPTR(gst_ksalloc_src_create);

	gst_type_mark_as_plugin_api(GST_TYPE_KSALLOC_SRC_POLICY, 0);
}

static void gst_ksalloc_src_init(GstKsallocSrc *src)
{
	g_mutex_init(&src->lock);
	g_cond_init(&src->cond);
	src->policy = KSALLOC_STREAM_BLOCK;
	gst_base_src_set_format(GST_BASE_SRC(src), GST_FORMAT_TIME);
}
