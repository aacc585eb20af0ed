/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The real ksallocd for tests and benchmarks: runs it in a temporary folder
 * on its own socket, waits for it by events (READY=1 on a NOTIFY_SOCKET of
 * the caller's own, or its exit), and takes everything down again. Plain C
 * without Check, so that the benchmarks use the same code; tests/lib/harness.h
 * wraps it with Check's assertions. Functions return 0 or -errno.
 *
 * The daemon's stdout and stderr go to its log in its folder; it dies with
 * the process that started it (PR_SET_PDEATHSIG). Where pidfd_open() is
 * missing (a caller that itself runs under valgrind), its exit is looked for
 * with waitpid() between slices of 50 ms instead of on a pidfd.
 */

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct test_daemon_options {
	/* The ksallocd to run; NULL: test_binary("ksallocd"). Must outlive the daemon. */
	const char *program;
	/* Its folder is /tmp/<dir_prefix>-XXXXXX; NULL: "ksalloc-test". */
	const char *dir_prefix;
	/* More daemon arguments after --config and --socket, NULL-terminated; may be NULL. */
	const char *const *args;
	/*
	 * Runs it under valgrind's memcheck, which makes it exit with 99 on any
	 * error or leak: test_daemon_stop() then fails.
	 */
	bool valgrind;
	/* The CPUs it may run on; NULL: those of the caller. Must outlive the daemon. */
	const cpu_set_t *cpus;
};

struct test_daemon {
	pid_t pid;
	int pidfd; /* -1 where pidfd_open() is missing */
	int notify_fd;
	char dir[64];
	char socket_path[108]; /* sockets' paths fit in sockaddr_un */
	char config_path[128];
	char log_path[128];
	char notify_path[108];
	int exit_status; /* after test_daemon_stop() or test_daemon_wait_exit() */
	/* How it was started, for test_daemon_restart() (args left out). */
	struct test_daemon_options options;
};

/*
 * ksallocd, ksallocctl, ... as built next to the tests (set by CMake), or in
 * $KSALLOC_TEST_BIN_DIR.
 */
const char *test_binary(const char *name);

/* Every option at its default. */
void test_daemon_options_init(struct test_daemon_options *o);

/*
 * Writes @config to a fresh folder and starts ksallocd on it with --config
 * and --socket, as @o says. Returns 0 once the daemon said READY=1, -ECHILD
 * if it exited first (exit_status says how), -ETIMEDOUT after 30 s (it is
 * killed then). After either the folder stays, with the daemon's log, until
 * test_daemon_kill() (or the exit); after any other failure it is gone.
 * Sets KSALLOC_SOCKET for this process, so clients find it.
 */
int test_daemon_start_with(struct test_daemon *d, const char *config,
			   const struct test_daemon_options *o);

/*
 * test_daemon_start_with() as the tests want it: test_binary("ksallocd"), and
 * with KSALLOC_TEST_VALGRIND set in the environment, under valgrind's memcheck
 * (so every daemon a test starts this way runs under it when that is set).
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

/*
 * Closes the notify socket and removes it, for a caller that will not read it
 * again (the benchmarks). ksallocd sends STATUS= whenever its session count
 * changes, with a blocking send: a socket nobody reads would fill up
 * (net.unix.max_dgram_qlen) and stall the daemon (seen in unix_wait_for_peer).
 * Gone, it makes every later send fail at once. test_daemon_notified() and
 * test_daemon_restart() cannot be used afterwards.
 */
void test_daemon_close_notify(struct test_daemon *d);

/* Waits for the daemon to exit on its own; returns 0 or -ETIMEDOUT (30 s). */
int test_daemon_wait_exit(struct test_daemon *d);

/*
 * SIGTERMs the daemon and reaps it. Returns 0 when it exited with status 0
 * and removed its socket file; otherwise prints how it ended and its log on
 * stderr. The folder is removed in every case.
 */
int test_daemon_stop(struct test_daemon *d);

/* Kills (SIGKILL) and reaps the daemon, keeping its folder, config and socket path. */
void test_daemon_crash(struct test_daemon *d);

/*
 * Starts the daemon again after test_daemon_crash(), on the same config and
 * socket and as it was started, but without the extra arguments.
 */
int test_daemon_restart(struct test_daemon *d);

/* Kills (SIGKILL) and reaps the daemon without checking anything, then cleans up. */
void test_daemon_kill(struct test_daemon *d);

/* The daemon's log (its stdout and stderr) so far, malloc'ed. */
char *test_daemon_log(const struct test_daemon *d);

/* Number of open fds of the daemon, or -errno. */
int test_daemon_count_fds(const struct test_daemon *d);
