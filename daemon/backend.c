/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "backend.h"

static const struct backend_ops *const backends[] = { &backend_memfd };

const struct backend_ops *backend_find(const char *name)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

const char *backend_names(void)
{
	return "memfd";
}
