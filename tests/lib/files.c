/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tests/lib/files.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Folders made here and not removed yet: removed at exit. A full table only loses that. */
static char live_dirs[16][64];

static void remove_files_and_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[512];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static void remove_live_dirs(void)
{
	for (size_t i = 0; i < sizeof(live_dirs) / sizeof(live_dirs[0]); i++)
		if (live_dirs[i][0])
			remove_files_and_dir(live_dirs[i]);
}

int test_dir_new(const char *prefix, char *dir, size_t size)
{
	static bool registered;

	if (!registered)
		registered = atexit(remove_live_dirs) == 0;
	if ((size_t)snprintf(dir, size, "/tmp/%s-XXXXXX", prefix) >= size) {
		dir[0] = 0;
		return -ENAMETOOLONG;
	}
	if (!mkdtemp(dir)) {
		int r = -errno;

		dir[0] = 0;
		return r;
	}
	for (size_t i = 0; i < sizeof(live_dirs) / sizeof(live_dirs[0]); i++)
		if (!live_dirs[i][0]) {
			snprintf(live_dirs[i], sizeof(live_dirs[i]), "%s", dir);
			break;
		}
	return 0;
}

void test_dir_remove(const char *dir)
{
	if (!dir[0])
		return;
	remove_files_and_dir(dir);
	for (size_t i = 0; i < sizeof(live_dirs) / sizeof(live_dirs[0]); i++)
		if (strcmp(live_dirs[i], dir) == 0)
			live_dirs[i][0] = 0;
}

int test_dir_count(const char *dir)
{
	struct dirent *e;
	int n = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

int test_file_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -errno;
}

char *test_file_read(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t size = 0;

	if (!f)
		return strdup("");
	{
		FILE *mem = open_memstream(&buf, &size);
		char chunk[4096];
		size_t n;

		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fwrite(chunk, 1, n, mem);
		fclose(mem);
	}
	fclose(f);
	return buf;
}
