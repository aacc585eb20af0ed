/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The IKsAllocatorEx side of the allocator object (object.h), for ks-stream.c, which makes
 * consumers' objects as ks-allocator.c makes the others.
 */

#include "client/ks/object.h"

/*
 * Gives @a, once its pool is open, the Windows view of it: the IKsAllocatorEx table, the
 * mode, the handle and the properties the pool gives, and the IMemAllocator side
 * (ks_mem_allocator_init()). Cannot fail.
 */
void ks_allocator_setup(struct ks_allocator *a);
