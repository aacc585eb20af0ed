/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tests/lib/harness.h"

#include <sys/mman.h>

#include "proto/wire.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_MS 30000

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

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -errno;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t size = 0;

	if (!f)
		return strdup("");
	{
		FILE *mem = open_memstream(&buf, &size);
		char chunk[4096];
		size_t n;

		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fwrite(chunk, 1, n, mem);
		fclose(mem);
	}
	fclose(f);
	return buf;
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[512];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* Folders of daemons still up, removed at exit even when a failed check exits early. */
static char live_dirs[8][64];

static void remove_live_dirs(void)
{
	for (size_t i = 0; i < sizeof(live_dirs) / sizeof(live_dirs[0]); i++)
		if (live_dirs[i][0])
			remove_dir(live_dirs[i]);
}

static void track_dir(const char *dir, bool live)
{
	static bool registered;

	if (!registered)
		registered = atexit(remove_live_dirs) == 0;
	for (size_t i = 0; i < sizeof(live_dirs) / sizeof(live_dirs[0]); i++) {
		if (live && !live_dirs[i][0]) {
			snprintf(live_dirs[i], sizeof(live_dirs[i]), "%s", dir);
			return;
		}
		if (!live && strcmp(live_dirs[i], dir) == 0) {
			live_dirs[i][0] = 0;
			return;
		}
	}
}

static void reap(struct test_daemon *d)
{
	int status;

	if (d->pid <= 0)
		return;
	if (waitpid(d->pid, &status, 0) == d->pid)
		d->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	d->pid = 0;
}

static void cleanup(struct test_daemon *d)
{
	if (d->pidfd >= 0)
		close(d->pidfd);
	if (d->notify_fd >= 0)
		close(d->notify_fd);
	d->pidfd = d->notify_fd = -1;
	remove_dir(d->dir);
	track_dir(d->dir, false);
}

/* A fresh folder (other users may pass through it), its config, and the notify socket. */
static int prepare(struct test_daemon *d, const char *config, char *notify_path, size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(d, 0, sizeof(*d));
	d->pidfd = d->notify_fd = -1;
	snprintf(d->dir, sizeof(d->dir), "/tmp/ksalloc-test-XXXXXX");
	if (!mkdtemp(d->dir))
		return -errno;
	track_dir(d->dir, true);
	/* Clients of other uids (the access tests) must reach the socket inside. */
	if (chmod(d->dir, 0711) < 0)
		return -errno;
	snprintf(d->socket_path, sizeof(d->socket_path), "%s/ksallocd.sock", d->dir);
	snprintf(d->config_path, sizeof(d->config_path), "%s/ksallocd.conf", d->dir);
	snprintf(d->log_path, sizeof(d->log_path), "%s/ksallocd.log", d->dir);
	snprintf(notify_path, size, "%s/notify", d->dir);
	if (write_file(d->config_path, config) < 0)
		return -EIO;
	d->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	strcpy(sa.sun_path, notify_path);
	if (d->notify_fd < 0 || bind(d->notify_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}

/* Forks @argv with stderr to the daemon's log and NOTIFY_SOCKET set; the child dies with us. */
static int spawn(struct test_daemon *d, const char *const *argv, const char *notify_path)
{
	d->pid = fork();
	if (d->pid < 0)
		return -errno;
	if (d->pid == 0) {
		int log = open(d->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		/* A test that fails exits at once: its daemon must not outlive it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (log < 0 || dup2(log, STDERR_FILENO) < 0)
			_exit(127);
		setenv("NOTIFY_SOCKET", notify_path, 1);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	d->pidfd = pidfd_open(d->pid, 0);
	if (d->pidfd < 0)
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

void test_daemon_rewrite_config(struct test_daemon *d, const char *config)
{
	ck_assert_int_eq(write_file(d->config_path, config), 0);
}

int test_daemon_start_activated(struct test_daemon *d, const char *config)
{
	char notify_path[128], line[256] = "";
	const char *argv[16];
	size_t n = 0;
	int r;

	if (access("/usr/bin/systemd-socket-activate", X_OK) < 0)
		return -ENOENT;
	r = prepare(d, config, notify_path, sizeof(notify_path));
	if (r < 0)
		goto fail;
	argv[n++] = "systemd-socket-activate";
	argv[n++] = "--seqpacket";
	argv[n++] = "--listen";
	argv[n++] = d->socket_path;
	argv[n++] = "--setenv=NOTIFY_SOCKET";
	argv[n++] = test_binary("ksallocd");
	argv[n++] = "--config";
	argv[n++] = d->config_path;
	argv[n] = NULL;
	r = spawn(d, argv, notify_path);
	if (r < 0)
		goto fail;
	/* systemd-socket-activate says "Listening on ..." once the socket is there. */
	for (int64_t deadline = now_ms() + DEADLINE_MS; !strstr(line, "Listening on");) {
		char *log;

		if (now_ms() > deadline) {
			r = -ETIMEDOUT;
			goto fail;
		}
		struct pollfd p = { .fd = d->pidfd, .events = POLLIN };

		if (poll(&p, 1, 10) > 0) {
			r = -ECHILD;
			goto fail;
		}
		log = read_file(d->log_path);
		snprintf(line, sizeof(line), "%s", log);
		free(log);
	}
	return 0;
fail:
	test_daemon_kill(d);
	return r;
}

/* Waits for READY=1, or the daemon's exit; kills it after DEADLINE_MS. */
static int wait_ready(struct test_daemon *d)
{
	int64_t deadline;

	deadline = now_ms() + DEADLINE_MS;
	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = d->notify_fd, .events = POLLIN },
			{ .fd = d->pidfd, .events = POLLIN },
		};
		int64_t left = deadline - now_ms();
		char msg[512];
		ssize_t len;

		if (left <= 0 || poll(fds, 2, (int)left) == 0) {
			test_daemon_kill(d);
			return -ETIMEDOUT;
		}
		if (fds[0].revents & POLLIN) {
			len = recv(d->notify_fd, msg, sizeof(msg) - 1, 0);
			if (len > 0) {
				msg[len] = 0;
				if (strstr(msg, "READY=1"))
					return 0;
			}
		} else if (fds[1].revents & POLLIN) {
			reap(d);
			return -ECHILD;
		}
	}
}

static int spawn_daemon(struct test_daemon *d, const char *const *args)
{
	char notify_path[128];
	const char *argv[32];
	size_t n = 0;

	snprintf(notify_path, sizeof(notify_path), "%s/notify", d->dir);
	/*
	 * KSALLOC_TEST_VALGRIND=1: the daemon runs under memcheck, which makes it
	 * exit with 99 on any error or leak; test_daemon_stop() then fails.
	 */
	if (getenv("KSALLOC_TEST_VALGRIND")) {
		argv[n++] = "valgrind";
		argv[n++] = "--quiet";
		argv[n++] = "--error-exitcode=99";
		argv[n++] = "--leak-check=full";
		argv[n++] = "--show-leak-kinds=definite,indirect";
		argv[n++] = "--errors-for-leak-kinds=definite,indirect";
	}
	argv[n++] = test_binary("ksallocd");
	argv[n++] = "--config";
	argv[n++] = d->config_path;
	argv[n++] = "--socket";
	argv[n++] = d->socket_path;
	for (; args && *args && n < 30; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	return spawn(d, argv, notify_path);
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

int test_daemon_start_args(struct test_daemon *d, const char *config, const char *const *args)
{
	char notify_path[128];
	int r;

	r = prepare(d, config, notify_path, sizeof(notify_path));
	if (r == 0)
		r = spawn_daemon(d, args);
	if (r < 0) {
		test_daemon_kill(d);
		return r;
	}
	return wait_ready(d);
}

int test_daemon_start(struct test_daemon *d, const char *config)
{
	return test_daemon_start_args(d, config, NULL);
}

void test_daemon_up(struct test_daemon *d, const char *config)
{
	int r = test_daemon_start(d, config);

	if (r < 0) {
		char *log = test_daemon_log(d);

		ck_abort_msg("ksallocd did not start (%s): %s", strerror(-r), log);
	}
}

void test_daemon_down(struct test_daemon *d)
{
	ck_assert_int_eq(test_daemon_stop(d), 0);
}

int test_daemon_wait_exit(struct test_daemon *d)
{
	struct pollfd p = { .fd = d->pidfd, .events = POLLIN };

	if (d->pid <= 0)
		return 0;
	if (poll(&p, 1, DEADLINE_MS) <= 0)
		return -ETIMEDOUT;
	reap(d);
	return 0;
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
	return read_file(d->log_path);
}

int test_run(char *const argv[], char **ret_out, char **ret_err)
{
	char out_path[] = "/tmp/ksalloc-run-out-XXXXXX";
	char err_path[] = "/tmp/ksalloc-run-err-XXXXXX";
	int out = mkostemp(out_path, O_CLOEXEC), err = mkostemp(err_path, O_CLOEXEC);
	int status = -1, pidfd;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		dup2(out, STDOUT_FILENO);
		dup2(err, STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	pidfd = pidfd_open(pid, 0);
	if (pidfd >= 0) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };

		if (poll(&p, 1, 60000) <= 0)
			kill(pid, SIGKILL);
		close(pidfd);
	}
	if (waitpid(pid, &status, 0) == pid)
		status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	close(out);
	close(err);
	if (ret_out)
		*ret_out = read_file(out_path);
	if (ret_err)
		*ret_err = read_file(err_path);
	unlink(out_path);
	unlink(err_path);
	return status;
}

/* Entries of the folder /proc/@pid/fd (@pid "self": this process's, its own fd among them). */
static int count_fds_of(const char *pid)
{
	struct dirent *e;
	char path[64];
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%s/fd", pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

int test_count_fds(void)
{
	int n = count_fds_of("self");

	return n < 0 ? n : n - 1; /* the directory's own fd */
}

int test_daemon_count_fds(const struct test_daemon *d)
{
	char pid[16];

	snprintf(pid, sizeof(pid), "%d", (int)d->pid);
	return count_fds_of(pid);
}

void test_daemon_wait_fds(const struct test_daemon *d, int n)
{
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (test_daemon_count_fds(d) != n) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ck_assert_msg(now.tv_sec - t0.tv_sec < 30, "ksallocd has %d fds open, not %d",
			      test_daemon_count_fds(d), n);
		sched_yield();
	}
}

/* One request, one reply, by hand; returns the reply (free with free_unpacked) or NULL. */
static Ksalloc__Reply *raw_call(int sock, Ksalloc__Request *req, int *ret_fd)
{
	static uint8_t buf[WIRE_DEFAULT_MAX_MESSAGE];
	size_t n_fds = 0;
	ssize_t n;

	n = wire_pack(&req->base, buf, sizeof(buf));
	if (n < 0 || wire_send(sock, buf, (size_t)n, NULL, 0) < 0)
		return NULL;
	n = wire_recv(sock, buf, sizeof(buf), ret_fd, ret_fd ? 1 : 0, &n_fds, NULL);
	if (n <= 0)
		return NULL;
	if (ret_fd && n_fds == 0)
		*ret_fd = -1;
	return ksalloc__reply__unpack(NULL, (size_t)n, buf);
}

int test_raw_open_pool(const char *socket_path, const char *name, int *ret_sock,
		       unsigned char **ret_map, size_t *ret_size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__HelloRequest hello = KSALLOC__HELLO_REQUEST__INIT;
	Ksalloc__OpenPoolRequest open_req = KSALLOC__OPEN_POOL_REQUEST__INIT;
	Ksalloc__Reply *reply;
	struct stat st;
	void *map;
	int sock, fd = -1;

	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", socket_path);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	hello.protocol_version = WIRE_PROTOCOL_VERSION;
	hello.client_name = "scribbler";
	req.id = 1;
	req.body_case = KSALLOC__REQUEST__BODY_HELLO;
	req.hello = &hello;
	reply = raw_call(sock, &req, NULL);
	if (!reply || reply->hresult < 0)
		goto fail;
	ksalloc__reply__free_unpacked(reply, NULL);

	open_req.name = (char *)name;
	req.id = 2;
	req.body_case = KSALLOC__REQUEST__BODY_OPEN_POOL;
	req.open_pool = &open_req;
	reply = raw_call(sock, &req, &fd);
	if (!reply || reply->hresult < 0 || fd < 0)
		goto fail;
	ksalloc__reply__free_unpacked(reply, NULL);
	if (fstat(fd, &st) < 0)
		goto fail;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		goto fail;
	close(fd);
	*ret_sock = sock;
	*ret_map = map;
	*ret_size = (size_t)st.st_size;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	if (sock >= 0)
		close(sock);
	return -EIO;
}
