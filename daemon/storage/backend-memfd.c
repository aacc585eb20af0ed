/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/storage/backend.h"

/* Plain shared memory: every machine with memfd_create() (Linux 3.17) has it. */
const struct backend_ops backend_memfd = {
	.name = "memfd",
	.description = "shared memory (sealed memfd)",
	.contiguity = BACKEND_CONTIGUITY_PAGES,
};
