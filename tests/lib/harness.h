/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Integration test harness: runs the real ksallocd in a temporary folder on
 * its own socket, waits for it by events (READY=1 on a NOTIFY_SOCKET of the
 * test's own, or its exit), and takes everything down again.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct test_daemon {
	pid_t pid;
	int pidfd;
	int notify_fd;
	char dir[64];
	char socket_path[128];
	char config_path[128];
	char log_path[128];
	int exit_status; /* after test_daemon_stop() or test_daemon_wait_exit() */
};

/* ksallocd, ksallocctl, ... as built next to the tests (set by CMake), or in $KSALLOC_TEST_BIN_DIR. */
const char *test_binary(const char *name);

/*
 * With KSALLOC_TEST_VALGRIND set in the environment, every daemon started
 * here runs under valgrind's memcheck, and test_daemon_stop() fails unless
 * memcheck found nothing (no error, no leak).
 *
 * Writes @config to a fresh folder and starts ksallocd on it with
 * --config and --socket. Returns 0 once the daemon said READY=1, -ECHILD
 * if it exited first (exit_status says how), -ETIMEDOUT after 30 s.
 * Sets KSALLOC_SOCKET for this process, so clients find it.
 */
int test_daemon_start(struct test_daemon *d, const char *config);

/* Same, with extra daemon arguments (NULL-terminated) after the defaults. */
int test_daemon_start_args(struct test_daemon *d, const char *config, const char *const *args);

/*
 * Starts the daemon the way systemd's socket activation does, through
 * systemd-socket-activate: the socket is made and listened on first, the
 * daemon is started by the first connection and gets the socket from
 * sd_listen_fds(). Returns 0 once the socket listens (the daemon is not
 * running yet), -ENOENT without systemd-socket-activate, or -errno.
 */
int test_daemon_start_activated(struct test_daemon *d, const char *config);

/*
 * Waits up to @timeout_ms for a notification from the daemon (sd_notify) that
 * contains @needle, skipping others. Returns 0 with the whole message in @buf,
 * or -ETIMEDOUT.
 */
int test_daemon_notified(struct test_daemon *d, const char *needle, int timeout_ms, char *buf,
			 size_t size);

/* Replaces the daemon's config file with @config (for a reload). */
void test_daemon_rewrite_config(struct test_daemon *d, const char *config);

/* test_daemon_start(), failing the running Check test, with the daemon's log, if it does not. */
void test_daemon_up(struct test_daemon *d, const char *config);

/* test_daemon_stop(), failing the running Check test unless the daemon stopped cleanly. */
void test_daemon_down(struct test_daemon *d);

/* Waits for the daemon to exit on its own; returns 0 or -ETIMEDOUT (30 s). */
int test_daemon_wait_exit(struct test_daemon *d);

/*
 * SIGTERMs the daemon and reaps it. Returns 0 when it exited with status 0
 * and removed its socket file; the folder is removed in every case.
 */
int test_daemon_stop(struct test_daemon *d);

/* Kills (SIGKILL) and reaps the daemon, keeping its folder, config and socket path. */
void test_daemon_crash(struct test_daemon *d);

/* Starts the daemon again after test_daemon_crash(), on the same config and socket. */
int test_daemon_restart(struct test_daemon *d);

/* Kills (SIGKILL) and reaps the daemon without checking anything, then cleans up. */
void test_daemon_kill(struct test_daemon *d);

/* The daemon's stderr so far, malloc'ed. */
char *test_daemon_log(const struct test_daemon *d);

/*
 * Runs @argv (argv[0] a path) with stdout and stderr captured, waits for it
 * (60 s at most) and returns its exit status (-1 if killed by a signal).
 * *ret_out and *ret_err (may be NULL) receive malloc'ed output.
 */
int test_run(char *const argv[], char **ret_out, char **ret_err);

/*
 * A client that does not use the library: connects to @socket_path, says
 * hello, opens pool @name and maps the memfd it gets, read-write. Returns 0
 * with the connected socket, the mapping and its size, or -errno.
 */
int test_raw_open_pool(const char *socket_path, const char *name, int *ret_sock,
		       unsigned char **ret_map, size_t *ret_size);

/* Number of open fds of this process: for leak checks around a test. */
int test_count_fds(void);

/* Number of open fds of the daemon. */
int test_daemon_count_fds(const struct test_daemon *d);

/*
 * Waits (30 s at most) for the daemon to have @n fds open: it closes what a
 * client leaves behind as it notices the client gone. Fails the running
 * Check test, saying how many it has, if it does not get there.
 */
void test_daemon_wait_fds(const struct test_daemon *d, int n);
