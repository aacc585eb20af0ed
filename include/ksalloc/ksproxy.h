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
 * The declarations are in parts, split as mingw-w64 splits Windows' headers, and this header
 * includes them all: a client includes this one.
 * - <ksalloc/winerror.h>: HRESULT, SUCCEEDED() / FAILED(), the S_, E_ and VFW_ codes.
 * - <ksalloc/windef.h>: the base types (ULONG, LONG, HANDLE, ...), TRUE, INFINITE, and the
 *   calling-convention macros (STDMETHODCALLTYPE, WINAPI, EXTERN_C).
 * - <ksalloc/guiddef.h>: GUID, IID, REFIID, IsEqualGUID(), DEFINE_GUID().
 * - <ksalloc/unknwn.h>: IUnknown, STDAPI.
 * - <ksalloc/ks.h>: KSALLOCATOR_FRAMING(_EX), KSSTREAMALLOCATOR_STATUS(_EX), the KSALLOCATOR_*
 *   flags, KSMEMORY_TYPE_* and the other KS GUIDs, POOL_TYPE, FILE_*_ALIGNMENT, and KSTIME,
 *   KSSTREAM_HEADER and the KSSTREAM_HEADER_OPTIONSF_* flags.
 * - <ksalloc/strmif.h>: IMemAllocator, IMemAllocatorCallbackTemp, IMediaSample,
 *   ALLOCATOR_PROPERTIES, AM_MEDIA_TYPE, REFERENCE_TIME.
 * - This file: what Windows' ksproxy.h has (IKsAllocator, IKsAllocatorEx,
 *   ALLOCATOR_PROPERTIES_EX, KSALLOCATORMODE, the PIPE_* types), and the Linux entry points
 *   (KsOpenAllocator(), KsCreateNamedAllocator(Ex), KsAllocateFrame(), KsFreeFrame()), with
 *   streams: frames and their KSSTREAM_HEADERs from one process to others (KsCreateStream(),
 *   KsOpenStream(), KsStreamDeliver(), KsStreamReceive(), KsStreamReceiveSample()).
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
 * Names that other Windows-compatibility headers also define (TRUE, S_OK, SUCCEEDED, GUID, ...)
 * are guarded with #ifndef, so this header can sit beside them as long as they agree on widths.
 */

/* <stddef.h>, <stdint.h> and <string.h> came with this header before it had parts: they stay. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <ksalloc/_ksalloc-common.h>
#include <ksalloc/guiddef.h>
#include <ksalloc/ks.h>
#include <ksalloc/strmif.h>
#include <ksalloc/unknwn.h>
#include <ksalloc/windef.h>
#include <ksalloc/winerror.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Named GUIDs: STATIC_<NAME> is a complete initializer (see <ksalloc/guiddef.h>). */

/* Not KSNAME_Allocator, which ReactOS's kernel code reuses as a private IID of its own. */
/* Each initializer stays on one line, as in the SDK (clang-format would unfold it). */
/* clang-format off */
#define STATIC_IID_IKsAllocator \
	{ 0x8da64899, 0xc0d9, 0x11d0, { 0x84, 0x13, 0x00, 0x00, 0xf8, 0x22, 0xfe, 0x8a } }
#define STATIC_IID_IKsAllocatorEx \
	{ 0x091bb63a, 0x603f, 0x11d1, { 0xb0, 0x67, 0x00, 0xa0, 0xc9, 0x06, 0x28, 0x02 } }
#define STATIC_IID_IKsPin \
	{ 0xb61178d1, 0xa2d9, 0x11cf, { 0x9e, 0x53, 0x00, 0xaa, 0x00, 0xa2, 0x16, 0xa1 } }
#define STATIC_IID_IKsObject \
	{ 0x423c13a2, 0x2070, 0x11d0, { 0x9e, 0xf7, 0x00, 0xaa, 0x00, 0xa2, 0x16, 0xa1 } }
/* clang-format on */

extern KSALLOC_EXPORT const GUID IID_IKsAllocator;
extern KSALLOC_EXPORT const GUID IID_IKsAllocatorEx;
extern KSALLOC_EXPORT const GUID IID_IKsPin;
extern KSALLOC_EXPORT const GUID IID_IKsObject;

/* Interfaces, declared ahead because ALLOCATOR_PROPERTIES_EX points at IKsAllocatorEx. */
typedef struct IKsAllocator IKsAllocator;
typedef struct IKsAllocatorEx IKsAllocatorEx;
/* Named by methods here but never implemented on Linux: left incomplete. */
typedef struct IKsPin IKsPin;
typedef struct IKsObject IKsObject;

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

/* Structures, with Windows' x86-64 sizes asserted after each, as in <ksalloc/ks.h>. */

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
/* Its pointers make its size depend on their width: checked where they are 8 bytes. */
#if defined(__SIZEOF_POINTER__) && __SIZEOF_POINTER__ == 8
KSALLOC_STATIC_ASSERT(sizeof(ALLOCATOR_PROPERTIES_EX) == 264,
		      "ALLOCATOR_PROPERTIES_EX is 264 bytes");
KSALLOC_STATIC_ASSERT(offsetof(ALLOCATOR_PROPERTIES_EX, PrevSegment) == 0xE8,
		      "ALLOCATOR_PROPERTIES_EX.PrevSegment is at 0xE8");
KSALLOC_STATIC_ASSERT(offsetof(ALLOCATOR_PROPERTIES_EX, NextSegments) == 0xF8,
		      "ALLOCATOR_PROPERTIES_EX.NextSegments is at 0xF8");
#endif

/*
 * Interfaces, laid out as MIDL lays out C COM objects (see <ksalloc/unknwn.h>).
 * An IKsAllocatorEx can be passed wherever an IKsAllocator is wanted (cast the pointer): its
 * first seven slots are IKsAllocator's.
 */

/* One slot a line (clang-format would take "HRESULT(STDMETHODCALLTYPE *Slot)" for a call). */
/* clang-format off */
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
/* clang-format on */

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

/* One slot a line (clang-format would take "HRESULT(STDMETHODCALLTYPE *Slot)" for a call). */
/* clang-format off */
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
/* clang-format on */

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
 * (0x80070718) if this allocator holds as many frames as the daemon lets one session hold;
 * VFW_E_WRONG_STATE if the allocator consumes a stream (KsOpenStream): its frames come from
 * KsStreamReceive().
 */
KSALLOC_EXPORT HRESULT KsAllocateFrame(IKsAllocatorEx *Allocator, ULONG TimeoutMs,
				       KSALLOC_FRAME *Frame);

/*
 * KsFreeFrame() - give back a frame from KsAllocateFrame(). If a thread waits for a frame of the
 * pool, the frame goes to it directly; a system call is made only then. On an allocator from
 * KsOpenStream(), give back a frame from KsStreamReceive(): the last of the stream's consumers
 * to free it returns it to the pool.
 *
 * Returns S_OK; E_POINTER for a NULL argument; E_INVALIDARG if @Frame is not a frame of this
 * pool; E_HANDLE if @Frame is an old handle (the frame was freed and acquired again since);
 * HRESULT_FROM_WIN32(ERROR_NOT_OWNER) (0x80070120) if the frame is free (freed twice);
 * E_ACCESSDENIED if another process (or allocator object) holds the frame.
 */
KSALLOC_EXPORT HRESULT KsFreeFrame(IKsAllocatorEx *Allocator, KSALLOC_FRAME *Frame);

/*
 * ---- Streams: frames that travel from one process to others ---------------------------------
 *
 * On Windows the pins of connected filters share an allocator: the upstream pin allocates a
 * frame, sends it downstream described by a KSSTREAM_HEADER (<ksalloc/ks.h>), and whoever is
 * done with it frees it. ksalloc does the same across processes: a producer's allocator
 * delivers frames of its pool into a named stream, and each of up to 32 consumer allocators,
 * in any processes, receives every frame, in order, and frees it. The frame is not copied
 * (each process maps the pool's memory), and it goes back to the pool when the last consumer
 * frees it. Delivering, receiving and freeing are operations on shared memory: no request to
 * the daemon, and no system call unless somebody has to wait.
 *
 *	producer				consumer, in another process
 *	KsOpenAllocator("video", &Pro);
 *	KsCreateStream(Pro, "camera");
 *						KsOpenStream("camera", NULL, &Con);
 *	KsAllocateFrame(Pro, INFINITE, &Frame);
 *	(fill Frame.Data, and Header)
 *	KsStreamDeliver(Pro, &Frame, &Header, INFINITE);
 *						KsStreamReceive(Con, INFINITE, &Frame, &Header);
 *						(read Header.Data)
 *						KsFreeFrame(Con, &Frame);
 *
 * A DirectShow consumer takes the frame as an IMediaSample instead (KsStreamReceiveSample()),
 * whose last Release frees it.
 *
 * A consumer that falls behind loses frames or holds the producer back, as its policy says;
 * the first frame it receives after losing any carries
 * KSSTREAM_HEADER_OPTIONSF_DATADISCONTINUITY.
 */

/* What a consumer does when its queue is full and the producer delivers a frame. */
typedef enum {
	/* Lossless: KsStreamDeliver waits (up to its TimeoutMs) for room in this consumer's queue. */
	KsStreamPolicy_Block = 0,
	KsStreamPolicy_DropNewest = 1, /* the new frame skips this consumer */
	KsStreamPolicy_DropOldest = 2, /* the oldest frame queued for it makes room */
	KsStreamPolicy_Latest = 3,     /* a queue of one: only the newest frame waits (previews) */
} KSALLOC_STREAM_POLICY;

/* How KsOpenStream() attaches a consumer. All zero (or NULL) gives the defaults. */
typedef struct KSALLOC_STREAM_OPTIONS {
	KSALLOC_STREAM_POLICY Policy; /* default KsStreamPolicy_Block */
	ULONG Depth;                  /* frames queued for this consumer at most, 1 to 64; 0: 4 */
	ULONG MaxHeld; /* frames it may hold at once (received and not yet freed); 0: 8 */
	BOOL ReadOnly; /* map the frames read-only, even where the caller may produce */
} KSALLOC_STREAM_OPTIONS, *PKSALLOC_STREAM_OPTIONS;
KSALLOC_STATIC_ASSERT(sizeof(KSALLOC_STREAM_OPTIONS) == 16, "KSALLOC_STREAM_OPTIONS is 16 bytes");

/*
 * KsCreateStream() - make @Allocator the producer of the stream called @StreamName: the frames
 * it delivers with KsStreamDeliver() go to the stream's consumers. The stream is created on
 * the allocator's pool (mode 0660: the caller's user and group may produce and consume), or,
 * when it exists and has no producer (the daemon's config declares it, or its producer's
 * allocator was released, or its process died), attached to. It stays bound to the allocator until the allocator's last
 * Release, which detaches it: unless the stream was ended, its consumers then get
 * HRESULT_FROM_WIN32(ERROR_BROKEN_PIPE) after its last frame. Call it before the first
 * KsStreamDeliver(); one thread at a time delivers into a stream.
 *
 * Returns S_OK;
 * E_POINTER for a NULL argument;
 * E_INVALIDARG if @StreamName is not a valid name (as a pool's: at most 63 bytes);
 * VFW_E_WRONG_STATE if @Allocator already has a stream (it produces into one, or consumes from
 *	one: KsOpenStream) or the stream has a producer (also one that ended it, until its
 *	allocator is released);
 * HRESULT_FROM_WIN32(ERROR_NOT_SAME_DEVICE) (0x80070011) if the stream exists on another pool;
 * E_ACCESSDENIED if the caller may not produce into the stream;
 * the daemon errors listed at KsOpenAllocator().
 */
KSALLOC_EXPORT HRESULT KsCreateStream(IKsAllocatorEx *Allocator, const char *StreamName);

/*
 * KsOpenStream() - attach to the stream called @StreamName as a consumer: a new allocator object
 * whose KsStreamReceive() and KsStreamReceiveSample() take the frames delivered from then on,
 * and whose KsFreeFrame() gives them back. The object is an allocator of the stream's pool
 * (KsGetAllocatorStatus, KsGetProperties and IMemAllocator_GetProperties describe that pool),
 * but its frames come from the stream: KsAllocateFrame() and IMemAllocator_GetBuffer() on it
 * fail with VFW_E_WRONG_STATE, and so does IMemAllocator_SetProperties() (the pool is the
 * producer's to shape); its IMemAllocator_Commit() and _Decommit() change only what the object
 * itself reports, never the pool the producer allocates from. Its last Release detaches it and
 * gives back every frame queued for it or received and not yet freed (a sample holds a
 * reference to it, so samples are all released by then).
 * @Options: how this consumer is served (caller-owned; NULL: the defaults).
 * @Allocator: receives the new object with one reference, or NULL on failure.
 *
 * Returns S_OK;
 * E_POINTER if @StreamName or @Allocator is NULL;
 * E_INVALIDARG if @StreamName is not a valid name, or @Options asks for an unknown Policy or a
 *	Depth above 64;
 * HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND) (0x80070002) if there is no such stream (no producer
 *	made it, and the daemon's config does not declare it);
 * HRESULT_FROM_WIN32(ERROR_REQ_NOT_ACCEP) (0x80070047) if it has 32 consumers already;
 * E_ACCESSDENIED if the caller may not consume from it;
 * the daemon errors listed at KsOpenAllocator(); E_OUTOFMEMORY.
 */
KSALLOC_EXPORT HRESULT KsOpenStream(const char *StreamName, const KSALLOC_STREAM_OPTIONS *Options,
				    IKsAllocatorEx **Allocator);

/*
 * KsStreamDeliver() - producer: send @Frame, taken from @Allocator with KsAllocateFrame() and
 * filled, to the consumers of @Allocator's stream, described by @Header: the part of
 * IOCTL_KS_WRITE_STREAM that a frame of a shared allocator needs.
 * @Header: caller-owned. Size must be sizeof(KSSTREAM_HEADER) (no extension is carried), Data
 *	@Frame->Data, FrameExtent at most @Frame->Size and DataUsed at most FrameExtent.
 *	TypeSpecificFlags, PresentationTime, Duration, DataUsed and OptionsFlags travel with the
 *	frame; the receiver's Data and FrameExtent are its own.
 * @TimeoutMs: how long to wait when a consumer of policy KsStreamPolicy_Block has a full queue:
 *	0 does not wait, INFINITE waits for as long as it takes.
 * On success the frame belongs to the consumers: neither free it nor touch it again.
 *
 * End of stream: @Frame NULL with a @Header whose OptionsFlags has
 * KSSTREAM_HEADER_OPTIONSF_ENDOFSTREAM and whose DataUsed is 0 (a data-less end-of-stream
 * packet, as Windows sends one) ends the stream: each consumer receives the frames delivered
 * before, then the end. A frame delivered with ENDOFSTREAM is delivered, then ends the stream
 * the same way.
 *
 * Returns S_OK when the frame reached at least one consumer, or the stream ended;
 * S_FALSE when it reached none (no consumer is attached, or each dropped it as its policy
 *	says): the frame is back in the pool;
 * E_POINTER for a NULL @Allocator or @Header, or a NULL @Frame without end of stream;
 * E_INVALIDARG if @Header breaks a rule above, or @Frame is not a frame this allocator holds;
 * VFW_E_WRONG_STATE if @Allocator produces into no stream (see KsCreateStream);
 * VFW_E_TIMEOUT if a KsStreamPolicy_Block consumer had no room in time: no consumer got the
 *	frame, which is still the caller's;
 * HRESULT_FROM_WIN32(ERROR_BROKEN_PIPE) (0x8007006D) if the stream was ended (see below);
 * E_ACCESSDENIED if another producer has taken the stream over;
 * VFW_E_NOT_COMMITTED if the daemon dropped the stream, or is gone.
 * Ending a stream that is ended already is no error (S_OK). When a frame delivered with
 * ENDOFSTREAM reached the consumers but the end failed, the end's error is returned: the frame
 * is the consumers' all the same. An allocator whose stream ended delivers no more frames
 * (HRESULT_FROM_WIN32(ERROR_BROKEN_PIPE), "the pipe has been ended"; the frame stays the
 * caller's); once it is released, another allocator may produce into the stream
 * (KsCreateStream).
 */
KSALLOC_EXPORT HRESULT KsStreamDeliver(IKsAllocatorEx *Allocator, KSALLOC_FRAME *Frame,
				       const KSSTREAM_HEADER *Header, ULONG TimeoutMs);

/*
 * KsStreamReceive() - consumer: take the next frame of @Allocator's stream (from KsOpenStream):
 * the part of IOCTL_KS_READ_STREAM that a frame of a shared allocator needs.
 * @TimeoutMs: how long to wait for one: 0 does not wait, INFINITE waits for as long as it takes.
 * @Frame: receives the frame, to be given back with KsFreeFrame(@Allocator, @Frame). Its Data
 *	is the frame's memory in this process, read-only when the caller may not produce into the
 *	stream (or asked for ReadOnly): Access says which.
 * @Header: caller-owned; receives the producer's header as this process sees it: Size
 *	sizeof(KSSTREAM_HEADER), Data @Frame->Data, FrameExtent @Frame->Size, Reserved 0, and
 *	TypeSpecificFlags, PresentationTime, Duration, DataUsed and OptionsFlags as delivered,
 *	with KSSTREAM_HEADER_OPTIONSF_DATADISCONTINUITY added on the first frame after frames were
 *	lost for this consumer, and _TYPECHANGED on the first after the stream's format changed.
 *
 * Returns S_OK;
 * S_FALSE at the end of the stream (its producer ended it; reported once, after every frame it
 *	delivered): @Header is then a data-less end-of-stream packet (OptionsFlags
 *	KSSTREAM_HEADER_OPTIONSF_ENDOFSTREAM, Size sizeof(KSSTREAM_HEADER), all else 0) and @Frame
 *	no frame (Data NULL, Size 0, DmaBufFd -1): there is nothing to free. A later call waits
 *	for the frames of the stream's next producer;
 * HRESULT_FROM_WIN32(ERROR_BROKEN_PIPE) (0x8007006D) once, after its last frame, when the
 *	producer went without ending the stream (released its allocator, or died); a later call
 *	waits for the next producer's frames;
 * VFW_E_TIMEOUT if no frame came in time (also at once with @TimeoutMs 0);
 * HRESULT_FROM_WIN32(ERROR_NOT_ENOUGH_QUOTA) (0x80070718) if this consumer holds MaxHeld
 *	frames: free one first;
 * VFW_E_NOT_COMMITTED if the daemon dropped the stream, or is gone;
 * VFW_E_WRONG_STATE if @Allocator does not consume a stream (it is not from KsOpenStream);
 * E_POINTER for a NULL argument.
 * On failure @Frame and @Header are left untouched.
 */
KSALLOC_EXPORT HRESULT KsStreamReceive(IKsAllocatorEx *Allocator, ULONG TimeoutMs,
				       KSALLOC_FRAME *Frame, KSSTREAM_HEADER *Header);

/*
 * KsStreamReceiveSample() - consumer: as KsStreamReceive(), the frame as an IMediaSample, its
 * properties taken from the header as ksproxy takes them on a read completion:
 *	GetPointer: the frame's memory in this process (read-only as KsStreamReceive says);
 *	GetSize: the frame's size (FrameExtent); GetActualDataLength: DataUsed;
 *	GetTime: with TIMEVALID the start is PresentationTime in 100-ns units
 *		(Time * Numerator / Denominator; a Denominator of 0 reads as 1/1), and with
 *		DURATIONVALID too the stop is start + Duration (S_OK), without it
 *		VFW_S_NO_STOP_TIME; without TIMEVALID, VFW_E_SAMPLE_TIME_NOT_SET;
 *	IsSyncPoint: SPLICEPOINT; IsPreroll: PREROLL; IsDiscontinuity: DATADISCONTINUITY;
 *	no media type and no media times;
 *	and, through IMediaSample2 (QueryInterface: the same pointer), GetProperties:
 *	dwTypeSpecificFlags TypeSpecificFlags, dwSampleFlags the flags above as AM_SAMPLE_*
 *	plus TIMEDISCONTINUITY, FLUSHONPAUSE and ENDOFSTREAM as delivered (never TYPECHANGED:
 *	there is no AM_MEDIA_TYPE to go with it), dwStreamId AM_STREAM_MEDIA.
 * The sample's setters change the sample, not what other consumers see. Its last Release
 * gives the frame back, as KsFreeFrame() would; it holds a reference to @Allocator until then.
 * @Sample: receives the sample with one reference; NULL on failure and at the end of the
 *	stream.
 *
 * Returns what KsStreamReceive() returns (S_FALSE: the end of the stream, no sample), and
 * E_OUTOFMEMORY.
 */
KSALLOC_EXPORT HRESULT KsStreamReceiveSample(IKsAllocatorEx *Allocator, ULONG TimeoutMs,
					     IMediaSample **Sample);

#ifdef __cplusplus
}
#endif

#endif /* KSALLOC_KSPROXY_H */
