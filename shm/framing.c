/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "shm/framing.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

static bool is_mask(uint32_t v)
{
	/* 2^n - 1: adding one leaves a single bit (or wraps to zero for ~0). */
	return (v & (v + 1)) == 0;
}

int framing_validate(const struct framing *f, const struct framing_limits *limits,
		     const char **ret_field, const char **ret_reason)
{
	const char *field, *reason = NULL;

	if (f->options_flags & ~FRAMING_OPTIONF_VALID) {
		field = "OptionsFlags";
		reason = "OptionsFlags has bits outside KSALLOCATOR_OPTIONF_VALID (0x3)";
	} else if (f->pool_type > FRAMING_POOL_TYPE_MAX) {
		field = "PoolType";
		reason = "PoolType must be NonPagedPool (0) or PagedPool (1)";
	} else if (f->frames == 0 || f->frames > limits->max_pool_frames) {
		field = "Frames";
		reason = f->frames == 0 ? "Frames must be greater than 0" :
					  "Frames exceeds the daemon's max_pool_frames";
	} else if (f->frame_size == 0 || f->frame_size > limits->max_frame_size) {
		field = "FrameSize";
		reason = f->frame_size == 0 ? "FrameSize must be greater than 0" :
					      "FrameSize exceeds the daemon's max_frame_size";
	} else if (!is_mask(f->file_alignment) || f->file_alignment >= FRAMING_ALIGNMENT_MAX) {
		field = "FileAlignment";
		reason =
			!is_mask(f->file_alignment) ?
				"FileAlignment must be a mask of the form 2^n - 1 (alignment - 1)" :
				"FileAlignment above the page size (4095) cannot be honoured in "
				"shared memory";
	}

	if (reason) {
		if (ret_field)
			*ret_field = field;
		*ret_reason = reason;
		return -EINVAL;
	}
	return 0;
}

uint64_t framing_stride(const struct framing *f)
{
	uint64_t mask = f->file_alignment;

	return ((uint64_t)f->frame_size + mask) & ~mask;
}
