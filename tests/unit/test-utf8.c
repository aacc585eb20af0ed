/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * common/utf8.c: client text on its way into a reply's message must come out
 * as valid UTF-8 (a strict protobuf decoder refuses a whole reply otherwise),
 * cut only between characters.
 */
#include <check.h>
#include <string.h>

#include "common/utf8.h"
#include "tests/lib/ksalloc-check.h"

START_TEST(test_valid_sequences_are_measured)
{
	ck_assert_uint_eq(utf8_sequence_length("a", 1), 1);
	ck_assert_uint_eq(utf8_sequence_length("\xc3\xa9", 2), 2);         /* é */
	ck_assert_uint_eq(utf8_sequence_length("\xe2\x82\xac", 3), 3);     /* € */
	ck_assert_uint_eq(utf8_sequence_length("\xf0\x9f\x8e\xa5", 4), 4); /* 🎥 */
}
END_TEST

START_TEST(test_invalid_sequences_are_refused)
{
	ck_assert_uint_eq(utf8_sequence_length("\xff", 1), 0);
	ck_assert_uint_eq(utf8_sequence_length("\x80", 1), 0);             /* a lone continuation */
	ck_assert_uint_eq(utf8_sequence_length("\xc0\xaf", 2), 0);         /* overlong '/' */
	ck_assert_uint_eq(utf8_sequence_length("\xe0\x80\xaf", 3), 0);     /* overlong '/' */
	ck_assert_uint_eq(utf8_sequence_length("\xed\xa0\x80", 3), 0);     /* a surrogate */
	ck_assert_uint_eq(utf8_sequence_length("\xf4\x90\x80\x80", 4), 0); /* past U+10FFFF */
	ck_assert_uint_eq(utf8_sequence_length("\xe2\x82", 2), 0);         /* cut short */
}
END_TEST

START_TEST(test_clean_text_has_no_control_characters)
{
	ck_assert(utf8_is_clean("pool video-1080p: \xe2\x82\xac", 21));
	ck_assert(!utf8_is_clean("a\nb", 3));
	ck_assert(!utf8_is_clean("a\x7f", 2));
	ck_assert(!utf8_is_clean("a\xc2\x85", 3)); /* NEL, a C1 control */
	ck_assert(!utf8_is_clean("\xff\xfe", 2));
}
END_TEST

START_TEST(test_escape_keeps_characters_and_escapes_bytes)
{
	char out[64];

	ck_assert_uint_eq(utf8_escape(out, sizeof(out), "\xff\xfe\xe2\x82\xac\n", 6), 6);
	ck_assert_str_eq(out, "\\xff\\xfe\xe2\x82\xac\\x0a");
	ck_assert(utf8_is_clean(out, strlen(out)));
}
END_TEST

START_TEST(test_escape_cuts_between_characters)
{
	const char *euros = "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"; /* three of 3 bytes */
	char out[8];

	/* Room for 7 bytes: two euros (6), never the first byte of the third. */
	ck_assert_uint_eq(utf8_escape(out, sizeof(out), euros, 9), 6);
	ck_assert_str_eq(out, "\xe2\x82\xac\xe2\x82\xac");
	/* Nor half an escape. */
	ck_assert_uint_eq(utf8_escape(out, 6, "\xff\xff", 2), 1);
	ck_assert_str_eq(out, "\\xff");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("utf8");
	TCase *tc = tcase_create("utf8");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_valid_sequences_are_measured);
	tcase_add_test(tc, test_invalid_sequences_are_refused);
	tcase_add_test(tc, test_clean_text_has_no_control_characters);
	tcase_add_test(tc, test_escape_keeps_characters_and_escapes_bytes);
	tcase_add_test(tc, test_escape_cuts_between_characters);
	suite_add_tcase(s, tc);
	return ksalloc_check_run(s);
}
