/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#ifndef KSALLOC_KSPROXY_H
#define KSALLOC_KSPROXY_H

/*
 * <ksalloc/ksproxy.h>: the allocator part of Windows' ks.h, ksproxy.h and strmif.h, for Linux.
 *
 * A Windows Kernel Streaming client that uses IKsAllocator / IKsAllocatorEx compiles against this
 * header unchanged, apart from how it obtains the allocator (KsOpenAllocator() at the end of this
 * file: there are no pins to ask on Linux). Every structure has Windows' x86-64 size and field
 * offsets, checked by static asserts below, and every interface has Windows' vtable slot order.
 *
 * Integer widths. Windows is LLP64: ULONG, LONG, DWORD, BOOL, HRESULT and the IDL "long" fields of
 * ALLOCATOR_PROPERTIES(_EX) are 32 bits wide. Here they are uint32_t / int32_t, because a Linux
 * "long" is 64 bits and would change every layout. The one source difference this leaves: printf
 * needs %u / %d / %x for ULONG, LONG, DWORD and HRESULT, not %lu / %ld / %lx (which -Wformat
 * rejects). LONGLONG and REFERENCE_TIME are "long long", so %lld works on both systems.
 *
 * Calling convention. STDMETHODCALLTYPE and WINAPI are empty: the objects are built by a Linux
 * library and called by Linux code, so both sides use the System V ABI. (Talking to PE code
 * under Wine would need __attribute__((ms_abi)); that is not a goal.)
 *
 * What the IKsAllocatorEx object returned by KsOpenAllocator() does:
 * - KsGetAllocatorStatus() sends one request to the daemon, ksallocd, and waits for its reply;
 *   nothing is cached. Framing is the KSALLOCATOR_FRAMING the pool was created with.
 *   AllocatedFrames is the number of frames handed out and not yet returned (not a cumulative
 *   count), a snapshot taken when the daemon answered: other processes may acquire or release
 *   frames before the caller reads it. Reserved is 0.
 * - KsGetAllocatorHandle() returns the daemon's id of the pool as a pointer-sized value. It is
 *   never NULL for an open pool. It is not a file descriptor and nothing can be done with it
 *   except compare it and pass it back to this library.
 * - KsGetAllocatorMode() reports what KsSetAllocatorMode() last stored; KsAllocatorMode_User is
 *   the default. The mode changes nothing else.
 * - KsCreateAllocatorAndGetHandle() returns NULL: it needs a kernel pin, and Linux has none.
 * - QueryInterface() answers IID_IUnknown, IID_IKsAllocator and IID_IKsAllocatorEx with the
 *   IKsAllocatorEx pointer, and IID_IMemAllocator and IID_IMemAllocatorCallbackTemp with a second
 *   pointer into the same object (an IMemAllocatorCallbackTemp, whose first nine slots are
 *   IMemAllocator's), as Windows' proxy does; E_NOINTERFACE for every other IID. Either pointer
 *   answers alike, so IID_IUnknown always gives the IKsAllocatorEx pointer (COM's identity rule:
 *   compare IUnknown pointers to tell whether two interfaces are one object). Both pointers share
 *   one reference count, and every sample out of IMemAllocator_GetBuffer() holds one more: the
 *   object and its pool stay until the last pointer and the last sample are released.
 * - Through IMemAllocator the object hands out the pool's frames as IMediaSamples: see
 *   IMemAllocatorVtbl for how DirectShow's contract maps onto a pool that other processes share.
 *
 * GUIDs (IID_*, KSMEMORY_TYPE_*, KSPROPSETID_*, ...) are data exported by libksalloc, as
 * ksuser.lib / strmiids.lib provide them on Windows: link with libksalloc (pkg-config ksalloc).
 * As on Windows, REFIID / REFGUID are "const GUID *" in C (pass &IID_IKsAllocator) and
 * "const GUID &" in C++ (pass IID_IKsAllocator).
 *
 * Names that other Windows-compatibility headers also define (TRUE, S_OK, SUCCEEDED, GUID, ...)
 * are guarded with #ifndef, so this header can sit beside them as long as they agree on widths.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <ksalloc/winerror.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with -fvisibility=hidden: every symbol declared here is exported. */
#ifndef KSALLOC_EXPORT
#define KSALLOC_EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
#define KSALLOC_STATIC_ASSERT(expr, msg) static_assert(expr, msg)
#else
#define KSALLOC_STATIC_ASSERT(expr, msg) _Static_assert(expr, msg)
#endif

/*
 * Windows base types.
 *
 * Typedefs cannot be guarded by name, but C11 and C++ accept a repeated typedef of the same type,
 * and int32_t / uint32_t are "int" / "unsigned int" on Linux, so another header that spells
 * ULONG as "unsigned int" agrees with this one.
 */

#ifndef VOID
#define VOID void
#endif
#ifndef CONST
#define CONST const
#endif

typedef void *PVOID;
typedef void *LPVOID;
typedef unsigned char BYTE;
typedef unsigned char UCHAR;
typedef char CHAR;
typedef unsigned short USHORT;
typedef unsigned short WORD;
typedef short SHORT;
typedef int INT;
typedef unsigned int UINT;
typedef uint32_t ULONG;
typedef ULONG *PULONG;
typedef int32_t LONG;
typedef LONG *PLONG;
typedef uint32_t DWORD;
typedef DWORD *LPDWORD;
typedef int32_t BOOL;
typedef BYTE BOOLEAN;
/* long long rather than int64_t (a "long" here), so that %lld matches as it does on Windows. */
typedef long long LONGLONG;
typedef unsigned long long ULONGLONG;
typedef void *HANDLE;
typedef HANDLE *PHANDLE;
/* DirectShow time: 100-nanosecond units. */
typedef LONGLONG REFERENCE_TIME;

/* HRESULT and its codes: <ksalloc/winerror.h>. */

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif
#ifndef INFINITE
#define INFINITE 0xFFFFFFFF
#endif
#ifndef INVALID_HANDLE_VALUE
#define INVALID_HANDLE_VALUE ((HANDLE)(intptr_t)-1)
#endif

#ifndef WINAPI
#define WINAPI
#endif
#ifndef STDMETHODCALLTYPE
#define STDMETHODCALLTYPE
#endif
#ifndef STDAPICALLTYPE
#define STDAPICALLTYPE
#endif
#ifndef EXTERN_C
#ifdef __cplusplus
#define EXTERN_C extern "C"
#else
#define EXTERN_C extern
#endif
#endif
#ifndef STDAPI
#define STDAPI EXTERN_C HRESULT STDAPICALLTYPE
#endif

/* GUIDs: 16 bytes, Data1..Data3 in host (little-endian) order, as Windows lays them out. */

#ifndef GUID_DEFINED
#define GUID_DEFINED
typedef struct _GUID {
	uint32_t Data1;
	uint16_t Data2;
	uint16_t Data3;
	uint8_t Data4[8];
} GUID;
#endif

typedef GUID IID;
typedef GUID CLSID;
typedef GUID *LPGUID;
typedef IID *LPIID;
typedef CLSID *LPCLSID;

#ifdef __cplusplus
#ifndef _REFGUID_DEFINED
#define _REFGUID_DEFINED
#define REFGUID const GUID &
#endif
#ifndef _REFIID_DEFINED
#define _REFIID_DEFINED
#define REFIID const IID &
#endif
#ifndef _REFCLSID_DEFINED
#define _REFCLSID_DEFINED
#define REFCLSID const CLSID &
#endif
#else
#ifndef _REFGUID_DEFINED
#define _REFGUID_DEFINED
#define REFGUID const GUID *
#endif
#ifndef _REFIID_DEFINED
#define _REFIID_DEFINED
#define REFIID const IID *
#endif
#ifndef _REFCLSID_DEFINED
#define _REFCLSID_DEFINED
#define REFCLSID const CLSID *
#endif
#endif

/* Nonzero when both GUIDs are equal. C takes pointers, C++ references, as guiddef.h does. */
#ifndef IsEqualGUID
#ifdef __cplusplus
} /* extern "C" */
extern "C++" {
inline int IsEqualGUID(REFGUID rguid1, REFGUID rguid2)
{
	return !memcmp(&rguid1, &rguid2, sizeof(GUID));
}
inline bool operator==(REFGUID guidOne, REFGUID guidOther)
{
	return !!IsEqualGUID(guidOne, guidOther);
}
inline bool operator!=(REFGUID guidOne, REFGUID guidOther)
{
	return !(guidOne == guidOther);
}
}
extern "C" {
#else
#define IsEqualGUID(rguid1, rguid2) (!memcmp(rguid1, rguid2, sizeof(GUID)))
#endif
#endif
#ifndef IsEqualIID
#define IsEqualIID(riid1, riid2) IsEqualGUID(riid1, riid2)
#endif
#ifndef IsEqualCLSID
#define IsEqualCLSID(rclsid1, rclsid2) IsEqualGUID(rclsid1, rclsid2)
#endif

/*
 * DEFINE_GUID as guiddef.h has it, for clients that define GUIDs of their own: a declaration,
 * or a definition where INITGUID is defined before this header.
 */
#ifndef DEFINE_GUID
#if defined(INITGUID) && defined(__cplusplus)
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) \
	EXTERN_C const GUID name = { l, w1, w2, { b1, b2, b3, b4, b5, b6, b7, b8 } }
#elif defined(INITGUID)
/* A const object at file scope already has external linkage in C; "extern" would draw a warning. */
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) \
	const GUID name = { l, w1, w2, { b1, b2, b3, b4, b5, b6, b7, b8 } }
#else
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) EXTERN_C const GUID name
#endif
#endif

/* ks.h: the STATIC_ initializer of a named GUID, usable inside an aggregate initializer. */
#ifndef STATICGUIDOF
#define STATICGUIDOF(guid) STATIC_##guid
#endif

/* Enums. All are 4 bytes wide, as Windows' C enums are (never build with -fshort-enums). */

typedef enum {
	KsAllocatorMode_User = 0,
	KsAllocatorMode_Kernel = 1,
} KSALLOCATORMODE;

typedef enum {
	PipeState_DontCare = 0,
	PipeState_RangeNotFixed = 1,
	PipeState_RangeFixed = 2,
	PipeState_CompressionUnknown = 3,
	PipeState_Finalized = 4,
} PIPE_STATE;

typedef enum {
	Pipe_Allocator_None = 0,
	Pipe_Allocator_FirstPin = 1,
	Pipe_Allocator_LastPin = 2,
	Pipe_Allocator_MiddlePin = 3,
} PIPE_ALLOCATOR_PLACE;
typedef PIPE_ALLOCATOR_PLACE *PPIPE_ALLOCATOR_PLACE;

typedef enum {
	KS_MemoryTypeDontCare = 0,
	KS_MemoryTypeKernelPaged = 1,
	KS_MemoryTypeKernelNonPaged = 2,
	KS_MemoryTypeDeviceHostMapped = 3,
	KS_MemoryTypeDeviceSpecific = 4,
	KS_MemoryTypeUser = 5,
	KS_MemoryTypeAnyHost = 6,
} KS_LogicalMemoryType;
typedef KS_LogicalMemoryType *PKS_LogicalMemoryType;

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

/* ALLOCATOR_PROPERTIES_EX.Strategy */
#define AllocatorStrategy_DontCare 0
#define AllocatorStrategy_MinimizeNumberOfFrames 0x00000001
#define AllocatorStrategy_MinimizeFrameSize 0x00000002
#define AllocatorStrategy_MinimizeNumberOfAllocators 0x00000004
#define AllocatorStrategy_MaximizeSpeed 0x00000008

/* PIPE_TERMINATION.OutsideFactors and ALLOCATOR_PROPERTIES_EX.InsideFactors */
#define PipeFactor_None 0
#define PipeFactor_UserModeUpstream 0x00000001
#define PipeFactor_UserModeDownstream 0x00000002
#define PipeFactor_MemoryTypes 0x00000004
#define PipeFactor_Flags 0x00000008
#define PipeFactor_PhysicalRanges 0x00000010
#define PipeFactor_OptimalRanges 0x00000020
#define PipeFactor_FixedCompression 0x00000040
#define PipeFactor_UnknownCompression 0x00000080
#define PipeFactor_Buffers 0x00000100
#define PipeFactor_Align 0x00000200
#define PipeFactor_PhysicalEnd 0x00000400
#define PipeFactor_LogicalEnd 0x00000800

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

/* IMemAllocator::GetBuffer dwFlags */
#define AM_GBF_PREVFRAMESKIPPED 1
#define AM_GBF_NOTASYNCPOINT 2
#define AM_GBF_NOWAIT 4
#define AM_GBF_NODDSURFACELOCK 8

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

/*
 * Named GUIDs. STATIC_<NAME> is a complete initializer, braces included:
 * "const GUID g = STATIC_KSMEMORY_TYPE_SYSTEM;". ks.h leaves the braces out and is used as
 * "{ STATIC_... }", but gcc's -Wall (-Wmissing-braces) rejects that brace elision, so such code
 * drops its outer braces here. STATICGUIDOF() inside a larger initializer works unchanged.
 */

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

#define STATIC_IID_IUnknown \
	{ 0x00000000, 0x0000, 0x0000, { 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46 } }
#define STATIC_IID_IMemAllocator \
	{ 0x56a8689c, 0x0ad4, 0x11ce, { 0xb0, 0x3a, 0x00, 0x20, 0xaf, 0x0b, 0xa7, 0x70 } }
#define STATIC_IID_IMediaSample \
	{ 0x56a8689a, 0x0ad4, 0x11ce, { 0xb0, 0x3a, 0x00, 0x20, 0xaf, 0x0b, 0xa7, 0x70 } }
#define STATIC_IID_IMemAllocatorCallbackTemp \
	{ 0x379a0cf0, 0xc1de, 0x11d2, { 0xab, 0xf5, 0x00, 0xa0, 0xc9, 0x05, 0xf3, 0x75 } }
#define STATIC_IID_IMemAllocatorNotifyCallbackTemp \
	{ 0x92980b30, 0xc1de, 0x11d2, { 0xab, 0xf5, 0x00, 0xa0, 0xc9, 0x05, 0xf3, 0x75 } }
/* Not KSNAME_Allocator, which ReactOS's kernel code reuses as a private IID of its own. */
#define STATIC_IID_IKsAllocator \
	{ 0x8da64899, 0xc0d9, 0x11d0, { 0x84, 0x13, 0x00, 0x00, 0xf8, 0x22, 0xfe, 0x8a } }
#define STATIC_IID_IKsAllocatorEx \
	{ 0x091bb63a, 0x603f, 0x11d1, { 0xb0, 0x67, 0x00, 0xa0, 0xc9, 0x06, 0x28, 0x02 } }
#define STATIC_IID_IKsPin \
	{ 0xb61178d1, 0xa2d9, 0x11cf, { 0x9e, 0x53, 0x00, 0xaa, 0x00, 0xa2, 0x16, 0xa1 } }
#define STATIC_IID_IKsObject \
	{ 0x423c13a2, 0x2070, 0x11d0, { 0x9e, 0xf7, 0x00, 0xaa, 0x00, 0xa2, 0x16, 0xa1 } }
#define STATIC_CLSID_MemoryAllocator \
	{ 0x1e651cc0, 0xb199, 0x11d0, { 0x82, 0x12, 0x00, 0xc0, 0x4f, 0xc3, 0x2c, 0x45 } }

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
extern KSALLOC_EXPORT const GUID IID_IUnknown;
extern KSALLOC_EXPORT const GUID IID_IMemAllocator;
extern KSALLOC_EXPORT const GUID IID_IMediaSample;
extern KSALLOC_EXPORT const GUID IID_IMemAllocatorCallbackTemp;
extern KSALLOC_EXPORT const GUID IID_IMemAllocatorNotifyCallbackTemp;
extern KSALLOC_EXPORT const GUID IID_IKsAllocator;
extern KSALLOC_EXPORT const GUID IID_IKsAllocatorEx;
extern KSALLOC_EXPORT const GUID IID_IKsPin;
extern KSALLOC_EXPORT const GUID IID_IKsObject;
extern KSALLOC_EXPORT const GUID CLSID_MemoryAllocator;

/* Interfaces, declared ahead because ALLOCATOR_PROPERTIES_EX points at IKsAllocatorEx. */
typedef struct IUnknown IUnknown;
typedef IUnknown *LPUNKNOWN;
typedef struct IKsAllocator IKsAllocator;
typedef struct IKsAllocatorEx IKsAllocatorEx;
typedef struct IMemAllocator IMemAllocator;
typedef IMemAllocator *PMEMALLOCATOR;
typedef struct IMemAllocatorCallbackTemp IMemAllocatorCallbackTemp;
typedef struct IMemAllocatorNotifyCallbackTemp IMemAllocatorNotifyCallbackTemp;
typedef struct IMediaSample IMediaSample;
/* Named by methods here but never implemented on Linux: left incomplete. */
typedef struct IKsPin IKsPin;
typedef struct IKsObject IKsObject;

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

typedef struct _PIPE_DIMENSIONS {
	KS_COMPRESSION AllocatorPin;
	KS_COMPRESSION MaxExpansionPin;
	KS_COMPRESSION EndPin;
} PIPE_DIMENSIONS, *PPIPE_DIMENSIONS;
KSALLOC_STATIC_ASSERT(sizeof(PIPE_DIMENSIONS) == 36, "PIPE_DIMENSIONS is 36 bytes");

typedef struct _PIPE_TERMINATION {
	ULONG Flags;
	ULONG OutsideFactors; /* PipeFactor_* */
	ULONG Weigth;         /* sic: every Windows header spells it so */
	KS_FRAMING_RANGE PhysicalRange;
	KS_FRAMING_RANGE_WEIGHTED OptimalRange;
	KS_COMPRESSION Compression;
} PIPE_TERMINATION;
KSALLOC_STATIC_ASSERT(sizeof(PIPE_TERMINATION) == 56, "PIPE_TERMINATION is 56 bytes");

/* strmif.h. The IDL "long" fields are 32 bits on Windows, hence LONG. */
typedef struct _AllocatorProperties {
	LONG cBuffers; /* number of buffers */
	LONG cbBuffer; /* bytes per buffer, not counting the prefix */
	LONG cbAlign;  /* alignment in bytes (not a mask) of the start of the prefix */
	LONG cbPrefix; /* bytes in front of each buffer */
} ALLOCATOR_PROPERTIES, *PALLOCATOR_PROPERTIES;
KSALLOC_STATIC_ASSERT(sizeof(ALLOCATOR_PROPERTIES) == 16, "ALLOCATOR_PROPERTIES is 16 bytes");

/* ksproxy.h, "proxy use only". PrevSegment and NextSegments are pointers of this process. */
typedef struct _ALLOCATOR_PROPERTIES_EX {
	LONG cBuffers;
	LONG cbBuffer;
	LONG cbAlign;
	LONG cbPrefix;
	GUID MemoryType;
	GUID BusType;
	PIPE_STATE State;
	PIPE_TERMINATION Input;
	PIPE_TERMINATION Output;
	ULONG Strategy; /* AllocatorStrategy_* */
	ULONG Flags;    /* KSALLOCATOR_FLAG_* */
	ULONG Weight;
	KS_LogicalMemoryType LogicalMemoryType;
	PIPE_ALLOCATOR_PLACE AllocatorPlace;
	PIPE_DIMENSIONS Dimensions;
	KS_FRAMING_RANGE PhysicalRange;
	IKsAllocatorEx *PrevSegment;
	ULONG CountNextSegments; /* followed by 4 bytes of padding on 64-bit systems */
	IKsAllocatorEx **NextSegments;
	ULONG InsideFactors; /* PipeFactor_* */
	ULONG NumberPins;
} ALLOCATOR_PROPERTIES_EX, *PALLOCATOR_PROPERTIES_EX;
/* The only structure with pointers, so the only one whose size depends on their width. */
#if defined(__SIZEOF_POINTER__) && __SIZEOF_POINTER__ == 8
KSALLOC_STATIC_ASSERT(sizeof(ALLOCATOR_PROPERTIES_EX) == 264,
		      "ALLOCATOR_PROPERTIES_EX is 264 bytes");
KSALLOC_STATIC_ASSERT(offsetof(ALLOCATOR_PROPERTIES_EX, PrevSegment) == 0xE8,
		      "ALLOCATOR_PROPERTIES_EX.PrevSegment is at 0xE8");
KSALLOC_STATIC_ASSERT(offsetof(ALLOCATOR_PROPERTIES_EX, NextSegments) == 0xF8,
		      "ALLOCATOR_PROPERTIES_EX.NextSegments is at 0xF8");
#endif

/*
 * Interfaces, laid out as MIDL lays out C COM objects: an object starts with a pointer to a
 * table of function pointers in Windows' slot order, and every function takes the object as
 * This. Call them through the macros after each table: IKsAllocator_KsGetAllocatorStatus(p, &s).
 * An IKsAllocatorEx can be passed wherever an IKsAllocator is wanted (cast the pointer): its
 * first seven slots are IKsAllocator's.
 */

typedef struct IUnknownVtbl {
	/* See IKsAllocatorVtbl: the first three slots of every interface are these. */
	HRESULT(STDMETHODCALLTYPE *QueryInterface)(IUnknown *This, REFIID riid, void **ppvObject);
	ULONG(STDMETHODCALLTYPE *AddRef)(IUnknown *This);
	ULONG(STDMETHODCALLTYPE *Release)(IUnknown *This);
} IUnknownVtbl;

struct IUnknown {
	const struct IUnknownVtbl *lpVtbl;
};

#define IUnknown_QueryInterface(This, riid, ppvObject) \
	((This)->lpVtbl->QueryInterface(This, riid, ppvObject))
#define IUnknown_AddRef(This) ((This)->lpVtbl->AddRef(This))
#define IUnknown_Release(This) ((This)->lpVtbl->Release(This))

typedef struct IKsAllocatorVtbl {
	/*
	 * 0: QueryInterface - ask the object for another of its interfaces.
	 * @riid: the interface wanted.
	 * @ppvObject: receives the interface with one new reference (release it), or NULL.
	 * Returns S_OK for IID_IUnknown, IID_IKsAllocator and IID_IKsAllocatorEx (all the same
	 * pointer) and for IID_IMemAllocator and IID_IMemAllocatorCallbackTemp (the object's other
	 * pointer), E_NOINTERFACE for any other IID, E_POINTER if @ppvObject is NULL.
	 */
	HRESULT(STDMETHODCALLTYPE *QueryInterface)(IKsAllocator *This, REFIID riid,
						   void **ppvObject);

	/* 1: AddRef - take one more reference. Returns the new count, for debugging only. */
	ULONG(STDMETHODCALLTYPE *AddRef)(IKsAllocator *This);

	/*
	 * 2: Release - drop one reference; the last one closes the pool for this process and frees
	 * the object. Returns the remaining count, for debugging only.
	 */
	ULONG(STDMETHODCALLTYPE *Release)(IKsAllocator *This);

	/*
	 * 3: KsGetAllocatorHandle - the allocator's handle: here the daemon's pool id as a
	 * pointer-sized value, never NULL for an open pool. Not a file descriptor: do not close
	 * it.
	 */
	HANDLE(STDMETHODCALLTYPE *KsGetAllocatorHandle)(IKsAllocator *This);

	/* 4: KsGetAllocatorMode - the mode last stored by KsSetAllocatorMode (default User). */
	KSALLOCATORMODE(STDMETHODCALLTYPE *KsGetAllocatorMode)(IKsAllocator *This);

	/*
	 * 5: KsGetAllocatorStatus - ask the daemon for the pool's framing and the number of frames
	 * currently handed out (one request and its reply per call; a snapshot).
	 * @AllocatorStatus: caller-owned, filled in completely on success (Reserved = 0) and left
	 * untouched on failure.
	 * Returns S_OK; E_POINTER if @AllocatorStatus is NULL; when the daemon cannot answer, the
	 * same errors as KsOpenAllocator (HRESULT_FROM_WIN32 of ERROR_SERVICE_NOT_ACTIVE,
	 * ERROR_TIMEOUT or ERROR_BROKEN_PIPE).
	 */
	HRESULT(STDMETHODCALLTYPE *KsGetAllocatorStatus)(IKsAllocator *This,
							 PKSSTREAMALLOCATOR_STATUS AllocatorStatus);

	/* 6: KsSetAllocatorMode - store @Mode, which KsGetAllocatorMode then reports. */
	VOID(STDMETHODCALLTYPE *KsSetAllocatorMode)(IKsAllocator *This, KSALLOCATORMODE Mode);
} IKsAllocatorVtbl;

struct IKsAllocator {
	const struct IKsAllocatorVtbl *lpVtbl;
};

#define IKsAllocator_QueryInterface(This, riid, ppvObject) \
	((This)->lpVtbl->QueryInterface(This, riid, ppvObject))
#define IKsAllocator_AddRef(This) ((This)->lpVtbl->AddRef(This))
#define IKsAllocator_Release(This) ((This)->lpVtbl->Release(This))
#define IKsAllocator_KsGetAllocatorHandle(This) ((This)->lpVtbl->KsGetAllocatorHandle(This))
#define IKsAllocator_KsGetAllocatorMode(This) ((This)->lpVtbl->KsGetAllocatorMode(This))
#define IKsAllocator_KsGetAllocatorStatus(This, AllocatorStatus) \
	((This)->lpVtbl->KsGetAllocatorStatus(This, AllocatorStatus))
#define IKsAllocator_KsSetAllocatorMode(This, Mode) ((This)->lpVtbl->KsSetAllocatorMode(This, Mode))

typedef struct IKsAllocatorExVtbl {
	/* 0-6: as in IKsAllocatorVtbl, with This typed as IKsAllocatorEx. */
	HRESULT(STDMETHODCALLTYPE *QueryInterface)(IKsAllocatorEx *This, REFIID riid,
						   void **ppvObject);
	ULONG(STDMETHODCALLTYPE *AddRef)(IKsAllocatorEx *This);
	ULONG(STDMETHODCALLTYPE *Release)(IKsAllocatorEx *This);
	HANDLE(STDMETHODCALLTYPE *KsGetAllocatorHandle)(IKsAllocatorEx *This);
	KSALLOCATORMODE(STDMETHODCALLTYPE *KsGetAllocatorMode)(IKsAllocatorEx *This);
	HRESULT(STDMETHODCALLTYPE *KsGetAllocatorStatus)(IKsAllocatorEx *This,
							 PKSSTREAMALLOCATOR_STATUS AllocatorStatus);
	VOID(STDMETHODCALLTYPE *KsSetAllocatorMode)(IKsAllocatorEx *This, KSALLOCATORMODE Mode);

	/*
	 * 7: KsGetProperties - the object's own ALLOCATOR_PROPERTIES_EX, not a copy: owned by the
	 * object, valid until its last Release, not to be freed by the caller.
	 */
	PALLOCATOR_PROPERTIES_EX(STDMETHODCALLTYPE *KsGetProperties)(IKsAllocatorEx *This);

	/* 8: KsSetProperties - copy the whole of @AllocEx (caller-owned) into the object. */
	VOID(STDMETHODCALLTYPE *KsSetProperties)(IKsAllocatorEx *This,
						 PALLOCATOR_PROPERTIES_EX AllocEx);

	/* 9: KsSetAllocatorHandle - store the handle that KsGetAllocatorHandle reports. */
	VOID(STDMETHODCALLTYPE *KsSetAllocatorHandle)(IKsAllocatorEx *This, HANDLE AllocatorHandle);

	/*
	 * 10: KsCreateAllocatorAndGetHandle - on Windows, create a kernel allocator on @KsPin.
	 * Linux has no pins, so this returns NULL.
	 */
	HANDLE(STDMETHODCALLTYPE *KsCreateAllocatorAndGetHandle)(IKsAllocatorEx *This,
								 IKsPin *KsPin);
} IKsAllocatorExVtbl;

struct IKsAllocatorEx {
	const struct IKsAllocatorExVtbl *lpVtbl;
};

#define IKsAllocatorEx_QueryInterface(This, riid, ppvObject) \
	((This)->lpVtbl->QueryInterface(This, riid, ppvObject))
#define IKsAllocatorEx_AddRef(This) ((This)->lpVtbl->AddRef(This))
#define IKsAllocatorEx_Release(This) ((This)->lpVtbl->Release(This))
#define IKsAllocatorEx_KsGetAllocatorHandle(This) ((This)->lpVtbl->KsGetAllocatorHandle(This))
#define IKsAllocatorEx_KsGetAllocatorMode(This) ((This)->lpVtbl->KsGetAllocatorMode(This))
#define IKsAllocatorEx_KsGetAllocatorStatus(This, AllocatorStatus) \
	((This)->lpVtbl->KsGetAllocatorStatus(This, AllocatorStatus))
#define IKsAllocatorEx_KsSetAllocatorMode(This, Mode) \
	((This)->lpVtbl->KsSetAllocatorMode(This, Mode))
#define IKsAllocatorEx_KsGetProperties(This) ((This)->lpVtbl->KsGetProperties(This))
#define IKsAllocatorEx_KsSetProperties(This, AllocEx) \
	((This)->lpVtbl->KsSetProperties(This, AllocEx))
#define IKsAllocatorEx_KsSetAllocatorHandle(This, AllocatorHandle) \
	((This)->lpVtbl->KsSetAllocatorHandle(This, AllocatorHandle))
#define IKsAllocatorEx_KsCreateAllocatorAndGetHandle(This, KsPin) \
	((This)->lpVtbl->KsCreateAllocatorAndGetHandle(This, KsPin))

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

/*
 * A buffer of an allocator, with the properties a stream gives it: times, flags, media type.
 * The samples of ksalloc's IMemAllocator are frames of its pool. As on Windows, a sample is
 * used by one thread at a time (its setters and getters take no lock); AddRef and Release may
 * come from any thread.
 */
typedef struct IMediaSampleVtbl {
	/* 0: QueryInterface - answers IID_IUnknown and IID_IMediaSample, with the same pointer. */
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
#define IMediaSample_SetMediaType(This, pMediaType) \
	((This)->lpVtbl->SetMediaType(This, pMediaType))
#define IMediaSample_IsDiscontinuity(This) ((This)->lpVtbl->IsDiscontinuity(This))
#define IMediaSample_SetDiscontinuity(This, bDiscontinuity) \
	((This)->lpVtbl->SetDiscontinuity(This, bDiscontinuity))
#define IMediaSample_GetMediaTime(This, pTimeStart, pTimeEnd) \
	((This)->lpVtbl->GetMediaTime(This, pTimeStart, pTimeEnd))
#define IMediaSample_SetMediaTime(This, pTimeStart, pTimeEnd) \
	((This)->lpVtbl->SetMediaTime(This, pTimeStart, pTimeEnd))

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
 * - Any thread may call any method; GetBuffer and sample releases may run in many at once.
 *   IKsAllocatorEx_KsGetProperties() follows what SetProperties stores and Commit applies.
 */
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
	 * when every frame is in use; E_OUTOFMEMORY.
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

typedef struct IMemAllocatorNotifyCallbackTempVtbl {
	/* 0-2: IUnknown. */
	HRESULT(STDMETHODCALLTYPE *QueryInterface)(IMemAllocatorNotifyCallbackTemp *This,
						   REFIID riid, void **ppvObject);
	ULONG(STDMETHODCALLTYPE *AddRef)(IMemAllocatorNotifyCallbackTemp *This);
	ULONG(STDMETHODCALLTYPE *Release)(IMemAllocatorNotifyCallbackTemp *This);

	/* 3: NotifyRelease - a sample went back to the allocator's free list. */
	HRESULT(STDMETHODCALLTYPE *NotifyRelease)(IMemAllocatorNotifyCallbackTemp *This);
} IMemAllocatorNotifyCallbackTempVtbl;

struct IMemAllocatorNotifyCallbackTemp {
	const struct IMemAllocatorNotifyCallbackTempVtbl *lpVtbl;
};

#define IMemAllocatorNotifyCallbackTemp_QueryInterface(This, riid, ppvObject) \
	((This)->lpVtbl->QueryInterface(This, riid, ppvObject))
#define IMemAllocatorNotifyCallbackTemp_AddRef(This) ((This)->lpVtbl->AddRef(This))
#define IMemAllocatorNotifyCallbackTemp_Release(This) ((This)->lpVtbl->Release(This))
#define IMemAllocatorNotifyCallbackTemp_NotifyRelease(This) ((This)->lpVtbl->NotifyRelease(This))

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

/*
 * KsOpenAllocator() - open a pool that the daemon, ksallocd, owns. This is how a Linux client
 * gets the allocator that a Windows client would get from its pin.
 * @PoolName: the pool's name, as configured in the daemon or given when the pool was created.
 * @Allocator: receives a new object holding one reference, released with
 *	IKsAllocatorEx_Release(); the pool stays open for this process until then. Set to NULL on
 *	failure, as COM does.
 *
 * The daemon is found at the socket named by $KSALLOC_SOCKET, else /run/ksallocd/ksallocd.sock.
 * Any thread may call it.
 *
 * Returns:
 * S_OK;
 * E_POINTER if @PoolName or @Allocator is NULL;
 * E_INVALIDARG if @PoolName is not a valid pool name;
 * HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND) (0x80070002) if the daemon has no such pool;
 * HRESULT_FROM_WIN32(ERROR_SERVICE_NOT_ACTIVE) (0x80070426) if the daemon is not running or its
 *	socket cannot be reached;
 * HRESULT_FROM_WIN32(ERROR_TIMEOUT) (0x800705B4) if the daemon did not answer in time;
 * HRESULT_FROM_WIN32(ERROR_BROKEN_PIPE) (0x8007006D) if the daemon went away during the call;
 * HRESULT_FROM_WIN32(ERROR_REQ_NOT_ACCEP) (0x80070047) if the daemon has as many sessions as
 *	it allows, or the pool is open in as many sessions as it allows;
 * E_OUTOFMEMORY.
 */
KSALLOC_EXPORT HRESULT KsOpenAllocator(const char *PoolName, IKsAllocatorEx **Allocator);

/*
 * KsCreateNamedAllocator() - ask the daemon to create a pool of @Framing called @PoolName, then
 * open it as KsOpenAllocator() does. If the pool exists with the same framing it is opened; with
 * another framing the call fails. The pool goes away when the last process that has it open
 * releases it (unless the daemon's config keeps created pools).
 *
 * @Framing is checked the way Windows checks an allocator's framing: OptionsFlags within
 * KSALLOCATOR_OPTIONF_VALID, PoolType NonPagedPool or PagedPool, Frames and FrameSize above 0
 * and within the daemon's limits, FileAlignment a mask of the form 2^n - 1 (at most 4095, a
 * page), Reserved 0.
 *
 * PoolType NonPagedPool locks the pool's pages in memory (the daemon mlock()s them); PagedPool
 * does not. The pool is shared memory (backend memfd).
 *
 * Returns what KsOpenAllocator() returns, and:
 * E_INVALIDARG if @Framing breaks a rule above (ksallocctl and the daemon's log say which);
 * HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS) (0x800700B7) if a pool of that name exists with
 *	another framing or on another backend;
 * HRESULT_FROM_WIN32(ERROR_NOT_ENOUGH_QUOTA) (0x80070718) if locking the pages would pass the
 *	daemon's RLIMIT_MEMLOCK (LimitMEMLOCK= of ksallocd.service).
 */
KSALLOC_EXPORT HRESULT KsCreateNamedAllocator(const char *PoolName,
					      const KSALLOCATOR_FRAMING *Framing,
					      IKsAllocatorEx **Allocator);

/*
 * KsCreateNamedAllocatorEx() - as KsCreateNamedAllocator(), from the one item of @FramingEx
 * (CountItems must be 1): Frames, FileAlignment, and FramingRange.Range.MaxFrameSize as the
 * frame size. Its MemoryType picks the memory:
 *	KSMEMORY_TYPE_DEVICE_UNKNOWN, or KSALLOCATOR_FLAG_DEVICE_SPECIFIC in Flags: device memory,
 *	frames that are dma-bufs (KSALLOC_FRAME.DmaBufFd), from the first hardware backend the
 *	daemon's machine has (a DMA-BUF heap, else udmabuf);
 *	KSMEMORY_TYPE_KERNEL_NONPAGED: shared memory, locked (NonPagedPool);
 *	KSMEMORY_TYPE_KERNEL_PAGED, _SYSTEM, _USER, _DONT_CARE: shared memory (PagedPool).
 *
 * Returns what KsCreateNamedAllocator() returns, and E_INVALIDARG for another CountItems or an
 * unknown MemoryType; HRESULT_FROM_WIN32(ERROR_DEV_NOT_EXIST) (0x80070037) if device memory is
 * asked for and the daemon's machine has no hardware backend (ksallocctl backends says why).
 */
KSALLOC_EXPORT HRESULT KsCreateNamedAllocatorEx(const char *PoolName,
						const KSALLOCATOR_FRAMING_EX *FramingEx,
						IKsAllocatorEx **Allocator);

/*
 * KSALLOC_FRAME - a frame acquired with KsAllocateFrame(). Data and Size are what the caller
 * uses; the rest identifies the frame to KsFreeFrame() and must be passed back unchanged.
 */
typedef struct KSALLOC_FRAME {
	PVOID Data;       /* the frame's memory, mapped and writable, shared with the daemon */
	ULONG Size;       /* bytes: the pool's FrameSize */
	ULONG Index;      /* the frame's index in its pool */
	ULONG Generation; /* which acquisition of that frame this is */
	ULONG PoolId;     /* the daemon's id of the pool */
	/*
	 * The frame's dma-buf fd, for a device (V4L2, DRM, VA-API...), where the pool's memory is
	 * device memory (KsCreateNamedAllocatorEx with KSMEMORY_TYPE_DEVICE_UNKNOWN); else -1.
	 * The allocator owns it: dup() it to keep it.
	 */
	LONG DmaBufFd;
	ULONG Access; /* KSALLOC_ACCESS_* (<ksalloc/ksalloc.h>): read and write */
} KSALLOC_FRAME, *PKSALLOC_FRAME;

KSALLOC_STATIC_ASSERT(sizeof(KSALLOC_FRAME) == 32, "KSALLOC_FRAME is 32 bytes");

/*
 * KsAllocateFrame() - take a free frame of @Allocator's pool: the analog of
 * KSMETHOD_STREAMALLOCATOR_ALLOC. The fast path is a compare-and-swap in shared memory: no
 * request to the daemon and no system call.
 * @TimeoutMs: how long to wait when every frame is in use: 0 does not wait, INFINITE waits for
 *	as long as it takes. Waiters are served in the order they started waiting.
 * @Frame: receives the frame; untouched on failure.
 *
 * Returns S_OK; E_POINTER for a NULL argument; VFW_E_TIMEOUT if no frame came free in time;
 * VFW_E_NOT_COMMITTED if the pool is decommitted (IMemAllocator_Decommit) or was destroyed,
 * also for a waiter when that happens while it waits; HRESULT_FROM_WIN32(ERROR_NOT_ENOUGH_QUOTA)
 * (0x80070718) if this allocator holds as many frames as the daemon lets one session hold.
 */
KSALLOC_EXPORT HRESULT KsAllocateFrame(IKsAllocatorEx *Allocator, ULONG TimeoutMs,
				       KSALLOC_FRAME *Frame);

/*
 * KsFreeFrame() - give back a frame from KsAllocateFrame(). If a thread waits for a frame of the
 * pool, the frame goes to it directly; a system call is made only then.
 *
 * Returns S_OK; E_POINTER for a NULL argument; E_INVALIDARG if @Frame is not a frame of this
 * pool; E_HANDLE if @Frame is an old handle (the frame was freed and acquired again since);
 * HRESULT_FROM_WIN32(ERROR_NOT_OWNER) (0x80070120) if the frame is free (freed twice);
 * E_ACCESSDENIED if another process (or allocator object) holds the frame.
 */
KSALLOC_EXPORT HRESULT KsFreeFrame(IKsAllocatorEx *Allocator, KSALLOC_FRAME *Frame);

#ifdef __cplusplus
}
#endif

#endif /* KSALLOC_KSPROXY_H */
