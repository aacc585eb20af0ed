/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/storage/storage.h"
#include "tests/lib/ksalloc-check.h"

static const struct framing video = { .frames = 8, .frame_size = 3110400, .file_alignment = 63 };

/* Options for a test pool: 4 slots, kept, mode 0660. */
#define OPTIONS(pool_name, f, backend_name)                 \
	(&(struct pool_options){ .name = (pool_name),       \
				 .framing = *(f),           \
				 .backend = (backend_name), \
				 .n_slots = 4,              \
				 .persistent = true,        \
				 .access = { .mode = 0660 } })

START_TEST(test_pool_is_a_sealed_memfd_with_a_valid_header)
{
	struct pool *p;
	const char *reason = NULL;
	struct shm_layout l;
	struct stat st;
	int seals;

	ck_assert_int_eq(pool_new(3, OPTIONS("video", &video, "memfd"), &p), 0);
	ck_assert_int_eq(fstat(p->fd, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, p->layout.size_bytes);
	seals = fcntl(p->fd, F_GET_SEALS);
	ck_assert_int_eq(seals, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	/* Nobody, the daemon included, can resize it now. */
	ck_assert_int_eq(ftruncate(p->fd, 4096), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_ne(fcntl(p->fd, F_GETFD) & FD_CLOEXEC, 0);
	ck_assert_int_eq(shm_header_check(p->map, p->layout.size_bytes, &l, &reason), 0);
	ck_assert_uint_eq(((struct shm_header *)p->map)->pool_id, 3);
	ck_assert_str_eq(((struct shm_header *)p->map)->name, "video");
	ck_assert_uint_eq(pool_allocated_frames(p), 0);
	pool_free(p);
}
END_TEST

START_TEST(test_pool_counts_owned_descriptors_whatever_they_hold)
{
	struct pool *p;
	struct shm_frame *frames;

	ck_assert_int_eq(pool_new(1, OPTIONS("video", &video, "memfd"), &p), 0);
	frames = p->frames.frames;
	atomic_store(&frames[0].owner, (UINT64_C(5) << 32) | 1);
	atomic_store(&frames[7].owner, UINT64_MAX);
	ck_assert_uint_eq(pool_allocated_frames(p), 2);
	/* Scribbling over the header changes nothing the daemon relies on. */
	memset(p->map, 0xff, sizeof(struct shm_header));
	ck_assert_uint_eq(pool_allocated_frames(p), 2);
	pool_free(p);
}
END_TEST

START_TEST(test_storage_finds_pools_by_id_and_name)
{
	struct storage *s;
	struct pool *a, *b, *p;
	uint32_t id = 0;

	ck_assert_int_eq(storage_new(&s), 0);
	ck_assert_int_eq(storage_add(s, OPTIONS("a", &video, "memfd"), &a), 0);
	ck_assert_int_eq(storage_add(s, OPTIONS("b", &video, "memfd"), &b), 0);
	ck_assert_uint_ne(a->id, 0);
	ck_assert_uint_eq(b->id, a->id + 1);
	ck_assert_ptr_eq(storage_get(s, b->id), b);
	ck_assert_ptr_eq(storage_get(s, a->id), a);
	ck_assert_ptr_null(storage_get(s, 0));
	ck_assert_ptr_null(storage_get(s, a->id - 1));
	ck_assert_ptr_null(storage_get(s, b->id + 1));
	ck_assert_ptr_eq(storage_find(s, "a"), a);
	ck_assert_ptr_null(storage_find(s, "c"));
	ck_assert_uint_eq(storage_count(s), 2);
	ck_assert_ptr_eq(storage_next(s, &id), a);
	ck_assert_ptr_eq(storage_next(s, &id), b);
	ck_assert_ptr_null(storage_next(s, &id));

	ck_assert_int_eq(storage_add(s, OPTIONS("a", &video, "memfd"), &p), -EEXIST);
	ck_assert_int_eq(storage_add(s, OPTIONS("c", &video, "nosuch"), &p), -EINVAL);
	ck_assert_uint_eq(storage_count(s), 2);
	storage_free(s);
}
END_TEST

START_TEST(test_storage_grows_past_its_first_allocation)
{
	struct storage *s;
	struct framing tiny = { .frames = 1, .frame_size = 1 };

	ck_assert_int_eq(storage_new(&s), 0);
	for (int i = 0; i < 100; i++) {
		char name[16];

		snprintf(name, sizeof(name), "p%d", i);
		ck_assert_int_eq(storage_add(s, OPTIONS(name, &tiny, "memfd"), NULL), 0);
	}
	ck_assert_str_eq(storage_get(s, storage_find(s, "p0")->id + 99)->name, "p99");
	storage_free(s);
}
END_TEST

START_TEST(test_storage_table_shrinks_when_pools_go_and_still_finds_every_pool)
{
	struct framing tiny = { .frames = 1, .frame_size = 1 };
	uint32_t ids[200], id = 0, seen = 0;
	struct storage *s;
	struct pool *p;
	size_t grown;

	ck_assert_int_eq(storage_new(&s), 0);
	for (int i = 0; i < 200; i++) {
		char name[16];

		snprintf(name, sizeof(name), "p%d", i);
		ck_assert_int_eq(storage_add(s, OPTIONS(name, &tiny, "memfd"), &p), 0);
		ids[i] = p->id;
	}
	grown = storage_table_size(s);
	ck_assert_uint_ge(grown, 400);
	/* Every pool but each 50th goes, in an order that tears holes in the probe runs. */
	for (int i = 199; i >= 0; i -= 2)
		storage_remove(s, ids[i]);
	for (int i = 0; i < 200; i += 2)
		if (i % 50 != 0)
			storage_remove(s, ids[i]);
	ck_assert_uint_eq(storage_count(s), 4);
	ck_assert_uint_lt(storage_table_size(s), grown / 8);
	for (int i = 0; i < 200; i++) {
		p = storage_get(s, ids[i]);
		if (i % 50 == 0)
			ck_assert_msg(p && p->id == ids[i], "pool %d lost", i);
		else
			ck_assert_ptr_null(p);
	}
	/* Iteration is in id order, and survives removing the pool just visited. */
	while ((p = storage_next(s, &id))) {
		ck_assert_uint_eq(p->id, ids[50 * seen++]);
		storage_remove(s, p->id);
	}
	ck_assert_uint_eq(seen, 4);
	ck_assert_uint_eq(storage_count(s), 0);
	storage_free(s);
}
END_TEST

START_TEST(test_retired_pool_leaves_the_frames_a_closing_session_holds)
{
	struct pool *p;
	uint32_t slot;

	ck_assert_int_eq(pool_new(1, OPTIONS("video", &video, "memfd"), &p), 0);
	ck_assert_int_eq(pool_attach(p, 5, &slot), 0);
	atomic_store(&p->frames.frames[0].owner, shm_owner(5, 1));
	pool_retire(p);
	ck_assert_uint_eq(atomic_load(&p->frames.shared->state), SHM_STATE_DESTROYED);
	/* The daemon stops: the session closes, and its frame stays its own valid memory. */
	ck_assert_uint_eq(pool_detach(p, slot), 0);
	ck_assert_uint_eq(p->n_attached, 0);
	ck_assert_uint_eq(atomic_load(&p->frames.frames[0].owner), shm_owner(5, 1));
	pool_free(p);
}
END_TEST

START_TEST(test_pool_reclaims_only_to_sessions_it_attached)
{
	struct pool *p;
	uint32_t slot;

	ck_assert_int_eq(pool_new(1, OPTIONS("video", &video, "memfd"), &p), 0);
	ck_assert_int_eq(pool_attach(p, 5, &slot), 0);
	atomic_store(&p->frames.frames[0].owner, shm_owner(5, 1));
	/* A client writes a made-up session, with a thread waiting, into a free slot. */
	atomic_store(&p->frames.slots[slot + 1].tenant, (UINT64_C(99) << 32) | 1);
	atomic_store(&p->frames.shared->waiters, 1);
	atomic_store(&p->frames.shared->slots_used, 4);
	/* Session 5's frame comes back free, not handed to session 99, which nobody would release. */
	ck_assert_uint_eq(pool_detach(p, slot), 1);
	ck_assert_uint_eq(pool_allocated_frames(p), 0);
	ck_assert_uint_eq(frame_slot_tenant(&p->frames.slots[slot + 1]), 0);
	pool_free(p);
}
END_TEST

START_TEST(test_backend_names_are_parsed_strictly)
{
	struct backend_error err;
	struct backend b;

	ck_assert_int_eq(backend_parse("memfd", &b, &err), 0);
	ck_assert_ptr_eq(b.ops, &backend_memfd);
	ck_assert_ptr_null(backend_heap(&b));
	ck_assert(!backend_has_dmabuf_frames(&b));
	ck_assert_int_eq(backend_parse("dmaheap:reserved-cma_0", &b, &err), 0);
	ck_assert_ptr_eq(b.ops, &backend_dmaheap);
	ck_assert_str_eq(b.name, "dmaheap:reserved-cma_0");
	ck_assert_str_eq(backend_heap(&b), "reserved-cma_0");
	ck_assert(backend_has_dmabuf_frames(&b));
	ck_assert_int_eq(backend_parse("udmabuf", &b, &err), 0);
	ck_assert(backend_has_dmabuf_frames(&b));

	ck_assert_int_eq(backend_parse("dmaheap", &b, &err), -EINVAL);
	ck_assert_str_eq(err.message, "backend dmaheap needs a heap: dmaheap:<heap>, e.g. "
				      "dmaheap:system");
	ck_assert_int_eq(backend_parse("dmaheap:../../dev/mem", &b, &err), -EINVAL);
	ck_assert_int_eq(backend_parse("dmaheap:.hidden", &b, &err), -EINVAL);
	ck_assert_int_eq(backend_parse("memfd:x", &b, &err), -EINVAL);
	ck_assert_int_eq(backend_parse("memfdx", &b, &err), -EINVAL);
	ck_assert_int_eq(backend_parse("dmaheap:a-heap-name-far-too-long-to-fit", &b, &err),
			 -EINVAL);
	ck_assert_int_eq(backend_parse(BACKEND_DEVICE, &b, &err), -EINVAL);
	/* "device" is resolved, to a backend this machine has, or refused saying why. */
	if (backend_resolve(BACKEND_DEVICE, &b, &err) == 0)
		ck_assert(backend_has_dmabuf_frames(&b));
	else
		ck_assert_ptr_nonnull(strstr(err.message, "no hardware backend on this machine"));
}
END_TEST

START_TEST(test_backend_list_names_every_backend_once)
{
	struct backend list[16];
	size_t n = backend_list(list, 16);

	ck_assert_uint_ge(n, 4);
	ck_assert_str_eq(list[0].name, "memfd");
	ck_assert_str_eq(list[1].name, "hugetlb");
	ck_assert_str_eq(list[2].name, "udmabuf");
	ck_assert_str_eq(list[3].name, "dmaheap:system");
	for (size_t i = 0; i < n && i < 16; i++)
		for (size_t j = i + 1; j < n && j < 16; j++)
			ck_assert_str_ne(list[i].name, list[j].name);
	/* Too small an array is filled as far as it goes; the count says how many there are. */
	ck_assert_uint_eq(backend_list(list, 2), n);
	ck_assert_str_eq(list[1].name, "hugetlb");
}
END_TEST

START_TEST(test_pool_refuses_what_it_cannot_map)
{
	struct framing huge = { .frames = 1u << 20, .frame_size = 1u << 31 };
	struct pool *p = NULL;

	ck_assert_int_eq(pool_new(1, OPTIONS("huge", &huge, "memfd"), &p), -EOVERFLOW);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(pool_new(0, OPTIONS("zero-id", &video, "memfd"), &p), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("memfd");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_pool_is_a_sealed_memfd_with_a_valid_header);
	tcase_add_test(tc, test_pool_counts_owned_descriptors_whatever_they_hold);
	tcase_add_test(tc, test_pool_reclaims_only_to_sessions_it_attached);
	tcase_add_test(tc, test_retired_pool_leaves_the_frames_a_closing_session_holds);
	tcase_add_test(tc, test_pool_refuses_what_it_cannot_map);
	tcase_add_test(tc, test_backend_names_are_parsed_strictly);
	tcase_add_test(tc, test_backend_list_names_every_backend_once);
	suite_add_tcase(s, tc);
	tc = tcase_create("storage");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_storage_finds_pools_by_id_and_name);
	tcase_add_test(tc, test_storage_grows_past_its_first_allocation);
	tcase_add_test(tc, test_storage_table_shrinks_when_pools_go_and_still_finds_every_pool);
	suite_add_tcase(s, tc);
	return ksalloc_check_run(s);
}
