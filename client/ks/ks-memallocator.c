/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IMemAllocator over a ksalloc pool, and the IMediaSamples it hands out: the DirectShow side
 * of the allocator object of object.h (whose IKsAllocatorEx side is in ks-allocator.c). Like
 * the rest of the shim it translates: properties to framing, samples to frames, errno to
 * HRESULT.
 *
 * Locking. Any thread may call any method, and GetBuffer and sample releases may run in many
 * threads at once, so:
 * - a->lock serializes the slow calls, SetProperties, GetProperties, Commit and Decommit, which
 *   talk to the daemon or change the granted properties. The frame path never takes it.
 * - a->pool_lock is held shared around every acquire of this object, and exclusively while
 *   Commit reshapes the pool or changes a->in_effect. ksalloc_pool_reshape() maps the pool's new
 *   memory and unmaps the old, which an acquire in flight (perhaps asleep on a futex in that
 *   memory) must not see; and a sample is cut by a->in_effect, read after its acquire.
 * - a->frames_out counts the frames this object holds. It goes up inside the shared hold, after
 *   the acquire, and down only once a release is complete, so Commit, which reads it under the
 *   exclusive hold, never reshapes while a frame of ours is mapped or a release still touches
 *   the mapping. Releases therefore need no lock (they must not take pool_lock: a waiting
 *   writer would stall them, and with them the acquire the writer waits for).
 * - a->committed is this object's view of Commit and Decommit; written under a->lock, read by
 *   GetBuffer without it.
 * - a->notify has its own lock, so that a sample release never waits for a daemon round trip;
 *   it is never held while calling out.
 * Lock order: a->lock before a->pool_lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ksalloc/ksalloc.h>
#include <ksalloc/ksproxy.h>

#include "client/ks/ks-memallocator.h"
#include "client/ks/object.h"
#include "common/macro.h"
#include "proto/hresult.h"

/*
 * How long Commit waits for acquires of this object still in flight (GetBuffer woken by
 * Decommit, KsAllocateFrame) before it reshapes the pool or changes how samples are cut. They
 * return at once when the pool is decommitted, as it must be for a reshape; one still waiting
 * after this long waits on a pool that another session committed again, which the daemon would
 * refuse to reshape anyway: Commit gives up with VFW_E_WRONG_STATE rather than hang.
 */
#define COMMIT_DRAIN_TIMEOUT_MS KSALLOC_DEFAULT_TIMEOUT_MS

struct ks_sample {
	/* First: the interface pointer is the object pointer, an IMediaSample and IMediaSample2. */
	IMediaSample2 iface;
	atomic_uint refs;
	struct ks_allocator *allocator; /* one reference, dropped by ReleaseBuffer */
	struct ksalloc_frame frame;
	BYTE *buffer; /* frame.data + cbPrefix */
	LONG size;
	LONG actual;
	/* The stream's properties: one thread at a time, as Windows' CMediaSample, so no lock. */
	bool time_valid;
	bool stop_valid;
	bool media_time_valid;
	bool sync_point;
	bool preroll;
	bool discontinuity;
	/* IMediaSample2's: what the flags above do not say (AM_SAMPLE_TIMEDISCONTINUITY...). */
	uint32_t other_flags;
	uint32_t type_specific_flags;
	uint32_t stream_id;
	REFERENCE_TIME start;
	REFERENCE_TIME end;
	LONGLONG media_start;
	LONGLONG media_end;
	AM_MEDIA_TYPE *media_type; /* NULL: the format did not change */
};

static const IMediaSample2Vtbl sample_vtbl;

static struct ks_allocator *from_mem(IMemAllocatorCallbackTemp *This)
{
	return ks_allocator_from_mem_iface(This);
}

static struct ks_sample *from_sample(IMediaSample2 *This)
{
	return container_of(This, struct ks_sample, iface);
}

/* The IMediaSample pointer of a sample: the same, its table begins with IMediaSample's. */
static IMediaSample *as_media_sample(struct ks_sample *s)
{
	return (IMediaSample *)&s->iface;
}

/* ---- properties and framing ------------------------------------------------------------- */

/* The properties a pool's framing gives, before any SetProperties: no prefix. */
static ALLOCATOR_PROPERTIES properties_from_framing(const struct ksalloc_framing *f)
{
	return (ALLOCATOR_PROPERTIES){
		.cBuffers = (LONG)f->frames,
		.cbBuffer = (LONG)f->frame_size,
		.cbAlign = (LONG)(f->file_alignment + 1),
		.cbPrefix = 0,
	};
}

/* The framing @p asks of a pool that now has @now: its options and pool type stay. */
static struct ksalloc_framing framing_from_properties(const ALLOCATOR_PROPERTIES *p,
						      const struct ksalloc_framing *now)
{
	return (struct ksalloc_framing){
		.options_flags = now->options_flags,
		.pool_type = now->pool_type,
		.frames = (uint32_t)p->cBuffers,
		.frame_size = (uint32_t)p->cbBuffer + (uint32_t)p->cbPrefix,
		.file_alignment = (uint32_t)p->cbAlign - 1,
	};
}

/*
 * Whether the pool as it is (@now) already gives what @want asks: as many
 * frames, each at least as large and as aligned. A frame owns its whole
 * stride (frame_size rounded up to the alignment), so a request rounded the
 * CMemAllocator way fits in a pool whose frame_size was not: GetProperties'
 * own values passed back to SetProperties never force a reshape.
 */
/* Bytes a frame owns in the pool: its size rounded up to the alignment. */
static uint64_t stride_of(const struct ksalloc_framing *f)
{
	return ((uint64_t)f->frame_size + f->file_alignment) & ~(uint64_t)f->file_alignment;
}

static uint64_t frame_stride(const struct ks_allocator *a)
{
	return stride_of(&ksalloc_pool_get_info(a->pool)->status.framing);
}

static bool pool_satisfies(const struct ksalloc_framing *now, const struct ksalloc_framing *want)
{
	return want->options_flags == now->options_flags && want->pool_type == now->pool_type &&
	       want->frames == now->frames && want->frame_size <= stride_of(now) &&
	       want->file_alignment <= now->file_alignment;
}

static bool properties_same(const ALLOCATOR_PROPERTIES *x, const ALLOCATOR_PROPERTIES *y)
{
	return x->cBuffers == y->cBuffers && x->cbBuffer == y->cbBuffer &&
	       x->cbAlign == y->cbAlign && x->cbPrefix == y->cbPrefix;
}

/*
 * A power of two, and no more than a page: frames sit at multiples of their alignment from the
 * start of a shared mapping, which is only page aligned. (Windows' base class allows up to its
 * 64 KiB allocation granularity.)
 */
static bool alignment_valid(LONG align)
{
	return align > 0 && (align & (align - 1)) == 0 &&
	       (uint32_t)align <= KSALLOC_FRAME_ALIGNMENT_MAX;
}

/* Mirrors what IMemAllocator grants into the IKsAllocatorEx view (KsGetProperties). */
static void properties_ex_update(ALLOCATOR_PROPERTIES_EX *ex, const ALLOCATOR_PROPERTIES *p)
{
	ex->cBuffers = p->cBuffers;
	ex->cbBuffer = p->cbBuffer;
	ex->cbAlign = p->cbAlign;
	ex->cbPrefix = p->cbPrefix;
}

/* ---- frames ----------------------------------------------------------------------------- */

/*
 * Gives back a frame that this object surely acquired (a sample's). Even when the pool refuses
 * it (say the daemon took the session's frames back) the frame is ours no longer, so it stops
 * being counted, or SetProperties would refuse for ever; nothing touches its memory after.
 */
static int release_own_frame(struct ks_allocator *a, const struct ksalloc_frame *frame)
{
	int r = ks_allocator_release(a, frame);

	if (r < 0)
		atomic_fetch_sub(&a->frames_out, 1);
	return r;
}

/* ---- IMediaSample ----------------------------------------------------------------------- */

static void media_type_free(AM_MEDIA_TYPE *mt)
{
	if (!mt)
		return;
	if (mt->pUnk)
		IUnknown_Release(mt->pUnk);
	free(mt->pbFormat);
	free(mt);
}

/*
 * A malloc'ed copy of @src, as Windows' CreateMediaType() makes one: its own format block and
 * its own reference to pUnk. Unlike Windows, pbFormat is NULL when cbFormat is 0, so that the
 * owner can always free() it.
 */
static HRESULT media_type_copy(const AM_MEDIA_TYPE *src, AM_MEDIA_TYPE **ret_copy)
{
	_cleanup_free_ AM_MEDIA_TYPE *mt = malloc(sizeof(*mt));

	if (!mt)
		return E_OUTOFMEMORY;
	*mt = *src;
	mt->pbFormat = NULL;
	if (src->cbFormat > 0) {
		mt->pbFormat = malloc(src->cbFormat);
		if (!mt->pbFormat)
			return E_OUTOFMEMORY;
		memcpy(mt->pbFormat, src->pbFormat, src->cbFormat);
	}
	if (mt->pUnk)
		IUnknown_AddRef(mt->pUnk);
	*ret_copy = TAKE_PTR(mt);
	return S_OK;
}

static HRESULT STDMETHODCALLTYPE sample_query_interface(IMediaSample2 *This, REFIID riid,
							void **ppvObject)
{
	if (!ppvObject)
		return E_POINTER;
	*ppvObject = NULL;
	if (!riid)
		return E_POINTER;
	if (!IsEqualIID(riid, &IID_IUnknown) && !IsEqualIID(riid, &IID_IMediaSample) &&
	    !IsEqualIID(riid, &IID_IMediaSample2))
		return E_NOINTERFACE;
	atomic_fetch_add(&from_sample(This)->refs, 1);
	*ppvObject = This;
	return S_OK;
}

static ULONG STDMETHODCALLTYPE sample_add_ref(IMediaSample2 *This)
{
	return atomic_fetch_add(&from_sample(This)->refs, 1) + 1;
}

static HRESULT STDMETHODCALLTYPE mem_release_buffer(IMemAllocatorCallbackTemp *This,
						    IMediaSample *pBuffer);

static ULONG STDMETHODCALLTYPE sample_release(IMediaSample2 *This)
{
	struct ks_sample *s = from_sample(This);
	ULONG refs = atomic_fetch_sub(&s->refs, 1) - 1;

	/* As Windows' samples do, the last reference hands the sample to its allocator. */
	if (refs == 0)
		mem_release_buffer(&s->allocator->mem_iface, as_media_sample(s));
	return refs;
}

static HRESULT STDMETHODCALLTYPE sample_get_pointer(IMediaSample2 *This, BYTE **ppBuffer)
{
	if (!ppBuffer)
		return E_POINTER;
	*ppBuffer = from_sample(This)->buffer;
	return S_OK;
}

static LONG STDMETHODCALLTYPE sample_get_size(IMediaSample2 *This)
{
	return from_sample(This)->size;
}

static HRESULT STDMETHODCALLTYPE sample_get_time(IMediaSample2 *This, REFERENCE_TIME *pTimeStart,
						 REFERENCE_TIME *pTimeEnd)
{
	struct ks_sample *s = from_sample(This);

	if (!pTimeStart || !pTimeEnd)
		return E_POINTER;
	if (!s->time_valid)
		return VFW_E_SAMPLE_TIME_NOT_SET;
	*pTimeStart = s->start;
	if (!s->stop_valid) {
		/* What Windows' base classes report, so that code reading both keeps working. */
		*pTimeEnd = s->start + 1;
		return VFW_S_NO_STOP_TIME;
	}
	*pTimeEnd = s->end;
	return S_OK;
}

static HRESULT STDMETHODCALLTYPE sample_set_time(IMediaSample2 *This, REFERENCE_TIME *pTimeStart,
						 REFERENCE_TIME *pTimeEnd)
{
	struct ks_sample *s = from_sample(This);

	s->time_valid = pTimeStart != NULL;
	s->stop_valid = pTimeStart && pTimeEnd;
	if (pTimeStart)
		s->start = *pTimeStart;
	if (s->stop_valid)
		s->end = *pTimeEnd;
	return S_OK;
}

static HRESULT flag_result(bool flag)
{
	return flag ? S_OK : S_FALSE;
}

static HRESULT STDMETHODCALLTYPE sample_is_sync_point(IMediaSample2 *This)
{
	return flag_result(from_sample(This)->sync_point);
}

static HRESULT STDMETHODCALLTYPE sample_set_sync_point(IMediaSample2 *This, BOOL bIsSyncPoint)
{
	from_sample(This)->sync_point = bIsSyncPoint;
	return S_OK;
}

static HRESULT STDMETHODCALLTYPE sample_is_preroll(IMediaSample2 *This)
{
	return flag_result(from_sample(This)->preroll);
}

static HRESULT STDMETHODCALLTYPE sample_set_preroll(IMediaSample2 *This, BOOL bIsPreroll)
{
	from_sample(This)->preroll = bIsPreroll;
	return S_OK;
}

static LONG STDMETHODCALLTYPE sample_get_actual_data_length(IMediaSample2 *This)
{
	return from_sample(This)->actual;
}

static HRESULT STDMETHODCALLTYPE sample_set_actual_data_length(IMediaSample2 *This, LONG lLen)
{
	struct ks_sample *s = from_sample(This);

	if (lLen < 0 || lLen > s->size)
		return VFW_E_BUFFER_OVERFLOW;
	s->actual = lLen;
	return S_OK;
}

static HRESULT STDMETHODCALLTYPE sample_get_media_type(IMediaSample2 *This,
						       AM_MEDIA_TYPE **ppMediaType)
{
	struct ks_sample *s = from_sample(This);

	if (!ppMediaType)
		return E_POINTER;
	*ppMediaType = NULL;
	if (!s->media_type)
		return S_FALSE;
	return media_type_copy(s->media_type, ppMediaType);
}

static HRESULT STDMETHODCALLTYPE sample_set_media_type(IMediaSample2 *This,
						       AM_MEDIA_TYPE *pMediaType)
{
	struct ks_sample *s = from_sample(This);
	AM_MEDIA_TYPE *copy = NULL;
	HRESULT hr = S_OK;

	if (pMediaType && pMediaType->cbFormat > 0 && !pMediaType->pbFormat)
		return E_POINTER;
	if (pMediaType)
		hr = media_type_copy(pMediaType, &copy);
	/* As Windows' samples: the old type goes in every case, so a failure leaves none. */
	media_type_free(s->media_type);
	s->media_type = copy;
	return hr;
}

static HRESULT STDMETHODCALLTYPE sample_is_discontinuity(IMediaSample2 *This)
{
	return flag_result(from_sample(This)->discontinuity);
}

static HRESULT STDMETHODCALLTYPE sample_set_discontinuity(IMediaSample2 *This, BOOL bDiscontinuity)
{
	from_sample(This)->discontinuity = bDiscontinuity;
	return S_OK;
}

static HRESULT STDMETHODCALLTYPE sample_get_media_time(IMediaSample2 *This, LONGLONG *pTimeStart,
						       LONGLONG *pTimeEnd)
{
	struct ks_sample *s = from_sample(This);

	if (!pTimeStart || !pTimeEnd)
		return E_POINTER;
	if (!s->media_time_valid)
		return VFW_E_MEDIA_TIME_NOT_SET;
	*pTimeStart = s->media_start;
	*pTimeEnd = s->media_end;
	return S_OK;
}

static HRESULT STDMETHODCALLTYPE sample_set_media_time(IMediaSample2 *This, LONGLONG *pTimeStart,
						       LONGLONG *pTimeEnd)
{
	struct ks_sample *s = from_sample(This);

	if (!pTimeStart) {
		s->media_time_valid = false;
		return S_OK;
	}
	if (!pTimeEnd)
		return E_POINTER;
	s->media_start = *pTimeStart;
	s->media_end = *pTimeEnd;
	s->media_time_valid = true;
	return S_OK;
}

/* ksproxy copies OptionsFlags into dwSampleFlags as they are: the values agree. */
KSALLOC_STATIC_ASSERT(AM_SAMPLE_SPLICEPOINT == KSSTREAM_HEADER_OPTIONSF_SPLICEPOINT &&
			      AM_SAMPLE_PREROLL == KSSTREAM_HEADER_OPTIONSF_PREROLL &&
			      AM_SAMPLE_DATADISCONTINUITY ==
				      KSSTREAM_HEADER_OPTIONSF_DATADISCONTINUITY &&
			      AM_SAMPLE_TYPECHANGED == KSSTREAM_HEADER_OPTIONSF_TYPECHANGED &&
			      AM_SAMPLE_TIMEVALID == KSSTREAM_HEADER_OPTIONSF_TIMEVALID &&
			      AM_SAMPLE_TIMEDISCONTINUITY ==
				      KSSTREAM_HEADER_OPTIONSF_TIMEDISCONTINUITY &&
			      AM_SAMPLE_FLUSH_ON_PAUSE == KSSTREAM_HEADER_OPTIONSF_FLUSHONPAUSE &&
			      AM_SAMPLE_STOPVALID == KSSTREAM_HEADER_OPTIONSF_DURATIONVALID &&
			      AM_SAMPLE_ENDOFSTREAM == KSSTREAM_HEADER_OPTIONSF_ENDOFSTREAM,
		      "AM_SAMPLE_* and KSSTREAM_HEADER_OPTIONSF_* agree");

/* The AM_SAMPLE_* flags the sample keeps apart from its booleans. */
#define OTHER_FLAGS (AM_SAMPLE_TIMEDISCONTINUITY | AM_SAMPLE_FLUSH_ON_PAUSE | AM_SAMPLE_ENDOFSTREAM)
#define KNOWN_FLAGS                                                                \
	(AM_SAMPLE_SPLICEPOINT | AM_SAMPLE_PREROLL | AM_SAMPLE_DATADISCONTINUITY | \
	 AM_SAMPLE_TYPECHANGED | AM_SAMPLE_TIMEVALID | AM_SAMPLE_STOPVALID | OTHER_FLAGS)

/* Whether the first @n bytes of an AM_SAMPLE2_PROPERTIES hold the whole of @field. */
#define HOLDS(n, field)                                                                          \
	(offsetof(AM_SAMPLE2_PROPERTIES, field) + sizeof(((AM_SAMPLE2_PROPERTIES *)0)->field) <= \
	 (n))

static HRESULT STDMETHODCALLTYPE sample_get_properties(IMediaSample2 *This, DWORD cbProperties,
						       BYTE *pbProperties)
{
	struct ks_sample *s = from_sample(This);
	AM_SAMPLE2_PROPERTIES p;

	if (cbProperties == 0)
		return S_OK;
	if (!pbProperties)
		return E_POINTER;
	memset(&p, 0, sizeof(p));
	p.cbData = cbProperties < sizeof(p) ? cbProperties : (DWORD)sizeof(p);
	p.dwTypeSpecificFlags = s->type_specific_flags;
	p.dwSampleFlags = (s->sync_point ? AM_SAMPLE_SPLICEPOINT : 0) |
			  (s->preroll ? AM_SAMPLE_PREROLL : 0) |
			  (s->discontinuity ? AM_SAMPLE_DATADISCONTINUITY : 0) |
			  (s->media_type ? AM_SAMPLE_TYPECHANGED : 0) |
			  (s->time_valid ? AM_SAMPLE_TIMEVALID : 0) |
			  (s->stop_valid ? AM_SAMPLE_STOPVALID : 0) | s->other_flags;
	p.lActual = s->actual;
	p.tStart = s->start;
	p.tStop = s->end;
	p.dwStreamId = s->stream_id;
	p.pMediaType = s->media_type;
	p.pbBuffer = s->buffer;
	p.cbBuffer = s->size;
	memcpy(pbProperties, &p, p.cbData);
	return S_OK;
}

static HRESULT STDMETHODCALLTYPE sample_set_properties(IMediaSample2 *This, DWORD cbProperties,
						       const BYTE *pbProperties)
{
	struct ks_sample *s = from_sample(This);
	AM_MEDIA_TYPE *media_type = NULL;
	AM_SAMPLE2_PROPERTIES p;
	size_t n = cbProperties;

	/* Too short to say how long it is: nothing to set. */
	if (!HOLDS(n, cbData))
		return S_OK;
	if (!pbProperties)
		return E_POINTER;
	memset(&p, 0, sizeof(p));
	memcpy(&p, pbProperties, n < sizeof(p) ? n : sizeof(p));
	if (p.cbData < n)
		n = p.cbData;
	if (n > sizeof(p) || p.cbData > sizeof(p))
		return E_INVALIDARG;
	/* Every check first, so that a failure sets nothing. */
	if (HOLDS(n, dwSampleFlags) && (p.dwSampleFlags & ~(DWORD)KNOWN_FLAGS))
		return E_INVALIDARG;
	if (HOLDS(n, pbBuffer) && p.pbBuffer && p.pbBuffer != s->buffer)
		return E_INVALIDARG;
	if (HOLDS(n, cbBuffer) && p.cbBuffer && p.cbBuffer != s->size)
		return E_INVALIDARG;
	if (HOLDS(n, lActual) && (p.lActual < 0 || p.lActual > s->size))
		return E_INVALIDARG;
	if (HOLDS(n, pMediaType) && (p.dwSampleFlags & AM_SAMPLE_TYPECHANGED)) {
		HRESULT hr;

		if (!p.pMediaType)
			return E_POINTER;
		if (p.pMediaType->cbFormat > 0 && !p.pMediaType->pbFormat)
			return E_POINTER;
		hr = media_type_copy(p.pMediaType, &media_type);
		if (FAILED(hr))
			return hr;
	}

	if (HOLDS(n, dwTypeSpecificFlags))
		s->type_specific_flags = p.dwTypeSpecificFlags;
	if (HOLDS(n, dwSampleFlags)) {
		s->sync_point = p.dwSampleFlags & AM_SAMPLE_SPLICEPOINT;
		s->preroll = p.dwSampleFlags & AM_SAMPLE_PREROLL;
		s->discontinuity = p.dwSampleFlags & AM_SAMPLE_DATADISCONTINUITY;
		s->time_valid = p.dwSampleFlags & AM_SAMPLE_TIMEVALID;
		/* GetTime knows a stop only with a start. */
		s->stop_valid = s->time_valid && (p.dwSampleFlags & AM_SAMPLE_STOPVALID);
		s->other_flags = p.dwSampleFlags & OTHER_FLAGS;
	}
	if (HOLDS(n, lActual))
		s->actual = p.lActual;
	if (HOLDS(n, tStart))
		s->start = p.tStart;
	if (HOLDS(n, tStop))
		s->end = p.tStop;
	if (HOLDS(n, dwStreamId))
		s->stream_id = p.dwStreamId;
	if (media_type) {
		media_type_free(s->media_type);
		s->media_type = media_type;
	}
	return S_OK;
}

static const IMediaSample2Vtbl sample_vtbl = {
	.QueryInterface = sample_query_interface,
	.AddRef = sample_add_ref,
	.Release = sample_release,
	.GetPointer = sample_get_pointer,
	.GetSize = sample_get_size,
	.GetTime = sample_get_time,
	.SetTime = sample_set_time,
	.IsSyncPoint = sample_is_sync_point,
	.SetSyncPoint = sample_set_sync_point,
	.IsPreroll = sample_is_preroll,
	.SetPreroll = sample_set_preroll,
	.GetActualDataLength = sample_get_actual_data_length,
	.SetActualDataLength = sample_set_actual_data_length,
	.GetMediaType = sample_get_media_type,
	.SetMediaType = sample_set_media_type,
	.IsDiscontinuity = sample_is_discontinuity,
	.SetDiscontinuity = sample_set_discontinuity,
	.GetMediaTime = sample_get_media_time,
	.SetMediaTime = sample_set_media_time,
	.GetProperties = sample_get_properties,
	.SetProperties = sample_set_properties,
};

/* ---- IMemAllocator ---------------------------------------------------------------------- */

static HRESULT STDMETHODCALLTYPE mem_query_interface(IMemAllocatorCallbackTemp *This, REFIID riid,
						     void **ppvObject)
{
	return ks_allocator_query_interface(from_mem(This), riid, ppvObject);
}

static ULONG STDMETHODCALLTYPE mem_add_ref(IMemAllocatorCallbackTemp *This)
{
	return ks_allocator_ref(from_mem(This));
}

static ULONG STDMETHODCALLTYPE mem_release(IMemAllocatorCallbackTemp *This)
{
	return ks_allocator_unref(from_mem(This));
}

static HRESULT STDMETHODCALLTYPE mem_set_properties(IMemAllocatorCallbackTemp *This,
						    ALLOCATOR_PROPERTIES *pRequest,
						    ALLOCATOR_PROPERTIES *pActual)
{
	struct ks_allocator *a = from_mem(This);
	ALLOCATOR_PROPERTIES granted;
	int64_t slot;
	HRESULT hr;

	if (!pRequest || !pActual)
		return E_POINTER;
	/* Arguments first, then state, in the order of Windows' CMemAllocator. */
	if (!alignment_valid(pRequest->cbAlign))
		return VFW_E_BADALIGN;
	if (pRequest->cBuffers < 0 || pRequest->cbBuffer < 0 || pRequest->cbPrefix < 0)
		return E_INVALIDARG;
	/*
	 * CMemAllocator's rounding: the prefix and the buffer together fill whole multiples of
	 * the alignment, and the buffer takes the slack. A slot is one frame.
	 */
	slot = (int64_t)pRequest->cbBuffer + pRequest->cbPrefix;
	slot = (slot + pRequest->cbAlign - 1) & ~((int64_t)pRequest->cbAlign - 1);
	if (slot > INT32_MAX)
		return E_INVALIDARG;
	granted = (ALLOCATOR_PROPERTIES){
		.cBuffers = pRequest->cBuffers,
		.cbBuffer = (LONG)(slot - pRequest->cbPrefix),
		.cbAlign = pRequest->cbAlign,
		.cbPrefix = pRequest->cbPrefix,
	};

	pthread_mutex_lock(&a->lock);
	if (a->consumer) {
		/* The stream's pool is its producer's to shape. */
		hr = VFW_E_WRONG_STATE;
	} else if (atomic_load(&a->committed)) {
		hr = VFW_E_ALREADY_COMMITTED;
	} else if (atomic_load(&a->frames_out) > 0) {
		hr = VFW_E_BUFFERS_OUTSTANDING;
	} else {
		/* Nothing is allocated here: Commit applies what was granted. */
		a->granted = granted;
		properties_ex_update(&a->properties, &granted);
		*pActual = granted;
		hr = S_OK;
	}
	pthread_mutex_unlock(&a->lock);
	return hr;
}

static HRESULT STDMETHODCALLTYPE mem_get_properties(IMemAllocatorCallbackTemp *This,
						    ALLOCATOR_PROPERTIES *pProps)
{
	struct ks_allocator *a = from_mem(This);

	if (!pProps)
		return E_POINTER;
	pthread_mutex_lock(&a->lock);
	*pProps = a->granted;
	pthread_mutex_unlock(&a->lock);
	return S_OK;
}

static HRESULT reshape_result(int r)
{
	switch (r) {
	case 0:
		return S_OK;
	case -EPERM:
	case -EACCES:
	case -EBUSY:
		/*
		 * -EPERM: a pool of the daemon's config, whose framing the config fixes (it
		 * arrives as -EACCES: the wire carries E_ACCESSDENIED, which reads back as the
		 * first errno of its row); -EBUSY: the pool is committed, open in another session
		 * (another process, or another allocator object), or has frames held there.
		 * Neither is about rights (E_ACCESSDENIED) nor about the properties themselves:
		 * the pool is not in a state that can change shape, which is VFW_E_WRONG_STATE's
		 * meaning.
		 */
		return VFW_E_WRONG_STATE;
	case -EINVAL:
		/* A framing rule or a limit of the daemon: the granted properties cannot be. */
		return E_INVALIDARG;
	default:
		return hresult_from_errno(r);
	}
}

/* Waits, within COMMIT_DRAIN_TIMEOUT_MS, until no acquire of ours is in flight. */
static bool pool_lock_exclusive(struct ks_allocator *a)
{
	struct timespec deadline;

	/* CLOCK_REALTIME: the clock of pthread_rwlock_timedwrlock, which every tool knows. */
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += COMMIT_DRAIN_TIMEOUT_MS / 1000;
	return pthread_rwlock_timedwrlock(&a->pool_lock, &deadline) == 0;
}

/*
 * Makes the granted properties the ones in effect: reshapes the pool when they ask for another
 * framing. Called with a->lock held, while this object is decommitted.
 */
static HRESULT apply_granted(struct ks_allocator *a)
{
	const struct ksalloc_framing *now = &ksalloc_pool_get_info(a->pool)->status.framing;
	struct ksalloc_framing want = framing_from_properties(&a->granted, now);
	bool reshape = !pool_satisfies(now, &want);
	HRESULT hr = S_OK;

	if (!reshape && properties_same(&a->granted, &a->in_effect))
		return S_OK;
	if (!pool_lock_exclusive(a))
		return VFW_E_WRONG_STATE;
	if (atomic_load(&a->frames_out) > 0)
		hr = VFW_E_BUFFERS_OUTSTANDING;
	else if (reshape)
		hr = reshape_result(ksalloc_pool_reshape(a->pool, &want));
	if (SUCCEEDED(hr)) {
		a->in_effect = a->granted;
		/* The reshape replaced the pool's info; this is the framing it has now. */
		now = &ksalloc_pool_get_info(a->pool)->status.framing;
		a->properties.PhysicalRange.MinFrameSize = now->frame_size;
		a->properties.PhysicalRange.MaxFrameSize = now->frame_size;
	}
	pthread_rwlock_unlock(&a->pool_lock);
	return hr;
}

static HRESULT STDMETHODCALLTYPE mem_commit(IMemAllocatorCallbackTemp *This)
{
	struct ks_allocator *a = from_mem(This);
	HRESULT hr = S_OK;
	int r;

	pthread_mutex_lock(&a->lock);
	/*
	 * A consumer's commit is its own: the stream's pool is its producer's, which a consumer
	 * must not decommit (nor commit) for it.
	 */
	if (a->consumer) {
		atomic_store(&a->committed, true);
		pthread_mutex_unlock(&a->lock);
		return S_OK;
	}
	/* While committed nothing can have been granted since: there is nothing to apply. */
	if (!atomic_load(&a->committed)) {
		if (a->granted.cbBuffer == 0)
			hr = VFW_E_SIZENOTSET;
		else if (a->granted.cBuffers == 0)
			hr = VFW_E_BUFFER_NOTSET;
		else
			hr = apply_granted(a);
	}
	/*
	 * Asked even when this object is committed already: the pool is shared, and another
	 * session may have decommitted it since. The daemon takes a repeated commit as a no-op.
	 */
	if (SUCCEEDED(hr)) {
		r = ksalloc_pool_set_committed(a->pool, true);
		if (r == 0)
			atomic_store(&a->committed, true);
		hr = hresult_from_errno(r);
	}
	pthread_mutex_unlock(&a->lock);
	return hr;
}

static HRESULT STDMETHODCALLTYPE mem_decommit(IMemAllocatorCallbackTemp *This)
{
	struct ks_allocator *a = from_mem(This);
	int r;

	/*
	 * The daemon marks the pool decommitted in its shared memory and wakes every waiter,
	 * which leaves ksalloc_pool_acquire() with -ESHUTDOWN, VFW_E_NOT_COMMITTED here. Frames
	 * held stay valid: nothing is freed until they come back, as with Windows' allocators.
	 */
	pthread_mutex_lock(&a->lock);
	/* A consumer's decommit is its own, as its commit (mem_commit()). */
	r = a->consumer ? 0 : ksalloc_pool_set_committed(a->pool, false);
	if (r == 0)
		atomic_store(&a->committed, false);
	pthread_mutex_unlock(&a->lock);
	return hresult_from_errno(r);
}

static HRESULT STDMETHODCALLTYPE mem_get_buffer(IMemAllocatorCallbackTemp *This,
						IMediaSample **ppBuffer, REFERENCE_TIME *pStartTime,
						REFERENCE_TIME *pEndTime, DWORD dwFlags)
{
	struct ks_allocator *a = from_mem(This);
	ALLOCATOR_PROPERTIES cut = { 0 };
	struct ks_sample *s;
	int r;

	if (!ppBuffer)
		return E_POINTER;
	*ppBuffer = NULL;
	/* A consumer's samples come from its stream (KsStreamReceiveSample). */
	if (a->consumer)
		return VFW_E_WRONG_STATE;
	if (!atomic_load(&a->committed))
		return VFW_E_NOT_COMMITTED;
	/* Allocated before the frame, so that running out of memory never strands a frame. */
	s = calloc(1, sizeof(*s));
	if (!s)
		return E_OUTOFMEMORY;
	/* -ESHUTDOWN and -ETIMEDOUT become VFW_E_NOT_COMMITTED and VFW_E_TIMEOUT. */
	r = ks_allocator_acquire(a, (dwFlags & AM_GBF_NOWAIT) ? 0 : KSALLOC_INFINITE, &s->frame,
				 &cut);
	if (r < 0) {
		free(s);
		return hresult_from_errno(r);
	}
	/*
	 * The properties in effect were made to fit the frame's whole stride (see
	 * pool_satisfies()); check rather than trust.
	 */
	if (cut.cbPrefix < 0 || cut.cbBuffer < 0 ||
	    (uint64_t)cut.cbPrefix + (uint64_t)cut.cbBuffer > frame_stride(a)) {
		release_own_frame(a, &s->frame);
		free(s);
		return E_UNEXPECTED;
	}
	s->iface.lpVtbl = &sample_vtbl;
	atomic_init(&s->refs, 1);
	/* The sample keeps its allocator, and so the pool's mapping, until it comes back. */
	s->allocator = a;
	ks_allocator_ref(a);
	/* As Windows' CMemAllocator: the prefix sits at the start of the frame. */
	s->buffer = (BYTE *)s->frame.data + cut.cbPrefix;
	s->size = cut.cbBuffer;
	s->actual = cut.cbBuffer;
	*ppBuffer = as_media_sample(s);
	return S_OK;
}

static HRESULT STDMETHODCALLTYPE mem_release_buffer(IMemAllocatorCallbackTemp *This,
						    IMediaSample *pBuffer)
{
	struct ks_allocator *a = from_mem(This);
	IMemAllocatorNotifyCallbackTemp *notify;
	struct ks_sample *s;
	int r;

	if (!pBuffer)
		return E_POINTER;
	/* Any COM object starts with its vtable pointer, so this read is safe for any sample. */
	if ((const void *)pBuffer->lpVtbl != (const void *)&sample_vtbl)
		return E_INVALIDARG;
	s = from_sample((IMediaSample2 *)pBuffer);
	/* A sample still referenced would dangle: only its own last Release may give it back. */
	if (s->allocator != a || atomic_load(&s->refs) != 0)
		return E_INVALIDARG;

	r = release_own_frame(a, &s->frame);
	media_type_free(s->media_type);
	free(s);

	pthread_mutex_lock(&a->notify_lock);
	notify = a->notify;
	if (notify)
		IMemAllocatorNotifyCallbackTemp_AddRef(notify);
	pthread_mutex_unlock(&a->notify_lock);
	if (notify) {
		IMemAllocatorNotifyCallbackTemp_NotifyRelease(notify);
		IMemAllocatorNotifyCallbackTemp_Release(notify);
	}

	/* The sample's reference, last: it may be the one that frees the allocator. */
	ks_allocator_unref(a);
	return hresult_from_errno(r);
}

static HRESULT STDMETHODCALLTYPE mem_set_notify(IMemAllocatorCallbackTemp *This,
						IMemAllocatorNotifyCallbackTemp *pNotify)
{
	struct ks_allocator *a = from_mem(This);
	IMemAllocatorNotifyCallbackTemp *old;

	if (pNotify)
		IMemAllocatorNotifyCallbackTemp_AddRef(pNotify);
	pthread_mutex_lock(&a->notify_lock);
	old = a->notify;
	a->notify = pNotify;
	pthread_mutex_unlock(&a->notify_lock);
	if (old)
		IMemAllocatorNotifyCallbackTemp_Release(old);
	return S_OK;
}

static HRESULT STDMETHODCALLTYPE mem_get_free_count(IMemAllocatorCallbackTemp *This,
						    LONG *plBuffersFree)
{
	struct ksalloc_status st;
	uint32_t free_frames;
	int r;

	if (!plBuffersFree)
		return E_POINTER;
	r = ksalloc_pool_status(from_mem(This)->pool, &st);
	if (r < 0)
		return hresult_from_errno(r);
	/* Two counters read at one moment by the daemon, but bound it all the same. */
	free_frames = st.framing.frames > st.allocated_frames ?
			      st.framing.frames - st.allocated_frames :
			      0;
	*plBuffersFree = free_frames > INT32_MAX ? INT32_MAX : (LONG)free_frames;
	return S_OK;
}

/* ---- samples of received frames --------------------------------------------------------- */

struct ks_sample *ks_sample_new(void)
{
	return calloc(1, sizeof(struct ks_sample));
}

void ks_sample_free(struct ks_sample *s)
{
	free(s);
}

/*
 * A KSTIME in REFERENCE_TIME's 100-ns units: @value * @num / @den, where 0/0 (or any 0
 * denominator) reads as 1/1. Saturates rather than wraps.
 */
static REFERENCE_TIME reference_time(int64_t value, uint32_t num, uint32_t den)
{
	__extension__ __int128 t;

	if (den == 0 || num == den)
		return value;
	t = (__int128)value * num / den;
	if (t > INT64_MAX)
		return INT64_MAX;
	if (t < INT64_MIN)
		return INT64_MIN;
	return (REFERENCE_TIME)t;
}

IMediaSample *ks_sample_received(struct ks_sample *s, struct ks_allocator *a,
				 const struct ksalloc_frame *frame,
				 const struct ksalloc_frame_meta *meta)
{
	uint32_t flags = meta->options_flags;

	*s = (struct ks_sample){ .iface.lpVtbl = &sample_vtbl };
	atomic_init(&s->refs, 1);
	/* As GetBuffer's samples: the sample keeps its allocator until it comes back. */
	s->allocator = a;
	ks_allocator_ref(a);
	s->frame = *frame;
	s->buffer = frame->data;
	s->size = frame->size > INT32_MAX ? INT32_MAX : (LONG)frame->size;
	s->actual = meta->data_used > (uint32_t)s->size ? s->size : (LONG)meta->data_used;
	/*
	 * ksproxy's read completion (KsCompleteIo): TIMEVALID gives the start, DURATIONVALID
	 * with it the stop = start + Duration, in the KSTIME's scale.
	 */
	if (flags & KSSTREAM_HEADER_OPTIONSF_TIMEVALID) {
		s->time_valid = true;
		s->start = reference_time(meta->presentation_time, meta->time_numerator,
					  meta->time_denominator);
		if (flags & KSSTREAM_HEADER_OPTIONSF_DURATIONVALID) {
			s->stop_valid = true;
			REFERENCE_TIME duration = reference_time(
				meta->duration, meta->time_numerator, meta->time_denominator);

			if (__builtin_add_overflow(s->start, duration, &s->end))
				s->end = duration < 0 ? INT64_MIN : INT64_MAX;
		}
	}
	s->sync_point = flags & KSSTREAM_HEADER_OPTIONSF_SPLICEPOINT;
	s->preroll = flags & KSSTREAM_HEADER_OPTIONSF_PREROLL;
	s->discontinuity = flags & KSSTREAM_HEADER_OPTIONSF_DATADISCONTINUITY;
	/*
	 * IMediaSample2's view, as ksproxy's: the type-specific flags, and TIMEDISCONTINUITY
	 * (and the other flags of the same value) in dwSampleFlags. TYPECHANGED stays out: the
	 * sample has no AM_MEDIA_TYPE to go with it.
	 */
	s->type_specific_flags = meta->type_specific_flags;
	s->other_flags = flags & OTHER_FLAGS;
	return as_media_sample(s);
}

static const IMemAllocatorCallbackTempVtbl mem_allocator_vtbl = {
	.QueryInterface = mem_query_interface,
	.AddRef = mem_add_ref,
	.Release = mem_release,
	.SetProperties = mem_set_properties,
	.GetProperties = mem_get_properties,
	.Commit = mem_commit,
	.Decommit = mem_decommit,
	.GetBuffer = mem_get_buffer,
	.ReleaseBuffer = mem_release_buffer,
	.SetNotify = mem_set_notify,
	.GetFreeCount = mem_get_free_count,
};

void ks_mem_allocator_init(struct ks_allocator *a)
{
	const struct ksalloc_pool_info *info = ksalloc_pool_get_info(a->pool);

	a->mem_iface.lpVtbl = &mem_allocator_vtbl;
	a->granted = properties_from_framing(&info->status.framing);
	a->in_effect = a->granted;
	/* Pools of the daemon's config start committed; a new object follows its pool. */
	atomic_init(&a->committed, info->committed);
}
