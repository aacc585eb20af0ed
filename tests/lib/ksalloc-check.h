/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What every Check binary of ksalloc does in main(). */

#include <check.h>
#include <stdlib.h>

/* Runs @s (each case forked, CK_FORK), prints the results; the exit status main() returns. */
static inline int ksalloc_check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
