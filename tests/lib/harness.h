/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Integration test harness: the daemon of tests/lib/daemon.h (the real
 * ksallocd in a temporary folder on its own socket, waited for by events)
 * with Check's assertions around it, programs run to their end, a client
 * that does without the library, and fd counts for leak checks.
 */

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "tests/lib/daemon.h"

/* Replaces the daemon's config file with @config (for a reload), as a Check assertion. */
void test_daemon_rewrite_config(struct test_daemon *d, const char *config);

/* test_daemon_start(), failing the running Check test, with the daemon's log, if it does not. */
void test_daemon_up(struct test_daemon *d, const char *config);

/* test_daemon_stop(), failing the running Check test unless the daemon stopped cleanly. */
void test_daemon_down(struct test_daemon *d);

/*
 * Runs @argv (argv[0] a path) with stdout and stderr captured, waits for it
 * (60 s at most) and returns its exit status (-1 if killed by a signal).
 * *ret_out and *ret_err (may be NULL) receive malloc'ed output.
 */
int test_run(char *const argv[], char **ret_out, char **ret_err);

/* A program running beside the test: its stdout on a pipe, read line by line. */
struct test_child {
	pid_t pid;
	FILE *out;
};

/* Starts @argv (argv[0] a path, or a command on $PATH), its stdout on a pipe, stderr ours. */
struct test_child test_spawn(char *const argv[]);

/* The child's next line, without its newline (malloc'ed); NULL at its end. */
char *test_child_line(struct test_child *c);

/* Waits for the child's end: its exit status (128 + the signal when killed). */
int test_child_finish(struct test_child *c);

/*
 * Runs `ksallocctl ARGS...` (@args NULL-terminated, at most 14), failing the
 * running Check test unless it exits with @want. Returns its stdout
 * (malloc'ed); its stderr in *ret_err, or freed when @ret_err is NULL.
 */
char *test_ctl_run(int want, char **ret_err, const char *const *args);

/* stdout of a `ksallocctl ARGS...` that succeeds, saying nothing on stderr. */
char *test_ctl_ok(const char *const *args);
#define CTL(...) test_ctl_ok((const char *const[]){ __VA_ARGS__, NULL })

/*
 * A client that does not use the library: connects to @socket_path, says
 * hello, opens pool @name and maps the memfd it gets, read-write. Returns 0
 * with the connected socket, the mapping and its size, or -errno.
 */
int test_raw_open_pool(const char *socket_path, const char *name, int *ret_sock,
		       unsigned char **ret_map, size_t *ret_size);

/* Number of open fds of this process: for leak checks around a test. */
int test_count_fds(void);

/*
 * Waits (30 s at most) for the daemon to have @n fds open: it closes what a
 * client leaves behind as it notices the client gone. Fails the running
 * Check test, saying how many it has, if it does not get there.
 */
void test_daemon_wait_fds(const struct test_daemon *d, int n);
