/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tests/lib/harness-client.h"

#include <check.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ksalloc/ksalloc.h>

static void hold(const char *name, const char *pool, uint32_t frames, int ready_fd)
{
	struct ksalloc_client_options o;
	struct ksalloc_client *c;
	struct ksalloc_pool *p;
	struct ksalloc_frame f;

	ksalloc_client_options_init(&o);
	o.client_name = name;
	if (ksalloc_client_open(&o, &c) < 0 || ksalloc_pool_open(c, pool, &p) < 0)
		_exit(10);
	for (uint32_t i = 0; i < frames; i++)
		if (ksalloc_pool_acquire(p, 0, &f) < 0)
			_exit(11);
	if (write(ready_fd, "r", 1) != 1)
		_exit(12);
	for (;;)
		pause();
}

pid_t test_spawn_holder(const char *name, const char *pool, uint32_t frames)
{
	int ready[2], status;
	char byte;
	pid_t child;

	ck_assert_int_eq(pipe(ready), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		/* A test that fails before it kills the holder leaves no holder behind. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() == 1)
			_exit(13);
		close(ready[0]);
		hold(name, pool, frames, ready[1]);
	}
	close(ready[1]);
	/* The pipe closes without a byte if the holder gave up. */
	if (read(ready[0], &byte, 1) != 1) {
		waitpid(child, &status, 0);
		ck_abort_msg("holder of %u frames of %s gave up: exit status %d", frames, pool,
			     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	close(ready[0]);
	return child;
}
