/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#ifndef KSALLOC_WINDEF_H
#define KSALLOC_WINDEF_H

/*
 * <ksalloc/windef.h>: the Windows base types and calling-convention macros that the other
 * headers build on: what winnt.h, minwindef.h and windef.h have, INFINITE (winbase.h) and
 * INVALID_HANDLE_VALUE (handleapi.h). <ksalloc/ksproxy.h> includes it.
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
 * Names that other Windows-compatibility headers also define (TRUE, VOID, WINAPI, ...) are
 * guarded with #ifndef, so this header can sit beside them as long as they agree on widths.
 */

#include <stdint.h>

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

#endif /* KSALLOC_WINDEF_H */
