/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#ifndef KSALLOC_UNKNWN_H
#define KSALLOC_UNKNWN_H

/*
 * <ksalloc/unknwn.h>: IUnknown, the interface every COM interface starts with, as Windows'
 * unknwn.h has it, and STDAPI (objbase.h). <ksalloc/ksproxy.h> includes it.
 */

#include <ksalloc/_ksalloc-common.h>
#include <ksalloc/guiddef.h>
#include <ksalloc/windef.h>
#include <ksalloc/winerror.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A function of a COM API: STDAPI CoFoo(void) declares "HRESULT CoFoo(void)". */
#ifndef STDAPI
#define STDAPI EXTERN_C HRESULT STDAPICALLTYPE
#endif

/* Each initializer stays on one line, as in the SDK (clang-format would unfold it). */
/* clang-format off */
#define STATIC_IID_IUnknown \
	{ 0x00000000, 0x0000, 0x0000, { 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46 } }
/* clang-format on */

extern KSALLOC_EXPORT const GUID IID_IUnknown;

typedef struct IUnknown IUnknown;
typedef IUnknown *LPUNKNOWN;

/*
 * Interfaces, laid out as MIDL lays out C COM objects: an object starts with a pointer to a
 * table of function pointers in Windows' slot order, and every function takes the object as
 * This. Call them through the macros after each table: IKsAllocator_KsGetAllocatorStatus(p, &s).
 */

/* One slot a line (clang-format would take "HRESULT(STDMETHODCALLTYPE *Slot)" for a call). */
/* clang-format off */
typedef struct IUnknownVtbl {
	/* See IKsAllocatorVtbl: the first three slots of every interface are these. */
	HRESULT(STDMETHODCALLTYPE *QueryInterface)(IUnknown *This, REFIID riid, void **ppvObject);
	ULONG(STDMETHODCALLTYPE *AddRef)(IUnknown *This);
	ULONG(STDMETHODCALLTYPE *Release)(IUnknown *This);
} IUnknownVtbl;
/* clang-format on */

struct IUnknown {
	const struct IUnknownVtbl *lpVtbl;
};

#define IUnknown_QueryInterface(This, riid, ppvObject) \
	((This)->lpVtbl->QueryInterface(This, riid, ppvObject))
#define IUnknown_AddRef(This) ((This)->lpVtbl->AddRef(This))
#define IUnknown_Release(This) ((This)->lpVtbl->Release(This))

#ifdef __cplusplus
}
#endif

#endif /* KSALLOC_UNKNWN_H */
