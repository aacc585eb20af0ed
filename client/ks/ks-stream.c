/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Streams, the KS way: KsCreateStream() makes an allocator object (object.h) a stream's
 * producer, KsOpenStream() makes one that consumes, and frames travel with KSSTREAM_HEADERs
 * (KsStreamDeliver(), KsStreamReceive()) or as IMediaSamples (KsStreamReceiveSample(), whose
 * samples are ks-memallocator.c's). Like the rest of the shim it translates: headers to and
 * from struct ksalloc_frame_meta, errno to HRESULT.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <ksalloc/ksalloc.h>
#include <ksalloc/ksproxy.h>

#include "client/ks/ks-allocator.h"
#include "client/ks/ks-memallocator.h"
#include "client/ks/object.h"
#include "proto/hresult.h"

/* The KS names and values are the native ones: a header's flags are copied as they are. */
KSALLOC_STATIC_ASSERT(KSSTREAM_HEADER_OPTIONSF_SPLICEPOINT == KSALLOC_FRAME_SPLICEPOINT, "");
KSALLOC_STATIC_ASSERT(KSSTREAM_HEADER_OPTIONSF_PREROLL == KSALLOC_FRAME_PREROLL, "");
KSALLOC_STATIC_ASSERT(KSSTREAM_HEADER_OPTIONSF_DATADISCONTINUITY == KSALLOC_FRAME_DATADISCONTINUITY,
		      "");
KSALLOC_STATIC_ASSERT(KSSTREAM_HEADER_OPTIONSF_TYPECHANGED == KSALLOC_FRAME_TYPECHANGED, "");
KSALLOC_STATIC_ASSERT(KSSTREAM_HEADER_OPTIONSF_TIMEVALID == KSALLOC_FRAME_TIMEVALID, "");
KSALLOC_STATIC_ASSERT(KSSTREAM_HEADER_OPTIONSF_TIMEDISCONTINUITY == KSALLOC_FRAME_TIMEDISCONTINUITY,
		      "");
KSALLOC_STATIC_ASSERT(KSSTREAM_HEADER_OPTIONSF_DURATIONVALID == KSALLOC_FRAME_DURATIONVALID, "");
KSALLOC_STATIC_ASSERT(KSSTREAM_HEADER_OPTIONSF_ENDOFSTREAM == KSALLOC_FRAME_ENDOFSTREAM, "");
KSALLOC_STATIC_ASSERT(KsStreamPolicy_Block == (int)KSALLOC_STREAM_BLOCK, "");
KSALLOC_STATIC_ASSERT(KsStreamPolicy_DropNewest == (int)KSALLOC_STREAM_DROP_NEWEST, "");
KSALLOC_STATIC_ASSERT(KsStreamPolicy_DropOldest == (int)KSALLOC_STREAM_DROP_OLDEST, "");
KSALLOC_STATIC_ASSERT(KsStreamPolicy_Latest == (int)KSALLOC_STREAM_LATEST, "");

/* The errnos of the stream calls that proto/hresult's table has no row of its own for. */
static HRESULT stream_result(int r)
{
	switch (r) {
	case -EAGAIN:
		/* Receive with a timeout of 0: as KsAllocateFrame's NOWAIT, a timeout. */
		return VFW_E_TIMEOUT;
	case -ECONNRESET:
		/* The producer went without ending the stream: its pipe broke. */
		return HRESULT_FROM_WIN32(ERROR_BROKEN_PIPE);
	default:
		return hresult_from_errno(r);
	}
}

static struct ksalloc_frame frame_from_ks(const KSALLOC_FRAME *f)
{
	return (struct ksalloc_frame){
		.data = f->Data,
		.size = f->Size,
		.index = f->Index,
		.generation = f->Generation,
		.pool_id = f->PoolId,
		.dmabuf_fd = f->DmaBufFd,
		.access = f->Access,
	};
}

static KSALLOC_FRAME frame_to_ks(const struct ksalloc_frame *f)
{
	return (KSALLOC_FRAME){
		.Data = f->data,
		.Size = f->size,
		.Index = f->index,
		.Generation = f->generation,
		.PoolId = f->pool_id,
		.DmaBufFd = f->dmabuf_fd,
		.Access = f->access,
	};
}

KSALLOC_EXPORT HRESULT KsCreateStream(IKsAllocatorEx *Allocator, const char *StreamName)
{
	struct ksalloc_stream *stream = NULL;
	struct ks_allocator *a;
	HRESULT hr;

	if (!Allocator || !StreamName)
		return E_POINTER;
	a = ks_allocator_from_iface(Allocator);
	pthread_mutex_lock(&a->lock);
	if (a->stream) {
		hr = VFW_E_WRONG_STATE; /* it produces into a stream, or consumes from one */
	} else {
		hr = stream_result(ksalloc_stream_create(a->pool, StreamName, NULL, &stream));
		if (SUCCEEDED(hr))
			a->stream = stream;
	}
	pthread_mutex_unlock(&a->lock);
	return hr;
}

KSALLOC_EXPORT HRESULT KsOpenStream(const char *StreamName, const KSALLOC_STREAM_OPTIONS *Options,
				    IKsAllocatorEx **Allocator)
{
	struct ksalloc_stream_open_options opts = { 0 };
	struct ks_allocator *a;
	int r;

	if (!Allocator)
		return E_POINTER;
	*Allocator = NULL;
	if (!StreamName)
		return E_POINTER;
	if (Options) {
		/* Checked here too: an enum out of range must not reach the native one. */
		if ((uint32_t)Options->Policy > (uint32_t)KsStreamPolicy_Latest)
			return E_INVALIDARG;
		opts = (struct ksalloc_stream_open_options){
			.policy = (enum ksalloc_stream_policy)Options->Policy,
			.depth = Options->Depth,
			.max_held = Options->MaxHeld,
			.read_only = Options->ReadOnly != FALSE,
		};
	}
	r = ks_allocator_new_consumer(StreamName, &opts, &a);
	if (r < 0)
		return stream_result(r);
	ks_allocator_setup(a);
	*Allocator = &a->iface;
	return S_OK;
}

/*
 * Ends @a's stream: the consumers get what was delivered, then the end. Ending it again is no
 * error, as a second end-of-stream packet is none on Windows.
 */
static HRESULT stream_end(struct ks_allocator *a)
{
	int r;

	if (a->consumer || !a->stream)
		return VFW_E_WRONG_STATE;
	r = ksalloc_stream_end(a->stream);
	return r == -EALREADY ? S_OK : stream_result(r);
}

KSALLOC_EXPORT HRESULT KsStreamDeliver(IKsAllocatorEx *Allocator, KSALLOC_FRAME *Frame,
				       const KSSTREAM_HEADER *Header, ULONG TimeoutMs)
{
	struct ksalloc_frame_meta meta;
	struct ksalloc_frame f;
	struct ks_allocator *a;
	bool end;
	int r;

	if (!Allocator || !Header)
		return E_POINTER;
	a = ks_allocator_from_iface(Allocator);
	end = Header->OptionsFlags & KSSTREAM_HEADER_OPTIONSF_ENDOFSTREAM;
	if (!Frame) {
		/* Only a data-less end-of-stream packet comes without a frame. */
		if (!end)
			return E_POINTER;
		if (Header->DataUsed != 0)
			return E_INVALIDARG;
		return stream_end(a);
	}
	/* The header describes this frame, and nothing the stream cannot carry. */
	if (Header->Size != sizeof(KSSTREAM_HEADER) || Header->Data != Frame->Data ||
	    Header->FrameExtent > Frame->Size || Header->DataUsed > Header->FrameExtent)
		return E_INVALIDARG;

	meta = (struct ksalloc_frame_meta){
		.presentation_time = Header->PresentationTime.Time,
		.time_numerator = Header->PresentationTime.Numerator,
		.time_denominator = Header->PresentationTime.Denominator,
		.duration = Header->Duration,
		.data_used = Header->DataUsed,
		.options_flags = Header->OptionsFlags,
		.type_specific_flags = Header->TypeSpecificFlags,
	};
	if (a->consumer || !a->stream)
		return VFW_E_WRONG_STATE;
	f = frame_from_ks(Frame);
	/* INFINITE and KSALLOC_INFINITE are the same all-ones value. */
	r = ks_allocator_publish(a, &f, &meta, TimeoutMs);
	if (r < 0)
		return stream_result(r);
	/*
	 * The native publish ends the stream after a frame with ENDOFSTREAM itself; ending it
	 * here as well makes sure of it (an end already made is no error).
	 */
	if (end)
		return stream_end(a);
	return r > 0 ? S_OK : S_FALSE;
}

/* The header a consumer sees: the producer's, with this process's Data and FrameExtent. */
static void header_from_meta(const struct ksalloc_frame *f, const struct ksalloc_frame_meta *meta,
			     KSSTREAM_HEADER *h)
{
	memset(h, 0, sizeof(*h));
	h->Size = sizeof(KSSTREAM_HEADER);
	h->TypeSpecificFlags = meta->type_specific_flags;
	h->PresentationTime.Time = meta->presentation_time;
	h->PresentationTime.Numerator = meta->time_numerator;
	h->PresentationTime.Denominator = meta->time_denominator;
	h->Duration = meta->duration;
	h->FrameExtent = f->size;
	h->DataUsed = meta->data_used;
	h->Data = f->data;
	h->OptionsFlags = meta->options_flags;
}

/* The data-less packet that reports the end of the stream, and no frame. */
static void end_of_stream(KSALLOC_FRAME *Frame, KSSTREAM_HEADER *Header)
{
	if (Header) {
		memset(Header, 0, sizeof(*Header));
		Header->Size = sizeof(KSSTREAM_HEADER);
		Header->OptionsFlags = KSSTREAM_HEADER_OPTIONSF_ENDOFSTREAM;
	}
	if (Frame) {
		memset(Frame, 0, sizeof(*Frame));
		Frame->DmaBufFd = -1;
	}
}

/*
 * The receive both entry points share: S_OK with the frame and its meta, S_FALSE at the end
 * of the stream, or the failure.
 */
static HRESULT receive(struct ks_allocator *a, ULONG TimeoutMs, struct ksalloc_frame *f,
		       struct ksalloc_frame_meta *meta)
{
	int r;

	if (!a->consumer)
		return VFW_E_WRONG_STATE;
	r = ks_allocator_receive(a, TimeoutMs, f, meta);
	if (r == -EPIPE)
		return S_FALSE; /* the producer ended the stream: once, after its last frame */
	return stream_result(r);
}

KSALLOC_EXPORT HRESULT KsStreamReceive(IKsAllocatorEx *Allocator, ULONG TimeoutMs,
				       KSALLOC_FRAME *Frame, KSSTREAM_HEADER *Header)
{
	struct ksalloc_frame_meta meta;
	struct ksalloc_frame f;
	HRESULT hr;

	if (!Allocator || !Frame || !Header)
		return E_POINTER;
	hr = receive(ks_allocator_from_iface(Allocator), TimeoutMs, &f, &meta);
	if (hr == S_FALSE)
		end_of_stream(Frame, Header);
	if (hr != S_OK)
		return hr;
	*Frame = frame_to_ks(&f);
	header_from_meta(&f, &meta, Header);
	return S_OK;
}

KSALLOC_EXPORT HRESULT KsStreamReceiveSample(IKsAllocatorEx *Allocator, ULONG TimeoutMs,
					     IMediaSample **Sample)
{
	struct ksalloc_frame_meta meta;
	struct ksalloc_frame f;
	struct ks_allocator *a;
	struct ks_sample *s;
	HRESULT hr;

	if (!Sample)
		return E_POINTER;
	*Sample = NULL;
	if (!Allocator)
		return E_POINTER;
	a = ks_allocator_from_iface(Allocator);
	/* Allocated before the frame, so that running out of memory never strands a frame. */
	s = ks_sample_new();
	if (!s)
		return E_OUTOFMEMORY;
	hr = receive(a, TimeoutMs, &f, &meta);
	if (hr != S_OK) {
		ks_sample_free(s);
		return hr;
	}
	*Sample = ks_sample_received(s, a, &f, &meta);
	return S_OK;
}
