/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Scratch folders and whole files, for the tests and the benchmarks alike
 * (plain C, no Check). A folder made here is removed, with the files in it,
 * when the process exits, even when a failed check or a benchmark that gives
 * up exits early; test_dir_remove() removes it sooner.
 */

#include <stddef.h>

/* A fresh folder /tmp/@prefix-XXXXXX (mode 0700), written to @dir. Returns 0 or -errno. */
int test_dir_new(const char *prefix, char *dir, size_t size);

/* Removes the files in @dir, then @dir itself (it has no sub-folders). Accepts "". */
void test_dir_remove(const char *dir);

/* The number of entries in @dir whose names do not start with a dot, or -errno. */
int test_dir_count(const char *dir);

/* Writes @text to @path (created or truncated). Returns 0 or -errno. */
int test_file_write(const char *path, const char *text);

/* What @path holds, malloc'ed; "" (malloc'ed too) when it cannot be read. */
char *test_file_read(const char *path);
