/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tests/lib/harness.h"

#include <sys/mman.h>

#include "proto/wire.h"
#include "tests/lib/files.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void test_daemon_rewrite_config(struct test_daemon *d, const char *config)
{
	ck_assert_int_eq(test_file_write(d->config_path, config), 0);
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
		*ret_out = test_file_read(out_path);
	if (ret_err)
		*ret_err = test_file_read(err_path);
	unlink(out_path);
	unlink(err_path);
	return status;
}

struct test_child test_spawn(char *const argv[])
{
	struct test_child c;
	int fds[2];

	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	c.pid = fork();
	ck_assert_int_ge(c.pid, 0);
	if (c.pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	c.out = fdopen(fds[0], "r");
	ck_assert_ptr_nonnull(c.out);
	return c;
}

char *test_child_line(struct test_child *c)
{
	char *line = NULL;
	size_t size = 0;
	ssize_t n = getline(&line, &size, c->out);

	if (n <= 0) {
		free(line);
		return NULL;
	}
	if (line[n - 1] == '\n')
		line[n - 1] = '\0';
	return line;
}

int test_child_finish(struct test_child *c)
{
	int status;

	fclose(c->out);
	ck_assert_int_eq(waitpid(c->pid, &status, 0), c->pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int test_count_fds(void)
{
	int n = test_dir_count("/proc/self/fd");

	return n < 0 ? n : n - 1; /* the directory's own fd */
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

char *test_ctl_run(int want, char **ret_err, const char *const *args)
{
	const char *argv[16] = { test_binary("ksallocctl") };
	char *out = NULL, *err = NULL;
	size_t n = 1;
	int r;

	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	r = test_run((char *const *)argv, &out, &err);
	ck_assert_msg(r == want, "ksallocctl %s: exit status %d, not %d: %s", argv[1], r, want,
		      err);
	if (ret_err)
		*ret_err = err;
	else
		free(err);
	return out;
}

char *test_ctl_ok(const char *const *args)
{
	char *err, *out = test_ctl_run(0, &err, args);

	ck_assert_msg(err[0] == '\0', "ksallocctl %s wrote to stderr: %s", args[0], err);
	free(err);
	return out;
}
