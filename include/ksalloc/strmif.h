/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#ifndef KSALLOC_STRMIF_H
#define KSALLOC_STRMIF_H

/*
 * <ksalloc/strmif.h>: DirectShow's allocator and its samples, as Windows' strmif.h has them:
 * IMemAllocator, IMemAllocatorCallbackTemp, IMemAllocatorNotifyCallbackTemp, IMediaSample,
 * IMediaSample2, ALLOCATOR_PROPERTIES, AM_MEDIA_TYPE, AM_SAMPLE2_PROPERTIES, REFERENCE_TIME,
 * the AM_GBF_* and AM_SAMPLE_* flags; and CLSID_MemoryAllocator (uuids.h).
 * <ksalloc/ksproxy.h> includes it.
 */

#include <stddef.h>

#include <ksalloc/_ksalloc-common.h>
#include <ksalloc/guiddef.h>
#include <ksalloc/unknwn.h>
#include <ksalloc/windef.h>
#include <ksalloc/winerror.h>

#ifdef __cplusplus
extern "C" {
#endif

/* DirectShow time: 100-nanosecond units. */
typedef LONGLONG REFERENCE_TIME;

/* IMemAllocator::GetBuffer dwFlags */
#define AM_GBF_PREVFRAMESKIPPED 1
#define AM_GBF_NOTASYNCPOINT 2
#define AM_GBF_NOWAIT 4
#define AM_GBF_NODDSURFACELOCK 8

/* Named GUIDs: STATIC_<NAME> is a complete initializer (see <ksalloc/guiddef.h>). */

/* Each initializer stays on one line, as in the SDK (clang-format would unfold it). */
/* clang-format off */
#define STATIC_IID_IMemAllocator \
	{ 0x56a8689c, 0x0ad4, 0x11ce, { 0xb0, 0x3a, 0x00, 0x20, 0xaf, 0x0b, 0xa7, 0x70 } }
#define STATIC_IID_IMediaSample \
	{ 0x56a8689a, 0x0ad4, 0x11ce, { 0xb0, 0x3a, 0x00, 0x20, 0xaf, 0x0b, 0xa7, 0x70 } }
#define STATIC_IID_IMediaSample2 \
	{ 0x36b73884, 0xc2c8, 0x11cf, { 0x8b, 0x46, 0x00, 0x80, 0x5f, 0x6c, 0xef, 0x60 } }
#define STATIC_IID_IMemAllocatorCallbackTemp \
	{ 0x379a0cf0, 0xc1de, 0x11d2, { 0xab, 0xf5, 0x00, 0xa0, 0xc9, 0x05, 0xf3, 0x75 } }
#define STATIC_IID_IMemAllocatorNotifyCallbackTemp \
	{ 0x92980b30, 0xc1de, 0x11d2, { 0xab, 0xf5, 0x00, 0xa0, 0xc9, 0x05, 0xf3, 0x75 } }
#define STATIC_CLSID_MemoryAllocator \
	{ 0x1e651cc0, 0xb199, 0x11d0, { 0x82, 0x12, 0x00, 0xc0, 0x4f, 0xc3, 0x2c, 0x45 } }
/* clang-format on */

extern KSALLOC_EXPORT const GUID IID_IMemAllocator;
extern KSALLOC_EXPORT const GUID IID_IMediaSample;
extern KSALLOC_EXPORT const GUID IID_IMediaSample2;
extern KSALLOC_EXPORT const GUID IID_IMemAllocatorCallbackTemp;
extern KSALLOC_EXPORT const GUID IID_IMemAllocatorNotifyCallbackTemp;
extern KSALLOC_EXPORT const GUID CLSID_MemoryAllocator;

/* Interfaces, declared ahead because their methods name each other. */
typedef struct IMemAllocator IMemAllocator;
typedef IMemAllocator *PMEMALLOCATOR;
typedef struct IMemAllocatorCallbackTemp IMemAllocatorCallbackTemp;
typedef struct IMemAllocatorNotifyCallbackTemp IMemAllocatorNotifyCallbackTemp;
typedef struct IMediaSample IMediaSample;
typedef struct IMediaSample2 IMediaSample2;

/*
 * Structures. Field names, anonymous unions and sizes are Windows'; the asserts after each one
 * are the x86-64 sizes from the Windows headers.
 */

/* The IDL "long" fields are 32 bits on Windows, hence LONG. */
typedef struct _AllocatorProperties {
	LONG cBuffers; /* number of buffers */
	LONG cbBuffer; /* bytes per buffer, not counting the prefix */
	LONG cbAlign;  /* alignment in bytes (not a mask) of the start of the prefix */
	LONG cbPrefix; /* bytes in front of each buffer */
} ALLOCATOR_PROPERTIES, *PALLOCATOR_PROPERTIES;
KSALLOC_STATIC_ASSERT(sizeof(ALLOCATOR_PROPERTIES) == 16, "ALLOCATOR_PROPERTIES is 16 bytes");

/*
 * strmif.h's media type: what a sample carries when its format changes. pbFormat points to
 * cbFormat bytes of format block, whose structure formattype names; pUnk is NULL for most
 * formats. Windows frees one with DeleteMediaType(); see IMediaSample_GetMediaType() for how
 * to free the copies that ksalloc hands out.
 */
typedef struct _AMMediaType {
	GUID majortype;
	GUID subtype;
	BOOL bFixedSizeSamples;
	BOOL bTemporalCompression;
	ULONG lSampleSize;
	GUID formattype;
	IUnknown *pUnk;
	ULONG cbFormat;
	BYTE *pbFormat;
} AM_MEDIA_TYPE;
/* 72 bytes on 32-bit Windows; on x86-64 pUnk is 8-byte aligned, leaving two 4-byte holes. */
#if defined(__SIZEOF_POINTER__) && __SIZEOF_POINTER__ == 8
KSALLOC_STATIC_ASSERT(sizeof(AM_MEDIA_TYPE) == 88, "AM_MEDIA_TYPE is 88 bytes");
KSALLOC_STATIC_ASSERT(offsetof(AM_MEDIA_TYPE, pUnk) == 0x40, "AM_MEDIA_TYPE.pUnk is at 0x40");
KSALLOC_STATIC_ASSERT(offsetof(AM_MEDIA_TYPE, pbFormat) == 0x50,
		      "AM_MEDIA_TYPE.pbFormat is at 0x50");
#endif

/* AM_SAMPLE2_PROPERTIES.dwSampleFlags. The low ones are KSSTREAM_HEADER_OPTIONSF_*'s values. */
typedef enum tagAM_SAMPLE_PROPERTY_FLAGS {
	AM_SAMPLE_SPLICEPOINT = 0x1,
	AM_SAMPLE_PREROLL = 0x2,
	AM_SAMPLE_DATADISCONTINUITY = 0x4,
	AM_SAMPLE_TYPECHANGED = 0x8,
	AM_SAMPLE_TIMEVALID = 0x10,
	AM_SAMPLE_TIMEDISCONTINUITY = 0x40,
	AM_SAMPLE_FLUSH_ON_PAUSE = 0x80,
	AM_SAMPLE_STOPVALID = 0x100,
	AM_SAMPLE_ENDOFSTREAM = 0x200,
	AM_STREAM_MEDIA = 0,
	AM_STREAM_CONTROL = 1,
} AM_SAMPLE_PROPERTY_FLAGS;

/* What IMediaSample2's GetProperties and SetProperties carry: a sample's properties at once. */
typedef struct tagAM_SAMPLE2_PROPERTIES {
	DWORD cbData;              /* bytes of this structure that are meant (a prefix of it) */
	DWORD dwTypeSpecificFlags; /* format-specific (KSSTREAM_HEADER.TypeSpecificFlags) */
	DWORD dwSampleFlags;       /* AM_SAMPLE_* */
	LONG lActual;              /* GetActualDataLength */
	REFERENCE_TIME tStart;     /* with AM_SAMPLE_TIMEVALID */
	REFERENCE_TIME tStop;      /* with AM_SAMPLE_STOPVALID */
	DWORD dwStreamId;          /* AM_STREAM_MEDIA, or AM_STREAM_CONTROL */
	AM_MEDIA_TYPE *pMediaType; /* with AM_SAMPLE_TYPECHANGED; the sample's own, not a copy */
	BYTE *pbBuffer;            /* GetPointer */
	LONG cbBuffer;             /* GetSize */
} AM_SAMPLE2_PROPERTIES;
#if defined(__SIZEOF_POINTER__) && __SIZEOF_POINTER__ == 8
KSALLOC_STATIC_ASSERT(sizeof(AM_SAMPLE2_PROPERTIES) == 64, "AM_SAMPLE2_PROPERTIES is 64 bytes");
KSALLOC_STATIC_ASSERT(offsetof(AM_SAMPLE2_PROPERTIES, lActual) == 12,
		      "AM_SAMPLE2_PROPERTIES.lActual is at 12");
KSALLOC_STATIC_ASSERT(offsetof(AM_SAMPLE2_PROPERTIES, tStart) == 16,
		      "AM_SAMPLE2_PROPERTIES.tStart is at 16");
KSALLOC_STATIC_ASSERT(offsetof(AM_SAMPLE2_PROPERTIES, pMediaType) == 40,
		      "AM_SAMPLE2_PROPERTIES.pMediaType is at 40");
KSALLOC_STATIC_ASSERT(offsetof(AM_SAMPLE2_PROPERTIES, pbBuffer) == 48,
		      "AM_SAMPLE2_PROPERTIES.pbBuffer is at 48");
KSALLOC_STATIC_ASSERT(offsetof(AM_SAMPLE2_PROPERTIES, cbBuffer) == 56,
		      "AM_SAMPLE2_PROPERTIES.cbBuffer is at 56");
#endif

/*
 * A buffer of an allocator, with the properties a stream gives it: times, flags, media type.
 * The samples of ksalloc's IMemAllocator are frames of its pool. As on Windows, a sample is
 * used by one thread at a time (its setters and getters take no lock); AddRef and Release may
 * come from any thread.
 */
/* One slot a line (clang-format would take "HRESULT(STDMETHODCALLTYPE *Slot)" for a call). */
/* clang-format off */
typedef struct IMediaSampleVtbl {
	/*
	 * 0: QueryInterface - answers IID_IUnknown, IID_IMediaSample and IID_IMediaSample2,
	 * with the same pointer.
	 */
	HRESULT(STDMETHODCALLTYPE *QueryInterface)(IMediaSample *This, REFIID riid,
						   void **ppvObject);

	/* 1: AddRef - take one more reference. Returns the new count, for debugging only. */
	ULONG(STDMETHODCALLTYPE *AddRef)(IMediaSample *This);

	/*
	 * 2: Release - drop one reference. The last one hands the sample to its allocator's
	 * ReleaseBuffer, which gives the frame back to the pool and frees the sample (and the
	 * media type set on it). Returns the remaining count, for debugging only.
	 */
	ULONG(STDMETHODCALLTYPE *Release)(IMediaSample *This);

	/*
	 * 3: GetPointer - *@ppBuffer receives the sample's memory: the frame's start plus the
	 * allocator's cbPrefix. It is shared memory, writable, valid until the last Release.
	 * (A sample of KsStreamReceiveSample() is a whole frame of a stream, read-only where
	 * the consumer may not write: see <ksalloc/ksproxy.h>.)
	 * Returns S_OK, or E_POINTER if @ppBuffer is NULL.
	 */
	HRESULT(STDMETHODCALLTYPE *GetPointer)(IMediaSample *This, BYTE **ppBuffer);

	/* 4: GetSize - the bytes at GetPointer: the allocator's cbBuffer. */
	LONG(STDMETHODCALLTYPE *GetSize)(IMediaSample *This);

	/*
	 * 5: GetTime - the stream times (100 ns units) last given to SetTime. Returns S_OK with
	 * both; VFW_S_NO_STOP_TIME when only a start was set (*@pTimeEnd is then start + 1, as
	 * Windows' base classes report it); VFW_E_SAMPLE_TIME_NOT_SET when none was set (both
	 * untouched); E_POINTER if either pointer is NULL.
	 */
	HRESULT(STDMETHODCALLTYPE *GetTime)(IMediaSample *This, REFERENCE_TIME *pTimeStart,
					    REFERENCE_TIME *pTimeEnd);

	/*
	 * 6: SetTime - set both times, only the start (@pTimeEnd NULL), or neither (@pTimeStart
	 * NULL). The values are copied. Returns S_OK. A new sample has no times.
	 */
	HRESULT(STDMETHODCALLTYPE *SetTime)(IMediaSample *This, REFERENCE_TIME *pTimeStart,
					    REFERENCE_TIME *pTimeEnd);

	/* 7: IsSyncPoint - S_OK if the sample is a sync point (a key frame), else S_FALSE. */
	HRESULT(STDMETHODCALLTYPE *IsSyncPoint)(IMediaSample *This);

	/* 8: SetSyncPoint - set or clear that flag. Returns S_OK. */
	HRESULT(STDMETHODCALLTYPE *SetSyncPoint)(IMediaSample *This, BOOL bIsSyncPoint);

	/* 9: IsPreroll - S_OK if the sample is preroll (not to be rendered), else S_FALSE. */
	HRESULT(STDMETHODCALLTYPE *IsPreroll)(IMediaSample *This);

	/* 10: SetPreroll - set or clear that flag. Returns S_OK. */
	HRESULT(STDMETHODCALLTYPE *SetPreroll)(IMediaSample *This, BOOL bIsPreroll);

	/* 11: GetActualDataLength - bytes of valid data; GetSize() in a new sample. */
	LONG(STDMETHODCALLTYPE *GetActualDataLength)(IMediaSample *This);

	/*
	 * 12: SetActualDataLength - set that count. Returns S_OK, or VFW_E_BUFFER_OVERFLOW if
	 * @lLen is negative or above GetSize().
	 */
	HRESULT(STDMETHODCALLTYPE *SetActualDataLength)(IMediaSample *This, LONG lLen);

	/*
	 * 13: GetMediaType - the media type given to SetMediaType, if any.
	 * @ppMediaType: receives a new copy, or NULL when no type was set (the format did not
	 *	change). The copy and its pbFormat (NULL when cbFormat is 0) are malloc'ed, and
	 *	the copy holds a reference to its pUnk: the caller frees it as Windows'
	 *	DeleteMediaType() would, with
	 *	"if (mt->pUnk) IUnknown_Release(mt->pUnk); free(mt->pbFormat); free(mt);".
	 * Returns S_OK; S_FALSE when no type was set; E_POINTER; E_OUTOFMEMORY.
	 */
	HRESULT(STDMETHODCALLTYPE *GetMediaType)(IMediaSample *This, AM_MEDIA_TYPE **ppMediaType);

	/*
	 * 14: SetMediaType - store a copy of *@pMediaType (caller-owned): the structure, the
	 * cbFormat bytes at pbFormat, and a reference to pUnk. NULL clears it. A new sample has
	 * none. Returns S_OK; E_POINTER if cbFormat is above 0 and pbFormat NULL; E_OUTOFMEMORY
	 * (the sample then has no type).
	 */
	HRESULT(STDMETHODCALLTYPE *SetMediaType)(IMediaSample *This, AM_MEDIA_TYPE *pMediaType);

	/* 15: IsDiscontinuity - S_OK if the sample starts after a break (a seek), else S_FALSE. */
	HRESULT(STDMETHODCALLTYPE *IsDiscontinuity)(IMediaSample *This);

	/* 16: SetDiscontinuity - set or clear that flag. Returns S_OK. */
	HRESULT(STDMETHODCALLTYPE *SetDiscontinuity)(IMediaSample *This, BOOL bDiscontinuity);

	/*
	 * 17: GetMediaTime - the media times (frame or byte numbers) last given to
	 * SetMediaTime. Returns S_OK; VFW_E_MEDIA_TIME_NOT_SET when none were set (both
	 * untouched); E_POINTER if either pointer is NULL.
	 */
	HRESULT(STDMETHODCALLTYPE *GetMediaTime)(IMediaSample *This, LONGLONG *pTimeStart,
						 LONGLONG *pTimeEnd);

	/*
	 * 18: SetMediaTime - set both media times, or neither (@pTimeStart NULL). Returns S_OK,
	 * or E_POINTER if only @pTimeEnd is NULL.
	 */
	HRESULT(STDMETHODCALLTYPE *SetMediaTime)(IMediaSample *This, LONGLONG *pTimeStart,
						 LONGLONG *pTimeEnd);
} IMediaSampleVtbl;
/* clang-format on */

struct IMediaSample {
	const struct IMediaSampleVtbl *lpVtbl;
};

#define IMediaSample_QueryInterface(This, riid, ppvObject) \
	((This)->lpVtbl->QueryInterface(This, riid, ppvObject))
#define IMediaSample_AddRef(This) ((This)->lpVtbl->AddRef(This))
#define IMediaSample_Release(This) ((This)->lpVtbl->Release(This))
#define IMediaSample_GetPointer(This, ppBuffer) ((This)->lpVtbl->GetPointer(This, ppBuffer))
#define IMediaSample_GetSize(This) ((This)->lpVtbl->GetSize(This))
#define IMediaSample_GetTime(This, pTimeStart, pTimeEnd) \
	((This)->lpVtbl->GetTime(This, pTimeStart, pTimeEnd))
#define IMediaSample_SetTime(This, pTimeStart, pTimeEnd) \
	((This)->lpVtbl->SetTime(This, pTimeStart, pTimeEnd))
#define IMediaSample_IsSyncPoint(This) ((This)->lpVtbl->IsSyncPoint(This))
#define IMediaSample_SetSyncPoint(This, bIsSyncPoint) \
	((This)->lpVtbl->SetSyncPoint(This, bIsSyncPoint))
#define IMediaSample_IsPreroll(This) ((This)->lpVtbl->IsPreroll(This))
#define IMediaSample_SetPreroll(This, bIsPreroll) ((This)->lpVtbl->SetPreroll(This, bIsPreroll))
#define IMediaSample_GetActualDataLength(This) ((This)->lpVtbl->GetActualDataLength(This))
#define IMediaSample_SetActualDataLength(This, lLen) \
	((This)->lpVtbl->SetActualDataLength(This, lLen))
#define IMediaSample_GetMediaType(This, ppMediaType) \
	((This)->lpVtbl->GetMediaType(This, ppMediaType))
#define IMediaSample_SetMediaType(This, pMediaType) ((This)->lpVtbl->SetMediaType(This, pMediaType))
#define IMediaSample_IsDiscontinuity(This) ((This)->lpVtbl->IsDiscontinuity(This))
#define IMediaSample_SetDiscontinuity(This, bDiscontinuity) \
	((This)->lpVtbl->SetDiscontinuity(This, bDiscontinuity))
#define IMediaSample_GetMediaTime(This, pTimeStart, pTimeEnd) \
	((This)->lpVtbl->GetMediaTime(This, pTimeStart, pTimeEnd))
#define IMediaSample_SetMediaTime(This, pTimeStart, pTimeEnd) \
	((This)->lpVtbl->SetMediaTime(This, pTimeStart, pTimeEnd))

/*
 * IMediaSample with its properties at once. ksalloc's samples are all IMediaSample2s:
 * QueryInterface(IID_IMediaSample2) on one answers with the same pointer.
 */
/* One slot a line (clang-format would take "HRESULT(STDMETHODCALLTYPE *Slot)" for a call). */
/* clang-format off */
typedef struct IMediaSample2Vtbl {
	/* 0-18: as in IMediaSampleVtbl, with This typed as IMediaSample2. */
	HRESULT(STDMETHODCALLTYPE *QueryInterface)(IMediaSample2 *This, REFIID riid,
						   void **ppvObject);
	ULONG(STDMETHODCALLTYPE *AddRef)(IMediaSample2 *This);
	ULONG(STDMETHODCALLTYPE *Release)(IMediaSample2 *This);
	HRESULT(STDMETHODCALLTYPE *GetPointer)(IMediaSample2 *This, BYTE **ppBuffer);
	LONG(STDMETHODCALLTYPE *GetSize)(IMediaSample2 *This);
	HRESULT(STDMETHODCALLTYPE *GetTime)(IMediaSample2 *This, REFERENCE_TIME *pTimeStart,
					    REFERENCE_TIME *pTimeEnd);
	HRESULT(STDMETHODCALLTYPE *SetTime)(IMediaSample2 *This, REFERENCE_TIME *pTimeStart,
					    REFERENCE_TIME *pTimeEnd);
	HRESULT(STDMETHODCALLTYPE *IsSyncPoint)(IMediaSample2 *This);
	HRESULT(STDMETHODCALLTYPE *SetSyncPoint)(IMediaSample2 *This, BOOL bIsSyncPoint);
	HRESULT(STDMETHODCALLTYPE *IsPreroll)(IMediaSample2 *This);
	HRESULT(STDMETHODCALLTYPE *SetPreroll)(IMediaSample2 *This, BOOL bIsPreroll);
	LONG(STDMETHODCALLTYPE *GetActualDataLength)(IMediaSample2 *This);
	HRESULT(STDMETHODCALLTYPE *SetActualDataLength)(IMediaSample2 *This, LONG lLen);
	HRESULT(STDMETHODCALLTYPE *GetMediaType)(IMediaSample2 *This, AM_MEDIA_TYPE **ppMediaType);
	HRESULT(STDMETHODCALLTYPE *SetMediaType)(IMediaSample2 *This, AM_MEDIA_TYPE *pMediaType);
	HRESULT(STDMETHODCALLTYPE *IsDiscontinuity)(IMediaSample2 *This);
	HRESULT(STDMETHODCALLTYPE *SetDiscontinuity)(IMediaSample2 *This, BOOL bDiscontinuity);
	HRESULT(STDMETHODCALLTYPE *GetMediaTime)(IMediaSample2 *This, LONGLONG *pTimeStart,
						 LONGLONG *pTimeEnd);
	HRESULT(STDMETHODCALLTYPE *SetMediaTime)(IMediaSample2 *This, LONGLONG *pTimeStart,
						 LONGLONG *pTimeEnd);

	/*
	 * 19: GetProperties - copy the first @cbProperties bytes (at most
	 * sizeof(AM_SAMPLE2_PROPERTIES)) of the sample's AM_SAMPLE2_PROPERTIES into
	 * @pbProperties; cbData says how many were copied. pMediaType is the sample's own type
	 * (with AM_SAMPLE_TYPECHANGED; else NULL): not a copy, valid while the sample is and its
	 * type is not set again. Returns S_OK (also for @cbProperties 0), or E_POINTER.
	 */
	HRESULT(STDMETHODCALLTYPE *GetProperties)(IMediaSample2 *This, DWORD cbProperties,
						  BYTE *pbProperties);

	/*
	 * 20: SetProperties - set the properties in the first @cbProperties bytes of the
	 * AM_SAMPLE2_PROPERTIES at @pbProperties (no more than its cbData says); fewer bytes than
	 * cbData itself set nothing. pbBuffer and cbBuffer cannot change: they must be 0 or the
	 * sample's. A media type given with AM_SAMPLE_TYPECHANGED is copied. Returns S_OK;
	 * E_POINTER; E_INVALIDARG for an unknown flag, a size above the structure's, another
	 * buffer, or an lActual beyond the buffer; E_OUTOFMEMORY. Nothing is set on failure.
	 */
	HRESULT(STDMETHODCALLTYPE *SetProperties)(IMediaSample2 *This, DWORD cbProperties,
						  const BYTE *pbProperties);
} IMediaSample2Vtbl;
/* clang-format on */

struct IMediaSample2 {
	const struct IMediaSample2Vtbl *lpVtbl;
};

#define IMediaSample2_QueryInterface(This, riid, ppvObject) \
	((This)->lpVtbl->QueryInterface(This, riid, ppvObject))
#define IMediaSample2_AddRef(This) ((This)->lpVtbl->AddRef(This))
#define IMediaSample2_Release(This) ((This)->lpVtbl->Release(This))
#define IMediaSample2_GetPointer(This, ppBuffer) ((This)->lpVtbl->GetPointer(This, ppBuffer))
#define IMediaSample2_GetSize(This) ((This)->lpVtbl->GetSize(This))
#define IMediaSample2_GetTime(This, pTimeStart, pTimeEnd) \
	((This)->lpVtbl->GetTime(This, pTimeStart, pTimeEnd))
#define IMediaSample2_SetTime(This, pTimeStart, pTimeEnd) \
	((This)->lpVtbl->SetTime(This, pTimeStart, pTimeEnd))
#define IMediaSample2_IsSyncPoint(This) ((This)->lpVtbl->IsSyncPoint(This))
#define IMediaSample2_SetSyncPoint(This, bIsSyncPoint) \
	((This)->lpVtbl->SetSyncPoint(This, bIsSyncPoint))
#define IMediaSample2_IsPreroll(This) ((This)->lpVtbl->IsPreroll(This))
#define IMediaSample2_SetPreroll(This, bIsPreroll) ((This)->lpVtbl->SetPreroll(This, bIsPreroll))
#define IMediaSample2_GetActualDataLength(This) ((This)->lpVtbl->GetActualDataLength(This))
#define IMediaSample2_SetActualDataLength(This, lLen) \
	((This)->lpVtbl->SetActualDataLength(This, lLen))
#define IMediaSample2_GetMediaType(This, ppMediaType) \
	((This)->lpVtbl->GetMediaType(This, ppMediaType))
#define IMediaSample2_SetMediaType(This, pMediaType) \
	((This)->lpVtbl->SetMediaType(This, pMediaType))
#define IMediaSample2_IsDiscontinuity(This) ((This)->lpVtbl->IsDiscontinuity(This))
#define IMediaSample2_SetDiscontinuity(This, bDiscontinuity) \
	((This)->lpVtbl->SetDiscontinuity(This, bDiscontinuity))
#define IMediaSample2_GetMediaTime(This, pTimeStart, pTimeEnd) \
	((This)->lpVtbl->GetMediaTime(This, pTimeStart, pTimeEnd))
#define IMediaSample2_SetMediaTime(This, pTimeStart, pTimeEnd) \
	((This)->lpVtbl->SetMediaTime(This, pTimeStart, pTimeEnd))
#define IMediaSample2_GetProperties(This, cbProperties, pbProperties) \
	((This)->lpVtbl->GetProperties(This, cbProperties, pbProperties))
#define IMediaSample2_SetProperties(This, cbProperties, pbProperties) \
	((This)->lpVtbl->SetProperties(This, cbProperties, pbProperties))

/*
 * DirectShow's allocator. The object from KsOpenAllocator() / KsCreateNamedAllocator() answers
 * QueryInterface(IID_IMemAllocator) with it, and its samples are the frames of the pool.
 *
 * The pool lives in ksallocd and other processes may use it at the same time, which shapes the
 * contract:
 * - Commit and Decommit act on the pool, for every process that has it open. A new object
 *   starts committed when its pool is; pools of the daemon's config start committed. An object
 *   also keeps its own state: after its Decommit, or when it started decommitted, GetBuffer
 *   refuses until its own Commit, even while another object has committed the pool again.
 * - The properties are the pool's framing: cBuffers = Frames, cbBuffer + cbPrefix = FrameSize,
 *   cbAlign = FileAlignment + 1, the prefix at the start of each frame. New properties take
 *   effect at Commit by giving the pool a new framing, which only a pool that a client created
 *   (KsCreateNamedAllocator) can take, and only while no other process has it open.
 * - Samples keep their frame, and their allocator, until their last Release, whatever happens
 *   to the allocator meanwhile (Decommit, its own last Release).
 * - An allocator that consumes a stream (KsOpenStream in <ksalloc/ksproxy.h>) hands out no
 *   buffers and shapes nothing: GetBuffer and SetProperties fail with VFW_E_WRONG_STATE, and
 *   its Commit and Decommit are its own, leaving the pool to the stream's producer.
 * - Any thread may call any method; GetBuffer and sample releases may run in many at once.
 *   IKsAllocatorEx_KsGetProperties() follows what SetProperties stores and Commit applies.
 */
/* One slot a line (clang-format would take "HRESULT(STDMETHODCALLTYPE *Slot)" for a call). */
/* clang-format off */
typedef struct IMemAllocatorVtbl {
	/* 0-2: IUnknown. */
	HRESULT(STDMETHODCALLTYPE *QueryInterface)(IMemAllocator *This, REFIID riid,
						   void **ppvObject);
	ULONG(STDMETHODCALLTYPE *AddRef)(IMemAllocator *This);
	ULONG(STDMETHODCALLTYPE *Release)(IMemAllocator *This);

	/*
	 * 3: SetProperties - ask for the properties @pRequest (caller-owned); @pActual
	 * (caller-owned, untouched on failure) receives what was granted: cbBuffer grows so that
	 * cbPrefix + cbBuffer is a multiple of cbAlign, as Windows' CMemAllocator rounds; the
	 * rest is as asked. Allocates nothing: Commit applies them.
	 * Returns S_OK; E_POINTER for a NULL argument; VFW_E_BADALIGN if cbAlign is 0, not a
	 * power of two, or above 4096 (frames are at most page aligned); E_INVALIDARG for a
	 * negative count or size, or a frame above 2 GiB; VFW_E_ALREADY_COMMITTED while
	 * committed; VFW_E_BUFFERS_OUTSTANDING while a sample (or a KsAllocateFrame() frame) of
	 * this object is out. cBuffers or cbBuffer 0 are taken here and refused by Commit.
	 */
	HRESULT(STDMETHODCALLTYPE *SetProperties)(IMemAllocator *This,
						  ALLOCATOR_PROPERTIES *pRequest,
						  ALLOCATOR_PROPERTIES *pActual);

	/*
	 * 4: GetProperties - copy into @pProps (caller-owned) the properties SetProperties last
	 * granted, or until then those of the pool's framing with cbPrefix 0. Returns S_OK or
	 * E_POINTER.
	 */
	HRESULT(STDMETHODCALLTYPE *GetProperties)(IMemAllocator *This,
						  ALLOCATOR_PROPERTIES *pProps);

	/*
	 * 5: Commit - commit the pool, after giving it the framing of the properties that
	 * SetProperties granted if that differs from the pool's.
	 * Returns S_OK, also when already committed (the pool is committed again, in case
	 * another process decommitted it); VFW_E_SIZENOTSET if cbBuffer is 0;
	 * VFW_E_BUFFER_NOTSET if cBuffers is 0; VFW_E_WRONG_STATE if the pool cannot take a new
	 * framing: a pool of the daemon's config, or one open in another process (or another
	 * allocator object) or with frames held there; E_INVALIDARG if the daemon's limits refuse
	 * the framing; VFW_E_BUFFERS_OUTSTANDING if a frame of this object is still out; and the
	 * daemon errors listed at KsOpenAllocator(). On failure the pool keeps its framing and
	 * stays decommitted, and the granted properties stay: SetProperties ones the pool can
	 * take, or its own, and Commit again.
	 */
	HRESULT(STDMETHODCALLTYPE *Commit)(IMemAllocator *This);

	/*
	 * 6: Decommit - decommit the pool, for every process that uses it: GetBuffer then fails
	 * with VFW_E_NOT_COMMITTED until Commit, and every thread waiting in GetBuffer, in any
	 * process, wakes and fails so. Samples already out stay valid until released.
	 * Returns S_OK, also when already decommitted, or a daemon error (see KsOpenAllocator).
	 */
	HRESULT(STDMETHODCALLTYPE *Decommit)(IMemAllocator *This);

	/*
	 * 7: GetBuffer - a frame of the pool as a new sample.
	 * @ppBuffer: receives the sample with one reference, or NULL on failure. Its
	 *	GetPointer is the frame's start + cbPrefix, GetSize and GetActualDataLength are
	 *	cbBuffer, and it has no times, no flags and no media type. Release it to give the
	 *	frame back.
	 * @pStartTime, @pEndTime: hints, unused (may be NULL); the sample is not stamped.
	 * @dwFlags: AM_GBF_NOWAIT fails at once rather than wait for a frame; the other AM_GBF_*
	 *	bits are hints and ignored.
	 * Returns S_OK; E_POINTER; VFW_E_NOT_COMMITTED when the allocator or the pool is
	 * decommitted, also when that happens during the wait; VFW_E_TIMEOUT with AM_GBF_NOWAIT
	 * when every frame is in use; E_OUTOFMEMORY; VFW_E_WRONG_STATE on an allocator that
	 * consumes a stream (KsOpenStream), whose samples come from KsStreamReceiveSample().
	 */
	HRESULT(STDMETHODCALLTYPE *GetBuffer)(IMemAllocator *This, IMediaSample **ppBuffer,
					      REFERENCE_TIME *pStartTime,
					      REFERENCE_TIME *pEndTime, DWORD dwFlags);

	/*
	 * 8: ReleaseBuffer - give the frame of @pBuffer back to the pool and free the sample. A
	 * sample calls it itself at its last Release; nobody else needs to. Returns S_OK;
	 * E_POINTER; E_INVALIDARG for a sample of another allocator, or one still referenced.
	 */
	HRESULT(STDMETHODCALLTYPE *ReleaseBuffer)(IMemAllocator *This, IMediaSample *pBuffer);
} IMemAllocatorVtbl;
/* clang-format on */

struct IMemAllocator {
	const struct IMemAllocatorVtbl *lpVtbl;
};

#define IMemAllocator_QueryInterface(This, riid, ppvObject) \
	((This)->lpVtbl->QueryInterface(This, riid, ppvObject))
#define IMemAllocator_AddRef(This) ((This)->lpVtbl->AddRef(This))
#define IMemAllocator_Release(This) ((This)->lpVtbl->Release(This))
#define IMemAllocator_SetProperties(This, pRequest, pActual) \
	((This)->lpVtbl->SetProperties(This, pRequest, pActual))
#define IMemAllocator_GetProperties(This, pProps) ((This)->lpVtbl->GetProperties(This, pProps))
#define IMemAllocator_Commit(This) ((This)->lpVtbl->Commit(This))
#define IMemAllocator_Decommit(This) ((This)->lpVtbl->Decommit(This))
#define IMemAllocator_GetBuffer(This, ppBuffer, pStartTime, pEndTime, dwFlags) \
	((This)->lpVtbl->GetBuffer(This, ppBuffer, pStartTime, pEndTime, dwFlags))
#define IMemAllocator_ReleaseBuffer(This, pBuffer) ((This)->lpVtbl->ReleaseBuffer(This, pBuffer))

/* One slot a line (clang-format would take "HRESULT(STDMETHODCALLTYPE *Slot)" for a call). */
/* clang-format off */
typedef struct IMemAllocatorNotifyCallbackTempVtbl {
	/* 0-2: IUnknown. */
	HRESULT(STDMETHODCALLTYPE *QueryInterface)(IMemAllocatorNotifyCallbackTemp *This,
						   REFIID riid, void **ppvObject);
	ULONG(STDMETHODCALLTYPE *AddRef)(IMemAllocatorNotifyCallbackTemp *This);
	ULONG(STDMETHODCALLTYPE *Release)(IMemAllocatorNotifyCallbackTemp *This);

	/* 3: NotifyRelease - a sample went back to the allocator's free list. */
	HRESULT(STDMETHODCALLTYPE *NotifyRelease)(IMemAllocatorNotifyCallbackTemp *This);
} IMemAllocatorNotifyCallbackTempVtbl;
/* clang-format on */

struct IMemAllocatorNotifyCallbackTemp {
	const struct IMemAllocatorNotifyCallbackTempVtbl *lpVtbl;
};

#define IMemAllocatorNotifyCallbackTemp_QueryInterface(This, riid, ppvObject) \
	((This)->lpVtbl->QueryInterface(This, riid, ppvObject))
#define IMemAllocatorNotifyCallbackTemp_AddRef(This) ((This)->lpVtbl->AddRef(This))
#define IMemAllocatorNotifyCallbackTemp_Release(This) ((This)->lpVtbl->Release(This))
#define IMemAllocatorNotifyCallbackTemp_NotifyRelease(This) ((This)->lpVtbl->NotifyRelease(This))

/* One slot a line (clang-format would take "HRESULT(STDMETHODCALLTYPE *Slot)" for a call). */
/* clang-format off */
typedef struct IMemAllocatorCallbackTempVtbl {
	/* 0-8: as in IMemAllocatorVtbl, with This typed as IMemAllocatorCallbackTemp. */
	HRESULT(STDMETHODCALLTYPE *QueryInterface)(IMemAllocatorCallbackTemp *This, REFIID riid,
						   void **ppvObject);
	ULONG(STDMETHODCALLTYPE *AddRef)(IMemAllocatorCallbackTemp *This);
	ULONG(STDMETHODCALLTYPE *Release)(IMemAllocatorCallbackTemp *This);
	HRESULT(STDMETHODCALLTYPE *SetProperties)(IMemAllocatorCallbackTemp *This,
						  ALLOCATOR_PROPERTIES *pRequest,
						  ALLOCATOR_PROPERTIES *pActual);
	HRESULT(STDMETHODCALLTYPE *GetProperties)(IMemAllocatorCallbackTemp *This,
						  ALLOCATOR_PROPERTIES *pProps);
	HRESULT(STDMETHODCALLTYPE *Commit)(IMemAllocatorCallbackTemp *This);
	HRESULT(STDMETHODCALLTYPE *Decommit)(IMemAllocatorCallbackTemp *This);
	HRESULT(STDMETHODCALLTYPE *GetBuffer)(IMemAllocatorCallbackTemp *This,
					      IMediaSample **ppBuffer, REFERENCE_TIME *pStartTime,
					      REFERENCE_TIME *pEndTime, DWORD dwFlags);
	HRESULT(STDMETHODCALLTYPE *ReleaseBuffer)(IMemAllocatorCallbackTemp *This,
						  IMediaSample *pBuffer);

	/*
	 * 9: SetNotify - call @pNotify's NotifyRelease whenever a sample comes back, in the
	 * thread that released it, once its frame is back in the pool; the allocator holds a
	 * reference to @pNotify until replaced (NULL clears it) or its own last Release.
	 */
	HRESULT(STDMETHODCALLTYPE *SetNotify)(IMemAllocatorCallbackTemp *This,
					      IMemAllocatorNotifyCallbackTemp *pNotify);

	/*
	 * 10: GetFreeCount - the number of free samples into *@plBuffersFree (caller-owned).
	 * ksalloc counts the pool's free frames, in every process: one request to the daemon,
	 * and a snapshot.
	 */
	HRESULT(STDMETHODCALLTYPE *GetFreeCount)(IMemAllocatorCallbackTemp *This,
						 LONG *plBuffersFree);
} IMemAllocatorCallbackTempVtbl;
/* clang-format on */

struct IMemAllocatorCallbackTemp {
	const struct IMemAllocatorCallbackTempVtbl *lpVtbl;
};

#define IMemAllocatorCallbackTemp_QueryInterface(This, riid, ppvObject) \
	((This)->lpVtbl->QueryInterface(This, riid, ppvObject))
#define IMemAllocatorCallbackTemp_AddRef(This) ((This)->lpVtbl->AddRef(This))
#define IMemAllocatorCallbackTemp_Release(This) ((This)->lpVtbl->Release(This))
#define IMemAllocatorCallbackTemp_SetProperties(This, pRequest, pActual) \
	((This)->lpVtbl->SetProperties(This, pRequest, pActual))
#define IMemAllocatorCallbackTemp_GetProperties(This, pProps) \
	((This)->lpVtbl->GetProperties(This, pProps))
#define IMemAllocatorCallbackTemp_Commit(This) ((This)->lpVtbl->Commit(This))
#define IMemAllocatorCallbackTemp_Decommit(This) ((This)->lpVtbl->Decommit(This))
#define IMemAllocatorCallbackTemp_GetBuffer(This, ppBuffer, pStartTime, pEndTime, dwFlags) \
	((This)->lpVtbl->GetBuffer(This, ppBuffer, pStartTime, pEndTime, dwFlags))
#define IMemAllocatorCallbackTemp_ReleaseBuffer(This, pBuffer) \
	((This)->lpVtbl->ReleaseBuffer(This, pBuffer))
#define IMemAllocatorCallbackTemp_SetNotify(This, pNotify) \
	((This)->lpVtbl->SetNotify(This, pNotify))
#define IMemAllocatorCallbackTemp_GetFreeCount(This, plBuffersFree) \
	((This)->lpVtbl->GetFreeCount(This, plBuffersFree))

#ifdef __cplusplus
}
#endif

#endif /* KSALLOC_STRMIF_H */
