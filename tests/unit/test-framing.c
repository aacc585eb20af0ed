/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shm/framing.h"
#include "tests/lib/ksalloc-check.h"

static const struct framing_limits limits = { .max_pool_frames = 64, .max_frame_size = 1 << 20 };

static struct framing good(void)
{
	return (struct framing){ .frames = 8, .frame_size = 4096, .file_alignment = 63 };
}

static const char *rejection(const struct framing *f)
{
	const char *reason = NULL;

	ck_assert_int_eq(framing_validate(f, &limits, NULL, &reason), -EINVAL);
	ck_assert_ptr_nonnull(reason);
	return reason;
}

START_TEST(test_framing_accepts_windows_shaped_framing)
{
	struct framing f = good();
	const char *reason = "untouched";

	ck_assert_int_eq(framing_validate(&f, &limits, NULL, &reason), 0);
	ck_assert_str_eq(reason, "untouched");
	f.options_flags = 0x3; /* KSALLOCATOR_OPTIONF_COMPATIBLE | _SYSTEM_MEMORY */
	f.pool_type = 1;       /* PagedPool */
	f.file_alignment = 0;  /* FILE_BYTE_ALIGNMENT */
	ck_assert_int_eq(framing_validate(&f, &limits, NULL, &reason), 0);
	f.file_alignment = 4095; /* page */
	f.frames = 64;
	f.frame_size = 1 << 20;
	ck_assert_int_eq(framing_validate(&f, &limits, NULL, &reason), 0);
}
END_TEST

START_TEST(test_framing_rejects_alignment_that_is_not_a_mask)
{
	static const uint32_t bad[] = { 2, 4, 64, 62, 0x80000000u };
	struct framing f = good();

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f.file_alignment = bad[i];
		ck_assert_str_eq(
			rejection(&f),
			"FileAlignment must be a mask of the form 2^n - 1 (alignment - 1)");
	}
}
END_TEST

START_TEST(test_framing_rejects_alignment_above_a_page)
{
	struct framing f = good();

	f.file_alignment = 8191;
	ck_assert_str_eq(
		rejection(&f),
		"FileAlignment above the page size (4095) cannot be honoured in shared memory");
	f.file_alignment = 0xffffffffu;
	ck_assert_str_eq(
		rejection(&f),
		"FileAlignment above the page size (4095) cannot be honoured in shared memory");
}
END_TEST

START_TEST(test_framing_rejects_zero_and_oversized_counts)
{
	struct framing f = good();

	f.frames = 0;
	ck_assert_str_eq(rejection(&f), "Frames must be greater than 0");
	f.frames = 65;
	ck_assert_str_eq(rejection(&f), "Frames exceeds the daemon's max_pool_frames");
	f = good();
	f.frame_size = 0;
	ck_assert_str_eq(rejection(&f), "FrameSize must be greater than 0");
	f.frame_size = (1 << 20) + 1;
	ck_assert_str_eq(rejection(&f), "FrameSize exceeds the daemon's max_frame_size");
}
END_TEST

START_TEST(test_framing_rejects_unknown_option_bits_and_pool_types)
{
	struct framing f = good();

	f.options_flags = 0x4;
	ck_assert_str_eq(rejection(&f),
			 "OptionsFlags has bits outside KSALLOCATOR_OPTIONF_VALID (0x3)");
	f = good();
	f.pool_type = 2; /* NonPagedPoolMustSucceed: meaningless here */
	ck_assert_str_eq(rejection(&f), "PoolType must be NonPagedPool (0) or PagedPool (1)");
}
END_TEST

START_TEST(test_framing_stride_rounds_up_to_the_alignment)
{
	struct framing f = good();

	f.frame_size = 3110400;
	f.file_alignment = 4095;
	ck_assert_uint_eq(framing_stride(&f), 3112960);
	f.file_alignment = 0;
	ck_assert_uint_eq(framing_stride(&f), 3110400);
	/* No 32-bit wrap at the top of the range. */
	f.frame_size = 0xffffffffu;
	f.file_alignment = 4095;
	ck_assert_uint_eq(framing_stride(&f), 0x100000000ull);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("framing");
	TCase *tc = tcase_create("validate");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_framing_accepts_windows_shaped_framing);
	tcase_add_test(tc, test_framing_rejects_alignment_that_is_not_a_mask);
	tcase_add_test(tc, test_framing_rejects_alignment_above_a_page);
	tcase_add_test(tc, test_framing_rejects_zero_and_oversized_counts);
	tcase_add_test(tc, test_framing_rejects_unknown_option_bits_and_pool_types);
	tcase_add_test(tc, test_framing_stride_rounds_up_to_the_alignment);
	suite_add_tcase(s, tc);
	return ksalloc_check_run(s);
}
