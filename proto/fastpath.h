/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The status of one pool by id (what IKsAllocator_KsGetAllocatorStatus asks,
 * again and again while media runs), encoded and decoded by hand, byte for
 * byte as protobuf-c does for ksalloc.proto's Request{id, get_status{pool_id}}
 * and Reply{id, get_status{framing, allocated_frames}}. protobuf-c's generic
 * walk over every declared field was most of the CPU a round trip cost
 * (bench/RESULTS.md); this is the same wire format, not a new one: either
 * side may use protobuf-c for it, and tests/unit/test-fastpath.c checks
 * that both produce the same bytes. A datagram of any other shape (another
 * request, an error reply, unknown fields) is not taken here: the parsers
 * return false and the caller uses protobuf-c.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shm/framing.h"

/* Returns the packed length, or -EMSGSIZE when @size is too small. */
ssize_t fastpath_pack_status_request(void *buf, size_t size, uint32_t id, uint32_t pool_id);
ssize_t fastpath_pack_status_reply(void *buf, size_t size, uint32_t id, const struct framing *f,
				   uint32_t allocated_frames);

/* True, with the fields, if @buf is exactly such a message (and nothing else). */
bool fastpath_parse_status_request(const void *buf, size_t len, uint32_t *ret_id,
				   uint32_t *ret_pool_id);
bool fastpath_parse_status_reply(const void *buf, size_t len, uint32_t *ret_id,
				 struct framing *ret_f, uint32_t *ret_allocated_frames);
