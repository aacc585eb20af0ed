/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tests/lib/daemon.h"

#include "tests/lib/files.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_MS 30000
/* Without a pidfd, how often an exit is looked for. */
#define EXIT_SLICE_MS 50

const char *test_binary(const char *name)
{
	/* One slot per program, so paths stay valid side by side in an argv. */
	static char paths[8][512];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		const char *base = strrchr(paths[i], '/');

		if (paths[i][0] && strcmp(base + 1, name) == 0)
			return paths[i];
		if (!paths[i][0]) {
			/* Elsewhere than the build tree (scripts/test-hw's VM): where they were put. */
			const char *dir = getenv("KSALLOC_TEST_BIN_DIR");

			snprintf(paths[i], sizeof(paths[i]), "%s/%s",
				 dir && dir[0] ? dir : KSALLOC_BUILD_BIN_DIR, name);
			return paths[i];
		}
	}
	abort();
}

void test_daemon_options_init(struct test_daemon_options *o)
{
	*o = (struct test_daemon_options){ 0 };
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Reaps the daemon, blocking with @flags 0 (it is gone or killed already), and
 * notes how it ended. Returns whether it was reaped (always, without WNOHANG).
 */
static bool reap_flags(struct test_daemon *d, int flags)
{
	pid_t r;
	int status;

	if (d->pid <= 0)
		return true;
	r = waitpid(d->pid, &status, flags);
	if (r == 0 && (flags & WNOHANG))
		return false;
	if (r == d->pid)
		d->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	d->pid = 0;
	return true;
}

static void reap(struct test_daemon *d)
{
	reap_flags(d, 0);
}

/*
 * Whether the daemon has exited (and is reaped now), waiting up to
 * @timeout_ms for it: on its pidfd, or without one by waitpid() after each
 * slice of EXIT_SLICE_MS.
 */
static bool exited_within(struct test_daemon *d, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	if (d->pid <= 0)
		return true;
	if (d->pidfd >= 0) {
		struct pollfd p = { .fd = d->pidfd, .events = POLLIN };

		if (poll(&p, 1, timeout_ms) <= 0)
			return false;
		reap(d);
		return true;
	}
	for (;;) {
		int64_t left;

		if (reap_flags(d, WNOHANG))
			return true;
		left = deadline - now_ms();
		if (left <= 0)
			return false;
		poll(NULL, 0, (int)(left < EXIT_SLICE_MS ? left : EXIT_SLICE_MS));
	}
}

static void cleanup(struct test_daemon *d)
{
	if (d->pidfd >= 0)
		close(d->pidfd);
	if (d->notify_fd >= 0)
		close(d->notify_fd);
	d->pidfd = d->notify_fd = -1;
	test_dir_remove(d->dir);
}

/* A fresh folder (other users may pass through it), its config, and the notify socket. */
static int prepare(struct test_daemon *d, const char *config, const struct test_daemon_options *o)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int r;

	memset(d, 0, sizeof(*d));
	d->pidfd = d->notify_fd = -1;
	d->options = *o;
	d->options.args = NULL;
	if (!d->options.program)
		d->options.program = test_binary("ksallocd");
	r = test_dir_new(o->dir_prefix ? o->dir_prefix : "ksalloc-test", d->dir, sizeof(d->dir));
	if (r < 0)
		return r;
	/* Clients of other uids (the access tests) must reach the socket inside. */
	if (chmod(d->dir, 0711) < 0)
		return -errno;
	snprintf(d->socket_path, sizeof(d->socket_path), "%s/ksallocd.sock", d->dir);
	snprintf(d->config_path, sizeof(d->config_path), "%s/ksallocd.conf", d->dir);
	snprintf(d->log_path, sizeof(d->log_path), "%s/ksallocd.log", d->dir);
	snprintf(d->notify_path, sizeof(d->notify_path), "%s/notify", d->dir);
	if (test_file_write(d->config_path, config) < 0)
		return -EIO;
	d->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->notify_path);
	if (d->notify_fd < 0 || bind(d->notify_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}

/*
 * Forks @argv with stdout and stderr to the daemon's log and NOTIFY_SOCKET
 * set; the child dies with us.
 */
static int spawn(struct test_daemon *d, const char *const *argv)
{
	d->pid = fork();
	if (d->pid < 0)
		return -errno;
	if (d->pid == 0) {
		int log = open(d->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		/* A test or benchmark that fails exits at once: its daemon must not outlive it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (d->options.cpus)
			sched_setaffinity(0, sizeof(*d->options.cpus), d->options.cpus);
		if (log < 0 || dup2(log, STDOUT_FILENO) < 0 || dup2(log, STDERR_FILENO) < 0)
			_exit(127);
		setenv("NOTIFY_SOCKET", d->notify_path, 1);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	/* valgrind has no pidfd_open(): exits are then looked for with waitpid(). */
	d->pidfd = pidfd_open(d->pid, 0);
	if (d->pidfd < 0 && errno != ENOSYS)
		return -errno;
	setenv("KSALLOC_SOCKET", d->socket_path, 1);
	return 0;
}

int test_daemon_notified(struct test_daemon *d, const char *needle, int timeout_ms, char *buf,
			 size_t size)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		struct pollfd p = { .fd = d->notify_fd, .events = POLLIN };
		int64_t left = deadline - now_ms();
		ssize_t len;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -ETIMEDOUT;
		len = recv(d->notify_fd, buf, size - 1, 0);
		if (len <= 0)
			continue;
		buf[len] = 0;
		if (strstr(buf, needle))
			return 0;
	}
}

void test_daemon_close_notify(struct test_daemon *d)
{
	if (d->notify_fd >= 0)
		close(d->notify_fd);
	d->notify_fd = -1;
	unlink(d->notify_path);
}

int test_daemon_start_activated(struct test_daemon *d, const char *config)
{
	struct test_daemon_options o;
	char line[256] = "";
	const char *argv[16];
	size_t n = 0;
	int r;

	if (access("/usr/bin/systemd-socket-activate", X_OK) < 0)
		return -ENOENT;
	test_daemon_options_init(&o);
	r = prepare(d, config, &o);
	if (r < 0)
		goto fail;
	argv[n++] = "systemd-socket-activate";
	argv[n++] = "--seqpacket";
	argv[n++] = "--listen";
	argv[n++] = d->socket_path;
	argv[n++] = "--setenv=NOTIFY_SOCKET";
	argv[n++] = d->options.program;
	argv[n++] = "--config";
	argv[n++] = d->config_path;
	argv[n] = NULL;
	r = spawn(d, argv);
	if (r < 0)
		goto fail;
	/* systemd-socket-activate says "Listening on ..." once the socket is there. */
	for (int64_t deadline = now_ms() + DEADLINE_MS; !strstr(line, "Listening on");) {
		char *log;

		if (now_ms() > deadline) {
			r = -ETIMEDOUT;
			goto fail;
		}
		if (exited_within(d, 10)) {
			r = -ECHILD;
			goto fail;
		}
		log = test_daemon_log(d);
		snprintf(line, sizeof(line), "%s", log);
		free(log);
	}
	return 0;
fail:
	test_daemon_kill(d);
	return r;
}

/*
 * Waits for READY=1, or the daemon's exit. After DEADLINE_MS it kills the
 * daemon, keeping its folder (and log) for the caller to look at.
 */
static int wait_ready(struct test_daemon *d)
{
	int64_t deadline;

	deadline = now_ms() + DEADLINE_MS;
	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = d->notify_fd, .events = POLLIN },
			/* Without a pidfd (-1), poll() skips it. */
			{ .fd = d->pidfd, .events = POLLIN },
		};
		int64_t left = deadline - now_ms();
		char msg[512];
		ssize_t len;

		if (d->pidfd < 0 && left > EXIT_SLICE_MS)
			left = EXIT_SLICE_MS;
		if (left <= 0 || (poll(fds, 2, (int)left) == 0 && d->pidfd >= 0)) {
			kill(d->pid, SIGKILL);
			reap(d);
			return -ETIMEDOUT;
		}
		if (fds[0].revents & POLLIN) {
			len = recv(d->notify_fd, msg, sizeof(msg) - 1, 0);
			if (len > 0) {
				msg[len] = 0;
				if (strstr(msg, "READY=1"))
					return 0;
			}
		} else if (d->pidfd >= 0 ? (fds[1].revents & POLLIN) != 0 : exited_within(d, 0)) {
			reap(d);
			return -ECHILD;
		}
	}
}

/* Starts the daemon in its prepared folder, under valgrind if it is to be. */
static int spawn_daemon(struct test_daemon *d, const char *const *args)
{
	const char *argv[32];
	size_t n = 0;

	if (d->options.valgrind) {
		argv[n++] = "valgrind";
		argv[n++] = "--quiet";
		argv[n++] = "--error-exitcode=99";
		argv[n++] = "--leak-check=full";
		argv[n++] = "--show-leak-kinds=definite,indirect";
		argv[n++] = "--errors-for-leak-kinds=definite,indirect";
	}
	argv[n++] = d->options.program;
	argv[n++] = "--config";
	argv[n++] = d->config_path;
	argv[n++] = "--socket";
	argv[n++] = d->socket_path;
	for (; args && *args && n < 30; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	return spawn(d, argv);
}

void test_daemon_crash(struct test_daemon *d)
{
	if (d->pid > 0)
		kill(d->pid, SIGKILL);
	reap(d);
	if (d->pidfd >= 0)
		close(d->pidfd);
	d->pidfd = -1;
}

int test_daemon_restart(struct test_daemon *d)
{
	int r = spawn_daemon(d, NULL);

	return r < 0 ? r : wait_ready(d);
}

int test_daemon_start_with(struct test_daemon *d, const char *config,
			   const struct test_daemon_options *o)
{
	int r;

	r = prepare(d, config, o);
	if (r == 0)
		r = spawn_daemon(d, o->args);
	if (r < 0) {
		test_daemon_kill(d);
		return r;
	}
	return wait_ready(d);
}

int test_daemon_start_args(struct test_daemon *d, const char *config, const char *const *args)
{
	struct test_daemon_options o;

	test_daemon_options_init(&o);
	o.args = args;
	/* scripts/test runs the integration tests again with it set. */
	o.valgrind = getenv("KSALLOC_TEST_VALGRIND") != NULL;
	return test_daemon_start_with(d, config, &o);
}

int test_daemon_start(struct test_daemon *d, const char *config)
{
	return test_daemon_start_args(d, config, NULL);
}

int test_daemon_wait_exit(struct test_daemon *d)
{
	return exited_within(d, DEADLINE_MS) ? 0 : -ETIMEDOUT;
}

int test_daemon_stop(struct test_daemon *d)
{
	bool socket_left;
	int r;

	if (d->pid > 0)
		kill(d->pid, SIGTERM);
	r = test_daemon_wait_exit(d);
	if (r < 0) {
		test_daemon_kill(d);
		return r;
	}
	socket_left = access(d->socket_path, F_OK) == 0;
	if (d->exit_status != 0 || socket_left) {
		char *log = test_daemon_log(d);

		fprintf(stderr, "ksallocd exit status %d, socket %s; its log:\n%s\n",
			d->exit_status, socket_left ? "left behind" : "removed", log);
		free(log);
		r = -EIO;
	}
	cleanup(d);
	return r;
}

void test_daemon_kill(struct test_daemon *d)
{
	if (d->pid > 0)
		kill(d->pid, SIGKILL);
	reap(d);
	cleanup(d);
}

char *test_daemon_log(const struct test_daemon *d)
{
	return test_file_read(d->log_path);
}

int test_daemon_count_fds(const struct test_daemon *d)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)d->pid);
	return test_dir_count(path);
}
