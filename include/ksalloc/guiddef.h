/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#ifndef KSALLOC_GUIDDEF_H
#define KSALLOC_GUIDDEF_H

/*
 * <ksalloc/guiddef.h>: GUID, IID and CLSID, the REFGUID / REFIID / REFCLSID parameter types,
 * IsEqualGUID() and DEFINE_GUID(), as Windows' guiddef.h has them. <ksalloc/ksproxy.h> includes
 * it.
 *
 * GUIDs (IID_*, KSMEMORY_TYPE_*, KSPROPSETID_*, ...) are data exported by libksalloc, as
 * ksuser.lib / strmiids.lib provide them on Windows: link with libksalloc (pkg-config ksalloc).
 * As on Windows, REFIID / REFGUID are "const GUID *" in C (pass &IID_IKsAllocator) and
 * "const GUID &" in C++ (pass IID_IKsAllocator).
 *
 * Names that other Windows-compatibility headers also define (GUID, REFIID, IsEqualGUID, ...)
 * are guarded with #ifndef, so this header can sit beside them as long as they agree on widths.
 */

#include <stdint.h>
#include <string.h>

#include <ksalloc/windef.h>

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

/*
 * Named GUIDs (IID_IUnknown, KSMEMORY_TYPE_SYSTEM, ...: in the headers of their interfaces and
 * property sets). STATIC_<NAME> is a complete initializer, braces included:
 * "const GUID g = STATIC_KSMEMORY_TYPE_SYSTEM;". ks.h leaves the braces out and is used as
 * "{ STATIC_... }", but gcc's -Wall (-Wmissing-braces) rejects that brace elision, so such code
 * drops its outer braces here. STATICGUIDOF() inside a larger initializer works unchanged.
 */

#endif /* KSALLOC_GUIDDEF_H */
