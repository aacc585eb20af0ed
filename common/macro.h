/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Small helpers every layer shares (libc only), after systemd's macro.h and
 * fd-util.h: array sizes, the container of an embedded member, and scope-bound
 * cleanup. A variable declared _cleanup_(fn) has fn(&var) run when it goes
 * out of scope; TAKE_PTR()/TAKE_FD() hand its value on and leave nothing to
 * clean up, for the path that succeeds.
 *
 *	_cleanup_free_ char *s = strdup(x);
 *	_cleanup_close_ int fd = open(...);
 *	...
 *	*ret_fd = TAKE_FD(fd);
 */

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* The struct of type @type whose member @member is at @ptr. */
#define container_of(ptr, type, member) ((type *)(((char *)(ptr)) - offsetof(type, member)))

#define _cleanup_(fn) __attribute__((cleanup(fn)))

/* Returns *@pp and leaves NULL behind. */
#define TAKE_PTR(p)                         \
	({                                  \
		__typeof__(p) _taken = (p); \
		(p) = NULL;                 \
		_taken;                     \
	})

/* Returns @fd and leaves -1 behind. */
#define TAKE_FD(fd)                \
	({                         \
		int _taken = (fd); \
		(fd) = -1;         \
		_taken;            \
	})

static inline void freep(void *p)
{
	free(*(void **)p);
}

/* Closes *@fd if it is one, keeping errno: cleanup runs on error paths that return it. */
static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		close(*fd);
		errno = saved;
	}
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
