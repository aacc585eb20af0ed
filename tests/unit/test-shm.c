/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shm/layout.h"
#include "tests/lib/ksalloc-check.h"

static const struct framing video = { .frames = 8, .frame_size = 3110400, .file_alignment = 63 };

static void *make_pool(const struct framing *f, struct shm_layout *l)
{
	void *map;

	ck_assert_int_eq(shm_layout_compute(f, 4, 0, UINT64_MAX, l), 0);
	map = aligned_alloc(SHM_PAGE_SIZE, l->size_bytes);
	ck_assert_ptr_nonnull(map);
	shm_header_write(map, l, 7, "video", f);
	return map;
}

START_TEST(test_shm_layout_aligns_frames_and_pages)
{
	struct shm_layout l;

	ck_assert_int_eq(shm_layout_compute(&video, 4, 0, UINT64_MAX, &l), 0);
	ck_assert_uint_eq(l.frame_stride, 3110400); /* already a multiple of 64 */
	ck_assert_uint_eq(l.n_slots, 4);
	ck_assert_uint_eq(l.slots_offset % 64, 0);
	ck_assert_uint_ge(l.slots_offset, SHM_SHARED_OFFSET + sizeof(struct shm_shared));
	ck_assert_uint_eq(l.descriptors_offset % 64, 0);
	ck_assert_uint_ge(l.descriptors_offset, l.slots_offset + 4 * sizeof(struct shm_slot));
	ck_assert_uint_eq(l.data_offset % SHM_PAGE_SIZE, 0);
	ck_assert_uint_ge(l.data_offset, l.descriptors_offset + 8 * sizeof(struct shm_frame));
	ck_assert_uint_eq(l.size_bytes % SHM_PAGE_SIZE, 0);
	ck_assert_uint_ge(l.size_bytes, l.data_offset + 8 * l.frame_stride);
}
END_TEST

START_TEST(test_shm_layout_refuses_pools_over_the_size_limit)
{
	struct framing huge = { .frames = UINT32_MAX,
				.frame_size = UINT32_MAX,
				.file_alignment = 4095 };
	struct shm_layout l;

	ck_assert_int_eq(shm_layout_compute(&huge, 1, 0, UINT64_C(1) << 40, &l), -EOVERFLOW);
	ck_assert_int_eq(shm_layout_compute(&video, 1, 0, 4096, &l), -EOVERFLOW);
}
END_TEST

START_TEST(test_shm_layout_follows_the_backends_flags)
{
	/* 100000 bytes a frame, 64-byte aligned: a stride of 100032, not a page multiple. */
	const struct framing f = { .frames = 3, .frame_size = 100000, .file_alignment = 63 };
	struct shm_layout plain, huge, pages, external, checked;
	const char *reason = NULL;
	void *map;

	ck_assert_int_eq(shm_layout_compute(&f, 4, 0, UINT64_MAX, &plain), 0);
	ck_assert_uint_eq(plain.frame_stride, 100032);

	/* hugetlb: the same frames in a whole number of 2 MiB pages. */
	ck_assert_int_eq(shm_layout_compute(&f, 4, SHM_LAYOUT_HUGE_PAGES, UINT64_MAX, &huge), 0);
	ck_assert_uint_eq(huge.frame_stride, plain.frame_stride);
	ck_assert_uint_eq(huge.size_bytes, SHM_HUGE_PAGE_SIZE);

	/* udmabuf: each frame on its own pages, so it can be a dma-buf of its own. */
	ck_assert_int_eq(shm_layout_compute(&f, 4,
					    SHM_LAYOUT_PAGE_FRAMES | SHM_LAYOUT_DMABUF_FRAMES,
					    UINT64_MAX, &pages),
			 0);
	ck_assert_uint_eq(pages.frame_stride, 102400);
	ck_assert_uint_eq(pages.data_offset % SHM_PAGE_SIZE, 0);
	ck_assert_uint_ge(pages.size_bytes, pages.data_offset + 3 * 102400);

	/* A DMA-BUF heap: the memfd holds the control block only. */
	ck_assert_int_eq(shm_layout_compute(&f, 4,
					    SHM_LAYOUT_DMABUF_FRAMES | SHM_LAYOUT_EXTERNAL_FRAMES,
					    UINT64_MAX, &external),
			 0);
	ck_assert_uint_eq(external.frame_stride, 102400);
	ck_assert_uint_eq(external.size_bytes, external.data_offset);
	ck_assert_uint_eq(shm_layout_frame_bytes(&external, 3), 3 * 102400);

	/* Frames outside the memfd must be dma-bufs; unknown flags mean nothing. */
	ck_assert_int_eq(shm_layout_compute(&f, 4, SHM_LAYOUT_EXTERNAL_FRAMES, UINT64_MAX,
					    &checked),
			 -EINVAL);
	ck_assert_int_eq(shm_layout_compute(&f, 4, 1u << 4, UINT64_MAX, &checked), -EINVAL);

	/* A client recomputes the layout from the header's flags, and checks it. */
	map = aligned_alloc(SHM_PAGE_SIZE, external.size_bytes);
	ck_assert_ptr_nonnull(map);
	shm_header_write(map, &external, 7, "cam", &f);
	ck_assert_int_eq(shm_header_check(map, external.size_bytes, &checked, &reason), 0);
	ck_assert_uint_eq(checked.flags, external.flags);
	ck_assert_uint_eq(checked.frame_stride, 102400);
	((struct shm_header *)map)->layout_flags = SHM_LAYOUT_EXTERNAL_FRAMES;
	ck_assert_int_eq(shm_header_check(map, external.size_bytes, &checked, &reason), -EBADMSG);
	((struct shm_header *)map)->layout_flags = 0; /* frames would not fit */
	ck_assert_int_eq(shm_header_check(map, external.size_bytes, &checked, &reason), -EBADMSG);
	ck_assert_str_eq(reason, "frames do not fit in the memfd");
	free(map);
}
END_TEST

START_TEST(test_shm_header_check_accepts_a_fresh_pool)
{
	struct shm_layout l, checked;
	void *map = make_pool(&video, &l);
	const char *reason = "untouched";
	const struct shm_frame *frames = (struct shm_frame *)((char *)map + l.descriptors_offset);
	const struct shm_shared *shared = (struct shm_shared *)((char *)map + SHM_SHARED_OFFSET);

	ck_assert_int_eq(shm_header_check(map, l.size_bytes, &checked, &reason), 0);
	ck_assert_str_eq(reason, "untouched");
	ck_assert_uint_eq(checked.n_slots, l.n_slots);
	ck_assert_uint_eq(checked.slots_offset, l.slots_offset);
	ck_assert_uint_eq(checked.descriptors_offset, l.descriptors_offset);
	ck_assert_uint_eq(checked.data_offset, l.data_offset);
	ck_assert_uint_eq(checked.frame_stride, l.frame_stride);
	ck_assert_uint_eq(checked.size_bytes, l.size_bytes);
	ck_assert_uint_eq(atomic_load(&shared->state), SHM_STATE_COMMITTED);
	for (int i = 0; i < 8; i++)
		ck_assert_uint_eq(atomic_load(&frames[i].owner), 0);
	free(map);
}
END_TEST

static void assert_rejected(void *map, size_t size, const char *expect)
{
	const char *reason = NULL;
	struct shm_layout l;

	ck_assert_int_eq(shm_header_check(map, size, &l, &reason), -EBADMSG);
	ck_assert_str_eq(reason, expect);
}

START_TEST(test_shm_header_check_rejects_a_scribbled_header)
{
	struct shm_layout l;
	void *map = make_pool(&video, &l);
	struct shm_header *h = map, saved = *h;

	assert_rejected(map, 16, "mapping is smaller than a pool's control block");
	h->magic ^= 1;
	assert_rejected(map, l.size_bytes, "bad magic: not a ksalloc pool");
	*h = saved;
	h->version = 99;
	assert_rejected(map, l.size_bytes, "unsupported pool layout version");
	*h = saved;
	assert_rejected(map, l.size_bytes - SHM_PAGE_SIZE,
			"header size does not match the memfd's size");
	memset(h->name, 'x', sizeof(h->name));
	assert_rejected(map, l.size_bytes, "pool name is not terminated");
	*h = saved;
	h->file_alignment = 62;
	assert_rejected(map, l.size_bytes,
			"FileAlignment must be a mask of the form 2^n - 1 (alignment - 1)");
	*h = saved;
	h->frames = 1000;
	assert_rejected(map, l.size_bytes, "frames do not fit in the memfd");
	*h = saved;
	h->data_offset += 8;
	assert_rejected(map, l.size_bytes, "layout in the header does not match its framing");
	*h = saved;
	h->frame_stride = 1;
	assert_rejected(map, l.size_bytes, "layout in the header does not match its framing");
	*h = saved;
	h->n_slots = 5; /* the descriptors would move */
	assert_rejected(map, l.size_bytes, "layout in the header does not match its framing");
	*h = saved;
	h->options_flags = 0x80;
	assert_rejected(map, l.size_bytes,
			"OptionsFlags has bits outside KSALLOCATOR_OPTIONF_VALID (0x3)");
	free(map);
}
END_TEST

START_TEST(test_shm_pool_names_are_restricted)
{
	char long_name[SHM_NAME_MAX + 1];

	const char *bad_char = "pool name may only contain A-Z a-z 0-9 . _ -";

	ck_assert_ptr_null(shm_name_problem("video-1080p"));
	ck_assert_ptr_null(shm_name_problem("a.b_c-D9"));
	ck_assert_str_eq(shm_name_problem(""), "pool name is empty");
	ck_assert_str_eq(shm_name_problem(".hidden"), "pool name must not start with '.' or '-'");
	ck_assert_str_eq(shm_name_problem("-option"), "pool name must not start with '.' or '-'");
	ck_assert_str_eq(shm_name_problem("a/b"), bad_char);
	ck_assert_str_eq(shm_name_problem("a b"), bad_char);
	ck_assert_str_eq(shm_name_problem("caf\xc3\xa9"), bad_char);
	memset(long_name, 'a', sizeof(long_name));
	long_name[SHM_NAME_MAX - 1] = 0;
	ck_assert_ptr_null(shm_name_problem(long_name)); /* 63 bytes */
	long_name[SHM_NAME_MAX - 1] = 'a';
	long_name[SHM_NAME_MAX] = 0;
	ck_assert_str_eq(shm_name_problem(long_name), "pool name is longer than 63 bytes");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shm");
	TCase *tc = tcase_create("layout");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_shm_layout_aligns_frames_and_pages);
	tcase_add_test(tc, test_shm_layout_refuses_pools_over_the_size_limit);
	tcase_add_test(tc, test_shm_layout_follows_the_backends_flags);
	tcase_add_test(tc, test_shm_header_check_accepts_a_fresh_pool);
	tcase_add_test(tc, test_shm_header_check_rejects_a_scribbled_header);
	tcase_add_test(tc, test_shm_pool_names_are_restricted);
	suite_add_tcase(s, tc);
	return ksalloc_check_run(s);
}
