/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Client processes for integration tests, through libksalloc: apart from
 * harness.h, which knows no library, so that the install test can do without.
 */

#include <stdint.h>
#include <sys/types.h>

/*
 * Forks a client named @name that opens pool @pool, acquires @frames frames
 * and then waits to be killed. Returns its pid once it holds them; fails the
 * running Check test if it could not (its exit status says at which step).
 */
pid_t test_spawn_holder(const char *name, const char *pool, uint32_t frames);
