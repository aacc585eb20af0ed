/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What every libFuzzer harness of ksalloc shares: checks that stay on in every
 * build type (assert() goes with NDEBUG), a reader that takes bytes from the
 * input and gives zeros once it runs out (so every input means something), and
 * a check that an input leaves no fd behind.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcntl.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * Where a broken invariant is reported. The scripts run the harnesses with
 * -close_fd_mask=2, which sends stderr (what the code under test logs) to
 * /dev/null after LLVMFuzzerInitialize(): each harness keeps a copy of the real
 * stderr there first (fuzz_keep_stderr()).
 */
static int fuzz_report_fd = 2;

static inline void fuzz_keep_stderr(void)
{
	int fd = fcntl(2, F_DUPFD_CLOEXEC, 3);

	if (fd >= 0)
		fuzz_report_fd = fd;
}

/* A broken invariant: says which, and aborts so that libFuzzer keeps the input. */
__attribute__((format(printf, 3, 4), noreturn)) static inline void
fuzz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	dprintf(fuzz_report_fd, "%s:%d: invariant broken: ", file, line);
	va_start(ap, fmt);
	vdprintf(fuzz_report_fd, fmt, ap);
	va_end(ap);
	dprintf(fuzz_report_fd, "\n");
	abort();
}

#define fuzz_check(cond, ...)                                       \
	do {                                                        \
		if (!(cond))                                        \
			fuzz_fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

struct fuzz_reader {
	const uint8_t *data;
	size_t size;
};

static inline size_t fuzz_left(const struct fuzz_reader *r)
{
	return r->size;
}

static inline uint8_t fuzz_u8(struct fuzz_reader *r)
{
	uint8_t v = 0;

	if (r->size) {
		v = r->data[0];
		r->data++;
		r->size--;
	}
	return v;
}

static inline uint16_t fuzz_u16(struct fuzz_reader *r)
{
	uint16_t lo = fuzz_u8(r);

	return (uint16_t)(lo | fuzz_u8(r) << 8);
}

static inline uint32_t fuzz_u32(struct fuzz_reader *r)
{
	uint32_t lo = fuzz_u16(r);

	return lo | (uint32_t)fuzz_u16(r) << 16;
}

/* Takes up to @n bytes; *ret_n says how many there were. */
static inline const uint8_t *fuzz_bytes(struct fuzz_reader *r, size_t n, size_t *ret_n)
{
	const uint8_t *p = r->data;

	if (n > r->size)
		n = r->size;
	r->data += n;
	r->size -= n;
	*ret_n = n;
	return p;
}

/* The lowest free fd: the same before and after an input, or the input leaked one. */
static inline int fuzz_lowest_free_fd(void)
{
	int fd = fcntl(2, F_DUPFD_CLOEXEC, 0);

	fuzz_check(fd >= 0, "cannot dup stderr");
	close(fd);
	return fd;
}
