/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * proto/validate.c: a string with a NUL byte inside is found in the encoded
 * request, where protobuf-c would hand the handler the string cut at the NUL.
 */
#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/protocol.h"
#include "proto/validate.h"
#include "tests/lib/ksalloc-check.h"

/* Request{id 5, get_status{name "video\0junk"}}, as another protobuf implementation sends it. */
static const uint8_t status_nul[] = { 0x08, 0x05, 0x6a, 0x0c, 0x12, 0x0a, 'v', 'i',
				      'd',  'e',  'o',  0x00, 'j',  'u',  'n', 'k' };

START_TEST(test_nul_inside_a_nested_string_is_found)
{
	const ProtobufCFieldDescriptor *f = validate_find_nul_string(
		&ksalloc__request__descriptor, status_nul, sizeof(status_nul));

	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->name, "name");
}
END_TEST

START_TEST(test_request_without_nul_passes)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__CreatePoolRequest create = KSALLOC__CREATE_POOL_REQUEST__INIT;
	Ksalloc__Framing framing = KSALLOC__FRAMING__INIT;
	uint8_t buf[256];
	size_t len;

	framing.frames = 2;
	framing.frame_size = 4096;
	create.name = "video";
	create.framing = &framing;
	create.backend = "dmaheap:system";
	req.id = 3;
	req.body_case = KSALLOC__REQUEST__BODY_CREATE_POOL;
	req.create_pool = &create;
	len = ksalloc__request__pack(&req, buf);
	ck_assert_ptr_null(validate_find_nul_string(&ksalloc__request__descriptor, buf, len));
}
END_TEST

START_TEST(test_malformed_bytes_are_left_to_unpack)
{
	/* The nested message's length runs past the end: not this check's to judge. */
	static const uint8_t cut[] = { 0x08, 0x05, 0x6a, 0x40, 0x12, 0x01, 0x00 };

	ck_assert_ptr_null(
		validate_find_nul_string(&ksalloc__request__descriptor, cut, sizeof(cut)));
	ck_assert_ptr_null(validate_find_nul_string(&ksalloc__request__descriptor, status_nul, 3));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("validate");
	TCase *tc = tcase_create("nul");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_nul_inside_a_nested_string_is_found);
	tcase_add_test(tc, test_request_without_nul_passes);
	tcase_add_test(tc, test_malformed_bytes_are_left_to_unpack);
	suite_add_tcase(s, tc);
	return ksalloc_check_run(s);
}
