/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include <ksalloc/ksproxy.h>

#include "proto/hresult.h"
#include "tests/lib/ksalloc-check.h"

START_TEST(test_hresult_maps_each_documented_errno)
{
	ck_assert_int_eq(hresult_from_errno(0), S_OK);
	ck_assert_int_eq(hresult_from_errno(-EINVAL), E_INVALIDARG);
	ck_assert_int_eq(hresult_from_errno(-EFAULT), E_POINTER);
	ck_assert_int_eq(hresult_from_errno(-ENOMEM), E_OUTOFMEMORY);
	ck_assert_int_eq(hresult_from_errno(-EACCES), E_ACCESSDENIED);
	ck_assert_int_eq(hresult_from_errno(-EPERM), E_ACCESSDENIED);
	ck_assert_int_eq(hresult_from_errno(-ENOENT), (HRESULT)0x80070002);
	ck_assert_int_eq(hresult_from_errno(-EEXIST), (HRESULT)0x800700B7);
	ck_assert_int_eq(hresult_from_errno(-EOPNOTSUPP), E_NOTIMPL);
	ck_assert_int_eq(hresult_from_errno(-ECONNREFUSED), (HRESULT)0x80070426);
	ck_assert_int_eq(hresult_from_errno(-ETIME), (HRESULT)0x800705B4);
	ck_assert_int_eq(hresult_from_errno(-ETIMEDOUT), VFW_E_TIMEOUT);
	ck_assert_int_eq(hresult_from_errno(-EPIPE), (HRESULT)0x8007006D);
	ck_assert_int_eq(hresult_from_errno(-ECONNRESET), (HRESULT)0x8007006D);
	ck_assert_int_eq(hresult_from_errno(-EBADMSG), (HRESULT)0x8007000D);
	ck_assert_int_eq(hresult_from_errno(-EPROTO), E_UNEXPECTED);
	ck_assert_int_eq(hresult_from_errno(-EUSERS), (HRESULT)0x80070047);
	ck_assert_int_eq(hresult_from_errno(-EBADF), E_HANDLE);
	ck_assert_int_eq(hresult_from_errno(-EXDEV), (HRESULT)0x80070011);
	ck_assert_int_eq(hresult_to_errno(hresult_from_errno(-EXDEV)), -EXDEV);
	ck_assert_int_eq(hresult_to_errno(hresult_from_errno(-E2BIG)), -E2BIG);
}
END_TEST

START_TEST(test_hresult_unknown_errno_is_e_fail)
{
	ck_assert_int_eq(hresult_from_errno(-ENOTTY), E_FAIL);
	ck_assert_int_eq(hresult_to_errno(E_FAIL), -EIO);
	ck_assert_int_eq(hresult_to_errno((HRESULT)0x8badf00d), -EIO);
}
END_TEST

START_TEST(test_hresult_round_trips_through_the_wire)
{
	/* What the daemon sends, the client reads back as the errno it started from. */
	static const int errors[] = { EINVAL,     EFAULT,       ENOMEM, EACCES,    ENOENT, EEXIST,
				      EOPNOTSUPP, ECONNREFUSED, ETIME,  ETIMEDOUT, EPIPE,  EBADMSG,
				      EPROTO,     EUSERS,       EBADF,  EXDEV };

	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		ck_assert_int_eq(hresult_to_errno(hresult_from_errno(-errors[i])), -errors[i]);
	ck_assert_int_eq(hresult_to_errno(S_OK), 0);
	ck_assert_int_eq(hresult_to_errno(S_FALSE), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hresult");
	TCase *tc = tcase_create("table");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_hresult_maps_each_documented_errno);
	tcase_add_test(tc, test_hresult_unknown_errno_is_e_fail);
	tcase_add_test(tc, test_hresult_round_trips_through_the_wire);
	suite_add_tcase(s, tc);
	return ksalloc_check_run(s);
}
