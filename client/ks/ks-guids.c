/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The GUIDs that <ksalloc/ksproxy.h> declares, as data of libksalloc: on Windows, ksuser.lib
 * and strmiids.lib provide them. The header's extern declarations carry default visibility, so
 * these definitions are exported although the library is built with -fvisibility=hidden.
 * KSMEMORY_TYPE_WILDCARD, KSMEMORY_TYPE_DONT_CARE and KS_TYPE_DONT_CARE are macros naming
 * GUID_NULL, as in ks.h, and have no storage of their own.
 */
#include <ksalloc/ksproxy.h>

const GUID GUID_NULL = STATIC_GUID_NULL;

const GUID KSMEMORY_TYPE_SYSTEM = STATIC_KSMEMORY_TYPE_SYSTEM;
const GUID KSMEMORY_TYPE_USER = STATIC_KSMEMORY_TYPE_USER;
const GUID KSMEMORY_TYPE_KERNEL_PAGED = STATIC_KSMEMORY_TYPE_KERNEL_PAGED;
const GUID KSMEMORY_TYPE_KERNEL_NONPAGED = STATIC_KSMEMORY_TYPE_KERNEL_NONPAGED;
const GUID KSMEMORY_TYPE_DEVICE_UNKNOWN = STATIC_KSMEMORY_TYPE_DEVICE_UNKNOWN;

const GUID KSPROPSETID_StreamAllocator = STATIC_KSPROPSETID_StreamAllocator;
const GUID KSMETHODSETID_StreamAllocator = STATIC_KSMETHODSETID_StreamAllocator;
const GUID KSEVENTSETID_StreamAllocator = STATIC_KSEVENTSETID_StreamAllocator;
const GUID KSPROPSETID_Stream = STATIC_KSPROPSETID_Stream;
const GUID KSPROPSETID_Connection = STATIC_KSPROPSETID_Connection;
const GUID KSNAME_Allocator = STATIC_KSNAME_Allocator;

const GUID IID_IUnknown = STATIC_IID_IUnknown;
const GUID IID_IMemAllocator = STATIC_IID_IMemAllocator;
const GUID IID_IMediaSample = STATIC_IID_IMediaSample;
const GUID IID_IMediaSample2 = STATIC_IID_IMediaSample2;
const GUID IID_IMemAllocatorCallbackTemp = STATIC_IID_IMemAllocatorCallbackTemp;
const GUID IID_IMemAllocatorNotifyCallbackTemp = STATIC_IID_IMemAllocatorNotifyCallbackTemp;
const GUID IID_IKsAllocator = STATIC_IID_IKsAllocator;
const GUID IID_IKsAllocatorEx = STATIC_IID_IKsAllocatorEx;
const GUID IID_IKsPin = STATIC_IID_IKsPin;
const GUID IID_IKsObject = STATIC_IID_IKsObject;
const GUID CLSID_MemoryAllocator = STATIC_CLSID_MemoryAllocator;
