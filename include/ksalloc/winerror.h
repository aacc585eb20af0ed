/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#ifndef KSALLOC_WINERROR_H
#define KSALLOC_WINERROR_H

/*
 * <ksalloc/winerror.h>: HRESULT, the macros that build and test it, and the codes ksalloc
 * returns (winerror.h and vfwmsgs.h on Windows). <ksalloc/ksproxy.h> includes it; it stands
 * alone too, for code that only translates errors (the daemon's errno <-> HRESULT table reads
 * it without the rest of the Windows types).
 *
 * Every name is guarded with #ifndef, so this header can sit beside other Windows-compatibility
 * headers as long as they agree on widths: HRESULT is a 32-bit signed integer, as on Windows.
 */

#include <stdint.h>

#ifndef _HRESULT_DEFINED
#define _HRESULT_DEFINED
typedef int32_t HRESULT;
#endif

/*
 * HRESULT: bit 31 is failure, bits 16..26 the facility, bits 0..15 the code.
 * HRESULT_FROM_WIN32 is a macro, as in older SDKs, so that it works in case labels; like Windows'
 * it evaluates its argument twice.
 */

/* As the SDK writes them (clang-format would take "(hr) & x" for a cast). */
/* clang-format off */
#ifndef FACILITY_WIN32
#define FACILITY_WIN32 7
#endif
#ifndef SEVERITY_SUCCESS
#define SEVERITY_SUCCESS 0
#endif
#ifndef SEVERITY_ERROR
#define SEVERITY_ERROR 1
#endif
#ifndef SUCCEEDED
#define SUCCEEDED(hr) (((HRESULT)(hr)) >= 0)
#endif
#ifndef FAILED
#define FAILED(hr) (((HRESULT)(hr)) < 0)
#endif
#ifndef IS_ERROR
#define IS_ERROR(status) (((uint32_t)(status)) >> 31 == SEVERITY_ERROR)
#endif
#ifndef HRESULT_CODE
#define HRESULT_CODE(hr) ((hr) & 0xFFFF)
#endif
#ifndef HRESULT_FACILITY
#define HRESULT_FACILITY(hr) (((hr) >> 16) & 0x1FFF)
#endif
#ifndef HRESULT_SEVERITY
#define HRESULT_SEVERITY(hr) (((hr) >> 31) & 0x1)
#endif
#ifndef MAKE_HRESULT
#define MAKE_HRESULT(sev, fac, code) \
	((HRESULT)(((uint32_t)(sev) << 31) | ((uint32_t)(fac) << 16) | ((uint32_t)(code))))
#endif
/*
 * Zero and negative values (already HRESULTs) pass through; an error code x > 0 becomes
 * 0x8007xxxx, keeping its low 16 bits.
 */
#ifndef HRESULT_FROM_WIN32
#define HRESULT_FROM_WIN32(x)                                                                   \
	((HRESULT)(x) <= 0 ? (HRESULT)(x)                                                       \
			   : (HRESULT)(((uint32_t)(x) & 0x0000FFFFu) |                          \
				       ((uint32_t)FACILITY_WIN32 << 16) | 0x80000000u))
#endif
/* clang-format on */

/*
 * Win32 error codes that ksalloc's HRESULTs are built from. Plain int, not Windows' "2L": int is
 * this system's 32-bit integer, so %d / %u print them.
 */
#ifndef ERROR_SUCCESS
#define ERROR_SUCCESS 0
#endif
#ifndef ERROR_FILE_NOT_FOUND
#define ERROR_FILE_NOT_FOUND 2
#endif
#ifndef ERROR_ACCESS_DENIED
#define ERROR_ACCESS_DENIED 5
#endif
#ifndef ERROR_INVALID_HANDLE
#define ERROR_INVALID_HANDLE 6
#endif
#ifndef ERROR_INVALID_DATA
#define ERROR_INVALID_DATA 13
#endif
#ifndef ERROR_OUTOFMEMORY
#define ERROR_OUTOFMEMORY 14
#endif
#ifndef ERROR_NOT_SAME_DEVICE
#define ERROR_NOT_SAME_DEVICE 17
#endif
#ifndef ERROR_NOT_SUPPORTED
#define ERROR_NOT_SUPPORTED 50
#endif
#ifndef ERROR_DEV_NOT_EXIST
#define ERROR_DEV_NOT_EXIST 55
#endif
#ifndef ERROR_INVALID_PARAMETER
#define ERROR_INVALID_PARAMETER 87
#endif
#ifndef ERROR_NOT_OWNER
#define ERROR_NOT_OWNER 288
#endif
#ifndef ERROR_NOT_ENOUGH_QUOTA
#define ERROR_NOT_ENOUGH_QUOTA 1816
#endif
#ifndef ERROR_REQ_NOT_ACCEP
#define ERROR_REQ_NOT_ACCEP 71
#endif
#ifndef ERROR_BUFFER_OVERFLOW
#define ERROR_BUFFER_OVERFLOW 111
#endif
#ifndef ERROR_BROKEN_PIPE
#define ERROR_BROKEN_PIPE 109
#endif
#ifndef ERROR_ALREADY_EXISTS
#define ERROR_ALREADY_EXISTS 183
#endif
#ifndef ERROR_SERVICE_NOT_ACTIVE
#define ERROR_SERVICE_NOT_ACTIVE 1062
#endif
#ifndef ERROR_TIMEOUT
#define ERROR_TIMEOUT 1460
#endif

/* winerror.h */
#ifndef S_OK
#define S_OK ((HRESULT)0x00000000L)
#endif
#ifndef NOERROR
#define NOERROR ((HRESULT)0x00000000L)
#endif
#ifndef S_FALSE
#define S_FALSE ((HRESULT)0x00000001L)
#endif
#ifndef E_UNEXPECTED
#define E_UNEXPECTED ((HRESULT)0x8000FFFFL)
#endif
#ifndef E_NOTIMPL
#define E_NOTIMPL ((HRESULT)0x80004001L)
#endif
#ifndef E_NOINTERFACE
#define E_NOINTERFACE ((HRESULT)0x80004002L)
#endif
#ifndef E_POINTER
#define E_POINTER ((HRESULT)0x80004003L)
#endif
#ifndef E_ABORT
#define E_ABORT ((HRESULT)0x80004004L)
#endif
#ifndef E_FAIL
#define E_FAIL ((HRESULT)0x80004005L)
#endif
#ifndef E_ACCESSDENIED
#define E_ACCESSDENIED ((HRESULT)0x80070005L)
#endif
#ifndef E_HANDLE
#define E_HANDLE ((HRESULT)0x80070006L)
#endif
#ifndef E_OUTOFMEMORY
#define E_OUTOFMEMORY ((HRESULT)0x8007000EL)
#endif
#ifndef E_INVALIDARG
#define E_INVALIDARG ((HRESULT)0x80070057L)
#endif

/* vfwmsgs.h: the IMemAllocator errors. */
#ifndef VFW_E_NO_ALLOCATOR
#define VFW_E_NO_ALLOCATOR ((HRESULT)0x8004020AL)
#endif
#ifndef VFW_E_BUFFER_NOTSET
#define VFW_E_BUFFER_NOTSET ((HRESULT)0x8004020CL)
#endif
#ifndef VFW_E_BUFFER_OVERFLOW
#define VFW_E_BUFFER_OVERFLOW ((HRESULT)0x8004020DL)
#endif
#ifndef VFW_E_BADALIGN
#define VFW_E_BADALIGN ((HRESULT)0x8004020EL)
#endif
#ifndef VFW_E_ALREADY_COMMITTED
#define VFW_E_ALREADY_COMMITTED ((HRESULT)0x8004020FL)
#endif
#ifndef VFW_E_BUFFERS_OUTSTANDING
#define VFW_E_BUFFERS_OUTSTANDING ((HRESULT)0x80040210L)
#endif
#ifndef VFW_E_NOT_COMMITTED
#define VFW_E_NOT_COMMITTED ((HRESULT)0x80040211L)
#endif
#ifndef VFW_E_SIZENOTSET
#define VFW_E_SIZENOTSET ((HRESULT)0x80040212L)
#endif
#ifndef VFW_E_NOT_STOPPED
#define VFW_E_NOT_STOPPED ((HRESULT)0x80040224L)
#endif
#ifndef VFW_E_WRONG_STATE
#define VFW_E_WRONG_STATE ((HRESULT)0x80040227L)
#endif
#ifndef VFW_E_TIMEOUT
#define VFW_E_TIMEOUT ((HRESULT)0x8004022EL)
#endif
/* vfwmsgs.h: what IMediaSample's time getters return when no time was set. */
#ifndef VFW_E_SAMPLE_TIME_NOT_SET
#define VFW_E_SAMPLE_TIME_NOT_SET ((HRESULT)0x80040249L)
#endif
#ifndef VFW_E_MEDIA_TIME_NOT_SET
#define VFW_E_MEDIA_TIME_NOT_SET ((HRESULT)0x80040251L)
#endif
#ifndef VFW_S_NO_STOP_TIME
#define VFW_S_NO_STOP_TIME ((HRESULT)0x00040270L)
#endif

#endif /* KSALLOC_WINERROR_H */
