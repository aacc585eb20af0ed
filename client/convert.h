/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Conversions from the wire's messages (proto/ksalloc.proto) to the public structs of
 * <ksalloc/ksalloc.h> that more than one client module makes, and the one the other way
 * (framing_to_wire()). Pure: no I/O, no lock; strings are copied (truncated to the public
 * struct's room), so nothing written points into the decoded reply, which the next call on
 * the connection overwrites.
 */

#include <ksalloc/ksalloc.h>

#include "proto/protocol.h"

/* The framing @f (may be NULL: all zero) and @allocated frames as @st. */
void status_from_wire(const Ksalloc__Framing *f, uint32_t allocated, struct ksalloc_status *st);

/* The holder @h as @o. */
void holder_from_wire(const Ksalloc__Holder *h, struct ksalloc_holder *o);

/* The pool @w as @info. */
void info_from_wire(const Ksalloc__PoolInfo *w, struct ksalloc_pool_info *info);

/*
 * The extended status @w as *@ret_stats, whose holders array is malloc'ed and the caller's
 * (ksalloc_event_clear(), or free() of its holders). Returns 0, or -ENOMEM with
 * *@ret_stats untouched.
 */
int stats_from_wire(const Ksalloc__GetStatusReply *w, struct ksalloc_pool_stats *ret_stats);

/* The framing @f as the wire's @w, which is initialized here. */
void framing_to_wire(const struct ksalloc_framing *f, Ksalloc__Framing *w);
