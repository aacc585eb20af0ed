/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon/storage/backend.h"
#include "shm/layout.h"

/* <linux/memfd.h>'s, which glibc 2.36's <sys/mman.h> does not carry: log2(2 MiB) << 26. */
#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21u << 26)
#endif

#define HUGEPAGES_DIR "/sys/kernel/mm/hugepages/hugepages-2048kB"

/*
 * Huge pages must be reserved beforehand (vm.nr_hugepages); a pool takes
 * whole 2 MiB pages of them when pool.c maps its memfd, which is where a
 * lack of free ones shows.
 */
static int hugetlb_probe(const char *heap, struct backend_error *err)
{
	long reserved = backend_read_count(HUGEPAGES_DIR "/nr_hugepages");

	if (reserved < 0)
		return backend_fail(err, -ENODEV, "this kernel has no 2 MiB huge pages: %s: %s",
				    HUGEPAGES_DIR, strerror((int)-reserved));
	if (reserved == 0)
		return backend_fail(err, -ENODEV,
				    "no huge pages reserved: /proc/sys/vm/nr_hugepages is 0");
	return 0;
}

const struct backend_ops backend_hugetlb = {
	.name = "hugetlb",
	.description = "shared memory in 2 MiB huge pages (memfd, MFD_HUGETLB)",
	.memfd_flags = MFD_HUGETLB | MFD_HUGE_2MB,
	.layout_flags = SHM_LAYOUT_HUGE_PAGES,
	.probe = hugetlb_probe,
	.contiguity = BACKEND_CONTIGUITY_HUGE_PAGES,
};
