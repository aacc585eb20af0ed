/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#ifndef KSALLOC__KSALLOC_COMMON_H
#define KSALLOC__KSALLOC_COMMON_H

/*
 * <ksalloc/_ksalloc-common.h>: the compiler glue that the other <ksalloc/...> headers share, as
 * systemd's headers share <systemd/_sd-common.h> and mingw-w64's share <_mingw.h>. It declares
 * nothing of the API; clients include the headers that do.
 */

/* The library is built with -fvisibility=hidden: every symbol declared with this is exported. */
#ifndef KSALLOC_EXPORT
#define KSALLOC_EXPORT __attribute__((visibility("default")))
#endif

/* The Windows headers' sizes and offsets are checked with this, beside the types, in C and C++. */
#ifdef __cplusplus
#define KSALLOC_STATIC_ASSERT(expr, msg) static_assert(expr, msg)
#else
#define KSALLOC_STATIC_ASSERT(expr, msg) _Static_assert(expr, msg)
#endif

#endif /* KSALLOC__KSALLOC_COMMON_H */
