/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A fake service manager: what systemd does for ksallocd.service with
 * ksallocd.socket and FileDescriptorStoreMax=, small enough to read in one
 * sitting, so that restarts with the file descriptor store can be tested
 * without systemd. Plain C without Check (the benchmarks use it too).
 *
 * It makes and listens on the daemon's socket itself, as ksallocd.socket
 * does, and keeps a notify socket that a thread of its own reads: READY=1,
 * STOPPING=1, FDSTORE=1 and FDSTOREREMOVE=1 with FDNAME=, and the fds sent
 * with SCM_RIGHTS. The store behaves as systemd 252's: entries by name, the
 * newest first; names need not be unique and removing a name closes every fd
 * of it; a stored socket whose peer hangs up is dropped by the manager; a
 * restart (after the daemon was killed by any signal) passes the listening
 * socket first ("ksallocd.socket") and then the store, newest first, with
 * LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID (the child's own pid, set after
 * fork); a stop closes the store.
 *
 * Functions return 0 or -errno. One manager per process at a time.
 */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define FAKE_MANAGER_STORE_MAX 4096
#define FAKE_MANAGER_LISTEN_NAME "ksallocd.socket"

struct fake_manager_entry {
	char name[256];
	int fd;
};

struct fake_manager {
	char dir[64];
	char socket_path[108];
	char config_path[128];
	char log_path[128];
	char notify_path[108];
	int listen_fd;
	int notify_fd;
	int wake_fd; /* an eventfd that stops the thread */
	pid_t pid;   /* the daemon, 0 when none runs */
	int pidfd;
	int exit_status; /* of the last daemon reaped */

	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	/* Under lock: the store, newest first, and what the daemon said. */
	struct fake_manager_entry *store;
	size_t n_store;
	unsigned ready;    /* READY=1 messages since the last start */
	unsigned stopping; /* STOPPING=1 messages */
	unsigned stores;   /* FDSTORE=1 messages */
	unsigned removes;  /* FDSTOREREMOVE=1 messages */
	unsigned hangups;  /* stored sockets dropped because their peer hung up */
	unsigned refused;  /* messages refused: over 4096 bytes, or a bad FDNAME */
};

/*
 * Writes @config to a fresh folder, listens on its socket, starts the thread
 * and starts ksallocd (test_binary("ksallocd")) with --config only: the
 * socket comes from the manager. Returns 0 once the daemon said READY=1.
 * Sets KSALLOC_SOCKET for this process.
 */
int fake_manager_start(struct fake_manager *m, const char *config);

/*
 * Sends @signum to the daemon and waits (30 s at most) for it to exit; the
 * store stays, as systemd keeps it across a restart job, a crash restart
 * (Restart=on-failure) and a watchdog restart. Returns 0 and sets
 * exit_status (128 + signal when killed by one).
 */
int fake_manager_kill(struct fake_manager *m, int signum);

/* Starts the daemon again with the store; returns 0 once it said READY=1. */
int fake_manager_restart(struct fake_manager *m);

/*
 * `systemctl stop`: SIGTERM, waits for the exit, then closes the store.
 * Returns the daemon's exit status (0 when it exited cleanly), or -errno.
 */
int fake_manager_stop(struct fake_manager *m);

/* Stops everything (SIGKILL if a daemon runs), closes every fd, removes the folder. */
void fake_manager_free(struct fake_manager *m);

/* Puts @fd (a dup of it; the caller keeps @fd) in the store as @name, as a forger would. */
int fake_manager_store_add(struct fake_manager *m, const char *name, int fd);

/* Entries whose name starts with @prefix ("" for all). */
size_t fake_manager_store_count(struct fake_manager *m, const char *prefix);

/* The name of the newest entry whose name starts with @prefix into @buf; -ENOENT if none. */
int fake_manager_store_find(struct fake_manager *m, const char *prefix, char *buf, size_t size);

/*
 * Waits up to @timeout_ms until fake_manager_store_count(@prefix) is @n.
 * Returns 0 or -ETIMEDOUT.
 */
int fake_manager_wait_store(struct fake_manager *m, const char *prefix, size_t n, int timeout_ms);

/*
 * Waits up to @timeout_ms until the stored fd named @name has data to read:
 * a client's request waiting in its connection while no daemon runs.
 * Returns 0, -ENOENT or -ETIMEDOUT.
 */
int fake_manager_wait_readable(struct fake_manager *m, const char *name, int timeout_ms);

/* The daemon's log so far (every run of it), malloc'ed. */
char *fake_manager_log(const struct fake_manager *m);
