/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#ifndef KSALLOC_KS_H
#define KSALLOC_KS_H

/*
 * <ksalloc/ks.h>: the allocator part of Windows' ks.h: the framing and status structures, the
 * KSALLOCATOR_* flags, the stream-allocator property, method and event ids, the GUIDs of
 * memory types and property sets, and what a frame of a stream carries (KSTIME,
 * KSSTREAM_HEADER and its KSSTREAM_HEADER_OPTIONSF_* flags); and from wdm.h, POOL_TYPE and
 * the FILE_*_ALIGNMENT masks.
 * <ksalloc/ksproxy.h> includes it.
 */

#include <stddef.h>

#include <ksalloc/_ksalloc-common.h>
#include <ksalloc/guiddef.h>
#include <ksalloc/windef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ks.h: the STATIC_ initializer of a named GUID, usable inside an aggregate initializer. */
#ifndef STATICGUIDOF
#define STATICGUIDOF(guid) STATIC_##guid
#endif

/* Enums. All are 4 bytes wide, as Windows' C enums are (never build with -fshort-enums). */

/*
 * wdm.h's kernel pools. KSALLOCATOR_FRAMING.PoolType stays a ULONG, as in Windows' user-mode
 * headers; ksalloc accepts only NonPagedPool (pages locked in memory) and PagedPool.
 */
typedef enum _POOL_TYPE {
	NonPagedPool = 0,
	PagedPool = 1,
	NonPagedPoolMustSucceed = 2,
	DontUseThisType = 3,
	NonPagedPoolCacheAligned = 4,
	PagedPoolCacheAligned = 5,
	NonPagedPoolCacheAlignedMustS = 6,
	MaxPoolType = 7,
	NonPagedPoolSession = 32,
	PagedPoolSession = 33,
	NonPagedPoolMustSucceedSession = 34,
	DontUseThisTypeSession = 35,
	NonPagedPoolCacheAlignedSession = 36,
	PagedPoolCacheAlignedSession = 37,
	NonPagedPoolCacheAlignedMustSSession = 38,
	NonPagedPoolNx = 512,
	NonPagedPoolNxCacheAligned = 516,
} POOL_TYPE;

/* KSALLOCATOR_FRAMING.RequirementsFlags: what a pin reports it needs. */
#define KSALLOCATOR_REQUIREMENTF_INPLACE_MODIFIER 0x00000001
#define KSALLOCATOR_REQUIREMENTF_SYSTEM_MEMORY 0x00000002
#define KSALLOCATOR_REQUIREMENTF_FRAME_INTEGRITY 0x00000004
#define KSALLOCATOR_REQUIREMENTF_MUST_ALLOCATE 0x00000008
#define KSALLOCATOR_REQUIREMENTF_SYSTEM_MEMORY_CUSTOM_ALLOCATION 0x00000010
#define KSALLOCATOR_REQUIREMENTF_PREFERENCES_ONLY 0x80000000

/* KSALLOCATOR_FRAMING.OptionsFlags: how an allocator is created. */
#define KSALLOCATOR_OPTIONF_COMPATIBLE 0x00000001
#define KSALLOCATOR_OPTIONF_SYSTEM_MEMORY 0x00000002
#define KSALLOCATOR_OPTIONF_VALID 0x00000003

/* KS_FRAMING_ITEM.Flags and ALLOCATOR_PROPERTIES_EX.Flags: pipe bits. */
#define KSALLOCATOR_FLAG_PARTIAL_READ_SUPPORT 0x00000010
#define KSALLOCATOR_FLAG_DEVICE_SPECIFIC 0x00000020
#define KSALLOCATOR_FLAG_CAN_ALLOCATE 0x00000040
#define KSALLOCATOR_FLAG_INSIST_ON_FRAMESIZE_RATIO 0x00000080
#define KSALLOCATOR_FLAG_NO_FRAME_INTEGRITY 0x00000100
#define KSALLOCATOR_FLAG_MULTIPLE_OUTPUT 0x00000200
#define KSALLOCATOR_FLAG_CYCLE 0x00000400
#define KSALLOCATOR_FLAG_ALLOCATOR_EXISTS 0x00000800
#define KSALLOCATOR_FLAG_INDEPENDENT_RANGES 0x00001000
#define KSALLOCATOR_FLAG_ATTENTION_STEPPING 0x00002000
#define KSALLOCATOR_FLAG_ENABLE_CACHED_MDL 0x00004000
#define KSALLOCATOR_FLAG_2D_BUFFER_REQUIRED 0x00008000

/*
 * FileAlignment values are masks (alignment - 1), not alignments:
 * FileAlignment = ALLOCATOR_PROPERTIES.cbAlign - 1.
 */
#ifndef FILE_BYTE_ALIGNMENT
#define FILE_BYTE_ALIGNMENT 0x00000000
#endif
#ifndef FILE_WORD_ALIGNMENT
#define FILE_WORD_ALIGNMENT 0x00000001
#endif
#ifndef FILE_LONG_ALIGNMENT
#define FILE_LONG_ALIGNMENT 0x00000003
#endif
#ifndef FILE_QUAD_ALIGNMENT
#define FILE_QUAD_ALIGNMENT 0x00000007
#endif
#ifndef FILE_OCTA_ALIGNMENT
#define FILE_OCTA_ALIGNMENT 0x0000000F
#endif
#ifndef FILE_32_BYTE_ALIGNMENT
#define FILE_32_BYTE_ALIGNMENT 0x0000001F
#endif
#ifndef FILE_64_BYTE_ALIGNMENT
#define FILE_64_BYTE_ALIGNMENT 0x0000003F
#endif
#ifndef FILE_128_BYTE_ALIGNMENT
#define FILE_128_BYTE_ALIGNMENT 0x0000007F
#endif
#ifndef FILE_256_BYTE_ALIGNMENT
#define FILE_256_BYTE_ALIGNMENT 0x000000FF
#endif
#ifndef FILE_512_BYTE_ALIGNMENT
#define FILE_512_BYTE_ALIGNMENT 0x000001FF
#endif

/* KSPROPERTY.Flags / KSMETHOD.Flags */
#define KSPROPERTY_TYPE_GET 0x00000001
#define KSPROPERTY_TYPE_SET 0x00000002
#define KSMETHOD_TYPE_READ 0x00000001
#define KSMETHOD_TYPE_WRITE 0x00000002

/* Ids in KSPROPSETID_StreamAllocator, KSMETHODSETID_StreamAllocator and KSEVENTSETID_... */
typedef enum {
	KSPROPERTY_STREAMALLOCATOR_FUNCTIONTABLE = 0,
	KSPROPERTY_STREAMALLOCATOR_STATUS = 1,
} KSPROPERTY_STREAMALLOCATOR;

typedef enum {
	KSMETHOD_STREAMALLOCATOR_ALLOC = 0,
	KSMETHOD_STREAMALLOCATOR_FREE = 1,
} KSMETHOD_STREAMALLOCATOR;

typedef enum {
	KSEVENT_STREAMALLOCATOR_INTERNAL_FREEFRAME = 0,
	KSEVENT_STREAMALLOCATOR_FREEFRAME = 1,
} KSEVENT_STREAMALLOCATOR;

/* Ids in KSPROPSETID_Stream */
typedef enum {
	KSPROPERTY_STREAM_ALLOCATOR = 0,
	KSPROPERTY_STREAM_QUALITY = 1,
	KSPROPERTY_STREAM_DEGRADATION = 2,
	KSPROPERTY_STREAM_MASTERCLOCK = 3,
	KSPROPERTY_STREAM_TIMEFORMAT = 4,
	KSPROPERTY_STREAM_PRESENTATIONTIME = 5,
	KSPROPERTY_STREAM_PRESENTATIONEXTENT = 6,
	KSPROPERTY_STREAM_FRAMETIME = 7,
	KSPROPERTY_STREAM_RATECAPABILITY = 8,
	KSPROPERTY_STREAM_RATE = 9,
	KSPROPERTY_STREAM_PIPE_ID = 10,
} KSPROPERTY_STREAM;

/* Ids in KSPROPSETID_Connection */
typedef enum {
	KSPROPERTY_CONNECTION_STATE = 0,
	KSPROPERTY_CONNECTION_PRIORITY = 1,
	KSPROPERTY_CONNECTION_DATAFORMAT = 2,
	KSPROPERTY_CONNECTION_ALLOCATORFRAMING = 3,
	KSPROPERTY_CONNECTION_PROPOSEDATAFORMAT = 4,
	KSPROPERTY_CONNECTION_ACQUIREORDERING = 5,
	KSPROPERTY_CONNECTION_ALLOCATORFRAMING_EX = 6,
	KSPROPERTY_CONNECTION_STARTAT = 7,
} KSPROPERTY_CONNECTION;

/* Named GUIDs: STATIC_<NAME> is a complete initializer (see <ksalloc/guiddef.h>). */

/* Each initializer stays on one line, as in the SDK (clang-format would unfold it). */
/* clang-format off */
#define STATIC_GUID_NULL \
	{ 0x00000000, 0x0000, 0x0000, { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 } }

#define STATIC_KSMEMORY_TYPE_SYSTEM \
	{ 0x091bb638, 0x603f, 0x11d1, { 0xb0, 0x67, 0x00, 0xa0, 0xc9, 0x06, 0x28, 0x02 } }
#define STATIC_KSMEMORY_TYPE_USER \
	{ 0x8cb0fc28, 0x7893, 0x11d1, { 0xb0, 0x69, 0x00, 0xa0, 0xc9, 0x06, 0x28, 0x02 } }
#define STATIC_KSMEMORY_TYPE_KERNEL_PAGED \
	{ 0xd833f8f8, 0x7894, 0x11d1, { 0xb0, 0x69, 0x00, 0xa0, 0xc9, 0x06, 0x28, 0x02 } }
#define STATIC_KSMEMORY_TYPE_KERNEL_NONPAGED \
	{ 0x4a6d5fc4, 0x7895, 0x11d1, { 0xb0, 0x69, 0x00, 0xa0, 0xc9, 0x06, 0x28, 0x02 } }
#define STATIC_KSMEMORY_TYPE_DEVICE_UNKNOWN \
	{ 0x091bb639, 0x603f, 0x11d1, { 0xb0, 0x67, 0x00, 0xa0, 0xc9, 0x06, 0x28, 0x02 } }
/* ks.h makes these three plain aliases of GUID_NULL, so they are the same object here too. */
#define STATIC_KSMEMORY_TYPE_WILDCARD STATIC_GUID_NULL
#define KSMEMORY_TYPE_WILDCARD GUID_NULL
#define STATIC_KSMEMORY_TYPE_DONT_CARE STATIC_GUID_NULL
#define KSMEMORY_TYPE_DONT_CARE GUID_NULL
#define STATIC_KS_TYPE_DONT_CARE STATIC_GUID_NULL
#define KS_TYPE_DONT_CARE GUID_NULL

#define STATIC_KSPROPSETID_StreamAllocator \
	{ 0xcf6e4342, 0xec87, 0x11cf, { 0xa1, 0x30, 0x00, 0x20, 0xaf, 0xd1, 0x56, 0xe4 } }
#define STATIC_KSMETHODSETID_StreamAllocator \
	{ 0xcf6e4341, 0xec87, 0x11cf, { 0xa1, 0x30, 0x00, 0x20, 0xaf, 0xd1, 0x56, 0xe4 } }
#define STATIC_KSEVENTSETID_StreamAllocator \
	{ 0x75d95571, 0x073c, 0x11d0, { 0xa1, 0x61, 0x00, 0x20, 0xaf, 0xd1, 0x56, 0xe4 } }
#define STATIC_KSPROPSETID_Stream \
	{ 0x65aaba60, 0x98ae, 0x11cf, { 0xa1, 0x0d, 0x00, 0x20, 0xaf, 0xd1, 0x56, 0xe4 } }
#define STATIC_KSPROPSETID_Connection \
	{ 0x1d58c920, 0xac9b, 0x11cf, { 0xa5, 0xd6, 0x28, 0xdb, 0x04, 0xc1, 0x00, 0x00 } }
/*
 * The allocator's object name under a pin. Windows' KSSTRING_Allocator is this GUID as a wide
 * string, left out because wchar_t is 4 bytes here.
 */
#define STATIC_KSNAME_Allocator \
	{ 0x642f5d00, 0x4791, 0x11d0, { 0xa5, 0xd6, 0x28, 0xdb, 0x04, 0xc1, 0x00, 0x00 } }
/* clang-format on */

extern KSALLOC_EXPORT const GUID GUID_NULL;
extern KSALLOC_EXPORT const GUID KSMEMORY_TYPE_SYSTEM;
extern KSALLOC_EXPORT const GUID KSMEMORY_TYPE_USER;
extern KSALLOC_EXPORT const GUID KSMEMORY_TYPE_KERNEL_PAGED;
extern KSALLOC_EXPORT const GUID KSMEMORY_TYPE_KERNEL_NONPAGED;
extern KSALLOC_EXPORT const GUID KSMEMORY_TYPE_DEVICE_UNKNOWN;
extern KSALLOC_EXPORT const GUID KSPROPSETID_StreamAllocator;
extern KSALLOC_EXPORT const GUID KSMETHODSETID_StreamAllocator;
extern KSALLOC_EXPORT const GUID KSEVENTSETID_StreamAllocator;
extern KSALLOC_EXPORT const GUID KSPROPSETID_Stream;
extern KSALLOC_EXPORT const GUID KSPROPSETID_Connection;
extern KSALLOC_EXPORT const GUID KSNAME_Allocator;

/*
 * Structures. Field names, anonymous unions and sizes are Windows'; the asserts after each one
 * are the x86-64 sizes from the Windows headers.
 */

/* The shape of an allocator: what KsCreateAllocator takes and KsGetAllocatorStatus reports. */
typedef struct {
	union {
		ULONG OptionsFlags;      /* KSALLOCATOR_OPTIONF_*, when creating an allocator */
		ULONG RequirementsFlags; /* KSALLOCATOR_REQUIREMENTF_*, when a pin reports needs */
	};
	ULONG PoolType;  /* POOL_TYPE: NonPagedPool or PagedPool */
	ULONG Frames;    /* frames that may be outstanding at once */
	ULONG FrameSize; /* bytes per frame */
	union {
		ULONG FileAlignment; /* alignment mask: alignment - 1 (FILE_*_ALIGNMENT) */
		LONG FramePitch;     /* row pitch; newer SDKs only */
	};
	ULONG Reserved; /* 0 */
} KSALLOCATOR_FRAMING, *PKSALLOCATOR_FRAMING;
KSALLOC_STATIC_ASSERT(sizeof(KSALLOCATOR_FRAMING) == 24, "KSALLOCATOR_FRAMING is 24 bytes");

typedef struct {
	ULONG MinFrameSize;
	ULONG MaxFrameSize;
	ULONG Stepping;
} KS_FRAMING_RANGE, *PKS_FRAMING_RANGE;
KSALLOC_STATIC_ASSERT(sizeof(KS_FRAMING_RANGE) == 12, "KS_FRAMING_RANGE is 12 bytes");

typedef struct {
	KS_FRAMING_RANGE Range;
	ULONG InPlaceWeight;
	ULONG NotInPlaceWeight;
} KS_FRAMING_RANGE_WEIGHTED, *PKS_FRAMING_RANGE_WEIGHTED;
KSALLOC_STATIC_ASSERT(sizeof(KS_FRAMING_RANGE_WEIGHTED) == 20,
		      "KS_FRAMING_RANGE_WEIGHTED is 20 bytes");

/* Output size = input size * RatioNumerator / RatioDenominator + RatioConstantMargin. */
typedef struct {
	ULONG RatioNumerator;
	ULONG RatioDenominator;
	ULONG RatioConstantMargin;
} KS_COMPRESSION, *PKS_COMPRESSION;
KSALLOC_STATIC_ASSERT(sizeof(KS_COMPRESSION) == 12, "KS_COMPRESSION is 12 bytes");

typedef struct {
	GUID MemoryType; /* KSMEMORY_TYPE_* */
	GUID BusType;    /* bus reaching that memory, or KS_TYPE_DONT_CARE */
	ULONG MemoryFlags;
	ULONG BusFlags;
	ULONG Flags; /* KSALLOCATOR_REQUIREMENTF_* / _OPTIONF_* / _FLAG_* */
	ULONG Frames;
	union {
		ULONG FileAlignment;
		LONG FramePitch;
	};
	ULONG MemoryTypeWeight;
	KS_FRAMING_RANGE PhysicalRange;
	KS_FRAMING_RANGE_WEIGHTED FramingRange;
} KS_FRAMING_ITEM, *PKS_FRAMING_ITEM;
KSALLOC_STATIC_ASSERT(sizeof(KS_FRAMING_ITEM) == 88, "KS_FRAMING_ITEM is 88 bytes");

/* Variable length: 24 + 88 * CountItems bytes. */
typedef struct {
	ULONG CountItems;
	ULONG PinFlags;
	KS_COMPRESSION OutputCompression;
	ULONG PinWeight;
	KS_FRAMING_ITEM FramingItem[1];
} KSALLOCATOR_FRAMING_EX, *PKSALLOCATOR_FRAMING_EX;
KSALLOC_STATIC_ASSERT(sizeof(KSALLOCATOR_FRAMING_EX) == 112,
		      "KSALLOCATOR_FRAMING_EX is 112 bytes with one item");

/* KSPROPERTY_STREAMALLOCATOR_STATUS, and what KsGetAllocatorStatus fills in. */
typedef struct {
	KSALLOCATOR_FRAMING Framing; /* as the pool was created */
	ULONG AllocatedFrames;       /* frames handed out and not yet returned */
	ULONG Reserved;              /* 0 */
} KSSTREAMALLOCATOR_STATUS, *PKSSTREAMALLOCATOR_STATUS;
KSALLOC_STATIC_ASSERT(sizeof(KSSTREAMALLOCATOR_STATUS) == 32,
		      "KSSTREAMALLOCATOR_STATUS is 32 bytes");

/* Only well formed with Framing.CountItems == 1: the counters follow the single item. */
typedef struct {
	KSALLOCATOR_FRAMING_EX Framing;
	ULONG AllocatedFrames;
	ULONG Reserved;
} KSSTREAMALLOCATOR_STATUS_EX, *PKSSTREAMALLOCATOR_STATUS_EX;
KSALLOC_STATIC_ASSERT(sizeof(KSSTREAMALLOCATOR_STATUS_EX) == 120,
		      "KSSTREAMALLOCATOR_STATUS_EX is 120 bytes");

/*
 * A time in a stream: Time * Numerator / Denominator is in 100-ns units (REFERENCE_TIME);
 * ksproxy writes Numerator = Denominator = 1. Audio streams may count bytes instead.
 */
typedef struct {
	LONGLONG Time;
	ULONG Numerator;
	ULONG Denominator;
} KSTIME, *PKSTIME;
KSALLOC_STATIC_ASSERT(sizeof(KSTIME) == 16, "KSTIME is 16 bytes");
KSALLOC_STATIC_ASSERT(offsetof(KSTIME, Time) == 0, "KSTIME.Time is at 0");
KSALLOC_STATIC_ASSERT(offsetof(KSTIME, Numerator) == 8, "KSTIME.Numerator is at 8");
KSALLOC_STATIC_ASSERT(offsetof(KSTIME, Denominator) == 12, "KSTIME.Denominator is at 12");

/* KSSTREAM_HEADER.OptionsFlags. The low ones have the values of DirectShow's AM_SAMPLE_*. */
#define KSSTREAM_HEADER_OPTIONSF_SPLICEPOINT 0x00000001 /* a sync point (key frame) */
#define KSSTREAM_HEADER_OPTIONSF_PREROLL 0x00000002     /* not to be presented */
/* A break in the data before this packet; the packet needs no data. */
#define KSSTREAM_HEADER_OPTIONSF_DATADISCONTINUITY 0x00000004
#define KSSTREAM_HEADER_OPTIONSF_TYPECHANGED 0x00000008 /* the data format changed */
#define KSSTREAM_HEADER_OPTIONSF_TIMEVALID 0x00000010   /* PresentationTime is set */
/* A break in time after this packet. */
#define KSSTREAM_HEADER_OPTIONSF_TIMEDISCONTINUITY 0x00000040
#define KSSTREAM_HEADER_OPTIONSF_FLUSHONPAUSE 0x00000080
#define KSSTREAM_HEADER_OPTIONSF_DURATIONVALID 0x00000100 /* Duration is set */
#define KSSTREAM_HEADER_OPTIONSF_ENDOFSTREAM 0x00000200   /* the last packet of the stream */
#define KSSTREAM_HEADER_OPTIONSF_BUFFEREDTRANSFER 0x00000400
#define KSSTREAM_HEADER_OPTIONSF_VRAM_DATA_TRANSFER 0x00000800
#define KSSTREAM_HEADER_OPTIONSF_METADATA 0x00001000
#define KSSTREAM_HEADER_OPTIONSF_ENDOFPHOTOSEQUENCE 0x00002000
#define KSSTREAM_HEADER_OPTIONSF_FRAMEINFO 0x00004000 /* a KS_FRAME_INFO follows the header */
#define KSSTREAM_HEADER_OPTIONSF_PERSIST_SAMPLE 0x00008000
#define KSSTREAM_HEADER_OPTIONSF_SAMPLE_PERSISTED 0x00010000
#define KSSTREAM_HEADER_TRACK_COMPLETION_NUMBERS 0x00020000 /* sic: no OPTIONSF_ in its name */
#define KSSTREAM_HEADER_OPTIONSF_SECUREBUFFERTRANSFER 0x00040000
#define KSSTREAM_HEADER_OPTIONSF_LOOPEDDATA 0x80000000

/*
 * What travels with a frame of a stream (IOCTL_KS_WRITE_STREAM / _READ_STREAM on Windows,
 * KsStreamDeliver() / KsStreamReceive() of <ksalloc/ksproxy.h> here). On Windows Size counts
 * a type-specific extension that follows the header; ksalloc carries none (Size is
 * sizeof(KSSTREAM_HEADER)). Data is an address in the process that reads it.
 */
typedef struct {
	ULONG Size;              /* sizeof(KSSTREAM_HEADER) + bytes of extension */
	ULONG TypeSpecificFlags; /* format-specific (KS_VIDEO_FLAG_* ...) */
	KSTIME PresentationTime; /* valid with KSSTREAM_HEADER_OPTIONSF_TIMEVALID */
	LONGLONG Duration;       /* PresentationTime's units; valid with _DURATIONVALID */
	ULONG FrameExtent;       /* bytes of the frame at Data */
	ULONG DataUsed;          /* bytes of it that hold data */
	PVOID Data;              /* the frame */
	ULONG OptionsFlags;      /* KSSTREAM_HEADER_OPTIONSF_* */
	/* As Windows' ks.h: only where pointers are 8 bytes (_WIN64), 48 bytes without it. */
#if defined(__SIZEOF_POINTER__) && __SIZEOF_POINTER__ == 8
	ULONG Reserved; /* 0 */
#endif
} KSSTREAM_HEADER, *PKSSTREAM_HEADER;
/* Windows' x86-64 layout, field by field. */
#if defined(__SIZEOF_POINTER__) && __SIZEOF_POINTER__ == 8
KSALLOC_STATIC_ASSERT(sizeof(KSSTREAM_HEADER) == 56, "KSSTREAM_HEADER is 56 bytes");
KSALLOC_STATIC_ASSERT(offsetof(KSSTREAM_HEADER, Size) == 0, "KSSTREAM_HEADER.Size is at 0");
KSALLOC_STATIC_ASSERT(offsetof(KSSTREAM_HEADER, TypeSpecificFlags) == 4,
		      "KSSTREAM_HEADER.TypeSpecificFlags is at 4");
KSALLOC_STATIC_ASSERT(offsetof(KSSTREAM_HEADER, PresentationTime) == 8,
		      "KSSTREAM_HEADER.PresentationTime is at 8");
KSALLOC_STATIC_ASSERT(offsetof(KSSTREAM_HEADER, PresentationTime.Time) == 8,
		      "KSSTREAM_HEADER.PresentationTime.Time is at 8");
KSALLOC_STATIC_ASSERT(offsetof(KSSTREAM_HEADER, PresentationTime.Numerator) == 16,
		      "KSSTREAM_HEADER.PresentationTime.Numerator is at 16");
KSALLOC_STATIC_ASSERT(offsetof(KSSTREAM_HEADER, PresentationTime.Denominator) == 20,
		      "KSSTREAM_HEADER.PresentationTime.Denominator is at 20");
KSALLOC_STATIC_ASSERT(offsetof(KSSTREAM_HEADER, Duration) == 24,
		      "KSSTREAM_HEADER.Duration is at 24");
KSALLOC_STATIC_ASSERT(offsetof(KSSTREAM_HEADER, FrameExtent) == 32,
		      "KSSTREAM_HEADER.FrameExtent is at 32");
KSALLOC_STATIC_ASSERT(offsetof(KSSTREAM_HEADER, DataUsed) == 36,
		      "KSSTREAM_HEADER.DataUsed is at 36");
KSALLOC_STATIC_ASSERT(offsetof(KSSTREAM_HEADER, Data) == 40, "KSSTREAM_HEADER.Data is at 40");
KSALLOC_STATIC_ASSERT(offsetof(KSSTREAM_HEADER, OptionsFlags) == 48,
		      "KSSTREAM_HEADER.OptionsFlags is at 48");
KSALLOC_STATIC_ASSERT(offsetof(KSSTREAM_HEADER, Reserved) == 52,
		      "KSSTREAM_HEADER.Reserved is at 52");
#endif

#ifdef __cplusplus
}
#endif

#endif /* KSALLOC_KS_H */
