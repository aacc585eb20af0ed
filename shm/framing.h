/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Framing: the shape of a pool (KSALLOCATOR_FRAMING without its Reserved word),
 * and the rules a framing must follow before the daemon builds a pool from it.
 * Shared by the daemon (config pools, create requests) and the client library
 * (so a bad request fails before it reaches the socket). Pure: no I/O.
 */

#include <stdint.h>

/* KSALLOCATOR_OPTIONF_VALID: the only option bits a creator may set. */
#define FRAMING_OPTIONF_VALID 0x3u
/* POOL_TYPE values that mean anything here: NonPagedPool and PagedPool. */
#define FRAMING_POOL_TYPE_MAX 1u
/* Frames start on a page boundary at most: a shared mapping is only page aligned. */
#define FRAMING_ALIGNMENT_MAX 4096u

struct framing {
	uint32_t options_flags;  /* KSALLOCATOR_OPTIONF_* */
	uint32_t pool_type;      /* POOL_TYPE: 0 NonPagedPool, 1 PagedPool */
	uint32_t frames;         /* frames in the pool */
	uint32_t frame_size;     /* bytes per frame */
	uint32_t file_alignment; /* alignment mask: alignment - 1 */
};

struct framing_limits {
	uint32_t max_pool_frames;
	uint32_t max_frame_size; /* bytes */
};

/*
 * framing_validate() checks @f against the Windows rules (FileAlignment is a
 * mask of the form 2^n - 1; Frames and FrameSize above zero; no unknown option
 * bits; PoolType NonPagedPool or PagedPool) and against @limits.
 *
 * Returns 0, or -EINVAL with *ret_field set to the KSALLOCATOR_FRAMING field
 * at fault ("Frames", "FrameSize", "FileAlignment", "OptionsFlags" or
 * "PoolType"; ret_field may be NULL) and *ret_reason to a static sentence
 * that names the field and the rule it breaks (for an error reply or a config
 * error). Both are untouched on success.
 */
int framing_validate(const struct framing *f, const struct framing_limits *limits,
		     const char **ret_field, const char **ret_reason);

/* Bytes from one frame's start to the next: frame_size rounded up to the alignment. */
uint64_t framing_stride(const struct framing *f);
