/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What every Check binary of ksalloc does in main(). */

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Fails the running test unless @text has the whole line printf(@fmt, ...). */
__attribute__((format(printf, 2, 3))) static inline void assert_line(const char *text,
								     const char *fmt, ...)
{
	char line[1024];
	const char *p;
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	len = strlen(line);
	for (p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && (p[len] == '\n' || p[len] == '\0'))
			return;
	ck_abort_msg("no line \"%s\" in:\n%.1500s", line, text);
}
