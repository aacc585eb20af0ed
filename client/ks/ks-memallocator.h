/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The IMemAllocator side of the allocator object (object.h), for ks-allocator.c, which makes
 * the object.
 */

#include "client/ks/object.h"

/*
 * Sets up the IMemAllocator side of @a once its pool is open: the interface's table, and its
 * state read from the pool's info (the properties its framing gives, committed as the pool
 * is). Cannot fail, and leaves nothing to undo: the SetNotify reference that the interface
 * may hold later is dropped by the object's last unref (object.c).
 */
void ks_mem_allocator_init(struct ks_allocator *a);
